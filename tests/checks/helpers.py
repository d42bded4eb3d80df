"""Run the engine over a builder's snapshot and pick one finding."""

from __future__ import annotations

from kubectl_eckrc.checks.engine import run_checks
from kubectl_eckrc.findings import Finding, Status
from kubectl_eckrc.snapshot import Snapshot
from tests.snapshot_builder import ALIAS, PairBuilder


def findings(source: PairBuilder | Snapshot) -> list[Finding]:
    snap = source.build() if isinstance(source, PairBuilder) else source
    return run_checks(snap)


def outcome(source: PairBuilder | Snapshot, check_id: str, alias: str | None = ALIAS) -> Finding:
    """The finding of one check (for a link check, of `alias`)."""
    for finding in findings(source):
        if finding.id == check_id and (finding.alias in (alias, None)):
            return finding
    raise AssertionError(f"no finding {check_id} for {alias}")


def failing(source: PairBuilder | Snapshot) -> list[str]:
    return [f.id for f in findings(source) if f.status in (Status.FAIL, Status.WARN, Status.INFO)]


def first_failure(source: PairBuilder | Snapshot) -> Finding:
    return next(f for f in findings(source) if f.status is Status.FAIL)
