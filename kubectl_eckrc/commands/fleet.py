"""`doctor -A`: every link of every Elasticsearch, each one diagnosed as a single-link run
would diagnose it (same checks, same suppressions, same fix commands), then one fleet report.

Imports of the collector and renderers stay inside functions, as in doctor.py: a bundle run
imports no cluster client.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kubectl_eckrc import suppress
from kubectl_eckrc.commandline import with_fix_commands
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.fleet import FleetReport, FleetSnapshot, LinkReport, LinkSnapshot
from kubectl_eckrc.options import DoctorOptions, Scope, SideTarget
from kubectl_eckrc.output import log, use_color, use_unicode, write_document
from kubectl_eckrc.snapshot import Side, Unavailable
from kubectl_eckrc.suppress import Ignore


def load(options: DoctorOptions) -> FleetSnapshot:
    if options.bundle:
        from kubectl_eckrc.collect.bundle import load_fleet

        return only_asked(load_fleet(options.bundle), options.scope, options.bundle)
    from kubectl_eckrc.checks.engine import needs_link_reads
    from kubectl_eckrc.collect.fleet import collect_fleet
    from kubectl_eckrc.progress import Progress

    progress = Progress.on_terminal(options.output not in ("json", "yaml") and not options.debug)
    try:
        return sanitized_fleet(collect_fleet(options.scope, debug=options.debug,
                                             link_reads=needs_link_reads(options.only, options.skip),
                                             progress=progress))
    finally:
        progress.stop()


def only_asked(fleet: FleetSnapshot, scope: Scope, path: str) -> FleetSnapshot:
    """-n, --es and --alias with a fleet bundle pick its links; naming none of them is an error."""
    local = scope.local
    links = [link for link in fleet.links
             if (not local.namespace or link.local.namespace == local.namespace)
             and (not local.es_name or link.local.name == local.es_name)
             and (not scope.alias or link.alias == scope.alias)]
    if not links and (local.namespace or local.es_name or scope.alias):
        held = ", ".join(sorted({f"{link.local.namespace}/{link.local.name} -> {link.alias}"
                                 for link in fleet.links}))
        raise UsageError(f"{path}: the fleet bundle holds no such link; it holds: {held or 'none'}")
    return replace(fleet, links=links)


def sanitized_fleet(fleet: FleetSnapshot) -> FleetSnapshot:
    """What a bundle would keep, no more (as a single-link run does with its snapshot). The
    links of a cluster share its side: each side is sanitized once."""
    from kubectl_eckrc.collect.sanitize import sanitized_side

    done: dict[int, Side] = {}
    objects: dict[int, tuple[Any, Any]] = {}

    def side(read: Side) -> Side:
        if id(read) not in done:
            done[id(read)] = sanitized_side(read, objects)
        return done[id(read)]

    links = []
    for link in fleet.links:
        snap = link.snapshot
        remote = snap.remote if isinstance(snap.remote, Unavailable) else side(snap.remote)
        links.append(replace(link, snapshot=replace(snap, local=side(snap.local), remote=remote)))
    return replace(fleet, links=links)


def link_scope(scope: Scope, link: LinkSnapshot) -> Scope:
    """The single-link scope of one link: what its fix command names."""
    local = SideTarget(kubeconfig=scope.local.kubeconfig, context=link.local.context,
                       namespace=link.local.namespace, es_name=link.local.name)
    remote = None
    if link.remote is not None:
        same = link.remote.context == link.local.context
        given = next((t for t in scope.remotes if t.context == link.remote.context), None)
        kubeconfig = scope.local.kubeconfig if same or given is None else given.kubeconfig
        remote = SideTarget(kubeconfig=kubeconfig, context=link.remote.context,
                            namespace=link.remote.namespace, es_name=link.remote.name)
    return Scope(local=local, remote=remote, alias=link.alias, timeout=scope.timeout)


def diagnose(options: DoctorOptions, fleet: FleetSnapshot,
             ignores: list[Ignore]) -> tuple[FleetReport, list[Ignore]]:
    from kubectl_eckrc.commands.doctor import crashed_checks
    from kubectl_eckrc.commands.doctor import diagnose as diagnose_link

    links, used = [], set()
    for link in fleet.links:
        report = diagnose_link(link.snapshot, options.only, options.skip)
        report = with_fix_commands(report, link_scope(options.scope, link), link.snapshot)
        report, unused = suppress.apply(replace(report, fail_on=options.fail_on), ignores)
        used |= {i.label() for i in ignores} - {i.label() for i in unused}
        crashed_checks(report, link.snapshot, options.bundle or "")
        links.append(LinkReport(link.local, link.alias, link.remote, link.clues, report, link.unmatched))
    result = FleetReport(fleet.tool_version, fleet.source, fleet.taken_at, fleet.contexts, links,
                         fleet.unlinked)
    return result, [i for i in ignores if i.label() not in used]


def run(options: DoctorOptions, ignores: list[Ignore], loaded: FleetSnapshot | None = None) -> int:
    """`loaded`: the fleet a bundle held, read while doctor looked at what the bundle is."""
    if options.wait is not None:
        raise UsageError("--wait follows one link: it does not go with -A or several --remote-context")
    from kubectl_eckrc.report import fleet as fleet_report

    snapshot = load(options) if loaded is None else only_asked(loaded, options.scope, options.bundle or "")
    report, unused = diagnose(options, snapshot, ignores)
    text = fleet_report.render(report, options.output, color=use_color(requested=options.color),
                               unicode=use_unicode())
    for ignore in unused:
        log(f"note: --ignore {ignore.label()} matched no failure or warning; remove it if it is stale")
    for note in snapshot.notes:
        log(f"note: {note}")
    write_document(text)
    return report.exit_code
