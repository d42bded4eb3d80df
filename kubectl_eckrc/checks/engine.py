"""Runs the catalogue over a snapshot and turns verdicts into findings and a report.

Side checks run once, link checks once per alias in scope. Checks run in dependency order
(`requires`), findings come out in id order. A check whose requirement failed is skipped
with the id that failed, so the first failure a reader meets is the cause. A requirement
that could not be evaluated does not skip its dependants: they run and either find their own
evidence (the TLS probe needs no remote access) or are not evaluated for the same reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from kubectl_eckrc import eck, links
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.registry import ALL_CHECKS
from kubectl_eckrc.checks.spec import CheckSpec, NotEvaluated, not_applicable, not_evaluated
from kubectl_eckrc.findings import (
    INTERNAL_ERROR,
    CheckSide,
    Finding,
    FixRef,
    Report,
    Severity,
    Status,
    Verdict,
)
from kubectl_eckrc.snapshot import Side, Snapshot, Unavailable

Key = tuple[str, str]  # (check id, alias or "" for side checks)


def run_checks(snap: Snapshot, only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[Finding]:
    selected = [spec for spec in ALL_CHECKS if _selected(spec.id, only, skip)]
    aliases = list(snap.aliases) or [""]  # no alias: link checks run once and ECKRC501 says why
    outcomes: dict[Key, Finding] = {}
    for spec in _dependency_order(selected):
        for alias in aliases if spec.side is CheckSide.LINK else [""]:
            outcomes[(spec.id, alias)] = _evaluate(spec, snap, alias, outcomes)
    order = {alias: i for i, alias in enumerate(aliases)}
    return sorted(outcomes.values(), key=lambda f: (f.id, order.get(f.alias or "", 0)))


def needs_link_reads(only: Sequence[str], skip: Sequence[str]) -> bool:
    """Whether the selected checks read a link (TLS probe, `_resolve/cluster`): the reads a
    black-holed address holds up for the whole --timeout. Only link checks read them."""
    return any(spec.side is CheckSide.LINK for spec in ALL_CHECKS if _selected(spec.id, only, skip))


def _selected(check_id: str, only: Sequence[str], skip: Sequence[str]) -> bool:
    def matches(patterns: Sequence[str]) -> bool:
        return any(fnmatchcase(check_id.upper(), p.upper()) for p in patterns)

    return (not only or matches(only)) and not matches(skip)


def _dependency_order(specs: list[CheckSpec]) -> list[CheckSpec]:
    """Id order, except that a check comes after everything it requires."""
    by_id = {s.id: s for s in specs}
    done: dict[str, CheckSpec] = {}

    def visit(spec: CheckSpec, path: tuple[str, ...]) -> None:
        if spec.id in done:
            return
        if spec.id in path:
            raise ValueError(f"requires cycle: {' -> '.join((*path, spec.id))}")
        for req in spec.requires:
            if req in by_id:
                visit(by_id[req], (*path, spec.id))
        done[spec.id] = spec

    for spec in specs:
        visit(spec, ())
    return list(done.values())


def _blocking(spec: CheckSpec, alias: str, outcomes: dict[Key, Finding]) -> str:
    """'skipped: <id> failed' when a requirement failed or was itself skipped, else ''."""
    for req in spec.requires:
        outcome = outcomes.get((req, alias)) or outcomes.get((req, ""))
        if outcome is None:
            continue  # filtered out by --only/--skip: the check stands on its own evidence
        if outcome.status is Status.FAIL:
            return f"skipped: {req} failed"
        if outcome.status is Status.SKIPPED:
            return outcome.message  # the root cause, not the chain that led here
    return ""


def _evaluate(spec: CheckSpec, snap: Snapshot, alias: str, outcomes: dict[Key, Finding]) -> Finding:
    blocked = _blocking(spec, alias, outcomes)
    verdict = Verdict(Status.SKIPPED, blocked) if blocked else _call(spec, snap, alias)
    return _finding(spec, verdict, alias, snap)


def _call(spec: CheckSpec, snap: Snapshot, alias: str) -> Verdict:
    try:
        if not _applies(spec, snap, alias):
            assert spec.applies_to is not None
            return not_applicable(spec.applies_to.otherwise)
        return spec(snap, alias) if spec.side is CheckSide.LINK else spec(snap)
    except NotEvaluated as missing:
        return not_evaluated(missing.reason, missing.permission, missing.cause)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
        # never a silent pass: the evidence key makes the run exit 3 (Report.exit_code)
        message = " ".join(f"internal error in {spec.id}: {type(exc).__name__}: {exc}".split())
        return Verdict(Status.NOT_EVALUATED, message[:300], {INTERNAL_ERROR: type(exc).__name__})


def _applies(spec: CheckSpec, snap: Snapshot, alias: str) -> bool:
    """A link check concerns its alias's model; a side check concerns the models of the links
    in scope (no link yet: the API-key model, the one to set up). NotEvaluated when the link's
    model cannot be told (cluster settings unreadable)."""
    if spec.applies_to is None:
        return True
    if spec.side is CheckSide.LINK:
        return reads.link(snap, alias).model == spec.applies_to.model
    return spec.applies_to.model in links.models_in_scope(snap)


def _finding(spec: CheckSpec, verdict: Verdict, alias: str, snap: Snapshot) -> Finding:
    status = verdict.status
    if status is Status.FAIL and spec.severity is not Severity.ERROR:
        status = Status.WARN if spec.severity is Severity.WARNING else Status.INFO
    fix = None
    if spec.fix and status in (Status.FAIL, Status.WARN, Status.INFO):
        fix = FixRef(spec.fix, _fix_command(alias, snap))
    managed = _eck_managed(snap, alias)
    if managed is not None:
        verdict = _with_eck_statement(verdict, managed.statement(spec.id), status)
        fix = None  # fix writes nothing ECK manages (fix/blockers.py says what to change instead)
    return Finding(
        id=spec.id,
        title=spec.title,
        severity=spec.severity,
        status=status,
        side=spec.side,
        alias=alias or None,
        message=verdict.message,
        evidence=dict(verdict.evidence),
        hint=verdict.hint,
        fix=fix,
        doc=spec.doc_ref,
        permission=verdict.permission,
        cause=verdict.cause,
    )


def _eck_managed(snap: Snapshot, alias: str) -> links.EckRemote | None:
    """The spec.remoteClusters entry a finding concerns: its alias's, or for a side check the one
    entry behind every alias in scope."""
    return links.eck_remote(snap, alias) if alias else links.scope_eck_remote(snap)


def _with_eck_statement(verdict: Verdict, statement: str, status: Status) -> Verdict:
    """Every finding on an ECK-managed link says what ECK owns; a problem says it in its text."""
    evidence = {**verdict.evidence, "managedByEck": statement}
    if status in (Status.PASS, Status.NOT_APPLICABLE):
        return dataclasses.replace(verdict, evidence=evidence)
    hint = f"{statement}. {verdict.hint}" if verdict.hint else statement
    return dataclasses.replace(verdict, evidence=evidence, hint=hint)


def _fix_command(alias: str, snap: Snapshot) -> str:
    if not alias and len(snap.aliases) == 1:
        alias = snap.aliases[0]
    return f"kubectl eckrc fix --alias {alias}" if alias else "kubectl eckrc fix"


# --- report -------------------------------------------------------------------------------------


def build_report(snap: Snapshot, findings: list[Finding]) -> Report:
    return Report(
        tool_version=snap.tool_version,
        source=snap.source,
        local=side_header(snap.local),
        remote=side_header(snap.remote),
        links=_link_headers(snap),
        findings=list(findings),
        taken_at=snap.taken_at,
    )


def _link_headers(snap: Snapshot) -> list[dict[str, Any]]:
    unreadable = links.settings_readable(snap) is not None
    if unreadable and not snap.aliases:
        return [{"alias": "", "model": "unknown", "mode": "unknown", "proxy_address": "", "server_name": "",
                 "skip_unavailable": None, "registered": None}]
    headers = []
    for link in links.configured_links(snap, snap.aliases):
        header = links.link_header(link)
        if unreadable and not link.registered:
            header.update(mode="unknown", model="unknown", registered=None)
        headers.append(header)
    return headers


def side_header(side: Side | Unavailable) -> dict[str, str]:
    if isinstance(side, Unavailable):
        return {"context": "", "namespace": "", "elasticsearch": "", "version": "", "eck": "",
                "unavailable": side.reason}
    return {
        "context": side.context,
        "namespace": side.namespace,
        "elasticsearch": side.es_name,
        "version": eck.es_version(side) or "",
        "eck": eck.eck_version(side) or "",
    }
