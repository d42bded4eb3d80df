"""fix/apply.py against the twin's object store: dry run, guarded writes, conflicts, failures."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from kubectl_eckrc.fix import apply
from kubectl_eckrc.fix.apply import apply_plan, dry_run
from kubectl_eckrc.fix.model import Change, Plan, Target
from kubectl_eckrc.fix.plan import planners
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot
from tests.fix.fakes import RecordingEs, StoreKube, clients
from tests.snapshot_builder import ALIAS, PairBuilder, healthy_pair
from tests.twin import crd
from tests.twin.kube_store import Store

CA_SETTING = "xpack.security.remote_cluster_client.ssl.certificate_authorities"


def _store_with(pair: PairBuilder, side: str) -> Store:
    parts = pair.local if side == "local" else pair.remote
    store = Store()
    store.create(
        "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": parts.namespace}}
    )
    # The CRD's schema, so that every write is validated as the API server validates it.
    store.create("customresourcedefinitions", crd.elasticsearch_crd("3.3.0"))
    es = {k: v for k, v in copy.deepcopy(parts.es).items() if k != "status"}
    parts.es = store.create("elasticsearches", es)
    for name, cm in list(parts.configmaps.items()):
        body = {"apiVersion": "v1", "kind": "ConfigMap", **copy.deepcopy(cm)}
        parts.configmaps[name] = store.create("configmaps", body)
    return store


def _setup(pair: PairBuilder) -> tuple[Snapshot, StoreKube, StoreKube]:
    local, remote = StoreKube(_store_with(pair, "local")), StoreKube(_store_with(pair, "remote"))
    return pair.build(), local, remote


def _mount_ca_plan(snap: Snapshot, options: FixOptions) -> Plan:
    return Plan(ALIAS, "l", "r", ("mount-ca",), tuple(_planner("mount-ca")(snap, [], options)))


def _planner(action: str) -> Any:
    return planners()[action]


def _broken_warm(pair: PairBuilder) -> None:
    warm = pair.local.es["spec"]["nodeSets"][1]
    del warm["config"][CA_SETTING]


def test_dry_run_validates_every_kube_write_and_stores_nothing(options: FixOptions) -> None:
    pair = healthy_pair()
    _broken_warm(pair)
    snap, local, remote = _setup(pair)
    plan = _mount_ca_plan(snap, options)
    before = local.store.get("elasticsearches", "logging", "local-es")
    result = dry_run(plan, clients(local, remote, RecordingEs(), RecordingEs()), {"local": ["local-es"]})
    assert result.accepted == 1 and not result.rejected
    assert local.store.get("elasticsearches", "logging", "local-es") == before
    assert all(dry for _, _, dry in local.writes)


def test_a_wrongly_typed_write_is_refused_by_the_crd_schema_as_by_the_api_server(options: FixOptions) -> None:
    pair = healthy_pair()
    _broken_warm(pair)
    snap, local, remote = _setup(pair)
    plan = _mount_ca_plan(snap, options)
    wrong = {"op": "add", "path": "/spec/nodeSets/0/count", "value": "1"}
    bad = dataclasses.replace(plan.changes[0], body=[*plan.changes[0].body, wrong])
    fakes = clients(local, remote, RecordingEs(), RecordingEs())
    result = dry_run(dataclasses.replace(plan, changes=(bad,)), fakes, {"local": ["local-es"]})
    assert result.accepted == 0
    assert ('422 from the Kubernetes API: Elasticsearch.elasticsearch.k8s.elastic.co "local-es" is invalid: '
            'spec.nodeSets[0].count: Invalid value: "string": spec.nodeSets[0].count in body must be of type '
            'integer: "string"') in result.rejected[0][1]


def test_concurrent_edit_between_plan_and_apply_is_kept_and_not_overwritten(options: FixOptions) -> None:
    pair = healthy_pair()
    _broken_warm(pair)
    snap, local, remote = _setup(pair)
    plan = _mount_ca_plan(snap, options)
    edited: list[str] = []

    def someone_else_edits(change: Change) -> None:
        if not edited:
            edited.append(change.target.name)
            local.store.patch(
                "elasticsearches",
                "logging",
                "local-es",
                "application/merge-patch+json",
                {
                    "metadata": {"labels": {"team": "search"}},
                    "spec": {
                        "nodeSets": [
                            *pair.local.es["spec"]["nodeSets"],
                            {"name": "cold", "count": 1, "config": {}},
                        ]
                    },
                },
            )

    apply.before_write = someone_else_edits
    try:
        outcomes, _ = apply_plan(
            plan, snap, [], options, clients(local, remote, RecordingEs(), RecordingEs()), planners()
        )
    finally:
        apply.before_write = None
    assert [o.status for o in outcomes] == ["applied"]
    es = local.store.get("elasticsearches", "logging", "local-es")
    assert es["metadata"]["labels"] == {"team": "search"}
    names = [n["name"] for n in es["spec"]["nodeSets"]]
    assert names == ["hot", "warm", "cold"]
    for node_set in es["spec"]["nodeSets"]:
        assert node_set["config"][CA_SETTING] == ["remote-certs/remote-cluster-ca.crt"], node_set["name"]


def test_a_failing_step_leaves_earlier_steps_and_marks_the_rest_not_run(options: FixOptions) -> None:
    pair = healthy_pair()
    _broken_warm(pair)
    pair.local_cluster_setting("server_name", None)
    pair.local.es["spec"].pop("secureSettings")
    snap, local, remote = _setup(pair)
    del pair.local.secrets["remote-api-keys"]
    snap = pair.build()
    plan = Plan(ALIAS, "l", "r", ("mount-ca", "register-remote", "fix-server-name"), ())
    local_es = RecordingEs(fail_on="PUT /_cluster/settings")
    outcomes, _ = apply_plan(plan, snap, [], options, clients(local, remote, local_es, RecordingEs()),
                             planners())
    assert [(o.action, o.status) for o in outcomes] == [
        ("mount-ca", "applied"),
        ("register-remote", "failed"),
        ("fix-server-name", "not run"),
    ]
    assert "injected failure" in outcomes[1].message


def test_a_new_api_key_is_stored_without_its_value_reaching_any_outcome(options: FixOptions) -> None:
    pair = healthy_pair()
    pair.local.es["spec"].pop("secureSettings")
    snap, local, remote = _setup(pair)
    del pair.local.secrets["remote-api-keys"]
    snap = pair.build()
    plan = Plan(ALIAS, "l", "r", ("create-api-key",), ())
    local.store.create(
        "secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "remote-api-keys", "namespace": "logging"},
            "data": {"other": "b3RoZXI="},
        },
    )
    remote_es = RecordingEs()
    outcomes, _ = apply_plan(plan, snap, [], options, clients(local, remote, RecordingEs(), remote_es),
                             planners())
    assert outcomes[0].status == "applied", outcomes[0].message
    secret = local.store.get("secrets", "logging", "remote-api-keys")
    assert set(secret["data"]) == {"other", f"cluster.remote.{ALIAS}.credentials"}  # merged, not replaced
    es = local.store.get("elasticsearches", "logging", "local-es")
    assert es["spec"]["secureSettings"] == [{"secretName": "remote-api-keys"}]
    assert "s3cr3t" not in repr(outcomes) and "bmV3LWlk" not in repr(outcomes)
    [(method, path, body)] = remote_es.requests
    assert (method, path) == ("POST", "/_security/cross_cluster/api_key")


def test_writes_to_eck_owned_objects_are_refused_whatever_the_plan_says(options: FixOptions) -> None:
    snap, local, remote = _setup(healthy_pair())
    bad = Change(
        action="sync-ca",
        target=Target("local", "Secret", "logging", "local-es-es-remote-ca"),
        operation="patch",
        summary="x",
        diff="",
        body={"data": {}},
        patch_type="merge",
    )
    result = dry_run(
        Plan(ALIAS, "l", "r", ("sync-ca",), (bad,)),
        clients(local, remote, RecordingEs(), RecordingEs()),
        {"local": ["local-es"], "remote": ["remote-es"]},
    )
    assert result.accepted == 0 and "ECK owns" in result.rejected[0][1]
    assert local.writes == []


@pytest.mark.parametrize("action", ["enable-rcs", "mount-ca", "sync-ca"])
def test_second_apply_after_success_changes_nothing(options: FixOptions, action: str) -> None:
    pair = healthy_pair()
    pair.remote.es["spec"]["remoteClusterServer"] = {"enabled": False}
    _broken_warm(pair)
    snap, local, remote = _setup(pair)
    plan = Plan(ALIAS, "l", "r", (action,), ())
    fakes = clients(local, remote, RecordingEs(), RecordingEs())
    _, after = apply_plan(plan, snap, [], options, fakes, planners())
    local.writes.clear()
    remote.writes.clear()
    outcomes, _ = apply_plan(plan, after, [], options, fakes, planners())
    assert [o.changed for o in outcomes] == [False]
    assert local.writes == [] and remote.writes == []


def test_wait_counts_a_pod_as_rolled_only_with_its_statefulset_config_hash() -> None:
    from kubectl_eckrc.fix.wait import _rollout

    pod = {
        "metadata": {
            "labels": {"elasticsearch.k8s.elastic.co/statefulset-name": "es-default"},
            "annotations": {"elasticsearch.k8s.elastic.co/config-hash": "old"},
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    sts = {
        "metadata": {"name": "es-default"},
        "spec": {
            "template": {"metadata": {"annotations": {"elasticsearch.k8s.elastic.co/config-hash": "new"}}}
        },
    }

    class State:
        elasticsearch = {"status": {"phase": "ApplyingChanges"}}
        pods = [pod]
        statefulsets = [sts]

    assert _rollout(State()) == ("ApplyingChanges", "0/1")
    pod["metadata"]["annotations"]["elasticsearch.k8s.elastic.co/config-hash"] = "new"
    assert _rollout(State()) == ("ApplyingChanges", "1/1")


def test_wait_counts_a_pod_of_an_older_statefulset_revision_as_not_rolled() -> None:
    # A podTemplate change (mount-ca's CA volume) leaves ECK's config-hash as it is and moves the
    # StatefulSet's updateRevision: elastic/cloud-on-k8s
    # pkg/controller/elasticsearch/driver/stateful/upgrade.go @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8
    # (podsToUpgrade compares controller-revision-hash with status.updateRevision).
    from kubectl_eckrc.fix.wait import _rollout

    hash_annotation = {"elasticsearch.k8s.elastic.co/config-hash": "same"}
    pod = {
        "metadata": {
            "labels": {"elasticsearch.k8s.elastic.co/statefulset-name": "es-default",
                       "controller-revision-hash": "es-default-old"},
            "annotations": dict(hash_annotation),
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    sts = {
        "metadata": {"name": "es-default"},
        "spec": {"template": {"metadata": {"annotations": dict(hash_annotation)}}},
        "status": {"updateRevision": "es-default-new", "currentRevision": "es-default-old"},
    }

    class State:
        elasticsearch = {"status": {"phase": "ApplyingChanges"}}
        pods = [pod]
        statefulsets = [sts]

    assert _rollout(State()) == ("ApplyingChanges", "0/1")
    pod["metadata"]["labels"]["controller-revision-hash"] = "es-default-new"
    assert _rollout(State()) == ("ApplyingChanges", "1/1")
    # ECK's status.inProgressOperations.upgrade lists the pods it still has to restart
    pod["metadata"]["name"] = "es-default-0"
    State.elasticsearch["status"]["inProgressOperations"] = {
        "upgrade": {"nodes": [{"name": "es-default-0", "status": "PENDING"}]}}
    assert _rollout(State()) == ("ApplyingChanges", "0/1")
