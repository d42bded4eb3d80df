"""The one-file binary, run the way users run it: real kubectl finds `kubectl-eckrc` on PATH.

The binary is built once per session by scripts/build-binary (about a minute on 2 cores), or
reused when dist/ or build/test-binary/ already holds one built from exactly these sources
(scripts/release.py source-hash).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_eckrc import __version__
from tests.parallel import one_worker_at_a_time

# The first test to need the binary waits for its build: on busy cores that takes minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
BUILD_CACHE = ROOT / "build" / "test-binary"
USER_LIBRARY_PATH = "/opt/eckrc-test/user-libs"
SSL_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def source_hash() -> str:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "release.py"), "source-hash"],
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.strip()


def built_from(directory: Path, digest: str) -> bool:
    stamp = directory / "kubectl-eckrc.source-hash"
    return (directory / "kubectl-eckrc").is_file() and stamp.is_file() and stamp.read_text().strip() == digest


@pytest.fixture(scope="session")
def binary_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    digest = source_hash()
    # parallel workers wait for the first one's build instead of making their own
    with one_worker_at_a_time(tmp_path_factory, "binary-build"):
        for candidate in (ROOT / "dist", BUILD_CACHE):
            if built_from(candidate, digest):
                return candidate
        result = subprocess.run([str(ROOT / "scripts" / "build-binary"), "--dist", str(BUILD_CACHE)],
                                capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return BUILD_CACHE


def kubectl_path() -> str:
    found = shutil.which("kubectl")
    assert found, "kubectl is not on PATH"
    return found


def kubectl_env(binary_dir: Path, **extra: str) -> dict[str, str]:
    """Only the built binary can be the plugin: no virtualenv (its `kubectl-eckrc` console
    script) on PATH, and no LD_LIBRARY_PATH unless the test sets one."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(binary_dir), os.path.dirname(kubectl_path()), "/usr/bin", "/bin"])
    env.update(extra)
    return env


def kubectl(binary_dir: Path, *args: str, env: dict[str, str] | None = None, wrapper: tuple[str, ...] = (),
            drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in kubectl_env(binary_dir, **(env or {})).items() if k not in drop}
    return subprocess.run([*wrapper, kubectl_path(), "eckrc", *args], capture_output=True, text=True,
                          timeout=180, env=environment, cwd=binary_dir)


def test_kubectl_runs_the_frozen_binary_as_kubectl_eckrc_version(binary_dir: Path) -> None:
    result = kubectl(binary_dir, "version")
    assert result.returncode == 0, result.stderr
    assert f"kubectl-eckrc {__version__}" in result.stdout
    assert "frozen binary" in result.stdout


def test_help_from_the_binary_says_kubectl_eckrc(binary_dir: Path) -> None:
    result = kubectl(binary_dir, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: kubectl eckrc")
    for command in ("doctor", "fix", "collect", "checks", "version"):
        assert command in result.stdout


def test_binary_bundles_the_certifi_ca_file_and_every_command_module(binary_dir: Path) -> None:
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(binary_dir / "kubectl-eckrc"))
    assert "certifi/cacert.pem" in archive.toc
    modules = set(archive.open_embedded_archive("PYZ.pyz").toc)
    for lazily_imported in ("kubectl_eckrc.commands.doctor", "kubectl_eckrc.commands.fix",
                            "kubectl_eckrc.collect.kube", "kubectl_eckrc.collect.es",
                            "kubernetes.client", "elasticsearch"):
        assert lazily_imported in modules


