"""Per-kind validation and defaulting the API server applies on write (the parts clients notice:
name rules, Secret base64 data, Service ports/clusterIP defaults, namespace status, CRD status)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from tests.twin.kube_errors import FieldError, cannot_decode, invalid
from tests.twin.kube_resources import ResourceType

_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1035 = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_CONFIG_KEY = r"[-._a-zA-Z0-9]+"

_NAME_RULES: dict[str, tuple[str, int, str]] = {
    "subdomain": (_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                  "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
                  f"'example.com', regex used for validation is '{_SUBDOMAIN}')"),
    "label": (_LABEL, 63, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
              "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
              f"regex used for validation is '{_LABEL}')"),
    "dns1035": (_DNS1035, 63, "a DNS-1035 label must consist of lower case alphanumeric characters or "
                "'-', start with an alphabetic character, and end with an alphanumeric character (e.g. "
                f"'my-name',  or 'abc-123', regex used for validation is '{_DNS1035}')"),
}
_NAME_RULE_OF = {"namespaces": "label", "services": "dns1035"}


def validate_name(rt: ResourceType, name: str) -> None:
    if not name:
        raise invalid(rt, name, [FieldError("metadata.name", "Required value",
                                            "name or generateName is required")])
    pattern, limit, message = _NAME_RULES[_NAME_RULE_OF.get(rt.plural, "subdomain")]
    if not re.fullmatch(pattern, name):
        raise invalid(rt, name, [FieldError("metadata.name", "Invalid value", message, name)])
    if len(name) > limit:
        raise invalid(rt, name, [FieldError("metadata.name", "Invalid value",
                                            f"must be no more than {limit} characters", name)])


def _check_config_keys(rt: ResourceType, name: str, field: str, data: dict[str, Any]) -> None:
    for key in data:
        if not re.fullmatch(_CONFIG_KEY, key):
            raise invalid(rt, name, [FieldError(
                f"{field}[{key}]", "Invalid value",
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
                f"'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '{_CONFIG_KEY}')",
                key)])


def _normalise_secret(rt: ResourceType, obj: dict[str, Any]) -> None:
    name = obj["metadata"].get("name", "")
    obj.setdefault("type", "Opaque")
    data = obj.get("data") or {}
    for key, value in data.items():
        try:
            base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise cannot_decode(rt, "illegal base64 data at input byte 0") from exc
        if not isinstance(value, str):
            raise cannot_decode(rt, f"json: cannot unmarshal into field data[{key}] of type []byte")
    for key, value in (obj.pop("stringData", None) or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    if data:
        obj["data"] = data
    _check_config_keys(rt, name, "data", data)


def _normalise_configmap(rt: ResourceType, obj: dict[str, Any]) -> None:
    name = obj["metadata"].get("name", "")
    data = obj.get("data") or {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise cannot_decode(rt, f"json: cannot unmarshal {type(value).__name__} into Go struct field "
                                    f"ConfigMap.data of type string ({key})")
    _check_config_keys(rt, name, "data", data)


def _default_service(obj: dict[str, Any], old: dict[str, Any] | None, allocate_ip: Callable[[], str],
                     allocate_node_port: Callable[[], int]) -> None:
    spec = obj.setdefault("spec", {})
    old_spec = (old or {}).get("spec") or {}
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = old_spec.get("clusterIP") or allocate_ip()
        spec["clusterIPs"] = [spec["clusterIP"]]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    old_ports = {p.get("port"): p for p in old_spec.get("ports") or []}
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        # The API server defaults an absent targetPort to the port itself.
        port.setdefault("targetPort", port.get("port"))
        if spec["type"] in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            port["nodePort"] = old_ports.get(port.get("port"), {}).get("nodePort") or allocate_node_port()
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {"loadBalancer": {}})


def _default_crd(obj: dict[str, Any]) -> None:
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
    status = obj.setdefault("status", {})
    status.setdefault("acceptedNames", names)
    status.setdefault("storedVersions", versions)
    status.setdefault("conditions", [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
         "message": "no conflicts found"},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted"},
    ])


def apply_defaults(rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None,
                   allocate_ip: Callable[[], str], allocate_node_port: Callable[[], int]) -> None:
    """Validate and default `obj` in place (old is the stored object on update)."""
    name = obj["metadata"].get("name", "")
    if rt.plural == "secrets":
        _normalise_secret(rt, obj)
    elif rt.plural == "configmaps":
        _normalise_configmap(rt, obj)
    elif rt.plural == "services":
        _default_service(obj, old, allocate_ip, allocate_node_port)
    elif rt.plural == "namespaces":
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj.setdefault("status", {"phase": "Active"})
    elif rt.plural == "customresourcedefinitions":
        _default_crd(obj)
    elif rt.plural == "statefulsets":
        obj.setdefault("spec", {}).setdefault("replicas", 1)
    elif rt.plural == "pods":
        obj.setdefault("status", {"phase": "Pending"})
