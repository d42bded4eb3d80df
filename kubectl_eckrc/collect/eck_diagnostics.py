"""An eck-diagnostics archive read as a Snapshot, as far as its content allows.

eck-diagnostics (elastic/eck-diagnostics) stores, per namespace, `kubectl get -o json` lists
(`<ns>/elasticsearch.json`, `services.json`, `pods.json`, ...; `secrets.json` with metadata
only) and, per Elasticsearch, a support-diagnostics API bundle under
`<ns>/elasticsearch/<name>/` (`version.json` = GET /, `cluster_settings.json`,
`remote_cluster_info.json`, `licenses.json`, `nodes.json`, ...). What it does not hold
(secret contents, API keys, RBAC reviews, `_resolve/cluster`, a TLS handshake from the local
side) becomes `Unavailable(kind="offline")` with the reason, so the checks that need it are
"not evaluated: offline (...)" and never pass.
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import UTC, datetime
from typing import Any

from kubectl_eckrc import __version__, eck, links
from kubectl_eckrc.collect.archive import Archive
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.options import SideTarget
from kubectl_eckrc.snapshot import (
    SCHEMA_VERSION,
    EsState,
    Json,
    KubeState,
    Read,
    Side,
    Snapshot,
    TlsProbe,
    Unavailable,
)

SOURCE = "eck-diagnostics"
MANIFEST = "manifest.json"
NO_REMOTE = ("this eck-diagnostics archive was not given the remote side; pass --remote-namespace/"
             "--remote-es if it holds it, or --remote-bundle with the remote's archive")
NOT_CAPTURED = (
    "eck-diagnostics archive: no TLS handshake to proxy_address (TLS checks not evaluated)",
    "eck-diagnostics archive: Secrets are metadata only (no CA certificates, no credentials)",
    "eck-diagnostics archive: no cross-cluster API keys (_security/api_key is not collected)",
    "eck-diagnostics archive: no RBAC access reviews and no _resolve/cluster answers",
)


def offline(what: str, permission: str = "") -> Unavailable:
    return Unavailable(reason=f"offline: {what}", kind="offline", permission=permission)


def read_snapshot(archive: Archive, target: SideTarget | None, wanted: SideTarget | None,
                  alias: str | None = None) -> Snapshot:
    """The local side chosen by `target` (namespace / ES name); the remote side only when
    `wanted` names one (--remote-namespace / --remote-es) and this archive holds it."""
    candidates = elasticsearch_resources(archive)
    namespace, name = choose(archive.path, candidates, target, "-n/--namespace and --es")
    local = read_side(archive, namespace, name, "local", candidates)
    remote: Side | Unavailable = offline(NO_REMOTE, "--remote-bundle FILE")
    if wanted and (wanted.namespace or wanted.es_name):
        r_ns, r_name = choose(archive.path, candidates, wanted, "--remote-namespace and --remote-es")
        remote = read_side(archive, r_ns, r_name, "remote", candidates)
    snap = Snapshot(
        schema_version=SCHEMA_VERSION,
        taken_at=taken_at(archive),
        tool_version=__version__,
        source=SOURCE,
        local=local,
        remote=remote,
        aliases=[],
        notes=[f"read from eck-diagnostics archive {os.path.basename(archive.path)}", *NOT_CAPTURED],
    )
    aliases = [alias] if alias else links.configured_aliases(snap)
    probes: dict[str, TlsProbe | Unavailable] = {
        a: offline("the eck-diagnostics archive has no TLS handshake to the remote (run doctor live)")
        for a in aliases
    }
    local_side = local
    if isinstance(local.es, EsState):
        resolved: dict[str, Read[Json]] = {a: offline("eck-diagnostics does not call _resolve/cluster")
                                           for a in aliases}
        local_side = dataclasses.replace(local, es=dataclasses.replace(local.es, resolve_cluster=resolved))
    return dataclasses.replace(snap, local=local_side, aliases=aliases, probes=probes)


# --- choosing the Elasticsearch --------------------------------------------------------------


def elasticsearch_resources(archive: Archive) -> dict[tuple[str, str], dict[str, Any]]:
    """(namespace, name) -> the Elasticsearch object, for every `<ns>/elasticsearch.json`."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for member in archive.names:
        parts = member.split("/")
        if len(parts) != 2 or parts[1] != "elasticsearch.json":
            continue
        for item in _items(archive, member):
            meta = item.get("metadata") or {}
            found[(str(meta.get("namespace") or parts[0]), str(meta.get("name", "")))] = item
    return found


