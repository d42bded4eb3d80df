"""41x: strong identity verification (Elasticsearch 9.3+), part of the API-key area.

The local cluster signs each cross-cluster request of an alias with a signing certificate and
key; the remote verifies the chain against the CAs it trusts for signing and matches the
signer's DN against the key's `certificate_identity`. Every check here is not applicable to a
link that does not use it (no `certificate_identity` on the key, no local signing settings for
the alias: the remote's signing trust is global and may serve other links). Facts: identity.py.
"""

from __future__ import annotations

from kubectl_eckrc import eck, identity, pki
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.credentials import EXPIRY_WARNING_DAYS, key_id, remote_key
from kubectl_eckrc.checks.spec import (
    API_KEY_LINK,
    ERROR,
    LINK,
    CheckSpec,
    NotEvaluated,
    check,
    failed,
    not_applicable,
    not_evaluated,
    passed,
    warned,
)
from kubectl_eckrc.findings import Verdict
from kubectl_eckrc.identity import NodeSetSigning
from kubectl_eckrc.snapshot import Snapshot

UNUSED = "strong identity not used: no certificate_identity on the key, no local signing for the alias"
FIX = "setup-signing"


def _unused(snap: Snapshot, alias: str) -> Verdict | None:
    return None if identity.in_use(snap, alias) else not_applicable(UNUSED)


@check("ECKRC410", severity=ERROR, side=LINK, fix=None, applies_to=API_KEY_LINK,
       remediation="upgrade both clusters to Elasticsearch 9.3 or later, or remove the key's "
                   "certificate_identity and the signing settings")
def identity_versions(snap: Snapshot, alias: str) -> Verdict:
    """Both clusters run Elasticsearch 9.3 or later when strong identity is used

    Strong identity verification (a cross-cluster key with `certificate_identity`, signing
    settings `cluster.remote.<alias>.signing.*` on the local cluster, signing trust
    `cluster.remote.signing.certificate_authorities` on the remote) exists from 9.3 on, on both
    sides: an older local node sends no signature, an older remote verifies none.

    On a real cluster: the versions `GET /` answers on each side (else the resources'
    `status.version`); not applicable when the key asks for no identity and no local nodeSet
    signs for the alias.

    Fix by hand: upgrade the older cluster to 9.3 or later, or drop the identity settings.
    """
    unused = _unused(snap, alias)
    if unused is not None:
        return unused
    local = eck.es_version(snap.local)
    remote = eck.es_version(reads.remote_for(snap, alias))
    if not local or not remote:
        unknown = "the local" if not local else "the remote"
        raise NotEvaluated(f"the version of {unknown} cluster is unknown")
    old = [f"{role} {version}" for role, version in (("local", local), ("remote", remote))
           if not identity.version_ok(version)]
    if old:
        return failed(f"strong identity is configured but {', '.join(old)} is older than 9.3",
                      "both clusters must run Elasticsearch 9.3 or later for signed cross-cluster requests",
                      local=local, remote=remote)
    return passed(f"local {local} and remote {remote} support strong identity verification",
                  local=local, remote=remote)


@check("ECKRC411", severity=ERROR, side=LINK, requires=("ECKRC410",), fix=FIX, applies_to=API_KEY_LINK)
def local_signs(snap: Snapshot, alias: str) -> Verdict:
    """Every local nodeSet signs for the alias with a valid certificate and its key

    When the remote key has a `certificate_identity`, every local node must sign the alias's
    requests: `cluster.remote.<alias>.signing.certificate` and `.signing.key` name PEM files
    the nodeSet mounts; the key must be the certificate's and the certificate valid (a warning
    30 days before it expires). A node that does not sign is refused with `requires certificate
    identity matching [...], but no certificate was provided`.

    On a real cluster: the nodeSets' `config` of the local Elasticsearch and the Secrets or
    ConfigMaps their volumes mount (Elasticsearch hides every signing setting from `GET
    _cluster/settings`: settings made through that API are not seen); the private key is
    judged when read (does it parse, does it match) and never kept. Keystore-based signing
    (`signing.keystore.path`) is not examined.

    Fix by hand: mount the Secret with the signing certificate and key on every nodeSet and set
    both settings to its files (fix setup-signing does it from a mounted Secret).
    """
    unused = _unused(snap, alias)
    if unused is not None:
        return unused
    signings = identity.signing_of(snap, alias)
    pattern = identity.key_identity(snap, alias)
    unsigned = [s.nodeset for s in signings if not s.configured]
    if len(unsigned) == len(signings):  # in use with no nodeSet signing: the key asks for an identity
        return failed(f"the key asks for a certificate identity matching [{pattern}] but no local nodeSet "
                      f"signs for {alias} ({identity.signing_setting(alias, 'certificate')} and .key are "
                      "unset)",
                      "mount the Secret holding the signing certificate and key on every nodeSet and set "
                      f"{identity.signing_setting(alias, 'certificate')} and .key to its files",
                      pattern=pattern, unsigned=unsigned)
    if unsigned:
        return failed(f"nodeSets {', '.join(unsigned)} do not sign for {alias}; the others do",
                      "set the same signing certificate and key, and mount them, on every nodeSet",
                      unsigned=unsigned)
    unread = [f for s in signings for f in (s.certificate, s.key) if f is not None and f.unread]
    if unread:
        raise NotEvaluated(f"cannot read the signing files: {unread[0].path}: {unread[0].problem}")
    problems = [p for s in signings for p in _material_problems(s)]
    if problems:
        return failed(problems[0], "mount the Secret that holds the files on that nodeSet, or correct the "
                      "paths", problems=problems)
    return _validity(snap, alias, signings)


