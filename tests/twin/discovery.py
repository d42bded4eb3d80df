"""Discovery documents of the API twin (/version, /api, /apis, group-version resource lists).

Served legacy-style (plain APIGroupList / APIResourceList with Content-Type application/json),
as a server without aggregated discovery answers: kubectl then falls back to per-group lists.
"""

from __future__ import annotations

from typing import Any

from tests.twin.kube_resources import ResourceType

KUBE_VERSION = ("1", "30", "v1.30.5")


def version_info() -> dict[str, Any]:
    major, minor, git_version = KUBE_VERSION
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "74e84a90c725047b1328ff3d589fedb1cb7a120e",
        "gitTreeState": "clean",
        "buildDate": "2024-09-12T00:11:04Z",
        "goVersion": "go1.22.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_entry(group: str, version: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{group}/{version}", "version": version}
    return {"name": group, "versions": [gv], "preferredVersion": gv}


def api_group_list(served: list[ResourceType]) -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    for rt in served:
        if rt.group and all(g["name"] != rt.group for g in groups):
            groups.append(_group_entry(rt.group, rt.version))
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str, served: list[ResourceType]) -> dict[str, Any] | None:
    for rt in served:
        if rt.group == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(rt.group, rt.version)}
    return None


def _resource_entries(rt: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    entries = [entry]
    for sub, verbs in rt.subresources:
        entries.append({"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                        "kind": rt.kind, "verbs": list(verbs)})
    return entries


def resource_list(group: str, version: str, served: list[ResourceType]) -> dict[str, Any] | None:
    types = [rt for rt in served if rt.group == group and rt.version == version]
    if not types:
        return None
    resources = [e for rt in types for e in _resource_entries(rt)]
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_root(served: list[ResourceType]) -> dict[str, Any]:
    """The /openapi/v3 index: one document per group-version, addressed by a hashed URL."""
    paths: dict[str, Any] = {}
    for rt in served:
        gv_path = _gv_path(rt.group, rt.version)
        paths[gv_path] = {"serverRelativeURL": f"/openapi/v3/{gv_path}?hash={KUBE_VERSION[2]}"}
    return {"paths": paths}


def _patch_path(rt: ResourceType) -> str:
    prefix = "/" + _gv_path(rt.group, rt.version)
    scope = "/namespaces/{namespace}" if rt.namespaced else ""
    return f"{prefix}{scope}/{rt.plural}/{{name}}"


def openapi_v3_document(group: str, version: str, served: list[ResourceType]) -> dict[str, Any] | None:
    """A minimal OpenAPI v3 document for one group-version: only the PATCH operations and their
    query parameters, which is what kubectl reads to learn that the server validates fields
    itself (`fieldValidation`), so that it skips client-side schema validation."""
    types = [rt for rt in served if (rt.group, rt.version) == (group, version) and "patch" in rt.verbs]
    if not any((rt.group, rt.version) == (group, version) for rt in served):
        return None
    parameters = [{"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
                  for name in ("dryRun", "fieldManager", "fieldValidation", "force")]
    paths: dict[str, Any] = {}
    for rt in types:
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        paths[_patch_path(rt)] = {
            "patch": {"operationId": f"patch{rt.kind}", "x-kubernetes-action": "patch",
                      "parameters": parameters, "x-kubernetes-group-version-kind": gvk,
                      "responses": {"200": {"description": "OK"}}},
        }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": KUBE_VERSION[2]}, "paths": paths,
            "components": {"schemas": {}}}
