"""The only place where secret values are turned into something that may be kept.

A Secret becomes a `SecretSummary`: key names, sizes and sha256 prefixes; certificate PEMs
are kept as `CertInfo` because they are public; private keys and credentials never leave
this module (a credential becomes its API-key id plus a well-formedness verdict). Values seen
here are remembered so that `scrub_known()` can blank them from any error text, as a last
line of defence.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from collections.abc import Iterable
from typing import Any

from kubectl_eckrc.snapshot import CertInfo, CredentialInfo, SecretKey, SecretSummary

REDACTED = "[redacted]"
CREDENTIALS_KEY = re.compile(r"^cluster\.remote\.([^.]+)\.credentials$")
PEM_CERT = "-----BEGIN CERTIFICATE-----"
MIN_SCRUB_LENGTH = 6  # shorter values would blank ordinary words

_known: set[str] = set()
_known_lock = threading.Lock()


def fingerprint(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()[:16]


def remember(value: str | bytes) -> None:
    """Register a secret value (and its base64 form) for `scrub_known`."""
    raw = value.encode() if isinstance(value, str) else value
    forms = {raw.decode("utf-8", "replace"), base64.b64encode(raw).decode()}
    with _known_lock:
        _known.update(f for f in forms if len(f) >= MIN_SCRUB_LENGTH)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted((s for s in secrets if len(s) >= MIN_SCRUB_LENGTH), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def scrub_known(text: str) -> str:
    with _known_lock:
        known = list(_known)
    return scrub(text, known)


# --- credentials -------------------------------------------------------------------------------


def credential_info(value: bytes) -> CredentialInfo:
    """What can be said of a `cluster.remote.<alias>.credentials` value: the store holds
    `encoded` = base64("id:api_key"); the raw `api_key` or damaged text is not that."""
    remember(value)
    text = value.decode("utf-8", "replace").strip()
    digest = fingerprint(value)
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return CredentialInfo(False, "not base64", "", digest)
    key_id, sep, key = decoded.partition(":")
    if not sep or not key_id or not key or not key_id.isprintable() or ":" in key:
        return CredentialInfo(False, "decodes to no 'id:key' pair", "", digest)
    remember(key)
    return CredentialInfo(True, "", key_id, digest)


# --- certificates ------------------------------------------------------------------------------


def _name(name: Any) -> str:
    return str(name.rfc4514_string())


def cert_info(cert: Any) -> CertInfo:
    """CertInfo from a cryptography x509.Certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bool(basic.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        ips = [str(n) for n in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    return CertInfo(
        pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        not_before=cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        not_after=cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        is_ca=is_ca,
        dns_names=dns,
        ip_addresses=ips,
    )


def certs_from_pem(data: bytes) -> list[CertInfo]:
    """Every certificate of a PEM bundle; raises ValueError when the text does not parse."""
    from cryptography import x509

    return [cert_info(c) for c in x509.load_pem_x509_certificates(data)]


def cert_from_der(data: bytes) -> CertInfo:
    from cryptography import x509

    return cert_info(x509.load_der_x509_certificate(data))


# --- secrets -----------------------------------------------------------------------------------


def _secret_key(name: str, value: bytes, credential_keys: frozenset[str] = frozenset()) -> SecretKey:
    certificates: list[CertInfo] = []
    pem_error = ""
    credential = None
    if PEM_CERT.encode() in value:
        try:
            certificates = certs_from_pem(value)
        except ValueError as e:
            pem_error = f"PEM does not parse: {str(e).splitlines()[0] if str(e) else 'invalid'}"
    elif CREDENTIALS_KEY.match(name) or name in credential_keys:
        credential = credential_info(value)
    else:
        remember(value)
    return SecretKey(
        size=len(value),
        sha256=fingerprint(value),
        certificates=certificates,
        credential=credential,
        pem_error=pem_error,
    )


def decode_data(secret: dict[str, Any]) -> dict[str, bytes]:
    """A Secret's `data` (base64) and `stringData` as bytes; bad base64 yields no bytes."""
    values: dict[str, bytes] = {}
    for key, encoded in (secret.get("data") or {}).items():
        try:
            values[key] = base64.b64decode(encoded or "", validate=True)
        except (binascii.Error, ValueError):
            values[key] = b""
    for key, text in (secret.get("stringData") or {}).items():
        values[key] = str(text).encode()
    return values


def summarize_secret(secret: dict[str, Any], credential_keys: frozenset[str] = frozenset()) -> SecretSummary:
    """`credential_keys`: keys that hold a credential under another name than
    `cluster.remote.<alias>.credentials` (secureSettings `entries` remap them)."""
    meta = secret.get("metadata") or {}
    keys = {name: _secret_key(name, value, credential_keys) for name, value in decode_data(secret).items()}
    return SecretSummary(
        name=str(meta.get("name", "")),
        type=str(secret.get("type", "Opaque")),
        keys=keys,
        labels=dict(meta.get("labels") or {}),
        owner_kinds=[str(o.get("kind", "")) for o in meta.get("ownerReferences") or []],
    )


def secret_value(secret: dict[str, Any], key: str) -> str | None:
    """The one raw value callers may hold: the elastic password for the ES client."""
    value = decode_data(secret).get(key)
    if value is None:
        return None
    remember(value)
    return value.decode("utf-8", "replace")
