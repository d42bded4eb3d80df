"""Where the product writes: stdout for documents, stderr for logs; colour and symbols.

Colour only on a TTY and never when NO_COLOR is set (https://no-color.org); Unicode symbols
only when the stream's encoding can carry them, so a plain ASCII terminal still reads well.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO


def use_color(stream: TextIO | None = None, requested: bool | None = None) -> bool:
    """`requested` wins when the user decided; otherwise a TTY without NO_COLOR."""
    if requested is not None:
        return requested
    if os.environ.get("NO_COLOR", "") != "":
        return False
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def use_unicode(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return encoding in ("utf8", "utf16", "utf32")


def write_document(text: str) -> None:
    """The one call that puts a rendered document on stdout (ends with one newline)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    """Progress and notes for a human: stderr, so `-o json` stays one clean document."""
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
