"""One side's Kubernetes reads, turned into a `KubeState`.

Which objects matter follows from the Elasticsearch resource (domain.md §1): the ECK public
secrets, every ConfigMap/Secret a nodeSet mounts, the secure-settings secrets and the
certificate-model ConfigMap. Reads run concurrently; each failure is kept as Unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from kubectl_eckrc import eck
from kubectl_eckrc.collect.failures import attempt, parallel
from kubectl_eckrc.collect.kube import CLUSTER_LABEL, ES_GROUP, KubeClient, KubeUnavailable
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.snapshot import AccessReview, Json, KubeState, Read, Unavailable

# (verb, resource, group, subresource): every read doctor makes in the ES namespace.
NAMESPACED_READS = (
    ("get", "elasticsearches", ES_GROUP, ""),
    ("list", "elasticsearches", ES_GROUP, ""),
    ("list", "services", "", ""),
    ("list", "endpoints", "", ""),
    ("list", "pods", "", ""),
    ("list", "statefulsets", "apps", ""),
    ("list", "events", "", ""),
    ("get", "configmaps", "", ""),
    ("get", "secrets", "", ""),
    ("create", "pods", "", "portforward"),
)
CLUSTER_READS = (("get", "customresourcedefinitions", "apiextensions.k8s.io", ""),)
ECK_SECRETS = eck.ECK_SECRET_SUFFIXES


def _parallel(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Kube reads run in a pool of their own, nested inside the side-level one."""
    return parallel(calls, max_workers=12, thread_name="eckrc-kube")


def _resource_name(resource: str, group: str, subresource: str) -> str:
    name = f"{resource}.{group}" if group else resource
    return f"{name}/{subresource}" if subresource else name


def access_reviews(kube: KubeClient, namespace: str, side: str) -> list[AccessReview]:
    reads = [(v, r, g, s, namespace) for v, r, g, s in NAMESPACED_READS]
    reads += [(v, r, g, s, "") for v, r, g, s in CLUSTER_READS]
    calls: dict[str, Callable[[], Any]] = {
        str(i): partial(kube.can_i, v, r, n, g, s) for i, (v, r, g, s, n) in enumerate(reads)
    }
    answers = _parallel(calls)
    reviews = []
    for i, (verb, resource, group, sub, ns) in enumerate(reads):
        allowed = answers[str(i)]
        if isinstance(allowed, bool):
            reviews.append(AccessReview(verb, _resource_name(resource, group, sub), ns, allowed, side))
    return reviews


def _found_elsewhere(kube: KubeClient) -> str:
    """Where Elasticsearch resources are, for the error that says the namespace has none."""
    try:
        found = kube.elasticsearch_everywhere()
    except KubeUnavailable:
        return ""  # listing across namespaces is not allowed: the error stays as it is
    shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
    return f" (found in this context: {shown})" if found else " (none in any namespace of this context)"


def _pick_es(kube: KubeClient, names: Read[list[str]], wanted: str | None, namespace: str, context: str,
             flag: str) -> str:
    if isinstance(names, Unavailable):
        return wanted or ""
    where = f"namespace {namespace} of context {context}"
    if wanted:
        if wanted not in names:
            found = ", ".join(names) or "none"
            raise UsageError(f"Elasticsearch {wanted!r} not found in {where} (found: {found})")
        return wanted
    if len(names) == 1:
        return str(names[0])
    if not names:
        raise UsageError(f"no Elasticsearch resource in {where}{_found_elsewhere(kube)}; "
                         f"pass --{flag}namespace")
    listed = ", ".join(names)
    raise UsageError(f"{where} holds several Elasticsearch resources ({listed}); pass --{flag}es NAME")


def read_state(kube: KubeClient, side: str, context: str, namespace: str,
               wanted: str | None) -> tuple[KubeState | Unavailable, str]:
    """(state, es_name). A Kubernetes API that cannot be reached at all is one Unavailable."""
    state, es_name = read_core(kube, side, context, namespace, wanted)
    if isinstance(state, KubeState) and es_name:
        state = read_references(kube, namespace, es_name, state)
    return state, es_name


def read_core(kube: KubeClient, side: str, context: str, namespace: str,
              wanted: str | None) -> tuple[KubeState | Unavailable, str]:
    """Everything but the referenced ConfigMaps/Secrets (those wait for `read_references`):
    enough to open the Elasticsearch client while they are read."""
    first = _parallel({"version": kube.server_version, "names": lambda: kube.elasticsearch_names(namespace),
                       "crd": kube.crd_summary})
    version = first["version"]
    if isinstance(version, Unavailable) and version.kind in ("timeout", "unreachable"):
        return version, wanted or ""
    flag = "remote-" if side == "remote" else ""
    es_name = _pick_es(kube, first["names"], wanted, namespace, context, flag)
    missing = Unavailable("the Elasticsearch resource name is unknown", "error", "pass --es NAME")
    reads = _parallel(_object_reads(kube, namespace, es_name, side) if es_name else {
        "access": lambda: access_reviews(kube, namespace, side)})
    pending = missing if not es_name else Unavailable("not read yet", "error")
    return KubeState(
        server_version=version,
        crd=first["crd"],
        elasticsearch=reads.get("elasticsearch", missing),
        elasticsearch_names=first["names"],
        services=reads.get("services", missing),
        endpoints=reads.get("endpoints", missing),
        pods=reads.get("pods", missing),
        statefulsets=reads.get("statefulsets", missing),
        configmaps=pending,
        secrets=pending,
        events=reads.get("events", missing),
        access=reads["access"] if isinstance(reads["access"], list) else [],
        nodes=reads.get("nodes"),
    ), es_name


