"""The API twin's audit log: one entry per request, for tests such as "doctor made no
mutating request"."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

MUTATING_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Creating a review asks a question; it changes nothing in the cluster.
NON_MUTATING_CREATES = ("selfsubjectaccessreviews", "selfsubjectrulesreviews", "tokenreviews",
                        "subjectaccessreviews")


@dataclass(frozen=True)
class AuditEntry:
    time: datetime
    user: str  # "" when the request was not authenticated
    method: str
    path: str
    query: str
    content_type: str
    code: int
    verb: str = ""  # get, list, watch, create, update, patch, delete ("" for non-resource paths)
    plural: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    dry_run: bool = False

    @property
    def is_mutating(self) -> bool:
        return self.method in MUTATING_METHODS and self.plural not in NON_MUTATING_CREATES


class AuditLog:
    """Thread-safe, append-only list of `AuditEntry`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[AuditEntry]:
        with self._lock:
            return list(self._entries)

    def mutating(self, include_dry_run: bool = False) -> list[AuditEntry]:
        """Writes (POST/PUT/PATCH/DELETE) except access reviews; dry-run writes only on request."""
        return [e for e in self.entries() if e.is_mutating and (include_dry_run or not e.dry_run)]

    def by_user(self, user: str) -> list[AuditEntry]:
        return [e for e in self.entries() if e.user == user]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
