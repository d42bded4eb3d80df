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
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from kubectl_eckrc import __version__
from kubectl_eckrc.collect import kube_side
from kubectl_eckrc.collect.failures import ReadFailed
from kubectl_eckrc.collect.kube import KubeClient
from kubectl_eckrc.collect.portforward import PortForwardListener
from kubectl_eckrc.collect.tls_probe import probe
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.kubeconfig import ResolvedContext, resolve
from kubectl_eckrc.options import Scope, SideTarget
from kubectl_eckrc.output import log
from kubectl_eckrc.redact import remember
from kubectl_eckrc.snapshot import (
    SCHEMA_VERSION,
    EsState,
    KubeState,
    Read,
    SecretSummary,
    Side,
    Snapshot,
    TlsProbe,
    Unavailable,
)

if TYPE_CHECKING:  # imported lazily: see _prewarm_es_client
    from kubectl_eckrc.collect.es import EsAuth, EsClient

T = TypeVar("T")
REMOTE_KEY = re.compile(r"^cluster\.remote\.([a-z0-9_-]+)\.")
NO_REMOTE = Unavailable(
    "no access to the remote environment",
    "no-access",
    "pass --remote-context (and --remote-namespace) or --remote-kubeconfig",
)
PF_IDLE_SECONDS = 60.0
ES_HTTP_PORT = 9200


def attempt(fn: Callable[[], T]) -> T | Unavailable:
    """Run one read; its failure becomes the Unavailable the snapshot stores."""
    try:
        return fn()
    except ReadFailed as e:
        return e.unavailable


