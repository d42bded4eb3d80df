"""domain.md §2 done by hand on `no-remote-config`, only through public APIs (the official
kubernetes client against the two kube API twins, the official Elasticsearch client through
port-forwards), ends with `_remote/info` connected and `_resolve/cluster` succeeding."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

from tests.twin.clients import es_for, kube_api, secret_value

GROUP, VERSION, PLURAL = "elasticsearch.k8s.elastic.co", "v1", "elasticsearches"
DEADLINE = 20.0


def _wait_for(what: str, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + DEADLINE
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _rolled_out(custom: Any, namespace: str, name: str) -> Callable[[], bool]:
    def probe() -> bool:
        es = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        status = es.get("status") or {}
        return bool(status.get("phase") == "Ready"
                    and status.get("observedGeneration") == es["metadata"]["generation"])
    return probe


def _enable_and_expose_rcs(api: client.ApiClient) -> str:
    custom: Any = client.CustomObjectsApi(api)
    core: Any = client.CoreV1Api(api)
    custom.patch_namespaced_custom_object(GROUP, VERSION, "search", PLURAL, "remote-es",
                                          {"spec": {"remoteClusterServer": {"enabled": True}}})
    _wait_for("remote rollout", _rolled_out(custom, "search", "remote-es"))
    core.create_namespaced_service("search", {
        "metadata": {"name": "remote-es-rcs"},
        "spec": {"type": "LoadBalancer",
                 "selector": {"elasticsearch.k8s.elastic.co/cluster-name": "remote-es",
                              "common.k8s.elastic.co/type": "elasticsearch"},
                 "ports": [{"name": "rcs", "port": 9443, "targetPort": 9443}]}})

    def lb_ip() -> str | None:
        ingress = (core.read_namespaced_service("remote-es-rcs", "search").status.load_balancer.ingress or [])
        return ingress[0].ip if ingress else None

    return str(_wait_for("load balancer address", lb_ip))


def _configure_local(api: client.ApiClient, ca_pem: str, encoded: str) -> None:
    core: Any = client.CoreV1Api(api)
    custom: Any = client.CustomObjectsApi(api)
    core.create_namespaced_config_map("logging", {"metadata": {"name": "remote-ca"},
                                                  "data": {"remote-cluster-ca.crt": ca_pem}})
    credentials = {"cluster.remote.remote-es.credentials": encoded}
    body = {"metadata": {"name": "remote-api-keys"}, "stringData": credentials}
    core.create_namespaced_secret("logging", body)
    es = custom.get_namespaced_custom_object(GROUP, VERSION, "logging", PLURAL, "local-es")
    spec = es["spec"]
    spec.setdefault("secureSettings", []).append({"secretName": "remote-api-keys"})
    for node_set in spec["nodeSets"]:
        node_set.setdefault("config", {}).update({
            "xpack.security.remote_cluster_client.ssl.enabled": True,
            "xpack.security.remote_cluster_client.ssl.certificate_authorities": [
                "remote-certs/remote-cluster-ca.crt"]})
        pod_spec = node_set.setdefault("podTemplate", {}).setdefault("spec", {})
        volume = {"name": "remote-certs", "configMap": {"name": "remote-ca"}}
        pod_spec.setdefault("volumes", []).append(volume)
        containers = pod_spec.setdefault("containers", [])
        if not any(c.get("name") == "elasticsearch" for c in containers):
            containers.append({"name": "elasticsearch"})
        for container in containers:
            if container["name"] == "elasticsearch":
                container.setdefault("volumeMounts", []).append(
                    {"name": "remote-certs", "mountPath": "/usr/share/elasticsearch/config/remote-certs"})
    custom.replace_namespaced_custom_object(GROUP, VERSION, "logging", PLURAL, "local-es", es)
    _wait_for("local rollout", _rolled_out(custom, "logging", "local-es"))


def test_manual_procedure_on_no_remote_config_ends_connected(twin: Callable[[str], Any]) -> None:
    running = twin("no-remote-config")
    kubeconfig = running.kubeconfig
    remote_api, local_api = kube_api(kubeconfig, "remote"), kube_api(kubeconfig, "local")
    lb_ip = _enable_and_expose_rcs(remote_api)
    ca_pem = secret_value(remote_api, "search", "remote-es-es-transport-certs-public", "ca.crt")
    with es_for(kubeconfig, "remote", "search", "remote-es") as remote_es:
        key = remote_es.security.create_cross_cluster_api_key(
            name="local-es-to-remote-es", expiration="90d",
            access={"search": [{"names": ["logs-*"]}], "replication": [{"names": ["leader-*"]}]})
    _configure_local(local_api, ca_pem, key["encoded"])
    with es_for(kubeconfig, "local", "logging", "local-es") as local_es:
        local_es.cluster.put_settings(persistent={"cluster.remote.remote-es.mode": "proxy",
                                                  "cluster.remote.remote-es.proxy_address": f"{lb_ip}:9443",
                                                  "cluster.remote.remote-es.server_name":
                                                      "remote-es-es-remote-cluster.search.svc"})
        info = _wait_for("connected", lambda: (lambda i: i if i["remote-es"]["connected"] else None)(
            local_es.cluster.remote_info().body))
        resolved = local_es.indices.resolve_cluster(name="remote-es:*").body
    assert info["remote-es"]["cluster_credentials"] == "::es_redacted::"
    assert info["remote-es"]["num_proxy_sockets_connected"] > 0
    assert resolved["remote-es"]["connected"] is True
    assert "error" not in resolved["remote-es"]
    remote_api.close()
    local_api.close()
