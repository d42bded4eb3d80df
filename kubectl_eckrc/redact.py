"""The only place where secret values are turned into something that may be kept, and where
text and objects are redacted: by the values this run has seen (`scrub_known`), and by what a
secret looks like (`redact_content`, `redact_object`).

A Secret becomes a `SecretSummary`: key names, sizes and sha256 prefixes; certificate PEMs
are kept as `CertInfo` because they are public; private keys and credentials never leave
this module (a credential becomes its API-key id plus a well-formedness verdict). Values seen
here are remembered, for the current run only, so that `scrub_known()` can blank them from any
error text as a last line of defence, and `known_values()` tells the bundle writer what must
not be in a bundle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Iterable
from typing import Any

from kubectl_eckrc.snapshot import CertInfo, CredentialInfo, PrivateKeyInfo, SecretKey, SecretSummary

REDACTED = "[redacted]"
REDACTED_KEY = "[redacted private key]"  # never itself a "PRIVATE KEY-----" marker the scan refuses
CREDENTIALS_KEY = re.compile(r"^cluster\.remote\.([^.]+)\.credentials$")
PEM_CERT = "-----BEGIN CERTIFICATE-----"
MIN_SCRUB_LENGTH = 6  # shorter values would blank ordinary words

class SecretRegistry:
    """The secret values one run of the tool has seen, and where each was read. Collector
    threads add to it, so every access holds the lock."""

    def __init__(self) -> None:
        self._values: set[str] = set()  # as seen (text)
        self._forms: set[str] = set()  # as seen and base64-encoded: what scrubbing blanks
        self._origins: dict[str, str] = {}  # value -> where it was read ("Secret ns/name key k")
        self._lock = threading.Lock()

    def remember(self, value: str | bytes, origin: str = "") -> None:
        raw = value.encode() if isinstance(value, str) else value
        text = raw.decode("utf-8", "replace")
        forms = {text, base64.b64encode(raw).decode()}
        with self._lock:
            if len(text) >= MIN_SCRUB_LENGTH:
                self._values.add(text)
            self._forms.update(f for f in forms if len(f) >= MIN_SCRUB_LENGTH)
            if origin:
                self._origins.setdefault(text, origin)

    def values(self) -> list[str]:
        with self._lock:
            return sorted(self._values)

    def forms(self) -> list[str]:
        with self._lock:
            return list(self._forms)

    def origin_of(self, value: str) -> str:
        with self._lock:
            return self._origins.get(value, "")


_run = SecretRegistry()


def new_run() -> SecretRegistry:
    """Start the registry of a new run (cli.main, once per command): values of an earlier run
    in the same process are neither scrubbed from nor looked for in this one."""
    global _run
    _run = SecretRegistry()
    return _run


# A fresh random key per run: a fingerprint compares values within one run (and one bundle)
# but cannot be tested offline against guessed passwords, as a plain sha256 could.
_FINGERPRINT_KEY = secrets.token_bytes(32)


def fingerprint(value: bytes) -> str:
    """HMAC-SHA256 of the value under this run's random key, first 16 hex digits."""
    return hmac.new(_FINGERPRINT_KEY, value, hashlib.sha256).hexdigest()[:16]


def remember(value: str | bytes, origin: str = "") -> None:
    """Register a secret value (and its base64 form) for `scrub_known` and `known_values`;
    `origin` says where it was read, for the bundle scan's refusal."""
    _run.remember(value, origin)


def origin_of(value: str) -> str:
    return _run.origin_of(value)


def known_values() -> list[str]:
    """The secret values this run has seen, as seen (not their base64 forms)."""
    return _run.values()


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted((s for s in secrets if len(s) >= MIN_SCRUB_LENGTH), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def scrub_known(text: str) -> str:
    return scrub(text, _run.forms())


# --- redaction by content ----------------------------------------------------------------------
# What a value looks like, wherever it sits (a ConfigMap, an annotation, an env value, an
# argument, an event message, a log line): private key blocks, `key: value` / `key=value`
# pairs whose key names a secret, URL user-info and query strings.

PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.DOTALL)
_SECRET_WORDS = (r"password|passwd|passphrase|pwd|token|secret|credentials?|api[_-]?key|apikey|"
                 r"access[_-]?key|private[_-]?key|client[_-]?key")