def parallel(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent reads at once; each bounds itself with its own timeout."""
    if not calls:
        return {}
    with ThreadPoolExecutor(max_workers=min(16, len(calls)), thread_name_prefix="eckrc-read") as pool:
        futures = {name: pool.submit(attempt, fn) for name, fn in calls.items()}
        return {name: f.result() for name, f in futures.items()}


@dataclass
class SideSession:
    """What one side's collection holds while it runs (clients, listener, secrets in memory)."""

    role: str
    target: SideTarget
    resolved: ResolvedContext
    timeout: float
    debug: bool
    kube: KubeClient | None = None
    kube_state: KubeState | Unavailable = field(default_factory=lambda: Unavailable("not read"))
    es_name: str = ""
    es_client: EsClient | None = None
    es_failure: Unavailable | None = None
    es_endpoint: str = ""
    es_basics: dict[str, Any] = field(default_factory=dict)
    listener: PortForwardListener | None = None

    def close(self) -> None:
        if self.es_client is not None:
            self.es_client.close()
        if self.listener is not None:
            self.listener.close()
        if self.kube is not None:
            self.kube.close()


# --- one side ----------------------------------------------------------------------------------


def _open_side(role: str, target: SideTarget, timeout: float, debug: bool) -> SideSession:
    prefix = "remote-" if role == "remote" else ""
    resolved = resolve(target, prefix)
    session = SideSession(role, target, resolved, timeout, debug)
    session.kube = KubeClient(resolved, timeout)
    return session


def _read_kube(session: SideSession) -> None:
    assert session.kube is not None
    state, es_name = kube_side.read_state(
        session.kube, session.role, session.resolved.context, session.resolved.namespace,
        session.target.es_name,
    )
    session.kube_state, session.es_name = state, es_name


def _auth(session: SideSession) -> EsAuth | Unavailable:
    from kubectl_eckrc.collect.es import EsAuth

    target = session.target
    if target.es_api_key_env:
        api_key = os.environ.get(target.es_api_key_env, "")
        remember(api_key)
        return EsAuth(api_key=api_key)
    if target.es_username_env and target.es_password_env:
        user_password = os.environ.get(target.es_password_env, "")
        remember(user_password)
        return EsAuth(username=os.environ.get(target.es_username_env, ""), password=user_password)
    if session.kube is None or not session.es_name:
        return Unavailable("no Elasticsearch credentials: the elastic user secret cannot be read", "error",
                           "--es-api-key-env VAR")
    ns = session.resolved.namespace
    password = attempt(lambda: session.kube.secret_text(  # type: ignore[union-attr]
        ns, f"{session.es_name}-es-elastic-user", "elastic"))
    if isinstance(password, Unavailable):
        return Unavailable(f"cannot read the elastic user's password: {password.reason}", password.kind,
                           password.permission or f"get secrets in namespace {ns}")
    if password is None:
        return Unavailable(f"secret {ns}/{session.es_name}-es-elastic-user has no key 'elastic'", "not-found",
                           "--es-api-key-env VAR")
    return EsAuth(username="elastic", password=password)


def _connect_es(session: SideSession) -> None:
    """The ES client of one side, or the reason there is none (stored as es_failure)."""
    from kubectl_eckrc.collect.es import EsClient

    auth = _auth(session)
    if isinstance(auth, Unavailable):
        session.es_failure = auth
        return
    ns = session.resolved.namespace
    ca = None
    if session.kube is not None and session.es_name:
        ca = kube_side.http_ca(session.kube, ns, session.es_name)
    if session.target.es_url:
        session.es_endpoint = session.target.es_url
        session.es_client = EsClient(session.target.es_url, auth, session.timeout,
                                     ca if isinstance(ca, str) else None, None, system_trust=True)
        return
    target = _port_forward_target(session, ca)
    if isinstance(target, Unavailable):
        session.es_failure = target
        return
    pod, scheme, ca_pem = target
    kube = session.kube
    assert kube is not None
    session.listener = PortForwardListener(lambda: kube.open_portforward(ns, pod, ES_HTTP_PORT),
                                           PF_IDLE_SECONDS, session.debug)
    session.es_endpoint = f"port-forward pod {ns}/{pod}:{ES_HTTP_PORT}"
    session.es_client = EsClient(f"{scheme}://127.0.0.1:{session.listener.port}", auth, session.timeout,
                                 ca_pem, f"{session.es_name}-es-http.{ns}.svc")


PortForwardTarget = tuple[str, str, str | None]  # pod, scheme, CA PEM


def _port_forward_target(session: SideSession,
                         ca: str | Unavailable | None) -> PortForwardTarget | Unavailable:
    state = session.kube_state
    if isinstance(state, Unavailable):
        return Unavailable(f"no port-forward without the Kubernetes API: {state.reason}", state.kind,
                           "--es-url URL")
    pod = kube_side.ready_pod(state.pods)
    if isinstance(pod, Unavailable):
        return pod
    if kube_side.http_tls_disabled(state.elasticsearch):
        return pod, "http", None
    if isinstance(ca, Unavailable):
        return Unavailable(f"cannot read the HTTP CA: {ca.reason}", ca.kind, ca.permission)
    if ca is None:
        name = f"{session.resolved.namespace}/{session.es_name}-es-http-certs-public"
        return Unavailable(f"secret {name} holds no ca.crt or tls.crt", "not-found")
    return pod, "https", ca


def _read_settings(session: SideSession) -> None:
    """The cluster settings first and alone: they name the links, whose probes should start
    as early as possible. A wrong endpoint shows here already."""
    client = session.es_client
    if client is None:
        return
    settings = attempt(client.settings)
    session.es_basics["settings"] = settings
    if isinstance(settings, Unavailable) and _wrong_endpoint(settings):
        if session.target.es_url:  # the user's own input is wrong: say so, as a usage error
            flag = "--remote-es-url" if session.role == "remote" else "--es-url"
            raise UsageError(f"{flag} {session.target.es_url}: {_after_url(settings.reason)}")
        session.es_failure = settings  # every other read would say the same


def _read_es_basics(session: SideSession) -> None:
    client = session.es_client
    if client is None or session.es_failure is not None:
        return
    calls: dict[str, Callable[[], Any]] = {
        "info": client.info, "health": client.health, "license": client.license,
        "node_settings": client.node_settings,
    }
    if session.role == "local":
        calls["roles"] = client.roles
    session.es_basics.update(parallel(calls))


def _wrong_endpoint(failure: Unavailable) -> bool:
    return "is not Elasticsearch" in failure.reason or "plaintext where TLS was expected" in failure.reason


def _after_url(reason: str) -> str:
    """'GET / at https://h:1: plaintext ...' -> 'plaintext ...'; keep 'X is not Elasticsearch'."""
    if "is not Elasticsearch" in reason:
        return "not Elasticsearch" + reason.split("is not Elasticsearch", 1)[1]
    return reason.rsplit(": ", 1)[-1] if "plaintext" not in reason else reason[reason.index("plaintext"):]


def _es_state(session: SideSession, remote_info: Read, resolve_cluster: dict[str, Read],
              api_keys: dict[str, Read]) -> EsState | Unavailable:
    if session.es_failure is not None:
        return session.es_failure
    if session.es_client is None:
        return Unavailable("Elasticsearch was not reached", "error")
    basics = session.es_basics
    missing = Unavailable("not read", "error")
    return EsState(
        endpoint=session.es_endpoint,
        info=basics.get("info", missing),
        health=basics.get("health", missing),
        license=basics.get("license", missing),
        settings=basics.get("settings", missing),
        node_settings=basics.get("node_settings", missing),
        remote_info=remote_info,
        resolve_cluster=resolve_cluster,
        api_keys=api_keys,
        roles=basics.get("roles", Unavailable("not read on the remote side", "error")),
    )


def _side(session: SideSession, es: EsState | Unavailable) -> Side:
    return Side(role=session.role, context=session.resolved.context, namespace=session.resolved.namespace,
                es_name=session.es_name, kube=session.kube_state, es=es)


def _open_es(session: SideSession) -> SideSession:
    _read_kube(session)
    _connect_es(session)
    _read_settings(session)
    return session


def _prepare(session: SideSession) -> SideSession:
    _open_es(session)
    _read_es_basics(session)
    return session


# --- links -------------------------------------------------------------------------------------


def configured_aliases(session: SideSession) -> list[str]:
    """Every alias the local cluster mentions: cluster settings, nodeSet config, credentials."""
    found: set[str] = set()
    settings = session.es_basics.get("settings")
    if isinstance(settings, dict):
        for scope in ("persistent", "transient"):
            found.update(_aliases_in(settings.get(scope) or {}))
    state = session.kube_state
    if isinstance(state, KubeState):
        found.update(_aliases_in(kube_side.nodeset_config(state.elasticsearch)))
        if isinstance(state.secrets, dict):
            for name in kube_side.secure_settings_names(state.elasticsearch):
                summary = state.secrets.get(name)
                if isinstance(summary, SecretSummary):
                    found.update(_aliases_in(summary.keys))
    return sorted(found)


def _aliases_in(keys: Any) -> set[str]:
    return {m.group(1) for key in keys if (m := REMOTE_KEY.match(str(key)))}


def link_settings(session: SideSession, alias: str) -> dict[str, str]:
    """The alias's flat settings, transient over persistent over nodeSet config."""
    merged: dict[str, str] = {}
    state = session.kube_state
    if isinstance(state, KubeState):
        merged.update(_prefixed(kube_side.nodeset_config(state.elasticsearch), alias))
    settings = session.es_basics.get("settings")
    if isinstance(settings, dict):
        for scope in ("persistent", "transient"):
            merged.update(_prefixed(settings.get(scope) or {}, alias))
    return merged


def _prefixed(flat: dict[str, Any], alias: str) -> dict[str, str]:
    prefix = f"cluster.remote.{alias}."
    return {k[len(prefix):]: _scalar(v) for k, v in flat.items() if k.startswith(prefix)}


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
    state = session.kube_state
    ids: dict[str, str] = {}
    if not isinstance(state, KubeState) or not isinstance(state.secrets, dict):
        return ids
    for name in kube_side.secure_settings_names(state.elasticsearch):
        summary = state.secrets.get(name)
        if not isinstance(summary, SecretSummary):
            continue
        for alias in aliases:
            key = summary.keys.get(f"cluster.remote.{alias}.credentials")
            if key is not None and key.credential is not None and key.credential.key_id:
                ids.setdefault(alias, key.credential.key_id)
    return ids


# --- the whole run -----------------------------------------------------------------------------


def _local_link_reads(session: SideSession, aliases: list[str]) -> tuple[Read, dict[str, Read]]:
    if session.es_client is None or session.es_failure is not None:
        return Unavailable("Elasticsearch was not reached", "error"), {}
    client = session.es_client.widened(min(16, len(aliases) + 1))
    try:
        calls: dict[str, Callable[[], Any]] = {"_remote_info": client.remote_info}
        for alias in aliases:
            calls[alias] = _resolver(client, alias, session.timeout)
        results = parallel(calls)
    finally:
        client.close()
    remote_info = results.pop("_remote_info")
    return remote_info, results


def _resolver(client: EsClient, alias: str, timeout: float) -> Callable[[], Any]:
    # The server-side timeout is shorter than ours so that the answer arrives in time.
    return lambda: client.resolve_cluster(alias, max(1.0, timeout - 1.0))


def _api_keys(remote: SideSession | None, key_ids: dict[str, str]) -> dict[str, Read]:
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


def collect_live(scope: Scope, debug: bool = False) -> Snapshot:
    """Read everything doctor needs from both sides, within the scope's timeouts."""
    taken_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _prewarm_es_client()
    local = _open_side("local", scope.local, scope.timeout, debug)
    remote = _open_side("remote", scope.remote, scope.timeout, debug) if scope.remote else None
    try:
        return _collect(scope, local, remote, taken_at, debug)
    finally:
        local.close()
        if remote is not None:
            remote.close()


def _collect(scope: Scope, local: SideSession, remote: SideSession | None, taken_at: str,
             debug: bool) -> Snapshot:
    started = time.monotonic()

    def phase(what: str) -> None:
        if debug:
            log(f"debug: {time.monotonic() - started:6.2f}s {what}")

    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="eckrc-side") as pool:
        remote_ready: Future[SideSession] | None = pool.submit(_prepare, remote) if remote else None
        _open_es(local)
        phase(f"local: Kubernetes read, Elasticsearch via {local.es_endpoint or 'nothing'}")
        basics = pool.submit(_read_es_basics, local)
        aliases = [scope.alias] if scope.alias else configured_aliases(local)
        phase(f"links in scope: {', '.join(aliases) or 'none'}")
        probe_calls: dict[str, Callable[[], Any]] = {
            a: partial(_probe_link, local, a, scope.timeout) for a in aliases}
        probes_future = pool.submit(parallel, probe_calls)
        link_future = pool.submit(_local_link_reads, local, aliases)
        if remote_ready is not None:
            remote_ready.result()
            phase("remote: Kubernetes and Elasticsearch read")
        api_keys = _api_keys(remote, credential_key_ids(local, aliases))
        remote_info, resolved = link_future.result()
        phase("local: _remote/info and _resolve/cluster read")
        probes = probes_future.result()
        phase("TLS probes done")
        basics.result()
    local_side = _side(local, _es_state(local, remote_info, resolved, {}))
    remote_side: Side | Unavailable = NO_REMOTE
    if remote is not None:
        remote_side = _side(remote, _remote_es_state(remote, api_keys))
    return Snapshot(
        schema_version=SCHEMA_VERSION,
        taken_at=taken_at,
        tool_version=__version__,
        source="live",
        local=local_side,
        remote=remote_side,
        aliases=aliases,
        probes=probes,
    )


def _remote_es_state(remote: SideSession, api_keys: dict[str, Read]) -> EsState | Unavailable:
    remote_info: Read = Unavailable("not read on the remote side", "error")
    return _es_state(remote, remote_info, {}, api_keys)
