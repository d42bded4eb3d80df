"""Live collection of a fleet: every Elasticsearch of the local context (doctor -A) and every
link it configures, each matched to its remote among the contexts given.

The single-link pieces do the reading (`side.open_es`, `read_es_basics`, `live`'s probes and
`_resolve/cluster`); what is shared is where they read from: one `SharedKube` per context (one
list per resource kind), one session (one port-forward) per Elasticsearch whichever links it
takes part in. Work runs in bounded pools, so a hundred clusters do not open a hundred
connections at once.

  1. every context lists its Elasticsearch resources; the local ones open their sessions;
  2. each local cluster's settings name its aliases: TLS probes, `_resolve/cluster` and
     `_remote/info` per cluster, while the candidates (every Elasticsearch, with its Services
     and transport CA) are read;
  3. each alias is matched (fleet.match) and the remotes it reaches open their sessions;
  4. the remotes' API keys for those links are read; one Snapshot per link is assembled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from kubectl_eckrc import __version__, eck, fleet
from kubectl_eckrc.collect import live
from kubectl_eckrc.collect.failures import attempt, parallel
from kubectl_eckrc.collect.kube import KubeUnavailable
from kubectl_eckrc.collect.shared_kube import SharedKube
from kubectl_eckrc.collect.side import SideSession, es_state, open_es, read_es_basics, to_side
from kubectl_eckrc.errors import AccessError, UsageError
from kubectl_eckrc.fleet import Candidate, EsRef, FleetSnapshot, LinkSnapshot
from kubectl_eckrc.kubeconfig import ResolvedContext, resolve
from kubectl_eckrc.options import Scope, SideTarget
from kubectl_eckrc.output import log
from kubectl_eckrc.progress import Progress
from kubectl_eckrc.snapshot import SCHEMA_VERSION, Json, Read, Side, Snapshot, Unavailable

# Elasticsearch clusters read at once (each holds a port-forward and a few connections): most of
# a cluster's reads wait on the network, so more than the cores.
CLUSTERS_AT_ONCE = 16


@dataclass
class Context:
    """One kube context of the fleet: its resolved config, shared client and what it lists."""

    resolved: ResolvedContext
    target: SideTarget
    kube: SharedKube
    role: str  # local | remote
    listed: Read[list[Json]] = field(default_factory=lambda: Unavailable("not read"))


@dataclass
class Fleet:
    scope: Scope
    debug: bool
    contexts: dict[str, Context] = field(default_factory=dict)
    sessions: dict[EsRef, SideSession] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def phase(self, what: str) -> None:
        if self.debug:
            log(f"debug: {time.monotonic() - self.started:6.2f}s {what}")


def collect_fleet(scope: Scope, debug: bool = False, link_reads: bool = True,
                  progress: Progress | None = None) -> FleetSnapshot:
    taken_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    progress = progress or Progress(False)
    state = Fleet(scope, debug)
    try:
        _open_contexts(state)
        return _collect(state, taken_at, link_reads, progress)
    finally:
        _close(state)
        state.phase("closed")


def _close(state: Fleet) -> None:
    """All at once: a port-forward listener takes up to its accept timeout to stop."""
    sessions = list(state.sessions.values())
    if sessions:
        with ThreadPoolExecutor(max_workers=min(32, len(sessions)), thread_name_prefix="eckrc-close") as pool:
            list(pool.map(SideSession.close_es, sessions))
    for context in state.contexts.values():
        context.kube.shutdown()


def _open_contexts(state: Fleet) -> None:
    scope = state.scope
    local = resolve(scope.local)
    state.contexts[local.context] = Context(local, scope.local, SharedKube(local, scope.timeout), "local")
    for target in scope.remotes:
        resolved = resolve(target, "remote-")
        if resolved.context not in state.contexts:
            state.contexts[resolved.context] = Context(resolved, target, SharedKube(resolved, scope.timeout),
                                                       "remote")


def _local_context(state: Fleet) -> Context:
    return next(iter(state.contexts.values()))


@dataclass
class LocalRead:
    """One local cluster once read: its side, its links' facts and where each alias leads."""

    session: SideSession
    aliases: list[str]
    snapshot: Snapshot  # local side only
    matches: dict[str, fleet.Match]
    key_ids: dict[str, str]  # alias -> API key id, for the aliases matched to a remote


