"""sync-ca: a ConfigMap in the local namespace holding the remote's current transport CA.

The source of truth is `ca.crt` of `<remote-es>-es-transport-certs-public`. The target is the
ConfigMap (or user Secret) the local nodeSets already point `certificate_authorities` at, else
ConfigMap `remote-ca`, key `remote-cluster-ca.crt`. Refreshing keeps certificates of other
issuers in the same file (other remotes) and drops older copies of this remote's CA (same
subject: ECK renews a CA keeping its subject). No restart: kubelet refreshes mounted files
(after its sync period) and Elasticsearch reloads CA files (it checks them every
`resource.reload.interval.high`, 5 s by default, unless `resource.reload.enabled: false`); the
link reconnects when a request asks (fix --wait's `_resolve/cluster`), except where a nodeSet mounts the
file with `subPath`: kubelet never refreshes such a copy, so those nodeSets' pods are restarted
(a `kubectl.kubernetes.io/restartedAt` annotation on their podTemplate, as `kubectl rollout
restart` does: ECK rolls the pods of the new StatefulSet revision).
"""

from __future__ import annotations

import base64

from kubectl_eckrc import eck, pki
from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix.actions.es_patch import es_patch
from kubectl_eckrc.fix.diff import unified
from kubectl_eckrc.fix.merge import JsonPatch, apply_json_patch, pointer, rv_guard
from kubectl_eckrc.fix.model import Change, Operation, PatchType, Restart, Target
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import CertInfo, Snapshot

ACTION = "sync-ca"
DEFAULT_SOURCE = eck.MountedFile(path="", volume="", kind="configMap", source="remote-ca",
                                 key="remote-cluster-ca.crt")
KINDS = {"configMap": "ConfigMap", "secret": "Secret"}
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
# How often Elasticsearch checks the files its SSL configurations depend on (ResourceWatcherService).
RELOAD_SETTING = "resource.reload.interval.high"


def ca_source(snap: Snapshot) -> eck.MountedFile:
    """Where the local cluster's remote CA lives (or will live): the user ConfigMap or Secret
    behind the first CA file a nodeSet configures, whatever way the path is written (relative
    to the config directory or absolute), the way ECKRC302 reads it."""
    es = eck.resource_of(snap, "local") or {}
    owned = eck.es_names_in_namespace(snap, "local")
    for ca_file in eck.client_ca_files(es)[0]:
        found = ca_file.mounted
        if found is None or found.kind not in KINDS or not found.key:
            continue
        if eck.is_eck_owned_name(found.source, owned) or _key_missing(snap, found):
            continue
        return found
    return DEFAULT_SOURCE


def _key_missing(snap: Snapshot, found: eck.MountedFile) -> bool:
    """The source exists but lacks the key: the path is wrong, not the source (mount-ca fixes it)."""
    if found.kind == "configMap":
        cm = eck.configmaps(snap, "local").get(found.source)
        return cm is not None and found.key not in (cm.get("data") or {})
    summary = eck.secrets(snap, "local").get(found.source)
    return summary is not None and found.key not in summary.keys


def current_bundle(snap: Snapshot, source: eck.MountedFile) -> str | None:
    """The PEM text the source holds now, None when the source or key does not exist."""
    if source.kind == "configMap":
        cm = eck.configmaps(snap, "local").get(source.source)
        data = None if cm is None else (cm.get("data") or {}).get(source.key)
        return None if data is None else str(data)
    summary = eck.secrets(snap, "local").get(source.source)
    if summary is None or source.key not in summary.keys:
        return None
    return "".join(c.pem for c in summary.keys[source.key].certificates)


def remote_cas(snap: Snapshot) -> list[CertInfo]:
    """The CA bundle a peer must trust: `ca.crt` of `<remote-es>-es-transport-certs-public`."""
    name = eck.transport_certs_public(eck.es_name(snap, "remote"))
    summary = eck.secrets(snap, "remote").get(name)
    if summary is None or "ca.crt" not in summary.keys:
        return []
    return list(summary.keys["ca.crt"].certificates)


def _certificates(text: str | None) -> list[CertInfo]:
    try:
        return pki.parse_pem(text or "")
    except pki.PemError:
        return []


