"""Generated certificate cases for the product-vs-JDK differential test (test_tls_corpus.py).

Each `Case` is what one handshake of a local node to the remote cluster server involves: the
CAs the remote really uses (its `transport-certs-public`), the CAs the local node trusts, the
chain presented at `proxy_address`, the `proxy_address` host (the peer host the JDK checks)
and `server_name` (the SNI name). EC keys keep generation cheap; the JDK judges them as it
judges ECK's RSA keys.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubectl_eckrc import pki
from kubectl_eckrc.snapshot import CertInfo
from tests.twin.pki import key_usage

LB_IP = "127.0.0.1"  # the corpus server listens here: the proxy_address host when it is an IP
RCS_NAME = "remote-es-es-remote-cluster.search.svc"
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Cert:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def info(self) -> CertInfo:
        return pki.cert_info(self.cert)

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


@dataclass(frozen=True)
class Case:
    name: str
    remote_cas: tuple[Cert, ...]  # the remote's current transport CA(s)
    trusted: tuple[Cert, ...]  # the local node's certificate_authorities
    chain: tuple[Cert, ...]  # presented, leaf first
    peer_host: str = LB_IP  # the proxy_address host
    server_name: str = RCS_NAME  # "" = unset

    @property
    def leaf(self) -> Cert:
        return self.chain[0]


_keys: dict[str, ec.EllipticCurvePrivateKey] = {}


def _key(name: str) -> ec.EllipticCurvePrivateKey:
    if name not in _keys:
        _keys[name] = ec.generate_private_key(ec.SECP256R1())
    return _keys[name]


def _name(cn: str, ou: str = "remote-es") -> x509.Name:
    ou_attribute = x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou)
    return x509.Name([ou_attribute, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(
    cn: str,
    key: str,
    issuer: Cert | None = None,
    ca: bool | None = False,
    cert_sign: bool = True,
    digital_signature: bool = True,
    eku: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
    dns: Sequence[str] = (),
    ips: Sequence[str] = (),
    starts: float = -30,
    days: float = 365,
    ou: str = "remote-es",
    ski: bytes | None = None,
) -> Cert:
    """One certificate, self-signed when `issuer` is None. `ca=None` leaves basicConstraints out;
    `starts` and `days` are relative to now, in days; `ski` replaces the key-derived identifier
    (the leaves it signs name it as their authority key identifier)."""
    private = _key(key)
    begin = dt.datetime.now(dt.UTC) + starts * DAY
    subject = _name(cn, ou)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + days * DAY)
        .add_extension(x509.SubjectKeyIdentifier(ski) if ski else
                       x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False)
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    is_ca = bool(ca)
    builder = builder.add_extension(
        key_usage(digital_signature, cert_sign if is_ca else False), critical=True
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if issuer is not None:
        issuer_ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False
        )
    sans = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    signer = issuer.key if issuer else private
    return Cert(builder.sign(signer, hashes.SHA256()), private)


ECK_DNS = (
    "remote-es-es-default-0.node.remote-es.search.es.local",
    "remote-es-es-transport.search.svc",
    RCS_NAME,
)


def leaf(issuer: Cert, key: str = "leaf", dns: Sequence[str] = ECK_DNS, ips: Sequence[str] = ("10.2.0.10",),
         **kw: object) -> Cert:
    return issue("remote-es-es-default-0.node.remote-es.search.es.local", key, issuer, dns=dns, ips=ips,
                 **kw)  # type: ignore[arg-type]


def cases() -> list[Case]:
    """The corpus: trust-anchor, chain, validity, key-usage and name cases."""
    ca = issue("remote-es-transport", "ca", ca=True)
    renewed_same_key = issue("remote-es-transport", "ca", ca=True, starts=-1)
    renewed_new_key = issue("remote-es-transport", "ca-2", ca=True, starts=-1)
    # same key, another SKI (a renewal that did not keep it): the leaves' AKI names the new one
    renewed_other_ski = issue("remote-es-transport", "ca", ca=True, starts=-1, ski=b"\x07" * 20)
    expired_ca = issue("remote-es-transport", "ca-old", ca=True, starts=-400)
    other_cluster = issue("other-es-transport", "other", ca=True, ou="other-es")
    root = issue("corp-root", "root", ca=True, ou="corp")
    inter = issue("corp-issuing", "inter", issuer=root, ca=True, ou="corp")
    no_ca_flag = issue("remote-es-transport", "ca-noflag", ca=False)
    no_basic = issue("remote-es-transport", "ca-nobasic", ca=None)
    no_cert_sign = issue("remote-es-transport", "ca-nosign", ca=True, cert_sign=False)
    inter_no_flag = issue("corp-issuing", "inter-noflag", issuer=root, ca=False, ou="corp")
    good = leaf(ca)
    lb_leaf = leaf(ca, ips=("10.2.0.10", LB_IP))
    wild = leaf(ca, dns=("*.search.svc", "*.example.com"))
    partial_wild = leaf(ca, dns=("remote-*.search.svc",))
    cases = [
        Case("current-ca", (ca,), (ca,), (good,)),
        Case("current-ca-no-server-name-lb-ip-not-san", (ca,), (ca,), (good,), server_name=""),
        Case("renewed-ca-same-key-copy-is-old", (renewed_same_key,), (ca,), (leaf(renewed_same_key),)),
        Case("renewed-ca-same-key-copy-is-new", (ca,), (renewed_same_key,), (good,)),
        Case("renewed-ca-new-key", (renewed_new_key,), (ca,), (leaf(renewed_new_key),)),
        Case("renewed-ca-same-key-other-ski", (renewed_other_ski,), (ca,), (leaf(renewed_other_ski),)),
        Case("expired-anchor", (expired_ca,), (expired_ca,), (leaf(expired_ca, starts=-1, days=30),)),
        Case("expired-anchor-presented-in-chain", (expired_ca,), (expired_ca,),
             (leaf(expired_ca, starts=-1, days=30), expired_ca)),
        Case("expired-leaf", (ca,), (ca,), (leaf(ca, starts=-20, days=10),)),
        Case("not-yet-valid-leaf", (ca,), (ca,), (leaf(ca, starts=2, days=10),)),
        Case("intermediate-presented", (root,), (root,), (leaf(inter), inter)),
        Case("intermediate-missing", (root,), (root,), (leaf(inter),)),
        Case("intermediate-trusted-only", (inter,), (inter,), (leaf(inter),)),
        Case("intermediate-trusted-root-listed", (root, inter), (inter,), (leaf(inter),)),
        Case("leaf-and-ca-chain", (ca,), (ca,), (good, ca)),
        Case("another-clusters-ca", (ca,), (other_cluster,), (good,)),
        Case("anchor-without-ca-flag", (no_ca_flag,), (no_ca_flag,), (leaf(no_ca_flag),)),
        Case("anchor-without-basic-constraints", (no_basic,), (no_basic,), (leaf(no_basic),)),
        Case("anchor-without-key-cert-sign", (no_cert_sign,), (no_cert_sign,), (leaf(no_cert_sign),)),
        Case("intermediate-without-ca-flag", (root,), (root,),
             (leaf(inter_no_flag), inter_no_flag)),
        Case("leaf-without-digital-signature", (ca,), (ca,), (leaf(ca, digital_signature=False),)),
        Case("leaf-client-auth-only", (ca,), (ca,), (leaf(ca, eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)),)),
        Case("leaf-without-eku", (ca,), (ca,), (leaf(ca, eku=()),)),
        Case("sni-in-cert-peer-ip-not", (ca,), (ca,), (good,)),
        Case("sni-not-in-cert-peer-ip-in", (ca,), (ca,), (lb_leaf,), server_name="wrong-name.example.com"),
        Case("sni-not-in-cert-peer-ip-not", (ca,), (ca,), (good,), server_name="wrong-name.example.com"),
        Case("sni-unset-peer-ip-in", (ca,), (ca,), (lb_leaf,), server_name=""),
        Case("sni-unset-peer-name-in", (ca,), (ca,), (good,), peer_host=RCS_NAME, server_name=""),
        Case("sni-unset-peer-name-not", (ca,), (ca,), (good,), peer_host="rcs.example.com", server_name=""),
        Case("sni-not-in-cert-peer-name-in", (ca,), (ca,), (good,), peer_host=RCS_NAME,
             server_name="wrong-name.example.com"),
        Case("sni-in-cert-peer-name-not", (ca,), (ca,), (good,), peer_host="rcs.example.com"),
        Case("sni-equals-peer-not-in-cert", (ca,), (ca,), (good,), peer_host="rcs.example.com",
             server_name="rcs.example.com"),
        Case("server-name-ip-in-cert", (ca,), (ca,), (lb_leaf,), server_name=LB_IP),
        Case("server-name-ip-not-in-cert-peer-not", (ca,), (ca,), (good,), server_name="10.9.9.9"),
        Case("server-name-ip-not-in-cert-peer-in", (ca,), (ca,), (lb_leaf,), server_name="10.9.9.9"),
        Case("wildcard-sni-one-label", (ca,), (ca,), (wild,), server_name="rcs.example.com"),
        Case("wildcard-sni-two-labels", (ca,), (ca,), (wild,), server_name="a.rcs.example.com"),
        Case("wildcard-sni-bare-domain", (ca,), (ca,), (wild,), server_name="example.com"),
        Case("partial-wildcard-label", (ca,), (ca,), (partial_wild,), server_name=RCS_NAME),
        Case("dns-san-vs-ip-peer", (ca,), (ca,), (leaf(ca, dns=(LB_IP,), ips=()),), server_name=""),
        Case("server-name-trailing-dot", (ca,), (ca,), (good,), server_name=RCS_NAME + "."),
        Case("server-name-upper-case", (ca,), (ca,), (good,), server_name=RCS_NAME.upper()),
    ]
    return cases
