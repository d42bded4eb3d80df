"""Live collection: read both environments and probe every link, into one Snapshot.

Order, so that a black hole costs one timeout and not a sum of them:
  1. local and remote Kubernetes reads start together (each side's reads run concurrently);
  2. each side then opens its Elasticsearch client (port-forward or URL) and reads its basics;
  3. once the local side says which aliases exist: TLS probes, `_remote/info` and
     `_resolve/cluster` (which may wait on a broken link) and the remote API-key reads, all
     at once.
Every operation has its own timeout; nothing is retried.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from kubectl_eckrc import __version__, links
from kubectl_eckrc.collect.side import (
    SideSession,
    attempt,
    es_state,
    open_es,
    open_side,
    parallel,
    prepare,
    read_es_basics,
    to_side,
)
from kubectl_eckrc.collect.tls_probe import probe
from kubectl_eckrc.collect.uses import NO_REMOTE as NO_REMOTE_USES
from kubectl_eckrc.collect.uses import read_follow, read_uses
from kubectl_eckrc.options import Scope, SideTarget
from kubectl_eckrc.output import log
from kubectl_eckrc.progress import Progress
from kubectl_eckrc.snapshot import (
    SCHEMA_VERSION,
    EsState,
    Json,
    KubeState,
    Read,
    Side,
    Snapshot,
    TlsProbe,
    Unavailable,
)

if TYPE_CHECKING:
    from kubectl_eckrc.collect.es import EsClient

NO_REMOTE = Unavailable(
    "no access to the remote environment",
    "no-access",
    "pass --remote-context (and --remote-namespace) or --remote-kubeconfig",
)

__all__ = ["SideSession", "attempt", "collect_live", "configured_aliases", "credential_key_ids",
           "link_settings", "parallel"]


# --- links -------------------------------------------------------------------------------------


def configured_aliases(session: SideSession) -> list[str]:
    """Every alias the local cluster mentions: cluster settings, nodeSet config, credentials
    (links.py reads them, as it will from the snapshot)."""
    es = _resource(session)
    found = set(links.aliases_in(links.remote_settings_of(es, session.es_basics.get("settings"))))
    found.update(ref.alias for ref in _credential_refs(session))
    found.update(eck_managed_aliases(session))  # diagnosed like the others, each check says what ECK owns
    return sorted(found)


def _resource(session: SideSession) -> dict[str, Any] | None:
    state = session.kube_state
    if not isinstance(state, KubeState) or not isinstance(state.elasticsearch, dict):
        return None
    return state.elasticsearch


def _credential_refs(session: SideSession) -> list[links.CredentialRef]:
    state = session.kube_state
    secrets = state.secrets if isinstance(state, KubeState) else None
    return links.credential_refs_of(_resource(session), secrets)


def eck_managed_aliases(session: SideSession) -> list[str]:
    """Aliases ECK itself sets up for `spec.remoteClusters` (same Kubernetes cluster)."""
    return sorted(links.eck_remotes_of(_resource(session)))


def eck_aliases_elsewhere(local: SideSession, remote: SideSession | None) -> list[str]:
    """ECK-managed aliases whose Elasticsearch is not this run's remote side: judged against
    another cluster's objects they would fail for nothing, so a run with --remote-context leaves
    them to a run of their own (`--alias` without --remote-context)."""
    if remote is None:
        return []
    same_cluster = remote.resolved.cluster_server == local.resolved.cluster_server
    return sorted(alias for alias, m in links.eck_remotes_of(_resource(local)).items()
                  if not (same_cluster and m.namespace == remote.resolved.namespace
                          and remote.target.es_name in (None, m.name)))


def same_cluster_remote(scope: Scope, local: SideSession, aliases: list[str]) -> SideTarget | None:
    """Without --remote-context, the links in scope all set up by ECK towards one Elasticsearch:
    that Elasticsearch, read through the local context, is their remote side."""
    if scope.remote is not None or not aliases:
        return None
    managed = links.eck_remotes_of(_resource(local))
    refs = {(managed[a].namespace, managed[a].name) for a in aliases if a in managed}
    if len(refs) != 1 or any(a not in managed for a in aliases):
        return None
    namespace, name = refs.pop()
    return replace(scope.local, namespace=namespace, es_name=name, es_url=None, es_api_key_env=None,
                   es_username_env=None, es_password_env=None, es_url_elastic_user=False)


def _eck_ref(session: SideSession, alias: str) -> str:
    managed = links.eck_remotes_of(_resource(session)).get(alias)
    return managed.ref if managed else "another Elasticsearch"


def link_settings(session: SideSession, alias: str) -> dict[str, str]:
    """The alias's flat settings, transient over persistent over nodeSet config."""
    prefix = f"cluster.remote.{alias}."
    found = links.remote_settings_of(_resource(session), session.es_basics.get("settings"))
    return {k[len(prefix):]: _scalar(v) for k, (v, _) in found.items() if k.startswith(prefix)}


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _probe_link(session: SideSession, alias: str, timeout: float) -> TlsProbe | Unavailable:
    settings = link_settings(session, alias)
    mode = settings.get("mode", "sniff" if settings.get("seeds") else "")
    address = settings.get("proxy_address", "")
    if not address:
        if mode == "sniff":
            return Unavailable(f"alias {alias} uses sniff mode: no proxy_address to probe", "not-found")
        return Unavailable(f"alias {alias} has no proxy_address configured", "not-found")
    return probe(alias, address, settings.get("server_name", ""), timeout)


