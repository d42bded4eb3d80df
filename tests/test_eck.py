"""Accessors on ECK objects."""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck
from kubectl_eckrc.snapshot import Unavailable
from tests.snapshot_builder import healthy_pair, nodeset

FORBIDDEN = Unavailable("403 Forbidden", "forbidden")


def test_flatten_mixes_nested_and_dotted_keys() -> None:
    config = {"xpack.security": {"remote_cluster_client": {"ssl.enabled": True}}, "node.roles": ["data"]}
    assert eck.flatten(config) == {"xpack.security.remote_cluster_client.ssl.enabled": True,
                                   "node.roles": ["data"]}


def test_mounted_file_resolves_relative_paths_and_configmap_items() -> None:
    spec = nodeset("hot")
    found = eck.mounted_file(spec, "remote-certs/remote-cluster-ca.crt")
    assert found == eck.MountedFile("/usr/share/elasticsearch/config/remote-certs/remote-cluster-ca.crt",
                                    "remote-ca", "configMap", "remote-ca", "remote-cluster-ca.crt")
    spec["podTemplate"]["spec"]["volumes"][0]["configMap"]["items"] = [{"key": "ca.pem",
                                                                         "path": "remote-cluster-ca.crt"}]
    found = eck.mounted_file(spec, "/usr/share/elasticsearch/config/remote-certs/remote-cluster-ca.crt")
    assert found is not None and found.key == "ca.pem"
    assert eck.mounted_file(spec, "elsewhere/ca.crt") is None


def test_secure_settings_entries() -> None:
    es = {"spec": {"secureSettings": [{"secretName": "a"},
                                      {"secretName": "b", "entries": [{"key": "k", "path": "p"}]}]}}
    assert eck.secure_settings(es) == [eck.SecureSetting("a", {}), eck.SecureSetting("b", {"k": "p"})]


def test_target_port_resolution() -> None:
    assert eck.targets_rcs({"port": 9443})
    assert eck.targets_rcs({"port": 443, "targetPort": "rcs"})
    assert not eck.targets_rcs({"port": 443})


def test_versions_and_names() -> None:
    assert eck.parse_version("8.17.1") == (8, 17, 1)
    assert eck.parse_version("9.0") == (9, 0, 0)
    assert eck.parse_version("garbage") is None
    assert eck.rcs_server_name("remote-es", "search") == "remote-es-es-remote-cluster.search.svc"
    assert eck.eck_owned_secret_names("es") == ("es-es-remote-api-keys", "es-es-remote-ca")


# --- one side read forgivingly: a failed read is the empty value -----------------------------------


def test_a_remote_that_could_not_be_read_gives_empty_values() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    snap = pair.build()
    assert eck.side_of(snap, "remote") is None and eck.kube_of(snap, "remote") is None
    assert (eck.namespace(snap, "remote"), eck.es_name(snap, "remote")) == ("", "")
    assert eck.resource_of(snap, "remote") is None
    assert (eck.configmaps(snap, "remote"), eck.secrets(snap, "remote"), eck.services(snap, "remote")) == (
        {}, {}, [])
    assert eck.es_names_in_namespace(snap, "remote") == []
    assert not eck.serves_rcs_service_template(snap)
    assert eck.namespace(snap, "local") == "logging" and eck.es_name(snap, "local") == "local-es"


def test_an_unreadable_kubernetes_api_or_list_gives_empty_values_and_keeps_the_names() -> None:
    pair = healthy_pair()
    pair.local.kube_unavailable = FORBIDDEN
    pair.remote.overrides = {"configmaps": FORBIDDEN, "secrets": FORBIDDEN, "services": FORBIDDEN,
                             "elasticsearch_names": FORBIDDEN, "crd": FORBIDDEN}
    snap = pair.build()
    assert eck.kube_of(snap, "local") is None and eck.resource_of(snap, "local") is None
    assert eck.services(snap, "local") == [] and eck.es_names_in_namespace(snap, "local") == ["local-es"]
    assert (eck.configmaps(snap, "remote"), eck.secrets(snap, "remote"), eck.services(snap, "remote")) == (
        {}, {}, [])
    assert eck.es_names_in_namespace(snap, "remote") == ["remote-es"]
    assert not eck.serves_rcs_service_template(snap)


