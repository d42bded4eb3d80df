"""A local TCP listener that forwards each accepted connection through its own port-forward.

One Kubernetes port-forward websocket carries one TCP stream, while an HTTP client may open
several connections; so, like `kubectl port-forward`, every accepted socket gets a fresh
port-forward, and bytes are pumped both ways until either end closes or stays silent for
longer than the idle timeout.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from kubectl_eckrc.output import log
from kubectl_eckrc.redact import scrub_known

Opener = Callable[[], Any]  # returns a connected socket-like object (the port-forward stream)
CHUNK = 64 * 1024
# A stream can fail to open while the API server is busy; nothing has gone through it yet, so
# trying once more is safe (a pod that is gone fails both times).
OPEN_ATTEMPTS = 2
RETRY_PAUSE = 0.2


class PortForwardListener:
    """Listens on 127.0.0.1:<ephemeral>; `url` is what a client connects to."""

    def __init__(self, opener: Opener, idle_timeout: float, debug: bool = False) -> None:
        self._opener = opener
        self._idle = idle_timeout
        self._debug = debug
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self._server.settimeout(0.2)
        self._closed = threading.Event()
        self.last_failure: Exception | None = None  # why the last port-forward could not open
        self._open: set[Any] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, name="eckrc-portforward", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.getsockname()[1])

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="eckrc-pf-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        remote = self._open_stream()
        if remote is None:  # the client sees a closed connection; the reason is kept
            conn.close()
            return
        with self._lock:
            self._open.update((conn, remote))
        try:
            pump(conn, remote, self._idle, self._closed)
        finally:
            for end in (conn, remote):
                with contextlib.suppress(OSError):
                    end.close()
            with self._lock:
                self._open.difference_update((conn, remote))

    def _open_stream(self) -> Any | None:
        for attempt in range(OPEN_ATTEMPTS):
            if attempt:
                time.sleep(RETRY_PAUSE)
            try:
                return self._opener()
            except Exception as e:
                self.last_failure = e
                if self._debug:
                    log(f"debug: port-forward failed: {scrub_known(str(e))}")
        return None

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._server.close()
        with self._lock:
            ends = list(self._open)
        for end in ends:
            with contextlib.suppress(OSError):
                end.close()
        self._thread.join(timeout=1.0)

    def __enter__(self) -> PortForwardListener:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def pump(a: Any, b: Any, idle_timeout: float, stop: threading.Event) -> None:
    """Copy bytes a<->b until one side closes, `stop` is set, or nothing moves for idle_timeout."""
    peer = {a: b, b: a}
    with selectors.DefaultSelector() as selector:
        for end in (a, b):
            end.setblocking(True)
            selector.register(end, selectors.EVENT_READ)
        while not stop.is_set():
            ready = selector.select(timeout=idle_timeout)
            if not ready:
                return  # idle: the HTTP client keeps no connection open that long
            for key, _ in ready:
                try:
                    data = key.fileobj.recv(CHUNK)  # type: ignore[union-attr]
                except OSError:
                    return
                if not data:
                    return
                try:
                    peer[key.fileobj].sendall(data)
                except OSError:
                    return
