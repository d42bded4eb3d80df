"""How a local Elasticsearch node's JDK judges the chain the remote cluster server presents.

Elasticsearch leaves the decision to the JDK's `X509TrustManagerImpl`: PKIX path validation
(`sun.security.validator.PKIXValidator`, `PKIXCertPathValidator`), the TLS-server end-entity
rules (`EndEntityChecker`), then HTTPS endpoint identification (`HostnameChecker`) of the SNI
name first and of the peer host (the `proxy_address` host) when that fails. The functions
below give the JDK's verdict and its own words, so that doctor fails exactly what a node
refuses and passes what it accepts. A differential test (tests/twin/test_tls_corpus.py)
compares them with a real JDK over a generated corpus.

What differs from a Web PKI validator: a trust anchor's dates are never checked; an anchor
must still be a CA (basicConstraints cA, keyCertSign when keyUsage is present); an anchor is
picked by subject name and key identifier; a certificate that is itself trusted is accepted
without any further check.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from kubectl_eckrc import pki
from kubectl_eckrc.snapshot import CertInfo

PKIX_BUILD = (
    "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: "
    "unable to find valid certification path to requested target"
)
_VALIDATION = "PKIX path validation failed: java.security.cert.CertPathValidatorException: "
_ANCHOR = "PKIX path validation failed: sun.security.validator.ValidatorException: TrustAnchor with subject "
NO_ANCHOR = _VALIDATION + "Path does not chain with any of the trust anchors"
SIGNATURE = _VALIDATION + "signature check failed"
VALIDITY = _VALIDATION + "validity check failed"
CA_KEY_USAGE = _VALIDATION + "CA key usage check failed: keyCertSign bit is not set"
NOT_A_CA = _VALIDATION + "basic constraints check failed: this is not a CA certificate"
EE_KEY_USAGE = "KeyUsage does not allow digital signatures"
EE_EKU = "Extended key usage does not permit use for TLS server authentication"
_LDH = re.compile(r"^[A-Za-z0-9-]+$")


# --- server_name (javax.net.ssl.SNIHostName) -----------------------------------------------------


def server_name_error(name: str) -> str:
    """Why `SNIHostName` refuses `server_name` ("" when it accepts it, IP literals included).

    Elasticsearch then fails every connection with `invalid DiscoveryNode server_name [...]`."""
    if not name:
        return "Server name value of host_name cannot be empty"
    if name.endswith("."):
        return "Server name value of host_name cannot have the trailing dot"
    if not all(_LDH.match(label) for label in name.split(".")):
        return "Contains non-LDH ASCII characters"
    return ""


# --- path validation -----------------------------------------------------------------------------


def path_error(chain: list[CertInfo], cas: list[CertInfo], at: datetime) -> str:
    """The JDK's PKIX verdict on a presented chain (leaf first): "" when trusted."""
    if not chain:
        return "null or zero-length certificate chain"
    certs = [pki.load(c) for c in chain]
    anchors = [pki.load(c) for c in cas]
    trusted = {c.sha256 for c in cas}
    for i, cert in enumerate(certs):
        if i == 0:
            if chain[0].sha256 in trusted:
                return ""  # the server's own certificate is trusted: no further check
            continue
        if cert.subject != certs[i - 1].issuer:
            return _build(certs, anchors, at)
        if chain[i].sha256 in trusted or any(
            a.subject == cert.subject and _same_key(a, cert) for a in anchors
        ):
            return _validate(certs[:i], anchors, at)
    if any(a.subject == certs[-1].issuer for a in anchors):
        return _validate(certs, anchors, at)
    return _build(certs, anchors, at)


def _validate(path: list[x509.Certificate], anchors: list[x509.Certificate], at: datetime) -> str:
    """PKIXCertPathValidator: anchors picked by the top certificate's issuer name and key id."""
    top = path[-1]
    candidates = [a for a in anchors if a.subject == top.issuer and _key_id_matches(top, a)]
    if not candidates:
        return NO_ANCHOR
    error = ""
    for anchor in candidates:
        error = _check_path(path, anchor, at)
        if not error:
            return _anchor_error(anchor)
    return error


def _build(certs: list[x509.Certificate], anchors: list[x509.Certificate], at: datetime) -> str:
    """SunCertPathBuilder: any path from the leaf through presented CAs to an anchor will do."""
    leaf, pool = certs[0], certs[1:]

    def paths(path: list[x509.Certificate]) -> list[list[x509.Certificate]]:
        found = []
        top = path[-1]
        for anchor in anchors:
            if anchor.subject == top.issuer and _key_id_matches(top, anchor) and _signed_by(top, anchor):
                found.append([*path, anchor])
        for ca in pool:
            if ca not in path and ca.subject == top.issuer and _signed_by(top, ca) and len(path) < 8:
                found += paths([*path, ca])
        return found

    for candidate in paths([leaf]):
        if not _check_path(candidate[:-1], candidate[-1], at):
            return _anchor_error(candidate[-1])
    return PKIX_BUILD


