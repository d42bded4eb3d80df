"""Typed accessors on ECK objects kept as plain dicts in the snapshot, and ECK's naming rules.

Everything here is pure: it reads dicts, never a cluster.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

from kubectl_eckrc.snapshot import Side, Unavailable

CONFIG_DIR = "/usr/share/elasticsearch/config"
ES_CONTAINER = "elasticsearch"
RCS_PORT = 9443
TRANSPORT_PORT = 9300
RCS_PORT_NAME = "rcs"
CLUSTER_NAME_LABEL = "elasticsearch.k8s.elastic.co/cluster-name"
CONFIG_HASH_ANNOTATION = "elasticsearch.k8s.elastic.co/config-hash"
CONTROLLER_VERSION_ANNOTATION = "common.k8s.elastic.co/controller-version"

CLIENT_SSL_ENABLED = "xpack.security.remote_cluster_client.ssl.enabled"
CLIENT_SSL_CAS = "xpack.security.remote_cluster_client.ssl.certificate_authorities"


# --- names ECK gives to the objects it owns ------------------------------------------------------


def remote_cluster_service(es: str) -> str:
    return f"{es}-es-remote-cluster"


def transport_certs_public(es: str) -> str:
    return f"{es}-es-transport-certs-public"


def eck_owned_secret_names(es: str) -> tuple[str, ...]:
    """Names ECK reserves for its same-environment automation: never write or reuse them."""
    return (f"{es}-es-remote-api-keys", f"{es}-es-remote-ca")


def rcs_server_name(es: str, namespace: str) -> str:
    return f"{remote_cluster_service(es)}.{namespace}.svc"


_ECK_CA_SUBJECT = re.compile(r"^CN=(?P<a>[^,]+)-transport,OU=(?P=a)$|^OU=(?P<b>[^,]+),CN=(?P=b)-transport$")


def transport_ca_owner(subject: str) -> str:
    """The Elasticsearch name when `subject` is an ECK transport CA's, else "" (RFC 4514 order
    depends on how the name was encoded: both are accepted)."""
    match = _ECK_CA_SUBJECT.match(subject)
    return (match["a"] or match["b"]) if match else ""


# --- the Elasticsearch resource ------------------------------------------------------------------


def resource(side: Side) -> dict[str, Any] | None:
    """The Elasticsearch resource of a side, None when it could not be read or is absent."""
    if isinstance(side.kube, Unavailable) or isinstance(side.kube.elasticsearch, Unavailable):
        return None
    es = side.kube.elasticsearch
    return es if isinstance(es, dict) else None


def spec(es: dict[str, Any]) -> dict[str, Any]:
    return es.get("spec") or {}


def status(es: dict[str, Any]) -> dict[str, Any]:
    return es.get("status") or {}


def annotations_of(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def name_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def rcs_enabled(es: dict[str, Any]) -> bool:
    return truthy((spec(es).get("remoteClusterServer") or {}).get("enabled"))


def transport_ca_configmap(es: dict[str, Any]) -> str:
    tls = (spec(es).get("transport") or {}).get("tls") or {}
    return str((tls.get("certificateAuthorities") or {}).get("configMapName") or "")


@dataclass(frozen=True)
class SecureSetting:
    secret_name: str
    key_map: dict[str, str]  # secret key -> keystore setting name; empty = every key as-is


def secure_settings(es: dict[str, Any]) -> list[SecureSetting]:
    result = []
    for entry in spec(es).get("secureSettings") or []:
        key_map = {e["key"]: e.get("path") or e["key"] for e in entry.get("entries") or [] if "key" in e}
        result.append(SecureSetting(str(entry.get("secretName", "")), key_map))
    return result


# --- nodeSets ------------------------------------------------------------------------------------


def nodesets(es: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec(es).get("nodeSets") or [])


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """elasticsearch.yml may be nested YAML or flat dotted keys, or a mix: always dotted keys."""
    if not isinstance(config, dict):
        return {prefix: config} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in config.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, full))
        else:
            flat[full] = value
    return flat


def nodeset_config(nodeset: dict[str, Any]) -> dict[str, Any]:
    return flatten(nodeset.get("config") or {})


def pod_spec(nodeset: dict[str, Any]) -> dict[str, Any]:
    return (nodeset.get("podTemplate") or {}).get("spec") or {}


def volumes(nodeset: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec(nodeset).get("volumes") or [])


def es_volume_mounts(nodeset: dict[str, Any]) -> list[dict[str, Any]]:
    for container in pod_spec(nodeset).get("containers") or []:
        if container.get("name") == ES_CONTAINER:
            return list(container.get("volumeMounts") or [])
    return []


def config_path(path: str) -> str:
    """Elasticsearch resolves relative paths against its config directory."""
    return posixpath.normpath(path if path.startswith("/") else posixpath.join(CONFIG_DIR, path))


@dataclass(frozen=True)
class MountedFile:
    """Where a file path inside the elasticsearch container comes from."""

    path: str  # absolute path in the container
    volume: str
    kind: str  # configMap | secret | other
    source: str  # ConfigMap or Secret name ("" for other volume kinds)
    key: str  # key inside that ConfigMap/Secret


def mounted_file(nodeset: dict[str, Any], path: str) -> MountedFile | None:
    """Which volume provides `path` in the elasticsearch container of a nodeSet, or None."""
    full = config_path(path)
    best: dict[str, Any] | None = None
    for mount in es_volume_mounts(nodeset):
        mount_path = posixpath.normpath(str(mount.get("mountPath", "")))
        if (full == mount_path or full.startswith(mount_path + "/")) and (
            best is None or len(mount_path) > len(str(best.get("mountPath", "")))
        ):
            best = mount
    if best is None:
        return None
    volume = next((v for v in volumes(nodeset) if v.get("name") == best.get("name")), None)
    if volume is None:
        return None
    mount_path = posixpath.normpath(str(best.get("mountPath", "")))
    relative = str(best.get("subPath") or "") if full == mount_path else full[len(mount_path) + 1 :]
    return _volume_file(volume, full, relative)


def _volume_file(volume: dict[str, Any], full: str, relative: str) -> MountedFile:
    name = str(volume.get("name", ""))
    for kind, name_field in (("configMap", "name"), ("secret", "secretName")):
        source = volume.get(kind)
        if isinstance(source, dict):
            key = relative
            for item in source.get("items") or []:
                if item.get("path") == relative:
                    key = str(item.get("key", relative))
            return MountedFile(full, name, kind, str(source.get(name_field, "")), key)
    return MountedFile(full, name, "other", "", relative)


# --- services, endpoints, pods -------------------------------------------------------------------


def find_by_name(objects: Any, name: str) -> dict[str, Any] | None:
    for obj in objects or []:
        if name_of(obj) == name:
            return dict(obj)
    return None


def service_type(svc: dict[str, Any]) -> str:
    return str((svc.get("spec") or {}).get("type") or "ClusterIP")


def service_ports(svc: dict[str, Any]) -> list[dict[str, Any]]:
    return list((svc.get("spec") or {}).get("ports") or [])


def selects_es(svc: dict[str, Any], es: str) -> bool:
    selector = (svc.get("spec") or {}).get("selector") or {}
    return bool(selector) and selector.get(CLUSTER_NAME_LABEL) == es


def lb_addresses(svc: dict[str, Any]) -> list[str]:
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")]


def target_port(port: dict[str, Any]) -> Any:
    """A Service port's targetPort, which defaults to the port itself."""
    return port.get("targetPort", port.get("port"))


def targets_rcs(port: dict[str, Any]) -> bool:
    target = target_port(port)
    return str(target) in (str(RCS_PORT), RCS_PORT_NAME)


def ready_endpoints(endpoints: Any, name: str, port: int) -> tuple[int, int]:
    """(ready, total) addresses of the Endpoints object `name` that serve `port`."""
    ready = total = 0
    for subset in (find_by_name(endpoints, name) or {}).get("subsets") or []:
        if not any(p.get("port") == port for p in subset.get("ports") or []):
            continue
        ready += len(subset.get("addresses") or [])
        total += len(subset.get("addresses") or []) + len(subset.get("notReadyAddresses") or [])
    return ready, total


# --- versions ------------------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def es_version(side: Side) -> str:
    """The running version: the REST answer first, then the resource's status and spec."""
    if not isinstance(side.es, Unavailable) and isinstance(side.es.info, dict):
        number = (side.es.info.get("version") or {}).get("number")
        if number:
            return str(number)
    es = resource(side)
    if es is None:
        return ""
    return str(status(es).get("version") or spec(es).get("version") or "")


def eck_version(side: Side) -> str:
    es = resource(side)
    return annotations_of(es).get(CONTROLLER_VERSION_ANNOTATION, "") if es else ""


def truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"
