"""What the simulated ECK operator derives from an `Elasticsearch` spec, as pure functions.

The rendered `elasticsearch.yml` (ECK defaults, then the nodeSet `config`, then the settings
ECK enforces), the files a pod sees through its volume mounts, and the keystore built from
`spec.secureSettings`. Kept free of I/O so the operator stays a thin loop around them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

CONFIG_DIR = "/usr/share/elasticsearch/config"
HTTP_CERTS_DIR = f"{CONFIG_DIR}/http-certs"
TRANSPORT_CERTS_DIR = f"{CONFIG_DIR}/transport-certs"
REMOTE_CA_DIR = f"{CONFIG_DIR}/transport-remote-certs"
ES_CONTAINER = "elasticsearch"
MAX_PODS_PER_NODESET = 3

# label and annotation keys ECK puts on its objects
CLUSTER_LABEL = "elasticsearch.k8s.elastic.co/cluster-name"
TYPE_LABEL = "common.k8s.elastic.co/type"
STS_LABEL = "elasticsearch.k8s.elastic.co/statefulset-name"
NODESET_LABEL = "elasticsearch.k8s.elastic.co/node-set"
CONFIG_HASH = "elasticsearch.k8s.elastic.co/config-hash"

# A secret or config map lookup: (kind, name) -> data (str values, already decoded) or None.
Lookup = Callable[[str, str], "dict[str, str] | None"]


@dataclass(frozen=True)
class Names:
    """ECK's object names for one Elasticsearch resource."""

    es: str
    namespace: str

    def svc(self, suffix: str) -> str:
        return f"{self.es}-es-{suffix}"

    def sts(self, nodeset: str) -> str:
        return f"{self.es}-es-{nodeset}"

    def pod(self, nodeset: str, index: int) -> str:
        return f"{self.es}-es-{nodeset}-{index}"

    def transport_certs(self, nodeset: str) -> str:
        return f"{self.es}-es-{nodeset}-es-transport-certs"

    def config_secret(self, nodeset: str) -> str:
        return f"{self.es}-es-{nodeset}-es-config"

    def dns(self, suffix: str) -> str:
        return f"{self.es}-es-{suffix}.{self.namespace}.svc"


