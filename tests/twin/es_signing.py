"""Strong identity verification (Elasticsearch 9.3+): the local node signs the cross-cluster
headers it sends with the alias's signing certificate and key; the remote checks the chain
against the CAs it trusts for signing, the signature, and (es_api_keys.py) the signer's DN
against the key's `certificate_identity`. Sources and texts: FIDELITY.md, "Strong identity".

Settings (CrossClusterApiKeySigningSettings): per alias `cluster.remote.<alias>.signing.*`
(certificate, key, keystore.*, dynamic; secure_key_passphrase, keystore.secure_* in the
keystore); on the verifying side one global `cluster.remote.signing.certificate_authorities`
(and truststore.*). All are `Filtered`: GET _cluster/settings never shows them.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tests.twin.es_api_keys import CrossClusterAuthFailure
from tests.twin.es_node import NodeView, absolute_config_path, version_tuple
from tests.twin.pki import cert_pem, fingerprint_sha1, load_certs

SIGNING_SINCE = (9, 3, 0)
ALIAS_DYNAMIC = (
    "certificate", "key", "keystore.path", "keystore.alias", "keystore.type", "keystore.algorithm"
)
ALIAS_SECURE = ("secure_key_passphrase", "keystore.secure_password", "keystore.secure_key_password")
TRUST_PREFIX = "cluster.remote.signing."
TRUST_DYNAMIC = ("certificate_authorities", "truststore.path", "truststore.type", "truststore.algorithm",
                 "diagnose.trust")
TRUST_SECURE = ("truststore.secure_password",)
TRUST_CAS = TRUST_PREFIX + "certificate_authorities"
ALGORITHMS = {"RSA": "SHA256withRSA", "EC": "SHA256withECDSA"}
SECURITY_EXCEPTION = "org.elasticsearch.ElasticsearchSecurityException"
_ALIAS_KEY = re.compile(r"cluster\.remote\.([^.]+)\.signing\.(.+)")


def supports_signing(version: str) -> bool:
    return version_tuple(version) >= SIGNING_SINCE


def is_signing_setting(key: str) -> bool:
    """Every signing or signing-trust setting (all of them carry Property.Filtered)."""
    match = _ALIAS_KEY.fullmatch(key)
    if key.startswith(TRUST_PREFIX):
        return key[len(TRUST_PREFIX):] in (*TRUST_DYNAMIC, *TRUST_SECURE)
    return bool(match) and match.group(2) in (*ALIAS_DYNAMIC, *ALIAS_SECURE)  # type: ignore[union-attr]


def is_secure_setting(key: str) -> bool:
    match = _ALIAS_KEY.fullmatch(key)
    if key.startswith(TRUST_PREFIX):
        return key[len(TRUST_PREFIX):] in TRUST_SECURE
    return bool(match) and match.group(2) in ALIAS_SECURE  # type: ignore[union-attr]


def unfiltered(flat: Mapping[str, Any]) -> dict[str, Any]:
    """What GET _cluster/settings shows: SettingsFilter drops the Filtered signing settings."""
    return {k: v for k, v in flat.items() if not is_signing_setting(k)}


def alias_signing(flat: Mapping[str, Any], alias: str) -> tuple[tuple[str, str], ...]:
    """The alias's signing settings (suffix, value), as part of its link configuration."""
    prefix = f"cluster.remote.{alias}.signing."
    return tuple(sorted((k[len(prefix):], str(v)) for k, v in flat.items() if k.startswith(prefix)))


@dataclass(frozen=True)
class Signer:
    """The alias's key pair as CrossClusterApiKeySignatureManager loads it."""

    chain: tuple[x509.Certificate, ...]
    key: Any
    algorithm: str

    def sign(self, payload: bytes) -> dict[str, Any]:
        if isinstance(self.key, rsa.RSAPrivateKey):
            raw = self.key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            raw = self.key.sign(payload, ec.ECDSA(hashes.SHA256()))
        return {"chain": [cert_pem(c).decode() for c in self.chain], "algorithm": self.algorithm,
                "signature": base64.b64encode(raw).decode()}


