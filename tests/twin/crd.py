"""The `elasticsearches.elasticsearch.k8s.elastic.co` CRD object the twin serves.

Only the part of the schema the product reads is spelled out: the real CRD is 1.5 MB. What
matters is that the schema tells which ECK version is simulated: `spec.remoteClusterServer.service`
exists from ECK 3.3 on, as in the real CRDs, and the labels carry the version like the ones
the ECK Helm chart installs.
"""

from __future__ import annotations

from typing import Any

GROUP = "elasticsearch.k8s.elastic.co"
CRD_NAME = f"elasticsearches.{GROUP}"
RCS_SERVICE_MIN_ECK = (3, 3, 0)

_PRESERVE: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def parse_version(version: str) -> tuple[int, int, int]:
    """'8.15.3' -> (8, 15, 3); suffixes like '-SNAPSHOT' are ignored."""
    parts = version.split("-")[0].split(".")
    numbers = [int(p) for p in parts[:3]] + [0] * (3 - len(parts[:3]))
    return numbers[0], numbers[1], numbers[2]


def eck_serves_rcs_service(eck_version: str) -> bool:
    return parse_version(eck_version) >= RCS_SERVICE_MIN_ECK


def _service_template() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Service defines the template for the remote cluster server Service object.",
        "properties": {
            "metadata": _PRESERVE,
            "spec": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"type": {"type": "string"}, "ports": {"type": "array", "items": _PRESERVE}},
            },
        },
    }


def _remote_cluster_server(eck_version: str) -> dict[str, Any]:
    properties: dict[str, Any] = {"enabled": {"type": "boolean"}}
    if eck_serves_rcs_service(eck_version):
        properties["service"] = _service_template()
    return {
        "type": "object",
        "description": "RemoteClusterServer specifies if the remote cluster server should be enabled.",
        "properties": properties,
    }


def _transport() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "service": {"type": "object", "properties": {"metadata": _PRESERVE, "spec": _PRESERVE}},
            "tls": {
                "type": "object",
                "properties": {
                    "certificate": {"type": "object", "properties": {"secretName": {"type": "string"}}},
                    "certificateAuthorities": {
                        "type": "object",
                        "properties": {"configMapName": {"type": "string"}},
                    },
                    "subjectAltNames": {"type": "array", "items": _PRESERVE},
                    "otherNameSuffix": {"type": "string"},
                    "selfSignedCertificates": _PRESERVE,
                },
            },
        },
    }


def _node_set() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 23, "pattern": "[a-zA-Z0-9-]+"},
            "count": {"type": "integer", "format": "int32", "minimum": 0},
            "config": _PRESERVE,
            "podTemplate": _PRESERVE,
            "volumeClaimTemplates": {"type": "array", "items": _PRESERVE},
        },
    }


def _spec(eck_version: str) -> dict[str, Any]:
    secret_source = {
        "type": "object",
        "required": ["secretName"],
        "properties": {
            "secretName": {"type": "string"},
            "entries": {"type": "array", "items": _PRESERVE},
        },
    }
    return {
        "type": "object",
        "required": ["nodeSets", "version"],
        "properties": {
            "version": {"type": "string"},
            "image": {"type": "string"},
            "auth": _PRESERVE,
            "http": _PRESERVE,
            "transport": _transport(),
            "remoteClusterServer": _remote_cluster_server(eck_version),
            "remoteClusters": {"type": "array", "items": _PRESERVE},
            "secureSettings": {"type": "array", "items": secret_source},
            "nodeSets": {"type": "array", "minItems": 1, "items": _node_set()},
            "updateStrategy": _PRESERVE,
            "podDisruptionBudget": _PRESERVE,
            "monitoring": _PRESERVE,
        },
    }


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


def elasticsearch_crd(eck_version: str) -> dict[str, Any]:
    """The CRD object as `kubectl get crd elasticsearches.elasticsearch.k8s.elastic.co -o json` shows it."""
    schema = {
        "openAPIV3Schema": {
            "type": "object",
            "description": "Elasticsearch represents an Elasticsearch resource in a Kubernetes cluster.",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": _spec(eck_version),
                "status": _PRESERVE,
            },
        }
    }
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
                    "schema": schema,
                    "subresources": {"status": {}},
                }
            ],
        },
    }
