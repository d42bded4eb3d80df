"""Real kubectl and the official Python client work against the API twin, and see what a real
API server would show them (tables, Status errors, RBAC denials, patch semantics)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.twin.kube_store import Store
from tests.twin.kube_testkit import RESTRICTED_TOKEN, RunningApi, start_api

ES_GROUP = "elasticsearch.k8s.elastic.co"
PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
# An ECK < 3.3 schema: remoteClusterServer has no `service`.
ES_SCHEMA = {"openAPIV3Schema": {"type": "object", "properties": {
    "spec": {"type": "object", "required": ["version"], "properties": {
        "version": {"type": "string"}, "nodeSets": {"type": "array", "items": PRESERVE},
        "remoteClusterServer": {"type": "object", "properties": {"enabled": {"type": "boolean"}}}}},
    "status": PRESERVE}}}
ES_CRD: dict[str, Any] = {
    "metadata": {"name": f"elasticsearches.{ES_GROUP}"},
    "spec": {"group": ES_GROUP, "scope": "Namespaced",
             "names": {"plural": "elasticsearches", "singular": "elasticsearch", "kind": "Elasticsearch",
                       "listKind": "ElasticsearchList", "shortNames": ["es"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": ES_SCHEMA,
                           "additionalPrinterColumns": [
                               {"name": "health", "type": "string", "jsonPath": ".status.health"},
                               {"name": "age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]}]}}


def seeded_store(with_crd: bool = True) -> Store:
    store = Store()
    store.create("namespaces", {"metadata": {"name": "logging"}})
    if with_crd:
        store.create("customresourcedefinitions", ES_CRD)
        store.create("elasticsearches", {"metadata": {"name": "quickstart", "namespace": "logging"},
                                         "spec": {"version": "8.15.0", "nodeSets": [{"name": "default",
                                                                                     "count": 1}]}})
    store.create("secrets", {"metadata": {"name": "quickstart-es-elastic-user", "namespace": "logging"},
                             "stringData": {"elastic": "s3cr3t-canary"}})
    store.create("configmaps", {"metadata": {"name": "settings", "namespace": "logging",
                                             "labels": {"app": "eck"}}, "data": {"mode": "proxy"}})
    svc = store.create("services", {
        "metadata": {"name": "quickstart-es-remote-cluster", "namespace": "logging"},
        "spec": {"type": "LoadBalancer", "ports": [{"name": "rcs", "port": 9443}]}})
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "127.0.0.77"}]}}
    store.update("services", svc, subresource="status")
    return store


@pytest.fixture
def api() -> Iterator[RunningApi]:
    running = start_api(seeded_store())
    yield running
    running.stop()


@pytest.fixture
def kubectl(api: RunningApi, tmp_path: Path) -> Any:
    admin = api.write_kubeconfig(tmp_path / "admin.yaml", namespace="logging")
    restricted = api.write_kubeconfig(tmp_path / "restricted.yaml", RESTRICTED_TOKEN, namespace="logging")
    env = {**os.environ, "HOME": str(tmp_path)}

    def run(*args: str, restricted_user: bool = False,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        kubeconfig = restricted if restricted_user else admin
        return subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    return run


def python_client(api: RunningApi, tmp_path: Path, token: str | None = None) -> client.ApiClient:
    path = api.write_kubeconfig(tmp_path / "py.yaml", *([token] if token else []))
    return config.new_client_from_config(config_file=str(path))


def es_version(api: RunningApi) -> str:
    return str(api.store.get("elasticsearches", "logging", "quickstart")["spec"]["version"])


# ---- kubectl -------------------------------------------------------------------------------

def test_kubectl_get_elasticsearches_json_lists_the_custom_resource(kubectl: Any) -> None:
    result = kubectl("get", "elasticsearches", "-o", "json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    assert [i["metadata"]["name"] for i in items] == ["quickstart"]
    assert items[0]["apiVersion"] == f"{ES_GROUP}/v1"


def test_kubectl_short_name_es_uses_the_crd_printer_columns(kubectl: Any) -> None:
    result = kubectl("get", "es")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0].split() == ["NAME", "HEALTH", "AGE"]


def test_kubectl_get_secrets_prints_a_table_without_values(kubectl: Any) -> None:
    result = kubectl("get", "secrets")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.strip().split("\n")
    assert header.split() == ["NAME", "TYPE", "DATA", "AGE"]
    assert row.split()[:3] == ["quickstart-es-elastic-user", "Opaque", "1"]
    assert "s3cr3t" not in result.stdout


def test_kubectl_get_services_shows_the_load_balancer_address(kubectl: Any) -> None:
    result = kubectl("get", "services")
    assert result.returncode == 0, result.stderr
    assert "127.0.0.77" in result.stdout and "9443:" in result.stdout


def test_kubectl_get_configmaps_yaml_and_describe(kubectl: Any) -> None:
    listed = kubectl("get", "configmaps", "-o", "yaml", "-l", "app=eck")
    assert listed.returncode == 0, listed.stderr
    assert yaml.safe_load(listed.stdout)["items"][0]["data"] == {"mode": "proxy"}
    described = kubectl("describe", "configmap", "settings")
    assert described.returncode == 0, described.stderr
    assert "Name:         settings" in described.stdout and "proxy" in described.stdout


def test_kubectl_merge_and_json_patch_on_an_elasticsearch(kubectl: Any, api: RunningApi) -> None:
    merged = kubectl("patch", "elasticsearch", "quickstart", "--type", "merge", "-p",
                     '{"spec":{"version":"8.16.0"}}')
    assert merged.returncode == 0, merged.stderr
    assert es_version(api) == "8.16.0"
    ops = json.dumps([{"op": "test", "path": "/spec/version", "value": "8.16.0"},
                      {"op": "replace", "path": "/spec/version", "value": "8.17.0"}])
    patched = kubectl("patch", "es", "quickstart", "--type", "json", "-p", ops)
    assert patched.returncode == 0, patched.stderr
    assert es_version(api) == "8.17.0"
    assert api.store.get("elasticsearches", "logging", "quickstart")["metadata"]["generation"] == 3


def test_kubectl_strategic_patch_on_a_custom_resource_is_refused_with_415(kubectl: Any,
                                                                          api: RunningApi) -> None:
    result = kubectl("patch", "es", "quickstart", "-p", '{"spec":{"version":"9.0.0"}}')
    assert result.returncode != 0
    # kubectl's own wording around the server's 415 Status message
    assert ("error: application/strategic-merge-patch+json is not supported by "
            "elasticsearch.k8s.elastic.co/v1, Kind=Elasticsearch: the body of the request was in an unknown "
            "format - accepted media types include: application/json-patch+json, "
            "application/merge-patch+json, application/apply-patch+yaml") in result.stderr
    assert [e.code for e in api.audit.entries() if e.method == "PATCH"] == [415]
    assert es_version(api) == "8.15.0"


def test_kubectl_replace_with_a_stale_resource_version_is_a_conflict(kubectl: Any, api: RunningApi,
                                                                     tmp_path: Path) -> None:
    stale = api.store.get("elasticsearches", "logging", "quickstart")
    api.store.patch("elasticsearches", "logging", "quickstart", "application/merge-patch+json",
                    {"metadata": {"labels": {"touched": "yes"}}})
    stale["spec"]["version"] = "9.9.9"
    manifest = tmp_path / "es.json"
    manifest.write_text(json.dumps(stale))
    result = kubectl("replace", "-f", str(manifest))
    assert result.returncode != 0
    assert ('Operation cannot be fulfilled on elasticsearches.elasticsearch.k8s.elastic.co "quickstart": the '
            "object has been modified; please apply your changes to the latest version and try again"
            ) in result.stderr
    assert es_version(api) == "8.15.0"


def test_kubectl_server_dry_run_stores_nothing(kubectl: Any, api: RunningApi) -> None:
    result = kubectl("patch", "es", "quickstart", "--type", "merge", "-p", '{"spec":{"version":"9.1.0"}}',
                     "--dry-run=server", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spec"]["version"] == "9.1.0"
    assert es_version(api) == "8.15.0"
    assert api.audit.mutating() == [] and len(api.audit.mutating(include_dry_run=True)) == 1


def test_kubectl_server_side_apply_creates_a_configmap(kubectl: Any, api: RunningApi) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  key: value\n"
    result = kubectl("apply", "--server-side", "-f", "-", stdin=manifest)
    assert result.returncode == 0, result.stderr
    assert "serverside-applied" in result.stdout
    assert api.store.get("configmaps", "logging", "applied")["data"] == {"key": "value"}
    apply = [e for e in api.audit.mutating() if e.method == "PATCH"]
    assert apply[0].content_type == "application/apply-patch+yaml"
    assert "fieldManager=kubectl" in apply[0].query


def test_kubectl_patch_with_a_field_the_crd_does_not_know_warns_and_prunes_it(kubectl: Any,
                                                                             api: RunningApi) -> None:
    patch = '{"spec":{"remoteClusterServer":{"enabled":true,"service":{"spec":{"type":"LoadBalancer"}}}}}'
    result = kubectl("patch", "es", "quickstart", "--type", "merge", "-p", patch)
    assert result.returncode == 0, result.stderr
    assert 'Warning: unknown field "spec.remoteClusterServer.service"' in result.stderr
    spec = api.store.get("elasticsearches", "logging", "quickstart")["spec"]
    assert spec["remoteClusterServer"] == {"enabled": True}


def test_kubectl_apply_of_an_unknown_field_is_refused_by_strict_validation(kubectl: Any) -> None:
    manifest = json.dumps({"apiVersion": f"{ES_GROUP}/v1", "kind": "Elasticsearch",
                           "metadata": {"name": "strict"}, "spec": {"version": "8.15.0", "bogus": 1}})
    result = kubectl("apply", "--server-side", "-f", "-", stdin=manifest)
    assert result.returncode != 0
    assert ('Elasticsearch in version "v1" cannot be handled as a Elasticsearch: strict decoding error: '
            'unknown field "spec.bogus"') in result.stderr


def test_kubectl_restricted_user_gets_the_real_forbidden_message(kubectl: Any) -> None:
    result = kubectl("get", "secret", "quickstart-es-elastic-user", restricted_user=True)
    assert result.returncode != 0
    assert ('Error from server (Forbidden): secrets "quickstart-es-elastic-user" is forbidden: '
            'User "restricted" cannot get resource "secrets" in API group "" in the namespace "logging"'
            ) in result.stderr


def test_without_the_crd_kubectl_does_not_know_elasticsearches(tmp_path: Path) -> None:
    running = start_api(seeded_store(with_crd=False))
    try:
        path = running.write_kubeconfig(tmp_path / "k.yaml")
        result = subprocess.run(["kubectl", "--kubeconfig", str(path), "get", "elasticsearches"],
                                env={**os.environ, "HOME": str(tmp_path)}, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode != 0
        assert 'the server doesn\'t have a resource type "elasticsearches"' in result.stderr
    finally:
        running.stop()


# ---- the official Python client -----------------------------------------------------------

def test_python_client_lists_gets_and_patches(api: RunningApi, tmp_path: Path) -> None:
    with python_client(api, tmp_path) as api_client:
        core: Any = client.CoreV1Api(api_client)
        custom: Any = client.CustomObjectsApi(api_client)
        secrets = core.list_namespaced_secret("logging", _request_timeout=10)
        assert [s.metadata.name for s in secrets.items] == ["quickstart-es-elastic-user"]
        assert core.read_namespaced_config_map("settings", "logging").data == {"mode": "proxy"}
        es = custom.get_namespaced_custom_object(ES_GROUP, "v1", "logging", "elasticsearches", "quickstart")
        precondition = {"resourceVersion": es["metadata"]["resourceVersion"]}
        body = {"spec": {"version": "8.18.0"}, "metadata": precondition}
        patched = custom.patch_namespaced_custom_object(ES_GROUP, "v1", "logging", "elasticsearches",
                                                        "quickstart", body)
        assert patched["spec"]["version"] == "8.18.0"
        with pytest.raises(ApiException) as missing:
            core.read_namespaced_secret("nope", "logging")
        assert missing.value.status == 404
        assert json.loads(str(missing.value.body))["message"] == 'secrets "nope" not found'


def test_python_client_self_subject_access_reviews(api: RunningApi, tmp_path: Path) -> None:
    def allowed(token: str | None, verb: str, resource: str) -> bool:
        with python_client(api, tmp_path, token) as api_client:
            review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(namespace="logging", verb=verb,
                                                                resource=resource)))
            answer: Any = client.AuthorizationV1Api(api_client).create_self_subject_access_review(review)
            return bool(answer.status.allowed)

    assert allowed(None, "get", "secrets")
    assert not allowed(RESTRICTED_TOKEN, "get", "secrets")
    assert allowed(RESTRICTED_TOKEN, "list", "services")
    assert api.audit.mutating() == []


def test_python_client_forbidden_read_is_a_403_status(api: RunningApi, tmp_path: Path) -> None:
    with python_client(api, tmp_path, RESTRICTED_TOKEN) as api_client, pytest.raises(ApiException) as denied:
        client.CoreV1Api(api_client).list_namespaced_secret("logging")
    status = json.loads(str(denied.value.body))
    assert denied.value.status == 403
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                      "message": 'secrets is forbidden: User "restricted" cannot list resource "secrets" in '
                                 'API group "" in the namespace "logging"',
                      "reason": "Forbidden", "details": {"kind": "secrets"}, "code": 403}


def test_an_unknown_token_is_unauthorized(api: RunningApi, tmp_path: Path) -> None:
    with python_client(api, tmp_path, "not-a-token") as api_client, pytest.raises(ApiException) as denied:
        client.CoreV1Api(api_client).list_namespace()
    assert denied.value.status == 401 and json.loads(str(denied.value.body))["reason"] == "Unauthorized"


def test_audit_log_records_every_request_with_user_and_content_type(kubectl: Any, api: RunningApi) -> None:
    kubectl("get", "secrets")
    kubectl("patch", "es", "quickstart", "--type", "merge", "-p", '{"spec":{"version":"8.16.1"}}')
    kubectl("get", "configmaps", restricted_user=True)
    entries = api.audit.entries()
    assert {e.user for e in entries} == {"admin", "restricted"}
    assert any(e.path == "/api/v1/namespaces/logging/secrets" and e.verb == "list" for e in entries)
    [write] = api.audit.mutating()
    assert (write.method, write.content_type, write.code, write.user) == (
        "PATCH", "application/merge-patch+json", 200, "admin")
    assert write.path == f"/apis/{ES_GROUP}/v1/namespaces/logging/elasticsearches/quickstart"
    assert all(e.user == "restricted" for e in api.audit.by_user("restricted"))


def test_kubectl_all_namespaces_events_and_auth_can_i(kubectl: Any, api: RunningApi) -> None:
    api.store.create("events", {"metadata": {"name": "quickstart.1", "namespace": "logging"},
                                "type": "Warning", "reason": "Unexpected",
                                "message": "Secure settings secret not found: ks",
                                "involvedObject": {"kind": "Elasticsearch", "name": "quickstart"}})
    everywhere = kubectl("get", "secrets", "-A")
    assert everywhere.returncode == 0, everywhere.stderr
    assert everywhere.stdout.split("\n")[0].split()[:2] == ["NAMESPACE", "NAME"]
    events = kubectl("get", "events")
    assert events.returncode == 0, events.stderr
    assert events.stdout.split("\n")[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "elasticsearch/quickstart" in events.stdout and "Secure settings secret not found" in events.stdout
    assert kubectl("auth", "can-i", "get", "secrets", restricted_user=True).stdout.strip() == "no"
    assert kubectl("auth", "can-i", "list", "pods", restricted_user=True).stdout.strip() == "yes"


def test_python_client_delete_dry_run_keeps_the_object_then_delete_removes_it(api: RunningApi,
                                                                              tmp_path: Path) -> None:
    with python_client(api, tmp_path) as api_client:
        core: Any = client.CoreV1Api(api_client)
        core.delete_namespaced_config_map("settings", "logging", dry_run="All")
        assert api.store.exists("configmaps", "logging", "settings")
        assert api.audit.mutating() == []
        status = core.delete_namespaced_config_map("settings", "logging")
        assert status["status"] == "Success" and status["details"]["name"] == "settings"
        assert not api.store.exists("configmaps", "logging", "settings")
        assert [e.verb for e in api.audit.mutating()] == ["delete"]


def test_list_chunks_with_limit_and_continue(api: RunningApi, tmp_path: Path) -> None:
    for n in range(5):
        api.store.create("configmaps", {"metadata": {"name": f"chunk-{n}", "namespace": "logging"}})
    with python_client(api, tmp_path) as api_client:
        core: Any = client.CoreV1Api(api_client)
        names: list[str] = []
        token = None
        while True:
            page = core.list_namespaced_config_map("logging", limit=2, _continue=token)
            names += [c.metadata.name for c in page.items]
            token = page.metadata._continue
            if not token:
                break
    assert names == [f"chunk-{n}" for n in range(5)] + ["settings"]


def test_api_writes_change_service_status_only_through_the_status_subresource(api: RunningApi,
                                                                              tmp_path: Path) -> None:
    name = "quickstart-es-remote-cluster"
    with python_client(api, tmp_path) as api_client:
        core: Any = client.CoreV1Api(api_client)
        svc = api_client.sanitize_for_serialization(core.read_namespaced_service(name, "logging"))
        svc.pop("status")
        svc["metadata"].setdefault("labels", {})["edited"] = "yes"
        core.replace_namespaced_service(name, "logging", svc)
        core.patch_namespaced_service(name, "logging", {"status": {"loadBalancer": {}}})
        assert api.store.get("services", "logging", name)["status"]["loadBalancer"]["ingress"] == [
            {"ip": "127.0.0.77"}]
        core.patch_namespaced_service_status(name, "logging", {"status": {"loadBalancer": {"ingress": None}}})
    stored = api.store.get("services", "logging", name)
    assert stored["status"] == {"loadBalancer": {}} and stored["metadata"]["labels"] == {"edited": "yes"}


def test_kubectl_wait_follows_a_watch_until_the_status_changes(kubectl: Any, api: RunningApi) -> None:
    def become_ready() -> None:
        current = api.store.get("elasticsearches", "logging", "quickstart")
        current["status"] = {"phase": "Ready", "health": "green"}
        api.store.update("elasticsearches", current, subresource="status")

    timer = threading.Timer(0.5, become_ready)
    timer.start()
    result = kubectl("wait", "es/quickstart", "--for=jsonpath={.status.phase}=Ready", "--timeout=20s")
    timer.join()
    assert result.returncode == 0, result.stderr
    assert "condition met" in result.stdout
    assert any(e.verb == "watch" for e in api.audit.entries())
