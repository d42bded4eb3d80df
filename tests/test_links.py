"""Deriving the configured links from a snapshot."""

from __future__ import annotations

from kubectl_eckrc import links
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
