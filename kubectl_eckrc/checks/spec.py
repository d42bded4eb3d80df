"""What a check is: one pure function plus its catalogue data, and the helpers checks share.

A check module declares each check with `@check(...)` on a function; the decorator returns a
`CheckSpec` that is still callable like the function, so tests call `stale_ca(snap, "alias")`
directly and the registry lists the same objects. Nothing is registered implicitly: each
module lists its checks in `CHECKS` and `registry.py` gathers those lists.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubectl_eckrc import __version__, links
from kubectl_eckrc.findings import CheckSide, Severity, Status, Verdict
from kubectl_eckrc.snapshot import Unavailable

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO
LOCAL = CheckSide.LOCAL
REMOTE = CheckSide.REMOTE
LINK = CheckSide.LINK

# Findings link to the catalogue of the very version that made them: the krew binary ships no
# docs/ folder, and `kubectl eckrc checks ID` prints the same text offline.
REPOSITORY = "https://github.com/kubectl-eckrc/kubectl-eckrc"
NO_REMOTE_PERMISSION = "pass --remote-context (and --remote-namespace) to read the remote environment"


class NotEvaluated(Exception):
    """Raised inside a check when a read it needs is unavailable; the engine turns it into a
    not-evaluated finding carrying the reason and the permission that would let it run."""

    def __init__(self, reason: str, permission: str = "", cause: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.permission = permission
        self.cause = cause  # the failed read's own reason, shared by every check it holds back


def need(read: Any, what: str) -> Any:
    """The value of a read, or NotEvaluated naming what could not be read and why."""
    if isinstance(read, Unavailable):
        permission = read.permission
        if read.kind == "no-access" and not permission:
            permission = NO_REMOTE_PERMISSION
        raise NotEvaluated(f"cannot read {what}: {read.reason}", permission, read.reason)
    return read


@dataclass(frozen=True)
class AppliesTo:
    """The links a check concerns. On a link of the other model (or, for a side check, when no
    link in scope uses this model) the engine records it as not applicable with `otherwise`."""

    model: str  # links.API_KEY | links.CERTIFICATE
    otherwise: str  # why it does not apply, e.g. "certificate model: no API key"


API_KEY_SIDE = AppliesTo(links.API_KEY, "certificate model links only")
API_KEY_LINK = AppliesTo(links.API_KEY, "certificate model: no API key")
CERTIFICATE_LINK = AppliesTo(links.CERTIFICATE, "API-key model")


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    doc: str
    severity: Severity
    side: CheckSide
    requires: tuple[str, ...]
    fix: str | None
    covers: tuple[str, ...]
    func: Callable[..., Verdict]
    applies_to: AppliesTo | None = None  # None: every link
    # What a person does when this check fails and no fix action can repair it (a cause
    # outside the objects fix writes); fix lists it as a blocker.
    remediation: str = ""

    @property
    def anchor(self) -> str:
        return self.id.lower()

    @property
    def doc_ref(self) -> str:
        """The versioned https URL of this check's section of docs/checks.md."""
        return doc_url(self.id)

    def __call__(self, *args: Any) -> Verdict:
        return self.func(*args)


def doc_url(check_id: str, version: str = __version__) -> str:
    return f"{REPOSITORY}/blob/v{version}/docs/checks.md#{check_id.lower()}"


def check(
    check_id: str,
    *,
    severity: Severity,
    side: CheckSide,
    requires: tuple[str, ...] = (),
    fix: str | None = None,
    covers: tuple[str, ...] = (),
    applies_to: AppliesTo | None = None,
    remediation: str = "",
) -> Callable[[Callable[..., Verdict]], CheckSpec]:
    """Attach catalogue data to a check function. Docstring line 1 = title, the rest = doc."""

    def wrap(func: Callable[..., Verdict]) -> CheckSpec:
        text = inspect.getdoc(func) or ""
        title, _, body = text.partition("\n")
        return CheckSpec(
            id=check_id,
            title=title.strip(),
            doc=body.strip(),
            severity=severity,
            side=side,
            requires=requires,
            fix=fix,
            covers=covers,
            func=func,
            applies_to=applies_to,
            remediation=remediation,
        )

    return wrap


# --- verdict shorthands -------------------------------------------------------------------------


def passed(message: str, **evidence: Any) -> Verdict:
    return Verdict(Status.PASS, message, evidence)


def failed(message: str, hint: str, **evidence: Any) -> Verdict:
    return Verdict(Status.FAIL, message, evidence, hint)


def warned(message: str, hint: str, **evidence: Any) -> Verdict:
    return Verdict(Status.WARN, message, evidence, hint)


def not_applicable(why: str) -> Verdict:
    """A check that does not concern this link (e.g. API-key checks on a certificate-model
    link): counted apart from the passes."""
    return Verdict(Status.NOT_APPLICABLE, f"not applicable ({why})", {"applicable": False})


def not_evaluated(reason: str, permission: str = "", cause: str = "") -> Verdict:
    """`cause`: the failed read behind it (an Unavailable's reason), when there is one; the
    report shows a cause that holds back several checks once, listing them."""
    return Verdict(Status.NOT_EVALUATED, reason, {}, "", permission, cause)
