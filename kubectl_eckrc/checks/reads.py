"""Reads checks share: each returns the data or raises NotEvaluated with the reason."""

from __future__ import annotations

import re
from typing import Any

from kubectl_eckrc import eck, links
from kubectl_eckrc.checks.spec import NotEvaluated, need
from kubectl_eckrc.snapshot import (
    CertInfo,
    EsState,
    KubeState,
    SecretSummary,
    Side,
    Snapshot,
    TlsProbe,
    Unavailable,
)


def remote_side(snap: Snapshot) -> Side:
    side: Side = need(snap.remote, "the remote environment")
    return side


def remote_for(snap: Snapshot, alias: str) -> Side:
    """The remote side, for checks of one link. A snapshot holds one remote environment; with
    several aliases in scope, one that visibly points at another cluster is not judged against
    it (its server_name names another service, or its server presents another ECK CA)."""
    remote = remote_side(snap)
    if len(snap.aliases) > 1:
        other = elsewhere(snap, alias, remote)
        if other:
            raise NotEvaluated(f"{alias} points at {other}, not at the remote environment given "
                               f"({remote.namespace}/{remote.es_name})",
                               f"run with --alias {alias} and that cluster's --remote-context")
    return remote


_RCS_NAME = re.compile(r"^(?P<es>.+)-es-remote-cluster\.(?P<ns>[^.]+)\.svc(\.cluster\.local)?$")


def elsewhere(snap: Snapshot, alias: str, remote: Side) -> str:
    """What the alias visibly points at when that is not `remote`, else ""."""
    found = links.link_for(snap, alias)
    match = _RCS_NAME.match(found.server_name)
    if match and (match["es"], match["ns"]) != (remote.es_name, remote.namespace):
        return f"{match['ns']}/{match['es']} (server_name)"
    probe = snap.probes.get(alias)
    if isinstance(probe, TlsProbe) and probe.chain:
        name = eck.transport_ca_owner(probe.chain[0].issuer)
        if name and name != remote.es_name:
            return f"Elasticsearch {name} (its certificate's issuer)"
    return ""


def kube(side: Side) -> KubeState:
    state: KubeState = need(side.kube, f"the {side.role} Kubernetes API")
    return state


def es_api(side: Side) -> EsState:
    state: EsState = need(side.es, f"the {side.role} Elasticsearch API")
    return state


def resource(side: Side) -> dict[str, Any]:
    state = kube(side)
    es = need(state.elasticsearch, f"Elasticsearch {side.namespace}/{side.es_name}")
    if not es:
        raise NotEvaluated(f"Elasticsearch {side.namespace}/{side.es_name} was not found")
    return dict(es)


def services(side: Side) -> list[dict[str, Any]]:
    return list(need(kube(side).services, f"services in {side.role} namespace {side.namespace}") or [])


def secret(side: Side, name: str) -> SecretSummary | None:
    """A secret summary; None when it does not exist."""
    secrets = need(kube(side).secrets, f"secrets in {side.role} namespace {side.namespace}")
    found = _unless_missing(secrets.get(name), f"secret {side.namespace}/{name}")
    return found if isinstance(found, SecretSummary) else None


def configmap(side: Side, name: str) -> dict[str, Any] | None:
    maps = need(kube(side).configmaps, f"configmaps in {side.role} namespace {side.namespace}")
    found = _unless_missing(maps.get(name), f"ConfigMap {side.namespace}/{name}")
    return dict(found) if isinstance(found, dict) else None


def _unless_missing(found: Any, what: str) -> Any:
    """A named object as read: one that does not exist is simply absent (None), while any other
    failed read means we could not look (NotEvaluated)."""
    if isinstance(found, Unavailable):
        if found.kind == "not-found":
            return None
        need(found, what)
    return found


def transport_cas(side: Side) -> list[CertInfo]:
    """ca.crt of <es>-es-transport-certs-public: the CAs a peer must trust for 9443 and 9300."""
    name = eck.transport_certs_public(side.es_name)
    summary = secret(side, name)
    if summary is None or "ca.crt" not in summary.keys:
        raise NotEvaluated(f"{side.role} secret {side.namespace}/{name} (key ca.crt) was not found")
    return list(summary.keys["ca.crt"].certificates)


def probe(snap: Snapshot, alias: str) -> TlsProbe:
    found = snap.probes.get(alias)
    if found is None:
        raise NotEvaluated(f"no TLS probe was made for {alias or 'any alias'} (no proxy_address)")
    result: TlsProbe = need(found, f"the TLS probe of {alias}")
    return result


def link(snap: Snapshot, alias: str) -> links.Link:
    """The alias's link; NotEvaluated when it is not registered as far as could be read."""
    found = links.link_for(snap, alias)
    unreadable = links.settings_readable(snap)
    if not found.registered and unreadable is not None:
        need(unreadable, "the local cluster settings")
    return found


def connected_by(snap: Snapshot, alias: str) -> str:
    """What shows the local cluster connected to the alias ("" when nothing does). That
    evidence comes from the local pods, whose network path differs from this machine's."""
    state = snap.local.es
    if isinstance(state, Unavailable):
        return ""
    answer = state.resolve_cluster.get(alias)
    entry = answer.get(alias) if isinstance(answer, dict) else None
    if isinstance(entry, dict) and entry.get("connected") and not entry.get("error"):
        return "_resolve/cluster"
    info = links.remote_info_entry(snap, alias)
    if info and info.get("connected") and info.get("num_proxy_sockets_connected", 1) != 0:
        return "_remote/info"
    return ""


def probe_reached(snap: Snapshot, alias: str) -> str:
    """The probed address when doctor's own TLS probe reached a TLS server there, else ""."""
    probe = snap.probes.get(alias)
    if isinstance(probe, TlsProbe) and probe.tcp == "ok" and probe.tls == "ok" and probe.chain:
        return probe.address
    return ""
