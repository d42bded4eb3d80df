"""Elasticsearch semantics the twin imitates, at the REST layer, without sockets.

Each test names the source it follows (tests/twin/FIDELITY.md has the commits read). The
requests go through the twin's own routing (`es_routes.dispatch`), as the HTTPS listener sends
them, on a cluster without pods: nothing here opens a port.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

import pytest

from tests.twin import es_index_authz as authz
from tests.twin import es_testkit as kit
from tests.twin.es_node import wire_compatible
from tests.twin.es_routes import Request, Response, dispatch
from tests.twin.es_server import EsCluster
from tests.twin.es_settings import skip_unavailable_default
from tests.twin.remote_client import LinkFailure

BASIC = "Basic " + base64.b64encode(f"elastic:{kit.PASSWORD}".encode()).decode()
POD = "search-es-default-0"


@functools.cache
def cluster(version: str = "8.15.3") -> EsCluster:
    """One pod-less cluster per version and test process: tests add users and keys of their own."""
    return kit.make_side("search", "search", version=version, pods=0).cluster


def call(es: EsCluster, method: str, target: str, body: Any = None, auth: str = BASIC,
         headers: dict[str, str] | None = None) -> Response:
    raw = json.dumps(body).encode() if body is not None else b""
    sent = {"Authorization": auth, "Content-Type": "application/json", **(headers or {})}
    return dispatch(es, POD, Request(method, target, sent, raw))


# ---- GET _security/api_key?id= ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["8.15.3", "9.1.3"])
def test_an_unknown_api_key_id_is_a_404_with_an_empty_list(version: str) -> None:
    """RestGetApiKeyAction: 404 when an id was asked for and nothing matched; the body is the
    ordinary answer. A name that matches nothing stays a 200."""
    es = cluster(version)
    answer = call(es, "GET", "/_security/api_key?id=unknownKeyId0000000")
    assert (answer.status, answer.body) == (404, {"api_keys": []})
    assert call(es, "GET", "/_security/api_key?name=nothing-*").status == 200


def test_a_known_api_key_id_is_a_200() -> None:
    es = cluster()
    created = call(es, "POST", "/_security/cross_cluster/api_key",
                   {"name": "k", "access": {"search": [{"names": ["logs-*"]}]}}).body
    answer = call(es, "GET", f"/_security/api_key?id={created['id']}")
    assert answer.status == 200 and [k["id"] for k in answer.body["api_keys"]] == [created["id"]]


# ---- _resolve/cluster: an index action ----------------------------------------------------------


def basic(user: str, password: str = "pw-of-a-user") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def with_role(es: EsCluster, user: str, role: dict[str, Any]) -> str:
    es.security.put_role(f"{user}-role", role)
    es.security.add_user(user, "pw-of-a-user", [f"{user}-role"])
    return basic(user)


GRANTED_BY = (
    "this action is granted by the index privileges [view_index_metadata,manage,read,read_cross_cluster,all]"
)


def test_resolve_cluster_needs_an_index_privilege_not_cluster_monitor() -> None:
    """RBACEngine.authorizeIndexAction: a remote-only expression leaves the `-*` placeholder
    locally, and a role with no index privilege granting `indices:admin/resolve/cluster` is
    denied; cluster `monitor` (enough for _remote/info) does not grant it."""
    es = cluster()
    auth = with_role(es, "watcher", {"cluster": ["monitor"]})
    answer = call(es, "GET", "/_resolve/cluster/remote-es:*", auth=auth)
    assert answer.status == 403 and answer.body["error"]["type"] == "security_exception"
    assert answer.body["error"]["reason"] == (
        "action [indices:admin/resolve/cluster] is unauthorized for user [watcher] with effective roles "
        f"[watcher-role], {GRANTED_BY}"
    )
    es.security.authorize(es.security.authenticate(auth, "/"), "cluster:monitor/remote/info", "monitor")


def test_resolve_cluster_names_the_local_indices_a_user_may_not_see() -> None:
    es = cluster()
    auth = with_role(es, "reader", {"indices": [{"names": ["logs-*"], "privileges": ["read"]}]})
    answer = call(es, "GET", "/_resolve/cluster/secret-index", auth=auth)
    assert answer.status == 403 and answer.body["error"]["reason"] == (
        "action [indices:admin/resolve/cluster] is unauthorized for user [reader] with effective roles "
        f"[reader-role] on indices [secret-index], {GRANTED_BY}"
    )


@pytest.mark.parametrize("privilege", ["read", "read_cross_cluster", "view_index_metadata", "manage",
                                       "indices:admin/resolve/*"])
def test_each_privilege_that_grants_resolve_cluster_passes_authorization(privilege: str) -> None:
    """IndexPrivilege: read, read_cross_cluster and view_index_metadata name the action; manage
    holds `indices:admin/*`; a raw action pattern works too. The names may be any index: with
    a remote-only expression only the action is checked locally."""
    es = cluster()
    auth = with_role(es, "ok", {"indices": [{"names": ["unrelated"], "privileges": [privilege]}]})
    principal = es.security.authenticate(auth, "/")
    assert es.security.grants_index_action(principal, "indices:admin/resolve/cluster")


def test_an_api_key_is_limited_by_its_own_role_descriptors() -> None:
    es = cluster()
    elastic = es.security.authenticate(BASIC, "/")
    limited = es.security.create_api_key(elastic, {"name": "mon", "role_descriptors": {
        "r": {"cluster": ["monitor"]}}}, cross_cluster=False)
    answer = call(es, "GET", "/_resolve/cluster/remote-es:*", auth=f"ApiKey {limited['encoded']}")
    assert answer.status == 403 and answer.body["error"]["reason"].startswith(
        f"action [indices:admin/resolve/cluster] is unauthorized for API key id [{limited['id']}] of user "
        "[elastic], this action")


def test_remote_denial_names_the_alias_and_the_missing_remote_indices() -> None:
    """CrossClusterAccessTransportInterceptor + AuthorizationDenialMessages.remoteActionDenied:
    an API-key-model request from a caller whose roles have no remote_indices for the alias."""
    es = cluster()
    auth = with_role(es, "local-only", {"indices": [{"names": ["logs-*"], "privileges": ["read"]}]})
    principal = es.security.authenticate(auth, "/")
    assert es.security.remote_denial(principal, "indices:admin/resolve/cluster", "remote-es") == (
        "action [indices:admin/resolve/cluster] towards remote cluster [remote-es] is unauthorized for "
        "user [local-only] with effective roles [local-only-role] because no remote indices privileges "
        "apply for the target cluster"
    )
    superuser = es.security.authenticate(BASIC, "/")
    assert es.security.remote_denial(superuser, "indices:admin/resolve/cluster", "remote-es") is None


@pytest.mark.parametrize(
    ("exception", "error"),
    [
        ("org.elasticsearch.ElasticsearchSecurityException", "unable to authenticate user [x]"),
        (
            "java.lang.IllegalStateException",
            "java.lang.IllegalStateException: unable to authenticate user [x]",
        ),
    ],
)
def test_a_refused_request_reports_a_security_message_or_the_causes_to_string(
    exception: str, error: str
) -> None:
    """TransportResolveClusterAction.onFailure: `ese.getMessage()` for a security exception,
    `cause.toString()` (class, colon, message) for any other."""
    failure = LinkFailure("unable to authenticate user [x]", (), refused=True, exception_class=exception)
    assert failure.request_error() == error


# ---- PUT _cluster/settings validation -----------------------------------------------------------


def put(es: EsCluster, settings: dict[str, Any], scope: str = "persistent", query: str = "") -> Response:
    answer = call(es, "PUT", f"/_cluster/settings{query}", {scope: settings})
    if answer.status == 200:  # leave the shared cluster as it was
        call(es, "PUT", "/_cluster/settings", {scope: {f"cluster.remote.{a}.*": None for a in ("v", "w")}})
    return answer


def proxy_v(address: str) -> dict[str, str]:
    return {"cluster.remote.v.mode": "proxy", "cluster.remote.v.proxy_address": address}


def refusal(answer: Response) -> str:
    assert answer.status == 400 and answer.body["error"]["type"] == "illegal_argument_exception", answer.body
    assert "caused_by" not in answer.body["error"]  # validateWithoutDependencies: not wrapped
    return str(answer.body["error"]["root_cause"][0]["reason"])


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("no-port", "remote hosts need to be configured as [host:port], found [no-port] instead"),
        ("host:", "failed to parse port"),  # parseInt("") after the last colon
        ("host:https", "failed to parse port"),
        ("host:0", "port number must be > 0 but was: [0]"),
        ("host:-1", "port number must be > 0 but was: [-1]"),
        ("host:99999999999", "failed to parse port"),  # beyond a Java int
    ],
)
def test_address_port_parsing_is_remote_connection_strategy_parse_port(address: str, reason: str) -> None:
    """RemoteConnectionStrategy.parsePort, the validator of proxy_address and of every seed."""
    es = cluster()
    assert refusal(put(es, proxy_v(address))) == reason
    assert refusal(put(es, {"cluster.remote.v.seeds": [address]})) == reason


@pytest.mark.parametrize("address", ["host:70000", ":9443", "[::1]:9443", "remote.example.com:443"])
def test_addresses_parse_port_accepts(address: str) -> None:
    """Only the text after the last colon is checked, as an int above 0: no upper bound, no host
    check (the host is resolved when connecting)."""
    es = cluster()
    assert put(es, proxy_v(address)).status == 200


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"cluster.remote.v.proxy_adress": "h:1"},
         "persistent setting [cluster.remote.v.proxy_adress], not recognized"),
        ({"cluster.remote.connect": "true"}, "persistent setting [cluster.remote.connect], not recognized"),
        ({"cluster.remote.v.credentials": "x"},
         "persistent setting [cluster.remote.v.credentials], not dynamically updateable"),
        ({"cluster.remote.initial_connect_timeout": "5s"},
         "persistent setting [cluster.remote.initial_connect_timeout], not dynamically updateable"),
        ({**proxy_v("h:1"), "cluster.remote.v.seeds": ["h:1"]},
         'Setting "cluster.remote.v.seeds" cannot be used with the configured "cluster.remote.v.mode" '
         "[required=SNIFF, configured=PROXY]"),
        ({"cluster.remote.v.server_name": "x", "cluster.remote.v.seeds": ["h:1"]},
         'Setting "cluster.remote.v.server_name" cannot be used with the configured "cluster.remote.v.mode" '
         "[required=PROXY, configured=SNIFF]"),
        ({"cluster.remote.v.mode": "proxi"},
         "No enum constant org.elasticsearch.transport.RemoteConnectionStrategy.ConnectionStrategy.PROXI"),
        ({"cluster.remote.v.skip_unavailable": "true"},
         "Cannot configure setting [cluster.remote.v.skip_unavailable] if remote cluster is not enabled."),
    ],
)
def test_cluster_settings_refusals_with_elasticsearchs_words(settings: dict[str, Any], reason: str) -> None:
    """AbstractScopedSettings.updateSettings (unknown / static keys), RemoteClusterSettings'
    StrategyValidator and RemoteConnectionEnabled; `cluster.remote.connect` is gone since 8.0."""
    assert refusal(put(cluster(), settings)) == reason


def test_each_scope_must_be_consistent_by_itself() -> None:
    """SettingsUpdater validates transient and persistent apart: a transient skip_unavailable
    does not lean on a persistent proxy_address."""
    es = cluster()
    proxy = {"cluster.remote.w.mode": "proxy", "cluster.remote.w.proxy_address": "h:9443"}
    assert call(es, "PUT", "/_cluster/settings", {"persistent": proxy}).status == 200
    try:
        answer = put(es, {"cluster.remote.w.skip_unavailable": "false"}, scope="transient")
        assert refusal(answer).startswith("Cannot configure setting [cluster.remote.w.skip_unavailable]")
    finally:
        call(es, "PUT", "/_cluster/settings", {"persistent": {"cluster.remote.w.*": None}})


def test_pretty_is_jacksons_pretty_printer() -> None:
    """`?pretty`: two-space indentation, `"key" : value`, `{ }` for an empty object and a final
    line feed, for answers and errors alike."""
    es = cluster()
    raw = call(es, "GET", "/_cluster/settings?pretty").encoded().decode()
    assert raw == '{\n  "persistent" : { },\n  "transient" : { }\n}\n'
    error = put(es, {"cluster.remote.connect": "true"}, query="?pretty").encoded().decode()
    assert error.startswith('{\n  "error" : {\n    "root_cause" : [\n      {\n        "type" : ')
    assert call(es, "GET", "/_cluster/settings").encoded() == b'{"persistent": {}, "transient": {}}'


# ---- index privileges -------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "listed"), [
    ("indices:data/read/search", ["read", "all"]),
    ("indices:data/read/field_caps", ["view_index_metadata", "manage", "read", "all"]),
    ("indices:admin/resolve/index", ["view_index_metadata", "manage", "read", "all"]),
    ("indices:admin/resolve/cluster", ["view_index_metadata", "manage", "read", "read_cross_cluster", "all"]),
])
def test_denials_list_the_granting_privileges_least_privileged_first(action: str, listed: list[str]) -> None:
    """IndexPrivilege.findPrivilegesThatGrant in Privilege.sortByAccessLevel's order: the more
    privileges hold all of one's actions, the earlier; ties by name."""
    assert authz.privileges_granting(action) == listed


