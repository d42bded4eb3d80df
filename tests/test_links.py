"""Deriving the configured links from a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

from kubectl_eckrc import links
from kubectl_eckrc.snapshot import Unavailable
from tests.snapshot_builder import ALIAS, PROXY, SERVER_NAME, certificate_model_pair, healthy_pair


def test_link_from_persistent_settings() -> None:
    link = links.link_for(healthy_pair().build(), ALIAS)
    assert (link.mode, link.proxy_address, link.server_name) == ("proxy", PROXY, SERVER_NAME)
    assert link.sources == {"mode": "persistent", "proxy_address": "persistent", "server_name": "persistent"}
    assert link.model == links.API_KEY
    assert link.skip_unavailable is False
    assert [c.secret for c in link.credentials] == ["remote-api-keys"]
    assert link.checked_name == SERVER_NAME


def test_transient_wins_over_persistent_which_wins_over_yml() -> None:
    pair = healthy_pair()
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        nodeset["config"][f"cluster.remote.{ALIAS}.proxy_address"] = "127.0.0.1:1"
    pair.local.settings["transient"] = {f"cluster.remote.{ALIAS}.proxy_address": "127.0.0.2:9443"}
    link = links.link_for(pair.build(), ALIAS)
    assert link.proxy_address == "127.0.0.2:9443" and link.sources["proxy_address"] == "transient"


def test_nested_settings_are_flattened() -> None:
    pair = healthy_pair()
    pair.local.settings = {"persistent": {"cluster": {"remote": {ALIAS: {"mode": "proxy",
                                                                         "proxy_address": PROXY}}}}}
    link = links.link_for(pair.build(), ALIAS)
    assert link.registered and link.proxy_address == PROXY


def test_certificate_model_is_recognised() -> None:
    link = links.link_for(certificate_model_pair().build(), ALIAS)
    assert link.model == links.CERTIFICATE
    assert link.port == 9300


def test_missing_credentials_on_9443_is_still_the_api_key_model() -> None:
    pair = healthy_pair()
    pair.local.es["spec"].pop("secureSettings")
    pair.remote_info(cluster_credentials=None)
    assert links.link_for(pair.build(), ALIAS).model == links.API_KEY


def test_configured_aliases_and_split_address() -> None:
    assert links.configured_aliases(healthy_pair().build()) == [ALIAS]
    assert links.split_address("[::1]:9443") == ("::1", 9443)
    assert links.split_address("host") == ("host", None)


def test_split_address_keeps_a_port_only_when_it_is_a_number() -> None:
    assert links.split_address("remote.example:9443") == ("remote.example", 9443)
    assert links.split_address("[fe80::1]:9300") == ("fe80::1", 9300)
    assert links.split_address("remote.example:https") == ("remote.example", None)


def test_sniff_seeds_are_read_from_a_list_or_a_comma_separated_string() -> None:
    for seeds in (["10.0.0.1:9300", "10.0.0.2:9300"], "[10.0.0.1:9300, 10.0.0.2:9300]",
                  "10.0.0.1:9300,10.0.0.2:9300"):
        pair = healthy_pair()
        pair.local_cluster_setting("mode", "sniff")
        pair.local_cluster_setting("proxy_address", None)
        pair.local_cluster_setting("seeds", seeds)
        link = links.link_for(pair.build(), ALIAS)
        assert link.seeds == ["10.0.0.1:9300", "10.0.0.2:9300"], seeds
        assert link.model == links.API_KEY  # the credentials point at the API-key model


def test_sniff_seeds_at_the_transport_port_without_credentials_are_the_certificate_model() -> None:
    pair = healthy_pair()
    pair.local.es["spec"].pop("secureSettings")
    pair.remote_info(cluster_credentials=None)
    pair.local_cluster_setting("mode", "sniff")
    pair.local_cluster_setting("proxy_address", None)
    pair.local_cluster_setting("seeds", ["10.0.0.1:9300"])
    assert links.link_for(pair.build(), ALIAS).model == links.CERTIFICATE


def test_cluster_credentials_in_remote_info_alone_mean_the_api_key_model() -> None:
    pair = certificate_model_pair()
    pair.remote_info(cluster_credentials="::es_redacted::")
    assert links.link_for(pair.build(), ALIAS).model == links.API_KEY


def test_skip_unavailable_comes_from_remote_info_first_then_the_setting() -> None:
    pair = healthy_pair()
    pair.remote_info(skip_unavailable=True)
    pair.local_cluster_setting("skip_unavailable", "false")
    assert links.link_for(pair.build(), ALIAS).skip_unavailable is True
    pair.remote_info(skip_unavailable=None)
    assert links.link_for(pair.build(), ALIAS).skip_unavailable is False
    pair.local_cluster_setting("skip_unavailable", "true")
    assert links.link_for(pair.build(), ALIAS).skip_unavailable is True
    pair.local_cluster_setting("skip_unavailable", None)
    assert links.link_for(pair.build(), ALIAS).skip_unavailable is None


def test_an_alias_nobody_configured_is_an_unregistered_link_without_credentials() -> None:
    link = links.link_for(healthy_pair().build(), "nobody")
    assert (link.alias, link.registered, link.mode, link.proxy_address) == ("nobody", False, "", "")
    assert link.credentials == [] and link.sources == {} and link.seeds == []


def test_link_header_names_what_the_report_shows_and_an_unset_mode_is_sniff() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("mode", None)
    header = links.link_header(links.link_for(pair.build(), ALIAS))
    assert header == {"alias": ALIAS, "model": links.API_KEY, "mode": "sniff", "proxy_address": PROXY,
                      "server_name": SERVER_NAME, "skip_unavailable": False, "registered": True}


def test_an_api_key_is_judged_by_type_invalidation_and_expiry_with_a_margin() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    at = int(now.timestamp() * 1000)
    good = {"type": "cross_cluster", "invalidated": False}
    assert links.api_key_problem(None, now) == "missing"
    assert links.api_key_problem({**good, "type": "rest"}, now) == "type"
    assert links.api_key_problem({**good, "invalidated": True}, now) == "invalidated"
    assert links.api_key_problem({**good, "expiration": at + 59_000}, now) == "expired"
    assert links.api_key_problem({**good, "expiration": at + 61_000}, now) == ""
    assert links.api_key_problem(good, now) == ""
    assert links.api_key_expiry({"expiration": at}) == now


def test_remote_api_key_finds_the_entry_by_id() -> None:
    answer = {"api_keys": [{"id": "a", "name": "one"}, {"id": "b", "name": "two"}]}
    assert links.remote_api_key(answer, "b") == {"id": "b", "name": "two"}
    assert links.remote_api_key(answer, "c") is None
    assert links.remote_api_key(None, "a") is None


def test_unreadable_settings_are_named_and_read_as_empty() -> None:
    pair = healthy_pair()
    pair.local.settings = Unavailable("forbidden", "forbidden")
    snap = pair.build()
    assert links.settings_readable(snap) == Unavailable("forbidden", "forbidden")
    assert links.cluster_settings(snap) == {"persistent": {}, "transient": {}}
    assert links.settings_readable(healthy_pair().build()) is None


def test_credential_keystore_names_give_their_alias() -> None:
    assert links.alias_of_credential("cluster.remote.remote-es.credentials") == "remote-es"
    assert links.alias_of_credential("cluster.remote.remote-es.proxy_address") == ""
    assert links.credential_setting("a") == "cluster.remote.a.credentials"
    assert links.aliases_in({"cluster.remote.a.transport.compress": 1, "cluster.remote.b.mode": 1,
                             "xpack.security.enabled": 1}) == ["a", "b"]


def test_a_null_cluster_setting_leaves_the_elasticsearch_yml_value_in_force() -> None:
    pair = healthy_pair()
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        nodeset["config"][f"cluster.remote.{ALIAS}.skip_unavailable"] = True
    pair.local.settings["persistent"][f"cluster.remote.{ALIAS}.skip_unavailable"] = None  # a reset
    pair.remote_info(skip_unavailable=None)
    link = links.link_for(pair.build(), ALIAS)
    assert link.skip_unavailable is True and link.sources["skip_unavailable"] == "elasticsearch.yml"


def test_credential_refs_need_both_the_resource_and_the_secret_summaries() -> None:
    es = healthy_pair().local.es
    assert links.credential_refs_of(None, {}) == []
    assert links.credential_refs_of(es, Unavailable("forbidden", "forbidden")) == []


def test_spec_remote_clusters_entries_are_ecks_links_and_its_keystore_secret_a_credential_source() -> None:
    from kubectl_eckrc.snapshot import CredentialInfo, SecretKey, SecretSummary

    es = {"metadata": {"name": "metrics-es", "namespace": "metrics"}, "spec": {"remoteClusters": [
        {"name": "logs", "elasticsearchRef": {"name": "local-es", "namespace": "logging"}, "apiKey": {}},
        {"name": "old", "elasticsearchRef": {"name": "legacy-es"}},
        {"name": "no-ref"}]}}
    managed = links.eck_remotes_of(es)
    assert sorted(managed) == ["logs", "old"]
    assert managed["logs"].ref == "logging/local-es"
    assert managed["logs"].key_name == "eck-metrics-metrics-es-logs"
    assert links.eck_seed(managed["logs"]) == "local-es-es-remote-cluster.logging.svc:9443"
    assert links.eck_seed(managed["old"]) == "legacy-es-es-transport.metrics.svc:9300"
    assert "change spec.remoteClusters" in managed["logs"].statement("ECKRC404")
    info = CredentialInfo(True, "", "abc", "0123")
    secrets = {"metrics-es-es-remote-api-keys": SecretSummary(
        "metrics-es-es-remote-api-keys", "Opaque",
        {"cluster.remote.logs.credentials": SecretKey(10, "0123", credential=info)})}
    refs = links.credential_refs_of(es, secrets)
    assert [(r.alias, r.secret) for r in refs] == [("logs", "metrics-es-es-remote-api-keys")]
