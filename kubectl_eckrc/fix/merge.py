"""List- and key-preserving edits of Kubernetes objects, as pure functions.

Everything here returns new values and never mutates its input. The writes themselves are
JSON patches (RFC 6902) whose first operation tests the object's `resourceVersion`: a
concurrent change makes the patch fail instead of being overwritten, and because every other
operation only touches the exact paths we change, the rest of the object (other nodeSets,
containers, volumes, config keys, secure settings) is carried over by the server untouched.
We never send a JSON merge patch or a strategic merge patch to a custom resource: the first
replaces whole lists, the second is refused on custom resources.
"""

from __future__ import annotations

import copy
from typing import Any

from kubectl_eckrc import eck

ES_CONFIG_DIR = eck.CONFIG_DIR
ES_CONTAINER = eck.ES_CONTAINER

JsonPatch = list[dict[str, Any]]


# --- JSON pointer / JSON patch -------------------------------------------------------------------


def pointer(*parts: str | int) -> str:
    """An RFC 6901 pointer; `~` and `/` inside a key are escaped (settings keys contain dots,
    Secret keys may contain anything)."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(escaped)


def rv_guard(obj: dict[str, Any]) -> JsonPatch:
    """The precondition every patch of an existing object starts with."""
    rv = str(obj.get("metadata", {}).get("resourceVersion", ""))
    return [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}]


def apply_json_patch(obj: dict[str, Any], ops: JsonPatch) -> dict[str, Any]:
    """Apply the subset of RFC 6902 we emit (test/add/replace/remove/move) locally: the plan
    uses it to render the object after the change for the diff."""
    out = copy.deepcopy(obj)
    for op in ops:
        kind = op["op"]
        if kind == "test":
            continue
        if kind == "move":
            value = _remove(out, _split(op["from"]))
            _add(out, _split(op["path"]), value)
        elif kind == "remove":
            _remove(out, _split(op["path"]))
        else:  # add | replace
            _add(out, _split(op["path"]), copy.deepcopy(op["value"]))
    return out


def _split(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _parent(doc: Any, parts: list[str]) -> Any:
    for part in parts[:-1]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def _add(doc: Any, parts: list[str], value: Any) -> None:
    parent = _parent(doc, parts)
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            parent.insert(int(last), value)
    else:
        parent[last] = value


def _remove(doc: Any, parts: list[str]) -> Any:
    parent = _parent(doc, parts)
    last = parts[-1]
    return parent.pop(int(last)) if isinstance(parent, list) else parent.pop(last)


# --- Elasticsearch settings in a nodeSet config (flat or nested YAML) ----------------------------


def get_setting(config: dict[str, Any] | None, dotted: str) -> Any:
    """The value of a setting whether the config spells it flat (`a.b.c: x`), nested
    (`a: {b: {c: x}}`) or mixed, as Elasticsearch's YAML loader accepts all three."""
    return _find(config or {}, dotted.split("."))


def _find(node: dict[str, Any], parts: list[str]) -> Any:
    for j in range(len(parts), 0, -1):
        key = ".".join(parts[:j])
        if key not in node:
            continue
        if j == len(parts):
            return node[key]
        if isinstance(node[key], dict):
            found = _find(node[key], parts[j:])
            if found is not None:
                return found
    return None


def set_setting(config: dict[str, Any] | None, dotted: str, value: Any) -> dict[str, Any]:
    """A copy of `config` with the setting set where it already lives, else inside the deepest
    existing parent map (so no duplicate flat+nested key is ever created); every other key
    stays as it was."""
    out = copy.deepcopy(config or {})
    _place(out, dotted.split("."), value)
    return out


def _place(node: dict[str, Any], parts: list[str], value: Any) -> None:
    for j in range(len(parts), 0, -1):
        key = ".".join(parts[:j])
        if key not in node:
            continue
        if j == len(parts):
            node[key] = value
            return
        if isinstance(node[key], dict):
            _place(node[key], parts[j:], value)
            return
    node[".".join(parts)] = value


# --- podTemplate volumes and mounts --------------------------------------------------------------


def pod_spec(node_set: dict[str, Any]) -> dict[str, Any]:
    return dict(node_set.get("podTemplate", {}).get("spec", {}) or {})


def volumes(node_set: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec(node_set).get("volumes", []) or [])


def containers(node_set: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec(node_set).get("containers", []) or [])


