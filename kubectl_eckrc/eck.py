"""Typed accessors on ECK objects kept as plain dicts in the snapshot, and ECK's naming rules.

Everything here is pure: it reads dicts, never a cluster.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_eckrc.snapshot import KubeState, SecretSummary, Side, Snapshot, Unavailable

CONFIG_DIR = "/usr/share/elasticsearch/config"
ES_CONTAINER = "elasticsearch"
RCS_PORT = 9443
TRANSPORT_PORT = 9300
RCS_PORT_NAME = "rcs"
CLUSTER_NAME_LABEL = "elasticsearch.k8s.elastic.co/cluster-name"
TYPE_LABEL = "common.k8s.elastic.co/type"
STATEFULSET_LABEL = "elasticsearch.k8s.elastic.co/statefulset-name"
CONFIG_HASH_ANNOTATION = "elasticsearch.k8s.elastic.co/config-hash"
REVISION_LABEL = "controller-revision-hash"  # set by the StatefulSet controller on each pod
# Secrets ECK creates for every Elasticsearch `<es>`: `<es>-<suffix>`.
ECK_SECRET_SUFFIXES = ("es-http-certs-public", "es-transport-certs-public", "es-remote-ca",
                       "es-remote-api-keys")
CONTROLLER_VERSION_ANNOTATION = "common.k8s.elastic.co/controller-version"

CLIENT_SSL_ENABLED = "xpack.security.remote_cluster_client.ssl.enabled"
CLIENT_SSL_CAS = "xpack.security.remote_cluster_client.ssl.certificate_authorities"


# --- names ECK gives to the objects it owns ------------------------------------------------------


def remote_cluster_service(es: str) -> str:
    return f"{es}-es-remote-cluster"


def transport_certs_public(es: str) -> str:
    return f"{es}-es-transport-certs-public"


def is_eck_owned_name(name: str, es_names: list[str]) -> bool:
    """`<es>-es-*` is the prefix of everything ECK creates for `<es>`: never write there."""
    return any(name.startswith(f"{es}-es-") for es in es_names)


def eck_owned_secret_names(es: str) -> tuple[str, ...]:
    """Names ECK reserves for its same-environment automation: never write or reuse them."""
    return (remote_api_keys_secret(es), f"{es}-es-remote-ca")


def remote_api_keys_secret(es: str) -> str:
    """ECK's keystore source for the keys it makes for spec.remoteClusters."""
    return f"{es}-es-remote-api-keys"


def rcs_server_name(es: str, namespace: str) -> str:
    return f"{remote_cluster_service(es)}.{namespace}.svc"


_ECK_CA_SUBJECT = re.compile(r"^CN=(?P<a>[^,]+)-transport,OU=(?P=a)$|^OU=(?P<b>[^,]+),CN=(?P=b)-transport$")


def transport_ca_owner(subject: str) -> str:
    """The Elasticsearch name when `subject` is an ECK transport CA's, else "" (RFC 4514 order
    depends on how the name was encoded: both are accepted)."""
    match = _ECK_CA_SUBJECT.match(subject)
    return (match["a"] or match["b"]) if match else ""


# --- one side of a snapshot, read forgivingly ------------------------------------------------------
# Checks read through checks/reads.py, which turns a failed read into NotEvaluated; fix plans
# from what could be read, and these give the empty value for a read that failed.


def side_of(snap: Snapshot, role: str) -> Side | None:
    chosen = snap.local if role == "local" else snap.remote
    return None if isinstance(chosen, Unavailable) else chosen


def kube_of(snap: Snapshot, role: str) -> KubeState | None:
    side = side_of(snap, role)
    return None if side is None or isinstance(side.kube, Unavailable) else side.kube


def resource_of(snap: Snapshot, role: str) -> dict[str, Any] | None:
    side = side_of(snap, role)
    return None if side is None else resource(side)


def namespace(snap: Snapshot, role: str) -> str:
    side = side_of(snap, role)
    return "" if side is None else side.namespace


def es_name(snap: Snapshot, role: str) -> str:
    side = side_of(snap, role)
    return "" if side is None else side.es_name


