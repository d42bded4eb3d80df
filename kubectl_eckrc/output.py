"""Where the product writes: stdout for documents, stderr for logs; colour and symbols.

Colour only on a TTY, never when NO_COLOR is set (https://no-color.org) or TERM is dumb,
always when FORCE_COLOR is set (https://force-color.org) or --color always asks; on Windows
only on a console that draws ANSI colour codes; Unicode symbols only when the stream's encoding
can carry them, so a plain ASCII terminal still reads well.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

WINDOWS = sys.platform == "win32"
ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004


def use_color(stream: TextIO | None = None, requested: bool | None = None) -> bool:
    """`requested` (--color always|never) wins; then FORCE_COLOR, NO_COLOR and TERM=dumb;
    otherwise a TTY."""
    stream = stream or sys.stdout
    if requested is None and os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        requested = True
    if requested is not None:
        if requested:
            console_shows_ansi(stream)  # asked for: switch a Windows console's colour on if it can
        return requested
    if os.environ.get("NO_COLOR", "") != "" or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and console_shows_ansi(stream)


def console_shows_ansi(stream: TextIO) -> bool:
    """Elsewhere terminals draw ANSI colour codes; a Windows console does only once virtual
    terminal processing is on (Windows 10 and later can; Windows Terminal has it on already).
    Turn it on for this console, or say no: raw escape codes are worse than no colour."""
    if not WINDOWS:
        return True
    try:
        return enable_virtual_terminal(stream.fileno())
    except Exception:  # no console handle, no fileno, an old Windows: plain text then
        return False


def enable_virtual_terminal(fd: int) -> bool:
    if sys.platform != "win32":
        return True
    import ctypes
    import msvcrt
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    # HANDLE is pointer-sized: without argtypes ctypes would pass it as a 32-bit int
    kernel32.GetConsoleMode.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
    kernel32.SetConsoleMode.argtypes = [wintypes.HANDLE, wintypes.DWORD]
    handle = msvcrt.get_osfhandle(fd)
    mode = wintypes.DWORD()
    if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
        return False
    if mode.value & ENABLE_VIRTUAL_TERMINAL_PROCESSING:
        return True
    return bool(kernel32.SetConsoleMode(handle, mode.value | ENABLE_VIRTUAL_TERMINAL_PROCESSING))


def use_unicode(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return encoding in ("utf8", "utf16", "utf32")


def write_document(text: str) -> None:
    """The one call that puts a rendered document on stdout (ends with one newline). Every
    secret value this run has read is blanked, a last line of defence."""
    text = _scrubbed(text)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    """Progress and notes for a human: stderr, so `-o json` stays one clean document."""
    sys.stderr.write(_printable(_scrubbed(message)).rstrip("\n") + "\n")
    sys.stderr.flush()


def _scrubbed(text: str) -> str:
    from kubectl_eckrc.redact import scrub_known

    return scrub_known(text)


def _printable(text: str) -> str:
    """Names and errors from a cluster may carry terminal control sequences: shown, not run."""
    from kubectl_eckrc.report.text import printable

    return printable(text)