def _collect(state: Fleet, taken_at: str, link_reads: bool, progress: Progress) -> FleetSnapshot:
    """Each local cluster is read, probed and matched in one task; the remotes it reaches start
    opening as soon as it is matched, while the other local clusters are still read."""
    local = _local_context(state)
    progress.set(f"listing Elasticsearch in {len(state.contexts)} contexts")
    listed = parallel({name: partial(_list, state, c) for name, c in state.contexts.items()})
    for name, items in listed.items():
        state.contexts[name].listed = items
    if isinstance(local.listed, Unavailable):
        raise AccessError(f"context {local.resolved.context}: cannot list Elasticsearch resources: "
                          f"{local.listed.reason}")
    local_refs = _local_refs(state, local)
    state.phase(f"listed: {len(local_refs)} local Elasticsearch")
    progress.set(f"reading {len(local_refs)} Elasticsearch clusters, probing their links")
    kept_open = _eck_targets(local)
    opening: dict[EsRef, Future[SideSession]] = {}
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=CLUSTERS_AT_ONCE, thread_name_prefix="eckrc-remote") as remote_pool, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="eckrc-candidates") as candidate_pool:
        candidates = candidate_pool.submit(_candidates, state)

        def reach(ref: EsRef) -> None:
            if ref in kept_open and ref in local_refs:
                return  # its local session serves as the remote end too
            with lock:
                if ref not in opening:
                    opening[ref] = remote_pool.submit(_open_session, state, ref, "remote")

        def read_local(ref: EsRef) -> LocalRead:
            found = _read_local(state, ref, taken_at, link_reads, candidates, reach)
            if ref not in kept_open:  # every fact is in its snapshot: free the port-forward
                found.session.close_es()
            return found

        reads = _bounded({ref: partial(read_local, ref) for ref in local_refs})
        state.phase("local Elasticsearch read, links probed and matched")
        remotes = {ref: future.result() for ref, future in opening.items()}
    state.phase(f"{len(remotes)} remote Elasticsearch read")
    for ref, found in reads.items():
        state.sessions[ref] = found.session
    sessions = {**{ref: state.sessions[ref] for ref in kept_open if ref in state.sessions}, **remotes}
    state.sessions.update(remotes)
    remote_sides = _remote_sides(sessions, reads)
    state.phase("remote API keys read")
    links = [_link_snapshot(state, ref, found, alias, remote_sides) for ref, found in reads.items()
             for alias in found.aliases]
    return FleetSnapshot(taken_at, "live", __version__, tuple(state.contexts), links,
                         [ref for ref, found in reads.items() if not found.aliases],
                         _notes(state, local_refs, reads))


def _eck_targets(local: Context) -> set[EsRef]:
    """The clusters ECK links others to in the local context (spec.remoteClusters): their
    sessions stay open to serve as the remote end of those links."""
    found = set()
    items = local.listed if isinstance(local.listed, list) else []
    for item in items:
        ref = _ref(local, item)
        for entry in ((item.get("spec") or {}).get("remoteClusters") or []):
            target = (entry.get("elasticsearchRef") or {}) if isinstance(entry, dict) else {}
            if target.get("name"):
                namespace = str(target.get("namespace") or ref.namespace)
                found.add(EsRef(ref.context, namespace, str(target["name"])))
    return found


def _read_local(state: Fleet, ref: EsRef, taken_at: str, link_reads: bool,
                candidates: Future[list[Candidate]], reach: Callable[[EsRef], None]) -> LocalRead:
    # the probes get what is left of --timeout counted from this cluster's first read
    deadline = time.monotonic() + state.scope.timeout
    session = _open_session(state, ref, "local")
    aliases = _aliases(session)
    reads = _link_reads(session, aliases, link_reads, deadline, state.scope.timeout)
    snapshot = _local_only(session, aliases, reads, taken_at)
    known = candidates.result()
    matches = {alias: _match(snapshot, alias, ref, known) for alias in aliases}
    for found in matches.values():
        if found.remote is not None:
            reach(found.remote)
    key_ids = live.credential_key_ids(session, [a for a, m in matches.items() if m.remote is not None])
    return LocalRead(session, aliases, snapshot, matches, key_ids)


def _match(local_only: Snapshot, alias: str, ref: EsRef, candidates: list[Candidate]) -> fleet.Match:
    if alias == UNREADABLE:
        return fleet.Match(alias, None, reason=f"the settings of {ref.label} could not be read")
    return fleet.match(fleet.alias_facts(local_only, alias, ref.context), candidates)