def test_built_archive_installs_under_every_krew_rule(binary_dir: Path, tmp_path: Path) -> None:
    """The archive build-binary made, against a manifest rendered from it: checksum, archive
    type, entry paths, `files` globs, `bin` and the license file, as `krew install` checks."""
    script = ROOT / "scripts" / "krew-manifest"
    base_url = "https://github.com/kubectl-eckrc/kubectl-eckrc/releases/download"
    rendered = subprocess.run([sys.executable, str(script), "--render", "--version", f"v{__version__}",
                               "--dist", str(binary_dir), "--base-url", base_url],
                              capture_output=True, text=True, timeout=60, check=True)
    manifest = tmp_path / "plugin.yaml"
    manifest.write_text(rendered.stdout)
    archives = sorted(binary_dir.glob("kubectl-eckrc_*.tar.gz"))
    assert archives
    check_args = [a for archive in archives for a in ("--check-archive", str(archive))]
    result = subprocess.run([sys.executable, str(script), "--check", str(manifest), *check_args],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stdout


def doctor_args(kubeconfig: Path) -> list[str]:
    return ["doctor", "--kubeconfig", str(kubeconfig), "--context", "local", "--remote-context", "remote",
            "-o", "json"]


def test_doctor_from_the_binary_on_the_healthy_twin_exits_0(binary_dir: Path, twin: Any) -> None:
    running = twin("healthy")
    result = kubectl(binary_dir, *doctor_args(running.kubeconfig))
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    report = json.loads(result.stdout)
    assert "schemaVersion" in report


EXEC_PLUGIN = """#!/bin/sh
# A kubeconfig exec credential plugin: records the environment it was started with.
env > "$ECKRC_TEST_ENV_FILE"
printf '{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",'
printf ' "status": {"token": "%s"}}\\n' "$ECKRC_TEST_TOKEN"
"""


def exec_kubeconfig(source: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The scenario's kubeconfig with the local context's user replaced by an exec plugin that
    hands out the same token: every API call of the local side goes through the plugin."""
    config = yaml.safe_load(source.read_text())
    local = next(c for c in config["contexts"] if c["name"] == "local")["context"]
    user = next(u for u in config["users"] if u["name"] == local["user"])
    plugin = tmp_path / "credential-plugin.sh"
    plugin.write_text(EXEC_PLUGIN)
    plugin.chmod(0o700)
    env_file = tmp_path / "plugin-environment.txt"
    config["users"].append({"name": "exec-user", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": str(plugin),
        "env": [{"name": "ECKRC_TEST_ENV_FILE", "value": str(env_file)},
                {"name": "ECKRC_TEST_TOKEN", "value": user["user"]["token"]}],
    }}})
    local["user"] = "exec-user"
    path = tmp_path / "exec-kubeconfig.yaml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(config, handle)
    return path, env_file


def recorded_environment(env_file: Path) -> dict[str, str]:
    assert env_file.exists(), "the exec credential plugin was never run"
    pairs = (line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return dict(pairs)


@pytest.mark.parametrize("user_library_path", [USER_LIBRARY_PATH, None], ids=["user-set", "unset"])
def test_exec_credential_plugin_sees_the_users_environment_not_the_bundle(
    binary_dir: Path, twin: Any, tmp_path: Path, user_library_path: str | None
) -> None:
    running = twin("healthy")
    kubeconfig, env_file = exec_kubeconfig(running.kubeconfig, tmp_path)
    extra = {"LD_LIBRARY_PATH": user_library_path} if user_library_path else {}
    result = kubectl(binary_dir, *doctor_args(kubeconfig), env=extra, drop=SSL_VARIABLES)
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    seen = recorded_environment(env_file)
    assert seen.get("LD_LIBRARY_PATH") == user_library_path
    assert "LD_LIBRARY_PATH_ORIG" not in seen
    assert not [name for name in seen if name.startswith("_PYI_")]
    assert not [f"{k}={v}" for k, v in seen.items() if "_MEI" in v]
    # here the bundled OpenSSL finds its compiled-in CA files: nothing is set for them
    assert [name for name in SSL_VARIABLES if name in seen] == []

# The bundled libssl is Debian's: its compiled-in CA locations are under /usr/lib/ssl. Hiding
# that directory in a private mount namespace is what the binary meets on Fedora or Alpine.
WITHOUT_DEBIAN_SSL_DIR = ("unshare", "--mount", "sh", "-c", 'mount --bind "$0" /usr/lib/ssl && exec "$@"')


def can_hide_ssl_dir(empty: Path) -> bool:
    if not Path("/usr/lib/ssl").is_dir() or not shutil.which("unshare"):
        return False
    probe = subprocess.run([*WITHOUT_DEBIAN_SSL_DIR, str(empty), "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def test_where_the_bundled_openssl_has_no_ca_files_the_system_ca_file_is_used(
    binary_dir: Path, twin: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    # scripts/test runs on Linux as root (here and in CI): a skip would hide the one test of
    # the binary on a system without Debian's OpenSSL directory
    assert can_hide_ssl_dir(empty), \
        "needs /usr/lib/ssl and a private mount namespace (unshare --mount as root)"
    running = twin("healthy")
    kubeconfig, env_file = exec_kubeconfig(running.kubeconfig, tmp_path)
    wrapper = (*WITHOUT_DEBIAN_SSL_DIR, str(empty))
    result = kubectl(binary_dir, *doctor_args(kubeconfig), wrapper=wrapper, drop=SSL_VARIABLES)
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    seen = recorded_environment(env_file)
    assert seen.get("SSL_CERT_FILE") == "/etc/ssl/certs/ca-certificates.crt"
    assert "_MEI" not in seen["SSL_CERT_FILE"]


def test_release_smoke_test_passes_on_the_built_binary(binary_dir: Path) -> None:
    """The checks .github/workflows/release.yml and ci.yml run on each runner's build."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "smoke_binary.py"),
                             str(binary_dir / "kubectl-eckrc")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "ok   version -o json", "ok   --help", "ok   doctor --bundle tests/data/sample-bundle.zip",
        "ok   doctor --bundle <missing file>", "ok   kubectl eckrc version"], result.stdout
    assert "frozen binary" in result.stdout.splitlines()[-1]
