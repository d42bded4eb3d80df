"""Elasticsearch's TLS failure texts, computed from the real certificates seen on the wire.

`trust_failure` follows the structure of Elasticsearch's `SslDiagnostics` (the
`DiagnosticTrustManager` log line); the hostname texts are the JDK `HostnameChecker` ones.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.twin.pki import fingerprint_sha1

JDK_TRUSTED_ISSUERS = 146
LIST_ISSUERS_UP_TO = 10
PKIX_BUILD = (
    "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: "
    "unable to find valid certification path to requested target"
)
PKIX_VALIDITY = (
    "PKIX path validation failed: java.security.cert.CertPathValidatorException: validity check failed"
)
PKIX_SIGNATURE = (
    "PKIX path validation failed: java.security.cert.CertPathValidatorException: signature check failed"
)

_KEY_USAGE = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)
_EKU = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
}


def subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def issuer(cert: x509.Certificate) -> str:
    return cert.issuer.rfc4514_string()


def _instant(moment: dt.datetime, micros: bool = False) -> str:
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{moment.microsecond:06d}Z" if micros else "Z")


def _usages(cert: x509.Certificate) -> str:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        names = [java for attr, java in _KEY_USAGE if getattr(ku, attr)]
        key_usage = f"keyUsage [{', '.join(names)}]"
    except x509.ExtensionNotFound:
        key_usage = "no keyUsage"
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        ext = f"extendedKeyUsage [{', '.join(_EKU.get(o, o.dotted_string) for o in eku)}]"
    except x509.ExtensionNotFound:
        ext = "no extendedKeyUsage"
    return f"{key_usage} and {ext}"


def java_sans(cert: x509.Certificate) -> list[str]:
    """SANs as Java prints them (DNS:..., IP:...; IPv6 uncompressed)."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out: list[str] = []
    for name in sans:
        if isinstance(name, x509.DNSName):
            out.append(f"DNS:{name.value}")
        elif isinstance(name, x509.IPAddress):
            ip = name.value
            text = ":".join(f"{int(h, 16):x}" for h in ip.exploded.split(":")) if ip.version == 6 else str(ip)
            out.append(f"IP:{text}")
    return out


def _validity(cert: x509.Certificate, now: dt.datetime) -> str:
    begin, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    state = "certificate dates are valid" if begin <= now <= end else "certificate dates are not valid"
    return (
        f"the certificate is valid between [{_instant(begin)}] and [{_instant(end)}] "
        f"(current time is [{_instant(now, micros=True)}], {state})"
    )


def trust_failure(
    peer: str,
    host: str,
    chain: Sequence[x509.Certificate],
    cipher: str,
    protocol: str,
    context: str,
    trusted: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
    jdk_default: bool = False,
) -> str:
    """The `failed to establish trust with server at [...]` text for this chain and trust set.

    `jdk_default`: the context trusts the JDK's CAs (no `certificate_authorities` configured).
    """
    now = now or dt.datetime.now(dt.UTC)
    leaf = chain[0]
    sans = java_sans(leaf)
    parts = [
        f"failed to establish trust with {peer} at [{host}]",
        f"the {peer} provided a certificate with subject name [{subject(leaf)}], fingerprint "
        f"[{fingerprint_sha1(leaf)}], {_usages(leaf)}",
        _validity(leaf, now),
        f"the session uses cipher suite [{cipher}] and protocol [{protocol}]",
        f"the certificate has subject alternative names [{','.join(sans)}]"
        if sans
        else "the certificate does not have any subject alternative names",
    ]
    return "; ".join(parts + _issuer_parts(peer, chain, context, trusted, jdk_default))