def _material_problems(signing: NodeSetSigning) -> list[str]:
    if signing.keystore and signing.certificate is None:
        return []  # a keystore: not examined
    found = []
    for what, file in (("certificate", signing.certificate), ("key", signing.key)):
        if file is not None and file.problem:
            found.append(f"nodeSet {signing.nodeset}: signing {what} {file.path}: {file.problem}")
    if found:
        return found
    cert, key = signing.certificate, signing.key
    assert cert is not None and key is not None
    if not cert.certificates:
        return [f"nodeSet {signing.nodeset}: {cert.path} holds no PEM certificate"]
    if key.value is not None and key.value.private_key is None:
        return [f"nodeSet {signing.nodeset}: {key.path} holds no PEM private key"]
    if key.value is not None and key.value.private_key is not None and not key.value.private_key.parses \
            and not key.value.private_key.problem.startswith("encrypted"):
        return [f"nodeSet {signing.nodeset}: {key.path}: {key.value.private_key.problem}"]
    if identity.key_matches(key.value, cert.certificates[0]) is False:
        return [f"nodeSet {signing.nodeset}: the private key {key.path} is not the key of certificate "
                f"{cert.path} ({cert.certificates[0].subject})"]
    return []


def _validity(snap: Snapshot, alias: str, signings: list[NodeSetSigning]) -> Verdict:
    chain = identity.signer_chain(signings)
    names = ", ".join(s.nodeset for s in signings)
    if not chain:
        return passed(f"nodeSets {names} sign for {alias} (keystore, not examined)")
    leaf, now = chain[0], pki.parse_time(snap.taken_at)
    evidence = {"subject": leaf.subject, "issuer": leaf.issuer, "notAfter": leaf.not_after,
                "nodeSets": [s.nodeset for s in signings]}
    days = pki.days_left(leaf, now)
    if days < 0 or pki.parse_time(leaf.not_before) > now:
        return failed(f"the signing certificate {leaf.subject} is not valid now (valid {leaf.not_before} to "
                      f"{leaf.not_after})", "issue a new signing certificate and replace it in the Secret",
                      **evidence)
    if days < EXPIRY_WARNING_DAYS:
        return warned(f"the signing certificate {leaf.subject} expires in {int(days)} days",
                      "renew it before it expires: the remote refuses an expired signer", **evidence)
    return passed(f"nodeSets {names} sign for {alias} as {leaf.subject} (valid until {leaf.not_after})",
                  **evidence)


@check("ECKRC412", severity=ERROR, side=LINK, requires=("ECKRC410", "ECKRC411"), fix=FIX,
       applies_to=API_KEY_LINK)
