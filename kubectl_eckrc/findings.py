"""Findings: what a check concluded, and the report that gathers them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

INTERNAL_ERROR = "internal_error"  # evidence key of a check that raised (exit 3)


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"  # an info-severity check that did not pass: worth knowing, never a warning
    SKIPPED = "skipped"  # a check it requires failed
    NOT_APPLICABLE = "not-applicable"  # the check concerns the other link model (never a pass)
    NOT_EVALUATED = "not-evaluated"  # its evidence could not be read (never a pass)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class CheckSide(StrEnum):
    LOCAL = "local"
    REMOTE = "remote"
    LINK = "link"


@dataclass(frozen=True)
class Verdict:
    """What one check function returns for one subject (a side, or one alias)."""

    status: Status
    message: str  # one line, concrete: what is true or wrong
    evidence: dict[str, Any] = field(default_factory=dict)
    hint: str = ""  # the cause, when failing
    permission: str = ""  # for not-evaluated: the RBAC rule, privilege or flag that lets it run
    cause: str = ""  # for not-evaluated: the failed read behind it (an Unavailable's reason)


@dataclass(frozen=True)
class FixRef:
    action: str  # a fix action name of product.md, e.g. "sync-ca"
    command: str  # the command a user runs, e.g. "kubectl eckrc fix --alias remote-es"


@dataclass(frozen=True)
class Finding:
    id: str
    title: str
    severity: Severity
    status: Status
    side: CheckSide
    alias: str | None
    message: str
    evidence: dict[str, Any]
    hint: str
    fix: FixRef | None
    doc: str  # versioned URL of the check's section of docs/checks.md
    permission: str = ""
    cause: str = ""  # for not-evaluated: the failed read behind it, shared by the checks it holds back
    # --ignore / --ignore-file: the reason ("" when none was given); None when not suppressed.
    # A suppressed finding keeps its status and is shown as suppressed; it does not set the exit code.
    suppressed: str | None = None

    @property
    def counts(self) -> bool:
        """Whether it counts toward the summary's failed/warnings and the exit code."""
        return self.suppressed is None


@dataclass(frozen=True)
class Summary:
    passed: int
    failed: int
    warnings: int
    skipped: int
    not_evaluated: int
    not_applicable: int = 0
    info: int = 0
    suppressed: int = 0


@dataclass(frozen=True)
class Report:
    """Everything a renderer needs. The exit code is decided here, never by a renderer."""

    tool_version: str
    source: str  # live | bundle | eck-diagnostics
    local: dict[str, Any]  # context, namespace, elasticsearch, version, eck
    remote: dict[str, Any]
    links: list[dict[str, Any]]  # alias, mode, proxy_address, server_name
    findings: list[Finding]
    taken_at: str
    fail_on: str = "error"  # error | warning: with "warning", a warning fails the run too (exit 1)

    @property
    def summary(self) -> Summary:
        count = {s: 0 for s in Status}
        for f in self.findings:
            if f.counts:
                count[f.status] += 1
        return Summary(
            passed=count[Status.PASS],
            failed=count[Status.FAIL],
            warnings=count[Status.WARN],
            info=count[Status.INFO],
            suppressed=sum(1 for f in self.findings if not f.counts),
            skipped=count[Status.SKIPPED],
            not_evaluated=count[Status.NOT_EVALUATED],
            not_applicable=count[Status.NOT_APPLICABLE],
        )

    @property
    def crashed(self) -> list[Finding]:
        """Checks that raised (a bug, or input they could not read): never a pass."""
        return [f for f in self.findings if INTERNAL_ERROR in f.evidence]

    @property
    def exit_code(self) -> int:
        """0 no error-severity failure, 1 error failures (or warnings with fail_on "warning"),
        3 nothing failed but a prerequisite could not be evaluated (cluster or API unreachable, forbidden)."""
        counted = [f for f in self.findings if f.counts]
        if any(f.status is Status.FAIL and f.severity is Severity.ERROR for f in counted):
            return 1
        if self.fail_on == "warning" and any(f.status is Status.WARN for f in counted):
            return 1
        if self.crashed or self._gates_not_evaluated():
            return 3
        return 0

    @property
    def blocked_by(self) -> list[Finding]:
        """What made the run exit 3 (checks that raised, or the access gates that could not be
        evaluated), for a report to lead with; empty for any other exit code."""
        if self.exit_code != 3:
            return []
        return self.crashed or self._gates_not_evaluated()

    def _gates_not_evaluated(self) -> list[Finding]:
        remote_asked = "unavailable" not in self.remote
        gates = ACCESS_GATES | REMOTE_ACCESS_GATES if remote_asked else ACCESS_GATES
        return [f for f in self.findings if f.status is Status.NOT_EVALUATED and f.id in gates]


# Checks whose not-evaluated outcome means "could not evaluate" for the exit code: reaching
# the clusters and their APIs. Missing *remote* access by choice (no --remote-context) is not
# an error: those checks are not-evaluated with the flag that enables them.
ACCESS_GATES = frozenset({"ECKRC101", "ECKRC103", "ECKRC107"})
# The same for the remote side, but only when remote access was asked for: an unreachable
# --remote-context is "could not evaluate", a missing one is the user's choice.
REMOTE_ACCESS_GATES = frozenset({"ECKRC102", "ECKRC108"})