def _issuer_parts(
    peer: str,
    chain: Sequence[x509.Certificate],
    context: str,
    trusted: Sequence[x509.Certificate],
    jdk_default: bool,
) -> list[str]:
    leaf = chain[0]
    trusted_fps = {fingerprint_sha1(c) for c in trusted}
    if leaf.issuer == leaf.subject:
        state = "trusted" if fingerprint_sha1(leaf) in trusted_fps else "not trusted"
        return [
            f"the certificate is self-issued; the [{subject(leaf)}] certificate is {state} in this ssl "
            f"context ([{context}])"
        ]
    same_subject = [c for c in trusted if c.subject == leaf.issuer]
    issued_by = f"the certificate is issued by [{issuer(leaf)}]"
    if len(chain) > 1:
        ca = chain[1]
        is_trusted = fingerprint_sha1(ca) in trusted_fps
        mark = " {trusted issuer}" if is_trusted else ""
        text = (
            f"the certificate is signed by (subject [{subject(ca)}] fingerprint [{fingerprint_sha1(ca)}]"
            f"{mark}) which is self-issued; the [{subject(ca)}] certificate is "
            f"{'trusted' if is_trusted else 'not trusted'} in this ssl context ([{context}])"
        )
        mimic = [c for c in same_subject if fingerprint_sha1(c) != fingerprint_sha1(ca)]
        if not is_trusted and mimic:
            text += (
                f"; this ssl context does trust a certificate with subject [{subject(ca)}] but the "
                f"trusted certificate has fingerprint [{fingerprint_sha1(mimic[0])}]"
            )
        return [issued_by, text]
    missing = (
        f"{issued_by} but the {peer} did not provide a copy of the issuing certificate in the "
        "certificate chain"
    )
    return [missing, _lookup_issuer(leaf, context, trusted, same_subject, jdk_default)]


def _lookup_issuer(
    leaf: x509.Certificate,
    context: str,
    trusted: Sequence[x509.Certificate],
    same_subject: Sequence[x509.Certificate],
    jdk_default: bool,
) -> str:
    signer = [c for c in same_subject if _signed_by(leaf, c)]
    if signer:
        return (
            f"the issuing certificate with fingerprint [{fingerprint_sha1(signer[0])}] is trusted in "
            f"this ssl context ([{context}])"
        )
    if same_subject:
        count = len(same_subject)
        fps = ", fingerprint ".join(f"[{fingerprint_sha1(c)}]" for c in same_subject)
        noun = "certificate" if count == 1 else "certificates"
        return (
            f"this ssl context ([{context}]) trusts [{count}] {noun} with subject name "
            f"[{issuer(leaf)}] and fingerprint {fps} but the signatures do not match"
        )
    others = jdk_trust_others() if jdk_default else _others(trusted)
    return f"this ssl context ([{context}]) is not configured to trust that issuer{others}"


def _others(trusted: Sequence[x509.Certificate]) -> str:
    if len(trusted) == 1:
        return (
            f", it only trusts the issuer [{subject(trusted[0])}] with fingerprint "
            f"[{fingerprint_sha1(trusted[0])}]"
        )
    if not trusted:
        return " and trusts no other issuers"
    names = f" ([{', '.join(subject(c) for c in trusted)}])" if len(trusted) <= LIST_ISSUERS_UP_TO else ""
    return f" but trusts [{len(trusted)}] other issuers{names}"


def jdk_trust_others(count: int = JDK_TRUSTED_ISSUERS) -> str:
    """The tail used when the context trusts the JDK's default CAs (no twin CA among them)."""
    return f" but trusts [{count}] other issuers"


def _signed_by(leaf: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        leaf.verify_directly_issued_by(ca)
    except (ValueError, TypeError, Exception):  # noqa: BLE001 - any failure means "not this issuer"
        return False
    return True


def hostname_mismatch(name: str, cert: x509.Certificate) -> str:
    """The JDK HostnameChecker text for a name that is not among the certificate's SANs."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return f"No subject alternative DNS name matching {name} found."
    if not java_sans(cert):
        return "No subject alternative names present"
    return f"No subject alternative names matching IP address {name} found"
