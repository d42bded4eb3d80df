"""Strong identity verification (Elasticsearch 9.3+): what each side configures, read from the
Elasticsearch resources (ECKRC410-413 and fix's setup-signing read the same functions).

The local cluster signs an alias's cross-cluster requests with
`cluster.remote.<alias>.signing.certificate` / `.signing.key` (PEM files; keystores are
`signing.keystore.*`); the remote trusts signers through the global
`cluster.remote.signing.certificate_authorities`; a cross-cluster key may carry a
`certificate_identity`, a Java regex the signer's subject DN (RFC 2253) must match whole.
Elasticsearch filters every signing setting out of `GET _cluster/settings`, so the only place a
reader sees them is elasticsearch.yml, i.e. the nodeSets' `config`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubectl_eckrc import eck, key_access, pki
from kubectl_eckrc.snapshot import CertInfo, SecretKey, SecretSummary, Snapshot, Unavailable

SIGNING_SINCE = (9, 3, 0)
TRUST_CAS = "cluster.remote.signing.certificate_authorities"
TRUST_STORE = "cluster.remote.signing.truststore.path"


def signing_setting(alias: str, suffix: str) -> str:
    return f"cluster.remote.{alias}.signing.{suffix}"


@dataclass(frozen=True)
class ConfiguredFile:
    """A file a setting names, and what the snapshot knows of it."""

    path: str  # as configured (relative to the config directory or absolute)
    mounted: eck.MountedFile | None  # the volume that provides it; None: no mount does
    value: SecretKey | None  # the Secret key's summary (certificates, private key) when read
    pem: str  # a ConfigMap key's text when the file comes from a ConfigMap
    problem: str  # "" when the file is there; else why it is not
    unread: bool = False  # the problem is that its Secret/ConfigMap could not be read (not judged)

    @property
    def certificates(self) -> list[CertInfo]:
        if self.value is not None:
            return list(self.value.certificates)
        return pki.parse_pem(self.pem) if self.pem else []


@dataclass(frozen=True)
class NodeSetSigning:
    """One local nodeSet's signing configuration for one alias."""

    nodeset: str
    certificate: ConfiguredFile | None  # None: `signing.certificate` not set
    key: ConfiguredFile | None
    keystore: str  # `signing.keystore.path`, "" when unset

    @property
    def configured(self) -> bool:
        return (self.certificate is not None and self.key is not None) or bool(self.keystore)


@dataclass(frozen=True)
class NodeSetTrust:
    """One remote nodeSet's signing trust: the CA files of `certificate_authorities`."""

    nodeset: str
    files: list[ConfiguredFile]
    truststore: str

    @property
    def cas(self) -> list[CertInfo]:
        return [c for f in self.files for c in f.certificates]


def version_ok(version: str) -> bool:
    parsed = eck.parse_version(version)
    return parsed is not None and parsed >= SIGNING_SINCE


def configured_file(side: Any, nodeset: dict[str, Any], path: str) -> ConfiguredFile:
    """What a nodeSet's file setting leads to, from the side's ConfigMaps and Secrets."""
    mounted = eck.mounted_file(nodeset, path)
    if mounted is None:
        return ConfiguredFile(path, None, None, "", "no volume of the nodeSet provides it")
    if mounted.kind not in ("secret", "configMap"):
        return ConfiguredFile(path, mounted, None, "", "")
    kube = None if isinstance(side, Unavailable) or isinstance(side.kube, Unavailable) else side.kube
    table = None if kube is None else kube.secrets if mounted.kind == "secret" else kube.configmaps
    what = f"{'Secret' if mounted.kind == 'secret' else 'ConfigMap'} {mounted.source}"
    if not isinstance(table, dict) or mounted.source not in table:
        return ConfiguredFile(path, mounted, None, "", f"{what} was not read", unread=True)
    read = table[mounted.source]
    if isinstance(read, Unavailable):
        if read.kind == "not-found":
            return ConfiguredFile(path, mounted, None, "", f"{what} does not exist")
        return ConfiguredFile(path, mounted, None, "", f"{what} was not read: {read.reason}", unread=True)
    if isinstance(read, SecretSummary):
        value = read.keys.get(mounted.key)
        return ConfiguredFile(path, mounted, value, "", "" if value else f"{what} has no key {mounted.key}")
    text = (read.get("data") or {}).get(mounted.key)
    missing = "" if text else f"{what} has no key {mounted.key}"
    return ConfiguredFile(path, mounted, None, str(text or ""), missing)


