"""What a run is waiting for, on a terminal's stderr: one line, redrawn in place, shown only
once the run has taken more than a second (a quick run prints nothing) and erased at the end.
Nothing at all when stderr is not a terminal: logs and pipes stay clean."""

from __future__ import annotations

import os
import sys
import threading
import time

SHOW_AFTER = 1.0  # seconds: a quick run shows nothing
REDRAW = 0.25


class Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.phase = "starting"
        self.deadline: float | None = None
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._shown = False
        self._thread: threading.Thread | None = None
        if enabled:
            self._thread = threading.Thread(target=self._draw, name="eckrc-progress", daemon=True)
            self._thread.start()

    @staticmethod
    def on_terminal(wanted: bool = True) -> Progress:
        isatty = getattr(sys.stderr, "isatty", None)
        redraws = os.environ.get("TERM") != "dumb"  # a dumb terminal cannot erase a line
        return Progress(wanted and redraws and bool(isatty and isatty()))

    def set(self, phase: str, deadline: float | None = None) -> None:
        """The phase in words ("TLS handshake with 10.0.0.1:9443"); `deadline` (monotonic) gives
        the time left."""
        self.phase, self.deadline = phase, deadline

    def line(self) -> str:
        text = f"doctor: {self.phase}"
        if self.deadline is not None:
            text += f" ({max(0.0, self.deadline - time.monotonic()):.0f}s left)"
        return text

    def _draw(self) -> None:
        if self._stop.wait(SHOW_AFTER):
            return
        drawn = ""
        while not self._stop.is_set():
            line = self.line()[:200]
            if line != drawn:
                sys.stderr.write("\r\x1b[K" + line)
                sys.stderr.flush()
                self._shown, drawn = True, line
            self._stop.wait(REDRAW)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
