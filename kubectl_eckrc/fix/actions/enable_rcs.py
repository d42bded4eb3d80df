"""enable-rcs: `spec.remoteClusterServer.enabled: true` on the remote Elasticsearch.

ECK then creates `<es>-es-remote-cluster:9443`, configures the RCS with each pod's transport
certificate and rolls the remote pods.
"""

from __future__ import annotations

from kubectl_eckrc import eck
from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix.actions.es_patch import es_patch
from kubectl_eckrc.fix.model import Change, Restart
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

ACTION = "enable-rcs"


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    es = eck.resource_of(snap, "remote")
    if es is None:
        return []
    rcs = es.get("spec", {}).get("remoteClusterServer")
    if isinstance(rcs, dict) and rcs.get("enabled") is True:
        return []
    if isinstance(rcs, dict):
        ops = [{"op": "add", "path": "/spec/remoteClusterServer/enabled", "value": True}]
    else:
        ops = [{"op": "add", "path": "/spec/remoteClusterServer", "value": {"enabled": True}}]
    return [es_patch(snap, "remote", es, ops, action=ACTION, restarts=Restart.REMOTE,
                     summary="spec.remoteClusterServer.enabled: true")]
