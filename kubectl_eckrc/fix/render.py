"""The plan and the apply results, as a table for people or one JSON document (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubectl_eckrc.fix.model import Change, DryRun, Outcome, Plan

RESTART_TEXT = {"": "no restart", "local": "rolls the local pods", "remote": "rolls the remote pods"}


def _indent(text: str, pad: str) -> str:
    return "".join(pad + line + "\n" for line in text.rstrip("\n").splitlines())


@dataclass(frozen=True)
class Widths:
    """Column widths from the plan's own names, so that long names keep the rows aligned."""

    action: int
    label: int
    operation: int

    @staticmethod
    def of(plan: Plan) -> Widths:
        changes = plan.changes
        return Widths(max([15, *(len(a) for a in plan.actions), *(len(c.action) for c in changes)]),
                      max([40, *(len(c.target.label) for c in changes)]),
                      max([10, *(len(c.operation) for c in changes)]))


def _change_lines(step: int | str, change: Change, widths: Widths) -> str:
    head = (
        f"  {step:<2} {change.action:<{widths.action}} {change.target.side:<6}  "
        f"{change.target.label:<{widths.label}} "
        f"{change.operation:<{widths.operation}} {RESTART_TEXT.get(change.restarts, change.restarts)}\n"
    )
    body = _indent(change.summary, "       ")
    if change.diff:
        body += _indent(change.diff, "       ")
    return head + body


def plan_table(plan: Plan, dry: DryRun | None) -> str:
    out = [f"Plan for {plan.alias}   local {plan.local}  <-  remote {plan.remote}\n\n"]
    if plan.blockers:
        out.append("Cannot repair automatically; a person must act first:\n")
        for b in plan.blockers:
            out.append(f"  {b.finding_id}  {b.message}\n      todo: {b.todo}\n")
        out.append("\n")
    for note in plan.notes:
        out.append(f"note: {note}\n")
    if not plan.changes and not plan.blockers:
        out.append("Nothing to change: every action is already satisfied.\n")
    else:
        out += _action_lines(plan)
    if plan.restarts:
        out.append("\nRestarts: " + ", ".join(RESTART_TEXT[r] for r in plan.restarts) + "\n")
    if dry is not None and plan.changes:
        requests = sum(1 for c in plan.changes if not c.is_kube)
        extra = (
            f" ({requests} Elasticsearch requests have no dry run; they run only with --apply)"
            if requests
            else ""
        )
        noun = "object" if dry.accepted == 1 else "objects"
        out.append(f"\nServer-side dry run: {dry.accepted} {noun} accepted.{extra}\n")
        for label, reason in dry.rejected:
            out.append(f"  rejected: {label}: {reason}\n")
    return "".join(out)


def steps(plan: Plan) -> list[tuple[str, list[Change]]]:
    """Every action apply will run, numbered as apply numbers them, each with its changes: an
    action with none now is still run (and re-planned) after the earlier writes."""
    actions = list(plan.actions) + [c.action for c in plan.changes if c.action not in plan.actions]
    ordered = list(dict.fromkeys(actions))
    return [(action, [c for c in plan.changes if c.action == action]) for action in ordered]


def _action_lines(plan: Plan) -> list[str]:
    widths = Widths.of(plan)
    out = []
    for number, (action, changes) in enumerate(steps(plan), 1):
        if not changes:
            out.append(f"  {number:<2} {action:<{widths.action}} nothing to change now; "
                       "checked again after the steps before it\n")
        for index, change in enumerate(changes):
            out.append(_change_lines(number if index == 0 else "", change, widths))
    return out


def outcome_line(outcome: Outcome, step: int, unicode: bool) -> str:
    ok, bad, skip = ("✔", "✖", "-") if unicode else ("OK", "XX", "--")
    mark = {"applied": ok, "unchanged": ok, "failed": bad}.get(outcome.status, skip)
    what = ", ".join(outcome.objects) or ("already satisfied" if outcome.status == "unchanged" else "")
    text = f"{mark} {step} {outcome.action:<15} {outcome.status:<9} {what}"
    return text + (f"\n      {outcome.message}" if outcome.message else "")


def _change_doc(step: int, change: Change) -> dict[str, Any]:
    return {
        "step": step,
        "action": change.action,
        "side": change.target.side,
        "object": {
            "kind": change.target.kind,
            "namespace": change.target.namespace,
            "name": change.target.name,
        },
        "operation": change.operation,
        "summary": change.summary,
        "restarts": change.restarts or None,
        "diff": change.diff,
    }


def document(
    plan: Plan,
    dry: DryRun | None,
    outcomes: list[Outcome] | None,
    connected: bool | None,
    exit_code: int,
    resume: str = "",
) -> str:
    doc: dict[str, Any] = {
        "schemaVersion": 1,
        "alias": plan.alias,
        "local": plan.local,
        "remote": plan.remote,
        "plan": [_change_doc(number, c)
                 for number, (_, changes) in enumerate(steps(plan), 1) for c in changes],
        "blockers": [{"id": b.finding_id, "message": b.message, "todo": b.todo} for b in plan.blockers],
        "notes": list(plan.notes),
        "dryRun": None
        if dry is None
        else {"accepted": dry.accepted, "rejected": [{"object": o, "reason": r} for o, r in dry.rejected]},
        "applied": outcomes is not None,
        "actions": [
            {
                "action": o.action,
                "changed": o.changed,
                "objects": o.objects,
                "outcome": o.status,
                "message": o.message,
            }
            for o in outcomes or []
        ],
        "connected": connected,
        "resume": resume or None,
        "exitCode": exit_code,
    }
    return json.dumps(doc, indent=2)