def credential_key_ids(session: SideSession, aliases: list[str]) -> dict[str, str]:
    """alias -> API key id, from the local secure-settings secrets (redacted summaries)."""
    ids: dict[str, str] = {}
    for ref in _credential_refs(session):
        if ref.alias in aliases and ref.info is not None and ref.info.key_id:
            ids.setdefault(ref.alias, ref.info.key_id)
    return ids


# --- the whole run -----------------------------------------------------------------------------


def _local_link_reads(session: SideSession, aliases: list[str]) -> tuple[Read[Json], dict[str, Read[Json]]]:
    """`_resolve/cluster` per alias first, `_remote/info` after: `_remote/info` never makes a
    connection attempt and can stay stale after a repair; `_resolve/cluster` makes (or, on
    8.14-8.17, triggers) one, so the state read afterwards is the fresh one."""
    if session.es_client is None or session.es_failure is not None:
        return Unavailable("Elasticsearch was not reached", "error"), {}
    client = session.es_client.widened(min(16, len(aliases) + 1))
    try:
        calls: dict[str, Callable[[], Any]] = {
            alias: _resolver(client, alias, session.timeout) for alias in aliases}
        results = parallel(calls)
        remote_info = parallel({"_remote_info": client.remote_info})["_remote_info"]
    finally:
        client.close()
    return remote_info, results


# A disconnected alias answers `connected: false` at once on 8.14-8.17 and the request starts a
# connection attempt: ask again, after these pauses (seconds), for up to half of the run's
# --timeout, to read that attempt's outcome. A slow link wants a larger --timeout.
RESOLVE_FIRST_PAUSE = 0.5
RESOLVE_PAUSE = 1.0


def _resolver(client: EsClient, alias: str, timeout: float) -> Callable[[], Any]:
    # The server-side timeout is shorter than ours so that the answer arrives in time.
    def resolve() -> Any:
        started = time.monotonic()
        answer = client.resolve_cluster(alias, max(1.0, timeout - 1.0))
        pause = RESOLVE_FIRST_PAUSE
        while _disconnected_without_error(answer, alias) and time.monotonic() - started + pause < timeout / 2:
            time.sleep(pause)
            answer = client.resolve_cluster(alias, max(1.0, timeout - 1.0))
            pause = RESOLVE_PAUSE
        return answer

    return resolve


def _disconnected_without_error(answer: Any, alias: str) -> bool:
    entry = answer.get(alias) if isinstance(answer, dict) else None
    return isinstance(entry, dict) and not entry.get("connected") and not entry.get("error")


def _api_keys(remote: SideSession | None, key_ids: dict[str, str]) -> dict[str, Read[Json]]:
    if remote is None or remote.es_client is None or remote.es_failure is not None:
        return {}
    client = remote.es_client
    unique = sorted(set(key_ids.values()))
    return parallel({key_id: partial(client.api_key, key_id) for key_id in unique})


def _prewarm_es_client() -> threading.Thread:
    """Import the Elasticsearch client while the Kubernetes reads wait on the network."""
    thread = threading.Thread(target=importlib.import_module, args=("kubectl_eckrc.collect.es",),
                              name="eckrc-prewarm-es", daemon=True)
    thread.start()
    return thread


def collect_live(scope: Scope, debug: bool = False, link_reads: bool = True,
                 progress: Progress | None = None) -> Snapshot:
    """Read everything doctor needs from both sides, within the scope's timeouts. Without
    `link_reads` (no selected check needs them) the TLS probes and `_resolve/cluster` are
    left out: they are what a black-holed link holds up."""
    # Milliseconds: a key or certificate that expired a moment ago must read as expired.
    taken_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    # The whole run stays within --timeout (+ start-up and rendering): the TLS probes, which are
    # what a black hole holds up, get what is left once the local side has named the links.
    deadline = time.monotonic() + scope.timeout
    _prewarm_es_client()
    local = open_side("local", scope.local, scope.timeout, debug)
    remote: SideSession | None = None
    opened: list[SideSession] = []  # a remote side found on the way (same_cluster_remote)
    try:
        remote = open_side("remote", scope.remote, scope.timeout, debug) if scope.remote else None
        return _collect(scope, local, remote, taken_at, deadline, debug, link_reads,
                        progress or Progress(False), opened)
    finally:
        local.close()
        for session in [remote, *opened]:
            if session is not None:
                session.close()