def _list(state: Fleet, context: Context) -> list[Json]:
    """Every Elasticsearch of a context; with a namespace (no -A) the local one's only."""
    namespace = None
    if context.role == "local" and not state.scope.all_namespaces:
        namespace = context.resolved.namespace
    try:
        return context.kube.elasticsearches(namespace)
    except KubeUnavailable as e:
        if e.unavailable.kind != "forbidden" or namespace is not None:
            raise
        # listing across namespaces refused: the context's own namespace
        return context.kube.elasticsearches(context.resolved.namespace)


def _local_refs(state: Fleet, local: Context) -> list[EsRef]:
    items = local.listed if isinstance(local.listed, list) else []
    refs = sorted(_ref(local, item) for item in items)
    wanted = state.scope.local.es_name
    if wanted:
        refs = [r for r in refs if r.name == wanted]
        if not refs:
            raise UsageError(f"Elasticsearch {wanted!r} not found in context {local.resolved.context}")
    return refs


def _ref(context: Context, item: Json) -> EsRef:
    metadata = item["metadata"]
    return EsRef(context.resolved.context, str(metadata.get("namespace", "")), str(metadata["name"]))


def _bounded(calls: dict[Any, Callable[[], Any]]) -> dict[Any, Any]:
    if not calls:
        return {}
    workers = min(CLUSTERS_AT_ONCE, len(calls))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eckrc-es") as pool:
        futures = {key: pool.submit(fn) for key, fn in calls.items()}
        return {key: f.result() for key, f in futures.items()}


def _session(state: Fleet, ref: EsRef, role: str) -> SideSession:
    context = state.contexts[ref.context]
    target = replace(context.target, namespace=ref.namespace, es_name=ref.name)
    resolved = replace(context.resolved, namespace=ref.namespace)
    return SideSession(role, target, resolved, state.scope.timeout, state.debug, kube=context.kube)


def _open_session(state: Fleet, ref: EsRef, role: str) -> SideSession:
    session = _session(state, ref, role)
    try:
        open_es(session)
        read_es_basics(session)
    except UsageError as e:  # one cluster's trouble is its link's, not the run's
        session.es_failure = Unavailable(str(e), "error")
    return session


# The link of a cluster whose settings could not be read: its report says why (ECKRC107...)
# rather than the cluster passing for one with no link.
UNREADABLE = ""


def _aliases(session: SideSession) -> list[str]:
    found = live.configured_aliases(session)
    settings = session.es_basics.get("settings")
    if not found and (session.es_failure is not None or isinstance(settings, Unavailable)):
        return [UNREADABLE]
    return found


LinkReads = tuple[dict[str, Any], Read[Json], dict[str, Read[Json]]]


def _link_reads(session: SideSession, aliases: list[str], link_reads: bool, deadline: float,
                timeout: float) -> LinkReads:
    """The TLS probes, `_remote/info` and `_resolve/cluster` of one local cluster's links."""
    aliases = [a for a in aliases if a != UNREADABLE]
    if not aliases:
        return {}, Unavailable("no links", "error"), {}
    probe_timeout = live._time_left(deadline, timeout)
    calls: dict[str, Callable[[], Any]] = {
        a: partial(live._probe_link, session, a, probe_timeout) if link_reads
        else partial(live._not_probed, a) for a in aliases}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eckrc-probes") as pool:
        probes = pool.submit(parallel, calls)
        remote_info, resolved = _resolve_and_remote_info(session, aliases if link_reads else [])
        return probes.result(), remote_info, resolved


def _resolve_and_remote_info(session: SideSession,
                             aliases: list[str]) -> tuple[Read[Json], dict[str, Read[Json]]]:
    """live's `_resolve/cluster` then `_remote/info`; one alias needs no pool of its own (the
    session's two connections are free by now), and each new connection is a port-forward."""
    if len(aliases) > 1 or session.es_client is None or session.es_failure is not None:
        return live._local_link_reads(session, aliases)
    client = session.es_client
    resolved = parallel({a: live._resolver(client, a, session.timeout) for a in aliases})
    return parallel({"_remote_info": client.remote_info})["_remote_info"], resolved


def _local_only(session: SideSession, aliases: list[str], reads: LinkReads, taken_at: str) -> Snapshot:
    probes, remote_info, resolved = reads
    side = to_side(session, es_state(session, remote_info, resolved, {}))
    return Snapshot(SCHEMA_VERSION, taken_at, __version__, "live", side, live.NO_REMOTE,
                    [a for a in aliases if a != UNREADABLE], probes)


