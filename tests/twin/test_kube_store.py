"""The store behaves like a real API server's storage for what clients can observe."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest

from tests.twin.kube_errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Gone,
    Invalid,
    NotFound,
    UnsupportedPatch,
)
from tests.twin.kube_store import APPLY, JSON_PATCH, MERGE, STRATEGIC, Store

ES_CRD: dict[str, Any] = {"metadata": {"name": "elasticsearches.elasticsearch.k8s.elastic.co"},
          "spec": {"group": "elasticsearch.k8s.elastic.co", "scope": "Namespaced",
                   "names": {"plural": "elasticsearches", "kind": "Elasticsearch", "shortNames": ["es"]},
                   "versions": [{"name": "v1", "served": True, "storage": True}]}}


@pytest.fixture
def store() -> Store:
    s = Store()
    s.create("namespaces", {"metadata": {"name": "logging"}})
    s.create("customresourcedefinitions", ES_CRD)
    return s


def es(name: str = "quickstart", version: str = "8.15.0") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "logging"},
            "spec": {"version": version, "nodeSets": [{"name": "default", "count": 1}]},
            "status": {"phase": "Ready"}}


def test_create_sets_system_metadata_and_drops_status_of_a_custom_resource(store: Store) -> None:
    created = store.create("elasticsearches", es())
    meta = created["metadata"]
    assert created["apiVersion"] == "elasticsearch.k8s.elastic.co/v1" and created["kind"] == "Elasticsearch"
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z") and meta["generation"] == 1
    assert int(meta["resourceVersion"]) > 0 and "status" not in created


def test_second_create_is_already_exists(store: Store) -> None:
    store.create("configmaps", {"metadata": {"name": "a", "namespace": "logging"}})
    with pytest.raises(AlreadyExists) as err:
        store.create("configmaps", {"metadata": {"name": "a", "namespace": "logging"}})
    assert err.value.status()["message"] == 'configmaps "a" already exists'
    assert err.value.code == 409


def test_create_in_a_missing_namespace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match='namespaces "nowhere" not found'):
        store.create("secrets", {"metadata": {"name": "a", "namespace": "nowhere"}})


def test_invalid_name_is_rejected_with_the_real_message(store: Store) -> None:
    with pytest.raises(Invalid) as err:
        store.create("configmaps", {"metadata": {"name": "Bad_Name", "namespace": "logging"}})
    assert err.value.message.startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: '
                                        '"Bad_Name": a lowercase RFC 1123 subdomain')


def test_stale_resource_version_is_a_conflict_with_the_real_message(store: Store) -> None:
    created = store.create("elasticsearches", es())
    store.patch("elasticsearches", "logging", "quickstart", MERGE, {"spec": {"version": "8.16.0"}})
    created["spec"]["version"] = "8.17.0"
    with pytest.raises(Conflict) as err:
        store.update("elasticsearches", created)
    assert err.value.message == (
        'Operation cannot be fulfilled on elasticsearches.elasticsearch.k8s.elastic.co "quickstart": '
        "the object has been modified; please apply your changes to the latest version and try again")


def test_custom_resource_update_requires_a_resource_version(store: Store) -> None:
    created = store.create("elasticsearches", es())
    del created["metadata"]["resourceVersion"]
    with pytest.raises(Invalid, match="metadata.resourceVersion: Invalid value: 0x0: must be specified"):
        store.update("elasticsearches", created)


def test_generation_moves_on_spec_changes_only(store: Store) -> None:
    store.create("elasticsearches", es())
    after_label = store.patch("elasticsearches", "logging", "quickstart", MERGE,
                              {"metadata": {"labels": {"a": "b"}}})
    assert after_label["metadata"]["generation"] == 1
    after_spec = store.patch("elasticsearches", "logging", "quickstart", MERGE,
                             {"spec": {"version": "9.0.0"}})
    assert after_spec["metadata"]["generation"] == 2


def test_status_subresource_separates_status_from_spec(store: Store) -> None:
    store.create("elasticsearches", es())
    current = store.get("elasticsearches", "logging", "quickstart")
    current["status"] = {"phase": "Ready"}
    current["spec"]["version"] = "9.9.9"
    after = store.update("elasticsearches", current, subresource="status")
    assert after["status"] == {"phase": "Ready"} and after["spec"]["version"] == "8.15.0"
    main = store.patch("elasticsearches", "logging", "quickstart", MERGE, {"status": {"phase": "Invalid"}})
    assert main["status"] == {"phase": "Ready"}


def test_noop_write_keeps_the_resource_version(store: Store) -> None:
    created = store.create("configmaps", {"metadata": {"name": "a", "namespace": "logging"},
                                          "data": {"k": "v"}})
    again = store.patch("configmaps", "logging", "a", MERGE, {"data": {"k": "v"}})
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_merge_patch_null_deletes_and_lists_are_replaced(store: Store) -> None:
    store.create("elasticsearches", es())
    patched = store.patch("elasticsearches", "logging", "quickstart", MERGE,
                          json.dumps({"spec": {"version": None, "nodeSets": [{"name": "hot", "count": 2}]}}))
    assert "version" not in patched["spec"]
    assert patched["spec"]["nodeSets"] == [{"name": "hot", "count": 2}]


def test_json_patch_applies_and_a_failed_test_is_invalid(store: Store) -> None:
    store.create("elasticsearches", es())
    ops = [{"op": "test", "path": "/spec/version", "value": "8.15.0"},
           {"op": "add", "path": "/spec/nodeSets/-", "value": {"name": "b", "count": 1}},
           {"op": "replace", "path": "/spec/nodeSets/0/count", "value": 3}]
    patched = store.patch("elasticsearches", "logging", "quickstart", JSON_PATCH, ops)
    assert [n["count"] for n in patched["spec"]["nodeSets"]] == [3, 1]
    with pytest.raises(Invalid) as err:
        store.patch("elasticsearches", "logging", "quickstart", JSON_PATCH,
                    [{"op": "test", "path": "/spec/version", "value": "0"}])
    assert err.value.code == 422


def test_strategic_merge_is_refused_on_custom_resources(store: Store) -> None:
    store.create("elasticsearches", es())
    with pytest.raises(UnsupportedPatch) as err:
        store.patch("elasticsearches", "logging", "quickstart", STRATEGIC, {"spec": {}})
    assert err.value.code == 415 and "application/apply-patch+yaml" in err.value.message


def test_strategic_merge_merges_containers_and_env_by_name(store: Store) -> None:
    pod = {"metadata": {"name": "p", "namespace": "logging"},
           "spec": {"containers": [{"name": "es", "image": "a", "env": [{"name": "A", "value": "1"}]},
                                   {"name": "side", "image": "s"}]}}
    store.create("pods", pod)
    patch = {"spec": {"containers": [{"name": "es", "env": [{"name": "B", "value": "2"}]},
                                     {"name": "side", "$patch": "delete"}]}}
    patched = store.patch("pods", "logging", "p", STRATEGIC, patch)
    assert patched["spec"]["containers"] == [
        {"name": "es", "image": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]


def test_server_side_apply_creates_then_merges(store: Store) -> None:
    doc = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  namespace: logging\n"
           "data:\n  a: '1'\n")
    first = store.patch("configmaps", "logging", "applied", APPLY, doc)
    second = store.patch("configmaps", "logging", "applied", APPLY, {"data": {"b": "2"}})
    assert first["data"] == {"a": "1"} and second["data"] == {"a": "1", "b": "2"}


def test_dry_run_stores_nothing(store: Store) -> None:
    store.create("secrets", {"metadata": {"name": "s", "namespace": "logging"}, "stringData": {"k": "v"}},
                 dry_run=True)
    assert not store.exists("secrets", "logging", "s")
    store.create("elasticsearches", es())
    store.patch("elasticsearches", "logging", "quickstart", MERGE, {"spec": {"version": "1"}}, dry_run=True)
    store.delete("elasticsearches", "logging", "quickstart", dry_run=True)
    assert store.get("elasticsearches", "logging", "quickstart")["spec"]["version"] == "8.15.0"


def test_secret_string_data_becomes_base64_data_and_bad_base64_is_refused(store: Store) -> None:
    created = store.create("secrets", {"metadata": {"name": "s", "namespace": "logging"},
                                       "stringData": {"password": "hunter2"}})
    assert created["data"] == {"password": base64.b64encode(b"hunter2").decode()}
    assert created["type"] == "Opaque" and "stringData" not in created
    with pytest.raises(BadRequest, match="illegal base64 data"):
        store.create("secrets", {"metadata": {"name": "t", "namespace": "logging"},
                                 "data": {"k": "not b64!"}})


def test_service_defaults_target_port_to_port_and_allocates_a_cluster_ip(store: Store) -> None:
    svc = store.create("services", {"metadata": {"name": "es-http", "namespace": "logging"},
                                    "spec": {"ports": [{"name": "https", "port": 9200}]}})
    assert svc["spec"]["ports"][0]["targetPort"] == 9200 and svc["spec"]["ports"][0]["protocol"] == "TCP"
    assert svc["spec"]["clusterIP"].startswith("10.96.") and svc["spec"]["type"] == "ClusterIP"
    headless = store.create("services", {"metadata": {"name": "hl", "namespace": "logging"},
                                         "spec": {"clusterIP": "None", "ports": [{"port": 9300}]}})
    assert headless["spec"]["clusterIP"] == "None"


def test_label_and_field_selectors(store: Store) -> None:
    for name, labels in (("a", {"app": "es", "tier": "hot"}), ("b", {"app": "es"}), ("c", {"app": "kb"})):
        store.create("pods", {"metadata": {"name": name, "namespace": "logging", "labels": labels}})

    def names(selector: str) -> list[str]:
        return [p["metadata"]["name"] for p in store.list("pods", "logging", selector)]

    assert names("app=es") == ["a", "b"]
    assert names("app==es,tier") == ["a"]
    assert names("app in (es, kb),!tier") == ["b", "c"]
    assert names("app notin (es)") == ["c"]
    assert names("app!=es") == ["c"]
    assert [p["metadata"]["name"] for p in store.list("pods", field_selector="metadata.name=b")] == ["b"]


def test_deleting_an_owner_or_namespace_removes_dependants(store: Store) -> None:
    owner = store.create("elasticsearches", es())
    ref = {"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch", "name": "quickstart",
           "uid": owner["metadata"]["uid"]}
    store.create("secrets", {"metadata": {"name": "owned", "namespace": "logging", "ownerReferences": [ref]}})
    store.create("secrets", {"metadata": {"name": "free", "namespace": "logging"}})
    store.delete("elasticsearches", "logging", "quickstart")
    assert [s["metadata"]["name"] for s in store.list("secrets")] == ["free"]
    store.delete("namespaces", None, "logging")
    assert store.list("secrets") == []


def test_watch_callbacks_run_outside_the_lock_and_can_write(store: Store) -> None:
    seen: list[tuple[str, str]] = []

    def on_change(event: str, plural: str, obj: dict[str, Any]) -> None:
        seen.append((event, obj["metadata"]["name"]))
        if plural == "configmaps" and event == "ADDED":
            store.create("secrets", {"metadata": {"name": "echo", "namespace": "logging"}})

    cancel = store.watch(on_change)
    store.create("configmaps", {"metadata": {"name": "x", "namespace": "logging"}})
    cancel()
    store.delete("configmaps", "logging", "x")
    assert seen == [("ADDED", "x"), ("ADDED", "echo")]


def test_events_since_replays_history_and_too_old_is_gone() -> None:
    s = Store()
    s.create("namespaces", {"metadata": {"name": "a"}})
    start = int(s.resource_version())
    s.create("namespaces", {"metadata": {"name": "b"}})
    assert [e[3]["metadata"]["name"] for e in s.events_since("namespaces", start)] == ["b"]
    for n in range(2100):
        s.create("configmaps", {"metadata": {"name": f"c{n}", "namespace": "a"}})
    with pytest.raises(Gone):
        s.events_since("namespaces", start)


SCHEMA_CRD = {**ES_CRD, "spec": {**ES_CRD["spec"], "versions": [{
    "name": "v1", "served": True, "storage": True,
    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
        "type": "object", "required": ["version"],
        "properties": {"version": {"type": "string"},
                       "nodeSets": {"type": "array", "items": {"type": "object", "properties": {
                           "name": {"type": "string"},
                           "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}},
                       "remoteClusterServer": {"type": "object",
                                               "properties": {"enabled": {"type": "boolean"}}}}},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}}


@pytest.fixture
def schema_store() -> Store:
    s = Store()
    s.create("namespaces", {"metadata": {"name": "logging"}})
    s.create("customresourcedefinitions", SCHEMA_CRD)
    return s


def test_fields_the_crd_schema_does_not_declare_are_pruned_and_warned(schema_store: Store) -> None:
    warnings: list[str] = []
    obj = {"metadata": {"name": "x", "namespace": "logging"},
           "spec": {"version": "8.15.0", "remoteClusterServer": {"enabled": True, "service": {"type": "LB"}},
                    "nodeSets": [{"name": "a", "extra": 1, "config": {"any.setting": True}}]}}
    created = schema_store.create("elasticsearches", obj, field_validation="Warn", warnings=warnings)
    assert created["spec"]["remoteClusterServer"] == {"enabled": True}
    assert created["spec"]["nodeSets"] == [{"name": "a", "config": {"any.setting": True}}]
    assert warnings == ['unknown field "spec.nodeSets[0].extra"',
                        'unknown field "spec.remoteClusterServer.service"']


def test_strict_field_validation_refuses_unknown_fields(schema_store: Store) -> None:
    schema_store.create("elasticsearches", {"metadata": {"name": "x", "namespace": "logging"},
                                            "spec": {"version": "8.15.0"}})
    with pytest.raises(BadRequest) as err:
        schema_store.patch("elasticsearches", "logging", "x", MERGE, {"spec": {"bogus": 1}},
                           field_validation="Strict")
    assert err.value.message == ('Elasticsearch in version "v1" cannot be handled as a Elasticsearch: strict '
                                 'decoding error: unknown field "spec.bogus"')


def test_required_fields_of_the_crd_schema_are_enforced(schema_store: Store) -> None:
    with pytest.raises(Invalid) as err:
        schema_store.create("elasticsearches", {"metadata": {"name": "x", "namespace": "logging"},
                                                "spec": {}})
    assert err.value.message == ('Elasticsearch.elasticsearch.k8s.elastic.co "x" is invalid: spec.version: '
                                 "Required value")


def test_concurrent_read_modify_write_loses_no_update(store: Store) -> None:
    store.create("configmaps", {"metadata": {"name": "counter", "namespace": "logging"}, "data": {"n": "0"}})

    def increment() -> None:
        for _ in range(20):
            while True:
                current = store.get("configmaps", "logging", "counter")
                current["data"]["n"] = str(int(current["data"]["n"]) + 1)
                try:
                    store.update("configmaps", current)
                    break
                except Conflict:
                    continue

    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("configmaps", "logging", "counter")["data"]["n"] == "160"
