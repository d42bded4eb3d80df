"""ECK's same-environment remote clusters (`spec.remoteClusters`) in the twin.

Sources: elastic/cloud-on-k8s @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8 (paths in
tests/twin/eck_remote_clusters.py and at each test); elastic/go-ucfg v0.9.1
(8926a73f3f5e78ca04e6873826db1376a38f02c5) `merge.go`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.twin import scenarios
from tests.twin.eck_config import decode_secret_data, merge_user_config, render_config
from tests.twin.es_api import es_call
from tests.twin.scenario_plan import Plan
from tests.twin.scenario_steps import first_cross_cluster_request
from tests.twin.scenarios import RunningScenario

NS, CLIENT, PEER_NS, PEER = "logging", "local-es", "peers", "peer-es"
ECK_CAS = ["/usr/share/elasticsearch/config/transport-certs/ca.crt",
           "/usr/share/elasticsearch/config/transport-remote-certs/ca.crt"]
KEYS_ANNOTATION = "elasticsearch.k8s.elastic.co/remote-cluster-api-keys"
CLIENT_CAS = "xpack.security.remote_cluster_client.ssl.certificate_authorities"


def test_a_user_list_is_appended_to_ecks_list_and_a_string_replaces_it() -> None:
    # go-ucfg v0.9.1 merge.go: mergeConfigArr with AppendValues appends `from`'s array to `to`'s;
    # mergeValues keeps the new value when either side is no sub-config (a string onto a list).
    # ECK merges with ucfg.AppendValues (pkg/controller/common/settings/canonical_config.go,
    # `Options`; canonical_config_test.go "merge arrays": {a: [x]} + {a: [y]} = {a: [x, y]}).
    eck = {"a": ["x"], "b": ["x"], "c": "s"}
    merged = merge_user_config(eck, {"a": ["y"], "b": "y", "c": ["z"]})
    assert merged == {"a": ["x", "y"], "b": "y", "c": ["z"]}


def test_an_api_key_remote_cluster_makes_eck_write_its_client_ca_list() -> None:
    # pkg/controller/elasticsearch/settings/merged_config.go (xpackConfig, remoteClusterClientEnabled
    # = es.HasRemoteClusterAPIKey()); the user's nodeSet list comes after ECK's two files
    spec = {"remoteClusters": [{"name": PEER, "elasticsearchRef": {"name": PEER}, "apiKey": {}}]}
    plain = render_config(CLIENT, spec, {"name": "default"})
    assert plain["xpack.security.remote_cluster_client.ssl.enabled"] is True
    assert plain[CLIENT_CAS] == ECK_CAS
    with_list = render_config(CLIENT, spec, {"name": "default", "config": {CLIENT_CAS: ["x.crt"]}})
    assert with_list[CLIENT_CAS] == [*ECK_CAS, "x.crt"]
    with_string = render_config(CLIENT, spec, {"name": "default", "config": {CLIENT_CAS: "x.crt"}})
    assert with_string[CLIENT_CAS] == "x.crt"
    certificate_model = {"remoteClusters": [{"name": PEER, "elasticsearchRef": {"name": PEER}}]}
    assert CLIENT_CAS not in render_config(CLIENT, certificate_model, {"name": "default"})


def secret_data(running: RunningScenario, name: str, namespace: str = NS) -> dict[str, str]:
    return decode_secret_data(running.local.store.get("secrets", namespace, name))


def local_call(running: RunningScenario, es: str, method: str, path: str, body: Any = None) -> Any:
    return es_call(running.local, PEER_NS if es == PEER else NS, es, method, path, body)[1]


def test_eck_links_two_clusters_of_one_environment_with_an_eck_key_and_copied_cas(twin: Any) -> None:
    running = twin("same-env-healthy")
    assert running.settle()
    # remotecluster/apikey.go: the key on the referenced cluster, named after the client and alias
    keys = local_call(running, PEER, "GET", "/_security/api_key?name=eck-*")["api_keys"]
    assert [(k["name"], k["type"], k["invalidated"]) for k in keys] == \
        [("eck-logging-local-es-peer-es", "cross_cluster", False)]
    assert keys[0]["metadata"]["elasticsearch.k8s.elastic.co/managed-by"] == "eck"
    assert keys[0]["access"]["search"][0]["names"] == ["logs-*"]
    # remotecluster/keystore/keystore.go: ECK's own keystore source, with its alias annotation
    store = running.local.store.get("secrets", NS, f"{CLIENT}-es-remote-api-keys")
    annotation = json.loads(store["metadata"]["annotations"][KEYS_ANNOTATION])
    assert annotation == {PEER: {"namespace": PEER_NS, "name": PEER, "id": keys[0]["id"]}}
    assert list(decode_secret_data(store)) == [f"cluster.remote.{PEER}.credentials"]
    assert f"cluster.remote.{PEER}.credentials" in secret_data(running, f"{CLIENT}-es-secure-settings")
    # remotecluster/secret.go + certificates/remoteca/reconcile.go: each side's CA, both ways
    peer_ca = secret_data(running, f"{PEER}-es-transport-certs-public", PEER_NS)["ca.crt"]
    client_ca = secret_data(running, f"{CLIENT}-es-transport-certs-public")["ca.crt"]
    assert secret_data(running, f"{CLIENT}-{PEER_NS}-{PEER}-es-remote-ca")["ca.crt"] == peer_ca
    assert secret_data(running, f"{PEER}-{NS}-{CLIENT}-es-remote-ca", PEER_NS)["ca.crt"] == client_ca
    assert secret_data(running, f"{CLIENT}-es-remote-ca")["ca.crt"] == peer_ca
    # elasticsearch/remotecluster/elasticsearch.go: sniff seeds on the remote cluster Service
    settings = local_call(running, CLIENT, "GET", "/_cluster/settings?flat_settings=true")["persistent"]
    assert settings[f"cluster.remote.{PEER}.seeds"] == [f"{PEER}-es-remote-cluster.{PEER_NS}.svc:9443"]
    es_obj = running.local.store.get("elasticsearches", NS, CLIENT)
    assert es_obj["metadata"]["annotations"]["elasticsearch.k8s.elastic.co/managed-remote-clusters"] == PEER
    info = local_call(running, CLIENT, "GET", "/_remote/info")
    assert info[PEER]["connected"] and info[PEER]["mode"] == "sniff"
    assert info["remote-es"]["connected"]  # the cross-environment link is untouched

    # The entry leaves the spec: ECK takes back everything it set up.
    es_obj["spec"].pop("remoteClusters")
    running.local.store.update("elasticsearches", es_obj)
    assert running.settle()
    keys = local_call(running, PEER, "GET", "/_security/api_key?name=eck-*")["api_keys"]
    assert [k["invalidated"] for k in keys] == [True]
    secrets = {s["metadata"]["name"] for s in running.local.store.list("secrets")}
    assert not {f"{CLIENT}-es-remote-api-keys", f"{CLIENT}-{PEER_NS}-{PEER}-es-remote-ca",
                f"{PEER}-{NS}-{CLIENT}-es-remote-ca"} & secrets
    settings = local_call(running, CLIENT, "GET", "/_cluster/settings?flat_settings=true")["persistent"]
    assert f"cluster.remote.{PEER}.seeds" not in settings
    annotations = running.local.store.get("elasticsearches", NS, CLIENT)["metadata"].get("annotations") or {}
    assert "elasticsearch.k8s.elastic.co/managed-remote-clusters" not in annotations
    # with no copy left, the remote CA Secret holds the cluster's own transport CA
    assert secret_data(running, f"{CLIENT}-es-remote-ca")["ca.crt"] == client_ca


def test_a_ca_string_in_the_nodeset_config_drops_ecks_trust_of_the_peer(twin: Any) -> None:
    running = twin("same-env-user-ca-string")
    assert running.settle()
    info = local_call(running, CLIENT, "GET", "/_remote/info")
    assert not info[PEER]["connected"]
    assert info["remote-es"]["connected"]  # the user's own CA file still serves the other link
    pod = running.local.first_pod(NS, CLIENT)
    assert "PKIX path building failed" in running.local.pod_logs(NS, pod)


@pytest.fixture
def cert_model() -> Iterator[scenarios.Build]:
    build = scenarios.build(replace(Plan(), same_env="cert"))
    yield build
    for extra in build.extras:
        extra.stop()
    build.local.stop()
    build.remote.stop()
    shutil.rmtree(build.workdir, ignore_errors=True)


def test_the_certificate_model_trusts_each_others_transport_ca_and_seeds_the_transport_service(
        cert_model: scenarios.Build) -> None:
    env = cert_model.local
    assert env.settle()
    settings = es_call(env, NS, CLIENT, "GET", "/_cluster/settings?flat_settings=true")[1]["persistent"]
    assert settings[f"cluster.remote.{PEER}.seeds"] == [f"{PEER}-es-transport.{PEER_NS}.svc:9300"]
    keys = es_call(env, PEER_NS, PEER, "GET", "/_security/api_key?name=eck-*")[1]["api_keys"]
    assert keys == []
    assert not env.store.exists("secrets", NS, f"{CLIENT}-es-remote-api-keys")
    # _resolve/cluster starts a fresh attempt (the first one may have raced the CA copies)
    first_cross_cluster_request(cert_model)
    assert es_call(env, NS, CLIENT, "GET", "/_remote/info")[1][PEER]["connected"] is True
