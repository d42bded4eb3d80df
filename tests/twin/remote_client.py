"""Client side of one remote-cluster connection attempt, as a local Elasticsearch node makes it.

API-key model (keystore holds `cluster.remote.<alias>.credentials`): the
`xpack.security.remote_cluster_client.ssl` context (CA files from the pod's mounts, hostname
verification `full` against server_name or the address host). Certificate model (no
credential): the transport context (presents the pod's transport certificate, trusts the
transport CA bundle, verification `certificate`). Every failure becomes a `LinkFailure`
carrying the exception lines Elasticsearch logs and the reason `_resolve/cluster` reports.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from tests.twin import jdk_tls
from tests.twin.es_logs import PodLog
from tests.twin.es_node import (
    RCS_CLIENT_SSL,
    TRANSPORT_CA_PATHS,
    TRANSPORT_SSL,
    ClusterCore,
    NodeView,
    absolute_config_path,
    supports_rcs,
)
from tests.twin.es_security import HANDSHAKE_ACTION, RCS_FEATURE, RCS_LICENSES
from tests.twin.es_signing import Signer, payload
from tests.twin.jdk_tls import ClientConfig
from tests.twin.network import close_quietly
from tests.twin.pki import certs_pem, load_certs, make_ca
from tests.twin.remote_server import FrameError, channel, recv_frame, send_frame
from tests.twin.tls_diagnostics import trust_failure

TCP_TRANSPORT = "org.elasticsearch.transport.TcpTransport"
TRUST_MANAGER = "org.elasticsearch.common.ssl.DiagnosticTrustManager"
CONNECT_EXC = "org.elasticsearch.transport.ConnectTransportException"
SSL_HANDSHAKE_EXC = "javax.net.ssl.SSLHandshakeException"
SECURITY_EXCEPTION = "org.elasticsearch.ElasticsearchSecurityException"


@dataclass(frozen=True)
class LinkTimeouts:
    """Real waits of the twin (short) and the Elasticsearch defaults its messages quote."""

    connect: float = 2.0
    tls: float = 2.0
    handshake: float = 2.0
    retry: float = 2.0
    connect_label: str = "30s"
    tls_label: str = "10000ms"
    handshake_label: str = "30s"


@dataclass
class LinkFailure(Exception):
    """A failed attempt: `reason` for `_resolve/cluster`, `exception` lines for the WARN log."""

    reason: str
    exception: tuple[str, ...]
    connect_level: bool = False
    refused: bool = False  # the remote answered and refused (not a connect or TLS failure)
    exception_class: str = ""  # the Java class of a refusal's cause

    def request_error(self) -> str:
        """What `_resolve/cluster` reports for a refused request (TransportResolveClusterAction):
        a security exception's message; any other cause as Java's `toString()`, class first."""
        if self.exception_class in ("", SECURITY_EXCEPTION):
            return self.reason
        return f"{self.exception_class}: {self.reason}"

    def __str__(self) -> str:
        return self.reason


@dataclass
class LocalNode:
    """The local pod making connections, with its cluster and its name resolution. `view` is
    replaced when the node reloads its SSL files (es_server.SslReload): new handshakes use it."""

    view: NodeView
    cluster: ClusterCore
    resolve_host: Callable[[str], str | None]
    # where the pod's connection to ip:port really goes (pod_network.py); texts keep ip:port
    route: Callable[[str, int], tuple[str, int]] = lambda ip, port: (ip, port)
    # True for a pod IP of this pod's own Kubernetes cluster (a sniffed node it can dial)
    in_network: Callable[[str], bool] = lambda ip: False


@dataclass
class Connection:
    """An open link: `sock` carries plaintext frames (through the JDK's TLS session when
    `session` is set: the JDK relays them)."""

    sock: socket.socket
    ends: tuple[tuple[str, int], tuple[str, int]]
    answer: dict[str, Any] = field(default_factory=dict)
    session: str = ""


@dataclass(frozen=True)
class ClientTls:
    """The SSL settings of one profile, as the JDK helper applies them."""

    context_name: str
    trusted: tuple[x509.Certificate, ...]
    jdk_default: bool
    verify_hostname: bool
    profile: str
    jdk: ClientConfig


def credential_for(node: LocalNode, alias: str) -> str | None:
    """The keystore credential, when this version uses API-key remote clusters at all."""
    return node.view.credential(alias) if supports_rcs(node.cluster.version) else None


def client_tls(view: NodeView, api_key_model: bool) -> ClientTls | None:
    """The SSL configuration Elasticsearch would use; None when that context has SSL disabled."""
    prefix = RCS_CLIENT_SSL if api_key_model else TRANSPORT_SSL
    if not view.flag(f"{prefix}.enabled", True):
        return None
    mode = str(
        view.setting(f"{prefix}.verification_mode", "full" if api_key_model else "certificate")
    ).lower()
    if api_key_model:
        paths = [absolute_config_path(p) for p in view.ca_paths(prefix)]
        trusted = tuple(c for p in paths for c in load_certs(view.file(p) or b""))
    else:
        paths = list(TRANSPORT_CA_PATHS)
        trusted = tuple(load_certs(view.transport_trusted_ca_pems))
    trust = f"PEM-trust{{{','.join(paths)}}}" if paths else "JDK-trusted-certs"
    key_pem = cert_pem = None
    if not api_key_model:  # the transport profile presents the pod's certificate
        key_pem, cert_pem = view.transport_key_pem.decode(), view.transport_cert_pem.decode()
    anchors = tuple(certs_pem([c]).decode() for c in trusted) or (_no_anchor(),)
    jdk = ClientConfig(mode, anchors if paths else None, key_pem, cert_pem)
    return ClientTls(
        f"{prefix} (with trust configuration: {trust})",
        trusted,
        not paths,
        mode == "full",
        "_remote_cluster" if api_key_model else "default",
        jdk,
    )


@functools.lru_cache(maxsize=1)
def _no_anchor() -> str:
    """A CA that signs nothing: trust for a configured CA path whose file holds no certificate
    (the twin lets such a node run and fail every handshake with the JDK's PKIX text)."""
    return certs_pem([make_ca("twin-unreadable-ca-file").cert]).decode()


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    return host.strip("[]"), int(port)


def handshake(
    node: LocalNode,
    alias: str,
    address: str,
    server_name: str,
    credential: str | None,
    timeouts: LinkTimeouts,
    log: PodLog,
    sniff: bool = False,
    pattern: str | None = None,
    diagnose: bool = True,
    signer: Signer | None = None,
) -> Connection:
    """Connect, TLS, then the remote-cluster handshake; raises LinkFailure with the real texts.

    `diagnose=False` skips re-fetching the server chain for the DiagnosticTrustManager line.
    """
    if credential is not None and node.cluster.license_type not in RCS_LICENSES:
        reason = f"current license is non-compliant for [{RCS_FEATURE}]"
        raise LinkFailure(reason, (f"org.elasticsearch.ElasticsearchSecurityException: {reason}",))
    conn = open_channel(node, address, server_name, credential, timeouts, log, diagnose)
    frame = {
        "action": HANDSHAKE_ACTION,
        "version": node.cluster.version,
        "cluster_name": node.cluster.name,
        "node": node.view.pod,
        "sniff": sniff,
        "pattern": pattern,
    }
    if credential is not None:
        frame["credentials"] = credential
        if signer is not None:  # 9.3+: the alias's signing key signs the cross-cluster headers
            frame["signature"] = signer.sign(payload(credential, HANDSHAKE_ACTION))
    try:
        answer = _exchange(conn, frame, address, timeouts)
    except LinkFailure as failure:
        if failure.exception[0].startswith("io.netty"):
            _log_transport_exception(
                log, conn.ends, failure, "_remote_cluster" if credential is not None else "default"
            )
        close_quietly(conn.sock)
        raise
    if not answer.get("ok"):
        close_quietly(conn.sock)
        raise _refusal(answer, address)
    conn.answer = answer
    return conn


def _refusal(answer: dict[str, Any], address: str) -> LinkFailure:
    """The remote answered the handshake with an error: Elasticsearch wraps it like this."""
    remote = answer.get("node", {})
    reason = str(answer.get("reason"))
    return LinkFailure(
        reason,
        (
            f"org.elasticsearch.transport.RemoteTransportException: [{remote.get('name', '')}]"
            f"[{remote.get('address', address)}][{HANDSHAKE_ACTION}]",
            f"Caused by: {answer.get('exception')}: {reason}",
        ),
        refused=True,
        exception_class=str(answer.get("exception") or ""),
    )


def _exchange(
    conn: Connection, frame: dict[str, Any], address: str, timeouts: LinkTimeouts
) -> dict[str, Any]:
    sock = conn.sock
    try:
        sock.settimeout(timeouts.handshake)
        send_frame(sock, frame)
        answer = recv_frame(sock)
    except TimeoutError:
        raise LinkFailure(
            f"[][{address}] handshake_timeout[{timeouts.handshake_label}]",
            (f"{CONNECT_EXC}: [][{address}] handshake_timeout[{timeouts.handshake_label}]",),
        ) from None
    except ssl.SSLError as err:
        raise _alert_failure(str(err.reason or err)) from None
    except (OSError, FrameError, ValueError):
        answer = None
    if answer is None and conn.session:
        try:
            _, message = jdk_tls.client().ended(conn.session)
        except jdk_tls.JdkGone:
            message = ""
        if message.startswith("Received fatal alert: "):
            raise _alert_failure(message.removeprefix("Received fatal alert: ").upper())
    if answer is None:
        reason = f"[][{address}][internal:transport/handshake] disconnected"
        raise LinkFailure(reason, (f"org.elasticsearch.transport.NodeDisconnectedException: {reason}",))
    return answer


# What a JDK server sends where the twin's OpenSSL server sends another alert.
_JDK_SERVER_ALERTS = {
    "CERTIFICATE_REQUIRED": "bad_certificate",  # JDK: "Empty client certificate chain"
    "UNKNOWN_CA": "certificate_unknown",
    "DECRYPT_ERROR": "certificate_unknown",
}


def _alert_failure(reason: str) -> LinkFailure:
    """A TLS alert received after the handshake, named as the JDK client reports it."""
    name = next((v for k, v in _JDK_SERVER_ALERTS.items() if k in reason), None)
    if name is None:
        known = ("BAD_CERTIFICATE", "CERTIFICATE_UNKNOWN", "CERTIFICATE_EXPIRED")
        name = next((k.lower() for k in known if k in reason), reason.lower())
    text = f"Received fatal alert: {name}"
    return LinkFailure(
        text,
        (
            f"io.netty.handler.codec.DecoderException: {SSL_HANDSHAKE_EXC}: {text}",
            f"Caused by: {SSL_HANDSHAKE_EXC}: {text}",
        ),
    )


def open_channel(
    node: LocalNode,
    address: str,
    server_name: str,
    credential: str | None,
    timeouts: LinkTimeouts,
    log: PodLog,
    diagnose: bool = True,
) -> Connection:
    """TCP and TLS as the JDK makes them (jdk_tls); the frames then go through its session."""
    host, port = split_address(address)
    ip = node.resolve_host(host)
    if ip is None:
        reason = f"unknown host [{host}]"
        raise LinkFailure(
            reason,
            (
                f"java.lang.IllegalArgumentException: {reason}",
                f"Caused by: java.net.UnknownHostException: {host}: Name or service not known",
            ),
        )
    tls = client_tls(node.view, credential is not None)
    to_ip, to_port = node.route(ip, port)
    if tls is None:
        raw = _tcp_connect(ip, port, timeouts, (to_ip, to_port))
        return Connection(raw, (raw.getsockname()[:2], (ip, port)))
    _reachable(ip, port, timeouts)
    try:
        verdict = jdk_tls.client().handshake(
            to_ip, to_port, host, server_name or None, tls.jdk, max(timeouts.connect, timeouts.tls),
            relay=True,
        )
    except jdk_tls.JdkGone as gone:  # the test process is exiting under a running link
        raise LinkFailure(str(gone), (f"java.lang.IllegalStateException: {gone}",)) from None
    if verdict.stage == "server_name":
        reason = f"[][{address}] invalid DiscoveryNode server_name [{server_name}]"
        raise LinkFailure(
            reason, (f"{CONNECT_EXC}: {reason}", f"Caused by: {verdict.exception}: {verdict.message}")
        )
    if verdict.stage == "connect":
        raise _connect_failure(verdict, f"{ip}:{port}", timeouts)
    ends = (verdict.local or ("", 0), (ip, port))
    if verdict.connected:
        try:
            sock = socket.create_connection(("127.0.0.1", verdict.relay_port), timeout=timeouts.connect)
        except OSError:
            failure = _closed_during_handshake()
        else:
            return Connection(sock, ends, session=verdict.session)
    else:
        failure = _jdk_failure(verdict, tls, host, timeouts, log if diagnose else None)
    _log_transport_exception(log, ends, failure, tls.profile)
    raise failure


def _reachable(ip: str, port: int, timeouts: LinkTimeouts) -> None:
    if not ipaddress.ip_address(ip).is_loopback:
        # The twin never leaves loopback: any other address (a pod IP of another cluster) is
        # unreachable, which a real node sees as a connect timeout.
        raise _connect_timeout(f"{ip}:{port}", timeouts)


def _connect_failure(verdict: jdk_tls.Handshake, addr: str, timeouts: LinkTimeouts) -> LinkFailure:
    if verdict.exception == "java.net.SocketTimeoutException":
        return _connect_timeout(addr, timeouts)
    cause = (verdict.message or "").split(" (")[0]
    return LinkFailure(
        f"[][{addr}] connect_exception",
        (
            f"{CONNECT_EXC}: [][{addr}] connect_exception",
            f"Caused by: io.netty.channel.AbstractChannel$AnnotatedConnectException: {cause}: /{addr}",
            f"Caused by: java.net.ConnectException: {cause}",
        ),
        connect_level=True,
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _handshake_timeout(timeouts: LinkTimeouts) -> LinkFailure:
    text = f"handshake timed out after {timeouts.tls_label}"
    return LinkFailure(text, (f"io.netty.handler.ssl.SslHandshakeTimeoutException: {text}",))


def _closed_during_handshake() -> LinkFailure:
    text = "Connection closed while SSL/TLS handshake was in progress"
    return LinkFailure(text, (f"{SSL_HANDSHAKE_EXC}: {text}",))


def _jdk_failure(
    verdict: jdk_tls.Handshake, tls: ClientTls, host: str, timeouts: LinkTimeouts, log: PodLog | None
) -> LinkFailure:
    """The JDK's failed handshake, as Elasticsearch's Netty pipeline reports it.

    Trust decisions keep the JDK's exception and words; socket-level endings become what
    Netty's SslHandler says about them (its timeout, its close-during-handshake text).
    """
    if verdict.certificate_rejected:
        return _verify_failure(verdict, tls, host, log)
    classes = {verdict.exception, *(c[0] for c in verdict.causes)}
    if "java.net.SocketTimeoutException" in classes:
        return _handshake_timeout(timeouts)
    if (
        "java.io.EOFException" in classes
        or verdict.message in ("Remote host terminated the handshake", "Connection reset")
        or verdict.exception == "java.net.SocketException"
    ):
        return _closed_during_handshake()
    text = verdict.message
    return LinkFailure(
        text,
        (
            f"io.netty.handler.codec.DecoderException: {verdict.exception}: {text}",
            f"Caused by: {verdict.exception}: {text}",
        ),
    )


def _tcp_connect(ip: str, port: int, timeouts: LinkTimeouts,
                 to: tuple[str, int] | None = None) -> socket.socket:
    """TCP to ip:port (really to `to` when the pod network routes it elsewhere)."""
    addr = f"{ip}:{port}"
    _reachable(ip, port, timeouts)
    try:
        return socket.create_connection(to or (ip, port), timeout=timeouts.connect)
    except TimeoutError:
        raise _connect_timeout(addr, timeouts) from None
    except OSError as err:
        cause = "Connection refused" if isinstance(err, ConnectionRefusedError) else str(err.strerror)
        raise LinkFailure(
            f"[][{addr}] connect_exception",
            (
                f"{CONNECT_EXC}: [][{addr}] connect_exception",
                f"Caused by: io.netty.channel.AbstractChannel$AnnotatedConnectException: {cause}: /{addr}",
                f"Caused by: java.net.ConnectException: {cause}",
            ),
            connect_level=True,
        ) from None


def _connect_timeout(addr: str, timeouts: LinkTimeouts) -> LinkFailure:
    text = f"[][{addr}] connect_timeout[{timeouts.connect_label}]"
    return LinkFailure(text, (f"{CONNECT_EXC}: {text}",), connect_level=True)


def _verify_failure(
    verdict: jdk_tls.Handshake, tls: ClientTls, host: str, log: PodLog | None
) -> LinkFailure:
    """The JDK's trust manager refused the server: its words, and DiagnosticTrustManager's line."""
    text = verdict.message
    chain = [c for pem in verdict.chain for c in load_certs(pem.encode())]
    if chain and log is not None:
        line = trust_failure(
            "server",
            host,
            chain,
            verdict.cipher,
            verdict.protocol,
            tls.context_name,
            tls.trusted,
            jdk_default=tls.jdk_default,
        )
        cause, cause_text = verdict.causes[0] if verdict.causes else (SSL_HANDSHAKE_EXC, text)
        log.log("WARN", TRUST_MANAGER, line, (f"{cause}: {cause_text}",))
    return LinkFailure(
        text,
        (
            f"io.netty.handler.codec.DecoderException: {verdict.exception}: {text}",
            f"Caused by: {verdict.exception}: {text}",
        ),
    )


def _log_transport_exception(
    log: PodLog, ends: tuple[tuple[str, int], tuple[str, int]], failure: LinkFailure, profile: str
) -> None:
    local, remote = ends
    log.log(
        "WARN",
        TCP_TRANSPORT,
        f"exception caught on transport layer [{channel(local, remote, profile)}], closing connection",
        failure.exception[:1],
    )
