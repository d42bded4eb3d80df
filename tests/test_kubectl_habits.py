"""Flags written the way kubectl users write them."""

from __future__ import annotations

import io

import pytest

from kubectl_eckrc import cli, output
from kubectl_eckrc.options import DoctorOptions


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[DoctorOptions]:
    """doctor's options as parsed, without running it."""
    seen: list[DoctorOptions] = []

    class Doctor:
        @staticmethod
        def run(options: DoctorOptions) -> int:
            seen.append(options)
            return 0

    monkeypatch.setattr(cli, "_command", lambda name: Doctor)
    return seen


@pytest.mark.parametrize("flag", [["-o", "json"], ["-ojson"], ["-o=json"], ["--output=json"]])
def test_output_formats_as_kubectl_takes_them(parsed: list[DoctorOptions], flag: list[str]) -> None:
    assert cli.main(["doctor", *flag]) == 0
    assert parsed[-1].output == "json"


@pytest.mark.parametrize(("text", "seconds"), [("5", 5.0), ("2.5", 2.5), ("5s", 5.0), ("2m", 120.0),
                                               ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0)])
def test_durations_as_kubectl_writes_them(parsed: list[DoctorOptions], text: str, seconds: float) -> None:
    assert cli.main(["doctor", "--timeout", text]) == 0
    assert parsed[-1].scope.timeout == seconds


def test_a_bad_duration_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--timeout", "5x"]) == 2
    assert "is not a duration" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "expected"), [("auto", None), ("always", True), ("never", False)])
def test_color_flag(parsed: list[DoctorOptions], flag: str, expected: bool | None) -> None:
    assert cli.main(["doctor", "--color", flag]) == 0
    assert parsed[-1].color is expected


@pytest.mark.parametrize(("env", "expected"), [({}, True), ({"NO_COLOR": "1"}, False),
                                               ({"TERM": "dumb"}, False),
                                               ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True)])
def test_colour_follows_the_environment(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                        expected: bool) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert output.use_color(Tty()) is expected  # type: ignore[arg-type]
    assert output.use_color(Tty(), requested=False) is False  # type: ignore[arg-type]


def test_flags_that_do_not_apply_to_a_bundle_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--bundle", "b.zip", "--context", "prod-a", "--timeout", "3s"]) == 2
    assert "--context, --timeout: not used with --bundle" in capsys.readouterr().err
    assert cli.main(["doctor", "--remote-bundle", "r.zip"]) == 2


def test_a_bundle_still_takes_the_flags_that_pick_inside_it(parsed: list[DoctorOptions]) -> None:
    assert cli.main(["doctor", "--bundle", "b.zip", "-n", "logging", "--es", "local-es", "--alias", "r"]) == 0
    assert parsed[-1].bundle == "b.zip" and parsed[-1].scope.alias == "r"


@pytest.mark.parametrize("command", ["fix", "collect"])
def test_help_has_examples_and_exit_codes(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([command, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Examples:" in text and f"kubectl eckrc {command} --context" in text and "Exit code: 0" in text
