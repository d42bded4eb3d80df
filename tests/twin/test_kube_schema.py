"""The twin's CRD schema against the real ECK CRD, and the API server's answers to objects the
schema refuses (texts of apiextensions-apiserver, FIDELITY.md "Kubernetes API")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.twin import crd
from tests.twin.kube_errors import Invalid
from tests.twin.kube_store import MERGE, Store

REAL_CRD = Path("/work/shared/reference/crd-elasticsearch.yaml")
# What decides pruning and validation; descriptions, defaults and list/map types do not.
COMPARED = ("type", "format", "enum", "required", "anyOf", "nullable", "minItems", "minLength",
            "maxLength", "pattern", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields")
PRESERVE = "x-kubernetes-preserve-unknown-fields"
NEWEST_ECK = "3.3.0"


def _real_schema() -> dict[str, Any]:
    if not REAL_CRD.exists():
        pytest.skip(f"{REAL_CRD} (the real ECK CRD) is not on this machine")
    import yaml

    real = yaml.safe_load(REAL_CRD.read_text())
    schema = real["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert isinstance(schema, dict)
    return schema


def _differences(twin: dict[str, Any], real: dict[str, Any], path: str) -> list[str]:
    if twin == {}:
        return []  # left open: kept and not validated, not claimed
    found = [f"{path}: {key} {twin.get(key)!r} != real {real.get(key)!r}"
             for key in COMPARED if twin.get(key) != real.get(key)]
    twin_props, real_props = twin.get("properties") or {}, real.get("properties") or {}
    extra = sorted(set(twin_props) - set(real_props))
    missing = [] if twin.get(PRESERVE) else sorted(set(real_props) - set(twin_props))
    found += [f"{path}.{name}: not in the real CRD" for name in extra]
    found += [f"{path}.{name}: declared by the real CRD, pruned by the twin" for name in missing]
    for name in sorted(set(twin_props) & set(real_props)):
        found += _differences(twin_props[name], real_props[name], f"{path}.{name}")
    for key, suffix in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(twin.get(key), dict):
            found += _differences(twin[key], real.get(key) or {}, path + suffix)
    return found


def test_every_node_the_twin_spells_out_is_typed_as_in_the_real_eck_crd() -> None:
    twin = crd.open_api_schema(NEWEST_ECK)
    assert _differences(twin, _real_schema(), "") == []


def _store(eck_version: str = NEWEST_ECK) -> Store:
    store = Store()
    store.create("namespaces", {"metadata": {"name": "logging"}})
    store.create("customresourcedefinitions", crd.elasticsearch_crd(eck_version))
    store.create("elasticsearches", {
        "metadata": {"name": "es", "namespace": "logging"},
        "spec": {"version": "8.15.3", "nodeSets": [{"name": "default", "count": 1, "config": {}}]},
    })
    return store


def _refusal(store: Store, spec: dict[str, Any]) -> str:
    with pytest.raises(Invalid) as err:
        store.patch("elasticsearches", "logging", "es", MERGE, {"spec": spec})
    assert err.value.code == 422
    return err.value.message


PREFIX = 'Elasticsearch.elasticsearch.k8s.elastic.co "es" is invalid: '


def test_a_wrong_type_is_refused_with_the_api_servers_text() -> None:
    message = _refusal(_store(), {"remoteClusterServer": {"enabled": "true"}})
    assert message == PREFIX + ('spec.remoteClusterServer.enabled: Invalid value: "string": '
                                'spec.remoteClusterServer.enabled in body must be of type boolean: "string"')


def test_the_status_cause_names_the_field_and_the_type_reason() -> None:
    with pytest.raises(Invalid) as err:
        _store().patch("elasticsearches", "logging", "es", MERGE,
                       {"spec": {"updateStrategy": {"changeBudget": {"maxUnavailable": "0"}}}})
    assert err.value.details is not None
    assert err.value.details["causes"] == [{
        "reason": "FieldValueTypeInvalid", "field": "spec.updateStrategy.changeBudget.maxUnavailable",
        "message": 'Invalid value: "string": spec.updateStrategy.changeBudget.maxUnavailable in body must be '
                   'of type integer: "string"'}]


def test_int_or_string_takes_both_and_refuses_anything_else_three_times() -> None:
    store = _store()
    port = {"name": "rcs", "port": 9443}
    for target in (9443, "rcs"):
        store.patch("elasticsearches", "logging", "es", MERGE, {"spec": {"remoteClusterServer": {
            "service": {"spec": {"ports": [{**port, "targetPort": target}]}}}}})
    wrong = {"ports": [{**port, "targetPort": True}]}
    message = _refusal(store, {"remoteClusterServer": {"service": {"spec": wrong}}})
    path = "spec.remoteClusterServer.service.spec.ports[0].targetPort"
    assert message == PREFIX + (
        f'[<nil>: Invalid value: "": "{path}" must validate at least one schema (anyOf), '
        f'{path}: Invalid value: "boolean": {path} in body must be of type integer,string: "boolean", '
        f'{path}: Invalid value: "boolean": {path} in body must be of type integer: "boolean"]')


def test_an_enum_lists_the_supported_values() -> None:
    message = _refusal(_store(), {"volumeClaimDeletePolicy": "DeleteAlways"})
    assert message == PREFIX + ('spec.volumeClaimDeletePolicy: Unsupported value: "DeleteAlways": supported '
                                'values: "DeleteOnScaledownOnly", "DeleteOnScaledownAndClusterDeletion"')


def test_required_fields_inside_lists_are_enforced() -> None:
    message = _refusal(_store(), {"secureSettings": [{"secretName": "keys", "entries": [{"path": "a.b"}]}]})
    assert message == PREFIX + "spec.secureSettings[0].entries[0].key: Required value"


def test_a_pod_template_spec_needs_its_containers() -> None:
    volume = {"name": "remote-certs", "configMap": {"name": "remote-ca"}}
    template = {"spec": {"volumes": [volume]}}
    message = _refusal(_store(), {"nodeSets": [{"name": "default", "podTemplate": template}]})
    assert message == PREFIX + "spec.nodeSets[0].podTemplate.spec.containers: Required value"


def test_preserved_and_open_nodes_keep_what_they_hold_and_nulls_mean_unset() -> None:
    store = _store()
    config = {"xpack.security.remote_cluster_client.ssl.certificate_authorities": ["remote-certs/ca.crt"]}
    template = {"metadata": {"labels": {"team": "search"}}, "unknownTop": 1,
                "spec": {"containers": [{"name": "elasticsearch", "env": [{"name": "A", "value": "1"}]}]}}
    node_set = {"name": "default", "count": None, "config": config, "podTemplate": template}
    updated = store.patch("elasticsearches", "logging", "es", MERGE, {"spec": {"nodeSets": [node_set]}})
    stored = updated["spec"]["nodeSets"][0]
    assert "count" not in stored
    assert stored["config"] == config and stored["podTemplate"] == template