def signer_for(view: NodeView, signing: Mapping[str, str], alias: str) -> Signer | None:
    """The signer of `alias` from PEM files (keystores are not simulated), None when the alias
    signs nothing or its material does not load (Elasticsearch refuses such a configuration:
    `Failed to load signing config for cluster [<alias>]`)."""
    cert_path, key_path = signing.get("certificate"), signing.get("key")
    if not cert_path or not key_path:
        return None
    chain = load_certs(view.file(absolute_config_path(cert_path)) or b"")
    key_pem = view.file(absolute_config_path(key_path)) or b""
    passphrase = view.keystore.get(f"cluster.remote.{alias}.signing.secure_key_passphrase")
    try:
        key = serialization.load_pem_private_key(key_pem, passphrase.encode() if passphrase else None)
    except (ValueError, TypeError):
        return None
    kind = "RSA" if isinstance(key, rsa.RSAPrivateKey) else ""
    kind = "EC" if isinstance(key, ec.EllipticCurvePrivateKey) else kind
    if not chain or not kind:
        return None
    return Signer(tuple(chain), key, ALGORITHMS[kind])


def payload(credential: str, action: str) -> bytes:
    """The signed bytes: the headers joined by newlines (getSignableBytes)."""
    return "\n".join((credential, action)).encode()


def trust_of(view: NodeView, flat: Mapping[str, Any]) -> list[x509.Certificate]:
    """The CAs of `cluster.remote.signing.certificate_authorities`; none configured means the
    JDK's default trust store, which trusts no private signing CA."""
    value = flat.get(TRUST_CAS)
    paths = value if isinstance(value, list) else [p.strip() for p in str(value or "").strip("[]").split(",")]
    return [c for p in paths if p for c in load_certs(view.file(absolute_config_path(p)) or b"")]


def java_principal(cert: x509.Certificate) -> str:
    """X500Principal.toString(): RFC 2253 order with ", " between the attributes."""
    return cert.subject.rfc4514_string().replace(",", ", ")


def dn_of(cert: x509.Certificate) -> str:
    """getSubjectX500Principal().getName(RFC2253), what the key's pattern is matched against."""
    return cert.subject.rfc4514_string()


def describe(cert: x509.Certificate) -> str:
    """X509CertificateSignature.certificateToString."""
    return f"({java_principal(cert)};X.509;SHA1:{fingerprint_sha1(cert)})"


def verify(signature: Mapping[str, Any] | None, signed: bytes, trusted: list[x509.Certificate],
           now: dt.datetime) -> str | None:
    """The signer's DN after the checks of CrossClusterAccessAuthenticationService.verifySignature
    (None: the request carries no signature); raises the 401 Elasticsearch answers."""
    if signature is None:
        return None
    chain = load_certs("".join(signature.get("chain") or []).encode())
    if not chain:
        raise CrossClusterAuthFailure(SECURITY_EXCEPTION,
                                      "Provided signature does not contain any certificates")
    leaf = chain[0]
    if not _trusted(chain, trusted, now):
        raise CrossClusterAuthFailure(
            SECURITY_EXCEPTION,
            f"Failed to verify cross cluster api key signature certificate from [{describe(leaf)}]")
    if not _valid_signature(leaf, str(signature.get("signature", "")), signed):
        raise CrossClusterAuthFailure(
            SECURITY_EXCEPTION, f"Invalid cross cluster api key signature from [{describe(leaf)}]")
    return dn_of(leaf)


def _trusted(chain: list[x509.Certificate], anchors: list[x509.Certificate], now: dt.datetime) -> bool:
    """checkClientTrusted + checkValidity, reduced to what the twin needs: every certificate of
    the chain within its validity, each issued by the next, the last issued by (or being) an anchor."""
    if any(not (c.not_valid_before_utc <= now <= c.not_valid_after_utc) for c in chain):
        return False
    for child, parent in zip(chain, chain[1:], strict=False):
        if not _issued_by(child, parent):
            return False
    top = chain[-1]
    return any(top == anchor or _issued_by(top, anchor) for anchor in anchors)


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _valid_signature(leaf: x509.Certificate, encoded: str, signed: bytes) -> bool:
    public = leaf.public_key()
    try:
        raw = base64.b64decode(encoded, validate=True)
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(raw, signed, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(raw, signed, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except (ValueError, InvalidSignature):
        return False
    return True

