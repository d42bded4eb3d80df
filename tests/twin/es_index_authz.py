"""Index privileges of the Elasticsearch twin: which role grants which index action, how index
expressions resolve for a user, and what field and document level security leave visible.

A role is a list of `Grant`s (one per `indices` entry of a role descriptor). Several roles that
must all allow an action (an API key limited by its owner, a cross-cluster API key limited by
the local user's `remote_indices`) are a list of roles: `authorized` asks every one of them.
Sources: FIDELITY.md, "Cross-cluster requests".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

SEARCH = "indices:data/read/search"
FIELD_CAPS = "indices:data/read/field_caps"
RESOLVE_INDEX = "indices:admin/resolve/index"
INDEX_DOC = "indices:data/write/index"
RESOLVE_CLUSTER = "indices:admin/resolve/cluster"

# The action patterns of each index privilege (IndexPrivilege's automata, the parts the twin's
# actions touch).
PRIVILEGE_ACTIONS: dict[str, tuple[str, ...]] = {
    "create_doc": ("indices:data/write/index", "indices:data/write/bulk*"),
    "create": ("indices:data/write/index*", "indices:data/write/bulk*"),
    "index": ("indices:data/write/index*", "indices:data/write/bulk*", "indices:data/write/update*"),
    "write": ("indices:data/write/*",),
    "read": ("indices:data/read/*", RESOLVE_INDEX, RESOLVE_CLUSTER),
    "view_index_metadata": (RESOLVE_INDEX, RESOLVE_CLUSTER, "indices:data/read/field_caps*",
                            "indices:admin/mappings/get*"),
    "read_cross_cluster": ("internal:transport/proxy/indices:data/read/*",
                           "indices:admin/shards/search_shards", RESOLVE_CLUSTER),
    "monitor": ("indices:monitor/*",),
    "cross_cluster_replication": ("indices:data/read/xpack/ccr/shard_changes*", "indices:monitor/stats*"),
    "cross_cluster_replication_internal": ("indices:internal/admin/ccr/restore/*",),
    "manage": ("indices:monitor/*", "indices:admin/*", "indices:data/read/field_caps*"),
    "all": ("indices:*", "internal:transport/proxy/indices:*"),
}
# Privileges a cross-cluster API key's `access` entries stand for (CrossClusterApiKeyRoleDescriptorBuilder).
SEARCH_ACCESS = ("read", "read_cross_cluster", "view_index_metadata")
REPLICATION_ACCESS = ("cross_cluster_replication", "cross_cluster_replication_internal")


def grants_action(privilege: str, action: str) -> bool:
    if privilege.startswith("indices:"):  # a role may name actions (patterns) directly
        return fnmatchcase(action, privilege)
    return any(fnmatchcase(action, p) for p in PRIVILEGE_ACTIONS.get(privilege, ()))


def privileges_granting(action: str) -> list[str]:
    """The named privileges that grant `action`, as the denial texts list them: least privileged
    first (IndexPrivilege.findPrivilegesThatGrant over Privilege.sortByAccessLevel: the more
    privileges one is a subset of, the earlier; ties by name)."""
    granting = [p for p in PRIVILEGE_ACTIONS if grants_action(p, action)]
    return sorted(granting, key=lambda p: (-_supersets(p), p))


def _supersets(privilege: str) -> int:
    """How many other privileges grant every action pattern of `privilege`."""
    patterns = PRIVILEGE_ACTIONS[privilege]
    return sum(1 for other, wider in PRIVILEGE_ACTIONS.items() if other != privilege
               and all(any(fnmatchcase(p, w) for w in wider) for p in patterns))


@dataclass(frozen=True)
class Grant:
    """One `indices` (or `remote_indices`, or key `access`) entry."""

    names: tuple[str, ...]
    privileges: tuple[str, ...]
    field_grant: tuple[str, ...] | None = None  # None: every field
    field_except: tuple[str, ...] = ()
    query: Mapping[str, Any] | None = None  # document level security; None: every document
    allow_restricted: bool = False

    def covers(self, index: str, action: str) -> bool:
        if index.startswith(".security") and not self.allow_restricted:
            return False
        return any(fnmatchcase(index, n) for n in self.names) and any(
            grants_action(p, action) for p in self.privileges)

    def allows_field(self, field: str) -> bool:
        if self.field_grant is not None and not any(fnmatchcase(field, g) for g in self.field_grant):
            return False
        return not any(fnmatchcase(field, e) for e in self.field_except)


Role = Sequence[Grant]


def grant_of(entry: Mapping[str, Any], privileges: Iterable[str] | None = None) -> Grant:
    """A Grant from a role descriptor's `indices`/`remote_indices` entry or a key `access` entry."""
    security = entry.get("field_security") or {}
    granted = security.get("grant")
    query = entry.get("query")
    if isinstance(query, str):  # role descriptors carry the query as a JSON string or an object
        query = json.loads(query)
    return Grant(
        names=tuple(_names(entry.get("names"))),
        privileges=tuple(privileges if privileges is not None else entry.get("privileges") or ()),
        field_grant=tuple(granted) if granted is not None else None,
        field_except=tuple(security.get("except") or ()),
        query=query,
        allow_restricted=bool(entry.get("allow_restricted_indices", False)),
    )


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


