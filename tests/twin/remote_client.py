"""Client side of one remote-cluster connection attempt, as a local Elasticsearch node makes it.

API-key model (keystore holds `cluster.remote.<alias>.credentials`): the
`xpack.security.remote_cluster_client.ssl` context (CA files from the pod's mounts, hostname
verification `full` against server_name or the address host). Certificate model (no
credential): the transport context (presents the pod's transport certificate, trusts the
transport CA bundle, verification `certificate`). Every failure becomes a `LinkFailure`
carrying the exception lines Elasticsearch logs and the reason `_resolve/cluster` reports.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

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
from tests.twin.network import close_quietly, load_chain
from tests.twin.pki import certs_pem, load_certs
from tests.twin.remote_server import FrameError, channel, recv_frame, send_frame
from tests.twin.tls_diagnostics import (
    PKIX_BUILD,
    PKIX_SIGNATURE,
    PKIX_VALIDITY,
    hostname_mismatch,
    trust_failure,
)

TCP_TRANSPORT = "org.elasticsearch.transport.TcpTransport"
TRUST_MANAGER = "org.elasticsearch.common.ssl.DiagnosticTrustManager"
CONNECT_EXC = "org.elasticsearch.transport.ConnectTransportException"
SSL_HANDSHAKE_EXC = "javax.net.ssl.SSLHandshakeException"
_UNTRUSTED_ISSUER_CODES = (2, 18, 19, 20, 21)


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

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class LocalNode:
    """The local pod making connections, with its cluster and its name resolution."""

    view: NodeView
    cluster: ClusterCore
    resolve_host: Callable[[str], str | None]


@dataclass
class Connection:
    sock: socket.socket
    ends: tuple[tuple[str, int], tuple[str, int]]
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientTls:
    ctx: ssl.SSLContext
    context_name: str
    trusted: tuple[x509.Certificate, ...]
    jdk_default: bool
    verify_hostname: bool
    profile: str


def credential_for(node: LocalNode, alias: str) -> str | None:
    """The keystore credential, when this version uses API-key remote clusters at all."""
    return node.view.credential(alias) if supports_rcs(node.cluster.version) else None


def client_tls(view: NodeView, api_key_model: bool) -> ClientTls | None:
    """The SSL context Elasticsearch would use; None when that context has SSL disabled."""
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
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = mode == "full"
    ctx.verify_mode = ssl.CERT_NONE if mode == "none" else ssl.CERT_REQUIRED
    if trusted:
        ctx.load_verify_locations(cadata=certs_pem(trusted).decode())
    if not api_key_model:
        load_chain(ctx, view.transport_cert_pem, view.transport_key_pem)
    return ClientTls(
        ctx,
        f"{prefix} (with trust configuration: {trust})",
        trusted,
        not paths,
        mode == "full",
        "_remote_cluster" if api_key_model else "default",
    )


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
        raise _alert_failure(err, address) from None
    except (OSError, FrameError, ValueError):
        answer = None
    if answer is None:
        reason = f"[][{address}][internal:transport/handshake] disconnected"
        raise LinkFailure(reason, (f"org.elasticsearch.transport.NodeDisconnectedException: {reason}",))
    return answer


def _alert_failure(err: ssl.SSLError, address: str) -> LinkFailure:
    reason = str(err.reason or err)
    if "CERTIFICATE_REQUIRED" in reason or "BAD_CERTIFICATE" in reason:
        text = "Received fatal alert: bad_certificate"
    elif "UNKNOWN_CA" in reason or "CERTIFICATE_UNKNOWN" in reason or "DECRYPT_ERROR" in reason:
        text = "Received fatal alert: certificate_unknown"
    elif "CERTIFICATE_EXPIRED" in reason:
        text = "Received fatal alert: certificate_expired"
    else:
        text = f"Received fatal alert: {reason.lower()}"
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
    raw = _tcp_connect(ip, port, timeouts)
    ends = (raw.getsockname()[:2], raw.getpeername()[:2])
    tls = client_tls(node.view, credential is not None)
    if tls is None:
        return Connection(raw, ends)
    sni = server_name or (host if tls.verify_hostname else None)
    try:
        raw.settimeout(timeouts.tls)
        return Connection(tls.ctx.wrap_socket(raw, server_hostname=sni), ends)
    except ssl.SSLCertVerificationError as err:
        target = (ip, port) if diagnose else None
        failure = _verify_failure(err, tls, host, target, sni, server_name or host, timeouts, log)
    except ssl.SSLError as err:
        failure = _handshake_failure(err, address)
    except TimeoutError:
        text = f"handshake timed out after {timeouts.tls_label}"
        failure = LinkFailure(text, (f"io.netty.handler.ssl.SslHandshakeTimeoutException: {text}",))
    except OSError:
        text = "Connection closed while SSL/TLS handshake was in progress"
        failure = LinkFailure(text, (f"{SSL_HANDSHAKE_EXC}: {text}",))
    _log_transport_exception(log, ends, failure, tls.profile)
    close_quietly(raw)
    raise failure


def _tcp_connect(ip: str, port: int, timeouts: LinkTimeouts) -> socket.socket:
    addr = f"{ip}:{port}"
    if not ipaddress.ip_address(ip).is_loopback:
        # The twin never leaves loopback: any other address (a pod IP of another cluster) is
        # unreachable, which a real node sees as a connect timeout.
        raise _connect_timeout(addr, timeouts)
    try:
        return socket.create_connection((ip, port), timeout=timeouts.connect)
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


def _handshake_failure(err: ssl.SSLError, address: str) -> LinkFailure:
    reason = str(err.reason or err)
    if reason in ("WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"):
        text = "Unsupported or unrecognized SSL message"
        return LinkFailure(
            text,
            (
                f"io.netty.handler.codec.DecoderException: javax.net.ssl.SSLException: {text}",
                f"Caused by: javax.net.ssl.SSLException: {text}",
            ),
        )
    if isinstance(err, ssl.SSLEOFError) or "EOF" in reason:
        text = "Connection closed while SSL/TLS handshake was in progress"
        return LinkFailure(text, (f"{SSL_HANDSHAKE_EXC}: {text}",))
    return _alert_failure(err, address)


def _verify_failure(
    err: ssl.SSLCertVerificationError,
    tls: ClientTls,
    host: str,
    target: tuple[str, int] | None,
    sni: str | None,
    checked_name: str,
    timeouts: LinkTimeouts,
    log: PodLog,
) -> LinkFailure:
    """OpenSSL refused the server: say why the way the JDK and DiagnosticTrustManager do."""
    chain, cipher, protocol = fetch_chain(target, sni, timeouts) if target else ([], "", "")
    hostname = err.verify_code in (62, 64)
    text = _verify_text(err, chain, checked_name)
    if chain:
        line = trust_failure(
            "server",
            host,
            chain,
            cipher,
            protocol,
            tls.context_name,
            tls.trusted,
            jdk_default=tls.jdk_default,
        )
        cause = (
            "java.security.cert.CertificateException"
            if hostname
            else "sun.security.validator.ValidatorException"
        )
        log.log("WARN", TRUST_MANAGER, line, (f"{cause}: {text}",))
    return LinkFailure(
        text,
        (
            f"io.netty.handler.codec.DecoderException: {SSL_HANDSHAKE_EXC}: {text}",
            f"Caused by: {SSL_HANDSHAKE_EXC}: {text}",
        ),
    )


def _verify_text(err: ssl.SSLCertVerificationError, chain: list[x509.Certificate], checked_name: str) -> str:
    code = err.verify_code
    if code in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH / IP_ADDRESS_MISMATCH
        return hostname_mismatch(checked_name, chain[0]) if chain else str(err.verify_message)
    if code in (9, 10):  # not yet valid / expired
        return PKIX_VALIDITY
    if code == 7:  # signature failure: a CA with the right name but another key
        return PKIX_SIGNATURE
    if code in _UNTRUSTED_ISSUER_CODES:
        return PKIX_BUILD
    return str(err.verify_message)


def fetch_chain(
    target: tuple[str, int], sni: str | None, timeouts: LinkTimeouts
) -> tuple[list[x509.Certificate], str, str]:
    """The certificate chain a server presents, fetched without verifying it (for diagnostics)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(target, timeout=timeouts.connect) as raw:
            raw.settimeout(timeouts.tls)
            with ctx.wrap_socket(raw, server_hostname=sni) as tls:
                # Python 3.11 only exposes the presented chain privately (public from 3.13).
                sslobj: Any = getattr(tls, "_sslobj")  # noqa: B009
                der = ssl._ssl.ENCODING_DER  # type: ignore[attr-defined]
                chain = [
                    x509.load_der_x509_certificate(c.public_bytes(der)) for c in sslobj.get_unverified_chain()
                ]
                cipher = tls.cipher()
                return chain, cipher[0] if cipher else "", tls.version() or ""
    except (OSError, ValueError):
        return [], "", ""


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
