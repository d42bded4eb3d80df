"""5xx, proof of use for cross-cluster replication: may `--follow INDEX` be followed through a link.

Following a remote leader index through an API-key link needs rights on both sides: the
cross-cluster API key's `access.replication` on the remote, and on the local side the following
user's `manage_ccr`, `remote_indices` replication privileges for the alias and the follower
index privileges. This module judges them from what doctor read (the key's access, the local
roles, the --as-user's role names) and names what is missing with the change that grants it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from kubectl_eckrc.checks import reads
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
)
from kubectl_eckrc.findings import Verdict
from kubectl_eckrc.key_access import (
    KeyAccess,
    grant_covers,
    key_access,
    remote_index_grants,
    replication_names,
    with_access,
)
from kubectl_eckrc.snapshot import FollowProbe, Snapshot, Unavailable

CLUSTER_PRIVILEGE = "manage_ccr"
REMOTE_PRIVILEGES = ["cross_cluster_replication", "cross_cluster_replication_internal"]
FOLLOWER_PRIVILEGES = ["monitor", "read", "write", "manage_follow_index"]
# Privileges that include others (IndexPrivilege's automata: `manage` is indices:monitor/* and
# indices:admin/*, and every action of `manage_follow_index` is an indices:admin/* one).
IMPLIED_BY = {"monitor": {"manage"}, "manage_follow_index": {"manage"}}


@dataclass
class Missing:
    """What the following user's roles lack, per kind of grant."""

    cluster: list[str] = field(default_factory=list)
    remote_indices: list[str] = field(default_factory=list)
    indices: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cluster or self.remote_indices or self.indices)


@check("ECKRC509", severity=ERROR, side=LINK, applies_to=API_KEY_LINK)
def follow_allowed(snap: Snapshot, alias: str) -> Verdict:
    """The --follow leader indices may be followed through the link

    With `--follow INDEX` (repeatable; `--as-user NAME` names the local user who would follow)
    doctor judges, read-only, whether that user may create a follower index of the same name
    replicating `<alias>:INDEX`. Through an API-key link this needs, on the remote, the
    cross-cluster API key's `access.replication` naming the leader index (a key with `search`
    access only cannot replicate); on the local side, the user's roles need the cluster
    privilege `manage_ccr`, `remote_indices` for the alias with `cross_cluster_replication` and
    `cross_cluster_replication_internal` on the leader index, and `monitor`, `read`, `write` and
    `manage_follow_index` on the follower index. The finding names what is missing and the
    key or role change that grants it.

    On a real cluster: judged from the key's `access` (GET _security/api_key on the remote),
    the local roles (GET _security/role, native realm only) and the user's role names (GET
    _security/user); without `--as-user` only the key is judged. Elastic documents these
    privileges in "Configure roles and users" for remote clusters with API keys
    (elastic.co/docs/deploy-manage/remote-clusters/remote-clusters-api-key) and "Configure
    privileges for cross-cluster replication". Licence, soft deletes and the follow itself are
    not tried.

    Fix by hand: `PUT /_security/cross_cluster/api_key/<id>` with the key's access plus
    `replication: [{names: [<leader>]}]`; add to the user's role `cluster: [manage_ccr]`,
    `remote_indices: [{clusters: [<alias>], names: [<leader>], privileges:
    [cross_cluster_replication, cross_cluster_replication_internal]}]` and `indices: [{names:
    [<leader>], privileges: [monitor, read, write, manage_follow_index]}]`.
    """
    follow = snap.follow
    if follow is None or not follow.leaders:
        return not_applicable("no --follow given")
    access = key_access(snap, alias)
    if access is None:
        raise NotEvaluated("cannot read the cross-cluster API key's access on the remote",
                           "pass --remote-context (and --remote-namespace) to read the key")
    granted = replication_names(access)
    unreplicated = [i for i in follow.leaders if not any(fnmatchcase(i, n) for n in granted)]
    problems: list[str] = []
    hints: list[str] = []
    evidence: dict[str, Any] = {"leaders": follow.leaders, "keyId": access.key_id, "keyReplication": granted}
    if unreplicated:
        evidence["notReplicableByKey"] = unreplicated
        problems.append(f"API key {access.key_id} grants no replication access to {', '.join(unreplicated)} "
                        f"(replication on {', '.join(granted) or 'nothing'})")
        hints.append(_key_change(access, unreplicated))
    if follow.as_user:
        roles = _user_roles(follow)
        missing = _missing(snap, alias, follow.leaders, roles)
        evidence.update(user=follow.as_user, roles=roles)
        if missing:
            evidence["missing"] = {k: v for k, v in vars(missing).items() if v}
            problems.append(f"user {follow.as_user} (roles {', '.join(roles) or 'none'}) lacks "
                            + _names(missing))
            hints.append(_role_change(alias, follow.leaders, roles, missing))
    if problems:
        return failed(f"following {_leaders(alias, follow)} is refused: " + "; ".join(problems),
                      "; ".join(hints), **evidence)
    whose = (f"user {follow.as_user}" if follow.as_user
             else "the key (pass --as-user NAME to judge a user's roles)")
    return passed(f"{_leaders(alias, follow)} may be followed: {whose} grants replication", **evidence)


