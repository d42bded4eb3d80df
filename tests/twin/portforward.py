"""Server side of the websocket port-forward protocol (what the kubelet speaks behind
`/api/v1/namespaces/<ns>/pods/<pod>/portforward?ports=N`).

Subprotocol `v4.channel.k8s.io` (or `channel.k8s.io`): binary frames whose first byte is the
channel; forwarded port i uses channel 2*i for data and 2*i+1 for errors. Right after the
handshake the server sends on both channels of each port a frame carrying the port number as
2 bytes little-endian. A failed connection to the pod port is reported as text on the error
channel, after which the stream ends, as the kubelet does.
"""

from __future__ import annotations

import contextlib
import hashlib
import selectors
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, CloseConnection, Message, Ping, Request

SUBPROTOCOLS = ("v4.channel.k8s.io", "channel.k8s.io")
CONNECT_TIMEOUT = 5.0
POLL = 0.25

PodTarget = Callable[[str, str, int], "tuple[str, int] | None"]


def sandbox_id(pod: dict[str, Any]) -> str:
    """A stable stand-in for the pod sandbox id the kubelet names in its errors."""
    return hashlib.sha256(str(pod["metadata"].get("uid", "")).encode()).hexdigest()


def _connect_error(pod: dict[str, Any], port: int, why: str) -> str:
    sandbox = sandbox_id(pod)
    netns = f"/var/run/netns/cni-{sandbox[:8]}-{sandbox[8:12]}"
    return (f"error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward in network "
            f'namespace "{netns}": failed to connect to localhost:{port} '
            f'inside namespace "{sandbox}", IPv4: dial tcp4 127.0.0.1:{port}: connect: {why} '
            f"IPv6 dial tcp6 [::1]:{port}: connect: {why} ")


def _open_target(pod: dict[str, Any], port: int,
                 pod_target: PodTarget | None) -> tuple[socket.socket | None, str]:
    meta = pod["metadata"]
    if (pod.get("status") or {}).get("phase") != "Running":
        return None, (f"error forwarding port {port} to pod {sandbox_id(pod)}, uid : container not running "
                      f"({meta['name']})")
    target = pod_target(meta.get("namespace", ""), meta["name"], port) if pod_target else None
    if target is None:
        return None, _connect_error(pod, port, "connection refused")
    try:
        return socket.create_connection(target, timeout=CONNECT_TIMEOUT), ""
    except TimeoutError:
        return None, _connect_error(pod, port, "i/o timeout")
    except OSError:
        return None, _connect_error(pod, port, "connection refused")


class _Session:
    """One upgraded connection: the websocket on one side, one TCP stream per port on the other."""

    def __init__(self, conn: socket.socket, ws: WSConnection, ports: list[int]) -> None:
        self.conn = conn
        self.ws = ws
        self.ports = ports
        self.targets: dict[int, socket.socket] = {}
        self.channel: int | None = None  # channel of the message being received
        self.closed = False

    def send(self, channel: int, payload: bytes) -> None:
        self.conn.sendall(self.ws.send(Message(data=bytes([channel]) + payload)))

    def close(self, code: int = 1000) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                self.conn.sendall(self.ws.send(CloseConnection(code=code)))
        for target in self.targets.values():
            target.close()

    def from_client(self) -> bool:
        """Read what the client sent; False when the websocket is over."""
        data = self.conn.recv(65536)
        while isinstance(self.conn, ssl.SSLSocket) and self.conn.pending():
            data += self.conn.recv(self.conn.pending())
        if not data:
            return False
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, CloseConnection):
                self.closed = True
                self.conn.sendall(self.ws.send(event.response()))
                return False
            if isinstance(event, Ping):
                self.conn.sendall(self.ws.send(event.response()))
            elif isinstance(event, BytesMessage):
                self._client_bytes(event)
        return True

    def _client_bytes(self, event: BytesMessage) -> None:
        data = bytes(event.data)
        if self.channel is None and data:
            self.channel, data = data[0], data[1:]
        channel = self.channel
        if event.message_finished:
            self.channel = None
        if channel is not None and channel % 2 == 0 and data and channel // 2 in self.targets:
            self.targets[channel // 2].sendall(data)

    def from_target(self, index: int) -> bool:
        data = self.targets[index].recv(65536)
        if not data:
            return False
        self.send(2 * index, data)
        return True


def _handshake(conn: socket.socket, request_head: bytes) -> WSConnection | None:
    ws = WSConnection(ConnectionType.SERVER)
    ws.receive_data(request_head)
    request = next((e for e in ws.events() if isinstance(e, Request)), None)
    if request is None:
        return None
    offered = list(request.subprotocols)
    chosen = next((p for p in SUBPROTOCOLS if p in offered), None)
    conn.sendall(ws.send(AcceptConnection(subprotocol=chosen)))
    return ws


def serve(conn: socket.socket, request_head: bytes, pod: dict[str, Any], ports: list[int],
          pod_target: PodTarget | None, stopping: threading.Event) -> int:
    """Upgrade `conn` (the HTTP request was `request_head`) and forward until either side ends.
    Returns 101 for the audit log (400 when the upgrade request was not a websocket one)."""
    ws = _handshake(conn, request_head)
    if ws is None:
        return 400
    session = _Session(conn, ws, ports)
    try:
        for index, port in enumerate(ports):
            prefix = struct.pack("<H", port)
            session.send(2 * index, prefix)
            session.send(2 * index + 1, prefix)
        for index, port in enumerate(ports):
            target, error = _open_target(pod, port, pod_target)
            if target is None:
                session.send(2 * index + 1, error.encode())
            else:
                session.targets[index] = target
        if session.targets:
            _pump(session, stopping)
    except OSError:
        pass
    finally:
        session.close()
    return 101


def _pump(session: _Session, stopping: threading.Event) -> None:
    with selectors.DefaultSelector() as selector:
        selector.register(session.conn, selectors.EVENT_READ, -1)
        for index, target in session.targets.items():
            selector.register(target, selectors.EVENT_READ, index)
        while not stopping.is_set():
            for key, _ in selector.select(timeout=POLL):
                ok = session.from_client() if key.data == -1 else session.from_target(key.data)
                if not ok:
                    return
