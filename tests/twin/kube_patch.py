"""The patch algorithms of the API server: JSON merge patch (RFC 7386), JSON patch (RFC 6902)
and a strategic merge patch for the core kinds (merge keys of the well-known lists)."""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from tests.twin.kube_errors import BadRequest, patch_rejected

# list field -> merge key, as the core types declare with `patchMergeKey`.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "env": "name",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "volumeClaimTemplates": "metadata",  # replaced as a whole below (no scalar key)
}
# Lists of scalars that strategic merge treats as sets.
MERGED_SCALAR_LISTS = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_body(is_yaml: bool, body: Any) -> Any:
    """A patch body as sent (bytes/str) or already parsed."""
    if not isinstance(body, (bytes, str)):
        return copy.deepcopy(body)
    try:
        return yaml.safe_load(body) if is_yaml else json.loads(body)
    except ValueError as exc:
        raise BadRequest(f"error decoding patch: {exc}") from exc
    except yaml.YAMLError as exc:
        raise BadRequest(f"error decoding YAML: {exc}") from exc


# ---- RFC 6902 -------------------------------------------------------------------------------

def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise patch_rejected()
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise patch_rejected()
    index = int(token)
    if index > len(container) or (index == len(container) and not allow_end):
        raise patch_rejected()
    return index


def _parent(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, allow_end=False)]
        else:
            raise patch_rejected()
    return node


def _get(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise patch_rejected()
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, allow_end=False)]
    raise patch_rejected()


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tokens[-1], allow_end=True), value)
    else:
        raise patch_rejected()
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise patch_rejected()
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise patch_rejected()
        del parent[tokens[-1]]
    elif isinstance(parent, list):
        del parent[_index(parent, tokens[-1], allow_end=False)]
    else:
        raise patch_rejected()
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 (add, remove, replace, move, copy, test); a failing operation is a 422."""
    if not isinstance(operations, list):
        raise BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op:
            raise BadRequest("Unexpected kind: <nil>")
        kind, tokens = op["op"], _pointer(str(op.get("path", "")))
        if kind == "add":
            doc = _add(doc, tokens, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, tokens)
        elif kind == "replace":
            _get(doc, tokens)
            value = copy.deepcopy(op.get("value"))
            doc = _add(_remove(doc, tokens), tokens, value) if tokens else value
        elif kind in ("move", "copy"):
            source = _pointer(str(op.get("from", "")))
            value = copy.deepcopy(_get(doc, source))
            if kind == "move":
                doc = _remove(doc, source)
            doc = _add(doc, tokens, value)
        elif kind == "test":
            if _get(doc, tokens) != op.get("value"):
                raise patch_rejected()
        else:
            raise BadRequest(f"Unexpected kind: {kind}")
    return doc


# ---- strategic merge patch ------------------------------------------------------------------

def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    key = MERGE_KEYS.get(field)
    return key if key and key != "metadata" else None


def _merge_list(field: str, original: list[Any], patch: list[Any]) -> list[Any]:
    if field in MERGED_SCALAR_LISTS:
        return list(original) + [v for v in patch if v not in original]
    key = _merge_key(field, list(original) + list(patch))
    if key is None:
        return [v for v in copy.deepcopy(patch) if not (isinstance(v, dict) and "$patch" in v)]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [i for i in copy.deepcopy(patch) if not (isinstance(i, dict) and "$patch" in i)]
    result = copy.deepcopy(original)
    for item in patch:
        if not isinstance(item, dict):
            continue
        matches = [n for n, o in enumerate(result) if isinstance(o, dict) and o.get(key) == item.get(key)]
        position = matches[0] if matches else None
        if item.get("$patch") == "delete":
            if position is not None:
                del result[position]
        elif position is None:
            result.append(strategic_merge({}, item))
        else:
            result[position] = strategic_merge(result[position], item)
    return result


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge patch as the core kinds declare it: keyed lists merge item by item
    (`$patch: delete` removes one), other lists are replaced, `null` deletes a field,
    `$patch: replace` on a map replaces it, `$setElementOrder`/`$retainKeys` are accepted."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return {}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field, []) if v not in value]
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        elif isinstance(value, list):
            result[key] = _merge_list(key, [], value)
        else:
            result[key] = strategic_merge(result.get(key), value)
    return result
