"""3xx: the local cluster trusts the certificate the remote cluster server presents."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from datetime import datetime
from typing import Any

from kubectl_eckrc import eck, jdk_trust, links, pki
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.ca_files import SourceProblem, configured_cas
from kubectl_eckrc.checks.spec import (
    API_KEY_LINK,
    API_KEY_SIDE,
    ERROR,
    LINK,
    LOCAL,
    CheckSpec,
    NotEvaluated,
    check,
    failed,
    not_applicable,
    not_evaluated,
    passed,
    warned,
)
from kubectl_eckrc.findings import Status, Verdict
from kubectl_eckrc.snapshot import CertInfo, Snapshot, TlsProbe

EVIDENCE_KEYS = {"remote CA": "remoteCa", "trusted CA": "trustedCa", "presented certificate": "presented"}
EXPIRY_WARNING_DAYS = 30


@check("ECKRC301", severity=ERROR, side=LOCAL, requires=("ECKRC101",), fix="mount-ca", covers=("F3",),
       applies_to=API_KEY_SIDE)
def client_trust_configured(snap: Snapshot) -> Verdict:
    """Every local nodeSet trusts a mounted remote CA

    Each nodeSet's `config` must keep `xpack.security.remote_cluster_client.ssl.enabled` true
    (the default) and set `xpack.security.remote_cluster_client.ssl.certificate_authorities`
    to a file that a volume mount of the `elasticsearch` container provides (relative paths
    are under `/usr/share/elasticsearch/config`). A nodeSet without it cannot trust the remote:
    `failed to establish trust with server ... is not configured to trust that issuer`.

    On a real cluster: the nodeSets' `config` and pod templates in the spec, not the running
    pods: a pod that has not rolled yet still runs its old configuration.

    Fix by hand: in every nodeSet add `xpack.security.remote_cluster_client.ssl.enabled: true`
    and `xpack.security.remote_cluster_client.ssl.certificate_authorities:
    ["remote-certs/remote-cluster-ca.crt"]`, a ConfigMap volume and its mount at
    `/usr/share/elasticsearch/config/remote-certs` in the `elasticsearch` container.
    """
    es = reads.resource(snap.local)
    sources, missing = eck.client_ca_files(es)
    unmounted = [s for s in sources if s.mounted is None]
    all_sets = [str(n.get("name", "")) for n in eck.nodesets(es)]
    if missing:
        return failed(f"nodeSets {', '.join(missing)} do not set remote_cluster_client SSL with a CA",
                      f"add {eck.CLIENT_SSL_CAS} (and keep ssl.enabled true) to the config of every "
                      f"nodeSet of {snap.local.namespace}/{snap.local.es_name}",
                      missing=missing, nodeSets=all_sets)
    if unmounted:
        bad = unmounted[0]
        return failed(f"nodeSet {bad.nodeset} trusts {bad.path}, but no volume mount provides "
                      f"{eck.config_path(bad.path)}",
                      f"mount the CA ConfigMap into the elasticsearch container of nodeSet {bad.nodeset} "
                      "so that the path exists", nodeSet=bad.nodeset, path=eck.config_path(bad.path))
    described = sorted({f"{s.path} from {s.mounted.kind} {s.mounted.source}" for s in sources if s.mounted})
    return passed(f"nodeSets {', '.join(all_sets)} trust " + "; ".join(described),
                  nodeSets=all_sets, files=described)


@check("ECKRC302", severity=ERROR, side=LOCAL, requires=("ECKRC301",), fix="sync-ca", covers=("F3",),
       applies_to=API_KEY_SIDE)
def ca_file_present(snap: Snapshot) -> Verdict:
    """The mounted CA file exists and holds PEM certificates

    The ConfigMap or Secret behind the CA path must exist in the local namespace, hold the key
    the path names, and that value must parse as PEM certificates. Kubernetes starts the pods
    even when an optional source is missing; Elasticsearch then fails to load the SSL context.

    On a real cluster: the ConfigMap or Secret through the local context (never a pod's
    filesystem); a volume of another kind (CSI, hostPath, emptyDir filled by an init
    container) cannot be read, and the check is not evaluated.

    Fix by hand: copy `ca.crt` of the remote's `<es>-es-transport-certs-public` into the
    ConfigMap and key the path names: `kubectl create configmap remote-ca
    --from-file=remote-cluster-ca.crt=ca.crt -n <ns>`.
    """
    try:
        cas = configured_cas(snap)
    except SourceProblem as problem:
        return failed(str(problem), "create or refresh it with the remote's transport CA "
                      "(ca.crt of <remote-es>-es-transport-certs-public)", problem=str(problem))
    if not cas:
        return failed("no CA file is configured", "see ECKRC301")
    return passed(f"{len(cas)} CA certificate(s): " + ", ".join(c.subject for c in cas),
                  certificates=[_cert(c) for c in cas])


def _cert(cert: CertInfo) -> dict[str, str]:
    return {"subject": cert.subject, "sha256": cert.sha256, "notAfter": cert.not_after}


@check("ECKRC303", severity=ERROR, side=LINK, requires=("ECKRC302", "ECKRC501"), fix="sync-ca",
       covers=("F4",), applies_to=API_KEY_LINK)
def stale_ca(snap: Snapshot, alias: str) -> Verdict:
    """The trusted CA is the remote's current transport CA

    The CA copy the local cluster trusts must be one of the certificates in `ca.crt` of the
    remote's `<es>-es-transport-certs-public` (fingerprint match). ECK renews its CA yearly
    (same subject and key); a hand-made copy goes stale. A copy with the same subject and a
    different key belongs to a re-created cluster or to another cluster with the same name;
    a different subject is another cluster's CA.

    On a real cluster: doctor reads the ConfigMap or Secret behind the mount, not the file
    inside the pods (a kubelet refresh can lag by a minute, and Elasticsearch reads a changed
    file at its next `resource.reload.interval.high` check, 5 s), and the remote's CA through the
    remote context; without remote access this check is not evaluated. A file mounted with
    `subPath` is never refreshed: the pods keep the copy they started with. When the object
    holds the current CA but such a link is down, doctor warns that the pods may still see an
    older copy.

    Fix by hand: copy the current `ca.crt` of the remote's `<es>-es-transport-certs-public`
    into the local ConfigMap (the mounted file is refreshed without a restart, except through
    a `subPath` mount: then restart those pods, e.g. with an annotation on the nodeSet's
    podTemplate).
    """
    trusted = configured_cas(snap)
    remote = reads.remote_for(snap, alias)
    current = reads.transport_cas(remote)
    current_sums = {c.sha256 for c in current}
    matching = [c for c in trusted if c.sha256 in current_sums]
    evidence: dict[str, Any] = {"trusted": [_cert(c) for c in trusted],
                                "current": [_cert(c) for c in current]}
    pinned = eck.sub_path_nodesets(reads.resource(snap.local))
    if matching:
        if pinned and not reads.connected_by(snap, alias):
            names = ", ".join(pinned)
            return warned(f"the mounted object holds the remote's current CA, but nodeSets {names} mount it "
                          "with subPath: their pods may still see the copy they started with",
                          "kubelet never refreshes a subPath mount and the link is down: restart those pods "
                          "(an annotation on the nodeSet's podTemplate rolls them)",
                          pinned=pinned, **evidence)
        return passed(f"the trusted CA {matching[0].subject} (sha256 {pki.short(matching[0].sha256)}) is "
                      "the remote's current CA", **evidence)
    proxy = _trusted_proxy(snap, alias, trusted, current)
    if proxy:
        return warned(f"the trusted CA is not the remote's CA but the one of what answers at {proxy}",
                      "something in front of the remote cluster server terminates TLS and the local cluster "
                      "trusts its CA: see ECKRC306", **evidence)
    verdict = _path_verdict(snap, alias, trusted)
    if verdict:
        evidence["handshake"] = verdict
    explained = _explain_mismatch(snap, trusted, current, evidence)
    if pinned and explained.status is Status.FAIL:
        pinned_note = (f"; nodeSets {', '.join(pinned)} mount it with subPath, which kubelet never "
                       "refreshes: restart their pods after the update (fix sync-ca does)")
        explained = dataclasses.replace(explained, hint=explained.hint + pinned_note)
    if verdict and verdict not in NOT_THE_ANCHOR and explained.status is Status.WARN:
        # The presented chain finds no anchor in the copy: what the JDK says decides.
        return failed(f"{explained.message}, and the chain presented at proxy_address does not validate "
                      f"against it ({verdict})", explained.hint, **evidence)
    if verdict == "" and explained.status is Status.FAIL:
        # The JDK accepts what is presented (it never checks a trust anchor's dates, and a renewed
        # CA keeps its key): the nodes connect, so this is only a warning.
        return warned(f"{explained.message}, but the chain presented at proxy_address validates against "
                      "it (the local nodes connect)", explained.hint, **evidence)
    return explained


# Path errors that are not about the trust anchor (ECKRC304/307 judge them).
NOT_THE_ANCHOR = (jdk_trust.VALIDITY, jdk_trust.EE_KEY_USAGE, jdk_trust.EE_EKU)


def _path_verdict(snap: Snapshot, alias: str, trusted: list[CertInfo]) -> str | None:
    """What a local node's JDK says about the chain presented at proxy_address ("" = trusted),
    None when no chain was seen."""
    probe = snap.probes.get(alias)
    if not isinstance(probe, TlsProbe) or not probe.chain:
        return None
    return (jdk_trust.path_error(probe.chain, trusted, pki.parse_time(snap.taken_at))
            or jdk_trust.end_entity_error(probe.chain[0]))


def _trusted_proxy(snap: Snapshot, alias: str, trusted: list[CertInfo], current: list[CertInfo]) -> str:
    """The probed address when the trusted CA signs what answers there and the remote's CA does
    not: the copy is deliberate, for a TLS-terminating proxy (ECKRC306 names that cause)."""
    probe = snap.probes.get(alias)
    if not isinstance(probe, TlsProbe) or not probe.chain or pki.chain_from(probe.chain, current):
        return ""
    return probe.address if pki.chain_from(probe.chain, trusted) else ""


def _explain_mismatch(snap: Snapshot, trusted: list[CertInfo], current: list[CertInfo],
                      evidence: dict[str, Any]) -> Verdict:
    now = pki.parse_time(snap.taken_at)
    source = _source_name(snap)
    message = "the CA the local cluster trusts is not the remote's current CA"
    for old in trusted:
        for new in (c for c in current if c.subject == old.subject):
            if not pki.same_key(old, new):
                return failed(message, f"{source} holds a CA named {old.subject} with another key: the "
                              "remote cluster was re-created, or the copy comes from another cluster with "
                              "the same name; copy the current one", **evidence)
            return _older_issue(old, new, source, now, evidence)
    dropped = _eck_list_dropped(snap)
    if dropped:
        return failed(message, dropped, **evidence)
    subjects = ", ".join(sorted({c.subject for c in trusted})) or "nothing"
    return failed(message, f"{source} holds {subjects}, a CA of another cluster; the remote's is "
                  f"{current[0].subject if current else 'unknown'}", **evidence)


def _eck_list_dropped(snap: Snapshot) -> str:
    """With an ECK-managed API-key link, a nodeSet that gives the CA list as one string drops the
    entries ECK writes (go-ucfg merges a list by appending it, a string by replacing)."""
    es = reads.resource(snap.local)
    if links.scope_eck_remote(snap) is None or not eck.has_remote_cluster_api_key(es):
        return ""
    names = [str(n.get("name", "")) for n in eck.nodesets(es)
             if eck.replaces_eck_client_cas(es, eck.nodeset_config(n))]
    if not names:
        return ""
    return (f"nodeSets {', '.join(names)} give {eck.CLIENT_SSL_CAS} as one string: it replaces the list ECK "
            "writes (transport-certs/ca.crt, transport-remote-certs/ca.crt, where ECK puts the remote's CA); "
            "write it as a list, which ECK appends to its own, or remove it")


def _older_issue(old: CertInfo, new: CertInfo, source: str, now: datetime,
                 evidence: dict[str, Any]) -> Verdict:
    """The copy is a previous issue of the remote's CA (ECK renews with the same key and, since
    elastic/cloud-on-k8s#9198, the same key identifier). The JDK picks trust anchors by name and
    key identifier and never checks their dates: such a copy keeps working, expired or not,
    until a renewal with a new key."""
    when = (f"expired {old.not_after}" if pki.days_left(old, now) < 0 else f"valid until {old.not_after}")
    if not pki.same_key_identifier(old, new):
        return failed("the trusted CA is an older issue of the remote CA (same key, another key identifier)",
                      f"the remote CA was renewed with another Subject Key Identifier; {source} still holds "
                      f"the previous issue ({when}), which the JDK no longer picks as the anchor of the "
                      "certificates the new issue signs: copy the current one", **evidence)
    return warned("the trusted CA is an older issue of the remote CA (same key)",
                  f"the remote CA was renewed; {source} still holds the previous issue ({when}), which the "
                  "local nodes keep accepting (the JDK does not check a trust anchor's dates), until a "
                  "renewal with a new key breaks the link: copy the current one", **evidence)


def _source_name(snap: Snapshot) -> str:
    es = reads.resource(snap.local)
    for source in eck.client_ca_files(es)[0]:
        if source.mounted:
            return f"{source.mounted.kind} {snap.local.namespace}/{source.mounted.source}"
    return "the local CA copy"


def _handshake(snap: Snapshot, alias: str) -> TlsProbe | Verdict:
    if links.eck_remote(snap, alias) is not None and not reads.link(snap, alias).proxy_address:
        return not_applicable("ECK's seeds are in-cluster names: the pods make this handshake, this "
                              "machine has no address to probe; _resolve/cluster judges it")
    probe = reads.probe(snap, alias)
    evidence = {"address": probe.address, "sni": probe.server_name}
    if probe.tcp != "ok":
        return not_evaluated(f"{probe.address} is unreachable from this machine ({probe.tcp}): the probe "
                             "could not look at the certificate presented there")
    if probe.tls == "not-tls":
        return failed(f"{probe.address} does not answer with TLS",
                      "proxy_address reaches something that is not the remote cluster server (an HTTP "
                      "ingress, or a proxy forwarding plaintext): use L4 TCP or TLS passthrough",
                      error=probe.tls_error, **evidence)
    if probe.tls != "ok" or not probe.chain:
        return failed(f"TLS handshake with {probe.address} failed: {probe.tls} {probe.tls_error}".strip(),
                      "the server closed or broke the handshake: check what listens at proxy_address",
                      error=probe.tls_error, **evidence)
    return probe


@check("ECKRC304", severity=ERROR, side=LINK, requires=("ECKRC303", "ECKRC205"), fix="sync-ca",
       covers=("F3", "F4", "F7"), applies_to=API_KEY_LINK)
def chain_trusted(snap: Snapshot, alias: str) -> Verdict:
    """The certificate presented at proxy_address validates against the trusted CA

    doctor makes a real TLS handshake to `proxy_address` (SNI `server_name`) and validates the
    presented chain against the CA the local nodeSets trust, with X.509 path validation as
    Elasticsearch does (the host name is ECKRC305's business). A failure here is what the
    local logs report as `failed to establish trust with server`.

    On a real cluster: the handshake is made from where doctor runs, not from the local pods:
    a different network path (egress proxy, DNS view, firewall) is not seen. The verdict
    follows the JDK's PKIX rules (anchor dates are not checked; anchors must be CAs); a test
    compares it with a real JDK over a corpus of certificate cases.

    Fix by hand: trust the CA that issued the presented certificate: the remote's transport CA
    (ECKRC303), or remove the TLS-terminating component in front of the remote (ECKRC306).
    """
    probe = _handshake(snap, alias)
    if isinstance(probe, Verdict):
        return probe
    trusted = configured_cas(snap)
    leaf = probe.chain[0]
    error = (jdk_trust.path_error(probe.chain, trusted, pki.parse_time(snap.taken_at))
             or jdk_trust.end_entity_error(leaf))
    evidence: dict[str, Any] = {"presented": {"subject": leaf.subject, "issuer": leaf.issuer,
                                              "sha256": leaf.sha256, "notAfter": leaf.not_after},
                                "trusted": [c.subject for c in trusted]}
    if not error:
        return passed(f"{probe.address} presents {leaf.subject}, issued by a trusted CA", **evidence)
    evidence["error"] = error
    return failed(f"the certificate presented at {probe.address} does not validate against the trusted CA",
                  _untrusted_cause(leaf, trusted, error), **evidence)


def _untrusted_cause(leaf: CertInfo, trusted: list[CertInfo], error: str) -> str:
    if error == jdk_trust.VALIDITY:
        return "a certificate of the chain is expired or not yet valid (see ECKRC307)"
    if error in (jdk_trust.EE_KEY_USAGE, jdk_trust.EE_EKU):
        return ("the server's certificate may not be used by a TLS server (keyUsage digitalSignature, "
                "extendedKeyUsage serverAuth): reissue it")
    if "TrustAnchor" in error or error in (jdk_trust.CA_KEY_USAGE, jdk_trust.NOT_A_CA):
        return ("a CA of the chain is not a CA certificate (basicConstraints cA, keyUsage keyCertSign): "
                "reissue it")
    if leaf.issuer not in {c.subject for c in trusted}:
        if eck.transport_ca_owner(leaf.issuer):
            return f"the server's certificate is issued by {leaf.issuer}, another ECK cluster's CA"
        return (f"the server's certificate is issued by {leaf.issuer}, not an ECK transport CA: something "
                "in front of the remote cluster server terminates TLS (see ECKRC306)")
    return ("the trusted CA has the right name but did not sign this certificate: a stale copy or another "
            "cluster with the same name")


@check("ECKRC305", severity=ERROR, side=LINK, requires=("ECKRC304",), fix="fix-server-name",
       covers=("F5", "F6"), applies_to=API_KEY_LINK)
def name_matches(snap: Snapshot, alias: str) -> Verdict:
    """The name the client checks is a SAN of the presented certificate

    With `verification_mode: full` (the default) the local node's JDK checks the SNI name
    (`server_name`) against the certificate's SANs and, when that does not match, the
    `proxy_address` host: one of the two must be a SAN (an IP must be an IP SAN). ECK's
    certificates never name the load balancer: set `server_name` to
    `<es>-es-remote-cluster.<ns>.svc` or add the external name to the remote's
    `spec.transport.tls.subjectAltNames`. `server_name` must be a name the JDK accepts as SNI
    (no trailing dot, letters, digits and hyphens), else every connection fails with
    `invalid DiscoveryNode server_name`.

    On a real cluster: the names are judged on the certificate doctor's probe received, with
    the JDK's HostnameChecker rules (wildcards in the left-most label, IPs only as IP SANs);
    a load balancer that sends each connection to another pod is judged on one of them.

    Fix by hand: set `cluster.remote.<alias>.server_name` to
    `<es>-es-remote-cluster.<ns>.svc`, or add the external name or IP to the remote's
    `spec.transport.tls.subjectAltNames`.
    """
    link = reads.link(snap, alias)
    suggestion = _suggested_server_name(snap)
    refused = jdk_trust.server_name_error(link.server_name) if link.server_name else ""
    if refused:
        return failed(f"server_name {link.server_name} is not a valid SNI host name ({refused})",
                      f"set cluster.remote.{alias}.server_name to a DNS name, e.g. {suggestion}",
                      server_name=link.server_name, error=refused,
                      logged=f"invalid DiscoveryNode server_name [{link.server_name}]")
    probe = _handshake(snap, alias)
    if isinstance(probe, Verdict):
        return probe
    leaf = probe.chain[0]
    host = link.host
    error = jdk_trust.identity_error(leaf, link.server_name, host)
    evidence: dict[str, Any] = {"checked": link.checked_name, "dnsNames": leaf.dns_names,
                                "ipAddresses": leaf.ip_addresses}
    if not error:
        if link.server_name and jdk_trust.name_error(leaf, link.server_name):
            return warned(f"server_name {link.server_name} is not in the certificate; the nodes connect "
                          f"because the address host {host} is a SAN",
                          f"set server_name to {suggestion}, or unset it: the check passes only through the "
                          "JDK's fallback to the address host", addressHost=host, **evidence)
        return passed(f"{link.checked_name} is a SAN of {leaf.subject}", **evidence)
    evidence["error"] = error
    if not link.server_name:
        cause = (f"server_name is unset, so the client checks the address host {host}, which the certificate "
                 f"does not name: set server_name to {suggestion}, or add {host} to the remote's "
                 "spec.transport.tls.subjectAltNames")
    elif link.server_name.lower() == host.lower():
        cause = (f"server_name {host} (also the address host) is not in the certificate: "
                 f"set it to {suggestion}")
    else:
        cause = (f"neither server_name {link.server_name} nor the address host {host} is in the certificate: "
                 f"set server_name to {suggestion}")
    return failed(f"{link.checked_name} is not a SAN of the presented certificate", cause, **evidence)


def _suggested_server_name(snap: Snapshot) -> str:
    try:
        remote = reads.remote_side(snap)
        return eck.rcs_server_name(remote.es_name, remote.namespace)
    except NotEvaluated:
        return "<remote-es>-es-remote-cluster.<remote-namespace>.svc"


@check("ECKRC306", severity=ERROR, side=LINK, requires=("ECKRC205",), covers=("F7", "F8"),
       applies_to=API_KEY_LINK,
       remediation=("configure the load balancer or ingress in front of 9443 as L4 TCP / TLS "
                    "passthrough: something terminates TLS there and presents its own certificate"))
def issued_by_eck(snap: Snapshot, alias: str) -> Verdict:
    """The certificate presented was issued by the remote's ECK CA, not by a proxy

    The remote cluster server presents each pod's transport certificate, issued by
    `CN=<es>-transport,OU=<es>`. Another issuer means something between the clusters (an
    ingress, a TLS-terminating load balancer) ends the TLS session: only L4 TCP or TLS
    passthrough carries Elasticsearch's transport protocol. A proxy that forwards plaintext
    makes the remote log `received plaintext traffic on an encrypted channel`.

    On a real cluster: a proxy that forwards TLS untouched (passthrough) is invisible, which is
    right; one that terminates TLS with the remote's own certificate would not be detected.

    Fix by hand: configure the load balancer or ingress for TCP (L4) or TLS passthrough on
    9443, or use a plain LoadBalancer Service.
    """
    probe = _handshake(snap, alias)
    if isinstance(probe, Verdict):
        return probe
    leaf = probe.chain[0]
    evidence: dict[str, Any] = {"issuer": leaf.issuer, "subject": leaf.subject}
    try:
        remote_cas = reads.transport_cas(reads.remote_for(snap, alias))
    except NotEvaluated:
        remote_cas = []
    if remote_cas:
        if pki.chain_from(probe.chain, remote_cas):
            return passed(f"issued by the remote's CA {leaf.issuer}", **evidence)
        evidence["remoteCa"] = [c.subject for c in remote_cas]
    elif eck.transport_ca_owner(leaf.issuer):
        return passed(f"issued by {leaf.issuer}, an ECK transport CA (remote not readable to compare)",
                      **evidence)
    return failed(f"{probe.address} presents a certificate issued by {leaf.issuer}, not the remote's ECK CA",
                  "a load balancer or ingress terminates TLS in front of the remote cluster server: "
                  "configure it for TCP / TLS passthrough on 9443", **evidence)


@check("ECKRC307", severity=ERROR, side=LINK, requires=("ECKRC501",), fix="sync-ca", covers=("F23",))
def not_expiring(snap: Snapshot, alias: str) -> Verdict:
    """CA and server certificates are valid and not about to expire

    ECK's CA and leaf certificates live one year and are renewed 24 hours before expiry; copies
    made by hand are not. An expired server certificate fails the handshake. An expired CA
    fails it too unless the presented chain still validates: the JDK never checks a trust
    anchor's dates, so a CA past its end is a warning while the nodes still connect. One
    expiring within 30 days is a warning.

    On a real cluster: dates are compared with doctor's clock; the presented certificate is
    the one doctor's probe received (another pod behind the load balancer can differ).

    Fix by hand: refresh copies of the CA (ECKRC303); ECK renews its own certificates, so an
    expired remote certificate points at a stopped operator.
    """
    certs = _expiry_subjects(snap, alias)
    if not certs:
        return not_evaluated("no certificate could be read (CA copy, remote CA or TLS probe)")
    now = pki.parse_time(snap.taken_at)
    rows: list[dict[str, Any]] = [{"what": what, "subject": c.subject, "notAfter": c.not_after,
             "daysLeft": math.floor(pki.days_left(c, now))} for what, c in certs]
    evidence: dict[str, Any] = {EVIDENCE_KEYS[r["what"]]: {k: v for k, v in r.items() if k != "what"}
                                for r in rows}
    expired = sorted((r for r in rows if r["daysLeft"] < 0),
                     key=lambda r: r["what"] != "presented certificate")
    if expired:
        first = expired[0]
        verdict = _path_verdict(snap, alias, _trusted_or_empty(snap))
        if first["what"] != "presented certificate" and verdict == "":
            return warned(f"{first['what']} {first['subject']} expired on {first['notAfter']}; the nodes "
                          "still connect (the JDK does not check a trust anchor's dates)",
                          "renew the CA: any certificate it issues from now on is refused", **evidence)
        if verdict:
            evidence["handshake"] = verdict
        return failed(f"{first['what']} {first['subject']} expired on {first['notAfter']}",
                      "refresh the copy with the remote's current CA" if "trusted" in str(first["what"])
                      else "the remote's certificates were not renewed: ECK renews its own CA and "
                      "certificates, so check the remote operator, or renew a user-provided transport CA",
                      **evidence)
    soon = [r for r in rows if r["daysLeft"] < EXPIRY_WARNING_DAYS]
    if soon:
        return warned(f"{soon[0]['what']} {soon[0]['subject']} expires in {soon[0]['daysLeft']} days",
                      "renew it before it expires (ECK renews its own certificates; copies must be "
                      "refreshed)",
                      **evidence)
    return passed(f"{len(rows)} certificates valid for {min(r['daysLeft'] for r in rows)}+ days",
                  **evidence)


def _trusted_or_empty(snap: Snapshot) -> list[CertInfo]:
    try:
        return configured_cas(snap)
    except SourceProblem:
        return []


def _expiry_subjects(snap: Snapshot, alias: str) -> list[tuple[str, CertInfo]]:
    found: list[tuple[str, CertInfo]] = []
    # The remote's own CA first: when the copy is the current CA, renewing it is the remote's job.
    # A copy that is not the remote's CA at all is ECKRC303's finding, not an expiry to report.
    remote: list[CertInfo] | None = None
    with contextlib.suppress(NotEvaluated):
        remote = reads.transport_cas(reads.remote_for(snap, alias))
        found += [("remote CA", c) for c in remote]
    with contextlib.suppress(SourceProblem):  # ECKRC302 reports it; unreadable is not evaluated
        current = {c.sha256 for c in remote or []}
        found += [("trusted CA", c) for c in configured_cas(snap) if remote is None or c.sha256 in current]
    probe = snap.probes.get(alias)
    if isinstance(probe, TlsProbe) and probe.chain:
        found.append(("presented certificate", probe.chain[0]))
    distinct: dict[str, tuple[str, CertInfo]] = {}
    for what, cert in found:
        distinct.setdefault(cert.sha256, (what, cert))
    return list(distinct.values())


CHECKS: list[CheckSpec] = [
    client_trust_configured, ca_file_present, stale_ca, chain_trusted, name_matches, issued_by_eck,
    not_expiring,
]