def remote_trusts_signer(snap: Snapshot, alias: str) -> Verdict:
    """The remote trusts the signer's certificate chain for signing

    The remote verifies every signed request against `cluster.remote.signing.certificate_authorities`
    (one setting for every signer; unset, it falls back to the JDK's default trust store, which
    trusts no private CA) and refuses an untrusted signer with `Failed to verify cross cluster
    api key signature certificate from [...]`, even for a key without `certificate_identity`.

    On a real cluster: the remote nodeSets' `config` and the files their volumes mount, against
    the signing certificate read on the local side (its issuer must be a trusted CA, or the
    certificate itself trusted); a truststore (`cluster.remote.signing.truststore.path`) is not
    examined.

    Fix by hand: put the signer's CA in a ConfigMap on the remote, mount it on every nodeSet
    and list its file in `cluster.remote.signing.certificate_authorities`.
    """
    unused = _unused(snap, alias)
    if unused is not None:
        return unused
    chain = identity.signer_chain(identity.signing_of(snap, alias))
    if not chain:
        return not_applicable(f"the local side does not sign for {alias} with a PEM certificate")
    reads.remote_for(snap, alias)
    trusts = identity.trust_of(snap)
    if not trusts:
        raise NotEvaluated("the remote Elasticsearch resource was not read")
    leaf = chain[0]
    evidence = {"signer": leaf.subject, "issuer": leaf.issuer}
    untrusting = [t.nodeset for t in trusts if not t.files and not t.truststore]
    if untrusting:
        return failed(f"remote nodeSets {', '.join(untrusting)} trust no signing CA "
                      f"({identity.TRUST_CAS} is unset): the signer {leaf.subject} (issuer {leaf.issuer}) "
                      "is refused",
                      f"add the signer's CA ({leaf.issuer}) to a ConfigMap on the remote, mount it and list "
                      f"it in {identity.TRUST_CAS} on every nodeSet", untrusting=untrusting, **evidence)
    unread = [f for t in trusts for f in t.files if f.unread]
    if unread:
        raise NotEvaluated(f"cannot read the signing CAs: {unread[0].path}: {unread[0].problem}")
    broken = [f"nodeSet {t.nodeset}: {f.path}: {f.problem}" for t in trusts for f in t.files if f.problem]
    if broken:
        return failed(broken[0], "mount the file the setting names, or correct the path", problems=broken,
                      **evidence)
    if any(t.truststore and not t.files for t in trusts):
        return not_evaluated("the remote trusts signers through a truststore, which doctor does not open")
    missing = [t.nodeset for t in trusts if not pki.chain_from(chain, t.cas)]
    if missing:
        subjects = sorted({c.subject for t in trusts for c in t.cas})
        return failed(f"the remote's signing CAs ({'; '.join(subjects) or 'none'}) did not issue the signer "
                      f"{leaf.subject} (issuer {leaf.issuer}) on nodeSets {', '.join(missing)}",
                      f"add the signer's CA ({leaf.issuer}) to {identity.TRUST_CAS}", untrusting=missing,
                      **evidence)
    return passed(f"the remote trusts the signer {leaf.subject} (issuer {leaf.issuer}) on every nodeSet",
                  **evidence)


@check("ECKRC413", severity=ERROR, side=LINK, requires=("ECKRC410", "ECKRC411"), fix=FIX,
       applies_to=API_KEY_LINK)
def signer_matches_identity(snap: Snapshot, alias: str) -> Verdict:
    """The signer's DN matches the key's certificate_identity

    The key's `certificate_identity` is a Java regular expression the whole subject DN of the
    signing certificate (RFC 2253, e.g. `CN=local-es-signing,OU=logging`) must match, case
    included; otherwise the remote answers `DN from provided certificate [<dn>] does not match
    API Key certificate identity pattern [<pattern>]`.

    On a real cluster: `GET _security/api_key?id=` on the remote (its `certificate_identity`)
    and the signing certificate read on the local side.

    Fix by hand: `PUT /_security/cross_cluster/api_key/<id>` with a `certificate_identity` that
    matches the signer (kubectl eckrc fix --set-certificate-identity), or sign with a
    certificate whose DN matches.
    """
    unused = _unused(snap, alias)
    if unused is not None:
        return unused
    kid = key_id(snap, alias)
    entry = remote_key(snap, alias, kid)
    if entry is None:
        raise NotEvaluated(f"the remote has no API key {kid}")
    pattern = entry.get("certificate_identity")
    chain = identity.signer_chain(identity.signing_of(snap, alias))
    if pattern is None:
        return passed(f"API key {kid} asks for no certificate identity", keyId=kid)
    if not chain:
        return not_evaluated(f"the local side does not sign for {alias} with a PEM certificate")
    subject = identity.dn(chain[0])
    evidence = {"keyId": kid, "dn": subject, "pattern": pattern}
    if not identity.identity_matches(str(pattern), subject):
        return failed(f"the signer's DN [{subject}] does not match the certificate_identity [{pattern}] of "
                      f"API key {kid}", f"set the key's certificate_identity to match [{subject}] "
                      "(kubectl eckrc fix --set-certificate-identity), or sign with a certificate whose DN "
                      "matches", **evidence)
    return passed(f"the signer's DN [{subject}] matches the certificate_identity [{pattern}] of API key "
                  f"{kid}", **evidence)


CHECKS: list[CheckSpec] = [identity_versions, local_signs, remote_trusts_signer, signer_matches_identity]
