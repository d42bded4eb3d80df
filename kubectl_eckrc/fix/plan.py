"""The repair plan: ordered changes built from the findings by pure planners.

`build_plan(snap, findings, options)` decides which actions the findings call for, asks each
action's planner for its changes (an already satisfied action yields none), and lists the
failing findings no action can repair as blockers with what a person must do. Nothing here
talks to a cluster: `apply.py` is the only writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubectl_eckrc.findings import Finding, Status
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

# Order matters: the remote must serve before anything points at it; the CA must exist before
# pods mount it; the key is in the keystore only after the local rollout; registration last.
ACTION_ORDER = (
    "enable-rcs",
    "expose-rcs",
    "sync-ca",
    "mount-ca",
    "create-api-key",
    "register-remote",
    "fix-server-name",
)

# Doing one action makes another necessary even while its check is still skipped.
IMPLIES = {
    "enable-rcs": ("expose-rcs", "register-remote"),
    "expose-rcs": ("register-remote",),
    "mount-ca": ("sync-ca",),
    "sync-ca": ("mount-ca",),
    "create-api-key": ("register-remote",),
}


@dataclass(frozen=True)
class Target:
    """The object a change writes."""

    side: str  # local | remote
    kind: str  # ConfigMap | Secret | Service | Elasticsearch | ClusterSettings | CrossClusterApiKey
    namespace: str
    name: str

    @property
    def label(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True)
class Change:
    """One write. `body` is the object (create), the patch (patch) or the request body
    (es-request). Placeholders resolved by apply.py: `credential_key` names the Secret data key
    that receives the API key created by an earlier es-request of the same action;
    `deferred` marks a value only known after earlier changes took effect."""

    action: str
    target: Target
    operation: str  # create | patch | es-request
    summary: str
    diff: str
    restarts: str = ""  # "" | local | remote: whose pods roll after this change
    body: Any = None
    patch_type: str = ""  # json | merge (patch only; never strategic on custom resources)
    method: str = ""  # es-request: HTTP method
    path: str = ""  # es-request: path
    credential_key: str = ""
    produces_api_key: bool = False
    deferred: str = ""  # "" | proxy-address

    @property
    def is_kube(self) -> bool:
        return self.operation in ("create", "patch")


@dataclass(frozen=True)
class Blocker:
    """A failing finding no action repairs, with what a person must do."""

    finding_id: str
    message: str
    todo: str


@dataclass(frozen=True)
class Plan:
    alias: str
    local: str  # "context namespace/es"
    remote: str
    actions: tuple[str, ...]  # actions the findings call for, in order
    changes: tuple[Change, ...]
    blockers: tuple[Blocker, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def restarts(self) -> tuple[str, ...]:
        return tuple(sorted({c.restarts for c in self.changes if c.restarts}))


Planner = Callable[[Snapshot, list[Finding], FixOptions], list[Change]]


def select_actions(findings: list[Finding], fixes: dict[str, str]) -> tuple[str, ...]:
    """Actions named by failing and warning findings, by skipped ones (their check could not run
    because another failed), plus what those imply. Selecting an action that turns out to be
    satisfied costs nothing: its planner returns no change."""
    wanted: set[str] = set()
    for f in findings:
        action = f.fix.action if f.fix else fixes.get(f.id, "")
        if action in ACTION_ORDER and f.status in (Status.FAIL, Status.WARN, Status.SKIPPED):
            wanted.add(action)
    frontier = list(wanted)
    while frontier:
        for implied in IMPLIES.get(frontier.pop(), ()):
            if implied not in wanted:
                wanted.add(implied)
                frontier.append(implied)
    return tuple(a for a in ACTION_ORDER if a in wanted)


def order_changes(per_action: dict[str, list[Change]]) -> tuple[Change, ...]:
    return tuple(c for a in ACTION_ORDER for c in per_action.get(a, []))


# --- building the plan ---------------------------------------------------------------------------


def planners() -> dict[str, Planner]:
    """action -> pure planner. Imported here, not at module level: the planners import
    `Change` from this module."""
    from kubectl_eckrc.fix.actions import (
        create_api_key,
        enable_rcs,
        expose_rcs,
        fix_server_name,
        mount_ca,
        register_remote,
        sync_ca,
    )

    modules = (enable_rcs, expose_rcs, sync_ca, mount_ca, create_api_key, register_remote, fix_server_name)
    return {m.ACTION: m.plan for m in modules}


# Checks the catalogue gives no fix action yet, but that an action repairs.
def check_fixes() -> dict[str, str]:
    """check id -> fix action, from the catalogue (a skipped finding carries no FixRef)."""
    from kubectl_eckrc.checks.registry import ALL_CHECKS

    return {spec.id: spec.fix for spec in ALL_CHECKS if spec.fix}


def build_plan(
    snap: Snapshot, findings: list[Finding], options: FixOptions, heading: tuple[str, str]
) -> Plan:
    """The ordered plan for the alias in `options.scope.alias`. With a blocker (a failure no
    action covers) the plan holds no change at all: nothing is written while a person must act."""
    from kubectl_eckrc.fix.blockers import blockers_of, certificate_model_note, reconcile_blockers, unrepaired

    alias = options.scope.alias or ""
    fixes = check_fixes()
    actions = select_actions(findings, fixes)
    notes: list[str] = []
    migration = certificate_model_note(snap, findings, alias)
    if migration:
        notes.append(migration)
        actions = ACTION_ORDER
    blockers = blockers_of(snap, findings, alias, migrating=bool(migration), fixes=fixes)
    blockers += [b for b in reconcile_blockers(snap) if b not in blockers]
    per_action: dict[str, list[Change]] = {}
    if not blockers:
        table = planners()
        for action in actions:
            per_action[action] = table[action](snap, findings, options)
        if per_action.get("register-remote"):
            per_action["fix-server-name"] = []  # register-remote already sets server_name
        if not any(per_action.values()):
            blockers = unrepaired(findings, alias)  # nothing to write, yet the link is broken
    return Plan(
        alias=alias,
        local=heading[0],
        remote=heading[1],
        actions=tuple(actions),
        changes=order_changes(per_action),
        blockers=tuple(blockers),
        notes=tuple(notes),
    )