# ---- document writes -------------------------------------------------------------------------------


def test_indexing_a_new_document_answers_201_created() -> None:
    """IndexResponse.status(): CREATED when the write created the document (scenario set-up
    steps index documents through the real client, which accepts both)."""
    answer = call(cluster(), "POST", "/logs-created/_doc", {"message": "one"})
    assert (answer.status, answer.body["result"]) == (201, "created")


# ---- versions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "default"), [((8, 14, 3), False), ((8, 15, 0), True), ((9, 1, 3), True)])
def test_skip_unavailable_default_changed_in_8_15_and_stays_true_in_9(
    version: tuple[int, int, int], default: bool
) -> None:
    """Migrating to 8.15 (breaking change: default true); RemoteClusterSettings on main keeps
    DEFAULT_SKIP_UNAVAILABLE = true."""
    assert skip_unavailable_default(version) is default


@pytest.mark.parametrize("version", ["8.15.3", "8.17.1"])
def test_resolve_cluster_timeout_is_an_unrecognized_parameter_before_8_18(version: str) -> None:
    """RestResolveClusterAction reads `timeout` from 8.18; BaseRestHandler refuses what a handler
    does not consume (before the action, so before authorization)."""
    answer = call(cluster(version), "GET", "/_resolve/cluster/remote-es:*?timeout=5s")
    assert refusal(answer) == (
        "request [/_resolve/cluster/remote-es:*] contains unrecognized parameter: [timeout]"
    )


