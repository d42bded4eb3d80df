"""Tiny loopback servers for collector tests: TLS, plaintext HTTP, black hole, echo."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_cert(cn: str, sans: list[str]) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def server_context(cert_pem: str, key_pem: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as handle:
        handle.write(cert_pem + key_pem)
        handle.flush()
        context.load_cert_chain(handle.name)
    return context


def _serve_forever(server: socket.socket, handle: Callable[[socket.socket], None],
                   stop: threading.Event) -> None:
    server.settimeout(0.1)
    while not stop.is_set():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        except OSError:
            return
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


@contextlib.contextmanager
def tcp_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    thread = threading.Thread(target=_serve_forever, args=(server, handle, stop), daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(1)
        server.close()


def tls_handler(context: ssl.SSLContext) -> Callable[[socket.socket], None]:
    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    return handle


def echo(conn: socket.socket) -> None:
    conn.settimeout(5)
    with contextlib.suppress(OSError), conn:
        while data := conn.recv(4096):
            conn.sendall(data)


@contextlib.contextmanager
def black_hole() -> Iterator[int]:
    """Accepts TCP (kernel backlog) and never says a word."""
    server = socket.create_server(("127.0.0.1", 0), backlog=16)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class NotElasticsearch(BaseHTTPRequestHandler):
    """Answers JSON like a REST API would, without the X-Elastic-Product header."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


@contextlib.contextmanager
def http_server(context: ssl.SSLContext | None = None,
                handler: type[BaseHTTPRequestHandler] | None = None) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler or NotElasticsearch)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class OldElasticsearch(BaseHTTPRequestHandler):
    """An Elasticsearch that predates `_resolve/cluster?timeout=` (answers 400 to it)."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if "timeout=" in self.path:
            status, body = 400, (b'{"error":{"type":"illegal_argument_exception","reason":"request '
                                 b'[/_resolve/cluster/remote-es:*] contains unrecognized parameter: '
                                 b'[timeout]"},"status":400}')
        else:
            status, body = 200, b'{"remote-es":{"connected":true,"skip_unavailable":true}}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return
