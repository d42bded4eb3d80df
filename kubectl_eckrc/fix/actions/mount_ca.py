"""mount-ca: every local nodeSet trusts the remote CA file for remote-cluster connections.

Per nodeSet: `xpack.security.remote_cluster_client.ssl.enabled: true`,
`...ssl.certificate_authorities` listing the file, and (when no mount provides it yet) a
volume from the CA ConfigMap mounted into container `elasticsearch` at
`/usr/share/elasticsearch/config/remote-certs`. Every other config key, volume, mount and
container stays. An entry of `certificate_authorities` is dropped only when it is provably
absent (a ConfigMap or Secret key that was read and is not there: Elasticsearch cannot load
it); a file of the image, an absolute path, another volume kind or an unreadable Secret stays.
When no nodeSet has the `remote_cluster_client` role (every one lists `node.roles` without
it), the role is added to those lists: without it no node opens remote connections. Rolls
the local pods.
"""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck
from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix.actions.es_patch import es_patch
from kubectl_eckrc.fix.actions.sync_ca import KINDS, ca_source
from kubectl_eckrc.fix.merge import (
    JsonPatch,
    es_container,
    free_name,
    get_setting,
    mount_ops,
    pointer,
    set_setting,
    source_path,
    volumes,
)
from kubectl_eckrc.fix.model import Change, Restart
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot, Unavailable

ACTION = "mount-ca"
CA_SETTING = eck.CLIENT_SSL_CAS
SSL_ENABLED = eck.CLIENT_SSL_ENABLED
ES_CONFIG_DIR = eck.CONFIG_DIR
MOUNT_DIR = "remote-certs"
VOLUME_NAME = "remote-certs"
ROLES = "node.roles"
# Directories of the config dir that ECK itself mounts into every Elasticsearch container.
ECK_MOUNT_DIRS = ("transport-remote-certs", "transport-certs", "http-certs")
CLIENT_ROLE = "remote_cluster_client"


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    es = eck.resource_of(snap, "local")
    if es is None:
        return []
    source = ca_source(snap)
    add_role = not any(_has_client_role(n) for n in eck.nodesets(es))
    ops: JsonPatch = []
    changed: list[str] = []
    for i, node_set in enumerate(eck.nodesets(es)):
        node_ops = _node_set_ops(snap, i, node_set, source, add_role)
        if node_ops:
            ops += [
                {"op": "test", "path": pointer("spec", "nodeSets", i, "name"), "value": node_set.get("name")}
            ]
            ops += node_ops
            changed.append(str(node_set.get("name")))
    if not ops:
        return []
    summary = f"nodeSets {', '.join(changed)}: trust {KINDS[source.kind]} {source.source}/{source.key}" + (
        f"; add the {CLIENT_ROLE} role" if add_role else ""
    )
    return [es_patch(snap, "local", es, ops, action=ACTION, restarts=Restart.LOCAL,
                     summary=summary)]


def _roles(node_set: dict[str, Any]) -> list[str] | None:
    """The explicit `node.roles` (None: not listed, so every default role, the client included)."""
    roles = get_setting(node_set.get("config"), ROLES)
    if roles is None:
        return None
    if isinstance(roles, str):
        return [r.strip() for r in roles.strip("[]").split(",") if r.strip()]
    return [str(r) for r in roles]


def _has_client_role(node_set: dict[str, Any]) -> bool:
    roles = _roles(node_set)
    return roles is None or CLIENT_ROLE in roles


def _node_set_ops(
    snap: Snapshot, i: int, node_set: dict[str, Any], source: eck.MountedFile, add_role: bool = False
) -> JsonPatch:
    ops: JsonPatch = []
    path = _configured_path(node_set, source) or source_path(node_set, KINDS[source.kind], source.source,
                                                             source.key)
    if path is None:
        volume, mount = _new_mount(node_set, source)
        ops += mount_ops(i, node_set, volume, mount)
        path = f"{mount['mountPath'][len(ES_CONFIG_DIR) + 1 :]}/{source.key}"
    config = node_set.get("config")
    new_config = _new_config(snap, node_set, path)
    roles = _roles(node_set)
    if add_role and roles is not None and CLIENT_ROLE not in roles:
        new_config = set_setting(new_config, ROLES, [*roles, CLIENT_ROLE])
    if new_config != (config or {}):
        ops.append({"op": "add", "path": pointer("spec", "nodeSets", i, "config"), "value": new_config})
    return ops


