"""One simulated Elasticsearch cluster: per pod an HTTPS REST listener (9200), a transport
listener (9300) and, when the pod's config enables it, the remote cluster server (9443), all on
the pod's own loopback address and sharing one cluster state.

The simulated operator calls `set_nodes([NodeView])` at every (simulated) pod start and
kubelet sync. A pod whose config, keystore or address changed is restarted: listeners re-opened
on the same address, connections dropped, remote links re-established, a fresh log. A pod whose
files or transport certificate changed keeps running and takes them as Elasticsearch's SSL
reload does (`SslReload`): at the next check of `resource.reload.interval.high`, for new
connections only.
"""

from __future__ import annotations

import base64
import errno
import fnmatch
import ipaddress
import secrets
import socket
import socketserver
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.twin import es_ccs
from tests.twin.es_logs import PodLog
from tests.twin.es_node import NodeView, absolute_config_path, supports_rcs
from tests.twin.es_routes import Request, dispatch
from tests.twin.es_security import SecurityStore, now_ms
from tests.twin.es_settings import ClusterSettings
from tests.twin.es_signing import supports_signing
from tests.twin.network import Address, LoopbackAllocator, close_quietly, server_context
from tests.twin.remote_client import LinkTimeouts, LocalNode
from tests.twin.remote_link import PodLinks
from tests.twin.remote_server import DEFAULT_PROFILE, RCS_PROFILE, NodeListener

__all__ = ["EsCluster", "NodeView", "LinkTimeouts"]

HTTP_PORT, TRANSPORT_PORT, RCS_PORT = 9200, 9300, 9443
HTTP_IDLE_TIMEOUT = 60.0
# resource.reload.interval.high when the node config does not set it: Elasticsearch's default is
# 5 s (ResourceWatcherService.Frequency.HIGH); the twin checks more often to keep tests quick.
SSL_RELOAD_INTERVAL = 0.25
RELOAD_INTERVAL_SETTING = "resource.reload.interval.high"
RELOAD_ENABLED_SETTING = "resource.reload.enabled"
SSL_RELOADER = "org.elasticsearch.xpack.core.ssl.SSLConfigurationReloader"
_TIME_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def ssl_prefixes_of(view: NodeView, path: str) -> list[str]:
    """The SSL configurations that depend on a config file (ECK mounts the transport
    certificates at transport-certs/, which the transport and remote cluster server use)."""
    if path.startswith("transport-certs/"):
        return ["xpack.security.transport.ssl", "xpack.security.remote_cluster_server.ssl"]
    client = "xpack.security.remote_cluster_client.ssl"
    if absolute_config_path(path) in {absolute_config_path(p) for p in view.ca_paths(client)}:
        return [client]
    return []


def time_value(text: Any, default: float) -> float:
    """An Elasticsearch time setting ("5s", "500ms", "1m") in seconds; `default` when unset."""
    if text is None:
        return default
    value = str(text).strip()
    for unit in sorted(_TIME_UNITS, key=len, reverse=True):
        if value.endswith(unit) and value[: -len(unit)].strip().isdigit():
            return int(value[: -len(unit)]) * _TIME_UNITS[unit]
    raise ValueError(f"failed to parse setting [{RELOAD_INTERVAL_SETTING}] with value [{value}]")


