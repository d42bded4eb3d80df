"""sync-ca: a ConfigMap in the local namespace holding the remote's current transport CA.

The source of truth is `ca.crt` of `<remote-es>-es-transport-certs-public`. The target is the
ConfigMap (or user Secret) the local nodeSets already point `certificate_authorities` at, else
ConfigMap `remote-ca`, key `remote-cluster-ca.crt`. Refreshing keeps certificates of other
issuers in the same file (other remotes) and drops older copies of this remote's CA (same
subject: ECK renews a CA keeping its subject). No restart: Elasticsearch reloads CA files.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix import facts
from kubectl_eckrc.fix.diff import unified
from kubectl_eckrc.fix.merge import apply_json_patch, as_list, get_setting, path_source, pointer, rv_guard
from kubectl_eckrc.fix.plan import Change, Target
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

ACTION = "sync-ca"
DEFAULT_CONFIGMAP = "remote-ca"
DEFAULT_KEY = "remote-cluster-ca.crt"
CA_SETTING = "xpack.security.remote_cluster_client.ssl.certificate_authorities"


@dataclass(frozen=True)
class CaSource:
    kind: str  # ConfigMap | Secret
    name: str
    key: str


def ca_source(snap: Snapshot) -> CaSource:
    """Where the local cluster's remote CA lives (or will live)."""
    es = facts.elasticsearch(snap, "local") or {}
    owned = facts.es_names_in_namespace(snap, "local")
    for node_set in facts.node_sets(es):
        for path in as_list(get_setting(node_set.get("config"), CA_SETTING)):
            found = path_source(node_set, path)
            if found is None or not found[2] or facts.is_eck_owned_name(found[1], owned):
                continue
            if _key_missing(snap, found):
                continue
            return CaSource(*found)
    return CaSource("ConfigMap", DEFAULT_CONFIGMAP, DEFAULT_KEY)


def _key_missing(snap: Snapshot, found: tuple[str, str, str]) -> bool:
    """The source exists but lacks the key: the path is wrong, not the source (mount-ca fixes it)."""
    kind, name, key = found
    if kind == "ConfigMap":
        cm = facts.configmaps(snap, "local").get(name)
        return cm is not None and key not in (cm.get("data") or {})
    summary = facts.secrets(snap, "local").get(name)
    return summary is not None and key not in summary.keys


def current_bundle(snap: Snapshot, source: CaSource) -> str | None:
    """The PEM text the source holds now, None when the source or key does not exist."""
    if source.kind == "ConfigMap":
        cm = facts.configmaps(snap, "local").get(source.name)
        data = None if cm is None else (cm.get("data") or {}).get(source.key)
        return None if data is None else str(data)
    summary = facts.secrets(snap, "local").get(source.name)
    if summary is None or source.key not in summary.keys:
        return None
    return "".join(c.pem for c in summary.keys[source.key].certificates)


def new_bundle(existing: str | None, remote: list[facts.Pem]) -> str | None:
    """The bundle to write, or None when `existing` already trusts every current remote CA."""
    have = facts.parse_pems(existing or "")
    if {p.sha256 for p in remote} <= {p.sha256 for p in have}:
        return None
    subjects = {p.subject for p in remote}
    kept = [p for p in have if p.subject not in subjects]
    return "".join(p.pem if p.pem.endswith("\n") else p.pem + "\n" for p in [*remote, *kept])


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    remote = facts.remote_ca_pems(snap)
    if not remote:
        return []
    source = ca_source(snap)
    existing = current_bundle(snap, source)
    bundle = new_bundle(existing, remote)
    if bundle is None:
        return []
    ns = facts.namespace(snap, "local")
    target = Target("local", source.kind, ns, source.name)
    summary = f"{source.key}: remote CA sha256 {remote[0].sha256[:12]}… ({remote[0].subject})"
    if source.kind == "Secret":
        return [_secret_change(target, source, bundle, summary)]
    cm = facts.configmaps(snap, "local").get(source.name)
    if cm is None:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": source.name,
                "namespace": ns,
                "labels": {"app.kubernetes.io/managed-by": "kubectl-eckrc"},
            },
            "data": {source.key: bundle},
        }
        return [
            Change(
                action=ACTION,
                target=target,
                operation="create",
                summary=summary,
                diff=unified(None, body, target.label),
                body=body,
            )
        ]
    if cm.get("data") is None:
        ops = [{"op": "add", "path": "/data", "value": {source.key: bundle}}]
    else:
        ops = [{"op": "add", "path": pointer("data", source.key), "value": bundle}]
    patch = rv_guard(cm) + ops
    return [
        Change(
            action=ACTION,
            target=target,
            operation="patch",
            summary=summary,
            diff=unified(cm, apply_json_patch(cm, patch), target.label),
            body=patch,
            patch_type="json",
        )
    ]


def _secret_change(target: Target, source: CaSource, bundle: str, summary: str) -> Change:
    """A user Secret: only the one key is written (merge patch on a core kind keeps the others);
    the snapshot holds no Secret body, so the diff shows the key alone."""
    encoded = base64.b64encode(bundle.encode()).decode()
    body = {"data": {source.key: encoded}}
    return Change(
        action=ACTION,
        target=target,
        operation="patch",
        summary=summary,
        diff=unified({"data": {}}, body, target.label, secret=True),
        body=body,
        patch_type="merge",
    )
