"""5xx: registration, mode, and the connection itself."""

from __future__ import annotations

from kubectl_eckrc.checks.connection import diagnose
from kubectl_eckrc.findings import Status
from kubectl_eckrc.snapshot import Unavailable
from tests.checks.helpers import failing, findings, first_failure, outcome
from tests.snapshot_builder import ALIAS, KEY_ID, PairBuilder, eck_leaf, healthy_pair, make_ca


def test_no_remote_configured_is_eckrc501_and_skips_the_link_checks() -> None:
    pair = healthy_pair()
    pair.aliases = []
    for name in ("mode", "proxy_address", "server_name"):
        pair.local_cluster_setting(name, None)
    first = first_failure(pair)
    assert first.id == "ECKRC501" and first.alias is None
    assert outcome(pair, "ECKRC502", None).message == "skipped: ECKRC501 failed"


def test_alias_typo_in_scope_is_eckrc501_listing_the_configured_ones() -> None:
    pair = healthy_pair()
    pair.aliases = ["remote-ess"]
    finding = outcome(pair, "ECKRC501", "remote-ess")
    assert finding.status is Status.FAIL
    assert finding.evidence["configured"] == [ALIAS]


def test_alias_from_elasticsearch_yml_is_registered() -> None:
    pair = healthy_pair()
    for name in ("mode", "proxy_address", "server_name"):
        value = pair.local.settings["persistent"][f"cluster.remote.{ALIAS}.{name}"]
        pair.local_cluster_setting(name, None)
        for nodeset in pair.local.es["spec"]["nodeSets"]:
            nodeset["config"][f"cluster.remote.{ALIAS}.{name}"] = value
    finding = outcome(pair, "ECKRC501")
    assert finding.status is Status.PASS and "elasticsearch.yml" in finding.message


def test_sniff_mode_across_clusters_is_eckrc502() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("mode", None)
    pair.local_cluster_setting("proxy_address", None)
    pair.local_cluster_setting("seeds", "127.0.0.10:9443")
    pair.remote_info(mode="sniff", num_nodes_connected=0, connected=False)
    finding = first_failure(pair)
    assert finding.id == "ECKRC502"
    assert finding.evidence["num_nodes_connected"] == 0
    assert finding.fix is not None and finding.fix.action == "register-remote"


def test_disconnected_link_is_eckrc503_with_the_resolve_error_in_eckrc504() -> None:
    pair = healthy_pair()
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    error = "Unable to open any proxy connections to cluster [remote-es] at address [127.0.0.10:9443]"
    pair.local.resolve_cluster[ALIAS][ALIAS] = {"connected": False, "skip_unavailable": True, "error": error}
    assert outcome(pair, "ECKRC503").status is Status.FAIL
    resolved = outcome(pair, "ECKRC504")
    assert resolved.status is Status.FAIL and resolved.evidence["error"] == error
    assert "no connection" in resolved.hint


def test_some_sockets_down_is_an_eckrc503_warning() -> None:
    pair = healthy_pair()
    pair.remote_info(num_proxy_sockets_connected=9)
    finding = outcome(pair, "ECKRC503")
    assert finding.status is Status.WARN and finding.evidence["sockets"] == "9/18"


def test_connection_check_is_skipped_when_trust_is_the_cause() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    assert outcome(pair, "ECKRC503").message == "skipped: ECKRC303 failed"
    assert first_failure(pair).id == "ECKRC303"


def test_skip_unavailable_hiding_a_broken_link_warns_beside_the_failure() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    pair.remote_info(connected=False, num_proxy_sockets_connected=0, skip_unavailable=True)
    finding = outcome(pair, "ECKRC505")
    assert finding.status is Status.WARN
    assert "silently" in finding.message
    statuses = {f.id: f.status for f in findings(pair)}
    assert statuses["ECKRC303"] is Status.FAIL


def test_skip_unavailable_defaults_to_true_from_8_15() -> None:
    pair = healthy_pair()
    pair.remote_info(connected=False, num_proxy_sockets_connected=0, skip_unavailable=None)
    assert outcome(pair, "ECKRC505").status is Status.WARN