def flatten(config: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    """Nested or dotted YAML settings -> flat dotted keys, as Elasticsearch reads them."""
    flat: dict[str, Any] = {}
    for key, value in (config or {}).items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{full}."))
        else:
            flat[full] = value
    return flat


def _defaults(es: str, nodeset: str) -> dict[str, Any]:
    return {
        "cluster.name": es,
        "discovery.seed_providers": "file",
        "network.host": "0",
        "network.publish_host": "${POD_IP}",
        "node.name": "${POD_NAME}",
        "path.data": "/usr/share/elasticsearch/data",
        "path.logs": "/usr/share/elasticsearch/logs",
        "xpack.security.authc.realms.file.file1.order": -100,
        "xpack.security.authc.realms.native.native1.order": -99,
        "xpack.security.enabled": True,
        "xpack.security.http.ssl.enabled": True,
        "xpack.security.http.ssl.certificate": f"{HTTP_CERTS_DIR}/tls.crt",
        "xpack.security.http.ssl.key": f"{HTTP_CERTS_DIR}/tls.key",
        "xpack.security.http.ssl.certificate_authorities": f"{HTTP_CERTS_DIR}/ca.crt",
        "xpack.security.transport.ssl.enabled": True,
        "xpack.security.transport.ssl.verification_mode": "certificate",
        "xpack.security.transport.ssl.certificate": f"{TRANSPORT_CERTS_DIR}/${{POD_NAME}}.tls.crt",
        "xpack.security.transport.ssl.key": f"{TRANSPORT_CERTS_DIR}/${{POD_NAME}}.tls.key",
        "xpack.security.transport.ssl.certificate_authorities": [
            f"{TRANSPORT_CERTS_DIR}/ca.crt",
            f"{REMOTE_CA_DIR}/ca.crt",
        ],
    }


def _rcs_settings(es: str) -> dict[str, Any]:
    # ECK points the remote cluster server at the pod's transport certificate.
    cert = f"{TRANSPORT_CERTS_DIR}/${{POD_NAME}}"
    return {
        "remote_cluster_server.enabled": True,
        "remote_cluster.bind_host": "0.0.0.0",
        "remote_cluster.publish_host": "${POD_NAME}.${HEADLESS_SERVICE_NAME}.${NAMESPACE}.svc",
        "xpack.security.remote_cluster_server.ssl.certificate": f"{cert}.tls.crt",
        "xpack.security.remote_cluster_server.ssl.key": f"{cert}.tls.key",
        "xpack.security.remote_cluster_server.ssl.certificate_authorities": [
            f"{TRANSPORT_CERTS_DIR}/ca.crt",
            f"{REMOTE_CA_DIR}/ca.crt",
        ],
    }


def rcs_enabled(spec: Mapping[str, Any]) -> bool:
    return bool((spec.get("remoteClusterServer") or {}).get("enabled"))


def _rcs_client_settings() -> dict[str, Any]:
    # ECK's remote_cluster_client settings, written when a spec.remoteClusters entry has an apiKey
    return {
        "xpack.security.remote_cluster_client.ssl.enabled": True,
        "xpack.security.remote_cluster_client.ssl.certificate_authorities": [
            f"{TRANSPORT_CERTS_DIR}/ca.crt",
            f"{REMOTE_CA_DIR}/ca.crt",
        ],
    }


def has_remote_cluster_api_key(spec: Mapping[str, Any]) -> bool:
    """ECK's `HasRemoteClusterAPIKey`: some `spec.remoteClusters` entry uses the API-key model."""
    return any(entry.get("apiKey") is not None for entry in spec.get("remoteClusters") or [])


def merge_user_config(config: dict[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """go-ucfg's Merge with ECK's options (PathSep ".", AppendValues): a user key wins, except
    that a list merged onto a list is appended to it (ECK's entries first, then the user's);
    a scalar given where ECK has a list replaces the list."""
    merged = dict(config)
    for key, value in flatten(user).items():
        old = merged.get(key)
        if isinstance(old, list) and isinstance(value, list):
            merged[key] = [*old, *value]
        else:
            merged[key] = value
    return merged


def render_config(es: str, spec: Mapping[str, Any], node_set: Mapping[str, Any]) -> dict[str, Any]:
    """The flat settings of the nodeSet's elasticsearch.yml as ECK writes it (`${...}` unresolved):
    ECK's own settings, then the nodeSet's `config` merged over them (`merge_user_config`)."""
    config = _defaults(es, str(node_set["name"]))
    if rcs_enabled(spec):
        config.update(_rcs_settings(es))
    if has_remote_cluster_api_key(spec):
        config.update(_rcs_client_settings())
    return merge_user_config(config, node_set.get("config") or {})


def config_yaml(config: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(config), sort_keys=True, default_flow_style=False)


def resolve_env(config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Substitute `${VAR}` as Elasticsearch does at start-up."""
    def sub(value: Any) -> Any:
        if isinstance(value, str):
            for name, replacement in env.items():
                value = value.replace("${" + name + "}", replacement)
            return value
        if isinstance(value, list):
            return [sub(v) for v in value]
        return value
    return {key: sub(value) for key, value in config.items()}


def pod_template_spec(node_set: Mapping[str, Any]) -> dict[str, Any]:
    return dict((node_set.get("podTemplate") or {}).get("spec") or {})


def es_container(node_set: Mapping[str, Any]) -> dict[str, Any]:
    for container in pod_template_spec(node_set).get("containers") or []:
        if container.get("name") == ES_CONTAINER:
            return dict(container)
    return {"name": ES_CONTAINER}


def _volume_data(volume: Mapping[str, Any], lookup: Lookup) -> dict[str, str] | None:
    """The key -> content a configMap/secret volume projects (items honoured); None = no such object."""
    if "configMap" in volume:
        source, data = volume["configMap"], lookup("configmaps", volume["configMap"].get("name", ""))
    elif "secret" in volume:
        source, data = volume["secret"], lookup("secrets", volume["secret"].get("secretName", ""))
    else:
        return None
    if data is None:
        return None
    items = source.get("items")
    if not items:
        return dict(data)
    return {item["path"]: data[item["key"]] for item in items if item.get("key") in data}


def _config_relative(path: str) -> str:
    prefix = CONFIG_DIR + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def mounted_files(node_set: Mapping[str, Any], lookup: Lookup) -> dict[str, bytes]:
    """Files the `elasticsearch` container sees through user volumes.

    Keys are relative to the config directory for paths under it (how a relative path in
    elasticsearch.yml resolves), absolute otherwise. A mount whose volume or source object is
    missing provides no file.
    """
    volumes = {v.get("name"): v for v in pod_template_spec(node_set).get("volumes") or []}
    files: dict[str, bytes] = {}
    for mount in es_container(node_set).get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        data = _volume_data(volume, lookup) if volume else None
        if data is None:
            continue
        base = str(mount.get("mountPath", "")).rstrip("/")
        sub_path = mount.get("subPath")
        if sub_path:
            if sub_path in data:
                files[_config_relative(base)] = data[sub_path].encode()
            continue
        for key, value in data.items():
            files[_config_relative(f"{base}/{key}")] = value.encode()
    return files


def sub_path_files(node_set: Mapping[str, Any]) -> frozenset[str]:
    """The files (keys as `mounted_files` gives them) the `elasticsearch` container mounts with
    `subPath`: kubelet copies them at container start and never updates them."""
    return frozenset(_config_relative(str(m.get("mountPath", "")).rstrip("/"))
                     for m in es_container(node_set).get("volumeMounts") or [] if m.get("subPath"))


def missing_mounts(node_set: Mapping[str, Any], lookup: Lookup) -> list[str]:
    """kubelet's FailedMount messages for `elasticsearch` container mounts whose (non-optional)
    ConfigMap or Secret does not exist: such a pod stays in ContainerCreating."""
    volumes = {v.get("name"): v for v in pod_template_spec(node_set).get("volumes") or []}
    problems = []
    for mount in es_container(node_set).get("volumeMounts") or []:
        volume = volumes.get(mount.get("name")) or {}
        for field, kind, key in (("configMap", "configmaps", "name"), ("secret", "secrets", "secretName")):
            source = volume.get(field)
            if source is None or source.get("optional") or lookup(kind, str(source.get(key, ""))) is not None:
                continue
            what = "configmap" if field == "configMap" else "secret"
            problems.append(f'MountVolume.SetUp failed for volume "{volume.get("name")}" : {what} '
                            f'"{source.get(key, "")}" not found')
    return problems


class KeystoreError(Exception):
    """A secureSettings source ECK refuses: the whole reconcile fails with this text."""


def keystore(spec: Mapping[str, Any], lookup: Lookup) -> tuple[dict[str, str], list[str]]:
    """The secure settings from every `spec.secureSettings` secret, and the names found missing
    (a missing secret is skipped). `entries` project keys: an empty list, an empty key or a key
    the secret lacks is a KeystoreError, with ECK's texts."""
    entries: dict[str, str] = {}
    missing: list[str] = []
    for source in spec.get("secureSettings") or []:
        name = str(source.get("secretName", ""))
        data = lookup("secrets", name)
        if data is None:
            missing.append(name)
            continue
        selected = source.get("entries")
        if selected is None:
            entries.update(data)
            continue
        entries.update(_projected(name, data, selected))
    return entries, missing


def _projected(name: str, data: Mapping[str, str], selected: list[Mapping[str, Any]]) -> dict[str, str]:
    if not selected:
        raise KeystoreError(f"set is empty in secure settings secret {name}")
    projected: dict[str, str] = {}
    for entry in selected:
        key = str(entry.get("key") or "")
        if not key:
            raise KeystoreError(f"key is empty in secure settings secret {name}")
        if key not in data:
            raise KeystoreError(f"key {key} not found in secure settings secret {name}")
        projected[str(entry.get("path") or key)] = data[key]
    return projected


def decode_secret_data(secret: Mapping[str, Any]) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}
    data.update(secret.get("stringData") or {})
    return data


def encode_secret_data(data: Mapping[str, str]) -> dict[str, str]:
    return {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}


def digest(*parts: Any) -> str:
    """A stable short hash of JSON-able parts (the config-hash annotation)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return str(int(hashlib.sha256(blob).hexdigest()[:8], 16))


def config_hash(config: Mapping[str, Any], secure: Mapping[str, str]) -> str:
    """ECK's `config-hash` annotation: the rendered configuration and the secure settings only;
    a podTemplate change (a volume, a mount) leaves it as it is."""
    return digest(dict(config), hashlib.sha256(json.dumps(dict(secure), sort_keys=True).encode()).hexdigest())


def restart_inputs(node_set: Mapping[str, Any], config_hash_value: str) -> str:
    """What the StatefulSet's revision hashes: the whole pod template, its config-hash annotation
    included. A change of it makes ECK roll the nodeSet's pods (pods whose
    `controller-revision-hash` is not the StatefulSet's `status.updateRevision`)."""
    template = node_set.get("podTemplate") or {}
    return digest(template.get("metadata") or {}, pod_template_spec(node_set), config_hash_value)
