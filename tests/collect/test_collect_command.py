"""`collect` and `doctor --bundle` through the CLI, with a hand-built snapshot standing in for
the live collector (the twin-backed version is tests/test_collect_live.py)."""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path

import pytest

from kubectl_eckrc import cli, redact
from kubectl_eckrc.collect import live
from kubectl_eckrc.snapshot import Snapshot
from tests.snapshot_builder import healthy_pair

CANARY = "collector-read-this-S3cret-9f8e7d"


# Secret values the fake collector "reads" (remembers) during the run, as the real one does.
READ: list[str] = []


@pytest.fixture
def collected(monkeypatch: pytest.MonkeyPatch) -> list[Snapshot]:
    """collect_live returns what the test puts in this list."""
    snaps = [healthy_pair().build()]
    READ.clear()

    def collect(scope: object, debug: bool = False) -> Snapshot:
        for value in READ:
            redact.remember(value)
        return snaps[0]

    monkeypatch.setattr(live, "collect_live", collect)
    return snaps


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_collect_writes_a_bundle_that_doctor_reads_back_with_the_same_report(
    tmp_path: Path, collected: list[Snapshot], capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "b.zip"
    code, out, err = run_cli(capsys, "collect", "-o", str(target), "--context", "prod-a", "-n", "logging")
    assert code == 0 and err == ""  # no progress lines when stderr is not a terminal
    assert out.startswith(f"wrote {target} (6 files)") and "doctor --bundle" in out
    with zipfile.ZipFile(target) as zf:
        stored = json.loads(zf.read("report.json"))
        tool = json.loads(zf.read("tool.json"))
    assert tool["command"][:3] == ["kubectl", "eckrc", "collect"] and "--context" in tool["command"]
    code, out, _ = run_cli(capsys, "doctor", "--bundle", str(target), "-o", "json")
    offline = json.loads(out)
    assert code == stored["exitCode"] == 0
    assert offline["findings"] == stored["findings"] and offline["summary"] == stored["summary"]


def test_doctor_markdown_from_a_bundle_is_ticket_ready(
    tmp_path: Path, collected: list[Snapshot], capsys: pytest.CaptureFixture[str]
) -> None:
    pair = healthy_pair()
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    pair.local.resolve_cluster = {}  # no fresh _resolve/cluster attempt recorded that connected
    collected[0] = pair.build()
    target = tmp_path / "b.zip"
    assert run_cli(capsys, "collect", "-o", str(target))[0] == 0
    code, out, _ = run_cli(capsys, "doctor", "--bundle", str(target), "-o", "markdown")
    assert out.startswith("## kubectl eckrc doctor")
    assert "<details>" in out
    assert code == 1  # the disconnected link fails ECKRC503: an error-severity failure


def test_collect_refuses_a_bundle_holding_a_value_the_collector_read(
    tmp_path: Path, collected: list[Snapshot], capsys: pytest.CaptureFixture[str]
) -> None:
    pair = healthy_pair()
    pair.local.es["metadata"]["labels"] = {"note": base64.b64encode(CANARY.encode()).decode()}
    collected[0] = pair.build()
    READ.append(CANARY)
    target = tmp_path / "b.zip"
    code, out, err = run_cli(capsys, "collect", "-o", str(target))
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: refusing to write")
    assert "snapshot.json" in err
    assert CANARY not in err and base64.b64encode(CANARY.encode()).decode() not in err
    assert list(tmp_path.iterdir()) == []


def test_collect_refuses_an_env_credential_found_in_the_bundle(
    tmp_path: Path, collected: list[Snapshot], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MY_ES_KEY", "env-api-key-value-0123456789")
    pair = healthy_pair()
    pair.local.es["metadata"]["labels"] = {"note": "env-api-key-value-0123456789"}
    collected[0] = pair.build()
    code, _, err = run_cli(capsys, "collect", "-o", str(tmp_path / "b.zip"), "--es-api-key-env", "MY_ES_KEY")
    assert code == 3 and "$MY_ES_KEY" in err and "env-api-key-value" not in err


def test_collect_into_a_missing_directory_is_a_usage_error_before_collecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(scope: object, debug: bool = False) -> Snapshot:
        raise AssertionError("collected although the output path is unusable")

    monkeypatch.setattr(live, "collect_live", fail)
    code, _, err = run_cli(capsys, "collect", "-o", str(tmp_path / "nope" / "b.zip"))
    assert code == 2 and "does not exist" in err


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04truncated", b"not a zip at all"])
def test_doctor_on_a_corrupt_bundle_is_one_error_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "bad.zip"
    path.write_bytes(content)
    code, out, err = run_cli(capsys, "doctor", "--bundle", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip"]


def test_collect_shows_progress_on_stderr_only_on_a_terminal(
    tmp_path: Path, collected: list[Snapshot], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run_cli(capsys, "collect", "-o", str(tmp_path / "b.zip"))
    assert code == 0 and out.startswith("wrote ")
    assert "collect: reading the clusters ..." in err
    assert "collect: scanning the bundle for secret values ..." in err


def test_tool_json_command_line_keeps_names_and_drops_url_queries() -> None:
    from kubectl_eckrc.commands.collect import command_line
    from kubectl_eckrc.options import CollectOptions, Scope, SideTarget

    scope = Scope(SideTarget(None, "prod-a", "logging", "local-es", es_url="https://es.example:9200/?token=abc",
                             es_api_key_env="ES_KEY"), None)
    args = command_line(CollectOptions(scope, "/tmp/out/b.zip"))
    assert args[:5] == ["kubectl", "eckrc", "collect", "--output-file", "b.zip"]
    assert "https://es.example:9200/" in args and "ES_KEY" in args
    assert not any("token=abc" in a for a in args)


def test_refusal_names_the_secret_key_the_leaked_value_came_from(
    tmp_path: Path, collected: list[Snapshot], capsys: pytest.CaptureFixture[str]
) -> None:
    from kubectl_eckrc.snapshot import SecretKey
    from tests.snapshot_builder import secret

    value = "token-from-a-user-secret-5e6f7a"
    pair = healthy_pair()
    pair.local.secrets["es-extra"] = secret("es-extra", {"token": SecretKey(len(value), redact.fingerprint(
        value.encode()))})
    pair.local.es["metadata"]["labels"] = {"note": value}
    collected[0] = pair.build()
    READ.append(value)
    code, _, err = run_cli(capsys, "collect", "-o", str(tmp_path / "b.zip"))
    assert code == 3 and "Secret logging/es-extra key token" in err and value not in err


def test_doctor_picks_the_elasticsearch_of_an_eck_diagnostics_archive_by_namespace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.collect.test_eck_diagnostics import archive_of

    path = str(archive_of(tmp_path, healthy_pair()))
    code, _, err = run_cli(capsys, "doctor", "--bundle", path)
    assert code == 2 and "logging/local-es, search/remote-es" in err and "-n/--namespace" in err
    code, out, _ = run_cli(capsys, "doctor", "--bundle", path, "-n", "logging",
                           "--remote-namespace", "search", "-o", "json")
    report = json.loads(out)
    assert report["source"] == "eck-diagnostics" and report["exitCode"] == code
    assert report["local"]["namespace"] == "logging" and report["remote"]["namespace"] == "search"
