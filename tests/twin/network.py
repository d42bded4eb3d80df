"""Loopback networking for the twin: addresses, simulated load balancers and broken paths.

Every simulated host gets its own 127.a.b.c address so real port numbers (9200, 9300, 9443)
can be used as in a cluster. All threads are daemons, every socket has a timeout.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import selectors
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable
from typing import TypeVar

Address = tuple[str, int]
Targets = Callable[[], list[Address]]
T = TypeVar("T")

IO_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0
IDLE_TIMEOUT = 300.0


class LoopbackAllocator:
    """Unique 127.a.b.c addresses; a random base keeps parallel test processes apart."""

    def __init__(self, seed: int | None = None) -> None:
        rng = random.Random(seed if seed is not None else os.getpid() ^ random.getrandbits(32))
        self._next = rng.randrange(1 << 8, (254 << 16))
        self._lock = threading.Lock()

    def next_host(self) -> str:
        with self._lock:
            while True:
                value = self._next
                self._next = (self._next + 1) % (255 << 16)
                a, b, c = (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF
                if a != 0 and 0 < c < 255:
                    return f"127.{a}.{b}.{c}"

    def start(self, factory: Callable[[str], T], attempts: int = 50) -> T:
        """`factory(host)` on a fresh address, retried on another address on EADDRINUSE."""
        for _ in range(attempts - 1):
            try:
                return factory(self.next_host())
            except OSError as err:
                if err.errno != errno.EADDRINUSE:
                    raise
        return factory(self.next_host())


def listen(host: str, port: int, backlog: int = 64) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def close_quietly(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class Acceptor:
    """A listening socket with an accept thread; `handle(conn, peer)` runs in its own thread."""

    def __init__(self, host: str, port: int) -> None:
        self._listener = listen(host, port)
        self.host, self.port = self._listener.getsockname()[:2]
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._accept_loop, daemon=True, name=f"{type(self).__name__}-{self.host}:{self.port}"
        )
        self._thread.start()

    @property
    def address(self) -> Address:
        return self.host, self.port

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, peer = self._listener.accept()
            except OSError:
                return
            conn.settimeout(IO_TIMEOUT)
            self.track(conn)
            threading.Thread(target=self._run, args=(conn, peer), daemon=True).start()

    def _run(self, conn: socket.socket, peer: Address) -> None:
        try:
            self.handle(conn, peer)
        except (OSError, ValueError):
            pass
        finally:
            self.untrack(conn)

    def handle(self, conn: socket.socket, peer: Address) -> None:
        raise NotImplementedError

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.discard(sock)
        close_quietly(sock)

    def stop(self) -> None:
        self._stopped.set()
        close_quietly(self._listener)
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            close_quietly(conn)
        self._thread.join(timeout=IO_TIMEOUT)


def pump(a: socket.socket, b: socket.socket, stopped: threading.Event) -> None:
    """Copy bytes both ways until both directions have ended (works for plain and TLS sockets).

    Between plain sockets an end of stream is passed on as a half-close, as an L4 load balancer
    or kube-proxy's NAT does: the other direction keeps flowing. Closing both at the first end
    of stream would turn a peer's late bytes into a reset, which destroys the TLS alert that
    peer has not read yet. A TLS end (a terminating proxy) closes both, as an L7 proxy does.
    """
    a.setblocking(False)
    b.setblocking(False)
    peers = {a: b, b: a}
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ)
        sel.register(b, selectors.EVENT_READ)
        while not stopped.is_set() and sel.get_map():
            events = sel.select(timeout=IDLE_TIMEOUT)
            if not events:
                return
            for key, _ in events:
                src: socket.socket = key.fileobj  # type: ignore[assignment]
                dst = peers[src]
                state = _forward(src, dst)
                if state == "error":
                    return
                if state == "eof":
                    if isinstance(src, ssl.SSLSocket) or isinstance(dst, ssl.SSLSocket):
                        return
                    sel.unregister(src)
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)


def _forward(src: socket.socket, dst: socket.socket) -> str:
    """Move what `src` has to `dst`: "open", "eof" (src ended its stream) or "error"."""
    while True:
        try:
            data = src.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            return "open"
        except OSError:
            return "error"
        if not data:
            return "eof"
        dst.setblocking(True)
        dst.settimeout(IO_TIMEOUT)
        try:
            dst.sendall(data)
        except OSError:
            return "error"
        finally:
            dst.setblocking(False)
        if not isinstance(src, ssl.SSLSocket) or not src.pending():
            return "open"


class _RoundRobin:
    def __init__(self, targets: Targets) -> None:
        self._targets = targets
        self._count = 0
        self._lock = threading.Lock()

    def pick(self) -> Address | None:
        targets = self._targets()
        if not targets:
            return None
        with self._lock:
            self._count += 1
            return targets[self._count % len(targets)]


def _connect(target: Address) -> socket.socket | None:
    try:
        sock = socket.create_connection(target, timeout=CONNECT_TIMEOUT)
    except OSError:
        return None
    sock.settimeout(IO_TIMEOUT)
    return sock


class TcpForwarder(Acceptor):
    """L4 passthrough like a LoadBalancer or NodePort Service, round-robin over `targets()`.

    With no target (no ready backend) or a refusing backend, the accepted connection is closed.
    """

    def __init__(self, host: str, port: int, targets: Targets) -> None:
        self._rr = _RoundRobin(targets)
        super().__init__(host, port)

    def handle(self, conn: socket.socket, peer: Address) -> None:
        target = self._rr.pick()
        backend = _connect(target) if target else None
        if backend is None:
            return
        self.track(backend)
        try:
            pump(conn, backend, self._stopped)
        finally:
            self.untrack(backend)


class BlackHole(Acceptor):
    """Accepts TCP and never answers: a firewall or a backend that swallows packets."""

    def handle(self, conn: socket.socket, peer: Address) -> None:
        self._stopped.wait()


class TlsTerminatingProxy(Acceptor):
    """Terminates TLS with its own certificate (e.g. an ingress fake certificate).

    `forward_plaintext=True` sends the decrypted bytes to the backend unencrypted; otherwise
    it opens a new TLS connection to the backend without verifying it.
    """

    def __init__(
        self, host: str, port: int, cert_pem: bytes, key_pem: bytes, targets: Targets, forward_plaintext: bool
    ) -> None:
        self._server_ctx = server_context(cert_pem, key_pem)
        self._client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._client_ctx.check_hostname = False
        self._client_ctx.verify_mode = ssl.CERT_NONE
        self._rr = _RoundRobin(targets)
        self.forward_plaintext = forward_plaintext
        super().__init__(host, port)

    def handle(self, conn: socket.socket, peer: Address) -> None:
        tls = self._server_ctx.wrap_socket(conn, server_side=True)
        self.track(tls)
        try:
            target = self._rr.pick()
            backend = _connect(target) if target else None
            if backend is None:
                return
            if not self.forward_plaintext:
                backend = self._client_ctx.wrap_socket(backend)
            self.track(backend)
            try:
                pump(tls, backend, self._stopped)
            finally:
                self.untrack(backend)
        finally:
            self.untrack(tls)


def server_context(
    cert_pem: bytes, key_pem: bytes, client_ca_pem: bytes | None = None, require_client_cert: bool = False
) -> ssl.SSLContext:
    """A server SSLContext from in-memory PEM (the ssl module only loads chains from files)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    load_chain(ctx, cert_pem, key_pem)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        if client_ca_pem:
            ctx.load_verify_locations(cadata=client_ca_pem.decode())
    return ctx


def load_chain(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="twin-tls-") as tmp:
        cert_path, key_path = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
        for path, data in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        ctx.load_cert_chain(cert_path, key_path)
