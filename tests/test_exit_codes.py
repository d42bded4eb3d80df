"""Exit codes never lie: each bad input or broken environment ends in its documented exit code
with one `error:` line, and nothing a user typed as a secret is echoed back.

The CLI runs in-process (fast); the exec-plugin case runs as a subprocess, because what it
proves is that nothing reaches the real stderr through a logger.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kubectl_eckrc import cli
from kubectl_eckrc.checks import registry
from kubectl_eckrc.collect import bundle
from kubectl_eckrc.snapshot import to_dict
from tests.snapshot_builder import healthy_pair

CLOSED = "https://127.0.0.1:1"  # nothing listens on port 1


def kubeconfig(path: Path, server: str = CLOSED, user: dict[str, Any] | None = None) -> Path:
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user or {"token": "not-a-real-token"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "ns"}}],
    }))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# --- the environment ---------------------------------------------------------------------------


def test_unreachable_kubernetes_api_is_exit_3_not_a_failed_elasticsearch_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "doctor", "--kubeconfig", str(kubeconfig(tmp_path / "k")), "--timeout", "1",
                       "-o", "json")
    assert code == 3
    failed = [f["id"] for f in json.loads(out)["findings"] if f["status"] == "fail"]
    assert failed == []  # ECKRC107 says why it cannot evaluate, it does not fail


def test_failing_exec_credential_plugin_is_one_clean_line_without_logger_output(tmp_path: Path) -> None:
    plugin = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "sh",
                       "args": ["-c", "echo 'login expired, token=Plugin-S3cret-Value' >&2; exit 1"],
                       "interactiveMode": "Never"}}
    config = kubeconfig(tmp_path / "k", user=plugin)
    done = subprocess.run([sys.executable, "-m", "kubectl_eckrc", "doctor", "--kubeconfig", str(config),
                           "--timeout", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    line = one_error_line(done.stderr)
    assert "exec credential plugin failed" in line and "login expired" in line
    assert "Plugin-S3cret-Value" not in done.stderr + done.stdout
    assert done.stdout == ""


# --- a check that raises -------------------------------------------------------------------------


def _broken(monkeypatch: pytest.MonkeyPatch, check_id: str) -> None:
    def explode(*_: Any) -> Any:
        raise KeyError("spec")

    specs = [dataclasses.replace(s, func=explode) if s.id == check_id else s for s in registry.ALL_CHECKS]
    monkeypatch.setattr("kubectl_eckrc.checks.engine.ALL_CHECKS", specs)


def test_a_check_that_raises_is_never_a_silent_pass_the_run_exits_3_and_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = dataclasses.replace(healthy_pair().build(), source="live")
    monkeypatch.setattr("kubectl_eckrc.collect.live.collect_live", lambda *a, **k: snap)
    _broken(monkeypatch, "ECKRC303")
    code, out, err = run(capsys, "doctor", "--context", "prod-a", "-o", "json")
    assert code == 3
    assert "ECKRC303" in one_error_line(err)
    [finding] = [f for f in json.loads(out)["findings"] if f["id"] == "ECKRC303"]
    assert finding["status"] == "not-evaluated" and "internal error in ECKRC303" in finding["message"]


# --- bundles ------------------------------------------------------------------------------------


def _bundle(path: Path, mutate: Any) -> Path:
    """A bundle whose snapshot.json was changed by `mutate`, with a manifest to match (as a
    hostile author would recompute it)."""
    snap = healthy_pair().build()
    members = bundle.bundle_members(snap, _report(snap), {"name": "kubectl-eckrc"})
    data = json.loads(members[bundle.SNAPSHOT])
    members[bundle.SNAPSHOT] = mutate(data)
    manifest = bundle.manifest(members, "0.1.0", "2026-06-01T00:00:00Z")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(bundle.MANIFEST, json.dumps(manifest))
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def _report(snap: Any) -> dict[str, str]:
    """The rendered reports a bundle carries (collect renders them, bundle.py stores them)."""
    from kubectl_eckrc.checks.engine import build_report, run_checks
    from kubectl_eckrc.report import markdown, structured

    report = build_report(snap, run_checks(snap))
    return {"report.json": structured.render_json(report), "report.md": markdown.render(report)}


def _set(path: str | list[Any], value: Any) -> Any:
    def mutate(data: dict[str, Any]) -> bytes:
        keys = path.split(".") if isinstance(path, str) else path
        target = data
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            keys[-1] = int(keys[-1])
        target[keys[-1]] = value
        return json.dumps(data).encode()

    return mutate


def _first_cert_path() -> list[Any]:
    data = to_dict(healthy_pair().build())
    for name, secret in data["local"]["kube"]["secrets"].items():
        for key, entry in (secret.get("keys") or {}).items():
            if entry.get("certificates"):
                return ["local", "kube", "secrets", name, "keys", key, "certificates", 0, "pem"]
    raise AssertionError("the healthy pair holds a certificate")


GARBAGE_CERT = "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n"
HOSTILE_SNAPSHOTS = {
    "pods is a number": _set("local.kube.pods", 5),
    "a pod is a string": _set("local.kube.pods", ["pod"]),
    "settings is a list": _set("local.es.settings", []),
    "an alias is a number": _set("aliases", [1]),
    "taken_at is a number": _set("taken_at", 5),
    "namespace is null": _set("local.namespace", None),
    "a garbage certificate": lambda data: _set(_first_cert_path(), GARBAGE_CERT)(data),
    "JSON nested too deep": lambda data: b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
    "JSON deeper than any Kubernetes object": _set("local.kube.crd", json.loads("[" * 500 + "]" * 500)),
}


@pytest.mark.parametrize("case", HOSTILE_SNAPSHOTS)
def test_a_bundle_of_the_wrong_shape_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    path = _bundle(tmp_path / "b.zip", HOSTILE_SNAPSHOTS[case])
    code, out, err = run(capsys, "doctor", "--bundle", str(path))
    assert code == 2, err
    assert str(path) in one_error_line(err) and "internal error" not in err
    assert out == ""


# --- kubeconfig ------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [
    b"\xff\xfe not utf-8",
    b"clusters: 5\n",
    b"contexts: [{name: x, context: 7}]\n",
    b"current-context: [x]\n",
    b"[" * 5000 + b"]" * 5000,
    b"a: " + b"{b: " * 100 + b"1" + b"}" * 100,
], ids=["non-utf8", "clusters-5", "context-7", "current-context-list", "deep-flow", "deep-map"])
def test_a_kubeconfig_of_the_wrong_shape_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "config"
    path.write_bytes(content)
    code, _, err = run(capsys, "doctor", "--kubeconfig", str(path))
    assert code == 2
    assert "kubeconfig" in one_error_line(err) or "context" in err


# --- flags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "-inf"), ("--timeout", "1e400"),
    ("--only", "ECKRC999"), ("--skip", "NOPE*"),
])
def test_meaningless_flag_values_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, "doctor", "--kubeconfig", str(kubeconfig(tmp_path / "k")), *args)
    assert code == 2
    assert args[1] in one_error_line(err)


def test_fix_timeout_wait_must_be_finite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(kubeconfig(tmp_path / "k"))
    code, _, err = run(capsys, "fix", "--kubeconfig", config, "--timeout-wait", "nan")
    assert code == 2 and "nan" in one_error_line(err)


@pytest.mark.parametrize("target", ["/proc/eckrc-bundle.zip", "/dev/null"])
def test_an_unwritable_collect_target_is_exit_2_before_anything_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    code, _, err = run(capsys, "collect", "--kubeconfig", str(kubeconfig(tmp_path / "k")), "-o", target)
    assert code == 2
    assert target in one_error_line(err)


# Root writes into any directory whatever its mode: there, the directory becomes a read-only
# mount in a private mount namespace (scripts/test runs as root here and in CI).
READ_ONLY_MOUNT = ("unshare", "--mount", "sh", "-c",
                   'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"')


def test_a_read_only_directory_is_an_unwritable_collect_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    args = ("collect", "--kubeconfig", str(kubeconfig(tmp_path / "k")), "-o", str(locked / "b.zip"))
    if os.geteuid() != 0:
        code, _, err = run(capsys, *args)
        assert code == 2 and "not writable" in one_error_line(err)
        return
    result = subprocess.run([*READ_ONLY_MOUNT, str(locked), sys.executable, "-m", "kubectl_eckrc.cli", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"directory {locked} is not writable" in one_error_line(result.stderr)


@pytest.mark.parametrize("url", [
    "ftp://elastic:Url-Passw0rd-Value@es.example:9200",
    "https://elastic:Url-Passw0rd-Value@es.example:9200",
    "http://[::1:9200?token=Url-Passw0rd-Value",
    "http://127.0.0.1:1/?token=Url-Passw0rd-Value",
])
def test_a_password_in_es_url_is_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    code, out, err = run(capsys, "doctor", "--kubeconfig", str(kubeconfig(tmp_path / "k")), "--timeout", "1",
                         "--es-url", url, "-o", "json")
    assert code in (2, 3)
    assert "Url-Passw0rd-Value" not in out + err