def configmaps(snap: Snapshot, role: str) -> dict[str, dict[str, Any]]:
    kube = kube_of(snap, role)
    read = None if kube is None else kube.configmaps
    return {n: c for n, c in read.items() if isinstance(c, dict)} if isinstance(read, dict) else {}


def secrets(snap: Snapshot, role: str) -> dict[str, SecretSummary]:
    kube = kube_of(snap, role)
    read = None if kube is None else kube.secrets
    return {n: s for n, s in read.items() if isinstance(s, SecretSummary)} if isinstance(read, dict) else {}


def services(snap: Snapshot, role: str) -> list[dict[str, Any]]:
    kube = kube_of(snap, role)
    read = None if kube is None else kube.services
    return list(read) if isinstance(read, list) else []


def es_names_in_namespace(snap: Snapshot, role: str) -> list[str]:
    kube = kube_of(snap, role)
    names = None if kube is None else kube.elasticsearch_names
    listed = names if isinstance(names, list) else []
    return sorted({*listed, es_name(snap, role)} - {""})


def serves_rcs_service_template(snap: Snapshot) -> bool:
    """ECK >= 3.3: the remote CRD has `spec.remoteClusterServer.service`."""
    kube = kube_of(snap, "remote")
    crd = None if kube is None else kube.crd
    return bool(isinstance(crd, dict) and crd.get("has_rcs_service"))


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

    def keystore_name(self, key: str) -> str:
        """The keystore setting a secret key becomes; "" when `entries` leave the key out."""
        if not self.key_map:
            return key
        return self.key_map.get(key, "")


def secure_settings(es: dict[str, Any]) -> list[SecureSetting]:
    result = []
    for entry in spec(es).get("secureSettings") or []:
        key_map = {e["key"]: e.get("path") or e["key"] for e in entry.get("entries") or [] if "key" in e}
        result.append(SecureSetting(str(entry.get("secretName", "")), key_map))
    return result


def credential_keys(es: dict[str, Any]) -> dict[str, frozenset[str]]:
    """secret name -> its keys that become `cluster.remote.<alias>.credentials` in the keystore
    (under their own name, or remapped by `entries`): the values to classify as API keys."""
    found: dict[str, set[str]] = {}
    for setting in secure_settings(es):
        for key in setting.key_map or {}:
            name = setting.keystore_name(key)
            if name.startswith("cluster.remote.") and name.endswith(".credentials"):
                found.setdefault(setting.secret_name, set()).add(key)
    return {name: frozenset(keys) for name, keys in found.items()}


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
    # mounted with subPath: kubelet copied it at container start and never updates it
    sub_path: bool = False


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
    pinned = bool(best.get("subPath")) and full == mount_path
    relative = str(best.get("subPath") or "") if full == mount_path else full[len(mount_path) + 1 :]
    return _volume_file(volume, full, relative, pinned)


def sub_path_nodesets(es: dict[str, Any], source: tuple[str, str, str] | None = None) -> list[str]:
    """NodeSets whose CA file comes through a subPath mount (from that ConfigMap/Secret key when
    `source` = (kind, name, key)): their pods keep the copy they started with, whatever the
    object holds now, because kubelet never refreshes a subPath file."""
    return sorted({f.nodeset for f in client_ca_files(es)[0] if f.mounted and f.mounted.sub_path
                   and (source is None or (f.mounted.kind, f.mounted.source, f.mounted.key) == source)})


def _volume_file(volume: dict[str, Any], full: str, relative: str, sub_path: bool = False) -> MountedFile:
    name = str(volume.get("name", ""))
    for kind, name_field in (("configMap", "name"), ("secret", "secretName")):
        source = volume.get(kind)
        if isinstance(source, dict):
            key = relative
            for item in source.get("items") or []:
                if item.get("path") == relative:
                    key = str(item.get("key", relative))
            return MountedFile(full, name, kind, str(source.get(name_field, "")), key, sub_path)
    return MountedFile(full, name, "other", "", relative, sub_path)


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


