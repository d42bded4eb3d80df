"""plugin.yaml and scripts/krew-manifest: the committed manifest and a freshly rendered one pass
every krew rule; each kind of broken manifest is refused naming the rule it breaks."""

from __future__ import annotations

import copy
import hashlib
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_eckrc import __version__

ROOT = Path(__file__).resolve().parents[2]
KREW_MANIFEST = ROOT / "scripts" / "krew-manifest"
BASE_URL = "https://github.com/kubectl-eckrc/kubectl-eckrc/releases/download"
PLATFORMS = ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(KREW_MANIFEST), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def release(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "release.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dist/ as scripts/build-binary leaves it on the five release runners, with a small
    stand-in binary per platform (the archive code is the real one)."""
    out = tmp_path_factory.mktemp("dist")
    for platform in PLATFORMS:
        binary = out / "kubectl-eckrc"
        binary.write_bytes(b"#!/bin/sh\necho " + platform.encode() + b"\n")
        release("archive", "--binary", binary, "--license", ROOT / "LICENSE", "--out-dir", out,
                "--mtime", "1700000000", "--platform", platform)
        binary.unlink()
    return out


@pytest.fixture(scope="module")
def rendered(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = run("--render", "--version", f"v{__version__}", "--dist", dist, "--base-url", BASE_URL)
    assert result.returncode == 0, result.stderr
    path = tmp_path_factory.mktemp("manifest") / "plugin.yaml"
    path.write_text(result.stdout)
    return path


def write_variant(tmp_path: Path, source: Path, change: Any) -> Path:
    doc = copy.deepcopy(yaml.safe_load(source.read_text()))
    change(doc)
    path = tmp_path / "plugin.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_committed_plugin_yaml_passes_every_rule() -> None:
    result = run("--check", ROOT / "plugin.yaml")
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stdout


def test_committed_plugin_yaml_is_this_version_of_eckrc() -> None:
    doc = yaml.safe_load((ROOT / "plugin.yaml").read_text())
    assert doc["metadata"]["name"] == "eckrc"
    assert doc["spec"]["version"] == f"v{__version__}"
    assert "docs/rbac.yaml" in doc["spec"]["caveats"]
    for platform in doc["spec"]["platforms"]:
        assert f"/releases/download/v{__version__}/kubectl-eckrc_" in platform["uri"]
        assert platform["bin"] == "kubectl-eckrc"


FIVE_PLATFORMS = "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64"


def test_five_platform_release_manifest_from_the_release_command_passes_every_rule(
    dist: Path, tmp_path: Path
) -> None:
    """What .github/workflows/release.yml runs once the five archives are gathered."""
    result = run("--render", "--version", f"v{__version__}", "--dist", dist, "--base-url", BASE_URL,
                 "--platforms", FIVE_PLATFORMS)
    assert result.returncode == 0, result.stderr
    manifest = tmp_path / "plugin.yaml"
    manifest.write_text(result.stdout)
    archives = sorted([*dist.glob("*.tar.gz"), *dist.glob("*.zip")])
    assert len(archives) == 5
    check_args = [a for archive in archives for a in ("--check-archive", archive)]
    checked = run("--check", manifest, *check_args)
    assert (checked.returncode, checked.stdout.strip()) == (0, "ok"), checked.stdout
    doc = yaml.safe_load(manifest.read_text())
    selected = [f"{p['selector']['matchLabels']['os']}/{p['selector']['matchLabels']['arch']}"
                for p in doc["spec"]["platforms"]]
    assert selected == FIVE_PLATFORMS.split(",")
    for platform in doc["spec"]["platforms"]:
        archive = dist / platform["uri"].rsplit("/", 1)[1]
        assert platform["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()


def test_windows_gets_a_zip_with_the_exe_that_kubectl_finds(rendered: Path, dist: Path) -> None:
    doc = yaml.safe_load(rendered.read_text())
    windows = next(p for p in doc["spec"]["platforms"] if p["selector"]["matchLabels"]["os"] == "windows")
    assert windows["uri"].endswith("/kubectl-eckrc_windows_amd64.zip")
    assert windows["bin"] == "kubectl-eckrc.exe"
    assert windows["files"] == [{"from": "kubectl-eckrc.exe", "to": "."}, {"from": "LICENSE", "to": "."}]
    with zipfile.ZipFile(dist / "kubectl-eckrc_windows_amd64.zip") as archive:
        assert archive.namelist() == ["LICENSE", "kubectl-eckrc.exe"]
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert (dist / "kubectl-eckrc_windows_amd64.zip.sha256").read_text().endswith(
        "  kubectl-eckrc_windows_amd64.zip\n")


def test_unix_platforms_keep_the_tar_gz_and_the_bare_binary_name(rendered: Path) -> None:
    doc = yaml.safe_load(rendered.read_text())
    for platform in doc["spec"]["platforms"]:
        if platform["selector"]["matchLabels"]["os"] != "windows":
            assert platform["uri"].endswith(".tar.gz") and platform["bin"] == "kubectl-eckrc"


def test_render_refuses_a_platform_whose_archive_was_not_built(dist: Path) -> None:
    result = run("--render", "--version", "v0.1.0", "--dist", dist, "--base-url", BASE_URL,
                 "--platforms", "linux/amd64,linux/ppc64le")
    assert result.returncode != 0
    assert "kubectl-eckrc_linux_ppc64le.tar.gz is missing" in result.stderr


def _break_sha(doc: dict[str, Any]) -> None:
    doc["spec"]["platforms"][0]["sha256"] = doc["spec"]["platforms"][0]["sha256"].upper()


def _overlap(doc: dict[str, Any]) -> None:
    doc["spec"]["platforms"][1]["selector"] = {"matchExpressions": [
        {"key": "os", "operator": "In", "values": ["linux"]}]}


BROKEN = {
    "bad sha256": (_break_sha, "rule 8b (sha256)"),
    "wrong name": (lambda d: d["metadata"].update(name="eck-rc"), "rule 4 (metadata.name)"),
    "unsafe name": (lambda d: d["metadata"].update(name="eck rc"), "rule 3 (name)"),
    "overlapping selectors": (_overlap, "rule 11 (overlapping selectors)"),
    "version without v": (lambda d: d["spec"].update(version="0.1.0"), "rule 7 (version)"),
    "version not semver": (lambda d: d["spec"].update(version="v0.1"), "rule 7 (version)"),
    "multi-line shortDescription": (lambda d: d["spec"].update(shortDescription="one\ntwo"),
                                    "rule 5 (shortDescription)"),
    "no platforms": (lambda d: d["spec"].update(platforms=[]), "rule 6 (platforms)"),
    "wrong apiVersion": (lambda d: d.update(apiVersion="krew.googlecontainertools.github.com/v1alpha1"),
                         "rule 1 (apiVersion)"),
    "wrong kind": (lambda d: d.update(kind="Plug"), "rule 2 (kind)"),
    "no bin": (lambda d: d["spec"]["platforms"][0].pop("bin"), "rule 8c (bin)"),
    "no uri": (lambda d: d["spec"]["platforms"][0].update(uri=""), "rule 8a (uri)"),
    "plain http uri": (lambda d: d["spec"]["platforms"][0].update(uri="http://example.invalid/a.tar.gz"),
                       "rule P1 (uri https)"),
    "empty files": (lambda d: d["spec"]["platforms"][0].update(files=[]), "rule 8d (files)"),
    "unclean files target": (
        lambda d: d["spec"]["platforms"][0].update(files=[{"from": "*", "to": "a/../b"}]), "rule 17 (files)"
    ),
    "no selector": (lambda d: d["spec"]["platforms"][0].pop("selector"), "rule 8e (selector)"),
    "selector key not os/arch": (lambda d: d["spec"]["platforms"][0]["selector"]["matchLabels"].update(
        distro="debian"), "rule 8e (selector)"),
    "shortDescription over 50 characters": (lambda d: d["spec"].update(shortDescription="x" * 51),
                                            "rule R1 (shortDescription length)"),
    "description not wrapped at 80": (lambda d: d["spec"].update(description="word " * 20 + "\n"),
                                      "rule R2 (wrapped at 80)"),
    "unsupported platform": (lambda d: d["spec"]["platforms"][0]["selector"]["matchLabels"].update(
        os="plan9"), "rule 10 (selector)"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_manifest_is_refused_naming_the_rule(case: str, rendered: Path, tmp_path: Path) -> None:
    change, rule = BROKEN[case]
    result = run("--check", write_variant(tmp_path, rendered, change))
    assert result.returncode == 1
    assert rule in result.stdout, result.stdout
    assert "ok" not in result.stdout.splitlines()


def test_manifest_file_must_end_in_yaml(rendered: Path, tmp_path: Path) -> None:
    path = tmp_path / "plugin.yml"
    path.write_text(rendered.read_text())
    result = run("--check", path)
    assert result.returncode == 1 and "rule 9 (extension)" in result.stdout


def test_archive_whose_checksum_differs_from_the_manifest_is_refused(rendered: Path, dist: Path,
                                                                      tmp_path: Path) -> None:
    other = tmp_path / "kubectl-eckrc_linux_amd64.tar.gz"
    other.write_bytes((dist / "kubectl-eckrc_linux_arm64.tar.gz").read_bytes())
    result = run("--check", rendered, "--check-archive", other)
    assert result.returncode == 1 and "rule 14 (checksum)" in result.stdout


def test_archive_without_license_is_refused(rendered: Path, tmp_path: Path) -> None:
    archive = tmp_path / "kubectl-eckrc_linux_amd64.tar.gz"
    binary = tmp_path / "kubectl-eckrc"
    binary.write_bytes(b"#!/bin/sh\n")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(binary, arcname="kubectl-eckrc")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()

    def point_at_archive(doc: dict[str, Any]) -> None:
        doc["spec"]["platforms"][0]["sha256"] = digest
        doc["spec"]["platforms"][0].pop("files")

    manifest = write_variant(tmp_path, rendered, point_at_archive)
    result = run("--check", manifest, "--check-archive", archive)
    assert result.returncode == 1 and "rule 13 (license)" in result.stdout


@pytest.mark.parametrize("platform, archive", [("linux_amd64", "kubectl-eckrc_linux_amd64.tar.gz"),
                                               ("windows_amd64", "kubectl-eckrc_windows_amd64.zip")])
def test_archive_is_byte_identical_whatever_the_build_directory(tmp_path: Path, platform: str,
                                                                archive: str) -> None:
    digests = set()
    for where in ("a", "bb/cc"):
        out = tmp_path / where
        out.mkdir(parents=True)
        binary = out / "kubectl-eckrc"
        binary.write_bytes(b"\x7fELF same bytes")
        release("archive", "--binary", binary, "--license", ROOT / "LICENSE", "--out-dir", out,
                "--mtime", "1700000000", "--platform", platform)
        digests.add((out / f"{archive}.sha256").read_text().split()[0])
    assert len(digests) == 1


def test_archive_entries_are_sorted_owned_by_root_and_dated_by_source_date_epoch(dist: Path) -> None:
    with tarfile.open(dist / "kubectl-eckrc_linux_amd64.tar.gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["LICENSE", "kubectl-eckrc", "kubectl_complete-eckrc"]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 1700000000)}
    assert [oct(m.mode) for m in members] == ["0o644", "0o755", "0o755"]
