"""ECK-shaped certificates for the twin, built with `cryptography`.

RSA 2048 key generation dominates twin start-up, so keys come from a session-wide pool that
is filled lazily and reused; keys are never weakened. Callers that need two *different* keys
(e.g. a re-created cluster whose CA must not verify the old leaves) ask for distinct pool
indices with `pooled_key(i)`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_SIZE = 2048
POOL_SIZE = 32
ES_CONFIG_DIR = "/usr/share/elasticsearch/config"
# ECK transport certificates carry the node name in an otherName SAN of this type (commonName).
OTHER_NAME_OID = x509.ObjectIdentifier("2.5.4.3")

_pool: list[rsa.RSAPrivateKey] = []
_pool_lock = threading.Lock()
_cursor = 0


def pooled_key(index: int) -> rsa.RSAPrivateKey:
    """The index-th key of the session pool, generating keys up to it on first use."""
    with _pool_lock:
        while len(_pool) <= index:
            _pool.append(rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE))
        return _pool[index]


def next_key() -> rsa.RSAPrivateKey:
    """A key from the pool, cycling over POOL_SIZE keys (consecutive calls give distinct keys)."""
    global _cursor
    with _pool_lock:
        index = _cursor % POOL_SIZE
        _cursor += 1
    return pooled_key(index)


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key and the chain sent after it (issuer first)."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def cert_pem(self) -> bytes:
        return cert_pem(self.cert)

    @property
    def chain_pem(self) -> bytes:
        """Leaf followed by its chain: what ECK puts in a tls.crt and a server presents."""
        return certs_pem([self.cert, *self.chain])

    @property
    def key_pem(self) -> bytes:
        return key_pem(self.key)


def validity(days: float = 365.0, start: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """A validity window starting an hour before `start` (now), `days` long, like ECK's 1 year."""
    begin = (start or now()) - dt.timedelta(hours=1)
    return begin, begin + dt.timedelta(days=days)


