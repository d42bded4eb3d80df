"""expose-rcs: make the remote cluster server (9443) reachable from outside its Kubernetes cluster.

- ECK >= 3.3 (the CRD schema has `spec.remoteClusterServer.service`): set that template's
  `spec.type` (LoadBalancer or NodePort) and let ECK shape `<es>-es-remote-cluster`.
- older ECK: a user Service `<es>-rcs-external` selecting the Elasticsearch pods, port 9443,
  targetPort 9443. Not `<es>-es-...`: that prefix is ECK's, and ECK owns what it names.
- a user Service that exposes the RCS with the wrong `targetPort` gets `targetPort: 9443`.
No restart: Services are not part of the pods' spec.
"""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck
from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix.actions.es_patch import es_patch
from kubectl_eckrc.fix.diff import unified
from kubectl_eckrc.fix.merge import apply_json_patch, pointer, rv_guard
from kubectl_eckrc.fix.model import Change, Operation, PatchType, Target
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

ACTION = "expose-rcs"
EXPOSE_TYPES = {"loadbalancer": "LoadBalancer", "nodeport": "NodePort"}


def external_service_name(es_name: str) -> str:
    return f"{es_name}-rcs-external"


def exposures(snap: Snapshot) -> eck.RcsExposures:
    """The remote's exposures of 9443, by the rule ECKRC203 judges them with."""
    return eck.rcs_exposures_of(snap, "remote")


def usable_addresses(snap: Snapshot) -> list[str]:
    """proxy_address values an exposure offers: a load balancer's address and port, or a node's
    address (eck.NODE_ADDRESS_TYPES) and the nodePort. None for a NodePort whose nodes could not
    be read: --proxy-address then."""
    return [e.proxy_address for e in exposures(snap).usable if e.proxy_address]


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    es = eck.resource_of(snap, "remote")
    if es is None or options.expose == "none":
        return []
    exposed = exposures(snap)
    broken = [p for p in exposed.remapped if not p.owned_by_eck]
    if broken:
        return [_fix_target_port(snap, p) for p in broken]
    if exposed.usable:
        return []
    if exposed.waiting:
        return _no_address(snap, exposed, options)
    if eck.serves_rcs_service_template(snap):
        return [_template_change(snap, es, EXPOSE_TYPES[options.expose])]
    return [_create_service(snap, EXPOSE_TYPES[options.expose])]


def _no_address(snap: Snapshot, exposed: eck.RcsExposures, options: FixOptions) -> list[Change]:
    """A LoadBalancer that never got an address (e.g. a `loadBalancerClass` no provider
    implements): the person's Service is left alone and ours is added beside it; when ours is
    the one waiting, there is nothing safe to write (apply waits for its address)."""
    name = external_service_name(eck.es_name(snap, "remote"))
    if name in exposed.waiting or _find_service(snap, name) is not None:
        return []
    return [_create_service(snap, EXPOSE_TYPES[options.expose])]


def _find_service(snap: Snapshot, name: str) -> dict[str, Any] | None:
    for svc in eck.services(snap, "remote"):
        if svc.get("metadata", {}).get("name") == name:
            return svc
    return None


def _fix_target_port(snap: Snapshot, remapped: eck.RemappedPort) -> Change:
    svc = _find_service(snap, remapped.service) or {}
    patch = rv_guard(svc) + [
        {
            "op": "add",
            "path": pointer("spec", "ports", remapped.port_index, "targetPort"),
            "value": eck.RCS_PORT,
        }
    ]
    target = Target("remote", "Service", eck.namespace(snap, "remote"), remapped.service)
    return Change(
        action=ACTION,
        target=target,
        operation=Operation.PATCH,
        summary=f"port {remapped.port}: targetPort -> {eck.RCS_PORT}",
        diff=unified(svc, apply_json_patch(svc, patch), target.label),
        body=patch,
        patch_type=PatchType.JSON,
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
               f"{eck.remote_cluster_service(eck.es_name(snap, 'remote'))})")
    return es_patch(snap, "remote", es, ops, action=ACTION, summary=summary)


def _create_service(snap: Snapshot, svc_type: str) -> Change:
    es_name = eck.es_name(snap, "remote")
    ns = eck.namespace(snap, "remote")
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
            "selector": {eck.CLUSTER_NAME_LABEL: es_name, eck.TYPE_LABEL: "elasticsearch"},
            "ports": [
                {"name": eck.RCS_PORT_NAME, "protocol": "TCP", "port": eck.RCS_PORT,
                 "targetPort": eck.RCS_PORT}
            ],
        },
    }
    target = Target("remote", "Service", ns, name)
    return Change(
        action=ACTION,
        target=target,
        operation=Operation.CREATE,
        summary=f"{svc_type} Service, port {eck.RCS_PORT} -> targetPort {eck.RCS_PORT}",
        diff=unified(None, body, target.label),
        body=body,
    )
