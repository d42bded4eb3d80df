"""checks/reads.py: the reads checks share. Each returns the data or raises NotEvaluated naming
the read that failed and why, so a not-evaluated finding tells the user what to grant."""

from __future__ import annotations

import pytest

from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.spec import NotEvaluated
from kubectl_eckrc.snapshot import Unavailable
from tests.snapshot_builder import ALIAS, eck_leaf, healthy_pair, make_ca, secret

FORBIDDEN = Unavailable("403 Forbidden", "forbidden", "get on the resource")


def _reason(call: object) -> tuple[str, str]:
    with pytest.raises(NotEvaluated) as raised:
        call()  # type: ignore[operator]
    return raised.value.reason, raised.value.permission


def test_an_unreadable_kubernetes_or_elasticsearch_api_names_the_side() -> None:
    pair = healthy_pair()
    pair.local.kube_unavailable = FORBIDDEN
    pair.remote.es_unavailable = Unavailable("connection refused", "unreachable")
    snap = pair.build()
    assert _reason(lambda: reads.kube(snap.local)) == (
        "cannot read the local Kubernetes API: 403 Forbidden", "get on the resource")
    assert _reason(lambda: reads.es_api(reads.remote_side(snap))) == (
        "cannot read the remote Elasticsearch API: connection refused", "")


def test_without_remote_access_the_remote_environment_is_what_is_missing() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    reason, permission = _reason(lambda: reads.remote_side(pair.build()))
    assert reason == "cannot read the remote environment: no access to the remote environment"
    assert permission == "pass --remote-context (and --remote-namespace) to read the remote environment"


def test_each_unreadable_list_is_named_with_side_and_namespace() -> None:
    pair = healthy_pair()
    pair.local.overrides = {"services": FORBIDDEN, "secrets": FORBIDDEN, "configmaps": FORBIDDEN,
                            "elasticsearch": FORBIDDEN}
    side = pair.build().local
    said = [_reason(lambda: reads.services(side))[0], _reason(lambda: reads.secret(side, "x"))[0],
            _reason(lambda: reads.configmap(side, "x"))[0], _reason(lambda: reads.resource(side))[0]]
    assert said == ["cannot read services in local namespace logging: 403 Forbidden",
                    "cannot read secrets in local namespace logging: 403 Forbidden",
                    "cannot read configmaps in local namespace logging: 403 Forbidden",
                    "cannot read Elasticsearch logging/local-es: 403 Forbidden"]


def test_an_elasticsearch_resource_that_is_not_there_says_so() -> None:
    pair = healthy_pair()
    pair.local.es = {}
    side = pair.build().local
    assert _reason(lambda: reads.resource(side)) == ("Elasticsearch logging/local-es was not found", "")


def test_a_named_object_that_does_not_exist_is_absent_but_one_that_cannot_be_read_is_not_evaluated() -> None:
    pair = healthy_pair()
    pair.local.secrets["gone"] = Unavailable("404 Not Found", "not-found")
    pair.local.secrets["hidden"] = FORBIDDEN
    pair.local.configmaps["gone"] = Unavailable("404 Not Found", "not-found")  # type: ignore[assignment]
    pair.local.configmaps["hidden"] = FORBIDDEN  # type: ignore[assignment]
    side = pair.build().local
    assert reads.secret(side, "gone") is None and reads.secret(side, "never-listed") is None
    assert reads.configmap(side, "gone") is None and reads.configmap(side, "never-listed") is None
    assert _reason(lambda: reads.secret(side, "hidden")) == (
        "cannot read secret logging/hidden: 403 Forbidden", "get on the resource")
    assert _reason(lambda: reads.configmap(side, "hidden")) == (
        "cannot read ConfigMap logging/hidden: 403 Forbidden", "get on the resource")
    assert reads.secret(side, "remote-api-keys") is not None
    assert reads.configmap(side, "remote-ca") is not None


def test_transport_cas_without_the_public_secret_or_its_ca_key_is_not_evaluated() -> None:
    name = "remote-es-es-transport-certs-public"
    expected = f"remote secret search/{name} (key ca.crt) was not found"
    pair = healthy_pair()
    del pair.remote.secrets[name]
    assert _reason(lambda: reads.transport_cas(reads.remote_side(pair.build())))[0] == expected
    pair.remote.secrets[name] = secret(name, {})
    assert _reason(lambda: reads.transport_cas(reads.remote_side(pair.build())))[0] == expected
    assert [c.subject for c in reads.transport_cas(reads.remote_side(healthy_pair().build()))] == [
        "CN=remote-es-transport,OU=remote-es"]


def test_a_link_without_a_probe_or_with_a_failed_probe_is_not_evaluated() -> None:
    pair = healthy_pair()
    snap = pair.build()
    assert _reason(lambda: reads.probe(snap, "other"))[0] == (
        "no TLS probe was made for other (no proxy_address)")
    assert _reason(lambda: reads.probe(snap, ""))[0] == (
        "no TLS probe was made for any alias (no proxy_address)")
    pair.probe = Unavailable("timed out after 5s", "timeout")
    assert _reason(lambda: reads.probe(pair.build(), ALIAS))[0] == (
        f"cannot read the TLS probe of {ALIAS}: timed out after 5s")


def test_a_link_from_elasticsearch_yml_is_read_even_when_cluster_settings_are_not() -> None:
    pair = healthy_pair()
    for name in ("mode", "proxy_address", "server_name"):
        value = pair.local.settings["persistent"][f"cluster.remote.{ALIAS}.{name}"]
        for nodeset in pair.local.es["spec"]["nodeSets"]:
            nodeset["config"][f"cluster.remote.{ALIAS}.{name}"] = value
    pair.local.settings = FORBIDDEN  # type: ignore[assignment]
    snap = pair.build()
    assert reads.link(snap, ALIAS).registered
    assert _reason(lambda: reads.link(snap, "unknown"))[0] == (
        "cannot read the local cluster settings: 403 Forbidden")


def test_with_two_aliases_one_whose_server_presents_another_eck_ca_is_not_judged_against_the_remote() -> None:
    pair = healthy_pair()
    pair.aliases = [ALIAS, "other"]
    pair.present([eck_leaf(make_ca("third-es", "third-ca"))])
    reason, permission = _reason(lambda: reads.remote_for(pair.build(), ALIAS))
    assert reason == (f"{ALIAS} points at Elasticsearch third-es (its certificate's issuer), not at the "
                      "remote environment given (search/remote-es)")
    assert permission == f"run with --alias {ALIAS} and that cluster's --remote-context"
    healthy = healthy_pair()
    healthy.aliases = [ALIAS, "other"]
    assert reads.remote_for(healthy.build(), ALIAS).es_name == "remote-es"
    assert reads.remote_for(healthy.build(), "other").es_name == "remote-es"  # no probe made for it
    healthy.probe = Unavailable("timed out after 5s", "timeout")
    assert reads.remote_for(healthy.build(), ALIAS).es_name == "remote-es"
