"""`kubectl eckrc fix`: collect -> check -> plan -> dry run -> (confirm -> apply -> wait).

Without --apply nothing is written: the plan is printed with its diffs and every Kubernetes
write is validated by a server-side dry run. With --apply the actions run in order; after
them, when some checks could not be evaluated before (a blind spot), the clusters are read
again and, if the findings now call for more, the new steps run too, up to MAX_ROUNDS.

Exit codes: 0 nothing to do, or applied (and connected with --wait); 1 a finding no action
covers, a rejected dry run, a failed step, or (without --apply) a plan still to carry out;
2 usage; 3 the clusters could not be evaluated.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

import click

from kubectl_eckrc import eck, links
from kubectl_eckrc.checks.engine import run_checks
from kubectl_eckrc.commandline import command, scope_args
from kubectl_eckrc.errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNEVALUATED, EXIT_USAGE, UsageError
from kubectl_eckrc.findings import ACCESS_GATES, INTERNAL_ERROR, Finding, Status
from kubectl_eckrc.fix.apply import Clients, apply_plan, dry_run
from kubectl_eckrc.fix.model import DryRun, Outcome, OutcomeStatus, Plan
from kubectl_eckrc.fix.plan import build_plan, planners
from kubectl_eckrc.fix.render import document, outcome_line, plan_table
from kubectl_eckrc.fix.session import Sessions, collect, open_and_collect
from kubectl_eckrc.fix.wait import wait_connected
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.output import log, use_unicode, write_document
from kubectl_eckrc.report.text import printable
from kubectl_eckrc.snapshot import Snapshot, Unavailable

MAX_ROUNDS = 3
ALIAS_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass
class Result:
    plan: Plan
    dry: DryRun | None = None
    outcomes: list[Outcome] | None = None
    connected: bool | None = None
    exit_code: int = EXIT_OK
    resume: str = ""


NO_REMOTE = ("fix needs the remote environment too: pass --remote-context "
             "(and --remote-namespace, --remote-es)")


def run(options: FixOptions) -> int:
    # An alias ECK sets up itself (spec.remoteClusters) needs none: its remote is read through the
    # local context, and fix writes nothing there. Any other alias needs the remote's context.
    if options.scope.remote is None and not options.scope.alias:
        raise UsageError(NO_REMOTE)
    if options.scope.alias and not set(options.scope.alias) <= ALIAS_CHARS:
        raise UsageError(f"alias {options.scope.alias!r}: use lowercase letters, digits, '-' and '_'")
    if options.server_name and _is_ip(options.server_name):
        raise UsageError("--server-name must be a DNS name, not an IP address (it is sent as SNI)")
    if options.proxy_address and not options.proxy_address.rpartition(":")[2].isdigit():
        raise UsageError("--proxy-address takes HOST:PORT")
    snap, sessions = open_and_collect(options.scope, options.debug)
    try:
        if options.scope.remote is None and links.eck_remote(snap, options.scope.alias or "") is None:
            raise UsageError(NO_REMOTE)
        options = _with_alias(options, snap)
        return _run(options, snap, sessions)
    finally:
        sessions.close()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _with_alias(options: FixOptions, snap: Snapshot) -> FixOptions:
    if options.scope.alias:
        return options
    aliases = link_aliases(snap)
    if len(aliases) == 1:
        return replace(options, scope=replace(options.scope, alias=aliases[0]))
    if not aliases:
        raise UsageError("the local cluster has no remote cluster yet: pass --alias NAME")
    raise UsageError(
        f"the local cluster has several remote clusters ({', '.join(aliases)}): pass --alias NAME"
    )


def link_aliases(snap: Snapshot) -> list[str]:
    """The aliases fix may choose from. An alias known only from a credential key, beside one
    registered link, is that link's key under a mistyped name (ECKRC402 names it; create-api-key
    renames it): it is not a second remote cluster."""
    registered = [a for a in snap.aliases if a in links.registered_aliases(snap)]
    return registered if len(registered) == 1 else list(snap.aliases)


def _findings(snap: Snapshot) -> list[Finding]:
    return run_checks(snap)


def _gate(findings: list[Finding]) -> Finding | None:
    for f in findings:
        if f.id in ACCESS_GATES and f.status in (Status.NOT_EVALUATED, Status.FAIL):
            return f
    return None


def _heading(snap: Snapshot) -> tuple[str, str]:
    local = f"{snap.local.context} {snap.local.namespace}/{snap.local.es_name}"
    remote = snap.remote
    far = "?" if isinstance(remote, Unavailable) else f"{remote.context} {remote.namespace}/{remote.es_name}"
    return local, far


def _run(options: FixOptions, snap: Snapshot, sessions: Sessions) -> int:
    findings = _findings(snap)
    crashed = sorted({f.id for f in findings if INTERNAL_ERROR in f.evidence})
    if crashed:  # a plan built on a check that could not run could be wrong: write nothing
        log(f"error: check {', '.join(crashed)} failed with an internal error; nothing was planned. "
            "Run with --debug and report it")
        return EXIT_UNEVALUATED
    gate = _gate(findings)
    if gate is not None:
        log(
            f"error: cannot evaluate the link: {gate.id} {gate.message}"
            + (f" ({gate.permission})" if gate.permission else "")
        )
        return EXIT_UNEVALUATED
    plan = build_plan(snap, findings, options, _heading(snap))
    clients = sessions.clients()
    result = Result(plan)
    if plan.blockers:
        result.exit_code = EXIT_FINDINGS
        return _finish(options, result)
    dry = dry_run(plan, clients, _es_names(snap))
    result.dry = dry
    if dry.rejected:
        result.exit_code = EXIT_FINDINGS
        return _finish(options, result)
    if not options.apply:
        result.exit_code = EXIT_FINDINGS if plan.changes else EXIT_OK
        return _finish(options, result)
    if plan.changes and not _confirmed(options, plan):
        if not sys.stdin.isatty():
            return EXIT_USAGE
        log("Nothing was changed.")
        return EXIT_FINDINGS
    return _apply(options, snap, findings, plan, clients, result)


def _blind_spots(findings: list[Finding]) -> bool:
    """Checks that could not run: only then can a second look after the writes find more."""
    return any(f.status is Status.NOT_EVALUATED for f in findings)


def _es_names(snap: Snapshot) -> dict[str, list[str]]:
    return {role: eck.es_names_in_namespace(snap, role) for role in ("local", "remote")}


def _confirmed(options: FixOptions, plan: Plan) -> bool:
    if options.yes:
        return True
    if not sys.stdin.isatty():
        log("error: fix --apply needs a confirmation: run it on a terminal or add --yes")
        return False
    if options.output == "table":
        write_document(printable(plan_table(plan, None)))
    where = {"local": f"the local pods of {plan.local}", "remote": f"the remote pods of {plan.remote}"}
    restarts = " and ".join(where[r] for r in plan.restarts) or "no pods"
    question = f"Apply {len(plan.changes)} changes? This restarts {restarts}."
    return click.confirm(question, default=False, err=True)


def _apply(
    options: FixOptions, snap: Snapshot, findings: list[Finding], plan: Plan, clients: Clients, result: Result
) -> int:
    result.outcomes = _rounds(options, snap, findings, plan, clients)
    if any(o.status is OutcomeStatus.FAILED for o in result.outcomes):
        result.exit_code, result.resume = EXIT_FINDINGS, resume_command(options)
        return _finish(options, result)
    if options.wait:
        last = wait_connected(options, options.scope.alias or "")
        result.connected = last.connected
        if not last.connected:
            log(f"timed out after {options.timeout_wait:.0f}s: {last.line}")
            result.exit_code = EXIT_FINDINGS
    return _finish(options, result)


def _rounds(
    options: FixOptions, snap: Snapshot, findings: list[Finding], plan: Plan, clients: Clients
) -> list[Outcome]:
    """Apply the plan; after blind spots, look again and apply what the findings now ask for."""
    done: list[Outcome] = []
    for round_number in range(1, MAX_ROUNDS + 1):
        outcomes, _ = apply_plan(plan, snap, findings, options, clients, planners(),
                                 _progress(options, plan, len(done)))
        done += outcomes
        if any(o.status is OutcomeStatus.FAILED for o in outcomes) or not any(o.changed for o in outcomes):
            break
        if round_number == MAX_ROUNDS or not _blind_spots(findings):
            break
        snap = collect(options.scope, options.debug)
        findings = _findings(snap)
        if _gate(findings) is not None:
            break
        plan = build_plan(snap, findings, options, _heading(snap))
        if plan.blockers or not plan.changes or dry_run(plan, clients, _es_names(snap)).rejected:
            break
    return done


def _progress(options: FixOptions, plan: Plan, base: int) -> Callable[[Outcome], None]:
    """One stderr line per finished action (table output only: -o json stays one document)."""

    def report(outcome: Outcome) -> None:
        if options.output == "table":
            index = base + plan.actions.index(outcome.action) + 1
            log(outcome_line(outcome, index, use_unicode(sys.stderr)))

    return report


def _finish(options: FixOptions, result: Result) -> int:
    if options.output == "json":
        write_document(
            document(
                result.plan, result.dry, result.outcomes, result.connected, result.exit_code, result.resume
            )
        )
        return result.exit_code
    plan = result.plan
    if result.outcomes is None:
        text = plan_table(plan, result.dry)
        if plan.blockers or (result.dry is not None and result.dry.rejected):
            text += "Nothing was changed.\n"
        elif plan.changes:
            text += f"Nothing was changed. To carry this out: {command_line(options)} --apply\n"
        write_document(printable(text))  # names and diffs come from the clusters
        return result.exit_code
    if not any(o.changed for o in result.outcomes) and not result.resume:
        write_document("Nothing to change: every action is already satisfied.")
        return result.exit_code
    done = [o for o in result.outcomes if o.status in (OutcomeStatus.APPLIED, OutcomeStatus.UNCHANGED)]
    lines = [f"{len(done)} of {len(result.outcomes)} actions done."]
    if result.resume:
        undone = (OutcomeStatus.FAILED, OutcomeStatus.NOT_RUN)
        pending = [o.action for o in result.outcomes if o.status in undone]
        lines.append(f"Not done: {', '.join(pending)}. To resume: {result.resume}")
    if result.connected is not None:
        lines.append("_remote/info: connected" if result.connected else "_remote/info: not connected")
    if not result.resume:
        lines.append(f"To verify every check: {command_line(options, 'doctor')}")
    write_document(printable("\n".join(lines)))
    return result.exit_code


def command_line(options: FixOptions, name: str = "fix") -> str:
    """The command with the user's flags, for "to carry this out", "to resume", "to verify"."""
    args = scope_args(options.scope)
    if name == "fix":
        args += _fix_args(options)
    return command(name, args)


def _fix_args(options: FixOptions) -> list[str]:
    """fix's own flags that change what --apply writes."""
    args = ["--expose", options.expose] if options.expose != "loadbalancer" else []
    if options.indices != ("*",):
        args += ["--indices", ",".join(options.indices)]
    if options.replication_indices:
        args += ["--replication-indices", ",".join(options.replication_indices)]
    pairs = [("--server-name", options.server_name), ("--proxy-address", options.proxy_address),
             ("--expiration", options.expiration)]
    if options.widen_key_access:
        args.append("--widen-key-access")
    if options.set_certificate_identity:
        args.append("--set-certificate-identity")
    return args + [item for flag, value in pairs if value for item in (flag, value)]


def resume_command(options: FixOptions) -> str:
    return command_line(options) + " --apply"
