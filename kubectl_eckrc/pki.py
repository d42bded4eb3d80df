"""Certificates: PEM parsing into CertInfo, fingerprints and name matching.

Chain validation is the JDK's, in jdk_trust.py: a local node's verdict is its JDK's PKIX
validator, which differs from cryptography's Web PKI verifier (an anchor's dates are never
checked, for one), and a differential test against a real JDK holds it there.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kubectl_eckrc.snapshot import CertInfo

_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


class PemError(ValueError):
    """Text that should hold PEM certificates does not."""


def parse_pem(text: str) -> list[CertInfo]:
    """Every certificate of a PEM bundle, in order. Raises PemError when there is none or one
    does not parse."""
    return list(_parse_pem(text or ""))


@functools.lru_cache(maxsize=256)
def _parse_pem(text: str) -> tuple[CertInfo, ...]:
    """Parsing is pure and the same CA file is read by several checks per alias: cache it."""
    blocks = _PEM_BLOCK.findall(text)
    if not blocks:
        raise PemError("no PEM certificate found")
    infos = []
    for i, block in enumerate(blocks, start=1):
        try:
            cert = x509.load_pem_x509_certificate(block.encode())
        except ValueError as exc:
            raise PemError(f"certificate {i} does not parse: {exc}") from exc
        infos.append(cert_info(cert))
    return tuple(infos)


def cert_info(cert: x509.Certificate) -> CertInfo:
    pem = cert.public_bytes(Encoding.PEM).decode()
    dns, ips = _sans(cert)
    return CertInfo(
        pem=pem,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sha256=fingerprint(cert),
        not_before=iso(cert.not_valid_before_utc),
        not_after=iso(cert.not_valid_after_utc),
        is_ca=_is_ca(cert),
        dns_names=dns,
        ip_addresses=ips,
    )


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def short(sha256: str) -> str:
    """A fingerprint shortened for humans: first and last 4 hex digits."""
    return f"{sha256[:4]}…{sha256[-4:]}".upper() if len(sha256) > 8 else sha256.upper()


def load(info: CertInfo) -> x509.Certificate:
    return _load(info.pem)


@functools.lru_cache(maxsize=256)
def _load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def same_key(a: CertInfo, b: CertInfo) -> bool:
    """Whether two certificates certify the same public key (a renewed CA keeps its key)."""
    return _spki(a) == _spki(b)


def public_key_sha256(info: CertInfo) -> str:
    """sha256 hex of the certificate's SubjectPublicKeyInfo: a private key's summary carries the
    same fingerprint (redact.private_key_info), so the pair can be matched offline."""
    return hashlib.sha256(_spki(info)).hexdigest()


def same_key_identifier(a: CertInfo, b: CertInfo) -> bool:
    """Whether two CA certificates carry the same Subject Key Identifier (or neither has one):
    the JDK picks a trust anchor by the leaf's Authority Key Identifier, so a CA renewed with
    its key but another identifier no longer anchors the leaves the new issue signs."""
    return _subject_key_id(a) == _subject_key_id(b)


def _subject_key_id(info: CertInfo) -> bytes | None:
    try:
        return load(info).extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _spki(info: CertInfo) -> bytes:
    return load(info).public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def issued_by(leaf: CertInfo, cas: list[CertInfo]) -> CertInfo | None:
    """The CA among `cas` that signed `leaf` (name and signature; validity dates are not
    judged here), or None."""
    cert = load(leaf)
    for ca in cas:
        if ca.subject != leaf.issuer:
            continue
        try:
            cert.verify_directly_issued_by(load(ca))
        except (ValueError, TypeError, InvalidSignature):
            continue
        return ca
    return None


def chain_from(chain: list[CertInfo], cas: list[CertInfo]) -> bool:
    """Whether a presented chain comes from one of `cas` (a CA itself or a certificate it
    signed), by name and signature only: dates are another question."""
    known = {c.sha256 for c in cas}
    return any(cert.sha256 in known or issued_by(cert, cas) for cert in chain)


def _sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    dns = [str(n) for n in ext.get_values_for_type(x509.DNSName)]
    ips = [str(n) for n in ext.get_values_for_type(x509.IPAddress)]
    return dns, ips


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


# --- time ----------------------------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def days_left(info: CertInfo, now: datetime) -> float:
    return (parse_time(info.not_after) - now).total_seconds() / 86400


# --- names ---------------------------------------------------------------------------------------


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def valid_dns_name(name: str) -> bool:
    if not name or len(name) > 253 or is_ip(name):
        return False
    labels = name.rstrip(".").split(".")
    return all(_DNS_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def matches_name(leaf: CertInfo, name: str) -> bool:
    """Whether a client checking `name` accepts this certificate (SAN match, wildcards in the
    left-most label only)."""
    if is_ip(name):
        wanted = ipaddress.ip_address(name.strip("[]"))
        return any(ipaddress.ip_address(ip) == wanted for ip in leaf.ip_addresses)
    host = name.rstrip(".").lower()
    for san in leaf.dns_names:
        pattern = san.rstrip(".").lower()
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host and host.split(".", 1)[1] == pattern[2:]:
            return True
    return False
