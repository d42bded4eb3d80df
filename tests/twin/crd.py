"""The `elasticsearches.elasticsearch.k8s.elastic.co` CRD object the twin serves.

The real CRD is 1.5 MB (most of it the pod template's typing). The twin spells out, with the
real CRD's types, enums, required lists and int-or-string markers, every field the product,
the scenarios or the simulated operator read or write; any other node is left open (`{}`:
kept as written and not validated). Where a node lists its fields, it lists all the fields
the real CRD declares there, so that pruning drops exactly what the API server drops.
`tests/twin/test_kube_schema.py` compares every node spelled out here with the real CRD.

The schema also tells which ECK version is simulated: `spec.remoteClusterServer.service`
exists from ECK 3.3 on, as in the real CRDs, and the labels carry the version like the ones
the ECK Helm chart installs.
"""

from __future__ import annotations

from typing import Any

GROUP = "elasticsearch.k8s.elastic.co"
CRD_NAME = f"elasticsearches.{GROUP}"
RCS_SERVICE_MIN_ECK = (3, 3, 0)

Schema = dict[str, Any]

# Fields of a pod spec, a container and a volume the real CRD declares; those the twin types
# are spelled out below, the others stay open.
POD_SPEC_FIELDS = (
    "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "containers", "dnsConfig",
    "dnsPolicy", "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC", "hostNetwork",
    "hostPID", "hostUsers", "hostname", "hostnameOverride", "imagePullSecrets", "initContainers",
    "nodeName", "nodeSelector", "os", "overhead", "preemptionPolicy", "priority", "priorityClassName",
    "readinessGates", "resourceClaims", "resources", "restartPolicy", "runtimeClassName",
    "schedulerName", "schedulingGates", "schedulingGroup", "securityContext", "serviceAccount",
    "serviceAccountName", "setHostnameAsFQDN", "shareProcessNamespace", "subdomain",
    "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints", "volumes",
)
CONTAINER_FIELDS = (
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe",
    "name", "ports", "readinessProbe", "resizePolicy", "resources", "restartPolicy",
    "restartPolicyRules", "securityContext", "startupProbe", "stdin", "stdinOnce",
    "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts",
    "workingDir",
)
VOLUME_FIELDS = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "configMap", "csi",
    "downwardAPI", "emptyDir", "ephemeral", "fc", "flexVolume", "flocker", "gcePersistentDisk",
    "gitRepo", "glusterfs", "hostPath", "image", "iscsi", "name", "nfs", "persistentVolumeClaim",
    "photonPersistentDisk", "portworxVolume", "projected", "quobyte", "rbd", "scaleIO", "secret",
    "storageos", "vsphereVolume",
)


def parse_version(version: str) -> tuple[int, int, int]:
    """'8.15.3' -> (8, 15, 3); suffixes like '-SNAPSHOT' are ignored."""
    parts = version.split("-")[0].split(".")
    numbers = [int(p) for p in parts[:3]] + [0] * (3 - len(parts[:3]))
    return numbers[0], numbers[1], numbers[2]


def eck_serves_rcs_service(eck_version: str) -> bool:
    return parse_version(eck_version) >= RCS_SERVICE_MIN_ECK


# ---- schema node constructors -----------------------------------------------------------

def _open() -> Schema:
    """A node the twin does not spell out: kept as written, never validated."""
    return {}


def _str() -> Schema:
    return {"type": "string"}


def _bool() -> Schema:
    return {"type": "boolean"}


def _int32() -> Schema:
    return {"type": "integer", "format": "int32"}


def _int_or_string() -> Schema:
    return {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}


