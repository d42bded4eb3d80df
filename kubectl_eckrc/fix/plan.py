"""The repair plan: ordered changes built from the findings by pure planners.

`build_plan(snap, findings, options)` decides which actions the findings call for, asks each
action's planner for its changes (an already satisfied action yields none), and lists the
failing findings no action can repair as blockers with what a person must do. Nothing here
talks to a cluster: `apply.py` is the only writer.
"""

from __future__ import annotations

from collections.abc import Callable

from kubectl_eckrc.checks.registry import ACTIONS, ALL_CHECKS
from kubectl_eckrc.findings import Finding, Status
from kubectl_eckrc.fix.actions import (
    create_api_key,
    enable_rcs,
    expose_rcs,
    fix_server_name,
    mount_ca,
    register_remote,
    setup_signing,
    sync_ca,
    widen_key_access,
)
from kubectl_eckrc.fix.blockers import (
    blockers_of,
    certificate_model_note,
    eck_managed_blockers,
    reconcile_blockers,
    unrepaired,
)
from kubectl_eckrc.fix.model import Change, Plan
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

# The catalogue's order and implications (checks/registry.py ACTIONS).
ACTION_ORDER = tuple(a.name for a in ACTIONS)
IMPLIES = {a.name: a.implies for a in ACTIONS if a.implies}


Planner = Callable[[Snapshot, list[Finding], FixOptions], list[Change]]


def select_actions(findings: list[Finding], fixes: dict[str, str]) -> tuple[str, ...]:
    """Actions named by failing and warning findings, by skipped ones (their check could not run
    because another failed), plus what those imply. Selecting an action that turns out to be
    satisfied costs nothing: its planner returns no change."""
    wanted: set[str] = set()
    for f in findings:
        action = f.fix.action if f.fix else fixes.get(f.id, "")
        if action in ACTION_ORDER and f.status in (Status.FAIL, Status.WARN, Status.INFO, Status.SKIPPED):
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
    """action -> pure planner."""
    modules = (enable_rcs, expose_rcs, sync_ca, mount_ca, create_api_key, widen_key_access, setup_signing,
               register_remote, fix_server_name)
    return {m.ACTION: m.plan for m in modules}


def check_fixes() -> dict[str, str]:
    """check id -> fix action, from the catalogue (a skipped finding carries no FixRef)."""
    return {spec.id: spec.fix for spec in ALL_CHECKS if spec.fix}


def build_plan(
    snap: Snapshot, findings: list[Finding], options: FixOptions, heading: tuple[str, str]
) -> Plan:
    """The ordered plan for the alias in `options.scope.alias`. With a blocker (a failure no
    action covers) the plan holds no change at all: nothing is written while a person must act."""
    alias = options.scope.alias or ""
    fixes = check_fixes()
    actions = select_actions(findings, fixes)
    notes: list[str] = []
    migration = certificate_model_note(snap, findings, alias)
    if migration:
        notes.append(migration)
        actions = ACTION_ORDER
    managed = eck_managed_blockers(snap, findings, alias)
    if managed is not None:
        actions, notes = (), [f"alias {alias} is set up by ECK (spec.remoteClusters): fix writes nothing ECK "
                              "manages"]
    blockers = managed if managed is not None else blockers_of(snap, findings, alias,
                                                                migrating=bool(migration), fixes=fixes)
    blockers += [b for b in reconcile_blockers(snap) if b not in blockers]
    per_action: dict[str, list[Change]] = {}
    if not blockers and managed is None:
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