def test_no_local_role_for_the_alias_is_an_eckrc506_warning() -> None:
    pair = healthy_pair()
    pair.local.roles = {"reader": {"remote_indices": [{"clusters": ["other"], "names": ["*"]}]}}
    finding = outcome(pair, "ECKRC506")
    assert finding.status is Status.WARN
    assert finding.fix is None


def test_wildcard_cluster_pattern_in_roles_covers_the_alias() -> None:
    pair = healthy_pair()
    pair.local.roles = {"reader": {"remote_indices": [{"clusters": ["remote-*"], "names": ["logs-*"]}]}}
    assert outcome(pair, "ECKRC506").status is Status.PASS


def test_a_role_naming_its_remote_indices_and_clusters_as_single_strings_covers_the_alias() -> None:
    # Elasticsearch reads `names` and `clusters` as a string or an array of strings
    pair = healthy_pair()
    pair.local.roles = {"reader": {"remote_indices": [{"clusters": "remote-*", "names": "logs-*"}]}}
    finding = outcome(pair, "ECKRC506")
    assert (finding.status, finding.evidence["roleIndices"]) == (Status.PASS, ["logs-*"])


def test_known_error_texts_name_their_cause() -> None:
    assert "REST API key" in diagnose("authentication expected API key type of [cross_cluster], but API key "
                                      "[agZXJocBmA2beJfq2yKu] has type [rest]")
    assert "keystore" in diagnose("require transport header [_cross_cluster_access_credentials] but "
                                  "none found")
    assert "9300" in diagnose("javax.net.ssl.SSLHandshakeException: Empty client certificate chain")
    assert "license" in diagnose("current license is non-compliant for [advanced-remote-cluster-security]")
    assert diagnose("something new") == ""


def test_explicit_roles_without_remote_cluster_client_is_eckrc507() -> None:
    pair = healthy_pair()
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        nodeset["config"]["node.roles"] = ["master", "data"]
    finding = outcome(pair, "ECKRC507")
    assert finding.status is Status.FAIL
    assert finding.evidence["nodeSets"] == ["hot", "warm"]
    assert outcome(pair, "ECKRC503").message == "skipped: ECKRC507 failed"


def test_one_nodeset_without_the_client_role_is_an_eckrc507_warning() -> None:
    pair = healthy_pair()
    pair.local.es["spec"]["nodeSets"][1]["config"]["node.roles"] = ["data"]
    assert outcome(pair, "ECKRC507").status is Status.WARN


def test_default_roles_include_the_client_role() -> None:
    pair = healthy_pair()
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        nodeset["config"].pop("node.roles")
    assert outcome(pair, "ECKRC507").status is Status.PASS


def _skip_true(pair: PairBuilder) -> PairBuilder:
    pair.remote_info(skip_unavailable=True)
    return pair


def test_eckrc505_names_what_shows_the_link_down() -> None:
    cases = {
        "_remote/info: not connected": {"connected": False},
        "_remote/info: not connected ": {"num_proxy_sockets_connected": 0},
        "_resolve/cluster: not connected": {"resolved": {"connected": False}},
        "_resolve/cluster: unable to authenticate": {"resolved": {"connected": True,
                                                                  "error": "unable to authenticate"}},
    }
    for seen, change in cases.items():
        pair = _skip_true(healthy_pair())
        resolved = change.pop("resolved", None)
        if resolved is not None:
            pair.local.resolve_cluster[ALIAS][ALIAS].update(resolved)
        pair.remote_info(**change)
        finding = outcome(pair, "ECKRC505")
        assert finding.status is Status.WARN, seen
        assert finding.evidence == {"skip_unavailable": True, "seen": seen.strip()}, seen
        assert finding.message == f"{ALIAS} is down and skip_unavailable is true: searches drop it silently"


def test_eckrc505_passes_on_a_link_that_is_up_and_names_the_setting() -> None:
    finding = outcome(_skip_true(healthy_pair()), "ECKRC505")
    assert finding.status is Status.PASS
    assert finding.message == "skip_unavailable true, link up"
    pair = healthy_pair()
    pair.remote_info(connected=False)
    down = outcome(pair, "ECKRC505")
    assert down.status is Status.PASS and down.message == "skip_unavailable false, link down"