# --- exposures of the remote cluster server -----------------------------------------------------


@dataclass(frozen=True)
class Exposure:
    """One way to reach 9443 from outside: a LoadBalancer address or a NodePort."""

    service: str
    kind: str  # LoadBalancer | NodePort
    address: str  # LB ip/hostname; a NodePort's node address ("" when the nodes could not be read)
    port: int  # the port reachable from outside (LB port or nodePort)
    target: Any
    port_index: int = 0  # index in the Service's spec.ports
    owned_by_eck: bool = False

    @property
    def where(self) -> str:
        return f"{self.address}:{self.port}" if self.address else f"<node address>:{self.port}"

    @property
    def proxy_address(self) -> str:
        """What `proxy_address` is set to, "" when the host is not known (a NodePort whose node
        addresses could not be read)."""
        return f"{self.address}:{self.port}" if self.address else ""

    def describe(self) -> str:
        return f"{self.kind} {self.service} at {self.where} -> {self.target}"


@dataclass(frozen=True)
class RemappedPort:
    """A Service port that looks meant for the remote cluster server but does not reach 9443."""

    service: str
    port_index: int
    port: Any
    target: Any
    owned_by_eck: bool

    def describe(self) -> str:
        return (f"service {self.service} port {self.port} forwards to {self.target}, not 9443: "
                "set targetPort: 9443")


@dataclass(frozen=True)
class RcsExposures:
    """Every outside exposure of 9443 on the remote side, and what is wrong with would-be ones."""

    found: list[Exposure]
    remapped: list[RemappedPort]  # Services without any port reaching 9443
    waiting: list[str]  # LoadBalancers reaching 9443 without an external address yet

    @property
    def problems(self) -> dict[str, list[str]]:
        """service name -> what is wrong with it."""
        found: dict[str, list[str]] = {}
        for port in self.remapped:
            found.setdefault(port.service, []).append(port.describe())
        for name in self.waiting:
            found[name] = [f"LoadBalancer {name} has no external address yet"]
        return found

    @property
    def usable(self) -> list[Exposure]:
        """Exposures a peer can connect to: a NodePort, or a LoadBalancer with its address."""
        broken = self.problems
        return [e for e in self.found if (e.kind == "NodePort" or e.address) and e.service not in broken]


def rcs_exposures(services: list[dict[str, Any]], es: str, node_hosts: Sequence[str] = ()) -> RcsExposures:
    """`node_hosts` (from `node_addresses`): where a NodePort answers; the first is used."""
    node_host = node_hosts[0] if node_hosts else ""
    found: list[Exposure] = []
    remapped: list[RemappedPort] = []
    waiting: list[str] = []
    for svc in services:
        kind = service_type(svc)
        if kind not in ("LoadBalancer", "NodePort") or not selects_es(svc, es):
            continue
        name = name_of(svc)
        owned = name == remote_cluster_service(es)
        rcs_ports = [(i, p) for i, p in enumerate(service_ports(svc)) if targets_rcs(p)]
        if not rcs_ports:
            remapped += _remapped(svc, owned)
            continue
        addresses = lb_addresses(svc) if kind == "LoadBalancer" else []
        if kind == "LoadBalancer" and not addresses:
            waiting.append(name)
        for i, port in rcs_ports:
            found += [Exposure(name, "LoadBalancer", a, int(port["port"]), target_port(port), i, owned)
                      for a in addresses]
            if port.get("nodePort"):
                node_port = int(port["nodePort"])
                found.append(Exposure(name, "NodePort", node_host, node_port, target_port(port), i, owned))
    return RcsExposures(found, remapped, waiting)


# --- node addresses: where a NodePort answers ------------------------------------------------

# kube-proxy opens a NodePort on every node. Of a node's addresses the ExternalIP is the one
# meant for clients outside the cluster's network (`kubectl get nodes -o wide`'s EXTERNAL-IP);
# on clusters without one (bare metal, kind, private clusters) the InternalIP is what peers
# reach. `Hostname` is left out: it rarely resolves outside the cluster.
NODE_ADDRESS_TYPES = ("ExternalIP", "InternalIP")