def choose(path: str, candidates: dict[tuple[str, str], Any], target: SideTarget | None,
           flags: str) -> tuple[str, str]:
    want_ns = target.namespace if target else None
    want_es = target.es_name if target else None
    matching = sorted(k for k in candidates
                      if (not want_ns or k[0] == want_ns) and (not want_es or k[1] == want_es))
    listing = ", ".join(f"{ns}/{name}" for ns, name in sorted(candidates)) or "none"
    if not candidates:
        raise UsageError(f"{path}: the eck-diagnostics archive holds no Elasticsearch resource")
    if not matching:
        wanted = f"{want_ns or '*'}/{want_es or '*'}"
        raise UsageError(f"{path}: no Elasticsearch {wanted} in the archive; it holds: {listing}")
    if len(matching) > 1:
        choices = ", ".join(f"{ns}/{name}" for ns, name in matching)
        raise UsageError(f"{path}: several Elasticsearch resources match ({choices}); choose with {flags}")
    return matching[0]


# --- one side ----------------------------------------------------------------------------------


def read_side(archive: Archive, namespace: str, name: str, role: str,
              candidates: dict[tuple[str, str], dict[str, Any]]) -> Side:
    es_obj = dict(candidates[(namespace, name)])
    (es_obj.get("metadata") or {}).pop("managedFields", None)
    kube = KubeState(
        server_version=_server_version(archive),
        crd=_crd_summary(archive, namespace, es_obj),
        elasticsearch=es_obj,
        elasticsearch_names=sorted(n for ns, n in candidates if ns == namespace),
        services=_list(archive, namespace, "services"),
        endpoints=_list(archive, namespace, "endpoints"),
        pods=_of_cluster(_list(archive, namespace, "pods"), name),
        statefulsets=_of_cluster(_list(archive, namespace, "statefulsets"), name),
        configmaps=_configmaps(archive, namespace, es_obj),
        secrets=_secrets(archive, namespace, name, es_obj),
        events=_events(_list(archive, namespace, "events"), name),
        access=[],
    )
    return Side(role=role, context="", namespace=namespace, es_name=name, kube=kube,
                es=_es_state(archive, namespace, name))


def _items(archive: Archive, member: str) -> list[dict[str, Any]]:
    doc = archive.read_json(member)
    items = doc.get("items") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise UsageError(f"{archive.path}: {member} is not a Kubernetes list")
    return [i for i in items if isinstance(i, dict)]


def _list(archive: Archive, namespace: str, resource: str) -> list[dict[str, Any]] | Unavailable:
    member = f"{namespace}/{resource}.json"
    if not archive.has(member):
        return offline(f"the eck-diagnostics archive has no {member}")
    items = _items(archive, member)
    for item in items:
        (item.get("metadata") or {}).pop("managedFields", None)
    return items


def _of_cluster(objects: Any, name: str) -> Any:
    if isinstance(objects, Unavailable):
        return objects
    return [o for o in objects if _labels(o).get(eck.CLUSTER_NAME_LABEL) == name]


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _events(objects: Any, name: str) -> Any:
    if isinstance(objects, Unavailable):
        return objects
    return [e for e in objects if (e.get("involvedObject") or {}).get("name") == name
            and (e.get("involvedObject") or {}).get("kind") in ("Elasticsearch", None)]


def _server_version(archive: Archive) -> Any:
    if not archive.has("version.json"):
        return offline("the eck-diagnostics archive has no version.json")
    doc = archive.read_json("version.json")
    server = doc.get("serverVersion") if isinstance(doc, dict) else None
    return server if isinstance(server, dict) else offline("version.json has no serverVersion")


def _crd_summary(archive: Archive, namespace: str, es_obj: dict[str, Any]) -> dict[str, Any]:
    """eck-diagnostics does not store the CRD. The Elasticsearch objects prove it is served; the
    operator version (operators.json, else the resource's controller-version annotation) tells
    whether the schema has `remoteClusterServer.service` (ECK >= 3.3)."""
    version = _operator_version(archive, namespace) or eck.annotations_of(es_obj).get(
        eck.CONTROLLER_VERSION_ANNOTATION, "")
    api_version = str(es_obj.get("apiVersion", "elasticsearch.k8s.elastic.co/v1"))
    parsed = eck.parse_version(version)
    has_service = parsed is not None and parsed >= (3, 3, 0)
    return {"served_versions": [api_version.rpartition("/")[2]],
            "has_rcs_service": has_service,
            "eck_version": version, "inferred_from": "eck-diagnostics archive"}


def _operator_version(archive: Archive, namespace: str) -> str:
    if not archive.has("operators.json"):
        return ""
    operators = archive.read_json("operators.json")
    if not isinstance(operators, list):
        return ""
    for op in operators:
        managed = (op.get("managed_namespaces") or {}) if isinstance(op, dict) else {}
        names = [*(managed.get("static") or []), *(managed.get("selector") or [])]
        if isinstance(op, dict) and (managed.get("all") or namespace in names):
            return str(op.get("version", ""))
    first = operators[0] if operators and isinstance(operators[0], dict) else {}
    return str(first.get("version", ""))


def _configmaps(archive: Archive, namespace: str, es_obj: dict[str, Any]) -> Any:
    listed = _list(archive, namespace, "configmaps")
    if isinstance(listed, Unavailable):
        return listed
    present = {eck.name_of(cm): cm for cm in listed}
    maps, _ = referenced_names(es_obj)
    return {n: present.get(n) or _absent("ConfigMap", namespace, n, "configmaps") for n in sorted(maps)}