def key_role(access: Mapping[str, Any]) -> list[Grant]:
    """The role of a cross-cluster API key: search entries grant the search privileges (with the
    entry's query and field security), replication entries the replication ones."""
    grants = [grant_of(e, SEARCH_ACCESS) for e in access.get("search") or []]
    grants += [grant_of(e, REPLICATION_ACCESS) for e in access.get("replication") or []]
    return grants


def authorized(roles: Sequence[Role], index: str, action: str) -> bool:
    return all(any(g.covers(index, action) for g in role) for role in roles)


def is_pattern(expression: str) -> bool:
    return any(ch in expression for ch in "*?")


@dataclass(frozen=True)
class Resolution:
    """What IndicesAndAliasesResolver makes of a request's expressions for one user."""

    indices: list[str]  # authorized, existing or explicitly named
    denied: list[str]  # explicit names the user may not use with this action
    missing: list[str]  # explicit, authorized names that do not exist


def resolve(expressions: Iterable[str], existing: Iterable[str], roles: Sequence[Role],
            action: str) -> Resolution:
    """Wildcards expand over the authorized indices only (unauthorized ones are silently left
    out); explicit names are kept and, when unauthorized, denied. Hidden (`.`) indices match a
    wildcard only when it starts with a dot. `-expr` removes what it matches."""
    present = sorted(set(existing))
    chosen: list[str] = []
    denied: list[str] = []
    for expression in expressions:
        if expression.startswith("-") and chosen:
            chosen = [i for i in chosen if not fnmatchcase(i, expression[1:])]
        elif is_pattern(expression):
            chosen += [i for i in present if fnmatchcase(i, expression) and i not in chosen
                       and (expression.startswith(".") or not i.startswith("."))
                       and authorized(roles, i, action)]
        elif not authorized(roles, expression, action):
            denied.append(expression)
        elif expression not in chosen:
            chosen.append(expression)
    missing = [i for i in chosen if i not in present]
    return Resolution([i for i in chosen if i in present], denied, missing)


def visible_fields(roles: Sequence[Role], index: str, fields: Iterable[str], action: str) -> list[str]:
    """Field level security: a field is visible when, in every role, some grant covering the
    index allows it (grants of one role add up; roles limit each other)."""
    def in_role(role: Role, field: str) -> bool:
        return any(g.covers(index, action) and g.allows_field(field) for g in role)

    return [f for f in fields if f.startswith("_") or all(in_role(role, f) for role in roles)]


def visible_documents(roles: Sequence[Role], index: str, documents: Iterable[Mapping[str, Any]],
                      action: str) -> list[Mapping[str, Any]]:
    """Document level security: in every role, a grant covering the index without a query, or
    one whose query matches the document."""
    def in_role(role: Role, doc: Mapping[str, Any]) -> bool:
        return any(g.covers(index, action) and (g.query is None or matches(g.query, doc)) for g in role)

    return [d for d in documents if all(in_role(role, d) for role in roles)]


def matches(query: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
    """The few query clauses the twin evaluates: match_all, term, terms, bool (must/filter/
    should/must_not). Anything else matches nothing (a twin limit, not Elasticsearch's)."""
    if not query or "match_all" in query:
        return True
    if "term" in query:
        field, value = next(iter(query["term"].items()))
        value = value.get("value") if isinstance(value, dict) else value
        return _field(doc, field) == value
    if "terms" in query:
        field, values = next(iter(query["terms"].items()))
        return _field(doc, field) in values
    if "bool" in query:
        clause = query["bool"]
        required = _clauses(clause.get("must")) + _clauses(clause.get("filter"))
        should = _clauses(clause.get("should"))
        return (all(matches(q, doc) for q in required)
                and not any(matches(q, doc) for q in _clauses(clause.get("must_not")))
                and (not should or any(matches(q, doc) for q in should)))
    return False


def _clauses(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _field(doc: Mapping[str, Any], path: str) -> Any:
    if path in doc:
        return doc[path]
    current: Any = doc
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def field_types(documents: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Dynamic mapping of the documents' fields: strings keyword (`@timestamp` date), numbers
    long or double, booleans boolean; objects are flattened to dotted names."""
    types: dict[str, str] = {}
    for doc in documents:
        for name, value in _flat(doc):
            types.setdefault(name, _type_of(name, value))
    return dict(sorted(types.items()))


def _flat(doc: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in doc.items():
        name = f"{prefix}{key}"
        items += _flat(value, f"{name}.") if isinstance(value, Mapping) else [(name, value)]
    return items


def _type_of(name: str, value: Any) -> str:
    if name == "@timestamp":
        return "date"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "keyword"
