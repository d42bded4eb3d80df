"""One side of a live collection: its Kubernetes reads, its Elasticsearch client, its basics.

`SideSession` holds what one side needs while a collection runs (clients, the port-forward
listener, credentials in memory). live.py orchestrates two of them; fix reuses them to write.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kubectl_eckrc import eck
from kubectl_eckrc.collect import kube_side
from kubectl_eckrc.collect.failures import ReadFailed, attempt, parallel
from kubectl_eckrc.collect.kube import KubeClient
from kubectl_eckrc.collect.portforward import PortForwardListener
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.kubeconfig import ResolvedContext, resolve
from kubectl_eckrc.options import SideTarget
from kubectl_eckrc.redact import redact_url, remember
from kubectl_eckrc.snapshot import EsState, Json, KubeState, Read, Side, Unavailable

if TYPE_CHECKING:  # imported lazily: the client is imported while Kubernetes reads run
    from kubectl_eckrc.collect.es import EsAuth, EsClient

PF_IDLE_SECONDS = 60.0
ES_HTTP_PORT = 9200
ROLLOUT_POLL_SECONDS = 0.5


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
    es_pod: tuple[str, str] = ("", "")  # (name, uid) of the pod the port-forward goes to

    def close(self) -> None:
        self.close_es()
        if self.kube is not None:
            self.kube.close()

    def close_es(self) -> None:
        if self.es_client is not None:
            self.es_client.close()
        if self.listener is not None:
            self.listener.close()
        self.es_client, self.listener, self.es_failure, self.es_endpoint = None, None, None, ""
        self.es_pod = ("", "")
        self.es_basics = {}


# --- one side ----------------------------------------------------------------------------------


def open_side(role: str, target: SideTarget, timeout: float, debug: bool) -> SideSession:
    prefix = "remote-" if role == "remote" else ""
    resolved = resolve(target, prefix)
    session = SideSession(role, target, resolved, timeout, debug)
    session.kube = KubeClient(resolved, timeout)
    return session


def read_kube(session: SideSession) -> None:
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
    state = session.kube_state
    if isinstance(state, Unavailable) and state.kind in ("unreachable", "timeout"):
        # the API is down: that is the cause (exit 3), not a credential problem
        return Unavailable(f"no Elasticsearch credentials without the Kubernetes API: {state.reason}",
                           state.kind, "--es-api-key-env VAR")
    if session.kube is None or not session.es_name:
        return Unavailable("no Elasticsearch credentials: the elastic user secret cannot be read", "error",
                           "--es-api-key-env VAR")
    if target.es_url:
        _check_password_destination(session.role, target)
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


def _check_password_destination(role: str, target: SideTarget) -> None:
    """The elastic password read from the cluster goes to a URL the user typed only when asked
    for, and never over plain http:// but to loopback (a port-forward is loopback)."""
    flag = "--remote-" if role == "remote" else "--"
    url = target.es_url or ""
    if not target.es_url_elastic_user:
        raise UsageError(f"{flag}es-url: give credentials with {flag}es-api-key-env or {flag}es-username-env/"
                         f"{flag}es-password-env, or send the elastic user's password read from the cluster "
                         f"to that URL with {flag}es-url-elastic-user")
    parts = urlsplit(url)
    if parts.scheme == "http" and not _loopback(parts.hostname or ""):
        raise UsageError(f"{flag}es-url {redact_url(url)}: the elastic password is never sent over plain "
                         "http:// except to loopback; use https://, or an API key with "
                         f"{flag}es-api-key-env")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def connect_es(session: SideSession) -> None:
    """The ES client of one side, or the reason there is none (stored as es_failure)."""
    from kubectl_eckrc.collect.es import EsClient

    ns = session.resolved.namespace
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eckrc-ca") as pool:
        ca_read = None
        if session.kube is not None and session.es_name:
            ca_read = pool.submit(kube_side.http_ca, session.kube, ns, session.es_name)
        auth = _auth(session)
        ca = ca_read.result() if ca_read is not None else None
    if isinstance(auth, Unavailable):
        session.es_failure = auth
        return
    if session.target.es_url:
        session.es_endpoint = redact_url(session.target.es_url)
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
    session.es_pod = (pod, _pod_uid(session.kube_state, pod))
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


def _pod_uid(state: KubeState | Unavailable, name: str) -> str:
    pods = state.pods if isinstance(state, KubeState) and isinstance(state.pods, list) else []
    return next((str(p["metadata"].get("uid", "")) for p in pods if p["metadata"]["name"] == name), "")