def _configured_path(node_set: dict[str, Any], source: eck.MountedFile) -> str | None:
    """A path the nodeSet already lists that leads to the source's key, as the person wrote it
    (relative or absolute): kept as it is, so that nothing changes and no pod rolls."""
    for path in eck.listed(get_setting(node_set.get("config"), CA_SETTING)):
        found = eck.mounted_file(node_set, path)
        same = found is not None and (found.kind, found.source, found.key) == (source.kind, source.source,
                                                                              source.key)
        if same:
            return path
    return None


def _new_mount(node_set: dict[str, Any], source: eck.MountedFile) -> tuple[dict[str, Any], dict[str, Any]]:
    taken_volumes = {str(v.get("name")) for v in volumes(node_set)}
    found = es_container(node_set)
    mounts = (found[1].get("volumeMounts") or []) if found else []
    taken_paths = {str(m.get("mountPath", "")).rstrip("/") for m in mounts}
    name = free_name(VOLUME_NAME, taken_volumes)
    directory = free_name(f"{ES_CONFIG_DIR}/{MOUNT_DIR}", taken_paths)
    if source.kind == "configMap":
        volume: dict[str, Any] = {"name": name, "configMap": {"name": source.source}}
    else:
        volume = {"name": name, "secret": {"secretName": source.source}}
    return volume, {"name": name, "mountPath": directory, "readOnly": True}


def _new_config(snap: Snapshot, node_set: dict[str, Any], path: str) -> dict[str, Any]:
    config = node_set.get("config") or {}
    current = eck.listed(get_setting(config, CA_SETTING))
    kept = [p for p in current if p == path or _resolves(snap, node_set, p)]
    if path not in kept:
        kept.append(path)
    new = config
    if str(get_setting(config, SSL_ENABLED)).lower() != "true":
        new = set_setting(new, SSL_ENABLED, True)
    if kept != current:
        new = set_setting(new, CA_SETTING, kept)
    return new


def _resolves(snap: Snapshot, node_set: dict[str, Any], path: str) -> bool:
    """False only when the file is provably absent: it comes from a ConfigMap or Secret key, the
    object was read, and the key is not in it (or the object does not exist). Everything that
    cannot be proven absent stays: a file of the image or an absolute path no mount covers,
    another volume kind (emptyDir, CSI, ...), a Secret or ConfigMap that could not be read, and
    the directories ECK mounts itself (its remote CA bundle keeps same-environment links)."""
    full = eck.config_path(path)
    if any(full.startswith(f"{ES_CONFIG_DIR}/{d}/") for d in ECK_MOUNT_DIRS):
        return True
    found = eck.mounted_file(node_set, path)
    if found is None or found.kind not in ("configMap", "secret") or not found.key:
        return True
    read = _source_read(snap, found)
    if isinstance(read, Unavailable):
        return read.kind != "not-found"
    if found.kind == "configMap":
        return found.key in (read.get("data") or {}) or found.key in (read.get("binaryData") or {})
    return found.key in read.keys


def _source_read(snap: Snapshot, found: eck.MountedFile) -> Any:
    """The ConfigMap (dict) or SecretSummary a mount reads from, or the Unavailable of its read."""
    kube = eck.kube_of(snap, "local")
    table = None if kube is None else (kube.configmaps if found.kind == "configMap" else kube.secrets)
    if not isinstance(table, dict):
        return table if isinstance(table, Unavailable) else Unavailable("not read", "error")
    if found.source not in table:
        return Unavailable("not read", "error")
    return table[found.source]