def signing_of(snap: Snapshot, alias: str) -> list[NodeSetSigning]:
    """Each local nodeSet's signing configuration for `alias` (elasticsearch.yml)."""
    es = eck.resource_of(snap, "local")
    found = []
    for nodeset in eck.nodesets(es) if es else []:
        config = eck.nodeset_config(nodeset)
        cert = config.get(signing_setting(alias, "certificate"))
        key = config.get(signing_setting(alias, "key"))
        found.append(NodeSetSigning(
            str(nodeset.get("name", "")),
            configured_file(snap.local, nodeset, str(cert)) if cert else None,
            configured_file(snap.local, nodeset, str(key)) if key else None,
            str(config.get(signing_setting(alias, "keystore.path")) or ""),
        ))
    return found


def trust_of(snap: Snapshot) -> list[NodeSetTrust]:
    """Each remote nodeSet's signing trust (elasticsearch.yml); [] without the remote resource."""
    remote = eck.side_of(snap, "remote")
    es = eck.resource_of(snap, "remote")
    found = []
    for nodeset in eck.nodesets(es) if es else []:
        config = eck.nodeset_config(nodeset)
        paths = eck.listed(config.get(TRUST_CAS))
        found.append(NodeSetTrust(str(nodeset.get("name", "")),
                                  [configured_file(remote, nodeset, p) for p in paths],
                                  str(config.get(TRUST_STORE) or "")))
    return found


def key_identity(snap: Snapshot, alias: str) -> str | None:
    entry = key_access.key_entry(snap, alias)
    value = None if entry is None else entry.get("certificate_identity")
    return None if value is None else str(value)


def in_use(snap: Snapshot, alias: str) -> bool:
    """Strong identity concerns this link: the key asks for an identity, or a local nodeSet
    signs for the alias. The remote's signing trust alone does not: it is one global setting,
    possibly there for other clusters' links."""
    return key_identity(snap, alias) is not None or any(s.configured for s in signing_of(snap, alias))


def signer_chain(signings: list[NodeSetSigning]) -> list[CertInfo]:
    """The certificate chain the alias signs with (the first nodeSet whose file was read)."""
    for signing in signings:
        if signing.certificate is not None and signing.certificate.certificates:
            return signing.certificate.certificates
    return []


def dn(cert: CertInfo) -> str:
    """The subject as Elasticsearch matches it (RFC 2253; the snapshot keeps RFC 4514, the same
    text for the attributes certificates use)."""
    return cert.subject


def identity_matches(pattern: str, subject: str) -> bool:
    """Java's `Pattern.matcher(dn).matches()`: the whole DN. Python's regex dialect agrees with
    Java's for the patterns keys use (anchors, classes, (?i)); a pattern Python cannot compile
    does not match."""
    try:
        return re.fullmatch(pattern, subject) is not None
    except re.error:
        return False


def exact_pattern(subject: str) -> str:
    """A pattern matching exactly this DN (regex metacharacters escaped)."""
    return "^" + re.sub(r"([\\.\[\]{}()*+?^$|])", r"\\\1", subject) + "$"


def key_matches(value: SecretKey | None, cert: CertInfo) -> bool | None:
    """Whether the private key is the certificate's (None: the key could not be judged)."""
    if value is None or value.private_key is None or not value.private_key.parses:
        return None
    return value.private_key.public_sha256 == pki.public_key_sha256(cert)


def signing_secret_candidates(snap: Snapshot) -> list[tuple[str, str, str]]:
    """(secret, certificate key, private key key) pairs in local Secrets the resource references
    whose private key matches a certificate: the material fix may point the settings at."""
    found = []
    es_name = eck.es_name(snap, "local")
    for name, summary in sorted(eck.secrets(snap, "local").items()):
        if eck.is_eck_owned_name(name, [es_name]):
            continue
        keys = [(k, v) for k, v in sorted(summary.keys.items()) if v.private_key and v.private_key.parses]
        certs = [(k, v) for k, v in sorted(summary.keys.items())
                 if v.certificates and not v.certificates[0].is_ca]
        for key_name, key_value in keys:
            for cert_name, cert_value in certs:
                if key_matches(key_value, cert_value.certificates[0]):
                    found.append((name, cert_name, key_name))
    return found
