"""Every scenario shows the real effect of its fault, with the real texts, through real clients.

`_resolve/cluster` makes a fresh, bounded connection attempt, so it is the deterministic probe;
`_remote/info` is polled where the background link matters (no timed assertions: a deadline
only bounds the wait).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.twin.clients import es_for, kube_api
from tests.twin.eck_config import CONFIG_HASH, decode_secret_data
from tests.twin.es_api import es_call
from tests.twin.faults import SCENARIOS
from tests.twin.fleet_scenarios import FLEET_SCENARIOS
from tests.twin.scenarios import RunningScenario

Twin = Callable[[str], RunningScenario]
LOCAL = ("logging", "local-es")
REMOTE = ("search", "remote-es")
PKIX = "PKIX path building failed"
# The JDK finds an anchor by the issuer's name; another key under that name fails the signature.
PKIX_SIGNATURE = (
    "PKIX path validation failed: java.security.cert.CertPathValidatorException: signature check failed"
)
UNREACHABLE_LOG = "failed to open any proxy connections to cluster [remote-es]"
DEADLINE = 15.0


def remote_info(running: RunningScenario, pod: str | None = None) -> dict[str, Any]:
    return es_call(running.local, *LOCAL, "GET", "/_remote/info", pod=pod)[1]


def resolve(running: RunningScenario, pod: str | None = None) -> dict[str, Any]:
    status, body = es_call(running.local, *LOCAL, "GET", "/_resolve/cluster/remote-es:*", expect_ok=False,
                           pod=pod)
    return {"status": status, **(body.get("remote-es", body) if isinstance(body, dict) else {})}


def wait_connected(running: RunningScenario, expected: bool = True) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    while True:
        info = remote_info(running)["remote-es"]
        if info["connected"] is expected or time.monotonic() > deadline:
            return info
        time.sleep(0.05)


def logs(running: RunningScenario, side: str) -> str:
    env, (namespace, es) = (running.local, LOCAL) if side == "local" else (running.remote, REMOTE)
    return "\n".join(env.pod_logs(namespace, pod) for pod in env.es(namespace, es).pods())


def events(running: RunningScenario) -> list[str]:
    return [e["message"] for e in running.local.store.list("events", "logging")]


# ---- catalogue and entry points ---------------------------------------------------------------


def test_scenarios_command_lists_the_catalogue() -> None:
    out = subprocess.run([sys.executable, "-m", "tests.twin", "scenarios"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.split() == [*SCENARIOS, *FLEET_SCENARIOS]


def test_catalogue_covers_every_failure_row_between_two_eck_environments() -> None:
    covered = {row for scenario in SCENARIOS.values() for row in scenario.rows}
    # F16 (key access / local roles too narrow) shows on the cross-cluster reads of doctor --index
    assert {f"F{n}" for n in range(1, 24)} - covered == set()
    assert all(s.checks for s in SCENARIOS.values() if s.rows)


def test_kubectl_reads_elasticsearches_of_a_scenario(twin: Twin) -> None:
    running = twin("rbac-restricted")
    base = ["kubectl", "--kubeconfig", str(running.kubeconfig), "--request-timeout=10s"]
    out = subprocess.run([*base, "--context", "remote", "get", "elasticsearches", "-o", "json"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    items = json.loads(out)["items"]
    assert [(i["metadata"]["name"], i["status"]["phase"]) for i in items] == [("remote-es", "Ready")]
    denied = subprocess.run([*base, "--context", "local", "get", "secrets"], capture_output=True, text=True,
                            timeout=60)
    assert denied.returncode != 0
    assert 'secrets is forbidden: User "restricted" cannot list resource "secrets"' in denied.stderr
    review = subprocess.run([*base, "--context", "local", "auth", "can-i", "get", "secrets"],
                            capture_output=True, text=True, timeout=60)
    assert review.stdout.strip() == "no"
    log = subprocess.run([*base, "--context", "remote", "logs", "remote-es-es-default-0"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert "started {remote-es-es-default-0}" in log


def test_official_clients_reach_remote_info_through_a_port_forward(twin: Twin) -> None:
    running = twin("healthy")
    with es_for(running.kubeconfig, "local", *LOCAL) as es:
        deadline = time.monotonic() + DEADLINE
        info = es.cluster.remote_info().body
        while not info["remote-es"]["connected"] and time.monotonic() < deadline:
            time.sleep(0.05)
            info = es.cluster.remote_info().body
    assert info["remote-es"]["connected"] is True
    assert info["remote-es"]["cluster_credentials"] == "::es_redacted::"


@pytest.mark.parametrize("name", ["healthy", "healthy-eck-rcs-service", "healthy-lb-ip-san",
                                  "server-name-wrong-lb-ip-san", "healthy-9x", "healthy-mixed-9-8",
                                  "cert-model-healthy"])  # strong-identity-healthy: test_doctor_live.py
def test_healthy_scenarios_start_connected(twin: Twin, name: str) -> None:
    running = twin(name)
    info = wait_connected(running)
    assert info["connected"] is True and info["num_proxy_sockets_connected"] > 0
    assert ("cluster_credentials" in info) == (name != "cert-model-healthy")
    assert resolve(running)["connected"] is True


def test_canaries_hold_the_planted_secrets_and_no_certificate(twin: Twin) -> None:
    running = twin("healthy")
    canaries = running.canaries()
    keys = decode_secret_data(running.local.store.get("secrets", "logging", "remote-api-keys"))
    password = decode_secret_data(running.remote.store.get("secrets", "search", "remote-es-es-elastic-user"))
    assert keys["cluster.remote.remote-es.credentials"] in canaries
    assert password["elastic"] in canaries
    assert not any("BEGIN CERTIFICATE" in c for c in canaries)


# ---- one test per fault: the effect a user (and the product) can see -----------------------------

# scenario -> (what to look at, text expected there). `_resolve/cluster` names no cause for a
# remote it cannot reach (connect, TLS, handshake): those are seen in the local pods' log.
EFFECTS: dict[str, tuple[str, str]] = {
    "rcs-disabled": ("local-log", "Connection closed while SSL/TLS handshake was in progress"),
    "lb-no-address": ("local-log", UNREACHABLE_LOG),
    "remote-pods-not-ready": ("remote-events", 'MountVolume.SetUp failed for volume "synonyms" : configmap '
                              '"remote-es-synonyms" not found'),
    "targetport-missing": ("local-log", "Connection closed while SSL/TLS handshake was in progress"),
    "proxy-to-transport-port": ("local-log", "Received fatal alert: bad_certificate"),
    "blackhole": ("local-log", "handshake timed out after 10000ms"),
    "refused": ("local-log", UNREACHABLE_LOG),
    "connect-timeout": ("local-log", UNREACHABLE_LOG),
    "ca-not-mounted": ("local-log", "(with trust configuration: JDK-trusted-certs)"),
    "ca-wrong-path": ("local-log", PKIX),
    "stale-ca": ("local-log", PKIX_SIGNATURE),
    "same-es-name": ("local-log", PKIX_SIGNATURE),
    "server-name-unset": ("local-log", "No subject alternative names matching IP address"),
    "server-name-ip": ("local-log", "No subject alternative names matching IP address"),
    "tls-terminating-proxy": ("local-log", "Kubernetes Ingress Controller Fake Certificate"),
    "plaintext-proxy": ("remote-log", "received plaintext traffic on an encrypted channel"),
    "secure-settings-secret-missing": ("events", "Secure settings secret not found: logging/remote-api-keys"),
    "alias-typo": ("no-credentials", ""),
    "raw-api-key": ("local-log", "invalid cross-cluster API key value"),
    "rest-api-key": ("local-log", "expected API key type of [cross_cluster], but API key ["),
    "key-unknown-to-remote": ("remote-log", "apikey failed - unable to find apikey with id unknownKeyId"),
    "expired-api-key": ("remote-log", "Authentication using apikey failed - api key is expired"),
    "invalidated-api-key": ("remote-log", "] has been invalidated"),
    "basic-license": ("local-log", "current license is non-compliant for [advanced-remote-cluster-security]"),
    "sniff-mode": ("local-log", "No subject alternative names matching IP address"),
    "skip-unavailable-broken": ("local-log", PKIX),
    "rollout-pending": ("resolve", "unable to authenticate user ["),
    "es-too-old": ("resolve", "no handler found for uri [/_resolve/cluster/remote-es:*]"),
    "cert-expired": ("local-log", "validity check failed"),
    "version-pair-unsupported": ("local-log", "minimal compatible version is: [8.19.0]"),
    "cert-model-one-way": ("local-log", "Received fatal alert: certificate_unknown"),
    "strong-identity-dn-mismatch": ("local-log", "DN from provided certificate [CN=local-es-signing,"
                                    "OU=logging] does not match API Key certificate identity pattern "
                                    "[CN=local-es-signer,"),
    "strong-identity-unsigned": ("local-log", "requires certificate identity matching [CN=local-es-signing,"
                                 "OU=logging], but no certificate was provided"),
    "strong-identity-untrusted-signer": ("local-log", "Failed to verify cross cluster api key signature "
                                         "certificate from [(CN=local-es-signing, OU=logging;X.509;SHA1:"),
    "cert-model-to-rcs": ("local-log",
                          "require transport header [_cross_cluster_access_credentials] but none"),
    "cert-model-configmap-wrong-key": ("events", "config map logging/remote-es-ca specified in "
                                       "spec.transport.tls.certificateAuthorities must contain ca.crt file"),
}


def _observe(running: RunningScenario, where: str, resolved: dict[str, Any]) -> str:
    if where == "resolve":
        return json.dumps(resolved)
    if where == "events":
        return "\n".join(events(running))
    if where == "remote-events":
        return "\n".join(e["message"] for e in running.remote.store.list("events", "search"))
    if where == "no-credentials":
        return json.dumps(remote_info(running))
    return logs(running, where.split("-")[0])


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_fault_scenario_shows_its_real_effect(twin: Twin, name: str) -> None:
    running = twin(name)
    where, text = EFFECTS[name]
    resolved = resolve(running)  # makes (or triggers) a fresh attempt, which both sides log
    deadline = time.monotonic() + DEADLINE
    seen = _observe(running, where, resolved)
    while text not in seen and time.monotonic() < deadline:  # a black hole's attempt takes seconds
        time.sleep(0.1)
        seen = _observe(running, where, resolved)
    assert text in seen, f"{name}: expected {text!r} in {where}: {seen[:2000]}"
    assert resolved.get("connected") is not True
    if where == "no-credentials":
        assert "cluster_credentials" not in remote_info(running)["remote-es"]


def test_ca_missing_on_one_nodeset_breaks_only_that_nodeset(twin: Twin) -> None:
    running = twin("ca-missing-on-one-nodeset")
    assert resolve(running, pod="local-es-es-hot-0")["connected"] is True
    warm = resolve(running, pod="local-es-es-warm-0")
    assert warm["connected"] is False and "error" not in warm
    assert PKIX in logs(running, "local")


def test_nodes_without_the_client_role_have_no_links(twin: Twin) -> None:
    running = twin("no-remote-cluster-client-role")
    assert remote_info(running) == {}
    assert "does not have the [remote_cluster_client] role" in json.dumps(resolve(running))


def test_no_remote_config_has_nothing_set_up(twin: Twin) -> None:
    running = twin("no-remote-config")
    assert remote_info(running) == {}
    assert not running.remote.store.exists("services", "search", "remote-es-es-remote-cluster")


def test_lb_without_address_has_no_ingress(twin: Twin) -> None:
    running = twin("lb-no-address")
    service = running.remote.store.get("services", "search", "remote-es-rcs")
    assert not (service.get("status") or {}).get("loadBalancer")


def test_rollout_pending_keeps_old_pods_and_old_key(twin: Twin) -> None:
    running = twin("rollout-pending")
    store = running.local.store
    sts = store.get("statefulsets", "logging", "local-es-es-default")
    pod = store.get("pods", "logging", "local-es-es-default-0")
    assert sts["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH] != \
        pod["metadata"]["annotations"][CONFIG_HASH]
    assert store.get("elasticsearches", "logging", "local-es")["status"]["phase"] == "ApplyingChanges"


def test_remote_fixed_later_stays_disconnected_until_a_request_makes_it_try(twin: Twin) -> None:
    running = twin("remote-fixed-later")
    assert running.remote.store.get("elasticsearches", *REMOTE)["spec"]["remoteClusterServer"]["enabled"]
    assert remote_info(running)["remote-es"]["connected"] is False  # no periodic retry
    assert "Connection closed while SSL/TLS handshake was in progress" in logs(running, "local")
    first = resolve(running)  # 8.15: answers at once for a disconnected remote, starts an attempt
    assert first["connected"] is False and "error" not in first
    assert wait_connected(running)["connected"] is True
    assert resolve(running)["connected"] is True


def test_changing_the_ca_or_the_key_by_hand_flips_connected(twin: Twin) -> None:
    running = twin("stale-ca")
    assert resolve(running)["connected"] is False
    store = running.local.store
    good_ca = decode_secret_data(running.remote.store.get("secrets", "search",
                                                          "remote-es-es-transport-certs-public"))["ca.crt"]
    configmap = store.get("configmaps", "logging", "remote-ca")
    configmap["data"] = {"remote-cluster-ca.crt": good_ca}
    store.update("configmaps", configmap)
    assert running.settle()
    # kubelet updated the file; the running node reloaded it (no restart) and, having no periodic
    # retry, connects when a request asks (8.15 answers that first request at once, disconnected)
    reloaded = ("updated 1 ssl contexts in 0.1ms for prefix names [xpack.security.remote_cluster_client.ssl] "
                "using file [/usr/share/elasticsearch/config/remote-certs/remote-cluster-ca.crt]")
    assert reloaded in logs(running, "local")
    assert logs(running, "local").count("started {") == 1
    resolve(running)
    assert wait_connected(running)["connected"] is True
    assert resolve(running)["connected"] is True
    _, key = es_call(running.remote, *REMOTE, "GET", "/_security/api_key?name=local-es-to-remote-es")
    es_call(running.remote, *REMOTE, "DELETE", "/_security/api_key", {"ids": [key["api_keys"][0]["id"]]})
    assert "has been invalidated" in json.dumps(resolve(running)) + logs(running, "remote")
    assert resolve(running)["connected"] is False


def test_a_node_with_reloading_disabled_keeps_the_ca_it_started_with(twin: Twin) -> None:
    # resource.reload.enabled: false: kubelet updates the file, Elasticsearch never reads it again
    running = twin("stale-ca")
    store = running.local.store
    es = store.get("elasticsearches", *LOCAL)
    for node_set in es["spec"]["nodeSets"]:
        node_set["config"]["resource.reload.enabled"] = False
    store.update("elasticsearches", es)
    assert running.settle()
    good_ca = decode_secret_data(running.remote.store.get("secrets", "search",
                                                          "remote-es-es-transport-certs-public"))["ca.crt"]
    configmap = store.get("configmaps", "logging", "remote-ca")
    configmap["data"] = {"remote-cluster-ca.crt": good_ca}
    store.update("configmaps", configmap)
    assert running.settle()
    assert resolve(running)["connected"] is False
    assert "updated 1 ssl contexts" not in logs(running, "local")


def test_up_command_serves_a_scenario_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "twin.yaml"
    proc = subprocess.Popen([sys.executable, "-m", "tests.twin", "up", "--scenario", "healthy",
                             "--kubeconfig", str(kubeconfig)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("ready scenario=healthy"), first
        out = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "--context", "local",
                              "--request-timeout=10s", "get", "elasticsearches", "-o", "name"],
                             capture_output=True, text=True, check=True, timeout=60).stdout
        assert out.strip() == "elasticsearch.elasticsearch.k8s.elastic.co/local-es"
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert rest.strip().endswith("stopped")


def test_readme_catalogue_lists_every_scenario() -> None:
    readme = (Path(__file__).parent / "README.md").read_text()
    rows = [line.split("|")[1].strip() for line in readme.splitlines()
            if line.startswith("| ") and not line.startswith("| scenario")]
    assert rows == list(SCENARIOS)


def test_eck_webhook_refuses_rcs_before_8_10_1(twin: Twin) -> None:
    running = twin("no-remote-config")
    es = {"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
          "metadata": {"name": "old-es", "namespace": "search"},
          "spec": {"version": "8.10.0", "remoteClusterServer": {"enabled": True},
                   "nodeSets": [{"name": "default", "count": 1}]}}
    result = subprocess.run(["kubectl", "--kubeconfig", str(running.kubeconfig), "--context", "remote",
                             "--request-timeout=10s", "create", "-f", "-"], input=json.dumps(es),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert ('"old-es" is invalid: spec.remoteClusterServer: Invalid value: "8.10.0": minimum required '
            'version for remote cluster server is 8.10.0 but desired version is 8.10.0') in result.stderr
    api = kube_api(running.kubeconfig, "remote")
    with pytest.raises(ApiException) as refused:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            "elasticsearch.k8s.elastic.co", "v1", "search", "elasticsearches", es)
    api.close()
    assert refused.value.status == 422
    assert 'admission webhook \\"elastic-es-validation-v1.k8s.elastic.co\\" denied the request' in str(
        refused.value.body)
