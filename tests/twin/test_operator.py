"""The simulated ECK operator and service network against a bare store (no Elasticsearch twin)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.twin import pki
from tests.twin.crd import elasticsearch_crd
from tests.twin.eck_config import CONFIG_HASH, decode_secret_data
from tests.twin.kube_store import Store
from tests.twin.network import LoopbackAllocator
from tests.twin.operator import ClusterInputs, Operator, PodView
from tests.twin.service_network import ServiceNetwork

NS, ES = "search", "remote-es"
ALLOC = LoopbackAllocator()


class Hooks:
    def __init__(self) -> None:
        self.ips: dict[str, str] = {}
        self.views: dict[str, PodView] = {}
        self.cluster: ClusterInputs | None = None

    def pod_address(self, namespace: str, pod: str) -> str:
        return self.ips.setdefault(pod, ALLOC.next_host())

    def publish(self, cluster: ClusterInputs, pods: list[PodView]) -> None:
        self.cluster = cluster
        self.views = {v.pod: v for v in pods}

    def forget(self, namespace: str, name: str) -> None:
        self.views = {}


@pytest.fixture
def env() -> Iterator[tuple[Store, Operator, Hooks]]:
    store = Store()
    for ns in (NS, "elastic-system"):
        store.create("namespaces", {"metadata": {"name": ns}})
    hooks = Hooks()
    operator = Operator(store, hooks, eck_version="3.2.0", restart_delay=0.01)
    operator.start()
    yield store, operator, hooks
    operator.stop()


def _es(version: str = "8.15.3", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
            "metadata": {"name": ES, "namespace": NS},
            "spec": {"version": version, "nodeSets": [{"name": "default", "count": 2}], **spec}}


def _node_set_mounting_remote_ca() -> dict[str, Any]:
    """One pod that mounts ConfigMap remote-ca at config/remote-certs."""
    return {"name": "default", "count": 1, "podTemplate": {"spec": {
        "volumes": [{"name": "certs", "configMap": {"name": "remote-ca"}}],
        "containers": [{"name": "elasticsearch", "volumeMounts": [
            {"name": "certs", "mountPath": "/usr/share/elasticsearch/config/remote-certs"}]}]}}}


def _update_spec(store: Store, **changes: Any) -> None:
    es = store.get("elasticsearches", NS, ES)
    es["spec"].update(changes)
    store.update("elasticsearches", es)


def _events(store: Store) -> list[str]:
    return [f"{e['type']} {e['reason']} {e['message']}" for e in store.list("events", NS)]


def test_operator_creates_the_eck_objects_of_an_elasticsearch(env: tuple[Store, Operator, Hooks]) -> None:
    store, operator, hooks = env
    store.create("elasticsearches", _es())
    assert operator.settle()
    services = {s["metadata"]["name"]: s["spec"] for s in store.list("services", NS)}
    suffixes = ("http", "internal-http", "transport", "default")
    assert set(services) == {f"{ES}-es-{suffix}" for suffix in suffixes}
    assert services[f"{ES}-es-transport"]["clusterIP"] == "None"
    assert services[f"{ES}-es-transport"]["ports"][0]["name"] == "tls-transport"
    secrets = {s["metadata"]["name"]: decode_secret_data(s) for s in store.list("secrets", NS)}
    assert secrets[f"{ES}-es-elastic-user"]["elastic"]
    assert set(secrets[f"{ES}-es-http-certs-public"]) == {"tls.crt", "ca.crt"}
    ca = pki.load_certs(secrets[f"{ES}-es-transport-certs-public"]["ca.crt"].encode())[0]
    assert ca.subject.rfc4514_string() == f"CN={ES}-transport,OU={ES}"
    assert f"{ES}-es-default-0.tls.crt" in secrets[f"{ES}-es-default-es-transport-certs"]
    assert "cluster.name: remote-es" in secrets[f"{ES}-es-default-es-config"]["elasticsearch.yml"]
    pods = store.list("pods", NS)
    assert [p["metadata"]["name"] for p in pods] == [f"{ES}-es-default-0", f"{ES}-es-default-1"]
    assert pods[0]["metadata"]["labels"]["elasticsearch.k8s.elastic.co/cluster-name"] == ES
    assert pods[0]["status"]["podIP"] == hooks.ips[f"{ES}-es-default-0"]
    status = store.get("elasticsearches", NS, ES)["status"]
    assert (status["phase"], status["health"], status["availableNodes"]) == ("Ready", "green", 2)
    assert hooks.cluster is not None and hooks.cluster.license_type == "basic"


def test_enabling_rcs_creates_the_service_and_rolls_the_pods(env: tuple[Store, Operator, Hooks]) -> None:
    store, operator, hooks = env
    store.create("elasticsearches", _es())
    assert operator.settle()
    old_pod = store.get("pods", NS, f"{ES}-es-default-0")["metadata"]
    before = old_pod["annotations"][CONFIG_HASH]
    _update_spec(store, remoteClusterServer={"enabled": True})
    assert operator.settle()
    assert store.get("pods", NS, f"{ES}-es-default-0")["metadata"]["uid"] != old_pod["uid"]
    sts_status = store.get("statefulsets", NS, f"{ES}-es-default")["status"]
    assert sts_status["currentRevision"] == sts_status["updateRevision"]
    assert sts_status["updatedReplicas"] == 2
    rcs = store.get("services", NS, f"{ES}-es-remote-cluster")
    assert rcs["spec"]["ports"] == [{"name": "rcs", "port": 9443, "protocol": "TCP", "targetPort": 9443}]
    after = store.get("pods", NS, f"{ES}-es-default-0")["metadata"]["annotations"][CONFIG_HASH]
    assert after != before
    view = hooks.views[f"{ES}-es-default-0"]
    assert view.config["remote_cluster_server.enabled"] is True
    assert view.config["xpack.security.remote_cluster_server.ssl.certificate"].endswith(
        f"transport-certs/{ES}-es-default-0.tls.crt")
    leaf = pki.load_certs(view.transport_cert_pem)[0]
    assert f"{ES}-es-remote-cluster.{NS}.svc" in str(leaf.extensions)
    _update_spec(store, remoteClusterServer={"enabled": False})
    assert operator.settle()
    assert not store.exists("services", NS, f"{ES}-es-remote-cluster")


@pytest.mark.parametrize(("eck_version", "service_type"), [("3.2.0", None), ("3.3.0", "LoadBalancer")])
def test_rcs_service_template_is_honoured_from_eck_3_3(eck_version: str, service_type: str | None) -> None:
    store = Store()
    store.create("namespaces", {"metadata": {"name": NS}})
    operator = Operator(store, Hooks(), eck_version=eck_version)
    operator.start()
    try:
        store.create("elasticsearches", _es(remoteClusterServer={
            "enabled": True, "service": {"spec": {"type": "LoadBalancer"}}}))
        assert operator.settle()
        spec = store.get("services", NS, f"{ES}-es-remote-cluster")["spec"]
        assert spec.get("type") == (service_type or "ClusterIP")
    finally:
        operator.stop()
    schema = elasticsearch_crd(eck_version)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    rcs = schema["properties"]["spec"]["properties"]["remoteClusterServer"]["properties"]
    assert ("service" in rcs) == (service_type is not None)


@pytest.mark.parametrize(("entries", "error"), [
    ([], "set is empty in secure settings secret keys"),
    ([{"key": "", "path": "a"}], "key is empty in secure settings secret keys"),
    ([{"key": "nope"}], "key nope not found in secure settings secret keys"),
])
def test_bad_secure_settings_entries_are_a_reconcile_error(
        env: tuple[Store, Operator, Hooks], entries: list[dict[str, str]], error: str) -> None:
    # elastic/cloud-on-k8s pkg/controller/common/keystore/user_secret.go
    # @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8 (retrieveUserSecret)
    store, operator, _ = env
    store.create("secrets", {"metadata": {"name": "keys", "namespace": NS}, "stringData": {"a": "b"}})
    store.create("elasticsearches", _es(secureSettings=[{"secretName": "keys", "entries": entries}]))
    assert operator.settle()
    assert f"Warning ReconciliationError Reconciliation error: {error}" in _events(store)


def test_missing_secure_settings_secret_is_a_warning_and_keystore_waits_for_restart(
        env: tuple[Store, Operator, Hooks]) -> None:
    store, operator, hooks = env
    store.create("elasticsearches", _es(secureSettings=[{"secretName": "remote-api-keys"}]))
    assert operator.settle()
    # elastic/cloud-on-k8s pkg/controller/common/keystore/user_secret.go
    # @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8 (retrieveUserSecret, reconcileSecureSettings)
    assert f"Warning Unexpected Secure settings secret not found: {NS}/remote-api-keys" in _events(store)
    assert hooks.views[f"{ES}-es-default-0"].keystore == {}
    assert not store.exists("secrets", NS, f"{ES}-es-secure-settings")  # nothing to aggregate
    store.create("secrets", {"metadata": {"name": "remote-api-keys", "namespace": NS},
                             "stringData": {"cluster.remote.x.credentials": "abc"}})
    assert operator.settle()
    assert hooks.views[f"{ES}-es-default-1"].keystore == {"cluster.remote.x.credentials": "abc"}


def test_restarts_blocked_by_change_budget_leave_the_old_keystore(env: tuple[Store, Operator, Hooks]) -> None:
    store, operator, hooks = env
    store.create("secrets", {"metadata": {"name": "keys", "namespace": NS}, "stringData": {"a": "1"}})
    store.create("elasticsearches", _es(secureSettings=[{"secretName": "keys"}],
                                        updateStrategy={"changeBudget": {"maxUnavailable": 0}}))
    assert operator.settle()
    secret = store.get("secrets", NS, "keys")
    secret["data"] = {"a": "Mg=="}
    store.update("secrets", secret)
    assert operator.settle()
    assert hooks.views[f"{ES}-es-default-0"].keystore == {"a": "1"}
    assert store.get("elasticsearches", NS, ES)["status"]["phase"] == "ApplyingChanges"
    sts_status = store.get("statefulsets", NS, f"{ES}-es-default")["status"]
    assert sts_status["currentRevision"] != sts_status["updateRevision"]
    assert sts_status["updatedReplicas"] == 0


def test_certificate_authorities_configmap_errors_are_reconcile_errors(
        env: tuple[Store, Operator, Hooks]) -> None:
    store, operator, _ = env
    authorities = {"certificateAuthorities": {"configMapName": "peer"}}
    store.create("elasticsearches", _es(transport={"tls": authorities}))
    assert operator.settle()
    assert ('Warning ReconciliationError Reconciliation error: could not retrieve config map search/peer '
            'specified in spec.transport.tls.certificateAuthorities: configmaps "peer" not found'
            ) in _events(store)
    store.create("configmaps", {"metadata": {"name": "peer", "namespace": NS}, "data": {"peer.crt": "x"}})
    assert operator.settle()
    assert ("Warning ReconciliationError Reconciliation error: config map search/peer specified in "
            "spec.transport.tls.certificateAuthorities must contain ca.crt file") in _events(store)


def test_rcs_on_elasticsearch_8_10_0_is_refused(env: tuple[Store, Operator, Hooks]) -> None:
    store, operator, _ = env
    store.create("elasticsearches", _es(version="8.10.0", remoteClusterServer={"enabled": True}))
    assert operator.settle()
    assert ("Warning Validation minimum required version for remote cluster server is 8.10.0 but desired "
            "version is 8.10.0") in _events(store)
    assert store.get("elasticsearches", NS, ES)["status"]["phase"] == "Invalid"


def test_pod_files_follow_mounts_and_configmap_changes_without_restart(
        env: tuple[Store, Operator, Hooks]) -> None:
    store, operator, hooks = env
    store.create("configmaps", {"metadata": {"name": "remote-ca", "namespace": NS},
                                "data": {"ca.pem": "one"}})
    store.create("elasticsearches", _es(nodeSets=[_node_set_mounting_remote_ca()]))
    assert operator.settle()
    pod = f"{ES}-es-default-0"
    started = store.get("pods", NS, pod)["metadata"]["annotations"][CONFIG_HASH]
    assert hooks.views[pod].files["remote-certs/ca.pem"] == b"one"
    assert "other/ca.pem" not in hooks.views[pod].files
    cm = store.get("configmaps", NS, "remote-ca")
    cm["data"] = {"ca.pem": "two"}
    store.update("configmaps", cm)
    assert operator.settle()
    assert hooks.views[pod].files["remote-certs/ca.pem"] == b"two"
    assert store.get("pods", NS, pod)["metadata"]["annotations"][CONFIG_HASH] == started


def test_a_pod_template_change_rolls_by_revision_and_leaves_the_config_hash(
        env: tuple[Store, Operator, Hooks]) -> None:
    # elastic/cloud-on-k8s @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8:
    # pkg/controller/elasticsearch/nodespec/podspec.go (config-hash: config, scripts, keystore),
    # pkg/controller/elasticsearch/driver/stateful/upgrade.go (podsToUpgrade: revision label)
    from kubectl_eckrc import eck

    store, operator, _ = env
    store.create("configmaps", {"metadata": {"name": "remote-ca", "namespace": NS}, "data": {"ca.pem": "x"}})
    budget = {"changeBudget": {"maxUnavailable": 0}}
    store.create("elasticsearches", _es(nodeSets=[{"name": "default", "count": 1}]))
    assert operator.settle()
    pod_name, sts_name = f"{ES}-es-default-0", f"{ES}-es-default"
    before = store.get("pods", NS, pod_name)["metadata"]
    _update_spec(store, nodeSets=[_node_set_mounting_remote_ca()], updateStrategy=budget)
    assert operator.settle()
    sts = store.get("statefulsets", NS, sts_name)
    pod = store.get("pods", NS, pod_name)
    template_hash = sts["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH]
    assert template_hash == before["annotations"][CONFIG_HASH]
    assert pod["metadata"]["labels"]["controller-revision-hash"] != sts["status"]["updateRevision"]
    assert eck.pods_behind([pod], [sts]) == [pod_name]
    # ECK's status says so too (reconcile/status.go UpgradeReporter, upgrade_predicates.go)
    operations = store.get("elasticsearches", NS, ES)["status"]["inProgressOperations"]
    assert operations["upgrade"]["nodes"] == [{
        "name": pod_name, "status": "PENDING",
        "predicate": "do_not_restart_healthy_node_if_MaxUnavailable_reached",
        "message": "Cannot restart node because of failed predicate"}]
    assert set(operations) == {"downscale", "upgrade", "upscale"}
    assert all(op["lastUpdatedTime"] for op in operations.values())
    assert [n.describe() for n in eck.upgrading_nodes(store.get("elasticsearches", NS, ES))] == [
        f"{pod_name} (PENDING; do_not_restart_healthy_node_if_MaxUnavailable_reached)"]
    _update_spec(store, updateStrategy={})
    assert operator.settle()
    pod = store.get("pods", NS, pod_name)
    assert pod["metadata"]["uid"] != before["uid"]
    assert pod["metadata"]["labels"]["controller-revision-hash"] == sts["status"]["updateRevision"]
    assert eck.pods_behind([pod], [store.get("statefulsets", NS, sts_name)]) == []
    assert "nodes" not in store.get("elasticsearches", NS, ES)["status"]["inProgressOperations"]["upgrade"]


def test_kubelet_shows_a_changed_configmap_after_its_sync_delay_and_never_through_sub_path(
        env: tuple[Store, Operator, Hooks]) -> None:
    # Kubernetes docs, ConfigMaps "Mounted ConfigMaps are updated automatically" (kubelet sync
    # period + cache TTL) and "A container using a ConfigMap as a subPath volume mount will not
    # receive ConfigMap updates".
    store, operator, hooks = env
    store.create("configmaps", {"metadata": {"name": "remote-ca", "namespace": NS},
                                "data": {"ca.pem": "one"}})
    node_set = _node_set_mounting_remote_ca()
    container = node_set["podTemplate"]["spec"]["containers"][0]
    container["volumeMounts"].append({"name": "certs", "subPath": "ca.pem",
                                      "mountPath": "/usr/share/elasticsearch/config/pinned/ca.pem"})
    store.create("elasticsearches", _es(nodeSets=[node_set]))
    assert operator.settle()
    pod = f"{ES}-es-default-0"
    assert hooks.views[pod].files["pinned/ca.pem"] == b"one"
    operator.kubelet_sync_delay = 30.0  # long enough to look before kubelet syncs
    cm = store.get("configmaps", NS, "remote-ca")
    cm["data"] = {"ca.pem": "two"}
    store.update("configmaps", cm)
    assert not operator.settle(timeout=0.5)  # waiting for kubelet's sync
    assert hooks.views[pod].files["remote-certs/ca.pem"] == b"one"
    operator.kubelet_sync_delay = 0.0
    touched = store.get("configmaps", NS, "remote-ca")  # any event makes the operator look again
    touched["metadata"]["annotations"] = {"touched": "again"}
    store.update("configmaps", touched)
    assert operator.settle()
    assert hooks.views[pod].files["remote-certs/ca.pem"] == b"two"
    assert hooks.views[pod].files["pinned/ca.pem"] == b"one"  # subPath: never updated


def _echo_server(host: str, port: int) -> socket.socket:
    server = socket.create_server((host, port))
    server.settimeout(5)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"pod:" + conn.recv(16))

    threading.Thread(target=serve, daemon=True).start()
    return server


def test_eck_services_publish_not_ready_pods_and_the_nodeset_service_carries_9443_with_rcs(
        env: tuple[Store, Operator, Hooks]) -> None:
    # elastic/cloud-on-k8s @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8:
    # pkg/controller/elasticsearch/services/services.go (NewTransportService,
    # NewRemoteClusterService), pkg/controller/elasticsearch/nodespec/statefulset.go (HeadlessService)
    store, operator, _ = env
    store.create("elasticsearches", _es(remoteClusterServer={"enabled": True}))
    assert operator.settle()
    services = {s["metadata"]["name"]: s["spec"] for s in store.list("services", NS)}
    published = {name for name, spec in services.items() if spec.get("publishNotReadyAddresses")}
    assert published == {f"{ES}-es-transport", f"{ES}-es-remote-cluster", f"{ES}-es-default"}
    headless = services[f"{ES}-es-default"]
    assert headless["clusterIP"] == "None"
    assert [(p["name"], p["port"]) for p in headless["ports"]] == [("https", 9200), ("rcs", 9443)]
    assert headless["selector"] == {"elasticsearch.k8s.elastic.co/cluster-name": ES,
                                    "elasticsearch.k8s.elastic.co/statefulset-name": f"{ES}-es-default"}
    _update_spec(store, remoteClusterServer={"enabled": False})
    assert operator.settle()
    ports = store.get("services", NS, f"{ES}-es-default")["spec"]["ports"]
    assert [p["port"] for p in ports] == [9200]


def _pod(name: str, ip: str | None, ready: bool) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": "Running" if ip else "Pending",
                              "conditions": [{"type": "Ready", "status": str(ready)}]}
    if ip:
        status["podIP"] = ip
    return {"metadata": {"name": name, "namespace": NS, "labels": {"app": "es"}},
            "spec": {"containers": [{"name": "elasticsearch"}]}, "status": status}


def test_publish_not_ready_addresses_lists_unready_pods_as_ready_endpoints() -> None:
    # kubernetes/kubernetes pkg/controller/endpoint/endpoints_controller.go
    # @ cb6ff2d8ce3595f88570f82c7d0e6d98910afd3c (addEndpointSubset),
    # staging/src/k8s.io/endpointslice/utils.go @ e637659d8932777d897d26632b0715131694d26b
    # (podToEndpoint), staging/src/k8s.io/endpointslice/util/controller_utils.go
    # @ c4696ee9f291961ffbe92938c521c473c746dea0 (ShouldPodBeInEndpoints: no IP, no endpoint)
    store = Store()
    store.create("namespaces", {"metadata": {"name": NS}})
    network = ServiceNetwork(store, ALLOC, lambda ns, pod, port: None, ALLOC.next_host())
    store.create("pods", _pod("ready-0", "10.0.0.1", True))
    store.create("pods", _pod("booting-0", "10.0.0.2", False))
    store.create("pods", _pod("creating-0", None, False))
    for name, publish in (("published", True), ("plain", False)):
        store.create("services", {"metadata": {"name": name, "namespace": NS}, "spec": {
            "clusterIP": "None", "selector": {"app": "es"}, "ports": [{"port": 9443}],
            "publishNotReadyAddresses": publish}})
    network.sync_namespace(NS)

    def ips(service: str, field: str) -> list[str]:
        subsets = store.get("endpoints", NS, service)["subsets"]
        return sorted(a["ip"] for s in subsets for a in s.get(field) or [])

    assert ips("published", "addresses") == ["10.0.0.1", "10.0.0.2"]
    assert ips("published", "notReadyAddresses") == []
    assert ips("plain", "addresses") == ["10.0.0.1"]
    assert ips("plain", "notReadyAddresses") == ["10.0.0.2"]
    conditions = {e["targetRef"]["name"]: e["conditions"]
                  for e in store.get("endpointslices", NS, "published-twin")["endpoints"]}
    assert conditions["booting-0"] == {"ready": True, "serving": False, "terminating": False}
    assert "creating-0" not in conditions


def test_load_balancer_forwards_to_target_port_and_remapped_port_reaches_nothing() -> None:
    store = Store()
    store.create("namespaces", {"metadata": {"name": NS}})
    pod_host = ALLOC.next_host()
    echo = _echo_server(pod_host, 0)
    echo_port = echo.getsockname()[1]

    def pod_port(namespace: str, pod: str, port: int) -> tuple[str, int] | None:
        return (pod_host, echo_port) if port == 9443 else None

    network = ServiceNetwork(store, ALLOC, pod_port, ALLOC.next_host())
    network.start()
    try:
        store.create("pods", {"metadata": {"name": "p-0", "namespace": NS, "labels": {"app": "es"}},
                              "spec": {"containers": [{"name": "elasticsearch"}]},
                              "status": {"phase": "Running", "podIP": pod_host,
                                         "conditions": [{"type": "Ready", "status": "True"}]}})
        for name, port in (("good", {"port": 9443, "targetPort": 9443}), ("remapped", {"port": 443})):
            store.create("services", {"metadata": {"name": name, "namespace": NS},
                                      "spec": {"type": "LoadBalancer", "selector": {"app": "es"},
                                               "ports": [port]}})
        store.create("services", {"metadata": {"name": "pending", "namespace": NS}, "spec": {
            "type": "LoadBalancer", "loadBalancerClass": "service.k8s.aws/nlb", "selector": {"app": "es"},
            "ports": [{"port": 9443}]}})
        assert network.settle()
        good = store.get("services", NS, "good")["status"]["loadBalancer"]["ingress"][0]["ip"]
        with socket.create_connection((good, 9443), timeout=5) as conn:
            conn.sendall(b"hello")
            assert conn.recv(32) == b"pod:hello"
        assert store.get("endpoints", NS, "good")["subsets"][0]["addresses"][0]["ip"] == pod_host
        remapped = store.get("services", NS, "remapped")["status"]["loadBalancer"]["ingress"][0]["ip"]
        with socket.create_connection((remapped, 443), timeout=5) as conn:
            conn.settimeout(5)
            assert conn.recv(16) == b""  # the LB closes: nothing listens on the pod's port 443
        assert not store.get("services", NS, "pending").get("status", {}).get("loadBalancer")
        store.create("services", {"metadata": {"name": "node-port", "namespace": NS}, "spec": {
            "type": "NodePort", "selector": {"app": "es"}, "ports": [{"port": 9443, "targetPort": 9443}]}})
        assert network.settle()
        node_port = store.get("services", NS, "node-port")["spec"]["ports"][0]["nodePort"]
        with socket.create_connection((network.node_address, node_port), timeout=5) as conn:
            conn.sendall(b"np")
            assert conn.recv(32) == b"pod:np"
    finally:
        network.stop()
        echo.close()


def test_a_missing_mount_source_keeps_the_pod_creating_until_it_appears(
        env: tuple[Store, Operator, Hooks]) -> None:
    store, operator, hooks = env
    store.create("elasticsearches", _es(nodeSets=[_node_set_mounting_remote_ca()]))
    assert operator.settle()
    pod = store.get("pods", NS, f"{ES}-es-default-0")
    assert pod["status"]["phase"] == "Pending"
    assert hooks.views == {}
    assert ('Warning FailedMount MountVolume.SetUp failed for volume "certs" : configmap "remote-ca" '
            'not found') in _events(store)
    status = store.get("elasticsearches", NS, ES)["status"]
    assert (status["phase"], status["health"], status["availableNodes"]) == ("ApplyingChanges", "unknown", 0)
    store.create("configmaps", {"metadata": {"name": "remote-ca", "namespace": NS}, "data": {"ca.pem": "x"}})
    assert operator.settle()
    assert store.get("pods", NS, f"{ES}-es-default-0")["status"]["phase"] == "Running"
    assert hooks.views[f"{ES}-es-default-0"].files["remote-certs/ca.pem"] == b"x"
    assert store.get("elasticsearches", NS, ES)["status"]["phase"] == "Ready"


def test_nodeset_config_overrides_ecks_own_settings() -> None:
    # elastic/cloud-on-k8s pkg/controller/elasticsearch/settings/merged_config.go
    # @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8 (NewMergedESConfig: the user's config merged last)
    from tests.twin.eck_config import render_config

    spec = {"remoteClusterServer": {"enabled": True}}
    node_set = {"name": "default", "config": {"remote_cluster.publish_host": "rcs.example.com",
                                              "network.publish_host": "10.0.0.1"}}
    config = render_config(ES, spec, node_set)
    assert config["remote_cluster.publish_host"] == "rcs.example.com"
    assert config["network.publish_host"] == "10.0.0.1"
    assert config["remote_cluster_server.enabled"] is True