def default_resolver(host: str) -> str | None:
    """Only IP literals and localhost resolve: cluster-internal names never do from outside."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = HTTP_IDLE_TIMEOUT
    server: _HttpServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, dict(self.headers.items()), body)
        response = self.server.app(request)
        payload = response.encoded()
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload) if self.command != "HEAD" else 0))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve  # noqa: N815 - http.server naming

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server signature
        return


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn): slow and useless here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]  # type: ignore[assignment]

    def __init__(self, address: Address, ctx: ssl.SSLContext, app: Callable[[Request], Any]) -> None:
        super().__init__(address, _Handler)
        self.ctx = ctx
        self.app = app
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(5.0)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self._lock:
            self._conns.add(tls)
        try:
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(tls)
            close_quietly(tls)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            close_quietly(conn)


class _Pod:
    """The running listeners, links and log of one pod (one simulated container start)."""

    def __init__(self, cluster: EsCluster, view: NodeView, host: str) -> None:
        self.view = view
        self.host = host
        self.started_ms = now_ms()
        self.log = PodLog(view.pod)
        self.http: _HttpServer | None = None
        self.transport: NodeListener | None = None
        self.rcs: NodeListener | None = None
        try:
            self.http = _HttpServer(
                (host, cluster.http_port), cluster.http_context, lambda req: dispatch(cluster, view.pod, req)
            )
            self.transport = NodeListener(
                host, cluster.transport_port, DEFAULT_PROFILE, cluster, view, self.log, cluster
            )
            if view.rcs_enabled and supports_rcs(cluster.version):
                self.rcs = NodeListener(host, cluster.rcs_port, RCS_PROFILE, cluster, view, self.log, cluster)
        except OSError:
            self.stop_listeners()
            raise
        self.log.log("INFO", "org.elasticsearch.node.Node", "started {" + view.pod + "}")
        self.node = LocalNode(view, cluster, cluster.resolve_host, cluster.route, cluster.in_network)
        self.links = PodLinks(
            self.node, lambda: cluster.settings.effective(view.config), cluster.timeouts, self.log
        )
        self.reload = SslReload(self, cluster.ssl_reload_interval)

    def take(self, view: NodeView, changed: list[str]) -> None:
        """Reloaded key and trust material: new handshakes (in and out) use `view`."""
        self.view = view
        self.node.view = view
        for listener in (self.transport, self.rcs):
            if listener is not None:
                listener.reload(view)
        self.links.reload_signing()
        for path in changed:
            prefixes = ssl_prefixes_of(view, path)
            if prefixes:
                self.log.log("INFO", SSL_RELOADER,
                             f"updated {len(prefixes)} ssl contexts in 0.1ms for prefix names "
                             f"[{', '.join(prefixes)}] using file [{absolute_config_path(path)}]")

    def stop_listeners(self) -> None:
        for listener in (self.http, self.transport, self.rcs):
            if listener is not None:
                listener.stop()

    def stop(self) -> None:
        self.reload.cancel()
        self.links.stop()
        self.stop_listeners()


class SslReload:
    """Elasticsearch's SSL reload: `ResourceWatcherService` checks the files an SSL configuration
    depends on every `resource.reload.interval.high` and `SSLConfigurationReloader` rebuilds the
    context of a changed one. What the pod's files hold changes at once (kubelet); the node uses
    it from the next check on, and never with `resource.reload.enabled: false`."""

    def __init__(self, pod: _Pod, default_interval: float) -> None:
        self._pod = pod
        self._lock = threading.Lock()
        self._pending: NodeView | None = None
        self._timer: threading.Timer | None = None
        config = pod.view.config
        self.enabled = str(config.get(RELOAD_ENABLED_SETTING, "true")).lower() != "false"
        self.interval = time_value(config.get(RELOAD_INTERVAL_SETTING), default_interval)
        self._started = time.monotonic()

    def offer(self, view: NodeView) -> None:
        """The files as they are now; taken at the next check."""
        if not self.enabled:
            return
        with self._lock:
            self._pending = view
            if self._timer is None:
                elapsed = time.monotonic() - self._started
                wait = self.interval - (elapsed % self.interval)  # checks run at a fixed delay
                self._timer = threading.Timer(wait, self._check)
                self._timer.daemon = True
                self._timer.start()

    def _check(self) -> None:
        with self._lock:
            view, self._timer = self._pending, None
        if view is None:
            return
        before, after = self._pod.view.files, view.files
        self._pod.take(view, sorted(p for p in {*before, *after} if before.get(p) != after.get(p)))
        with self._lock:  # pending until taken: settle() waits for it
            if self._pending is view:
                self._pending = None

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._pending is not None

    def cancel(self) -> None:
        with self._lock:
            timer, self._timer, self._pending = self._timer, None, None
        if timer is not None:
            timer.cancel()


class EsCluster:
    """One Elasticsearch cluster of the twin."""

    def __init__(
        self,
        name: str,
        namespace: str,
        version: str,
        http_ca_pem: bytes,
        http_cert_pem: bytes,
        http_key_pem: bytes,
        elastic_password: str,
        license_type: str = "trial",
        addresses: LoopbackAllocator | Callable[[str], str] | None = None,
        resolve_host: Callable[[str], str | None] = default_resolver,
        timeouts: LinkTimeouts | None = None,
        route: Callable[[str, int], tuple[str, int]] | None = None,
        in_network: Callable[[str], bool] | None = None,
        http_port: int = HTTP_PORT,
        transport_port: int = TRANSPORT_PORT,
        rcs_port: int = RCS_PORT,
        ssl_reload_interval: float = SSL_RELOAD_INTERVAL,
    ) -> None:
        self.name = name
        self.ssl_reload_interval = ssl_reload_interval
        self.namespace = namespace
        self.version = version
        self.http_ca_pem = http_ca_pem
        self.http_context = server_context(http_cert_pem, http_key_pem)
        self.license_type = license_type
        self.license_uid = str(uuid.uuid4())
        self.license_issued_ms = now_ms()
        self.uuid = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        self.security = SecurityStore(elastic_password)
        self.settings = ClusterSettings(signing=supports_signing(version))
        self.indices: set[str] = set()
        self.documents: dict[str, list[dict[str, Any]]] = {}  # index -> documents (es_ccs*.py)
        self.addresses = addresses or LoopbackAllocator()
        self.resolve_host = resolve_host
        self.route = route or (lambda ip, port: (ip, port))  # the pods' network (pod_network.py)
        self.in_network = in_network or (lambda ip: False)  # a pod IP of the same Kubernetes cluster
        self.timeouts = timeouts or LinkTimeouts()
        self.http_port, self.transport_port, self.rcs_port = http_port, transport_port, rcs_port
        self._pods: dict[str, _Pod] = {}
        self._hosts: dict[str, str] = {}
        self._node_ids: dict[str, str] = {}
        self._previous_logs: dict[str, PodLog] = {}
        self._lock = threading.RLock()

    # ---- pods ----------------------------------------------------------------------------

    def set_nodes(self, views: Iterable[NodeView]) -> None:
        """Make the running pods match `views`: a pod whose config, keystore or address changed
        restarts; one whose files or certificates changed reloads them on its schedule."""
        wanted = {v.pod: v for v in views}
        with self._lock:
            for pod in [p for p in self._pods if p not in wanted]:
                self._stop_pod(pod)
            for pod, view in wanted.items():
                current = self._pods.get(pod)
                if current is not None and current.view.fingerprint() == view.fingerprint():
                    current.reload.cancel()  # back to what it runs with
                    continue
                if current is not None and current.view.restart_fingerprint() == view.restart_fingerprint():
                    current.reload.offer(view)
                    continue
                if current is not None:
                    self._stop_pod(pod)
                self._pods[pod] = self._start_pod(view)

    def _stop_pod(self, pod: str) -> None:
        runtime = self._pods.pop(pod)
        runtime.stop()
        self._previous_logs[pod] = runtime.log

    def _start_pod(self, view: NodeView) -> _Pod:
        host = self._hosts.get(view.pod)
        if host is not None:
            try:
                return _Pod(self, view, host)
            except OSError as err:
                if err.errno != errno.EADDRINUSE:
                    raise
        if not isinstance(self.addresses, LoopbackAllocator):
            # The environment decides each pod's address (its simulated pod IP).
            runtime = _Pod(self, view, self.addresses(view.pod))
        else:
            runtime = self.addresses.start(lambda h: _Pod(self, view, h))
        self._hosts[view.pod] = runtime.host
        return runtime

    def pods(self) -> list[str]:
        with self._lock:
            return sorted(self._pods)

    def reloads_pending(self) -> bool:
        """Whether some pod has changed files it has not reloaded yet."""
        with self._lock:
            return any(runtime.reload.pending for runtime in self._pods.values())

    def _pod(self, pod: str) -> _Pod | None:
        with self._lock:
            return self._pods.get(pod)

    def node_view(self, pod: str) -> NodeView | None:
        runtime = self._pod(pod)
        return runtime.view if runtime else None

    def http_address(self, pod: str) -> Address | None:
        runtime = self._pod(pod)
        return runtime.http.server_address[:2] if runtime and runtime.http else None  # type: ignore[return-value]

    def transport_address(self, pod: str) -> Address | None:
        runtime = self._pod(pod)
        return runtime.transport.address if runtime and runtime.transport else None

    def rcs_address(self, pod: str) -> Address | None:
        runtime = self._pod(pod)
        return runtime.rcs.address if runtime and runtime.rcs else None

    def links(self, pod: str) -> PodLinks:
        runtime = self._pod(pod)
        if runtime is None:
            raise KeyError(pod)
        return runtime.links

    def pod_started_ms(self, pod: str) -> int:
        runtime = self._pod(pod)
        return runtime.started_ms if runtime else 0

    def node_id(self, pod: str) -> str:
        with self._lock:
            if pod not in self._node_ids:
                self._node_ids[pod] = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
            return self._node_ids[pod]

    def pod_log(self, pod: str, previous: bool = False) -> PodLog | None:
        if previous:
            return self._previous_logs.get(pod)
        runtime = self._pod(pod)
        return runtime.log if runtime else None

    def logs(self, pod: str, fmt: str = "json", previous: bool = False) -> str:
        """What `kubectl logs` prints for the pod: ECS JSON lines (or `fmt="plain"`)."""
        log = self.pod_log(pod, previous)
        return log.render(self.name, self.uuid, fmt) if log else ""

    def stop(self) -> None:
        with self._lock:
            for pod in list(self._pods):
                self._stop_pod(pod)

    # ---- cluster state -------------------------------------------------------------------

    def settings_changed(self) -> None:
        with self._lock:
            runtimes = list(self._pods.values())
        for runtime in runtimes:
            runtime.links.refresh()

    def set_license(self, license_type: str) -> None:
        self.license_type = license_type
        self.license_uid = str(uuid.uuid4())
        self.license_issued_ms = now_ms()

    def add_index(self, name: str) -> None:
        self.indices.add(name)
        self.documents.setdefault(name, [])

    def serve_request(
        self, frame: dict[str, Any], profile: str, signer_dn: str | None = None
    ) -> dict[str, Any]:
        """A cross-cluster request that arrived through a link (after its handshake); `signer_dn`:
        the DN of its verified signature."""
        return es_ccs.serve_remote(self, frame, profile, signer_dn)

    def matching_indices(self, pattern: str) -> bool:
        return any(fnmatch.fnmatchcase(index, p) for index in self.indices for p in pattern.split(","))

    def sniff_nodes(self, profile: str) -> list[dict[str, str]]:
        """Publish addresses the remote hands to a sniffing client (pod IPs, cluster-internal)."""
        port = self.rcs_port if profile == RCS_PROFILE else self.transport_port
        with self._lock:
            views = [runtime.view for runtime in self._pods.values()]
        return [
            {"name": v.pod, "id": self.node_id(v.pod), "address": f"{v.publish_ip}:{port}"} for v in views
        ]

    def remote_info(self, pod: str) -> dict[str, Any]:
        return self.links(pod).remote_info()

    def wait_for_links(self, timeout: float) -> bool:
        """Wait until every pod's remote links finished a first attempt (connected or failed).

        A black hole keeps an attempt in flight for the TLS timeout: callers choose how long a
        settle may wait and get False when some link is still trying.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            runtimes = list(self._pods.values())
        return all(runtime.links.wait_settled(deadline) for runtime in runtimes)