def _not_probed(alias: str) -> Unavailable:
    return Unavailable(f"link {alias} not probed: no check selected with --only needs it", "error")


def _time_left(deadline: float, timeout: float) -> float:
    """The probe timeout: never more than --timeout, never so little that a live peer fails."""
    return max(1.0, min(timeout, deadline - time.monotonic()))


def _collect(scope: Scope, local: SideSession, remote: SideSession | None, taken_at: str,
             deadline: float, debug: bool, link_reads: bool, progress: Progress,
             opened: list[SideSession] | None = None) -> Snapshot:
    started = time.monotonic()

    def phase(what: str) -> None:
        if debug:
            log(f"debug: {time.monotonic() - started:6.2f}s {what}")

    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="eckrc-side") as pool:
        remote_ready: Future[SideSession] | None = pool.submit(prepare, remote) if remote else None
        progress.set(f"reading the local cluster (context {local.resolved.context})")
        open_es(local)
        phase(f"local: Kubernetes read, Elasticsearch via {local.es_endpoint or 'nothing'}")
        basics = pool.submit(read_es_basics, local)
        elsewhere = [] if scope.alias else eck_aliases_elsewhere(local, remote)
        in_scope = [a for a in configured_aliases(local) if a not in elsewhere]
        aliases = [scope.alias] if scope.alias else in_scope
        phase(f"links in scope: {', '.join(aliases) or 'none'}")
        same_cluster = same_cluster_remote(scope, local, aliases)
        if same_cluster is not None:
            remote = open_side("remote", same_cluster, scope.timeout, debug)
            if opened is not None:
                opened.append(remote)
            remote_ready = pool.submit(prepare, remote)
            phase(f"remote: {same_cluster.namespace}/{same_cluster.es_name} through the local context")
        probe_timeout = _time_left(deadline, scope.timeout)
        probe_calls: dict[str, Callable[[], Any]] = {
            a: partial(_probe_link, local, a, probe_timeout) if link_reads else partial(_not_probed, a)
            for a in aliases}
        probes_future = pool.submit(parallel, probe_calls)
        if link_reads and aliases:
            addresses = ", ".join(link_settings(local, a).get("proxy_address") or a for a in aliases)
            progress.set(f"TLS handshake and _resolve/cluster via {addresses}",
                         time.monotonic() + probe_timeout)
        link_future = pool.submit(_local_link_reads, local, aliases if link_reads else [])
        if remote_ready is not None:
            if not link_reads:
                progress.set("reading the remote cluster")
            remote_ready.result()
            phase("remote: Kubernetes and Elasticsearch read")
        uses_future = pool.submit(read_uses, _client_or_failure(local), _remote_client(remote),
                                  aliases if link_reads else [], scope)
        follow_future = pool.submit(read_follow, _client_or_failure(local), scope)
        api_keys = _api_keys(remote, credential_key_ids(local, aliases))
        remote_info, resolved = link_future.result()
        phase("local: _remote/info and _resolve/cluster read")
        probes = probes_future.result()
        phase("TLS probes done")
        uses = uses_future.result()
        follow = follow_future.result()
        basics.result()
    local_side = to_side(local, es_state(local, remote_info, resolved, {}))
    remote_side: Side | Unavailable = NO_REMOTE
    if remote is not None:
        remote_side = to_side(remote, _remote_es_state(remote, api_keys))
    return Snapshot(
        schema_version=SCHEMA_VERSION,
        taken_at=taken_at,
        tool_version=__version__,
        source="live",
        local=local_side,
        remote=remote_side,
        aliases=aliases,
        probes=probes,
        notes=[*(f"alias {a} is set up by ECK (spec.remoteClusters, same Kubernetes cluster): its findings "
                 "name what ECK manages; fix does not write it"
                 for a in eck_managed_aliases(local) if a in aliases),
               *(f"alias {a} is set up by ECK towards {_eck_ref(local, a)} of the local context, not this "
                 f"run's remote side: check it with --alias {a} and no --remote-context" for a in elsewhere)],
        uses=uses,
        follow=follow,
    )


def _client_or_failure(session: SideSession) -> EsClient | Unavailable:
    if session.es_failure is not None:
        return session.es_failure
    return session.es_client or Unavailable("Elasticsearch was not reached", "error")


def _remote_client(remote: SideSession | None) -> EsClient | Unavailable:
    return NO_REMOTE_USES if remote is None else _client_or_failure(remote)


def _remote_es_state(remote: SideSession, api_keys: dict[str, Read[Json]]) -> EsState | Unavailable:
    remote_info: Read[Json] = Unavailable("not read on the remote side", "error")
    return es_state(remote, remote_info, {}, api_keys)
