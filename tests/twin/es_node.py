"""What one Elasticsearch pod sees (`NodeView`) and the settings it derives from it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tests.twin.es_security import SecurityStore
from tests.twin.pki import ES_CONFIG_DIR

DEFAULT_ROLES = ("data", "ingest", "master", "ml", "remote_cluster_client", "transform")
RCS_CLIENT_SSL = "xpack.security.remote_cluster_client.ssl"
TRANSPORT_SSL = "xpack.security.transport.ssl"
# Where ECK mounts the transport CA bundle (own CA + spec.transport.tls.certificateAuthorities).
TRANSPORT_CA_PATHS = (
    f"{ES_CONFIG_DIR}/transport-certs/ca.crt",
    f"{ES_CONFIG_DIR}/transport-remote-certs/ca.crt",
)


@dataclass(frozen=True)
class NodeView:
    """One pod as the simulated operator started it.

    `config`: flat settings of the rendered elasticsearch.yml; `files`: config-relative path ->
    bytes as the pod's mounts provide them; `keystore`: secure settings loaded at the pod's
    last start; `transport_cert_pem`: leaf (+ chain) presented on 9300 and 9443.
    """

    pod: str
    nodeset: str
    config: Mapping[str, Any]
    files: Mapping[str, bytes]
    keystore: Mapping[str, str]
    transport_cert_pem: bytes
    transport_key_pem: bytes
    transport_trusted_ca_pems: bytes
    pod_ip: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def setting(self, key: str, default: Any = None) -> Any:
        value = self.config.get(key, default)
        return default if value is None else value

    def flag(self, key: str, default: bool) -> bool:
        value = self.config.get(key)
        if value is None:
            return default
        return str(value).lower() == "true" if not isinstance(value, bool) else value

    @property
    def roles(self) -> list[str]:
        """`node.roles` from the config; unset means every role (as in Elasticsearch)."""
        value = self.config.get("node.roles")
        if value is None:
            return list(DEFAULT_ROLES)
        return [r.strip() for r in value.split(",")] if isinstance(value, str) else [str(r) for r in value]

    @property
    def remote_client(self) -> bool:
        return "remote_cluster_client" in self.roles

    @property
    def rcs_enabled(self) -> bool:
        return self.flag("remote_cluster_server.enabled", False)

    @property
    def publish_ip(self) -> str:
        """The pod IP other pods would use; a stable pod-network address when none was given."""
        if self.pod_ip:
            return self.pod_ip
        digest = hashlib.sha1(self.pod.encode()).digest()
        return f"10.{digest[0]}.{digest[1]}.{max(digest[2], 2) % 250 + 2}"

    def credential(self, alias: str) -> str | None:
        return self.keystore.get(f"cluster.remote.{alias}.credentials")

    def file(self, path: str) -> bytes | None:
        """A config file as the pod sees it (absolute paths under the config dir accepted)."""
        relative = path[len(ES_CONFIG_DIR) + 1 :] if path.startswith(ES_CONFIG_DIR + "/") else path
        if relative.startswith("./"):
            relative = relative[2:]
        return self.files.get(relative)

    def ca_paths(self, prefix: str) -> list[str]:
        value = self.config.get(f"{prefix}.certificate_authorities")
        if value is None:
            return []
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return [str(p) for p in value]

    def restart_fingerprint(self) -> str:
        """What only a restart changes: the config, the keystore and the pod's address. Files and
        the transport certificate change under a running node (kubelet); Elasticsearch reloads
        the SSL ones on its schedule (es_server.SslReload)."""
        h = hashlib.sha256()
        for part in (repr(sorted((k, repr(v)) for k, v in self.config.items())),
                     repr(sorted(self.keystore.items())), self.pod_ip):
            h.update(part.encode())
        return h.hexdigest()

    def fingerprint(self) -> str:
        """Changes whenever anything the pod was started with changes."""
        h = hashlib.sha256()
        for part in (
            repr(sorted((k, repr(v)) for k, v in self.config.items())),
            repr(sorted(self.files.items())),
            repr(sorted(self.keystore.items())),
            self.transport_cert_pem,
            self.transport_key_pem,
            self.transport_trusted_ca_pems,
            self.pod_ip,
        ):
            h.update(part if isinstance(part, bytes) else part.encode())
        return h.hexdigest()


def absolute_config_path(path: str) -> str:
    return path if path.startswith("/") else f"{ES_CONFIG_DIR}/{path}"


class ClusterCore(Protocol):
    """What the transport and RCS listeners need from their cluster."""

    name: str
    uuid: str
    version: str
    license_type: str
    security: SecurityStore
    settings: Any  # es_settings.ClusterSettings (its effective view per node)

    def matching_indices(self, pattern: str) -> bool: ...

    def node_id(self, pod: str) -> str: ...

    def serve_request(
        self, frame: dict[str, Any], profile: str, signer_dn: str | None = None
    ) -> dict[str, Any]: ...


def version_tuple(version: str) -> tuple[int, int, int]:
    parts = [int(p) for p in version.split("-")[0].split(".")[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def minimum_wire_version(version: str) -> str:
    """The oldest version this one talks to on the transport layer (8.18<->9.0, 8.19<->9.1+)."""
    major, minor, _ = version_tuple(version)
    if major >= 9:
        return "8.18.0" if minor == 0 else "8.19.0"
    if major == 8:
        return "7.17.0"
    return f"{major - 1}.8.0"


def wire_compatible(a: str, b: str) -> tuple[bool, str]:
    """(compatible, minimum) for a transport connection between versions a and b."""
    newer, older = (a, b) if version_tuple(a) >= version_tuple(b) else (b, a)
    minimum = minimum_wire_version(newer)
    return version_tuple(older) >= version_tuple(minimum), minimum


def supports_rcs(version: str) -> bool:
    return version_tuple(version) >= (8, 10, 0)