def _check_path(path: list[x509.Certificate], anchor: x509.Certificate, at: datetime) -> str:
    """The checkers in their order, from the certificate next to the anchor down to the leaf."""
    issuer = anchor
    for position, cert in enumerate(reversed(path)):
        is_leaf = position == len(path) - 1
        if not is_leaf:
            usage = _key_usage(cert)
            if usage is not None and not usage.key_cert_sign:
                return CA_KEY_USAGE
            if not _is_ca(cert):
                return NOT_A_CA
        if not _signed_by(cert, issuer):
            return SIGNATURE
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            return VALIDITY
        issuer = cert
    return ""


def _anchor_error(anchor: x509.Certificate) -> str:
    """PKIXValidator.verifyTrustAnchor, run once a path was found."""
    if anchor.version != x509.Version.v3:
        return ""
    subject = _java_dn(anchor)
    if not _is_ca(anchor):
        return f'{_ANCHOR}"{subject}" is not a CA certificate'
    usage = _key_usage(anchor)
    if usage is not None and not usage.key_cert_sign:
        return f'{_ANCHOR}"{subject}" does not have keyCertSign bit set in KeyUsage extension'
    return ""


def end_entity_error(leaf: CertInfo) -> str:
    """EndEntityChecker for a TLS server (signature-based key exchange, as TLS 1.3 always is)."""
    cert = pki.load(leaf)
    usage = _key_usage(cert)
    if usage is not None and not usage.digital_signature:
        return EE_KEY_USAGE
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return ""
    allowed = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
    return "" if allowed & set(eku) else EE_EKU


def _java_dn(cert: x509.Certificate) -> str:
    """X500Principal.toString(): RDNs most specific first, ", " between them."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(cert.subject.rdns))


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _key_id_matches(cert: x509.Certificate, anchor: x509.Certificate) -> bool:
    """The authority key identifier of `cert`, when both sides carry one, names the anchor's key."""
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        ski = anchor.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return True
    return aki is None or aki == ski


def _same_key(a: x509.Certificate, b: x509.Certificate) -> bool:
    return a.public_key() == b.public_key()


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# --- endpoint identification ---------------------------------------------------------------------


def identity_error(leaf: CertInfo, server_name: str, peer_host: str) -> str:
    """X509TrustManagerImpl.checkIdentity with HTTPS rules: "" when the node accepts the name.

    The SNI name (`server_name`) is checked first; when it does not match and differs from
    the peer host, the peer host (the `proxy_address` host) is checked instead, and its error
    is the one reported."""
    if server_name:
        sni_error = name_error(leaf, server_name)
        if not sni_error:
            return ""
        if server_name.lower() == peer_host.lower():
            return sni_error
    return name_error(leaf, peer_host)


def name_error(leaf: CertInfo, name: str) -> str:
    """HostnameChecker.match (TYPE_TLS) for one name."""
    name = name.strip("[]")
    if pki.is_ip(name):
        wanted = ipaddress.ip_address(name)
        if any(ipaddress.ip_address(ip) == wanted for ip in leaf.ip_addresses):
            return ""
        if not leaf.dns_names and not leaf.ip_addresses and not _has_other_sans(leaf):
            return "No subject alternative names present"
        return f"No subject alternative names matching IP address {name} found"
    if server_name_error(name):
        return f"Illegal given domain name: {name}"
    if leaf.dns_names:
        if any(_matches(name, template) for template in leaf.dns_names):
            return ""
        return f"No subject alternative DNS name matching {name} found."
    cn = _common_name(leaf)
    if cn and _matches(name, cn):
        return ""
    return f"No name matching {name} found"


def _has_other_sans(leaf: CertInfo) -> bool:
    try:
        pki.load(leaf).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    return True


def _common_name(leaf: CertInfo) -> str:
    names = pki.load(leaf).subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[-1].value) if names else ""


def _matches(name: str, template: str) -> bool:
    name, template = name.lower(), template.lower()
    if _illegal_wildcard(template) or server_name_error(template.replace("*", "z")):
        return False
    name_label, _, name_rest = name.partition(".")
    template_label, _, template_rest = template.partition(".")
    return _label_matches(name_label, template_label) and name_rest == template_rest


def _illegal_wildcard(template: str) -> bool:
    if template in ("*", "*."):
        return True
    last = template.rfind("*")
    return last != -1 and "." not in template[last:]


def _label_matches(name: str, template: str) -> bool:
    """One label against a template label with `*` wildcards (HostnameChecker.matchWildCards)."""
    parts = template.split("*")
    if len(parts) == 1:
        return name == template
    if not name.startswith(parts[0]):
        return False
    rest = name[len(parts[0]):]
    for middle in parts[1:-1]:
        found = rest.find(middle)
        if found == -1:
            return False
        rest = rest[found + len(middle):]
    return rest.endswith(parts[-1])
