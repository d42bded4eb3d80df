"""Colour on Windows: a console shows ANSI colour codes only once virtual terminal processing
is on, so the doctor table is coloured there only when that could be switched on."""

from __future__ import annotations

import io

import pytest

from kubectl_eckrc import output


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def on_windows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """sys.platform as on Windows; records the file descriptors whose console was switched."""
    switched: list[int] = []
    monkeypatch.setattr(output, "WINDOWS", True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(output, "enable_virtual_terminal", lambda fd: switched.append(fd) or True)
    return switched


class ConsoleTty(Tty):
    def fileno(self) -> int:
        return 7


def test_a_windows_console_that_takes_virtual_terminal_mode_gets_colour(on_windows: list[int]) -> None:
    assert output.use_color(ConsoleTty()) is True  # type: ignore[arg-type]
    assert on_windows == [7]


def test_a_windows_console_that_refuses_it_gets_plain_text(on_windows: list[int],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "enable_virtual_terminal", lambda fd: False)
    assert output.use_color(ConsoleTty()) is False  # type: ignore[arg-type]


def test_a_stream_without_a_console_handle_gets_plain_text_not_a_traceback(on_windows: list[int]) -> None:
    assert output.use_color(Tty()) is False  # type: ignore[arg-type]  # StringIO.fileno raises


def test_asking_for_colour_switches_the_console_on_and_is_obeyed(on_windows: list[int]) -> None:
    assert output.use_color(ConsoleTty(), requested=True) is True  # type: ignore[arg-type]
    assert on_windows == [7]
    assert output.use_color(ConsoleTty(), requested=False) is False  # type: ignore[arg-type]
    assert on_windows == [7]


def test_elsewhere_a_terminal_needs_no_switching(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "WINDOWS", False)
    monkeypatch.setattr(output, "enable_virtual_terminal", lambda fd: pytest.fail("not on Windows"))
    assert output.console_shows_ansi(ConsoleTty()) is True  # type: ignore[arg-type]
