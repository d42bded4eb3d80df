"""Builds eck-diagnostics archives in the documented layout (docs/bundle.md, section
"eck-diagnostics"), from Kubernetes object lists and Elasticsearch API answers.

Used with hand-built snapshots (test_eck_diagnostics.py) and with objects read from the twin
(test_collect_live.py). Secrets are written the way eck-diagnostics writes them: metadata only.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESOURCES = ("elasticsearch", "services", "endpoints", "pods", "statefulsets", "configmaps", "events")


@dataclass
class NamespaceDump:
    """What eck-diagnostics writes for one namespace and one Elasticsearch in it."""

    namespace: str
    lists: dict[str, list[dict[str, Any]]]  # resource file name (without .json) -> items
    secrets: list[dict[str, Any]]  # full Secret objects; reduced to metadata when written
    es_name: str = ""
    api: dict[str, Any] = field(default_factory=dict)  # file under elasticsearch/<name>/ -> answer


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """Flat settings -> the nested form `GET _nodes?human` prints."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


def nodes_answer(node_settings: dict[str, Any]) -> dict[str, Any]:
    """GET _nodes?human from GET _nodes/settings?flat_settings=true."""
    nodes = {
        node_id: {**{k: v for k, v in node.items() if k != "settings"},
                  "settings": unflatten(node.get("settings") or {}), "jvm": {"pid": 1}}
        for node_id, node in (node_settings.get("nodes") or {}).items()
    }
    return {**{k: v for k, v in node_settings.items() if k != "nodes"}, "nodes": nodes}


def metadata_only(secret: dict[str, Any]) -> dict[str, Any]:
    meta = dict(secret.get("metadata") or {})
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": meta}


def write_archive(path: Path, dumps: list[NamespaceDump], *, manifest: bool = True,
                  collection_date: str = "2026-06-01T00:00:00.123456789Z",
                  operator_version: str = "3.2.0", server_version: dict[str, Any] | None = None) -> Path:
    server = server_version or {"gitVersion": "v1.31.0", "major": "1", "minor": "31"}
    files: dict[str, Any] = {
        "version.json": {"clientVersion": {"gitVersion": "v1.31.0"}, "serverVersion": server},
        "operators.json": [{"namespace": "elastic-system", "version": operator_version,
                            "managed_namespaces": {"all": True}, "install_method": "yaml"}],
        "elastic-system/pods.json": {"kind": "List", "items": []},
    }
    included = []
    for dump in dumps:
        ns = dump.namespace
        for resource, items in dump.lists.items():
            files.setdefault(f"{ns}/{resource}.json", {"apiVersion": "v1", "kind": "List", "items": []})
            files[f"{ns}/{resource}.json"]["items"].extend(items)
        secrets = files.setdefault(f"{ns}/secrets.json", {"apiVersion": "v1", "kind": "List", "items": []})
        secrets["items"].extend(metadata_only(s) for s in dump.secrets)
        for name, answer in dump.api.items():
            files[f"{ns}/elasticsearch/{dump.es_name}/{name}"] = answer
        if dump.api:
            included.append({"diagType": "api", "diagPath": f"{ns}/elasticsearch/{dump.es_name}"})
    if manifest:
        files["manifest.json"] = {"diagType": "eck-diagnostics", "diagVersion": "1.9.0",
                                  "collectionDate": collection_date, "includedDiagnostics": included}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, json.dumps(content, indent=1))
        zf.writestr("eck-diagnostics.log", "diagnostics collected\n")
    return path