def test_each_role_reads_its_own_side() -> None:
    pair = healthy_pair()
    pair.local.secrets["hidden"] = FORBIDDEN
    pair.local.configmaps["hidden"] = FORBIDDEN  # type: ignore[assignment]
    pair.local.es["metadata"]["name"] = "local-es"
    pair.remote.crd = {"served_versions": ["v1"], "has_rcs_service": True}
    pair.local.crd = {"served_versions": ["v1"], "has_rcs_service": False}
    pair.local.overrides = {"elasticsearch_names": ["logs-es", "local-es", "audit-es"]}
    snap = pair.build()
    assert sorted(eck.secrets(snap, "local")) == ["local-es-es-transport-certs-public", "remote-api-keys"]
    assert sorted(eck.configmaps(snap, "local")) == ["remote-ca"]
    assert [eck.name_of(s) for s in eck.services(snap, "local")] == [
        "local-es-es-http", "local-es-es-transport"]
    assert eck.es_names_in_namespace(snap, "local") == ["audit-es", "local-es", "logs-es"]
    assert eck.serves_rcs_service_template(snap)


def test_an_object_without_a_name_or_a_type_reads_as_the_defaults() -> None:
    assert eck.name_of({}) == "" and eck.name_of({"metadata": None}) == ""
    assert eck.service_type({"spec": {}}) == "ClusterIP" and eck.service_type({}) == "ClusterIP"


# --- settings and secure settings ------------------------------------------------------------------


def test_keys_that_become_remote_credentials_follow_the_entries_remapping() -> None:
    es = {"spec": {"secureSettings": [
        {"secretName": "all-as-is"},
        {"secretName": "mapped", "entries": [
            {"key": "k1", "path": "cluster.remote.a.credentials"},
            {"key": "cluster.remote.b.credentials"},
            {"key": "k3", "path": "cluster.remote.a.other"},
            {"key": "k4", "path": "s3.client.default.credentials"},
            {"path": "cluster.remote.c.credentials"},
        ]},
        {"secretName": "nothing-remote", "entries": [{"key": "k", "path": "xpack.x"}]},
    ]}}
    assert eck.credential_keys(es) == {"mapped": frozenset({"k1", "cluster.remote.b.credentials"})}
    mapped = eck.secure_settings(es)[1]
    assert mapped.key_map["cluster.remote.b.credentials"] == "cluster.remote.b.credentials"
    assert (mapped.keystore_name("k1"), mapped.keystore_name("k9")) == ("cluster.remote.a.credentials", "")
    assert eck.secure_settings(es)[0].keystore_name("k9") == "k9"
    assert eck.secure_settings({"spec": {"secureSettings": [{}]}}) == [eck.SecureSetting("", {})]


def test_flatten_keeps_empty_maps_and_ignores_a_config_that_is_not_a_map() -> None:
    assert eck.flatten({"a": {}, "b": {"c": 1}}) == {"a": {}, "b.c": 1}
    assert eck.nodeset_config({"config": "not a map"}) == {}
    assert eck.flatten("x", "a.b") == {"a.b": "x"}


def test_listed_settings_accept_a_list_or_one_bracketed_comma_separated_string() -> None:
    assert eck.listed(["a.crt", 2]) == ["a.crt", "2"]
    assert eck.listed("[a.crt, b.crt]") == ["a.crt", "b.crt"]
    assert eck.listed(" a.crt ,, b.crt") == ["a.crt", "b.crt"]
    assert eck.listed(None) == []


