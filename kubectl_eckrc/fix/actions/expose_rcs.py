"""expose-rcs: make the remote cluster server (9443) reachable from outside its Kubernetes cluster.

- ECK >= 3.3 (the CRD schema has `spec.remoteClusterServer.service`): set that template's
  `spec.type` (LoadBalancer or NodePort) and let ECK shape `<es>-es-remote-cluster`.
- older ECK: a user Service `<es>-rcs-external` selecting the Elasticsearch pods, port 9443,
  targetPort 9443. Not `<es>-es-...`: that prefix is ECK's, and ECK owns what it names.
- a user Service that exposes the RCS with the wrong `targetPort` gets `targetPort: 9443`.
No restart: Services are not part of the pods' spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix import facts
from kubectl_eckrc.fix.actions.es_patch import es_patch
from kubectl_eckrc.fix.diff import unified
from kubectl_eckrc.fix.merge import apply_json_patch, pointer, rv_guard
from kubectl_eckrc.fix.plan import Change, Target
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

ACTION = "expose-rcs"
EXPOSE_TYPES = {"loadbalancer": "LoadBalancer", "nodeport": "NodePort"}


@dataclass(frozen=True)
class Exposure:
    """One externally reachable port of a Service that leads to the RCS (or should)."""

    service: str
    type: str  # LoadBalancer | NodePort
    port_index: int
    port: int  # the Service port (LoadBalancer) ...
    node_port: int  # ... or the node port (NodePort)
    target_ok: bool  # targetPort resolves to 9443
    address: str  # host:port to connect to, "" while the load balancer has none
    owned_by_eck: bool


def external_service_name(es_name: str) -> str:
    return f"{es_name}-rcs-external"


def rcs_service_name(es_name: str) -> str:
    return f"{es_name}-es-remote-cluster"


def _selects_es(service: dict[str, Any], es_name: str) -> bool:
    selector = service.get("spec", {}).get("selector") or {}
    return bool(selector) and selector.get(facts.CLUSTER_LABEL) == es_name


def _target_ok(port: dict[str, Any]) -> bool:
    target = port.get("targetPort", port.get("port"))
    return target in (facts.RCS_PORT, str(facts.RCS_PORT), "rcs")


def _intended_for_rcs(service: dict[str, Any], port: dict[str, Any], es_name: str) -> bool:
    """A port meant to carry the RCS: it targets 9443, is numbered/named for it, or lives in a
    Service named for it. The transport port (9300) is never taken for one."""
    if port.get("targetPort", port.get("port")) in (
        facts.TRANSPORT_PORT,
        str(facts.TRANSPORT_PORT),
        "transport",
    ):
        return False
    name = str(service.get("metadata", {}).get("name", ""))
    hints = ("rcs", "remote-cluster", "remote_cluster")
    return (
        _target_ok(port)
        or port.get("port") == facts.RCS_PORT
        or any(h in str(port.get("name", "")) for h in hints)
        or any(h in name for h in hints)
        or name == rcs_service_name(es_name)
    )


def _lb_host(service: dict[str, Any]) -> str:
    for ingress in service.get("status", {}).get("loadBalancer", {}).get("ingress", []) or []:
        host = ingress.get("ip") or ingress.get("hostname")
        if host:
            return str(host)
    return ""


def exposures(services: list[dict[str, Any]], es_name: str, node_host: str = "") -> list[Exposure]:
    """Every LoadBalancer/NodePort port that carries, or is meant to carry, the RCS of `es_name`.
    `node_host` is the host to reach NodePorts at (unknown: "")."""
    found = []
    for svc in services:
        spec = svc.get("spec", {})
        kind = spec.get("type", "ClusterIP")
        name = str(svc.get("metadata", {}).get("name", ""))
        eck = name == rcs_service_name(es_name)
        if kind not in ("LoadBalancer", "NodePort") or not (eck or _selects_es(svc, es_name)):
            continue
        for i, port in enumerate(spec.get("ports", []) or []):
            if not _intended_for_rcs(svc, port, es_name):
                continue
            found.append(_exposure(svc, kind, i, port, eck, node_host))
    return found


def _exposure(
    svc: dict[str, Any], kind: str, i: int, port: dict[str, Any], eck: bool, node_host: str
) -> Exposure:
    number = int(port.get("port", 0))
    node_port = int(port.get("nodePort", 0) or 0)
    lb_host = _lb_host(svc) if kind == "LoadBalancer" else ""
    if lb_host:
        address = f"{lb_host}:{number}"
    elif kind == "NodePort" and node_host and node_port:
        address = f"{node_host}:{node_port}"
    else:
        address = ""
    return Exposure(str(svc["metadata"]["name"]), kind, i, number, node_port, _target_ok(port), address, eck)


def usable(exposure: Exposure) -> bool:
    return exposure.target_ok and bool(exposure.address)


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    es = facts.elasticsearch(snap, "remote")
    name = facts.es_name(snap, "remote")
    if es is None or options.expose == "none":
        return []
    found = exposures(facts.services(snap, "remote"), name)
    broken = [e for e in found if not e.target_ok and not e.owned_by_eck]
    if broken:
        return [_fix_target_port(snap, e) for e in broken]
    if any(e.target_ok and (e.address or e.type == "NodePort") for e in found):
        return []
    if any(e.target_ok and e.type == "LoadBalancer" and not e.address for e in found):
        return _no_address(snap, found, options)
    if facts.eck_serves_rcs_service(snap):
        return [_template_change(snap, es, EXPOSE_TYPES[options.expose])]
    return [_create_service(snap, EXPOSE_TYPES[options.expose])]


def _no_address(snap: Snapshot, found: list[Exposure], options: FixOptions) -> list[Change]:
    """A LoadBalancer that never got an address (e.g. a `loadBalancerClass` no provider
    implements): the person's Service is left alone and ours is added beside it; when ours is
    the one waiting, there is nothing safe to write (apply waits for its address)."""
    name = external_service_name(facts.es_name(snap, "remote"))
    if any(e.service == name for e in found) or _find_service(snap, name) is not None:
        return []
    return [_create_service(snap, EXPOSE_TYPES[options.expose])]


def _find_service(snap: Snapshot, name: str) -> dict[str, Any] | None:
    for svc in facts.services(snap, "remote"):
        if svc.get("metadata", {}).get("name") == name:
            return svc
    return None


def _fix_target_port(snap: Snapshot, exposure: Exposure) -> Change:
    svc = _find_service(snap, exposure.service) or {}
    patch = rv_guard(svc) + [
        {
            "op": "add",
            "path": pointer("spec", "ports", exposure.port_index, "targetPort"),
            "value": facts.RCS_PORT,
        }
    ]
    target = Target("remote", "Service", facts.namespace(snap, "remote"), exposure.service)
    return Change(
        action=ACTION,
        target=target,
        operation="patch",
        summary=f"port {exposure.port}: targetPort -> {facts.RCS_PORT}",
        diff=unified(svc, apply_json_patch(svc, patch), target.label),
        body=patch,
        patch_type="json",
    )


def _template_change(snap: Snapshot, es: dict[str, Any], svc_type: str) -> Change:
    rcs = es.get("spec", {}).get("remoteClusterServer") or {}
    service = rcs.get("service")
    ops: list[dict[str, Any]]
    if not isinstance(rcs, dict) or "remoteClusterServer" not in es.get("spec", {}):
        ops = [
            {
                "op": "add",
                "path": "/spec/remoteClusterServer",
                "value": {"service": {"spec": {"type": svc_type}}},
            }
        ]
    elif not isinstance(service, dict):
        ops = [
            {"op": "add", "path": "/spec/remoteClusterServer/service", "value": {"spec": {"type": svc_type}}}
        ]
    elif not isinstance(service.get("spec"), dict):
        ops = [{"op": "add", "path": "/spec/remoteClusterServer/service/spec", "value": {"type": svc_type}}]
    else:
        ops = [{"op": "add", "path": "/spec/remoteClusterServer/service/spec/type", "value": svc_type}]
    summary = (f"spec.remoteClusterServer.service.spec.type: {svc_type} (ECK >= 3.3 shapes "
               f"{rcs_service_name(facts.es_name(snap, 'remote'))})")
    return es_patch(snap, "remote", es, ops, action=ACTION, summary=summary)


def _create_service(snap: Snapshot, svc_type: str) -> Change:
    es_name = facts.es_name(snap, "remote")
    ns = facts.namespace(snap, "remote")
    name = external_service_name(es_name)
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {"app.kubernetes.io/managed-by": "kubectl-eckrc"},
        },
        "spec": {
            "type": svc_type,
            "selector": {facts.CLUSTER_LABEL: es_name, facts.TYPE_LABEL: "elasticsearch"},
            "ports": [
                {"name": "rcs", "protocol": "TCP", "port": facts.RCS_PORT, "targetPort": facts.RCS_PORT}
            ],
        },
    }
    target = Target("remote", "Service", ns, name)
    return Change(
        action=ACTION,
        target=target,
        operation="create",
        summary=f"{svc_type} Service, port {facts.RCS_PORT} -> targetPort {facts.RCS_PORT}",
        diff=unified(None, body, target.label),
        body=body,
    )
