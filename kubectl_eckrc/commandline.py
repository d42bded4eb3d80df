"""Commands the tool prints for the user to run next (doctor's fix hints, fix's "to carry this
out" / "to verify", collect's "analyse it with").

A printed command must run as printed: it carries the scope the run used (kubeconfig,
contexts, namespaces, Elasticsearch names, alias), names resolved from the clusters rather
than left to defaults that may differ next time, and every value is quoted for a POSIX shell.
KUBECONFIG from the environment is not repeated: the next command runs in the same shell.
"""

from __future__ import annotations

import shlex
from dataclasses import replace

from kubectl_eckrc.findings import Report
from kubectl_eckrc.options import Scope, SideTarget
from kubectl_eckrc.snapshot import Side, Snapshot, Unavailable

PROGRAM = "kubectl eckrc"
# Shown where doctor ran without the remote side: fix cannot run without it, so the command
# names what is missing instead of hiding it.
REMOTE_PLACEHOLDER = "REMOTE_CONTEXT"
DEFAULT_TIMEOUT = 5.0
WIDEN_KEY_ACCESS = "widen-key-access"  # asked for with its own flag (fix --widen-key-access)


def resolved(scope: Scope, snap: Snapshot) -> Scope:
    """The scope with the context, namespace and Elasticsearch name each side resolved to."""
    remote = scope.remote
    if snap.source != "live" and remote is None and not isinstance(snap.remote, Unavailable):
        remote = SideTarget(kubeconfig=None, context=None, namespace=None, es_name=None)  # from a bundle
    if remote is not None and not isinstance(snap.remote, Unavailable):
        remote = _resolved_side(remote, snap.remote)
    return replace(scope, local=_resolved_side(scope.local, snap.local), remote=remote)


def _resolved_side(target: SideTarget, side: Side) -> SideTarget:
    return replace(
        target,
        context=target.context or side.context or None,
        namespace=target.namespace or side.namespace or None,
        es_name=target.es_name or side.es_name or None,
    )


def scope_args(scope: Scope, alias: str | None = None, need_remote: bool = False) -> list[str]:
    """The scope as flags; `alias` overrides the scope's. With `need_remote` and no remote in
    scope, a --remote-context placeholder says what the next command needs."""
    args = _side_args(scope.local, "--", None)
    if scope.remote is not None:
        args += _side_args(scope.remote, "--remote-", scope.local.kubeconfig)
    elif need_remote:
        args += ["--remote-context", REMOTE_PLACEHOLDER]
    chosen = alias if alias is not None else scope.alias
    if chosen:
        args += ["--alias", chosen]
    if scope.timeout != DEFAULT_TIMEOUT:
        args += ["--timeout", f"{scope.timeout:g}"]
    for pattern in scope.indices:
        args += ["--index", pattern]
    if scope.as_user:
        args += ["--as-user", scope.as_user]
    return args


def _side_args(target: SideTarget, prefix: str, local_kubeconfig: str | None) -> list[str]:
    short = {"--namespace": "-n"}
    pairs = [
        ("kubeconfig", target.kubeconfig if target.kubeconfig != local_kubeconfig else None),
        ("context", target.context),
        ("namespace", target.namespace),
        ("es", target.es_name),
        ("es-url", without_query(target.es_url)),
        ("es-api-key-env", target.es_api_key_env),
        ("es-username-env", target.es_username_env),
        ("es-password-env", target.es_password_env),
    ]
    args: list[str] = []
    for flag, value in pairs:
        if value:
            name = prefix + flag
            args += [short.get(name, name), value]
    if target.es_url_elastic_user:
        args.append(prefix + "es-url-elastic-user")
    return args


def without_query(url: str | None) -> str | None:
    """A URL's query or fragment could carry a token: keep scheme, host, port and path."""
    if not url:
        return url
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def command(name: str, args: list[str]) -> str:
    """`kubectl eckrc NAME ARGS...`, each argument quoted for the shell where it must be."""
    return " ".join([PROGRAM, name, *(shlex.quote(a) for a in args)])


def fix_alias(finding_alias: str | None, scope: Scope, snap: Snapshot) -> str | None:
    """The alias a fix hint names: the finding's, the one asked for, the only one configured,
    or, with no link yet, a proposal: the remote Elasticsearch's name."""
    if finding_alias or scope.alias:
        return finding_alias or scope.alias
    if len(snap.aliases) == 1:
        return snap.aliases[0]
    if snap.aliases:
        return None  # several links: fix asks which one
    if not isinstance(snap.remote, Unavailable) and snap.remote.es_name:
        return snap.remote.es_name
    return scope.remote.es_name if scope.remote is not None else None


def with_fix_commands(report: Report, scope: Scope, snap: Snapshot) -> Report:
    """The report with each fix hint as a command that runs as printed in this scope."""
    full = resolved(scope, snap)
    findings = []
    for finding in report.findings:
        if finding.fix is not None:
            alias = fix_alias(finding.alias, scope, snap)
            args = scope_args(full, alias, need_remote=True)
            if finding.fix.action == WIDEN_KEY_ACCESS:
                # only what the key hides is fix's to change (asked for explicitly); a local role is not
                if not finding.evidence.get("widenKeyAccess"):
                    findings.append(replace(finding, fix=None))
                    continue
                args.append("--widen-key-access")
            finding = replace(finding, fix=replace(finding.fix, command=command("fix", args)))
        findings.append(finding)
    return replace(report, findings=findings)
