"""Progress: a terminal's stderr only, never a pipe, a dumb terminal or a JSON run."""

from __future__ import annotations

import io
import time

import pytest

from kubectl_eckrc.progress import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_only_a_terminal_that_can_redraw_gets_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert Progress.on_terminal().enabled is False  # piped
    monkeypatch.setattr("sys.stderr", Tty())
    assert Progress.on_terminal(wanted=False).enabled is False  # -o json
    monkeypatch.setenv("TERM", "dumb")
    assert Progress.on_terminal().enabled is False


def test_the_line_names_the_phase_the_address_and_the_time_left() -> None:
    progress = Progress(False)
    progress.set("TLS handshake and _resolve/cluster via 10.0.0.1:9443", time.monotonic() + 30)
    line = progress.line()
    assert line.startswith("doctor: TLS handshake and _resolve/cluster via 10.0.0.1:9443 (")
    assert line.endswith("s left)")
