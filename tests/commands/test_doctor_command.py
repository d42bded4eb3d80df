"""commands/doctor: one document per format on stdout, the exit code from the findings."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from kubectl_eckrc.commands import doctor
from kubectl_eckrc.options import DoctorOptions, Scope, SideTarget
from tests import snapshot_builder

SCOPE = Scope(local=SideTarget(None, "prod-a", "logging", "local-es"), remote=None)


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], output: str,
         pair: Any = None) -> tuple[int, str, str]:
    snapshot = (pair or snapshot_builder.healthy_pair()).build()
    monkeypatch.setattr(doctor, "load", lambda options: snapshot)
    code = doctor.run(DoctorOptions(scope=SCOPE, output=output))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_is_one_document_with_the_exit_code(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(monkeypatch, capsys, "json")
    document = json.loads(out)
    assert document["schemaVersion"] == 1 and document["exitCode"] == code == 0
    assert err == ""


def test_yaml_junit_markdown_and_table_each_render(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert yaml.safe_load(_run(monkeypatch, capsys, "yaml")[1])["exitCode"] == 0
    assert _run(monkeypatch, capsys, "junit")[1].lstrip().startswith("<?xml")
    assert "ECKRC303" in _run(monkeypatch, capsys, "markdown")[1]
    assert "ECKRC303" in _run(monkeypatch, capsys, "table")[1]


def test_a_failing_check_gives_exit_1_in_every_format(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    for output in ("table", "json", "yaml", "junit", "markdown"):
        pair = snapshot_builder.healthy_pair()
        pair.set_configured_ca([snapshot_builder.make_ca("remote-es", "stale-remote-ca")])
        assert _run(monkeypatch, capsys, output, pair)[0] == 1, output


def test_no_color_is_honoured_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubectl_eckrc import output

    class Tty:
        encoding = "utf-8"

        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("NO_COLOR", "1")
    assert output.use_color(Tty()) is False  # type: ignore[arg-type]
    monkeypatch.delenv("NO_COLOR")
    assert output.use_color(Tty()) is True  # type: ignore[arg-type]
    assert output.use_unicode(Tty()) is True  # type: ignore[arg-type]