def test_client_ca_files_default_ssl_to_enabled_and_list_every_nodeset() -> None:
    cas = "xpack.security.remote_cluster_client.ssl.certificate_authorities"
    es = {"spec": {"nodeSets": [
        {"name": "bare", "config": {}},
        {"name": "off", "config": {cas: "a.crt", eck.CLIENT_SSL_ENABLED: "false"}},
        {"name": "hot", "config": {cas: "a.crt"}},
        {"name": "warm", "config": {cas: ["a.crt", "b.crt"]}},
    ]}}
    files, missing = eck.client_ca_files(es)
    assert missing == ["bare", "off"]
    assert [(f.nodeset, f.path, f.mounted) for f in files] == [
        ("hot", "a.crt", None), ("warm", "a.crt", None), ("warm", "b.crt", None)]


# --- which volume provides a file -----------------------------------------------------------------


def _with_mount(volume: dict[str, Any], mount_path: str, sub_path: str = "") -> dict[str, Any]:
    mount = {"name": volume["name"], "mountPath": mount_path, **({"subPath": sub_path} if sub_path else {})}
    return {"name": "hot", "podTemplate": {"spec": {"volumes": [volume], "containers": [
        {"name": "elasticsearch", "volumeMounts": [mount]}]}}}


def test_a_file_mounted_by_sub_path_comes_from_that_key() -> None:
    volume = {"name": "v", "secret": {"secretName": "sec"}}
    node_set = _with_mount(volume, "/usr/share/elasticsearch/config/ca.crt", sub_path="tls.crt")
    assert eck.mounted_file(node_set, "ca.crt") == eck.MountedFile(
        "/usr/share/elasticsearch/config/ca.crt", "v", "secret", "sec", "tls.crt", sub_path=True)
    directory = _with_mount(volume, "/usr/share/elasticsearch/config/certs")
    assert eck.mounted_file(directory, "certs") == eck.MountedFile(
        "/usr/share/elasticsearch/config/certs", "v", "secret", "sec", "")


def test_a_file_from_another_kind_of_volume_or_a_missing_volume() -> None:
    node_set = _with_mount({"name": "scratch", "emptyDir": {}}, "/usr/share/elasticsearch/config/certs")
    assert eck.mounted_file(node_set, "certs/ca.crt") == eck.MountedFile(
        "/usr/share/elasticsearch/config/certs/ca.crt", "scratch", "other", "", "ca.crt")
    node_set["podTemplate"]["spec"]["volumes"] = []
    assert eck.mounted_file(node_set, "certs/ca.crt") is None


# --- services, endpoints, pods ---------------------------------------------------------------------


def _svc(name: str, ports: list[dict[str, Any]], kind: str = "LoadBalancer", es: str = "remote-es",
         ingress: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "spec": {"type": kind, "ports": ports, "selector": {eck.CLUSTER_NAME_LABEL: es}},
            "status": {"loadBalancer": {"ingress": ingress or []}}}


def test_services_selecting_another_cluster_or_with_no_selector_are_not_the_remotes() -> None:
    assert eck.selects_es(_svc("x", []), "remote-es")
    assert not eck.selects_es(_svc("x", [], es="other-es"), "remote-es")
    assert not eck.selects_es({"spec": {"selector": {}}}, "remote-es")


def test_load_balancer_addresses_are_ips_or_host_names() -> None:
    svc = _svc("x", [], ingress=[{"ip": "10.0.0.1"}, {"hostname": "lb.example.com"}, {}])
    assert eck.lb_addresses(svc) == ["10.0.0.1", "lb.example.com"]


