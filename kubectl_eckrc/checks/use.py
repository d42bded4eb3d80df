"""5xx, proof of use: what a cross-cluster search on `--index PATTERN` would actually get.

doctor --index reads `<alias>:<pattern>/_field_caps` and `_resolve/index/<alias>:<pattern>`
through the link (as the tool's user, or `--as-user` through run_as) and, on the remote, which
indices exist. Effective rights across clusters are the cross-cluster API key's `access`
intersected with the local user's `remote_indices` for the alias: this module tells which of
the two hides what, and names the change that would grant it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from kubectl_eckrc.checks.spec import (
    API_KEY_LINK,
    ERROR,
    LINK,
    CheckSpec,
    NotEvaluated,
    check,
    failed,
    need,
    not_applicable,
    passed,
    warned,
)
from kubectl_eckrc.findings import Status, Verdict
from kubectl_eckrc.key_access import (
    KeyAccess,
    existing,
    hidden_by_key,
    key_access,
    patterns_to_grant,
    refusal,
    refused_by_key,
    visible,
    with_access,
)
from kubectl_eckrc.snapshot import Snapshot, Unavailable, UseProbe

SEARCH_PRIVILEGES = ["read", "read_cross_cluster", "view_index_metadata"]
NO_REMOTE_INDICES = "no remote indices privileges apply"
RUN_AS_DENIED = "is unauthorized to run as"
WIDEN = "widenKeyAccess"


@dataclass(frozen=True)
class Outcome:
    """What one pattern got: a status, one sentence, evidence, and what would grant the rest."""

    status: Status
    message: str
    evidence: dict[str, Any]
    hint: str = ""


# No `requires`: without --index the check does not apply whatever the link's state, and through a
# link that is down its reads fail with the reason (not evaluated).
@check("ECKRC508", severity=ERROR, side=LINK, covers=("F16",), applies_to=API_KEY_LINK,
       fix="widen-key-access")
def search_reaches(snap: Snapshot, alias: str) -> Verdict:
    """A cross-cluster search on the --index patterns reaches their indices

    With `--index PATTERN` (repeatable; `--as-user NAME` to read as that local user through
    run_as) doctor asks the local cluster, read-only, for `<alias>:<pattern>/_field_caps` and
    `_resolve/index/<alias>:<pattern>`, and the remote which indices match the pattern. A search
    sees an index only when both the API key's `access.search` and the user's `remote_indices`
    for the alias grant it. Wildcards silently leave out what is not granted (an empty result,
    no error); explicit names fail with `security_exception`. A user whose roles have no
    `remote_indices` for the alias fails before anything is sent: `no remote indices privileges
    apply for the target cluster`.

    The finding lists the indices a search would get, those the link hides and by which of the
    two, and the change that grants them: the key's access (`PUT
    /_security/cross_cluster/api_key/<id>`, which `kubectl eckrc fix --index PATTERN
    --widen-key-access` makes, shown as a diff first) or the role's `remote_indices` (fix does
    not change local roles: it lists that change for a person to make).

    On a real cluster: field and document level security of the key or the role still apply to
    what a search returns; doctor names the key entries that carry them. A search (not
    field_caps) with `skip_unavailable: true` would not fail but silently return nothing from
    this remote.

    Fix by hand: widen the key's `access.search[].names`, or add to the user's role
    `remote_indices: [{clusters: [<alias>], names: [<pattern>], privileges: [read,
    read_cross_cluster, view_index_metadata]}]`.
    """
    uses = [u for u in snap.uses if u.alias == alias]
    if not uses:
        return not_applicable("no --index given")
    access = key_access(snap, alias)
    outcomes = [_outcome(use, access) for use in uses]
    worst = max(outcomes, key=lambda o: _RANK[o.status])
    per_pattern = {u.pattern: o.evidence for u, o in zip(uses, outcomes, strict=True)}
    evidence: dict[str, Any] = {"patterns": per_pattern}
    if uses[0].as_user:
        evidence["user"] = uses[0].as_user
    grant = patterns_to_grant(snap, alias, access) if access is not None else []
    if grant:
        evidence[WIDEN] = grant  # what fix --widen-key-access would add
    message = "; ".join(o.message for o in outcomes)
    if worst.status is Status.FAIL:
        return failed(message, _hints(outcomes), **evidence)
    if worst.status is Status.WARN:
        return warned(message, _hints(outcomes), **evidence)
    return passed(message, **evidence)


_RANK = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


def _hints(outcomes: list[Outcome]) -> str:
    return "; ".join(dict.fromkeys(o.hint for o in outcomes if o.hint))


def _outcome(use: UseProbe, access: KeyAccess | None) -> Outcome:
    target = f"{use.alias}:{use.pattern}"
    caps = need(use.field_caps, f"{target}/_field_caps")
    if refusal(use):
        return _refused(use, access, caps)
    seen = visible(use) or []
    there = existing(use)
    hidden = sorted(set(there or []) - set(seen))
    evidence: dict[str, Any] = {"visible": seen, "hidden": hidden if there is not None else "unknown"}
    if hidden:
        return _hidden(use, access, seen, hidden, evidence)
    if not seen:
        if there is None:
            return Outcome(Status.WARN, f"a search on {target} gets no index", evidence,
                           "pass --remote-context to tell whether indices exist on the remote")
        return Outcome(Status.WARN, f"no index on the remote matches {use.pattern}", evidence,
                       f"check the pattern {use.pattern}")
    restricted = [n for n in (access.restricted if access else []) if any(fnmatchcase(i, n) for i in seen)]
    note = f" (the key limits fields or documents of {', '.join(restricted)})" if restricted else ""
    return Outcome(Status.PASS, f"a search on {target} reaches {_count(seen)}{note}", evidence)


def _count(indices: list[str]) -> str:
    shown = ", ".join(indices[:3]) + (f" and {len(indices) - 3} more" if len(indices) > 3 else "")
    return f"{len(indices)} {'index' if len(indices) == 1 else 'indices'} ({shown})"


def _hidden(use: UseProbe, access: KeyAccess | None, visible: list[str], hidden: list[str],
            evidence: dict[str, Any]) -> Outcome:
    target = f"{use.alias}:{use.pattern}"
    status = Status.WARN if visible else Status.FAIL
    got = f"reaches {_count(visible)}" if visible else "gets nothing"
    if access is None:
        return Outcome(status, f"a search on {target} {got}; {_count(hidden)} hidden by the key's access or "
                       "the local role", evidence, "doctor could not read the key's access on the remote")
    by_key = hidden_by_key(use, access)
    evidence.update(keyId=access.key_id, keyAccess=access.search_names)
    if by_key:
        evidence["hiddenByKey"] = by_key
        granted = ", ".join(access.search_names) or "nothing"
        return Outcome(status, f"a search on {target} {got}; {_count(by_key)} hidden by the key's access "
                       f"(API key {access.key_id} grants search on {granted})", evidence,
                       _key_change(access, use.pattern))
    roles = _user_roles(use)
    evidence["hiddenByRole"] = hidden
    return Outcome(status, f"a search on {target} {got}; {_count(hidden)} hidden by the remote_indices of "
                   f"{_whose(use, roles)}", evidence, _role_change(use, roles))


def _key_change(access: KeyAccess, pattern: str) -> str:
    body = json.dumps({"access": with_access(access.access, "search", [pattern])})
    return (f"widen the key's access on the remote: PUT /_security/cross_cluster/api_key/{access.key_id} "
            f"{body} (kubectl eckrc fix --index {shlex.quote(pattern)} --widen-key-access does it)")


def _user_roles(use: UseProbe) -> list[str] | None:
    """The --as-user's roles, when doctor read the user (None for the tool's own user)."""
    if not use.as_user or not isinstance(use.user, dict):
        return None
    entry = use.user.get(use.as_user) or {}
    return [str(r) for r in entry.get("roles") or []]


def _whose(use: UseProbe, roles: list[str] | None) -> str:
    if not use.as_user:
        return "the tool's user"
    return f"user {use.as_user}" + (f" (roles {', '.join(roles)})" if roles else "")


def _role_change(use: UseProbe, roles: list[str] | None) -> str:
    entry = {"clusters": [use.alias], "names": [use.pattern], "privileges": SEARCH_PRIVILEGES}
    role = roles[0] if roles else "<role>"
    return (f"add to role {role}: remote_indices {json.dumps([entry])} "
            f"(POST /_security/role/{role} with its other privileges kept)")


def _refused(use: UseProbe, access: KeyAccess | None, caps: dict[str, Any]) -> Outcome:
    """field_caps was refused: the same refusal a search would meet."""
    reason = refusal(use)
    target = f"{use.alias}:{use.pattern}"
    evidence: dict[str, Any] = {"status": caps.get("status"), "error": reason}
    if RUN_AS_DENIED in reason:
        exists = not isinstance(use.user, Unavailable)
        raise NotEvaluated(f"cannot read as {use.as_user}: "
                           + ("the tool's user may not run as that user" if exists else
                              f"there is no user {use.as_user} on the local cluster"),
                           f"the run_as privilege for {use.as_user} on the tool's user")
    roles = _user_roles(use)
    if NO_REMOTE_INDICES in reason:
        evidence["missingPrivilege"] = "remote_indices"
        return Outcome(Status.FAIL, f"a search on {target} is refused: {_whose(use, roles)} has no "
                       f"remote_indices privilege for {use.alias}", evidence, _role_change(use, roles))
    if access is not None and refused_by_key(use, access):
        granted = ", ".join(access.search_names) or "nothing"
        return Outcome(Status.FAIL, f"a search on {target} is refused: API key {access.key_id} grants search "
                       f"on {granted}", evidence, _key_change(access, use.pattern))
    return Outcome(Status.FAIL, f"a search on {target} is refused: {reason}", evidence,
                   "the key's access and the user's remote_indices must both grant the index")


CHECKS: list[CheckSpec] = [search_reaches]