def expired_validity(days_ago: float = 1.0) -> tuple[dt.datetime, dt.datetime]:
    """A one-year window that ended `days_ago` days ago."""
    end = now() - dt.timedelta(days=days_ago)
    return end - dt.timedelta(days=365), end


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(cn: str, ou: str | None) -> x509.Name:
    # Go's pkix.Name puts OU before CN, so Java (and RFC 4514) print "CN=...,OU=..." like ECK's.
    attrs = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou)] if ou else []
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _window(not_before: dt.datetime | None, not_after: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    default_begin, default_end = validity()
    return not_before or default_begin, not_after or default_end


def make_ca(
    cn: str,
    ou: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
    subject_key_id: bytes | None = None,
) -> Issued:
    """A self-signed CA shaped like ECK's (CA:true, certSign/crlSign, EKU serverAuth+clientAuth).
    `subject_key_id`: kept from a previous issue (ECK's renewal), else derived from the key."""
    key = key or next_key()
    begin, end = _window(not_before, not_after)
    subject = _name(cn, ou)
    ski = (x509.SubjectKeyIdentifier(subject_key_id) if subject_key_id
           else x509.SubjectKeyIdentifier.from_public_key(key.public_key()))
    builder = _builder(subject, subject, key, begin, end, ca=True).add_extension(ski, critical=False)
    return Issued(builder.sign(key, hashes.SHA256()), key)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    begin: dt.datetime,
    end: dt.datetime,
    ca: bool,
) -> x509.CertificateBuilder:
    """What ECK's CAs and leaves have in common: validity, CA flag, key usage, server+client EKU."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True, cert_sign=ca), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    )


def key_usage(digital_signature: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_leaf(
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    cn: str,
    ou: str | None = None,
    dns: Sequence[str] = (),
    ips: Sequence[str] = (),
    other_name: str | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> Issued:
    """A leaf signed by the CA, usable as server and client certificate (like ECK's)."""
    key = key or next_key()
    begin, end = _window(not_before, not_after)
    sans: list[x509.GeneralName] = []
    if other_name:
        sans.append(x509.OtherName(OTHER_NAME_OID, _der_utf8(other_name)))
    sans += [x509.DNSName(name) for name in dns]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    builder = _builder(_name(cn, ou), ca_cert.subject, key, begin, end, ca=False).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return Issued(builder.sign(ca_key, hashes.SHA256()), key, (ca_cert,))


def _der_utf8(text: str) -> bytes:
    """DER UTF8String, the otherName value ECK writes (short and long length forms)."""
    raw = text.encode()
    if len(raw) < 0x80:
        return b"\x0c" + bytes([len(raw)]) + raw
    length = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
    return b"\x0c" + bytes([0x80 | len(length)]) + length + raw


def split_sans(entries: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split `subjectAltNames`-style entries into (dns, ips)."""
    dns: list[str] = []
    ips: list[str] = []
    for entry in entries:
        try:
            ipaddress.ip_address(entry)
        except ValueError:
            dns.append(entry)
        else:
            ips.append(entry)
    return dns, ips


# ---- ECK names -----------------------------------------------------------------------------


def transport_ca(
    es: str,
    key: rsa.RSAPrivateKey | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    return make_ca(f"{es}-transport", es, not_before, not_after, key)


def http_ca(
    es: str,
    key: rsa.RSAPrivateKey | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    return make_ca(f"{es}-http", es, not_before, not_after, key)


def transport_node_name(es: str, namespace: str, pod: str, suffix: str = "") -> str:
    """The CN and otherName of a pod's transport certificate (`spec.transport.tls.otherNameSuffix`
    replaces ECK's default suffix)."""
    return f"{pod}.{suffix}" if suffix else f"{pod}.node.{es}.{namespace}.es.local"


def transport_sans(
    es: str, namespace: str, pod: str, nodeset: str, pod_ip: str, rcs: bool = False,
    extra: Sequence[str] = (), suffix: str = "",
) -> tuple[list[str], list[str]]:
    """(dns, ips) of an ECK transport certificate, in ECK's order within each kind: the node
    name, the transport Service, the pod's name under its headless Service, the pod IP and
    loopback; with RCS the remote cluster Service and the pod's full headless name; then the
    user's SANs. Never a load balancer name or address."""
    node = transport_node_name(es, namespace, pod, suffix)
    dns = [node, f"{es}-es-transport.{namespace}.svc", f"{pod}.{es}-es-{nodeset}"]
    if rcs:
        dns += [f"{es}-es-remote-cluster.{namespace}.svc", f"{pod}.{es}-es-{nodeset}.{namespace}.svc"]
    ips = [pod_ip, "127.0.0.1"] if pod_ip else ["127.0.0.1"]
    extra_dns, extra_ips = split_sans(extra)
    return dns + extra_dns, ips + extra_ips


def transport_cert(
    ca: Issued,
    es: str,
    namespace: str,
    pod: str,
    nodeset: str,
    pod_ip: str,
    rcs: bool = False,
    extra_sans: Sequence[str] = (),
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
    other_name_suffix: str = "",
) -> Issued:
    """The per-pod transport certificate ECK issues (also presented by the RCS on 9443)."""
    node = transport_node_name(es, namespace, pod, other_name_suffix)
    dns, ips = transport_sans(es, namespace, pod, nodeset, pod_ip, rcs, extra_sans, other_name_suffix)
    return make_leaf(
        ca.cert,
        ca.key,
        node,
        es,
        dns,
        ips,
        other_name=node,
        not_before=not_before,
        not_after=not_after,
        key=key,
    )


def http_names(es: str, namespace: str) -> list[str]:
    svc = f"{es}-es-http"
    return [f"{svc}.{namespace}.svc", f"{svc}.{namespace}", f"{svc}.{namespace}.svc.cluster.local", svc]


def http_cert(
    ca: Issued,
    es: str,
    namespace: str,
    ips: Sequence[str] = ("127.0.0.1",),
    extra_dns: Sequence[str] = (),
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> Issued:
    """The HTTP certificate ECK issues for `<es>-es-http` (plus the listener IPs given)."""
    return make_leaf(
        ca.cert,
        ca.key,
        f"{es}-es-http.{namespace}.es.local",
        es,
        [*http_names(es, namespace), *extra_dns],
        list(ips),
        not_before=not_before,
        not_after=not_after,
        key=key,
    )


def ingress_fake_cert(key: rsa.RSAPrivateKey | None = None) -> Issued:
    """ingress-nginx's default self-signed certificate, what a TLS-terminating ingress presents."""
    key = key or next_key()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Co"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Kubernetes Ingress Controller Fake Certificate"),
        ]
    )
    begin, end = validity()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("ingress.local")]), critical=False)
        .add_extension(key_usage(digital_signature=True, cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


# ---- PEM helpers -------------------------------------------------------------------------


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def certs_pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(cert_pem(cert) for cert in certs)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_certs(pem: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle; garbage gives an empty list."""
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError:
        return []


def fingerprint_sha1(cert: x509.Certificate) -> str:
    """Lower-case hex SHA-1 of the DER, the fingerprint Elasticsearch logs."""
    return hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