def test_eckrc505_before_8_15_reads_an_unset_skip_unavailable_as_false() -> None:
    pair = healthy_pair()
    pair.local.info["version"]["number"] = "8.14.3"
    pair.remote_info(connected=False, skip_unavailable=None)
    assert outcome(pair, "ECKRC505").status is Status.PASS


def test_eckrc506_adds_the_index_names_of_every_matching_grant_and_of_both_key_kinds() -> None:
    pair = healthy_pair()
    pair.local.roles = {"a": {"remote_indices": [{"clusters": [ALIAS], "names": ["logs-*"]},
                                                 {"clusters": ["remote-*"], "names": ["metrics-*"]}]}}
    finding = outcome(pair, "ECKRC506")
    assert finding.status is Status.PASS
    assert finding.evidence["roleIndices"] == ["logs-*", "metrics-*"]


def test_a_missing_remote_info_entry_is_not_evaluated_and_says_so() -> None:
    pair = healthy_pair()
    pair.local.remote_info = {}
    finding = outcome(pair, "ECKRC503")
    assert finding.status is Status.NOT_EVALUATED
    assert finding.message == f"_remote/info has no entry for {ALIAS}"


FORBIDDEN = Unavailable(
    "403 Forbidden on GET /_resolve/cluster/remote-es:*: action [indices:admin/resolve/cluster] is "
    "unauthorized for user [watcher] with effective roles [monitoring], this action is granted by the index "
    "privileges [view_index_metadata,manage,read,read_cross_cluster,all]", "forbidden", "an index privilege")
NO_REMOTE_INDICES = (
    "action [indices:admin/resolve/cluster] towards remote cluster [remote-es] is unauthorized for user "
    "[watcher] with effective roles [monitoring] because no remote indices privileges apply for the target "
    "cluster")


def test_a_user_who_may_not_call_resolve_cluster_falls_back_on_remote_info() -> None:
    """A 403 on _resolve/cluster is about doctor's user, not the link: ECKRC504 is not evaluated
    and says so, ECKRC503 judges the connection from _remote/info, nothing fails."""
    pair = healthy_pair()
    pair.local.resolve_cluster[ALIAS] = FORBIDDEN
    resolved = outcome(pair, "ECKRC504")
    assert resolved.status is Status.NOT_EVALUATED
    assert "may not use _resolve/cluster" in resolved.message and "_remote/info alone" in resolved.message
    assert "indices:admin/resolve/cluster" in resolved.permission
    assert outcome(pair, "ECKRC503").status is Status.PASS
    assert failing(pair) == []


def test_a_user_without_remote_indices_is_not_a_broken_link() -> None:
    """Elasticsearch reports the interceptor's denial as `connected: false` with its message:
    ECKRC504 is not evaluated, ECKRC505 does not call the link down, ECKRC503 reads _remote/info."""
    pair = healthy_pair()
    pair.local.resolve_cluster[ALIAS][ALIAS] = {"connected": False, "skip_unavailable": True,
                                               "error": NO_REMOTE_INDICES}
    assert outcome(pair, "ECKRC504").status is Status.NOT_EVALUATED
    assert outcome(pair, "ECKRC505").status is Status.PASS
    assert outcome(pair, "ECKRC503").status is Status.PASS
    assert failing(pair) == []


def test_with_resolve_cluster_forbidden_a_disconnected_link_says_no_fresh_attempt_was_made() -> None:
    pair = healthy_pair()
    pair.local.resolve_cluster[ALIAS] = FORBIDDEN
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    connected = outcome(pair, "ECKRC503")
    assert connected.status is Status.FAIL and "may not use _resolve/cluster" in connected.hint


def test_eckrc503_passes_a_stale_remote_info_when_resolve_cluster_connected() -> None:
    pair = healthy_pair()
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    finding = outcome(pair, "ECKRC503")
    assert finding.status is Status.PASS
    assert finding.message == (f"{ALIAS} connected (_resolve/cluster); _remote/info still said not "
                               "connected: it only shows the last attempt")
    assert finding.evidence == {"connected": False, "sockets": "0/18"}