def read_references(kube: KubeClient, namespace: str, es_name: str, state: KubeState) -> KubeState:
    refs = _referenced(kube, namespace, es_name, state.elasticsearch)
    return replace(state, configmaps=refs["configmaps"], secrets=refs["secrets"])


def _object_reads(kube: KubeClient, ns: str, es: str, side: str) -> dict[str, Callable[[], Any]]:
    selector = f"{CLUSTER_LABEL}={es}"
    # Node addresses only matter where 9443 may be exposed as a NodePort: the remote side.
    nodes: dict[str, Callable[[], Any]] = {"nodes": kube.nodes} if side == "remote" else {}
    return {
        **nodes,
        "elasticsearch": lambda: kube.elasticsearch(ns, es),
        "services": lambda: kube.core_list("services", ns),
        "endpoints": lambda: kube.core_list("endpoints", ns),
        "pods": lambda: kube.core_list("pods", ns, selector),
        "statefulsets": lambda: kube.core_list("statefulsets", ns, selector, "/apis/apps/v1"),
        "events": lambda: _events(kube, ns, es),
        "access": lambda: access_reviews(kube, ns, side),
    }


def _events(kube: KubeClient, ns: str, es: str) -> list[dict[str, Any]]:
    items = kube.core_list("events", ns)
    return [e for e in items if (e.get("involvedObject") or {}).get("name") == es
            and (e.get("involvedObject") or {}).get("kind") in ("Elasticsearch", None)]


def _referenced(kube: KubeClient, ns: str, es: str, es_obj: Read[Json]) -> dict[str, Read[Any]]:
    if isinstance(es_obj, Unavailable):
        why = Unavailable(f"not read: {es_obj.reason}", es_obj.kind, es_obj.permission)
        secrets_only: dict[str, Callable[[], Any]] = {
            f"{es}-{s}": partial(kube.secret_summary, ns, f"{es}-{s}") for s in ECK_SECRETS}
        return {"configmaps": why, "secrets": _parallel(secrets_only)}
    maps, secrets = referenced_names(es_obj)
    secrets.update(f"{es}-{s}" for s in ECK_SECRETS)
    calls: dict[str, Callable[[], Any]] = {f"cm/{n}": partial(kube.configmap, ns, n) for n in maps}
    credentials = eck.credential_keys(es_obj)
    calls.update({f"s/{n}": partial(kube.secret_summary, ns, n, credentials.get(n, frozenset()))
                  for n in secrets})
    got = _parallel(calls)
    return {
        "configmaps": {n: got[f"cm/{n}"] for n in sorted(maps)},
        "secrets": {n: got[f"s/{n}"] for n in sorted(secrets)},
    }


# --- what the Elasticsearch resource references -----------------------------------------------


def _spec(es_obj: Any) -> dict[str, Any]:
    return dict(es_obj.get("spec") or {}) if isinstance(es_obj, dict) else {}


def _volumes(node_set: dict[str, Any]) -> list[dict[str, Any]]:
    pod_spec = ((node_set.get("podTemplate") or {}).get("spec")) or {}
    return list(pod_spec.get("volumes") or [])


def referenced_names(es_obj: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(configmap names, secret names) the resource mounts or names."""
    spec = _spec(es_obj)
    maps: set[str] = set()
    secrets = set(secure_settings_names(es_obj))
    ca_map = (((spec.get("transport") or {}).get("tls") or {}).get("certificateAuthorities") or {}).get(
        "configMapName")
    if ca_map:
        maps.add(str(ca_map))
    for node_set in spec.get("nodeSets") or []:
        for volume in _volumes(node_set):
            _volume_refs(volume, maps, secrets)
    return maps, secrets


def _volume_refs(volume: dict[str, Any], maps: set[str], secrets: set[str]) -> None:
    if (volume.get("configMap") or {}).get("name"):
        maps.add(str(volume["configMap"]["name"]))
    if (volume.get("secret") or {}).get("secretName"):
        secrets.add(str(volume["secret"]["secretName"]))
    for source in (volume.get("projected") or {}).get("sources") or []:
        if (source.get("configMap") or {}).get("name"):
            maps.add(str(source["configMap"]["name"]))
        if (source.get("secret") or {}).get("name"):
            secrets.add(str(source["secret"]["name"]))


def secure_settings_names(es_obj: Read[Json]) -> list[str]:
    entries = _spec(es_obj).get("secureSettings") or []
    return [str(s.get("secretName")) for s in entries if s.get("secretName")]


def nodeset_config(es_obj: Read[Json]) -> dict[str, Any]:
    """Every nodeSet's config merged (first nodeSet wins on a conflicting key)."""
    merged: dict[str, Any] = {}
    for node_set in reversed(_spec(es_obj).get("nodeSets") or []):
        merged.update(eck.flatten(node_set.get("config") or {}))
    return merged


def http_tls_disabled(es_obj: Read[Json]) -> bool:
    tls = ((_spec(es_obj).get("http") or {}).get("tls") or {}).get("selfSignedCertificate") or {}
    return bool(tls.get("disabled"))


def http_ca(kube: KubeClient, namespace: str, es: str) -> str | None | Unavailable:
    return attempt(lambda: kube.public_text(namespace, f"{es}-es-http-certs-public", ("ca.crt", "tls.crt")))


NO_READY_POD = "no ready Elasticsearch pod to port-forward to"


def ready_pod(pods: Read[list[Json]]) -> str | Unavailable:
    if isinstance(pods, Unavailable):
        return Unavailable(f"cannot pick a pod to port-forward to: {pods.reason}", pods.kind, pods.permission)
    ready = sorted(str(p["metadata"]["name"]) for p in pods if eck.is_ready(p))
    if not ready:
        return Unavailable(NO_READY_POD, "unreachable", "--es-url URL")
    return ready[0]
