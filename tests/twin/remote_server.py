"""Server side of remote-cluster links: one pod's transport (9300) and RCS (9443) listeners.

Both present the pod's transport certificate. The transport profile (`default`) requires a
client certificate signed by a CA the pod trusts (the certificate model); the RCS profile
(`_remote_cluster`) asks for none and authenticates the cross-cluster API key carried in the
application handshake instead. After TLS, twin peers exchange small frames (`ES` + length +
JSON) standing in for Elasticsearch's binary transport handshake.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import struct
from typing import Any, Protocol

from tests.twin import es_signing
from tests.twin.es_logs import PodLog
from tests.twin.es_node import ClusterCore, NodeView, wire_compatible
from tests.twin.es_security import HANDSHAKE_ACTION, CrossClusterAuthFailure
from tests.twin.network import Acceptor, Address, server_context

RCS_PROFILE = "_remote_cluster"
DEFAULT_PROFILE = "default"
MAGIC = b"ES"
MAX_FRAME = 1 << 20
IDLE_TIMEOUT = 300.0
DRAIN_TIMEOUT = 5.0  # bounds the wait for a peer that never closes after our alert
# A node's side of a TLS handshake ends after Netty SslHandler's default 10 s, the
# "handshake timed out after 10000ms" of real logs; a shorter wait cut slow peers off mid-handshake.
TLS_HANDSHAKE_TIMEOUT = 10.0
NETTY_TRANSPORT = "org.elasticsearch.xpack.core.security.transport.netty4.SecurityNetty4Transport"
TCP_TRANSPORT = "org.elasticsearch.transport.TcpTransport"
API_KEY_AUTHENTICATOR = "org.elasticsearch.xpack.security.authc.ApiKeyAuthenticator"
SECURITY_EXCEPTION = "org.elasticsearch.ElasticsearchSecurityException"
PKIX = (
    "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: "
    "unable to find valid certification path to requested target"
)
_UNTRUSTED_ALERTS = (
    "UNKNOWN_CA",
    "CERTIFICATE_UNKNOWN",
    "BAD_CERTIFICATE",
    "CERTIFICATE_EXPIRED",
    "UNSUPPORTED_CERTIFICATE",
    "DECRYPT_ERROR",
    "HANDSHAKE_FAILURE",
)


class FrameError(Exception):
    """The peer sent something that is not a twin transport frame."""


def send_frame(sock: socket.socket, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    sock.sendall(MAGIC + struct.pack(">I", len(data)) + data)


def recv_frame(sock: socket.socket) -> dict[str, Any] | None:
    """The next frame, or None when the peer closed the connection cleanly."""
    header = _recv_exact(sock, 6)
    if header is None:
        return None
    if header[:2] != MAGIC:
        raise FrameError("invalid internal transport message format")
    (length,) = struct.unpack(">I", header[2:])
    if length > MAX_FRAME:
        raise FrameError("transport content length too large")
    body = _recv_exact(sock, length)
    if body is None:
        return None
    result = json.loads(body)
    if not isinstance(result, dict):
        raise FrameError("invalid internal transport message format")
    return result


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = b""
    while len(chunks) < size:
        data = sock.recv(size - len(chunks))
        if not data:
            return None
        chunks += data
    return chunks


def channel(local: Address, remote: Address, profile: str) -> str:
    """Netty's channel description as Elasticsearch logs it."""
    return (
        f"Netty4TcpChannel{{localAddress=/{local[0]}:{local[1]}, remoteAddress=/{remote[0]}:{remote[1]}, "
        f"profile={profile}}}"
    )


class SniffSource(Protocol):
    def sniff_nodes(self, profile: str) -> list[dict[str, str]]: ...