def test_eckrc503_fails_when_resolve_cluster_did_not_connect_either() -> None:
    # (not connected without an error while doctor's probe reaches the remote is the pods' path:
    # test_not_connected_while_this_machine_reaches_the_remote_names_the_path_from_the_pods)
    refused = {"connected": True, "skip_unavailable": False, "error": "illegal_state_exception: boom"}
    for resolved in (refused, None, Unavailable("timed out", "timeout")):
        pair = healthy_pair()
        pair.remote_info(connected=False, num_proxy_sockets_connected=0)
        if resolved is None:
            pair.local.resolve_cluster = {}
        elif isinstance(resolved, Unavailable):
            pair.local.resolve_cluster[ALIAS] = resolved
        else:
            pair.local.resolve_cluster[ALIAS][ALIAS] = resolved
        finding = outcome(pair, "ECKRC503")
        assert finding.status is Status.FAIL, resolved
        assert finding.message == f"{ALIAS} is not connected (0/18 sockets)"
        assert finding.hint.startswith("_resolve/cluster made a fresh attempt and did not connect either")


def test_unreadable_remote_info_or_roles_are_named_in_the_not_evaluated_reason() -> None:
    pair = healthy_pair()
    pair.local.overrides = {"remote_info": Unavailable("403 Forbidden", "forbidden", "monitor"),
                            "roles": Unavailable("403 Forbidden", "forbidden", "read_security")}
    info = outcome(pair, "ECKRC503")
    assert info.status is Status.NOT_EVALUATED
    assert (info.message, info.permission) == ("cannot read _remote/info: 403 Forbidden", "monitor")
    roles = outcome(pair, "ECKRC506")
    assert roles.status is Status.NOT_EVALUATED
    assert roles.message == "cannot read local roles (GET _security/role): 403 Forbidden"


def test_eckrc505_without_a_resolve_cluster_answer_judges_by_remote_info_alone() -> None:
    pair = _skip_true(healthy_pair())
    pair.local.resolve_cluster = {}
    finding = outcome(pair, "ECKRC505")
    assert (finding.status, finding.message) == (Status.PASS, "skip_unavailable true, link up")


def test_eckrc506_lists_the_index_names_of_both_key_access_kinds() -> None:
    pair = healthy_pair()
    pair.remote.api_keys[KEY_ID]["api_keys"][0]["access"] = {
        "search": [{"names": ["logs-*"]}], "replication": [{"names": ["metrics-*"]}, {"names": ["app"]}]}
    finding = outcome(pair, "ECKRC506")
    assert finding.status is Status.PASS
    assert finding.evidence == {"roleIndices": ["logs-*"], "keyAccess": ["logs-*", "metrics-*", "app"]}


def test_eckrc506_warns_on_a_key_without_access_and_leaves_an_unjudged_key_unread() -> None:
    pair = healthy_pair()
    pair.remote.api_keys[KEY_ID]["api_keys"][0]["access"] = {}
    finding = outcome(pair, "ECKRC506")
    assert finding.status is Status.WARN
    assert finding.message == "the API key grants no search or replication access"
    elsewhere = healthy_pair()
    elsewhere.aliases = [ALIAS, "other"]
    elsewhere.present([eck_leaf(make_ca("third-es", "third-ca"))])
    assert outcome(elsewhere, "ECKRC506").evidence["keyAccess"] == "not read"


def test_not_connected_while_this_machine_reaches_the_remote_names_the_path_from_the_pods() -> None:
    # Every check above passes and doctor's own probe got the remote's certificate: what is
    # left is the path doctor does not take (scenario egress-blocked).
    pair = healthy_pair()
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    pair.local.resolve_cluster[ALIAS][ALIAS] = {"connected": False, "skip_unavailable": True}
    connected = outcome(pair, "ECKRC503")
    assert connected.status is Status.FAIL and "though this machine reaches" in connected.message
    assert "egress NetworkPolicy of namespace logging" in connected.hint
    assert "the path from the pods is blocked" in outcome(pair, "ECKRC504").hint
