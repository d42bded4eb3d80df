"""`kubectl eckrc version -o json|yaml`: the machine-readable build information the release
workflow's smoke test reads, with os/arch named as krew names them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kubectl_eckrc import __version__
from kubectl_eckrc.commands import version

KEYS = ["version", "gitCommit", "buildDate", "os", "arch", "python", "build"]


def run_version(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubectl_eckrc.cli", "version", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("output, parse", [("json", json.loads), ("yaml", yaml.safe_load)])
def test_version_as_a_document_names_this_version_and_the_krew_platform(output: str, parse: object) -> None:
    result = run_version("-o", output)
    assert result.returncode == 0, result.stderr
    doc = parse(result.stdout)  # type: ignore[operator]
    assert list(doc) == KEYS
    assert doc["version"] == __version__
    assert doc["build"] == "python package"
    assert (doc["os"], doc["arch"]) == version.krew_platform()
    assert doc["arch"] in ("amd64", "arm64")


@pytest.mark.parametrize("system, machine, expected", [
    ("Linux", "x86_64", ("linux", "amd64")),
    ("Linux", "aarch64", ("linux", "arm64")),
    ("Darwin", "arm64", ("darwin", "arm64")),
    ("Darwin", "x86_64", ("darwin", "amd64")),
    ("Windows", "AMD64", ("windows", "amd64")),
])
def test_machine_names_become_krew_selector_names(system: str, machine: str,
                                                  expected: tuple[str, str]) -> None:
    assert version.krew_platform(system, machine) == expected


def test_a_binary_reports_the_commit_and_date_bundled_by_the_build(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    stamp = tmp_path / "_build_info.json"
    commit = "0123456789abcdef" * 2 + "01234567"
    stamp.write_text(json.dumps({"gitCommit": commit, "buildDate": "2026-12-01T10:00:00Z"}))
    monkeypatch.setattr(version, "BUILD_INFO_FILE", stamp)
    info = version.build_info()
    assert (info["gitCommit"], info["buildDate"]) == (commit, "2026-12-01T10:00:00Z")
    assert "commit 0123456789ab)" in version.render(info, "text")


def test_a_package_install_has_no_commit_and_says_so_with_null(tmp_path: Path) -> None:
    assert version.bundled_build_info(tmp_path / "absent.json") == {}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert version.bundled_build_info(broken) == {}


def test_unknown_version_format_is_a_usage_error() -> None:
    result = run_version("-o", "xml")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
