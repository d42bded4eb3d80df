"""One simulated Kubernetes cluster: store, API server, ECK operator, ES twins and network.

The environment is the operator's `OperatorHooks`: it gives each pod its own loopback address,
turns the operator's `PodView`s into the Elasticsearch twin's `NodeView`s, and tells the API
server's port-forward and log endpoints where each pod's processes really are.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.twin import crd, pki
from tests.twin.admission import AdmittingStore
from tests.twin.audit import AuditLog
from tests.twin.cluster_dns import ClusterDns
from tests.twin.eck_config import CLUSTER_LABEL, decode_secret_data
from tests.twin.es_node import NodeView
from tests.twin.es_server import EsCluster
from tests.twin.kube_api import KubeApiServer
from tests.twin.kube_errors import NotFound
from tests.twin.network import Address, LoopbackAllocator
from tests.twin.operator import ClusterInputs, Operator, PodView
from tests.twin.pod_network import PodNetwork
from tests.twin.service_network import ServiceNetwork

ADMIN_USER = "admin"
RESTRICTED_USER = "restricted"
BASE_NAMESPACES = ("default", "kube-system", "kube-public", "elastic-system")
# The restricted user: read-only, and no access to secrets (the "rbac-restricted" fault).
_READ_VERBS = ("get", "list", "watch")
_LICENSE_DATA = {"license": '{"license":{"type":"enterprise","issued_to":"twin"}}'}


@dataclass(frozen=True)
class ApiCredentials:
    url: str
    ca_pem: bytes
    admin_token: str
    restricted_token: str


def restricted_authorizer(user: str, verb: str, plural: str, namespace: str | None, name: str | None,
                          subresource: str | None) -> bool:
    if user == ADMIN_USER:
        return True
    if plural == "selfsubjectaccessreviews":
        return verb == "create"
    # nodes: cluster-scoped, which the namespaced Role such a user typically has does not grant
    if plural in ("secrets", "nodes") or subresource in ("portforward", "exec"):
        return False
    return verb in _READ_VERBS


class Environment:
    """One kube cluster with its ECK operator. `start()` before use, `stop()` after."""

    def __init__(self, name: str, allocator: LoopbackAllocator, eck_version: str = "3.2.0",
                 enterprise_license: bool = True) -> None:
        self.name = name
        self.allocator = allocator
        self.eck_version = eck_version
        self.store = AdmittingStore()
        self.audit = AuditLog()
        self.clusters: dict[tuple[str, str], EsCluster] = {}
        self._pod_ips: dict[tuple[str, str], str] = {}
        self._pod_cluster: dict[tuple[str, str], tuple[str, str]] = {}
        self._lock = threading.RLock()
        self._tokens = {secrets.token_urlsafe(24): ADMIN_USER, secrets.token_urlsafe(24): RESTRICTED_USER}
        self.node_address = allocator.next_host()
        self.operator = Operator(self.store, self, eck_version)
        self.network = ServiceNetwork(self.store, allocator, self.pod_target, self.node_address)
        self.pod_network = PodNetwork(allocator)  # what this cluster's pods reach (not the workstation)
        self.dns = ClusterDns(self.store)  # the names this cluster's pods resolve
        self._seed(enterprise_license)
        self.api = self._api_server()

    # ---- set-up ------------------------------------------------------------------------------

    def _seed(self, enterprise_license: bool) -> None:
        for namespace in BASE_NAMESPACES:
            self.ensure_namespace(namespace)
        self.store.create("customresourcedefinitions", crd.elasticsearch_crd(self.eck_version))
        self.store.create("nodes", self._node())
        if enterprise_license:
            self.store.create("secrets", {
                "metadata": {"name": "eck-license", "namespace": "elastic-system",
                             "labels": {"license.k8s.elastic.co/scope": "operator",
                                        "license.k8s.elastic.co/type": "enterprise"}},
                "stringData": _LICENSE_DATA})

    def _node(self) -> dict[str, Any]:
        """The node NodePorts answer on: a cloud node whose ExternalIP is `node_address` and whose
        InternalIP is a private address nothing answers on from this machine (a client that
        picked it would be refused)."""
        name = f"{self.name}-node-1"
        return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                "status": {"addresses": [{"type": "InternalIP", "address": self.allocator.next_host()},
                                         {"type": "ExternalIP", "address": self.node_address},
                                         {"type": "Hostname", "address": name}],
                           "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}

    def ensure_namespace(self, namespace: str) -> None:
        if not self.store.exists("namespaces", None, namespace):
            self.store.create("namespaces", {"metadata": {"name": namespace}})

    def _api_server(self) -> KubeApiServer:
        host = self.allocator.next_host()
        ca = pki.make_ca(f"{self.name}-kube-ca")
        leaf = pki.make_leaf(ca.cert, ca.key, "kube-apiserver", dns=["kubernetes", "kubernetes.default.svc"],
                             ips=[host])
        self.api_ca_pem = pki.cert_pem(ca.cert)
        return KubeApiServer(self.store, host, leaf.chain_pem, leaf.key_pem, dict(self._tokens),
                             restricted_authorizer, self.pod_target, self.pod_logs, self.audit)

    def start(self) -> Environment:
        self.api.start()
        self.network.start()
        self.operator.start()
        return self

    def stop(self) -> None:
        self.operator.stop()
        self.network.stop()
        self.pod_network.stop()
        self.api.stop()
        with self._lock:
            clusters = list(self.clusters.values())
            self.clusters.clear()
        for cluster in clusters:
            cluster.stop()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the operator and the service network are idle (twice: each feeds the other)
        and every node reloaded the files kubelet changed under it."""
        ok = True
        for _ in range(2):
            ok = self.operator.settle(timeout) and self.network.settle(timeout) and ok
        return self._reloaded(time.monotonic() + timeout) and ok

    def _reloaded(self, deadline: float) -> bool:
        while True:
            with self._lock:
                clusters = list(self.clusters.values())
            if not any(es.reloads_pending() for es in clusters):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    @property
    def credentials(self) -> ApiCredentials:
        by_user = {user: token for token, user in self._tokens.items()}
        return ApiCredentials(self.api.url, self.api_ca_pem, by_user[ADMIN_USER], by_user[RESTRICTED_USER])

    def secret_values(self) -> set[str]:
        """Every secret value of this environment (API tokens, Secret data): none may appear in
        any product output. Certificates are public; the rendered elasticsearch.yml holds none."""
        values = {self.credentials.admin_token, self.credentials.restricted_token}
        for secret in self.store.list("secrets"):
            for key, value in decode_secret_data(secret).items():
                if not key.endswith(".crt") and key != "elasticsearch.yml" and value.strip():
                    values.add(value)
        return values

    # ---- operator hooks ----------------------------------------------------------------------

    def pod_address(self, namespace: str, pod: str) -> str:
        with self._lock:
            key = (namespace, pod)
            if key not in self._pod_ips:
                self._pod_ips[key] = self.allocator.next_host()
            return self._pod_ips[key]

    def publish(self, cluster: ClusterInputs, pods: list[PodView]) -> None:
        key = (cluster.namespace, cluster.name)
        with self._lock:
            es = self.clusters.get(key)
            if es is None:
                es = EsCluster(cluster.name, cluster.namespace, cluster.version, cluster.http_ca_pem,
                               cluster.http_cert_pem, cluster.http_key_pem, cluster.elastic_password,
                               cluster.license_type, self.allocator, route=self.pod_network.route,
                               resolve_host=self.dns.resolve, in_network=self.dns.in_cluster)
                self.clusters[key] = es
            elif es.license_type != cluster.license_type:
                es.set_license(cluster.license_type)
            for view in pods:
                self._pod_cluster[(cluster.namespace, view.pod)] = key
            _bind_to_pod_ips(es, pods)
        es.set_nodes([_node_view(view) for view in pods])

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            es = self.clusters.pop((namespace, name), None)
        if es is not None:
            es.stop()

    # ---- API server hooks --------------------------------------------------------------------

    def cluster_of(self, namespace: str, pod: str) -> EsCluster | None:
        with self._lock:
            key = self._pod_cluster.get((namespace, pod))
            return self.clusters.get(key) if key else None

    def pod_target(self, namespace: str, pod: str, port: int) -> Address | None:
        """Where a connection to the pod's container port lands (None: nothing listens)."""
        es = self.cluster_of(namespace, pod)
        if es is None:
            return None
        if port == 9200:
            return es.http_address(pod)
        if port == 9443:
            return es.rcs_address(pod)
        if port == 9300:
            return es.transport_address(pod)
        return None

    def pod_logs(self, namespace: str, pod: str, container: str | None = None) -> str:
        es = self.cluster_of(namespace, pod)
        if es is None:
            raise NotFound(f'pods "{pod}" not found')
        return str(es.logs(pod))

    # ---- conveniences for scenarios and tests ------------------------------------------------

    def es(self, namespace: str, name: str) -> EsCluster:
        return self.clusters[(namespace, name)]

    def first_pod(self, namespace: str, name: str) -> str:
        pods = self.store.list("pods", namespace, f"{CLUSTER_LABEL}={name}")
        return str(pods[0]["metadata"]["name"])


def _bind_to_pod_ips(es: EsCluster, pods: list[PodView]) -> None:
    """Make each pod's listeners bind on the pod IP the operator gave it (the address in the pod
    status, the Endpoints and the certificate SANs). EsCluster picks a fresh address for a pod
    it has never started unless one is known for it, so seed the pods' IPs there."""
    hosts = getattr(es, "_hosts", None)
    if isinstance(hosts, dict):
        for view in pods:
            hosts.setdefault(view.pod, view.ip)


def _node_view(view: PodView) -> NodeView:
    return NodeView(view.pod, view.nodeset, view.config, view.files, view.keystore, view.transport_cert_pem,
                    view.transport_key_pem, b"".join(view.transport_trusted_ca_pems), pod_ip=view.ip)