SECRET_NAME = re.compile(f"({_SECRET_WORDS})", re.IGNORECASE)
# Names that hold a reference or a switch, not the secret itself.
_NOT_SECRET_SUFFIXES = ("name", "ref", "file", "path", "enabled", "type", "kind", "names", "secrets")
# name (its last segment names a secret), separator, value (quoted, or up to whitespace / a delimiter)
_KEY_VALUE = re.compile(
    rf"""((?:[A-Za-z0-9_\-/]+[.])*[A-Za-z0-9_\-/]*(?:{_SECRET_WORDS})[A-Za-z0-9_\-]*)"""
    r"""(["']?\s*[:=]\s*)("[^"\n]*"|'[^'\n]*'|[^\s,;&"'}\]]+)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=\-]{8,}")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@]+@")
_URL_QUERY = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s?#\"']*\?)([^\s#\"']+)")
_PLACEHOLDERS = ("[redacted", "<redacted", "::es_redacted::")
ANY_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def secret_name(key: str) -> bool:
    """A key that names a secret. Only the last dotted segment counts:
    `xpack.security.authc.token.enabled` is a switch, not a token; `secretName` is a name."""
    last = key.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    return bool(SECRET_NAME.search(last)) and not last.lower().endswith(_NOT_SECRET_SUFFIXES)


def _key_value(match: re.Match[str]) -> str:
    name, sep, value = match.group(1), match.group(2), match.group(3)
    if not secret_name(name) or value.strip("\"'").startswith(_PLACEHOLDERS) or value.lower() in (
            "true", "false", "null"):
        return match.group(0)
    quote = value[0] if value[0] in "\"'" else ""
    return f"{name}{sep}{quote}{REDACTED}{quote}"


def _query(match: re.Match[str]) -> str:
    pairs = [p.partition("=") for p in match.group(2).split("&")]
    return match.group(1) + "&".join(f"{k}={REDACTED}" if eq else k for k, eq, _ in pairs)


# --- redaction of Kubernetes objects and Elasticsearch answers ----------------------------------

OBJECT_REDACTED = "<redacted>"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ES_REDACTED = "::es_redacted::"  # what Elasticsearch itself prints for cluster_credentials


def redact_object(value: Any) -> Any:
    """Blank secret-bearing fields anywhere in a JSON-shaped value, and in every string what
    looks like a secret (redact.redact_content: private key blocks, `key=value` pairs with a
    secret's name, URL user-info and query strings)."""
    if isinstance(value, str):
        return redact_content(value)
    if isinstance(value, list):
        return [redact_object(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "env" and isinstance(item, list):
            out[key] = [_env_entry(e) for e in item]
        elif key == "annotations" and isinstance(item, dict):
            out[key] = {k: OBJECT_REDACTED if k == LAST_APPLIED or secret_name(k) else redact_object(v)
                        for k, v in item.items()}
        elif key == "binaryData" and isinstance(item, dict):
            out[key] = {k: _binary(v) for k, v in item.items()}
        elif isinstance(item, str) and secret_name(key) and item not in ("", ES_REDACTED):
            out[key] = OBJECT_REDACTED
        else:
            out[key] = redact_object(item)
    return out


def _binary(encoded: Any) -> Any:
    """A ConfigMap binaryData value (base64): kept unless its bytes hold something secret-like."""
    try:
        text = base64.b64decode(str(encoded), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return encoded  # binary (an image, a keystore?): the final scan still searches it
    return encoded if redact_content(text) == text else OBJECT_REDACTED


def _env_entry(entry: Any) -> Any:
    if isinstance(entry, dict) and "value" in entry:
        return {**redact_object({k: v for k, v in entry.items() if k != "value"}), "value": OBJECT_REDACTED}
    return redact_object(entry)



def scrub_text(text: str) -> str:
    """Every secret this run has seen, and everything that looks like one, blanked."""
    return redact_content(scrub_known(text))


def redact_content(text: str) -> str:
    """Everything that looks like a secret, blanked (what it looks like, not what we saw)."""
    if not text:
        return text
    text = PRIVATE_KEY_BLOCK.sub(REDACTED_KEY, text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _URL_QUERY.sub(_query, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _KEY_VALUE.sub(_key_value, text)


def redact_url(url: str) -> str:
    """A URL for display: no user-info, no query values."""
    return scrub_text(url)


def remember_url(url: str) -> None:
    """The password and query values of a user-given URL are secrets of this run."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    if parts.password:
        remember(parts.password)
    for _, value in parse_qsl(parts.query):
        remember(value)


def remember_nested(value: Any, origin: str = "") -> None:
    """Every leaf of a Secret value that is itself JSON or YAML (a config file, a docker
    config): each may be copied elsewhere on its own."""
    for leaf in _leaves(_parsed(value)):
        remember(leaf, origin and f"a value nested in {origin}")


def _parsed(value: bytes) -> Any:
    text = value.decode("utf-8", "replace")
    if not text.lstrip().startswith(("{", "[")) and ":" not in text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml

        return yaml.safe_load(text)
    except Exception:  # noqa: BLE001 - not YAML either: the whole value is remembered already
        return None


def _leaves(value: Any) -> list[str]:
    found: list[str] = []
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > 64:
            continue
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            found.append(str(item))
    return found


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


def _secret_key(name: str, value: bytes, credential_keys: frozenset[str] = frozenset(),
                origin: str = "") -> SecretKey:
    certificates: list[CertInfo] = []
    pem_error = ""
    credential = None
    if PEM_CERT.encode() in value:
        try:
            certificates = certs_from_pem(value)
        except ValueError as e:
            pem_error = f"PEM does not parse: {str(e).splitlines()[0] if str(e) else 'invalid'}"
        if b"PRIVATE KEY" in value:  # a certificate and its key in one value: the key is secret
            remember(value, origin)
            for block in PRIVATE_KEY_BLOCK.finditer(value.decode("utf-8", "replace")):
                remember(block.group(0))
    elif CREDENTIALS_KEY.match(name) or name in credential_keys:
        credential = credential_info(value)
    else:
        remember(value, origin)
        remember_nested(value, origin)
    return SecretKey(
        size=len(value),
        sha256=fingerprint(value),
        certificates=certificates,
        credential=credential,
        pem_error=pem_error,
        private_key=private_key_info(value) if ANY_PRIVATE_KEY.search(value) else None,
    )


def private_key_info(value: bytes) -> PrivateKeyInfo:
    """Whether a PEM private key parses and which public key it holds (its SubjectPublicKeyInfo
    fingerprint, to match a certificate offline); the key itself never leaves this function."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    match = PRIVATE_KEY_BLOCK.search(value.decode("utf-8", "replace"))
    block = (match.group(0) if match else "").encode()
    if b"ENCRYPTED" in block:  # PKCS#8 "ENCRYPTED PRIVATE KEY" and PEM "Proc-Type: 4,ENCRYPTED"
        return PrivateKeyInfo(False, "encrypted (its passphrase is in the keystore)", "", "")
    try:
        key = serialization.load_pem_private_key(block, None)
    except (ValueError, TypeError) as e:
        return PrivateKeyInfo(False, f"does not parse: {str(e).splitlines()[0] if str(e) else 'invalid'}",
                              "", "")
    algorithm = "RSA" if isinstance(key, rsa.RSAPrivateKey) else \
        "EC" if isinstance(key, ec.EllipticCurvePrivateKey) else type(key).__name__
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return PrivateKeyInfo(True, "", algorithm, hashlib.sha256(spki).hexdigest())


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
    where = f"Secret {meta.get('namespace', '')}/{meta.get('name', '')}".replace(" /", " ")
    keys = {name: _secret_key(name, value, credential_keys, f"the value of {where} key {name}")
            for name, value in decode_data(secret).items()}
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
