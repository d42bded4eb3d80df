"""The one exception a collector read raises: it carries the `Unavailable` to store."""

from __future__ import annotations

from kubectl_eckrc.snapshot import Unavailable


class ReadFailed(Exception):
    def __init__(self, unavailable: Unavailable) -> None:
        super().__init__(unavailable.reason)
        self.unavailable = unavailable