def es_container(node_set: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    for i, c in enumerate(containers(node_set)):
        if c.get("name") == ES_CONTAINER:
            return i, c
    return None


def volume_source(volume: dict[str, Any]) -> tuple[str, str] | None:
    """('ConfigMap'|'Secret', name) of a volume, when it is one of those."""
    if "configMap" in volume:
        return "ConfigMap", str(volume["configMap"].get("name", ""))
    if "secret" in volume:
        return "Secret", str(volume["secret"].get("secretName", ""))
    return None


def files_of_volume(volume: dict[str, Any], keys: list[str]) -> dict[str, str]:
    """file name inside the mount -> source key, as the kubelet projects it (items narrow it)."""
    src = volume.get("configMap") or volume.get("secret") or {}
    items = src.get("items")
    if items:
        return {str(i["path"]): str(i["key"]) for i in items if "key" in i and "path" in i}
    return {k: k for k in keys}


def _config_relative(mount_path: str) -> str | None:
    path = mount_path.rstrip("/")
    if path == ES_CONFIG_DIR:
        return ""
    if path.startswith(ES_CONFIG_DIR + "/"):
        return path[len(ES_CONFIG_DIR) + 1 :]
    return None


def free_name(wanted: str, taken: set[str]) -> str:
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def mount_ops(
    node_set_index: int, node_set: dict[str, Any], volume: dict[str, Any], mount: dict[str, Any]
) -> JsonPatch:
    """JSON patch ops that add one volume and its mount in the elasticsearch container,
    creating podTemplate/spec/volumes/containers/volumeMounts only where absent; existing
    entries are never replaced (appends use `-`)."""
    base = ("spec", "nodeSets", node_set_index)
    template = node_set.get("podTemplate")
    ops: JsonPatch = []
    if template is None:
        return [
            {
                "op": "add",
                "path": pointer(*base, "podTemplate"),
                "value": {
                    "spec": {
                        "volumes": [volume],
                        "containers": [{"name": ES_CONTAINER, "volumeMounts": [mount]}],
                    }
                },
            }
        ]
    if template.get("spec") is None:
        return [
            {
                "op": "add",
                "path": pointer(*base, "podTemplate", "spec"),
                "value": {
                    "volumes": [volume],
                    "containers": [{"name": ES_CONTAINER, "volumeMounts": [mount]}],
                },
            }
        ]
    spec_path = (*base, "podTemplate", "spec")
    spec = template["spec"]
    if spec.get("volumes") is None:
        ops.append({"op": "add", "path": pointer(*spec_path, "volumes"), "value": [volume]})
    else:
        ops.append({"op": "add", "path": pointer(*spec_path, "volumes", "-"), "value": volume})
    found = es_container(node_set)
    if spec.get("containers") is None:
        ops.append(
            {
                "op": "add",
                "path": pointer(*spec_path, "containers"),
                "value": [{"name": ES_CONTAINER, "volumeMounts": [mount]}],
            }
        )
    elif found is None:
        ops.append(
            {
                "op": "add",
                "path": pointer(*spec_path, "containers", "-"),
                "value": {"name": ES_CONTAINER, "volumeMounts": [mount]},
            }
        )
    elif found[1].get("volumeMounts") is None:
        ops.append(
            {
                "op": "add",
                "path": pointer(*spec_path, "containers", found[0], "volumeMounts"),
                "value": [mount],
            }
        )
    else:
        ops.append(
            {
                "op": "add",
                "path": pointer(*spec_path, "containers", found[0], "volumeMounts", "-"),
                "value": mount,
            }
        )
    return ops


# --- secureSettings -------------------------------------------------------------------------------


def secure_setting_names(es: dict[str, Any]) -> list[str]:
    return [str(s.get("secretName", "")) for s in es.get("spec", {}).get("secureSettings", []) or []]


def add_secure_setting_ops(es: dict[str, Any], secret_name: str) -> JsonPatch:
    """Append `{secretName}` to spec.secureSettings, keeping every existing entry."""
    if secret_name in secure_setting_names(es):
        return []
    if es.get("spec", {}).get("secureSettings") is None:
        return [{"op": "add", "path": "/spec/secureSettings", "value": [{"secretName": secret_name}]}]
    return [{"op": "add", "path": "/spec/secureSettings/-", "value": {"secretName": secret_name}}]


def _config_mounts(node_set: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """(mount, volume, config-relative base) of each elasticsearch container mount that a pod
    volume backs and that lands under the config directory: the only files ES settings can name."""
    found = es_container(node_set)
    if found is None:
        return []
    by_name = {v.get("name"): v for v in volumes(node_set)}
    mounts = []
    for mount in found[1].get("volumeMounts", []) or []:
        volume = by_name.get(mount.get("name"))
        base = _config_relative(str(mount.get("mountPath", "")))
        if volume is not None and base is not None:
            mounts.append((mount, volume, base))
    return mounts


def source_path(node_set: dict[str, Any], kind: str, name: str, key: str) -> str | None:
    """The config-relative path at which the elasticsearch container sees `key` of the given
    ConfigMap/Secret, if some mount already provides it."""
    for mount, volume, base in _config_mounts(node_set):
        if volume_source(volume) != (kind, name):
            continue
        sub = mount.get("subPath")
        for file_name, file_key in files_of_volume(volume, [key]).items():
            if file_key != key:
                continue
            if sub:
                if sub == file_name:
                    return base
                continue
            return f"{base}/{file_name}" if base else file_name
    return None