class NodeListener(Acceptor):
    """The transport or RCS port of one pod."""

    def __init__(
        self,
        host: str,
        port: int,
        profile: str,
        cluster: ClusterCore,
        view: NodeView,
        log: PodLog,
        nodes: SniffSource,
    ) -> None:
        mutual = profile == DEFAULT_PROFILE
        self._ctx = server_context(
            view.transport_cert_pem,
            view.transport_key_pem,
            view.transport_trusted_ca_pems if mutual else None,
            require_client_cert=mutual,
        )
        self.profile = profile
        self._mutual = mutual
        self._cluster = cluster
        self._view = view
        self._log = log
        self._nodes = nodes
        super().__init__(host, port)

    def reload(self, view: NodeView) -> None:
        """New key and trust material for the connections accepted from now on (open ones keep
        their session), as Elasticsearch's SSL reload does."""
        self._ctx = server_context(view.transport_cert_pem, view.transport_key_pem,
                                   view.transport_trusted_ca_pems if self._mutual else None,
                                   require_client_cert=self._mutual)
        self._view = view

    def handle(self, conn: socket.socket, peer: Address) -> None:
        chan = channel(self.address, peer, self.profile)
        first = conn.recv(1, socket.MSG_PEEK)
        if not first:
            return
        if first[0] != 0x16:  # not a TLS handshake record
            self._log.log(
                "WARN",
                NETTY_TRANSPORT,
                f"received plaintext traffic on an encrypted channel, closing connection {chan}",
            )
            return
        conn.settimeout(TLS_HANDSHAKE_TIMEOUT)
        # wrap_socket takes over the descriptor and, when its own handshake fails, closes it at
        # once: the peer's unread bytes then turn the close into a reset that can destroy our
        # alert before the peer reads it. Handshaking separately keeps the socket to linger on.
        tls = self._ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        self.track(tls)  # the TLS socket owns the descriptor now: stop() must close it
        try:
            try:
                tls.do_handshake()
            except ssl.SSLError as err:
                self._log_tls_failure(err, chan)
                _lingering_close(tls)
                return
            self._serve(tls)
        finally:
            self.untrack(tls)

    def _log_tls_failure(self, err: ssl.SSLError, chan: str) -> None:
        reason = str(err.reason or err)
        if reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
            self._log.log(
                "WARN",
                TCP_TRANSPORT,
                f"exception caught on transport layer [{chan}], closing connection",
                (
                    "io.netty.handler.codec.DecoderException: javax.net.ssl.SSLHandshakeException: "
                    "Empty client certificate chain",
                ),
            )
        elif reason == "CERTIFICATE_VERIFY_FAILED":
            self._log.log(
                "WARN",
                TCP_TRANSPORT,
                f"exception caught on transport layer [{chan}], closing connection",
                (f"io.netty.handler.codec.DecoderException: javax.net.ssl.SSLHandshakeException: {PKIX}",),
            )
        elif any(alert in reason for alert in _UNTRUSTED_ALERTS):
            self._log.log(
                "WARN",
                NETTY_TRANSPORT,
                f"client did not trust this server's certificate, closing connection {chan}",
            )

    def _serve(self, tls: ssl.SSLSocket) -> None:
        tls.settimeout(IDLE_TIMEOUT)
        handshaken = False
        while True:
            try:
                frame = recv_frame(tls)
            except TimeoutError:
                continue
            except (FrameError, ValueError, OSError):
                return
            if frame is None:
                return
            if handshaken and frame.get("action") != HANDSHAKE_ACTION:
                # a request through an open link: field_caps, resolve/index, search (es_ccs.py)
                try:
                    signer = self._signer(frame)
                except CrossClusterAuthFailure as refused:
                    send_frame(tls, _refused(refused))
                    continue
                send_frame(tls, self._cluster.serve_request(frame, self.profile, signer))
                continue
            answer = self.answer(frame)
            handshaken = bool(answer.get("ok"))
            send_frame(tls, answer)

    def _node(self) -> dict[str, str]:
        return {
            "name": self._view.pod,
            "id": self._cluster.node_id(self._view.pod),
            "address": f"{self._view.publish_ip}:{self.port}",
        }

    def answer(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Answer one handshake frame after really checking what it carries."""
        node = self._node()
        refusal = self._refusal(frame)
        if refusal is not None:
            exception, reason, status = refusal
            return {"ok": False, "node": node, "exception": exception, "reason": reason, "status": status}
        answer: dict[str, Any] = {
            "ok": True,
            "node": node,
            "cluster_name": self._cluster.name,
            "cluster_uuid": self._cluster.uuid,
            "version": self._cluster.version,
        }
        if frame.get("sniff"):
            answer["nodes"] = self._nodes.sniff_nodes(self.profile)
        if frame.get("pattern") is not None:
            answer["matching_indices"] = self._cluster.matching_indices(str(frame["pattern"]))
        return answer

    def _refusal(self, frame: dict[str, Any]) -> tuple[str, str, int] | None:
        """(exception, reason, status) when Elasticsearch would refuse this handshake."""
        if frame.get("action") != HANDSHAKE_ACTION:
            return (
                "org.elasticsearch.transport.ActionNotFoundTransportException",
                f"No handler for action [{frame.get('action')}]",
                400,
            )
        compatible, minimum = wire_compatible(str(frame.get("version", "")), self._cluster.version)
        if not compatible:
            return (
                "java.lang.IllegalStateException",
                f"Received message from unsupported version: "
                f"[{frame.get('version')}] minimal compatible version is: [{minimum}]",
                500,
            )
        credential = frame.get("credentials")
        if self.profile != RCS_PROFILE:
            if credential is None:
                return None  # certificate model: the mutual TLS already authenticated the peer
            return (
                "java.lang.IllegalArgumentException",
                "remote cluster handshake action requires channel "
                f"profile to be [{RCS_PROFILE}], but got [{DEFAULT_PROFILE}]",
                400,
            )
        try:
            signer = self._signer(frame)
            self._cluster.security.authenticate_cross_cluster(credential, self._cluster.license_type, signer)
        except CrossClusterAuthFailure as failure:
            if failure.remote_log:
                self._log.log("WARN", API_KEY_AUTHENTICATOR, failure.remote_log)
            return failure.exception, failure.reason, failure.status
        return None


    def _signer(self, frame: dict[str, Any]) -> str | None:
        """The DN of the frame's verified signature (None: unsigned); raises the 401 of a
        signature the remote cannot verify, before the key itself is looked at."""
        if self.profile != RCS_PROFILE or frame.get("signature") is None:
            return None
        flat = self._cluster.settings.effective(self._view.config)
        trusted = es_signing.trust_of(self._view, flat)
        signed = es_signing.payload(str(frame.get("credentials", "")), str(frame.get("action", "")))
        return es_signing.verify(frame["signature"], signed, trusted, dt.datetime.now(dt.UTC))


def _refused(failure: CrossClusterAuthFailure) -> dict[str, Any]:
    """The error frame of a request the remote refused (es_ccs.failure's shape)."""
    body = {"error": {"root_cause": [{"type": "security_exception", "reason": failure.reason}],
                      "type": "security_exception", "reason": failure.reason}, "status": failure.status}
    return {"ok": False, "status": failure.status, "error": body}


def _lingering_close(conn: socket.socket) -> None:
    """Half-close and drain until the peer closes, so it reads our TLS alert instead of a reset.
    (An SSLSocket's shutdown drops its TLS state: the drain then reads the raw socket.)

    A fixed short drain raced a slow peer: data it sent after the drain ended met a closed
    socket, the kernel answered with a reset and dropped the unread alert on the peer's side.
    """
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(DRAIN_TIMEOUT)
        while conn.recv(4096):
            pass
    except OSError:
        pass