def test_exposures_of_9443_name_the_port_index_and_who_owns_the_service() -> None:
    owned = _svc("remote-es-es-remote-cluster", [{"port": 9200, "targetPort": 9200},
                                                  {"port": 9443, "targetPort": 9443, "nodePort": 31443}],
                 ingress=[{"ip": "10.0.0.1"}])
    node_port = _svc("remote-es-np", [{"port": 9443, "targetPort": "rcs", "nodePort": 30443}],
                     kind="NodePort")
    ignored = [_svc("cluster-ip", [{"port": 9443}], kind="ClusterIP"),
               _svc("other-es-lb", [{"port": 9443}], es="other-es", ingress=[{"ip": "10.9.9.9"}])]
    found = eck.rcs_exposures([owned, *ignored, node_port], "remote-es")
    assert found.found == [
        eck.Exposure("remote-es-es-remote-cluster", "LoadBalancer", "10.0.0.1", 9443, 9443, 1, True),
        eck.Exposure("remote-es-es-remote-cluster", "NodePort", "", 31443, 9443, 1, True),
        eck.Exposure("remote-es-np", "NodePort", "", 30443, "rcs", 0, False),
    ]
    assert found.remapped == [] and found.waiting == []


def test_ports_meant_for_9443_that_forward_elsewhere_are_remapped_ports() -> None:
    services = [
        _svc("remote-es-rcs-lb", [{"port": 1, "targetPort": 9300}, {"port": 2, "targetPort": 9200},
                                  {"port": 3, "targetPort": "transport"}, {"port": 4, "targetPort": "https"},
                                  {"port": 5, "targetPort": "http"}, {"port": 6, "targetPort": 7000}]),
        _svc("remote-es-remote-cluster-ext", [{"port": 443, "targetPort": 8443, "name": "tls"}]),
        _svc("remote-es-ext", [{"port": 9443, "targetPort": 9000, "name": "tls"}]),
        _svc("remote-es-public", [{"port": 443, "targetPort": 8443, "name": "rcs-tls"}]),
        _svc("remote-es-web", [{"port": 8080, "targetPort": 8080, "name": "web"}]),
        _svc("remote-es-es-remote-cluster", [{"port": 9443, "targetPort": 9400}]),
    ]
    found = eck.rcs_exposures(services, "remote-es")
    assert found.remapped == [
        eck.RemappedPort("remote-es-rcs-lb", 5, 6, 7000, False),
        eck.RemappedPort("remote-es-remote-cluster-ext", 0, 443, 8443, False),
        eck.RemappedPort("remote-es-ext", 0, 9443, 9000, False),
        eck.RemappedPort("remote-es-public", 0, 443, 8443, False),
        eck.RemappedPort("remote-es-es-remote-cluster", 0, 9443, 9400, True),
    ]
    assert found.found == []


def test_a_pod_is_ready_only_running_with_the_ready_condition_and_not_being_deleted() -> None:
    def pod(phase: str = "Running", deleting: bool = False, **conditions: str) -> dict[str, Any]:
        metadata = {"deletionTimestamp": "2026-06-01T00:00:00Z"} if deleting else {}
        return {"metadata": metadata, "status": {"phase": phase, "conditions": [
            {"type": t, "status": s} for t, s in conditions.items()]}}

    assert eck.is_ready(pod(Ready="True"))
    assert not eck.is_ready(pod(Ready="True", deleting=True))
    assert not eck.is_ready(pod("Pending", Ready="True"))
    assert not eck.is_ready(pod(Ready="False", Initialized="True"))
    assert not eck.is_ready({"status": {"phase": "Running"}})


# --- versions --------------------------------------------------------------------------------------


def test_the_running_version_comes_from_the_rest_answer_then_the_status_then_the_spec() -> None:
    pair = healthy_pair()
    assert eck.es_version(pair.build().local) == "8.17.1"
    pair.local.es_unavailable = FORBIDDEN
    pair.local.es["status"]["version"] = "8.16.0"
    pair.local.es["spec"]["version"] = "8.17.0"
    assert eck.es_version(pair.build().local) == "8.16.0"
    del pair.local.es["status"]["version"]
    assert eck.es_version(pair.build().local) == "8.17.0"
    del pair.local.es["spec"]["version"]
    assert eck.es_version(pair.build().local) == ""
    pair.local.overrides = {"elasticsearch": FORBIDDEN}
    assert eck.es_version(pair.build().local) == ""


