"""6xx: the deprecated certificate model (mutual transport TLS on 9300)."""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck, links, pki
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.spec import (
    CERTIFICATE_LINK,
    ERROR,
    INFO,
    LINK,
    CheckSpec,
    check,
    failed,
    passed,
)
from kubectl_eckrc.findings import Verdict
from kubectl_eckrc.snapshot import CertInfo, Side, Snapshot


def _trust_problem(holder: Side, peer: Side, peer_cas: list[CertInfo]) -> str:
    """Why `holder` does not trust `peer`'s transport CA, "" when it does."""
    es = reads.resource(holder)
    name = eck.transport_ca_configmap(es)
    where = f"{holder.role} {holder.namespace}/{holder.es_name}"
    if not name:
        return f"{where} sets no spec.transport.tls.certificateAuthorities"
    cm = reads.configmap(holder, name)
    if cm is None:
        return f"ConfigMap {holder.namespace}/{name} ({holder.role}) does not exist"
    data = cm.get("data") or {}
    if "ca.crt" not in data:
        return f"ConfigMap {holder.namespace}/{name} ({holder.role}) has no key ca.crt"
    try:
        held = {c.sha256 for c in pki.parse_pem(str(data["ca.crt"]))}
    except pki.PemError as exc:
        return f"ConfigMap {holder.namespace}/{name} ({holder.role}) ca.crt: {exc}"
    if not held & {c.sha256 for c in peer_cas}:
        return f"ConfigMap {holder.namespace}/{name} ({holder.role}) lacks the {peer.role} transport CA"
    return ""


@check("ECKRC601", severity=ERROR, side=LINK, requires=("ECKRC501",), covers=("F14", "F21"),
       applies_to=CERTIFICATE_LINK)
def mutual_trust(snap: Snapshot, alias: str) -> Verdict:
    """Certificate model: each side trusts the other's transport CA

    Each side's `spec.transport.tls.certificateAuthorities.configMapName` must name a ConfigMap
    with the key `ca.crt` that holds the other side's transport CA (`ca.crt` of
    `<es>-es-transport-certs-public`). A missing map or key makes ECK's reconcile fail with a
    Warning event; trust on one side only fails the other direction.

    On a real cluster: the `certificateAuthorities` ConfigMaps of both sides and ECK's
    public CA secrets; a pod that has not rolled since the ConfigMap changed still trusts
    the old CAs.

    Fix by hand: put the other side's `ca.crt` (from `<es>-es-transport-certs-public`) into
    the ConfigMap named by `spec.transport.tls.certificateAuthorities.configMapName`, key
    `ca.crt`, on both sides.
    """
    remote = reads.remote_for(snap, alias)
    local_cas, remote_cas = reads.transport_cas(snap.local), reads.transport_cas(remote)
    problems = [p for p in (_trust_problem(snap.local, remote, remote_cas),
                            _trust_problem(remote, snap.local, local_cas)) if p]
    if problems:
        one_way = len(problems) == 1 and "lacks the" in problems[0]
        return failed(problems[0],
                      ("only one side trusts the other: " if one_way else "") +
                      "put the other side's ca.crt (from <es>-es-transport-certs-public) into that ConfigMap "
                      "under the key ca.crt", problems=problems)
    return passed("both sides trust each other's transport CA")


@check("ECKRC602", severity=ERROR, side=LINK, requires=("ECKRC502",), covers=("F22",),
       applies_to=CERTIFICATE_LINK)
def transport_port(snap: Snapshot, alias: str) -> Verdict:
    """Certificate model: proxy_address targets the transport port, not 9443

    Without an API key the link must reach the remote's transport port (9300, exposed e.g. with
    `spec.transport.service.spec.type: LoadBalancer`). The remote cluster server on 9443 always
    requires an API key.

    On a real cluster: the `proxy_address` port and the remote Services it matches; a port
    mapped by an external load balancer doctor cannot read is not seen.

    Fix by hand: point `proxy_address` at the exposed transport service (9300), or move the
    link to API keys.
    """
    link = reads.link(snap, alias)
    evidence: dict[str, Any] = {"proxy_address": link.proxy_address}
    if link.port == eck.RCS_PORT:
        return failed(f"proxy_address {link.proxy_address} targets the remote cluster server (9443)",
                      "the remote cluster server requires an API key: point proxy_address at the exposed "
                      "transport port, or move to the API-key model", **evidence)
    return passed(f"proxy_address {link.proxy_address} targets a transport port", **evidence)


@check("ECKRC603", severity=INFO, side=LINK, requires=("ECKRC501",))
def deprecated_model(snap: Snapshot, alias: str) -> Verdict:
    """Certificate model is deprecated since 9.0

    The certificate model (mutual transport TLS, same-named roles on both clusters) still works
    but is deprecated since Elasticsearch 9.0. The migration path: enable the remote cluster
    server on the remote, create a cross-cluster API key, store its encoded value in a local
    secureSettings secret, trust the remote CA for the remote cluster client, and point
    proxy_address at 9443 (`kubectl eckrc fix` plans these steps).

    On a real cluster: the link's model as the local settings and keystore show it; whether
    the remote still trusts the local CA is ECKRC601's.

    Fix by hand: plan the migration to API keys; `kubectl eckrc fix` plans the steps.
    """
    link = reads.link(snap, alias)
    if link.model != links.CERTIFICATE:
        return passed(f"{alias} uses API keys", model=link.model)
    return failed(f"{alias} uses the certificate model, deprecated since 9.0",
                  "plan the move to API keys (remote cluster server on 9443, cross-cluster API key)",
                  model=link.model)


CHECKS: list[CheckSpec] = [mutual_trust, transport_port, deprecated_model]