def _obj(properties: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    node: Schema = {"type": "object", "properties": properties}
    if required:
        node["required"] = required
    node.update(extra)
    return node


def _arr(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def _string_map() -> Schema:
    return {"type": "object", "additionalProperties": _str()}


def _with_open(names: tuple[str, ...], typed: dict[str, Schema]) -> dict[str, Schema]:
    return {name: typed.get(name, _open()) for name in names}


# ---- the parts of the spec ----------------------------------------------------------------

def _object_meta() -> Schema:
    return _obj({"annotations": _string_map(), "finalizers": _arr(_str()), "labels": _string_map(),
                 "name": _str(), "namespace": _str()})


def _service_port() -> Schema:
    return _obj({"appProtocol": _str(), "name": _str(), "nodePort": _int32(), "port": _int32(),
                 "protocol": _str(), "targetPort": _int_or_string()}, required=["port"])


def _service_template() -> Schema:
    strings = _arr(_str())
    spec = _obj({
        "allocateLoadBalancerNodePorts": _bool(), "clusterIP": _str(), "clusterIPs": strings,
        "externalIPs": strings, "externalName": _str(), "externalTrafficPolicy": _str(),
        "healthCheckNodePort": _int32(), "internalTrafficPolicy": _str(), "ipFamilies": strings,
        "ipFamilyPolicy": _str(), "loadBalancerClass": _str(), "loadBalancerIP": _str(),
        "loadBalancerSourceRanges": strings, "ports": _arr(_service_port()),
        "publishNotReadyAddresses": _bool(), "selector": _string_map(), "sessionAffinity": _str(),
        "sessionAffinityConfig": _open(), "trafficDistribution": _str(), "type": _str(),
    })
    return _obj({"metadata": _object_meta(), "spec": spec})


def _san() -> Schema:
    return _arr(_obj({"dns": _str(), "ip": _str()}))


def _http() -> Schema:
    tls = _obj({
        "certificate": _obj({"secretName": _str()}),
        "client": _obj({"authentication": _bool()}),
        "selfSignedCertificate": _obj({"disabled": _bool(), "subjectAltNames": _san()}),
    })
    return _obj({"service": _service_template(), "tls": tls})


def _transport() -> Schema:
    tls = _obj({
        "certificate": _obj({"secretName": _str()}),
        "certificateAuthorities": _obj({"configMapName": _str()}),
        "otherNameSuffix": _str(),
        "selfSignedCertificates": _obj({"disabled": _bool()}),
        "subjectAltNames": _san(),
    })
    return _obj({"service": _service_template(), "tls": tls})


def _remote_cluster_server(eck_version: str) -> Schema:
    properties: dict[str, Schema] = {"enabled": _bool()}
    if eck_serves_rcs_service(eck_version):
        properties["service"] = _service_template()
    return _obj(properties)


def _key_to_path() -> Schema:
    return _arr(_obj({"key": _str(), "mode": _int32(), "path": _str()}, required=["key", "path"]))


def _volume() -> Schema:
    config_map = _obj({"defaultMode": _int32(), "items": _key_to_path(), "name": _str(),
                       "optional": _bool()})
    secret = _obj({"defaultMode": _int32(), "items": _key_to_path(), "optional": _bool(),
                   "secretName": _str()})
    typed = {"name": _str(), "configMap": config_map, "secret": secret}
    return _obj(_with_open(VOLUME_FIELDS, typed), required=["name"])


def _container() -> Schema:
    mount = _obj({"mountPath": _str(), "mountPropagation": _str(), "name": _str(), "readOnly": _bool(),
                  "recursiveReadOnly": _str(), "subPath": _str(), "subPathExpr": _str()},
                 required=["mountPath", "name"])
    typed = {"name": _str(), "image": _str(), "volumeMounts": _arr(mount)}
    return _obj(_with_open(CONTAINER_FIELDS, typed), required=["name"])


def _pod_template() -> Schema:
    typed = {"containers": _arr(_container()), "initContainers": _arr(_container()),
             "volumes": _arr(_volume())}
    spec = _obj(_with_open(POD_SPEC_FIELDS, typed), required=["containers"])
    return _obj({"metadata": _object_meta(), "spec": spec}, **{"x-kubernetes-preserve-unknown-fields": True})


def _node_set() -> Schema:
    return _obj({
        "name": {"type": "string", "maxLength": 23, "pattern": "[a-zA-Z0-9-]+"},
        "count": _int32(),
        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "podTemplate": _pod_template(),
        "resources": _obj({"limits": _open(), "requests": _open()}),
        "volumeClaimTemplates": _arr(_open()),
        "zoneAwareness": _open(),
    }, required=["name"])


def _secure_settings() -> Schema:
    entries = _arr(_obj({"key": _str(), "path": _str()}, required=["key"]))
    return _arr(_obj({"entries": entries, "secretName": _str()}, required=["secretName"]))


def _remote_clusters() -> Schema:
    reference = _obj({"name": _str(), "namespace": _str(), "serviceName": _str()})
    api_key = _obj({"access": _obj({"replication": _open(), "search": _open()})}, required=["access"])
    return _arr(_obj({"apiKey": api_key, "elasticsearchRef": reference,
                      "name": {"type": "string", "minLength": 1}}, required=["name"]))


def _pod_disruption_budget() -> Schema:
    spec = _obj({"maxUnavailable": _int_or_string(), "minAvailable": _int_or_string(),
                 "selector": _open(), "unhealthyPodEvictionPolicy": _str()})
    return _obj({"metadata": _object_meta(), "spec": spec})


def _spec(eck_version: str) -> Schema:
    return _obj({
        "auth": _open(),
        "http": _http(),
        "image": _str(),
        "monitoring": _open(),
        "nodeSets": _arr(_node_set(), minItems=1),
        "podDisruptionBudget": _pod_disruption_budget(),
        "remoteClusterServer": _remote_cluster_server(eck_version),
        "remoteClusters": _remote_clusters(),
        "revisionHistoryLimit": _int32(),
        "secureSettings": _secure_settings(),
        "serviceAccountName": _str(),
        "transport": _transport(),
        "updateStrategy": _obj({"changeBudget": _obj({"maxSurge": _int32(), "maxUnavailable": _int32()})}),
        "version": _str(),
        "volumeClaimDeletePolicy": {"type": "string",
                                    "enum": ["DeleteOnScaledownOnly", "DeleteOnScaledownAndClusterDeletion"]},
    }, required=["nodeSets", "version"])


def _printer_columns() -> list[dict[str, Any]]:
    return [
        {"jsonPath": ".status.health", "name": "health", "type": "string"},
        {"description": "Available nodes", "jsonPath": ".status.availableNodes", "name": "nodes",
         "type": "integer"},
        {"description": "Elasticsearch version", "jsonPath": ".status.version", "name": "version",
         "type": "string"},
        {"jsonPath": ".status.phase", "name": "phase", "type": "string"},
        {"jsonPath": ".metadata.creationTimestamp", "name": "age", "type": "date"},
    ]


def open_api_schema(eck_version: str) -> Schema:
    return {
        "type": "object",
        "description": "Elasticsearch represents an Elasticsearch resource in a Kubernetes cluster.",
        "properties": {
            "apiVersion": _str(),
            "kind": _str(),
            "metadata": {"type": "object"},
            "spec": _spec(eck_version),
            # Written by the simulated operator only: not spelled out.
            "status": _open(),
        },
    }


def elasticsearch_crd(eck_version: str) -> dict[str, Any]:
    """The CRD object as `kubectl get crd elasticsearches.elasticsearch.k8s.elastic.co -o json` shows it."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": CRD_NAME,
            "annotations": {"controller-gen.kubebuilder.io/version": "v0.16.5"},
            "labels": {
                "app.kubernetes.io/instance": "elastic-operator",
                "app.kubernetes.io/name": "eck-operator-crds",
                "app.kubernetes.io/version": eck_version,
            },
        },
        "spec": {
            "group": GROUP,
            "names": {
                "categories": ["elastic"],
                "kind": "Elasticsearch",
                "listKind": "ElasticsearchList",
                "plural": "elasticsearches",
                "shortNames": ["es"],
                "singular": "elasticsearch",
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "additionalPrinterColumns": _printer_columns(),
                    "schema": {"openAPIV3Schema": open_api_schema(eck_version)},
                    "subresources": {"status": {}},
                }
            ],
        },
    }
