"""One simulated Elasticsearch cluster: per pod an HTTPS REST listener (9200), a transport
listener (9300) and, when the pod's config enables it, the remote cluster server (9443), all on
the pod's own loopback address and sharing one cluster state.

The simulated operator calls `set_nodes([NodeView])` at every (simulated) pod start; a pod
whose view changed is restarted: listeners re-opened on the same address, connections
dropped, remote links re-established with the new files and keystore, a fresh log.
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
from tests.twin.es_node import NodeView, supports_rcs
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
        node = LocalNode(view, cluster, cluster.resolve_host, cluster.route, cluster.in_network)
        self.links = PodLinks(
            node, lambda: cluster.settings.effective(view.config), cluster.timeouts, self.log
        )

    def stop_listeners(self) -> None:
        for listener in (self.http, self.transport, self.rcs):
            if listener is not None:
                listener.stop()

    def stop(self) -> None:
        self.links.stop()
        self.stop_listeners()


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
    ) -> None:
        self.name = name
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
        """Make the running pods match `views`; a changed view restarts that pod."""
        wanted = {v.pod: v for v in views}
        with self._lock:
            for pod in [p for p in self._pods if p not in wanted]:
                self._stop_pod(pod)
            for pod, view in wanted.items():
                current = self._pods.get(pod)
                if current is not None and current.view.fingerprint() == view.fingerprint():
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
