"""The HTTPS Kubernetes API server of the twin, over a `Store`.

Serves discovery, the REST verbs of the resources in kube_resources.py (with Table output for
`kubectl get`), watch streams, pod logs and websocket port-forward; authenticates bearer tokens,
authorizes through `authorizer(user, verb, plural, namespace, name, subresource)`, answers
errors as `Status` objects and records every request in an `AuditLog`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.twin import discovery, kube_watch, portforward
from tests.twin.audit import AuditEntry, AuditLog
from tests.twin.kube_errors import BadRequest, KubeError, MethodNotAllowed, path_not_found, unauthorized
from tests.twin.kube_handlers import ApiRequest, ApiResponse, Authorizer, PodLogs, ResourceApi, allow_all
from tests.twin.kube_routes import Query, Route, parse_resource_path, verb_of
from tests.twin.kube_store import Store

log = logging.getLogger(__name__)

PodTarget = Callable[[str, str, int], "tuple[str, int] | None"]
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 120.0


class KubeApiServer:
    """`KubeApiServer(store, host, cert_pem, key_pem, tokens, authorizer, pod_target, pod_logs,
    audit)`; `start()`, `stop()`, `url`."""

    def __init__(self, store: Store, host: str = "127.0.0.1", cert_pem: bytes = b"", key_pem: bytes = b"",
                 tokens: dict[str, str] | None = None, authorizer: Authorizer | None = None,
                 pod_target: PodTarget | None = None, pod_logs: PodLogs | None = None,
                 audit: AuditLog | None = None, port: int = 0) -> None:
        self.store = store
        self.host = host
        self.tokens = dict(tokens or {})
        self.pod_target = pod_target
        self.audit = audit if audit is not None else AuditLog()
        self.api = ResourceApi(store, authorizer or allow_all, pod_logs)
        self.stopping = threading.Event()
        self._context = _server_context(cert_pem, key_pem)
        self._requested_port = port
        self._server: _TlsHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def start(self) -> KubeApiServer:
        self._server = _TlsHttpServer((self.host, self._requested_port), _Handler, self._context, self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"kube-api {self.host}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_all()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def user_of(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.tokens.get(token.strip())


def _server_context(cert_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_alpn_protocols(["http/1.1"])
    with tempfile.TemporaryDirectory(prefix="kube-api-") as tmp:
        cert_path, key_path = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
        with open(cert_path, "wb") as f:
            f.write(cert_pem)
        with open(key_path, "wb") as f:
            f.write(key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context


class _TlsHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 context: ssl.SSLContext, owner: KubeApiServer) -> None:
        self.context = context
        self.owner = owner
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs in the connection's thread so that a slow client never
        # blocks the accept loop.
        request.settimeout(HANDSHAKE_TIMEOUT)
        # Headers and body leave in separate writes: without NODELAY, Nagle plus the client's
        # delayed ACK would add ~40 ms to every response.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        conn.settimeout(IDLE_TIMEOUT)
        with self._open_lock:
            self._open.add(conn)
        try:
            super().finish_request(conn, client_address)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass
        finally:
            with self._open_lock:
                self._open.discard(conn)
            conn.close()

    def close_all(self) -> None:
        with self._open_lock:
            conns = list(self._open)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("kube api connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TlsHttpServer
    _audited = False
    _body_dry_run = False
    _audit_context: tuple[str, str, str, Route | None, Query] | None = None

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # ---- one request -----------------------------------------------------------------------

    def _serve(self) -> None:
        owner = self.server.owner
        url = urlsplit(self.path)
        query = Query.parse(url.query)
        route = parse_resource_path(url.path)
        body = self._read_body()
        self._body_dry_run = _delete_options_dry_run(body) if self.command == "DELETE" else False
        user = owner.user_of(self.headers.get("Authorization", "")) or ""
        code = 500
        self._audited = False
        # Audited before the response is written (see _respond): a client that has its answer
        # must find the request in the audit log, never race the handler thread to it.
        self._audit_context = (user, url.path, url.query, route, query)
        try:
            if not user:
                raise unauthorized()
            code = self._dispatch(owner, url.path, route, query, user, body)
        except KubeError as err:
            code = self._respond(ApiResponse(err.code, err.status()))
        except Exception:  # a twin bug must still answer like a server: 500 with a Status
            log.exception("kube api twin failed on %s %s", self.command, self.path)
            status = KubeError("Internal error occurred: the twin failed").status()
            code = self._respond(ApiResponse(500, status))
        finally:
            if not self._audited:
                self._audit(user, url.path, url.query, route, query, code)

    def _dispatch(self, owner: KubeApiServer, path: str, route: Route | None, query: Query, user: str,
                  body: bytes) -> int:
        if route is None:
            if self.command != "GET":
                raise MethodNotAllowed("the server does not allow this method on the requested resource", {})
            return self._respond(ApiResponse(200, _non_resource(owner, path)))
        request = ApiRequest(self.command, route, query, user, self.headers.get("Accept", "application/json"),
                             self.headers.get("Content-Type", ""), body)
        if route.subresource == "portforward":
            return self._port_forward(owner, request)
        if self.command == "GET" and query.flag("watch"):
            rt = owner.api.resolve(route)
            owner.api.authorize(request, rt)
            self.close_connection = True
            # Long-running requests are audited when the response starts, as a real server does.
            self._audit(user, urlsplit(self.path).path, urlsplit(self.path).query, route, query, 200)
            return kube_watch.stream(self, owner.store, rt, route, query, owner.stopping)
        return self._respond(owner.api.handle(request))

    def _port_forward(self, owner: KubeApiServer, request: ApiRequest) -> int:
        rt = owner.api.resolve(request.route)
        owner.api.authorize(request, rt)
        pod = owner.store.get("pods", request.route.namespace, request.route.name)
        if self.headers.get("Upgrade", "").lower() != "websocket":
            raise BadRequest("Upgrade request required")
        ports = [p for value in request.query.values.get("ports", []) for p in value.split(",") if p]
        if not ports or not all(p.isdigit() and 0 < int(p) < 65536 for p in ports):
            raise BadRequest("invalid port specification: ports must be given as ports=<n>")
        head = f"{self.requestline}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in self.headers.items()) + "\r\n"
        self.close_connection = True
        url = urlsplit(self.path)
        self._audit(request.user, url.path, url.query, request.route, request.query, 101)
        return portforward.serve(self.connection, head.encode("latin-1"), pod, [int(p) for p in ports],
                                 owner.pod_target, owner.stopping)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return b""

    def _respond(self, response: ApiResponse) -> int:
        if isinstance(response.body, str):
            payload, content_type = response.body.encode(), "text/plain"
        else:
            payload, content_type = json.dumps(response.body).encode(), response.content_type
        self.send_response(response.code)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", content_type)
        for warning in response.warnings:
            escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
            self.send_header("Warning", f'299 - "{escaped}"')
        self.send_header("Content-Length", str(len(payload)))
        if not self._audited and self._audit_context is not None:
            self._audit(*self._audit_context, response.code)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        return response.code

    def send_response(self, code: int, message: str | None = None) -> None:
        # A real API server sends no Server header; keep Date like it does.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def _audit(self, user: str, path: str, raw_query: str, route: Route | None, query: Query,
               code: int) -> None:
        entry = AuditEntry(
            time=datetime.now(UTC), user=user, method=self.command, path=path, query=raw_query,
            content_type=self.headers.get("Content-Type", ""), code=code,
            verb=_safe_verb(self.command, route, query), plural=route.plural if route else "",
            namespace=route.namespace if route else "", name=route.name if route else "",
            subresource=route.subresource if route else "", dry_run=query.dry_run or self._body_dry_run,
        )
        self.server.owner.audit.record(entry)
        self._audited = True


def _delete_options_dry_run(body: bytes) -> bool:
    try:
        options = json.loads(body) if body.strip() else {}
    except ValueError:
        return False
    return isinstance(options, dict) and "All" in (options.get("dryRun") or [])


def _safe_verb(method: str, route: Route | None, query: Query) -> str:
    if route is None:
        return ""
    try:
        return verb_of(method, route, query)
    except KubeError:
        return ""


def _non_resource(owner: KubeApiServer, path: str) -> Any:
    served = owner.api.served_types()
    parts = [p for p in path.split("/") if p]
    document: Any = None
    if parts == ["version"]:
        document = discovery.version_info()
    elif parts in (["healthz"], ["livez"], ["readyz"]):
        document = "ok"
    elif parts == ["api"]:
        document = discovery.api_versions(f"{owner.host}:{owner.port}")
    elif parts == ["apis"]:
        document = discovery.api_group_list(served)
    elif len(parts) == 2 and parts[0] == "api":
        document = discovery.resource_list("", parts[1], served)
    elif len(parts) == 2 and parts[0] == "apis":
        document = discovery.api_group(parts[1], served)
    elif len(parts) == 3 and parts[0] == "apis":
        document = discovery.resource_list(parts[1], parts[2], served)
    elif parts == ["openapi", "v3"]:
        document = discovery.openapi_v3_root(served)
    elif parts[:3] == ["openapi", "v3", "api"] and len(parts) == 4:
        document = discovery.openapi_v3_document("", parts[3], served)
    elif parts[:3] == ["openapi", "v3", "apis"] and len(parts) == 5:
        document = discovery.openapi_v3_document(parts[3], parts[4], served)
    if document is None:
        raise path_not_found()
    return document
