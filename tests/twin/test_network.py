"""Simulated load balancers and broken network paths behave like the real things."""

from __future__ import annotations

import errno
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from tests.twin import pki
from tests.twin.network import (
    Acceptor,
    Address,
    BlackHole,
    LoopbackAllocator,
    TcpForwarder,
    TlsTerminatingProxy,
    listen,
    server_context,
)

ALLOC = LoopbackAllocator()


class Echo(Acceptor):
    def handle(self, conn: socket.socket, peer: Address) -> None:
        while data := conn.recv(1024):
            conn.sendall(b"echo:" + data)


class TlsEcho(Acceptor):
    def __init__(self, host: str, port: int, issued: pki.Issued) -> None:
        self.ctx = server_context(issued.chain_pem, issued.key_pem)
        self.received: list[bytes] = []
        super().__init__(host, port)

    def handle(self, conn: socket.socket, peer: Address) -> None:
        first = conn.recv(1, socket.MSG_PEEK)
        if first and first[0] != 0x16:
            self.received.append(conn.recv(1024))
            return
        tls = self.ctx.wrap_socket(conn, server_side=True)
        data = tls.recv(1024)
        tls.sendall(b"tls:" + data)


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = ALLOC.start(lambda h: Echo(h, 9200))
    yield server
    server.stop()


def _roundtrip(address: Address, payload: bytes) -> bytes:
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(payload)
        return sock.recv(1024)


def test_allocator_gives_unique_loopback_addresses() -> None:
    hosts = {ALLOC.next_host() for _ in range(500)}
    assert len(hosts) == 500
    assert all(h.startswith("127.") and not h.startswith("127.0.") for h in hosts)


def test_allocator_retries_another_address_when_one_is_in_use() -> None:
    tried: list[str] = []

    def factory(host: str) -> str:
        tried.append(host)
        if len(tried) == 1:
            raise OSError(errno.EADDRINUSE, "Address already in use")
        return host

    assert ALLOC.start(factory) == tried[1] != tried[0]


def test_load_balancer_forwards_round_robin(echo: Echo) -> None:
    other = ALLOC.start(lambda h: Echo(h, 9200))
    seen: list[Address] = []

    def targets() -> list[Address]:
        seen.append(echo.address)
        return [echo.address, other.address]

    lb = ALLOC.start(lambda h: TcpForwarder(h, 9443, targets))
    try:
        assert _roundtrip(lb.address, b"one") == b"echo:one"
        assert _roundtrip(lb.address, b"two") == b"echo:two"
    finally:
        lb.stop()
        other.stop()


class SaysByeThenListens(Acceptor):
    """Sends its last word and half-closes, then reads what the peer still sends, as a node does
    after a TLS alert (it lingers until the peer closes)."""

    def __init__(self, host: str, port: int) -> None:
        self.heard = b""
        self.done = threading.Event()
        super().__init__(host, port)

    def handle(self, conn: socket.socket, peer: Address) -> None:
        conn.sendall(b"bye")
        conn.shutdown(socket.SHUT_WR)
        while data := conn.recv(1024):
            self.heard += data
        self.done.set()


def test_load_balancer_passes_a_half_close_on_and_keeps_the_other_direction_open() -> None:
    backend = ALLOC.start(lambda h: SaysByeThenListens(h, 9300))
    lb = ALLOC.start(lambda h: TcpForwarder(h, 9443, lambda: [backend.address]))
    try:
        with socket.create_connection(lb.address, timeout=5) as sock:
            assert sock.recv(10) == b"bye"
            assert sock.recv(10) == b""  # the backend's end of stream, passed on
            sock.sendall(b"late bytes")
        assert backend.done.wait(5)
        assert backend.heard == b"late bytes"
    finally:
        lb.stop()
        backend.stop()


def test_load_balancer_without_backend_accepts_then_closes() -> None:
    lb = ALLOC.start(lambda h: TcpForwarder(h, 9443, lambda: []))
    try:
        with socket.create_connection(lb.address, timeout=5) as sock:
            assert sock.recv(10) == b""
    finally:
        lb.stop()


def test_nothing_listening_is_a_refusal() -> None:
    host = ALLOC.next_host()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, 9443), timeout=5)


def test_black_hole_accepts_and_never_answers() -> None:
    hole = ALLOC.start(lambda h: BlackHole(h, 9443))
    try:
        with socket.create_connection(hole.address, timeout=5) as sock:
            sock.settimeout(0.3)
            sock.sendall(b"hello")
            with pytest.raises(TimeoutError):
                sock.recv(10)
    finally:
        hole.stop()


def _proxy_pair(forward_plaintext: bool) -> tuple[TlsEcho, TlsTerminatingProxy, pki.Issued, pki.Issued]:
    backend_ca = pki.make_ca("backend-ca", key=pki.pooled_key(0))
    backend_cert = pki.make_leaf(
        backend_ca.cert, backend_ca.key, "backend", dns=["backend"], key=pki.pooled_key(1)
    )
    backend = ALLOC.start(lambda h: TlsEcho(h, 9443, backend_cert))
    fake = pki.ingress_fake_cert(key=pki.pooled_key(2))
    proxy = ALLOC.start(
        lambda h: TlsTerminatingProxy(
            h, 443, fake.cert_pem, fake.key_pem, lambda: [backend.address], forward_plaintext
        )
    )
    return backend, proxy, fake, backend_ca


def _client(trust: pki.Issued) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cadata=trust.cert_pem.decode())
    ctx.check_hostname = False
    return ctx


def test_tls_terminating_proxy_presents_its_own_certificate_and_reencrypts() -> None:
    backend, proxy, fake, backend_ca = _proxy_pair(forward_plaintext=False)
    try:
        with (
            pytest.raises(ssl.SSLCertVerificationError),
            socket.create_connection(proxy.address, timeout=5) as raw,
        ):
            _client(backend_ca).wrap_socket(raw)
        with socket.create_connection(proxy.address, timeout=5) as raw, _client(fake).wrap_socket(raw) as tls:
            tls.sendall(b"hi")
            assert tls.recv(100) == b"tls:hi"
    finally:
        proxy.stop()
        backend.stop()


def test_plaintext_forwarding_proxy_sends_decrypted_bytes_to_the_backend() -> None:
    backend, proxy, fake, _ = _proxy_pair(forward_plaintext=True)
    try:
        with socket.create_connection(proxy.address, timeout=5) as raw, _client(fake).wrap_socket(raw) as tls:
            tls.sendall(b"secret-free payload")
            assert tls.recv(100) == b""
        assert backend.received == [b"secret-free payload"]
    finally:
        proxy.stop()
        backend.stop()


def test_stop_releases_the_port() -> None:
    hole = ALLOC.start(lambda h: BlackHole(h, 9300))
    hole.stop()
    listen(hole.host, 9300).close()
