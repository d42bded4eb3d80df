"""The search access of a link's cross-cluster API key, and what `doctor --index` showed it hides.

ECKRC508 and fix's widen-key-access read these facts through the same functions, so the check
fails on the key exactly when the action has patterns to add.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from kubectl_eckrc import eck, links
from kubectl_eckrc.snapshot import Snapshot, Unavailable, UseProbe

KEY_REFUSED = "towards remote cluster is unauthorized"


@dataclass(frozen=True)
class KeyAccess:
    key_id: str
    name: str
    access: dict[str, Any]  # the key's whole `access` (search and replication entries)

    @property
    def search(self) -> list[dict[str, Any]]:
        return [e for e in self.access.get("search") or [] if isinstance(e, dict)]

    @property
    def search_names(self) -> list[str]:
        return [n for entry in self.search for n in names_of(entry.get("names"))]

    @property
    def restricted(self) -> list[str]:
        """Names whose entries carry document or field level security."""
        return [n for e in self.search if e.get("query") or e.get("field_security")
                for n in names_of(e.get("names"))]

    def covers(self, index: str) -> bool:
        return any(fnmatchcase(index, n) for n in self.search_names)


def names_of(value: Any) -> list[str]:
    """An index-privilege entry's `names`: one string or a list."""
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def grant_covers(grant: dict[str, Any], index: str) -> bool:
    """An `indices` / `remote_indices` grant names the index (patterns included)."""
    return any(fnmatchcase(index, n) for n in names_of(grant.get("names")))


def remote_index_grants(roles: Iterable[dict[str, Any]], alias: str) -> list[dict[str, Any]]:
    """The roles' `remote_indices` grants whose `clusters` match the alias."""
    return [g for role in roles for g in role.get("remote_indices") or []
            if any(fnmatchcase(alias, c) for c in names_of(g.get("clusters")))]


def key_entry(snap: Snapshot, alias: str) -> dict[str, Any] | None:
    """The remote's answer for the key the alias's credential names; None when it is unknown
    (no credential, no remote access, the key not found)."""
    refs = [r for r in links.credential_refs(snap)
            if r.alias == alias and r.info is not None and r.info.key_id]
    remote = eck.side_of(snap, "remote")
    if not refs or remote is None or isinstance(remote.es, Unavailable) or refs[0].info is None:
        return None
    key_id = refs[0].info.key_id
    answer = remote.es.api_keys.get(key_id)
    return links.remote_api_key(answer, key_id) if isinstance(answer, dict) else None


def key_access(snap: Snapshot, alias: str) -> KeyAccess | None:
    """The access of the key the alias' credential names, as the remote answered."""
    entry = key_entry(snap, alias)
    if entry is None:
        return None
    return KeyAccess(str(entry.get("id", "")), str(entry.get("name", "")), dict(entry.get("access") or {}))


def refusal(use: UseProbe) -> str:
    """The reason field_caps was refused with, "" when it answered."""
    caps = use.field_caps
    if isinstance(caps, dict) and isinstance(caps.get("error"), dict):
        return str(caps["error"].get("reason") or caps["error"].get("type") or "")
    return ""


def visible(use: UseProbe) -> list[str] | None:
    """The remote indices field_caps reached (None when refused or not read)."""
    if isinstance(use.field_caps, Unavailable) or refusal(use):
        return None
    return sorted(str(i).split(":", 1)[-1] for i in use.field_caps.get("indices") or [])


def existing(use: UseProbe) -> list[str] | None:
    """The remote's indices matching the pattern, as the remote's own user sees them."""
    if isinstance(use.remote, Unavailable) or "error" in use.remote:
        return None
    return sorted(str(i.get("name")) for i in use.remote.get("indices") or [] if isinstance(i, dict))


def hidden_by_key(use: UseProbe, access: KeyAccess) -> list[str]:
    """Existing indices a search does not reach and the key's search access does not name."""
    seen, there = visible(use), existing(use)
    if seen is None or there is None:
        return []
    return [i for i in there if i not in seen and not access.covers(i)]


def refused_by_key(use: UseProbe, access: KeyAccess) -> bool:
    """An explicit name the remote refused, outside the key's search access."""
    return KEY_REFUSED in refusal(use) and not access.covers(use.pattern)


def patterns_to_grant(snap: Snapshot, alias: str, access: KeyAccess) -> list[str]:
    """The --index patterns the key's access hides something of."""
    return [u.pattern for u in snap.uses
            if u.alias == alias and (hidden_by_key(u, access) or refused_by_key(u, access))]


def with_access(access: dict[str, Any], kind: str, names: list[str]) -> dict[str, Any]:
    """The key's access with one more `kind` ("search" or "replication") entry naming `names`;
    the other entries, their query and field security, stay as they are."""
    new = copy.deepcopy(access)
    new.setdefault(kind, []).append({"names": list(names)})
    return new


def replication_names(access: KeyAccess) -> list[str]:
    """The names the key's `access.replication` entries grant."""
    entries = [e for e in access.access.get("replication") or [] if isinstance(e, dict)]
    return [n for entry in entries for n in names_of(entry.get("names"))]