def _leaders(alias: str, follow: FollowProbe) -> str:
    return ", ".join(f"{alias}:{i}" for i in follow.leaders)


def _key_change(access: KeyAccess, leaders: list[str]) -> str:
    body = json.dumps({"access": with_access(access.access, "replication", leaders)})
    return ("add replication access on the remote: "
            f"PUT /_security/cross_cluster/api_key/{access.key_id} {body}")


def _user_roles(follow: FollowProbe) -> list[str]:
    found = not (isinstance(follow.user, Unavailable) and follow.user.kind == "not-found")
    user = need(follow.user, f"local user {follow.as_user} (GET _security/user)") if found else {}
    entry = user.get(follow.as_user) if isinstance(user, dict) else None
    if not isinstance(entry, dict):
        raise NotEvaluated(f"there is no user {follow.as_user} on the local cluster",
                           "pass --as-user with an existing local user")
    return [str(r) for r in entry.get("roles") or []]


def _missing(snap: Snapshot, alias: str, leaders: list[str], roles: list[str]) -> Missing:
    defined = need(reads.es_api(snap.local).roles, "local roles (GET _security/role)") or {}
    mine = [defined[r] for r in roles if isinstance(defined.get(r), dict)]
    missing = Missing()
    if not any(_grants(role.get("cluster"), CLUSTER_PRIVILEGE) for role in mine):
        missing.cluster.append(CLUSTER_PRIVILEGE)
    remote = remote_index_grants(mine, alias)
    local = [g for role in mine for g in role.get("indices") or []]
    missing.remote_indices = _lacking(remote, leaders, REMOTE_PRIVILEGES)
    missing.indices = _lacking(local, leaders, FOLLOWER_PRIVILEGES)
    return missing


def _lacking(grants: list[dict[str, Any]], indices: list[str], privileges: list[str]) -> list[str]:
    """The privileges some index is not granted by any of the grants."""
    def granted(privilege: str, index: str) -> bool:
        return any(grant_covers(g, index) and _grants(g.get("privileges"), privilege) for g in grants)

    return [p for p in privileges if not all(granted(p, i) for i in indices)]


def _grants(held: Any, privilege: str) -> bool:
    have = set(held or [])
    return bool(have & ({privilege, "all"} | IMPLIED_BY.get(privilege, set())))


def _names(missing: Missing) -> str:
    parts = []
    if missing.cluster:
        parts.append(f"cluster privilege {', '.join(missing.cluster)}")
    if missing.remote_indices:
        parts.append(f"remote_indices privileges {', '.join(missing.remote_indices)}")
    if missing.indices:
        parts.append(f"follower index privileges {', '.join(missing.indices)}")
    return " and ".join(parts)


def _role_change(alias: str, leaders: list[str], roles: list[str], missing: Missing) -> str:
    change: dict[str, Any] = {}
    if missing.cluster:
        change["cluster"] = [CLUSTER_PRIVILEGE]
    if missing.remote_indices:
        change["remote_indices"] = [{"clusters": [alias], "names": leaders, "privileges": REMOTE_PRIVILEGES}]
    if missing.indices:
        change["indices"] = [{"names": leaders, "privileges": FOLLOWER_PRIVILEGES}]
    role = roles[0] if roles else "<role>"
    return (f"add to role {role}: {json.dumps(change)} "
            f"(POST /_security/role/{role} with its other privileges kept)")


CHECKS: list[CheckSpec] = [follow_allowed]