def new_bundle(existing: str | None, remote: list[CertInfo]) -> str | None:
    """The bundle to write, or None when `existing` already trusts every current remote CA."""
    have = _certificates(existing)
    if {c.sha256 for c in remote} <= {c.sha256 for c in have}:
        return None
    subjects = {c.subject for c in remote}
    kept = [c for c in have if c.subject not in subjects]
    return "".join(c.pem if c.pem.endswith("\n") else c.pem + "\n" for c in [*remote, *kept])


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    changes = _source_changes(snap)
    if not changes:
        return []
    return changes + _restart_pinned_copies(snap, ca_source(snap))


def _restart_pinned_copies(snap: Snapshot, source: eck.MountedFile) -> list[Change]:
    """Restart the pods of nodeSets that mount the CA with subPath: they would keep the old copy."""
    es = eck.resource_of(snap, "local")
    if es is None:
        return []
    pinned = eck.sub_path_nodesets(es, (source.kind, source.source, source.key))
    ops: JsonPatch = []
    for i, node_set in enumerate(eck.nodesets(es)):
        if str(node_set.get("name", "")) in pinned:
            name_path = pointer("spec", "nodeSets", i, "name")
            ops += [{"op": "test", "path": name_path, "value": node_set.get("name")}]
            ops += _annotation_ops(i, node_set, snap.taken_at)
    if not ops:
        return []
    mounted = f"{KINDS[source.kind]} {source.source}/{source.key}"
    summary = (f"nodeSets {', '.join(pinned)}: restart the pods (they mount {mounted} with subPath, "
               "which never shows a change)")
    return [es_patch(snap, "local", es, ops, action=ACTION, restarts=Restart.LOCAL, summary=summary)]


def _annotation_ops(i: int, node_set: dict[str, object], when: str) -> JsonPatch:
    """Set the restart annotation, creating podTemplate/metadata/annotations only where absent."""
    template = node_set.get("podTemplate")
    base: tuple[str | int, ...] = ("spec", "nodeSets", i, "podTemplate")
    value: object = {RESTARTED_AT: when}
    parts: list[str] = ["metadata", "annotations"]
    node: object = template
    while parts and isinstance(node, dict) and isinstance(node.get(parts[0]), dict):
        node = node[parts[0]]
        base += (parts.pop(0),)
    if not isinstance(node, dict):  # no podTemplate at all
        return [{"op": "add", "path": pointer(*base), "value": {"metadata": {"annotations": value}}}]
    for name in reversed(parts[1:]):
        value = {name: value}
    if parts:
        return [{"op": "add", "path": pointer(*base, parts[0]), "value": value}]
    return [{"op": "add", "path": pointer(*base, RESTARTED_AT), "value": when}]


def _source_changes(snap: Snapshot) -> list[Change]:
    remote = remote_cas(snap)
    if not remote:
        return []
    source = ca_source(snap)
    existing = current_bundle(snap, source)
    bundle = new_bundle(existing, remote)
    if bundle is None:
        return []
    ns = eck.namespace(snap, "local")
    target = Target("local", KINDS[source.kind], ns, source.source)
    summary = (f"{source.key}: remote CA sha256 {remote[0].sha256[:12]}… ({remote[0].subject}); the pods "
               "see it after kubelet's sync, Elasticsearch at its next reload check "
               f"({RELOAD_SETTING}, 5s by default)")
    if source.kind == "secret":
        return [_secret_change(target, source, bundle, summary)]
    cm = eck.configmaps(snap, "local").get(source.source)
    if cm is None:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": source.source,
                "namespace": ns,
                "labels": {"app.kubernetes.io/managed-by": "kubectl-eckrc"},
            },
            "data": {source.key: bundle},
        }
        return [
            Change(
                action=ACTION,
                target=target,
                operation=Operation.CREATE,
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
            operation=Operation.PATCH,
            summary=summary,
            diff=unified(cm, apply_json_patch(cm, patch), target.label),
            body=patch,
            patch_type=PatchType.JSON,
        )
    ]


def _secret_change(target: Target, source: eck.MountedFile, bundle: str, summary: str) -> Change:
    """A user Secret: only the one key is written (merge patch on a core kind keeps the others);
    the snapshot holds no Secret body, so the diff shows the key alone."""
    encoded = base64.b64encode(bundle.encode()).decode()
    body = {"data": {source.key: encoded}}
    return Change(
        action=ACTION,
        target=target,
        operation=Operation.PATCH,
        summary=summary,
        diff=unified({"data": {}}, body, target.label, secret=True),
        body=body,
        patch_type=PatchType.MERGE,
    )