def test_the_operator_version_is_empty_when_unknown() -> None:
    pair = healthy_pair()
    assert eck.eck_version(pair.build().local) == "3.2.0"
    del pair.local.es["metadata"]["annotations"]["common.k8s.elastic.co/controller-version"]
    assert eck.eck_version(pair.build().local) == ""
    pair.local.overrides = {"elasticsearch": FORBIDDEN}
    assert eck.eck_version(pair.build().local) == ""


def _node(name: str, ready: bool = True, **addresses: str) -> dict[str, Any]:
    return {"metadata": {"name": name},
            "status": {"addresses": [{"type": t, "address": a} for t, a in addresses.items()],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_a_node_is_reached_by_its_external_ip_else_its_internal_ip_never_its_hostname() -> None:
    nodes = [_node("b", InternalIP="10.0.0.2", Hostname="b"),
             _node("a", InternalIP="10.0.0.1", ExternalIP="34.1.2.3"),
             _node("c", Hostname="c.example")]
    assert eck.node_addresses(nodes) == ["34.1.2.3", "10.0.0.2"]


def test_ready_nodes_come_first() -> None:
    nodes = [_node("a", ready=False, InternalIP="10.0.0.1"), _node("b", InternalIP="10.0.0.2")]
    assert eck.node_addresses(nodes) == ["10.0.0.2", "10.0.0.1"]


def test_a_node_port_exposure_carries_the_first_node_address_when_the_nodes_were_read() -> None:
    svc = {"metadata": {"name": "rcs"}, "spec": {
        "type": "NodePort", "selector": {eck.CLUSTER_NAME_LABEL: "remote-es"},
        "ports": [{"port": 9443, "targetPort": 9443, "nodePort": 30443}]}}
    [known] = eck.rcs_exposures([svc], "remote-es", ["34.1.2.3"]).found
    assert known.proxy_address == "34.1.2.3:30443"
    assert known.describe() == "NodePort rcs at 34.1.2.3:30443 -> 9443"
    [unknown] = eck.rcs_exposures([svc], "remote-es").found
    assert unknown.proxy_address == "" and unknown.where == "<node address>:30443"


def test_with_an_api_key_remote_cluster_ecks_ca_list_comes_first_and_a_string_replaces_it() -> None:
    # elastic/cloud-on-k8s merged_config.go (xpackConfig) + go-ucfg AppendValues: a nodeSet list is
    # appended to ECK's, a string replaces it; ECK's files come from its own Secrets
    es: dict[str, Any] = {"metadata": {"name": "local-es", "namespace": "logging"}, "spec": {
        "remoteClusters": [{"name": "peer", "elasticsearchRef": {"name": "peer"}, "apiKey": {}}],
        "nodeSets": [{"name": "plain"},
                     {"name": "listed", "config": {eck.CLIENT_SSL_CAS: ["remote-certs/ca.crt"]}},
                     {"name": "string", "config": {eck.CLIENT_SSL_CAS: "remote-certs/ca.crt"}}]}}
    files, missing = eck.client_ca_files(es)
    by_set: dict[str, list[str]] = {}
    for f in files:
        by_set.setdefault(f.nodeset, []).append(eck.config_path(f.path))
    assert missing == []
    assert by_set["plain"] == list(eck.ECK_CLIENT_CAS)
    assert by_set["listed"] == [*eck.ECK_CLIENT_CAS, "/usr/share/elasticsearch/config/remote-certs/ca.crt"]
    assert by_set["string"] == ["/usr/share/elasticsearch/config/remote-certs/ca.crt"]
    remote_ca = next(f for f in files if f.path == eck.ECK_CLIENT_CAS[1])
    assert remote_ca.mounted is not None and (remote_ca.mounted.kind, remote_ca.mounted.source) == \
        ("secret", "local-es-es-remote-ca")
    assert [eck.replaces_eck_client_cas(es, n.get("config") or {}) for n in eck.nodesets(es)] == \
        [False, False, True]
