"""A real TCP connect and TLS handshake to a remote cluster's `proxy_address`.

The handshake accepts any certificate (CERT_NONE): the point is to see what is presented;
checks validate it afterwards against the CA the local cluster is configured with. SNI is
the `server_name` the local cluster would send, else the address host, and none for an IP,
as Elasticsearch does. Python's ssl exposes the leaf only, which is what the remote cluster
server sends for an ECK-issued certificate.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time

from kubectl_eckrc.redact import cert_from_der
from kubectl_eckrc.snapshot import CertInfo, TlsProbe


def split_address(address: str) -> tuple[str, int]:
    """'host:port' or '[v6]:port' -> (host, port); ValueError when there is no port."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{address!r} is not host:port")
    return host.strip("[]"), int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def sni_for(host: str, server_name: str) -> str:
    if server_name:
        return server_name
    return "" if _is_ip(host) else host


def _connect(host: str, port: int, timeout: float) -> tuple[socket.socket | None, str, str]:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        return None, "timeout", f"no answer from {host}:{port} within {timeout:g}s"
    except ConnectionRefusedError:
        return None, "refused", f"connection to {host}:{port} refused"
    except socket.gaierror as e:
        return None, "unresolved", f"cannot resolve {host}: {e.strerror}"
    except OSError as e:
        return None, "error", f"cannot connect to {host}:{port}: {e.strerror or e}"
    return sock, "ok", ""


def _tls_failure(error: Exception) -> tuple[str, str]:
    text = " ".join(str(error).split())
    low = text.lower()
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout", "the TLS handshake got no answer (accepted TCP, then silence)"
    if isinstance(error, ssl.SSLEOFError | ConnectionResetError | BrokenPipeError) or "eof" in low:
        return "closed", f"the peer closed the connection during the TLS handshake ({text})"
    if any(s in low for s in ("wrong version number", "record layer failure", "unknown protocol",
                              "packet length too long", "http request")):
        return "not-tls", f"the peer does not speak TLS ({text})"
    return "error", text


def probe(alias: str, address: str, server_name: str, timeout: float) -> TlsProbe:
    """Connect and handshake within `timeout` seconds (each step); never raises."""
    started = time.monotonic()

    def result(tcp: str, tcp_error: str, tls: str, tls_error: str, chain: list[CertInfo] | None = None,
               protocol: str = "") -> TlsProbe:
        return TlsProbe(alias=alias, address=address, server_name=server_name, tcp=tcp, tcp_error=tcp_error,
                        tls=tls, tls_error=tls_error, chain=chain or [], protocol=protocol,
                        elapsed_ms=int((time.monotonic() - started) * 1000))

    try:
        host, port = split_address(address)
    except ValueError as e:
        return result("error", str(e), "skipped", "no TCP connection")
    sock, tcp, tcp_error = _connect(host, port, timeout)
    if sock is None:
        return result(tcp, tcp_error, "skipped", "no TCP connection")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    sni = sni_for(host, server_name)
    try:
        sock.settimeout(max(0.1, timeout - (time.monotonic() - started)))
        with context.wrap_socket(sock, server_hostname=sni or None) as tls:
            der = tls.getpeercert(binary_form=True)
            protocol = tls.version() or ""
    except (OSError, ssl.SSLError, ValueError) as e:
        sock.close()
        state, message = _tls_failure(e)
        return result("ok", "", state, message)
    if not der:
        return result("ok", "", "error", "the server presented no certificate", protocol=protocol)
    try:
        chain = [cert_from_der(der)]
    except ValueError as e:
        return result("ok", "", "error", f"the presented certificate does not parse: {e}", protocol=protocol)
    return result("ok", "", "ok", "", chain, protocol)
