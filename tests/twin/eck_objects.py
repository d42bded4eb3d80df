"""The Kubernetes objects the simulated ECK operator writes, built as plain dicts without I/O."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

from tests.twin.eck_config import (
    CLUSTER_LABEL,
    CONFIG_HASH,
    NODESET_LABEL,
    STS_LABEL,
    TYPE_LABEL,
    Names,
    encode_secret_data,
    es_container,
    pod_template_spec,
)

REVISION_LABEL = "controller-revision-hash"
ES_KIND = {"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch"}


def es_labels(es: str) -> dict[str, str]:
    return {CLUSTER_LABEL: es, TYPE_LABEL: "elasticsearch"}


def owner_ref(es_obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = es_obj["metadata"]
    return {**ES_KIND, "name": meta["name"], "uid": meta.get("uid", ""), "controller": True,
            "blockOwnerDeletion": True}


def _meta(names: Names, name: str, es_obj: Mapping[str, Any], labels: Mapping[str, str] | None = None
          ) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": names.namespace,
        "labels": {**es_labels(names.es), **(labels or {})},
        "ownerReferences": [owner_ref(es_obj)],
    }


def secret(names: Names, name: str, es_obj: Mapping[str, Any], data: Mapping[str, str],
           labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": _meta(names, name, es_obj, labels), "data": encode_secret_data(data)}


def _service_ports(name: str, port: int) -> list[dict[str, Any]]:
    return [{"name": name, "port": port, "protocol": "TCP", "targetPort": port}]


def service(names: Names, suffix: str, es_obj: Mapping[str, Any], port_name: str, port: int,
            headless: bool, template: Mapping[str, Any] | None = None,
            publish_not_ready: bool = False) -> dict[str, Any]:
    """A Service as ECK builds it: defaults, then the user's service template merged over them.
    `publish_not_ready` is set after the template (ECK forces it on the transport and remote
    cluster Services: nodes must reach each other before they are ready)."""
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "ports": _service_ports(port_name, port),
        "selector": es_labels(names.es),
        "publishNotReadyAddresses": False,
    }
    if headless:
        spec["clusterIP"] = "None"
    user = dict((template or {}).get("spec") or {})
    if user:
        spec.update(copy.deepcopy(user))
        if spec.get("type", "ClusterIP") != "ClusterIP":
            spec.pop("clusterIP", None)
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Service",
           "metadata": _meta(names, names.svc(suffix), es_obj), "spec": spec}
    user_meta = (template or {}).get("metadata") or {}
    obj["metadata"]["labels"].update(user_meta.get("labels") or {})
    if user_meta.get("annotations"):
        obj["metadata"]["annotations"] = dict(user_meta["annotations"])
    return obj


def headless_service(names: Names, es_obj: Mapping[str, Any], nodeset: str, rcs: bool) -> dict[str, Any]:
    """The per-nodeSet headless Service `<es>-es-<nodeset>` (the StatefulSet's serviceName): 9200,
    plus 9443 while the remote cluster server is enabled, not-ready pods published."""
    sts_name = names.sts(nodeset)
    ports = _service_ports("https", 9200) + (_service_ports("rcs", 9443) if rcs else [])
    selector = {CLUSTER_LABEL: names.es, STS_LABEL: sts_name}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": _meta(names, sts_name, es_obj, {STS_LABEL: sts_name}),
            "spec": {"type": "ClusterIP", "clusterIP": "None", "ports": ports, "selector": selector,
                     "publishNotReadyAddresses": True}}


def statefulset(names: Names, es_obj: Mapping[str, Any], node_set: Mapping[str, Any], replicas: int,
                config_hash: str, revision: str) -> dict[str, Any]:
    nodeset = str(node_set["name"])
    sts_name = names.sts(nodeset)
    pod_labels = {**es_labels(names.es), STS_LABEL: sts_name, NODESET_LABEL: nodeset}
    template = pod_template_spec(node_set)
    containers = [c for c in template.get("containers") or [] if c.get("name") != "elasticsearch"]
    containers.insert(0, {**es_container(node_set), "image": _image(es_obj),
                          "ports": [{"containerPort": 9200, "name": "https"},
                                    {"containerPort": 9300, "name": "transport"}]})
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": _meta(names, sts_name, es_obj, {STS_LABEL: sts_name}),
        "spec": {
            "replicas": replicas,
            "serviceName": sts_name,
            "selector": {"matchLabels": {CLUSTER_LABEL: names.es, STS_LABEL: sts_name}},
            "updateStrategy": {"type": "OnDelete"},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": {CONFIG_HASH: config_hash}},
                "spec": {**template, "containers": containers},
            },
        },
        "status": {"replicas": replicas, "updateRevision": revision},
    }


def _image(es_obj: Mapping[str, Any]) -> str:
    spec = es_obj.get("spec") or {}
    return str(spec.get("image") or f"docker.elastic.co/elasticsearch/elasticsearch:{spec.get('version')}")


def pod(names: Names, sts: Mapping[str, Any], index: int, ip: str, config_hash: str, revision: str,
        started: str) -> dict[str, Any]:
    template = sts["spec"]["template"]
    name = f"{sts['metadata']['name']}-{index}"
    labels = {**template["metadata"]["labels"], REVISION_LABEL: revision,
              "statefulset.kubernetes.io/pod-name": name}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": names.namespace, "labels": labels,
            "annotations": {CONFIG_HASH: config_hash},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "uid": "",
                                 "name": sts["metadata"]["name"], "controller": True}],
        },
        "spec": {**copy.deepcopy(template["spec"]), "hostname": name,
                 "subdomain": sts["metadata"]["name"], "nodeName": "twin-node"},
        "status": running_status(ip, started, template["spec"].get("containers") or []),
    }


def running_status(ip: str, started: str, containers: list[dict[str, Any]]) -> dict[str, Any]:
    ready = [{"type": t, "status": "True", "lastTransitionTime": started}
             for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
    return {
        "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "127.0.0.1",
        "startTime": started, "conditions": ready,
        "containerStatuses": [
            {"name": c.get("name", ""), "ready": True, "restartCount": 0, "started": True,
             "image": c.get("image", ""), "imageID": f"{c.get('image', '')}@sha256:{_digest(c)}",
             "containerID": f"containerd://{_digest(c, ip, started)}",
             "state": {"running": {"startedAt": started}}}
            for c in containers
        ],
    }


def pending_status(containers: list[dict[str, Any]], now: str) -> dict[str, Any]:
    conditions = [{"type": "PodScheduled", "status": "True", "lastTransitionTime": now}]
    conditions += [{"type": t, "status": "False", "lastTransitionTime": now, "reason": "ContainersNotReady"}
                   for t in ("Ready", "ContainersReady")]
    return {
        "phase": "Pending", "hostIP": "127.0.0.1", "startTime": now, "conditions": conditions,
        "containerStatuses": [
            {"name": c.get("name", ""), "ready": False, "restartCount": 0, "started": False,
             "image": c.get("image", ""), "imageID": "",
             "state": {"waiting": {"reason": "ContainerCreating"}}}
            for c in containers
        ],
    }


def pod_event(namespace: str, pod: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{pod}.{_digest(reason, message)[:16]}", "namespace": namespace},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": namespace},
        "type": "Warning", "reason": reason, "message": message, "count": 1,
        "firstTimestamp": now, "lastTimestamp": now, "source": {"component": "kubelet", "host": "twin-node"},
        "reportingComponent": "kubelet",
    }


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def event(es_obj: Mapping[str, Any], event_type: str, reason: str, message: str, now: str,
          name: str) -> dict[str, Any]:
    meta = es_obj["metadata"]
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": meta["namespace"]},
        "involvedObject": {**ES_KIND, "name": meta["name"], "namespace": meta["namespace"],
                           "uid": meta.get("uid", ""), "resourceVersion": meta.get("resourceVersion", "")},
        "type": event_type, "reason": reason, "message": message, "count": 1,
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": "elasticsearch-controller"},
        "reportingComponent": "elasticsearch-controller",
    }