def _absent(kind: str, namespace: str, name: str, resource: str) -> Unavailable:
    # Worded like the live collector's 404 so that checks and readers see the same thing.
    return Unavailable(f"404 Not Found: {kind} {namespace}/{name} (absent from the eck-diagnostics "
                       f"{resource}.json)", "not-found")


def referenced_names(es_obj: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(ConfigMaps, Secrets) the resource mounts or names: the same set live collection reads."""
    maps = {eck.transport_ca_configmap(es_obj)}
    secrets = {s.secret_name for s in eck.secure_settings(es_obj)}
    for nodeset in eck.nodesets(es_obj):
        for volume in eck.volumes(nodeset):
            maps.add(str((volume.get("configMap") or {}).get("name", "")))
            secrets.add(str((volume.get("secret") or {}).get("secretName", "")))
            for source in (volume.get("projected") or {}).get("sources") or []:
                maps.add(str((source.get("configMap") or {}).get("name", "")))
                secrets.add(str((source.get("secret") or {}).get("name", "")))
    return {n for n in maps if n}, {n for n in secrets if n}


ECK_SECRETS = eck.ECK_SECRET_SUFFIXES


def _secrets(archive: Archive, namespace: str, name: str, es_obj: dict[str, Any]) -> Any:
    listed = _list(archive, namespace, "secrets")
    if isinstance(listed, Unavailable):
        return listed
    present = {eck.name_of(s) for s in listed}
    _, wanted = referenced_names(es_obj)
    wanted |= {f"{name}-{suffix}" for suffix in ECK_SECRETS}
    result: dict[str, Unavailable] = {}
    for secret in sorted(wanted):
        if secret in present:
            result[secret] = offline(f"eck-diagnostics keeps only the metadata of Secret "
                                     f"{namespace}/{secret}")
        else:
            result[secret] = _absent("Secret", namespace, secret, "secrets")
    return result


# --- the Elasticsearch API bundle --------------------------------------------------------------


def _es_state(archive: Archive, namespace: str, name: str) -> EsState | Unavailable:
    base = f"{namespace}/elasticsearch/{name}/"
    if not any(n.startswith(base) for n in archive.names):
        return offline(f"the eck-diagnostics archive has no Elasticsearch API diagnostics for "
                       f"{namespace}/{name} (the support-diagnostics job did not run or failed)")

    def api(file: str) -> Any:
        return _api_answer(archive, base + file)

    nodes = api("nodes.json")
    return EsState(
        endpoint=f"eck-diagnostics archive {os.path.basename(archive.path)}: {base}",
        info=api("version.json"),
        health=api("cluster_health.json"),
        license=api("licenses.json"),
        settings=api("cluster_settings.json"),
        node_settings=nodes if isinstance(nodes, Unavailable) else node_settings(nodes),
        remote_info=api("remote_cluster_info.json"),
        resolve_cluster={},
        api_keys={},
        roles=api("commercial/security_roles.json"),
    )


def _api_answer(archive: Archive, member: str) -> Any:
    if not archive.has(member):
        return offline(f"the eck-diagnostics archive has no {member}")
    doc = archive.read_json(member)
    if isinstance(doc, dict) and "error" in doc and "status" in doc:
        error = doc["error"]
        detail = error.get("reason") or error.get("type") if isinstance(error, dict) else error
        return offline(f"{member} holds an error answer (status {doc['status']}: {detail})")
    return doc


def node_settings(nodes: Any) -> Any:
    """GET _nodes?human (nested settings) reshaped like GET _nodes/settings?flat_settings=true."""
    if not isinstance(nodes, dict) or not isinstance(nodes.get("nodes"), dict):
        return offline("nodes.json is not a _nodes answer")
    keep = ("name", "transport_address", "host", "ip", "version", "roles", "attributes")
    reshaped = {
        node_id: {**{k: node[k] for k in keep if k in node},
                  "settings": eck.flatten(node.get("settings") or {})}
        for node_id, node in nodes["nodes"].items() if isinstance(node, dict)
    }
    return {k: v for k, v in nodes.items() if k != "nodes"} | {"nodes": reshaped}


# --- when ------------------------------------------------------------------------------------


_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def taken_at(archive: Archive) -> str:
    """manifest.json collectionDate in UTC; else the newest member timestamp."""
    if archive.has(MANIFEST):
        doc = archive.read_json(MANIFEST)
        stamp = doc.get("collectionDate") if isinstance(doc, dict) else None
        parsed = parse_time(str(stamp)) if stamp else None
        if parsed:
            return parsed
    return max(archive.dates.values(), default="1970-01-01T00:00:00Z")


def parse_time(text: str) -> str | None:
    match = _ISO.match(text.strip())
    if not match:
        return None
    zone = match[2] or "Z"
    moment = datetime.fromisoformat(match[1] + ("+00:00" if zone == "Z" else zone))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