def node_addresses(nodes: list[dict[str, Any]]) -> list[str]:
    """One address per node, by NODE_ADDRESS_TYPES; ready nodes first, then by name."""
    def key(node: dict[str, Any]) -> tuple[bool, str]:
        return (not _node_ready(node), name_of(node))

    found = []
    for node in sorted(nodes, key=key):
        by_type: dict[str, str] = {}
        for entry in (node.get("status") or {}).get("addresses") or []:
            by_type.setdefault(str(entry.get("type", "")), str(entry.get("address", "")))
        address = next((by_type[t] for t in NODE_ADDRESS_TYPES if by_type.get(t)), "")
        if address:
            found.append(address)
    return found


def _node_ready(node: dict[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def node_hosts_of(snap: Snapshot, role: str) -> list[str]:
    """The addresses NodePorts of a side answer on ([] when its nodes were not read)."""
    kube = kube_of(snap, role)
    read = None if kube is None else kube.nodes
    return node_addresses(read) if isinstance(read, list) else []


def rcs_exposures_of(snap: Snapshot, role: str = "remote") -> RcsExposures:
    """A side's exposures of 9443, NodePorts with their node address."""
    return rcs_exposures(services(snap, role), es_name(snap, role), node_hosts_of(snap, role))


def _remapped(svc: dict[str, Any], owned: bool) -> list[RemappedPort]:
    name = name_of(svc)
    looks_rcs = "remote-cluster" in name or "rcs" in name
    found = []
    for i, port in enumerate(service_ports(svc)):
        if str(target_port(port)) in (str(TRANSPORT_PORT), "9200", "transport", "https", "http"):
            continue
        if looks_rcs or port.get("port") == RCS_PORT or "rcs" in str(port.get("name", "")):
            found.append(RemappedPort(name, i, port.get("port"), target_port(port), owned))
    return found


# --- the CA files the remote cluster client trusts -----------------------------------------------


@dataclass(frozen=True)
class CaFile:
    """One entry of a nodeSet's `remote_cluster_client.ssl.certificate_authorities`."""

    nodeset: str
    path: str  # as configured
    mounted: MountedFile | None  # where the file comes from; None: no mount provides it


def listed(value: Any) -> list[str]:
    """A setting that may be a YAML list or one (comma-separated, maybe bracketed) string."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).strip("[]").split(",") if v.strip()]


# What ECK writes itself when a spec.remoteClusters entry has an apiKey (elastic/cloud-on-k8s
# pkg/controller/elasticsearch/settings/merged_config.go, xpackConfig): a nodeSet list is
# appended to it, a single string replaces it (go-ucfg AppendValues).
ECK_CLIENT_CAS = (f"{CONFIG_DIR}/transport-certs/ca.crt", f"{CONFIG_DIR}/transport-remote-certs/ca.crt")


def has_remote_cluster_api_key(es: dict[str, Any]) -> bool:
    entries = spec(es).get("remoteClusters") or []
    return any(isinstance(e, dict) and e.get("apiKey") is not None for e in entries)


def client_ca_paths(es: dict[str, Any], config: dict[str, Any]) -> tuple[bool, list[str]]:
    """(client SSL enabled, CA paths) of one nodeSet as Elasticsearch gets them: ECK's own
    settings (with an apiKey remote cluster), then the nodeSet's config merged over them."""
    eck_sets = has_remote_cluster_api_key(es)
    enabled = config.get(CLIENT_SSL_ENABLED, True)  # Elasticsearch's default is true
    value = config.get(CLIENT_SSL_CAS)
    if not eck_sets:
        return truthy(enabled), listed(value)
    if value is None:
        return truthy(enabled), list(ECK_CLIENT_CAS)
    if isinstance(value, list):
        return truthy(enabled), [*ECK_CLIENT_CAS, *listed(value)]
    return truthy(enabled), listed(value)  # one string replaces ECK's list


def replaces_eck_client_cas(es: dict[str, Any], config: dict[str, Any]) -> bool:
    """A nodeSet that gives the CA list as one string, dropping the entries ECK writes."""
    value = config.get(CLIENT_SSL_CAS)
    return has_remote_cluster_api_key(es) and value is not None and not isinstance(value, list)


def eck_mounted_file(es: dict[str, Any], path: str) -> MountedFile | None:
    """ECK's own volumes behind its CA paths (elastic/cloud-on-k8s pkg/controller/elasticsearch/
    volume/names.go). transport-certs/ca.crt holds the same bundle as `<es>-es-transport-certs-public`."""
    full, name = config_path(path), str((es.get("metadata") or {}).get("name", ""))
    if full == ECK_CLIENT_CAS[1]:
        return MountedFile(full, "elastic-internal-remote-certificate-authorities", "secret",
                           f"{name}-es-remote-ca", "ca.crt")
    if full == ECK_CLIENT_CAS[0]:
        return MountedFile(full, "elastic-internal-transport-certificates", "secret",
                           transport_certs_public(name), "ca.crt")
    return None


def client_ca_files(es: dict[str, Any]) -> tuple[list[CaFile], list[str]]:
    """The CA files each nodeSet configures for the remote cluster client, and the nodeSets
    that miss the client SSL settings."""
    files, missing = [], []
    for nodeset in nodesets(es):
        name = str(nodeset.get("name", ""))
        enabled, paths = client_ca_paths(es, nodeset_config(nodeset))
        if not enabled or not paths:
            missing.append(name)
            continue
        files += [CaFile(name, p, mounted_file(nodeset, p) or eck_mounted_file(es, p)) for p in paths]
    return files, missing


# --- rollouts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpgradingNode:
    """One entry of ECK's `status.inProgressOperations.upgrade.nodes` (a node ECK must restart)."""

    name: str
    status: str  # PENDING | DELETED (ECK's reporter)
    predicate: str = ""  # the predicate that keeps ECK from restarting it now
    message: str = ""

    def describe(self) -> str:
        why = f"; {self.predicate}" if self.predicate else ""
        return f"{self.name} ({self.status}{why})"


def upgrading_nodes(es: dict[str, Any] | None) -> list[UpgradingNode]:
    """The nodes ECK's status says it still has to restart (ECK >= 2.x, technical preview in
    the CRD); [] when the status has no such list."""
    operations = status(es or {}).get("inProgressOperations")
    upgrade = operations.get("upgrade") if isinstance(operations, dict) else None
    nodes = upgrade.get("nodes") if isinstance(upgrade, dict) else None
    found = []
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and node.get("name"):
            found.append(UpgradingNode(str(node["name"]), str(node.get("status") or ""),
                                       str(node.get("predicate") or ""), str(node.get("message") or "")))
    return found


def pods_behind(pods: list[dict[str, Any]], statefulsets: list[dict[str, Any]]) -> list[str]:
    """Pods that do not run their StatefulSet's current spec yet (ECK rolls them): a config hash
    other than the template's (ECK's hash covers the rendered config and the secure settings
    only), or a `controller-revision-hash` other than the StatefulSet's `status.updateRevision`
    (any podTemplate change, a CA volume for instance)."""
    by_name = {name_of(s): s for s in statefulsets}
    return [name_of(p) for p in pods
            if _statefulset_of(p) in by_name and _behind(p, by_name[_statefulset_of(p)])]


def _behind(pod: dict[str, Any], sts: dict[str, Any]) -> bool:
    if annotations_of(pod).get(CONFIG_HASH_ANNOTATION) != _template_hash(sts):
        return True
    revision = ((pod.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL)
    update = (sts.get("status") or {}).get("updateRevision")
    return bool(revision and update and revision != update)


def _template_hash(sts: dict[str, Any]) -> str | None:
    template = ((sts.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return (template.get("annotations") or {}).get(CONFIG_HASH_ANNOTATION)


def _statefulset_of(pod: dict[str, Any]) -> str:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return str(labels.get(STATEFULSET_LABEL, ""))


def is_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running" or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


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