def _candidates(state: Fleet) -> list[Candidate]:
    """Every Elasticsearch of every context, as a peer sees it."""
    calls: dict[EsRef, Callable[[], Any]] = {}
    for context in state.contexts.values():
        items = context.listed if isinstance(context.listed, list) else []
        for item in items:
            ref = _ref(context, item)
            calls[ref] = partial(_candidate, context.kube, ref, item)
    return [c for c in _bounded(calls).values() if isinstance(c, Candidate)]


def _candidate(kube: SharedKube, ref: EsRef, es: Json) -> Candidate:
    """(A failed read leaves that clue out: the others may still name the cluster.)"""
    services = attempt(lambda: kube.core_list("services", ref.namespace))
    secret = attempt(lambda: kube.secret_summary(ref.namespace, eck.transport_certs_public(ref.name)))
    return fleet.candidate_of(ref, es, services if isinstance(services, list) else [],
                              fleet.transport_ca_of(secret if not isinstance(secret, Unavailable) else None))


def _remote_sides(sessions: dict[EsRef, SideSession], reads: dict[EsRef, LocalRead]) -> dict[EsRef, Side]:
    """Each remote end once, with the API keys of every link that reaches it."""
    wanted: dict[EsRef, dict[str, str]] = {}
    for found in reads.values():
        for alias, key_id in found.key_ids.items():
            remote = found.matches[alias].remote
            if remote is not None:
                wanted.setdefault(remote, {})[alias] = key_id
    keys = _bounded({ref: partial(live._api_keys, session, wanted.get(ref, {}))
                     for ref, session in sessions.items()})
    not_read = Unavailable("not read on the remote side", "error")
    states = {ref: es_state(session, not_read, {}, keys.get(ref, {})) for ref, session in sessions.items()}
    return {ref: _as_remote(to_side(session, _remote_view(states[ref]))) for ref, session in sessions.items()}


def _link_snapshot(state: Fleet, ref: EsRef, found: LocalRead, alias: str,
                   remote_sides: dict[EsRef, Side]) -> LinkSnapshot:
    """One link: the local side and remote side shared with the cluster's other links (the
    checks look every alias-keyed answer up by the link's alias)."""
    match = found.matches[alias]
    remote_side: Side | Unavailable
    if match.remote is None:
        remote_side = fleet.unmatched_remote(match.reason, _remote_contexts(state), _other_contexts(state))
    else:
        remote_side = remote_sides.get(match.remote) or Unavailable(
            f"Elasticsearch {match.remote.label} was not read", "error")
    local_only = found.snapshot
    snapshot = replace(local_only, remote=remote_side, aliases=[alias] if alias else [],
                       probes={alias: local_only.probes[alias]} if alias in local_only.probes else {})
    return LinkSnapshot(ref, alias, match.remote, match.clues, snapshot, match.reason)


def _remote_view(es: Any) -> Any:
    """A cluster read as a local one also answered `_security/role`: a remote side does not carry it."""
    if isinstance(es, Unavailable):
        return es
    return replace(es, roles=Unavailable("not read on the remote side", "error"))


def _as_remote(side: Side) -> Side:
    """A local-context cluster read as a local one, now the remote end of a link."""
    kube = side.kube
    if not isinstance(kube, Unavailable):
        kube = replace(kube, access=[replace(a, side="remote") for a in kube.access])
    return replace(side, role="remote", kube=kube)


def _remote_contexts(state: Fleet) -> tuple[str, ...]:
    return tuple(name for name, c in state.contexts.items() if c.role == "remote")


def _other_contexts(state: Fleet) -> tuple[str, ...]:
    config = _local_context(state).resolved.config
    names = [str(c.get("name")) for c in config.get("contexts") or [] if isinstance(c, dict)]
    return tuple(n for n in names if n not in state.contexts)


def _notes(state: Fleet, local_refs: list[EsRef], reads: dict[EsRef, LocalRead]) -> list[str]:
    notes = []
    for ref in local_refs:
        session = reads[ref].session
        notes += [f"{ref.label}: alias {a} is set up by ECK (spec.remoteClusters, same Kubernetes cluster): "
                  "its findings name what ECK manages; fix does not write it"
                  for a in live.eck_managed_aliases(session)]
    for name, context in state.contexts.items():
        if isinstance(context.listed, Unavailable):
            notes.append(f"context {name}: cannot list Elasticsearch resources: {context.listed.reason}")
    return notes