def connect_through_rollout(session: SideSession) -> None:
    """connect_es + read_settings; a port-forward that meets a rollout (no pod ready, or the pod
    it picked was replaced meanwhile: `fix` rolls pods) waits for a ready pod within --timeout,
    then says that a rollout is in progress."""
    deadline = time.monotonic() + session.timeout
    while True:
        connect_es(session)
        read_settings(session)
        if not _met_rollout(session):
            return
        if time.monotonic() + ROLLOUT_POLL_SECONDS > deadline:
            session.es_failure = _rollout_in_progress(session)
            return
        time.sleep(ROLLOUT_POLL_SECONDS)
        session.close_es()


def _met_rollout(session: SideSession) -> bool:
    """True when the failure to reach Elasticsearch is a pod coming and going. Re-lists the
    pods (kept in the session's state) to tell that from a real failure."""
    failure, state, kube = session.es_failure, session.kube_state, session.kube
    if failure is None or session.target.es_url or kube is None or not isinstance(state, KubeState):
        return False
    if failure.kind == "forbidden" or not isinstance(state.pods, list):
        return False
    if failure.reason != kube_side.NO_READY_POD and not session.es_pod[0]:
        return False
    ns = session.resolved.namespace
    pods = attempt(lambda: kube.core_list("pods", ns, f"{kube_side.CLUSTER_LABEL}={session.es_name}"))
    if isinstance(pods, Unavailable):
        return False
    session.kube_state = replace(state, pods=pods)
    if failure.reason == kube_side.NO_READY_POD:
        return True
    name, uid = session.es_pod
    still_there = any(p["metadata"]["name"] == name and str(p["metadata"].get("uid", "")) == uid
                      and eck.is_ready(p) for p in pods)
    return not still_there


def _rollout_in_progress(session: SideSession) -> Unavailable:
    """After the wait: a rollout when the pods or the resource say so, else the plain failure."""
    state = session.kube_state
    failure = session.es_failure or Unavailable(kube_side.NO_READY_POD, "unreachable", "--es-url URL")
    if not isinstance(state, KubeState) or not isinstance(state.pods, list):
        return failure
    ready = sum(1 for p in state.pods if eck.is_ready(p))
    es = state.elasticsearch if isinstance(state.elasticsearch, dict) else {}
    phase = str((es.get("status") or {}).get("phase") or "")
    if phase != "ApplyingChanges" and ready == len(state.pods) and state.pods:
        return failure
    return Unavailable(
        f"a rollout is in progress ({ready} of {len(state.pods)} Elasticsearch pods ready after "
        f"{session.timeout:g}s): rerun when it has finished, or raise --timeout",
        "unreachable", "--es-url URL")


def read_settings(session: SideSession) -> None:
    """The cluster settings first and alone: they name the links, whose probes should start
    as early as possible. A wrong endpoint shows here already."""
    client = session.es_client
    if client is None:
        return
    settings = attempt(client.settings)
    tunnel = session.listener.last_failure if session.listener is not None else None
    if isinstance(settings, Unavailable) and isinstance(tunnel, ReadFailed):
        settings = tunnel.unavailable  # the port-forward itself failed (e.g. RBAC): say that
        session.es_failure = settings
    session.es_basics["settings"] = settings
    if isinstance(settings, Unavailable) and _wrong_endpoint(settings):
        if session.target.es_url:  # the user's own input is wrong: say so, as a usage error
            flag = "--remote-es-url" if session.role == "remote" else "--es-url"
            raise UsageError(f"{flag} {redact_url(session.target.es_url)}: {_after_url(settings.reason)}")
        session.es_failure = settings  # every other read would say the same


def read_es_basics(session: SideSession) -> None:
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


def es_state(session: SideSession, remote_info: Read[Json], resolve_cluster: dict[str, Read[Json]],
              api_keys: dict[str, Read[Json]]) -> EsState | Unavailable:
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


def to_side(session: SideSession, es: EsState | Unavailable) -> Side:
    return Side(role=session.role, context=session.resolved.context, namespace=session.resolved.namespace,
                es_name=session.es_name, kube=session.kube_state, es=es)


def open_es(session: SideSession) -> SideSession:
    """Kubernetes reads, then the ES client and its settings while the referenced
    ConfigMaps/Secrets are still being read: the settings name the links to probe."""
    assert session.kube is not None
    kube, ns = session.kube, session.resolved.namespace
    state, session.es_name = kube_side.read_core(kube, session.role, session.resolved.context, ns,
                                                 session.target.es_name)
    session.kube_state = state
    if not isinstance(state, KubeState) or not session.es_name:
        connect_through_rollout(session)
        return session
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eckrc-refs") as pool:
        references = pool.submit(kube_side.read_references, kube, ns, session.es_name, state)
        try:
            connect_through_rollout(session)
        finally:
            read = references.result()
            pods = session.kube_state.pods if isinstance(session.kube_state, KubeState) else read.pods
            session.kube_state = replace(read, pods=pods)  # the pods as last seen (a rollout)
    return session


def prepare(session: SideSession) -> SideSession:
    open_es(session)
    read_es_basics(session)
    return session