@pytest.mark.parametrize(
    ("newer", "older", "compatible"),
    [("9.1.3", "8.19.3", True), ("9.1.0", "8.18.2", False), ("9.0.4", "8.18.2", True),
     ("9.0.4", "8.17.5", False), ("8.19.3", "7.17.0", True), ("8.15.3", "8.12.2", True)],
)
def test_supported_transport_version_pairs(newer: str, older: str, compatible: bool) -> None:
    """9.1 onwards talk to 8.19+ only (elastic/elasticsearch#123254), 9.0 to 8.18+, 8.x to 7.17+."""
    assert wire_compatible(newer, older)[0] is compatible


@pytest.mark.parametrize(("version", "accepted"), [("9.1.3", ("8", "9")), ("8.19.3", ("7", "8"))])
def test_a_server_accepts_its_own_major_and_the_one_before(version: str, accepted: tuple[str, ...]) -> None:
    """RestCompatibleVersionHelper: the 8.x Python client sends compatible-with=8, which a 9.x
    server answers; anything older than major-1 is refused with the real 400."""
    es = cluster(version)
    for major in ("7", "8", "9"):
        media = f"application/vnd.elasticsearch+json; compatible-with={major}"
        answer = call(es, "GET", "/_cluster/settings", headers={"Accept": media})
        if major in accepted:
            assert answer.status == 200
            assert dict(answer.headers)["Content-Type"].endswith(f"compatible-with={major}")
        else:
            assert answer.status == 400 and answer.body["error"]["type"] == "media_type_header_exception"
