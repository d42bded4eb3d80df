"""The Elasticsearch REST twin answers like Elasticsearch: shapes, headers, errors, negotiation."""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import ApiError, AuthenticationException, Elasticsearch

from tests.twin import es_testkit as kit
from tests.twin import pki

ALLOC = kit.LoopbackAllocator()
BASIC = "Basic " + base64.b64encode(f"elastic:{kit.PASSWORD}".encode()).decode()
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def side() -> Iterator[kit.Side]:
    built = kit.make_side("search", "search", rcs=True, pods=2, addresses=ALLOC, key_base=0)
    yield built
    built.cluster.stop()


def call(
    side: kit.Side,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    auth: str | None = BASIC,
) -> tuple[int, Any, Any]:
    ctx = ssl.create_default_context(cadata=pki.cert_pem(side.http_ca.cert).decode())
    ctx.check_hostname = False
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        side.url() + path, data=data, method=method, headers={**JSON, **(headers or {})}
    )
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, context=ctx, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, response.headers
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else None, err.headers


def client(side: kit.Side, **auth: Any) -> Elasticsearch:
    return Elasticsearch(
        side.url(),
        ca_certs=_ca_file(side),
        ssl_assert_hostname=f"{side.es}-es-http.{side.namespace}.svc",
        **(auth or {"basic_auth": ("elastic", kit.PASSWORD)}),
        request_timeout=10,
    )


def _ca_file(side: kit.Side) -> str:
    path = os.path.join(tempfile.mkdtemp(prefix="twin-es-ca-"), "ca.crt")
    with open(path, "wb") as handle:
        handle.write(pki.cert_pem(side.http_ca.cert))
    return path


def test_official_8x_client_works_with_the_http_ca_and_basic_auth(side: kit.Side) -> None:
    es = client(side)
    info = es.info()
    assert info["cluster_name"] == "search" and info["version"]["number"] == "8.15.3"
    assert info["tagline"] == "You Know, for Search"
    assert es.cluster.health()["number_of_nodes"] == 2
    assert es.license.get()["license"]["type"] == "trial"
    assert es.security.authenticate()["username"] == "elastic"
    assert es.cluster.remote_info().body == {}


def test_every_answer_carries_the_product_header(side: kit.Side) -> None:
    status, body, headers = call(side, "GET", "/_cluster/health", auth=None)
    assert status == 401 and headers["X-Elastic-Product"] == "Elasticsearch"
    assert body["error"]["root_cause"][0]["type"] == "security_exception"
    assert body["error"]["reason"] == "missing authentication credentials for REST request [/_cluster/health]"
    assert 'Basic realm="security", charset="UTF-8"' in headers.get_all("WWW-Authenticate")
    assert "ApiKey" in headers.get_all("WWW-Authenticate")


def test_wrong_password_is_a_401_naming_the_user(side: kit.Side) -> None:
    bad = "Basic " + base64.b64encode(b"elastic:nope").decode()
    status, body, _ = call(side, "GET", "/", auth=bad)
    assert status == 401
    assert body["error"]["reason"] == "unable to authenticate user [elastic] for REST request [/]"


def test_compatible_with_9_is_rejected_by_an_8x_server(side: kit.Side) -> None:
    v9 = "application/vnd.elasticsearch+json; compatible-with=9"
    status, body, _ = call(side, "GET", "/", headers={"Accept": v9, "Content-Type": v9})
    assert status == 400
    assert body["error"]["type"] == "media_type_header_exception"
    assert body["error"]["reason"] == "Invalid media-type value on headers [Accept, Content-Type]"
    assert body["error"]["caused_by"]["reason"] == (
        f"Accept version must be either version 8 or 7, but found 9. Accept={v9}"
    )


def test_a_9x_server_accepts_compatible_with_8_and_9() -> None:
    nine = kit.make_side("nine", "ns", version="9.1.2", addresses=ALLOC, key_base=6)
    try:
        for version in (8, 9):
            media = f"application/vnd.elasticsearch+json; compatible-with={version}"
            status, body, headers = call(nine, "GET", "/", headers={"Accept": media, "Content-Type": media})
            assert status == 200 and body["version"]["minimum_wire_compatibility_version"] == "8.19.0"
            assert headers["Content-Type"] == f"application/vnd.elasticsearch+json;compatible-with={version}"
    finally:
        nine.cluster.stop()


def test_cross_cluster_key_cannot_authenticate_rest_calls(side: kit.Side) -> None:
    created = client(side).security.create_cross_cluster_api_key(
        name="ccs", access={"search": [{"names": ["logs-*"]}]}, expiration="90d"
    )
    assert set(created.body) == {"id", "name", "api_key", "encoded", "expiration"}
    assert len(created["id"]) == 20 and len(created["api_key"]) == 22
    assert base64.b64decode(created["encoded"]).decode() == f"{created['id']}:{created['api_key']}"
    with pytest.raises(AuthenticationException) as err:
        client(side, api_key=created["encoded"]).security.authenticate()
    assert (
        f"authentication expected API key type of [rest], but API key [{created['id']}] has type "
        "[cross_cluster]"
    ) in json.dumps(err.value.body)


def test_an_api_key_cannot_create_a_cross_cluster_key(side: kit.Side) -> None:
    rest = client(side).security.create_api_key(name="rest-key")
    es = client(side, api_key=rest["encoded"])
    assert es.security.authenticate()["authentication_type"] == "api_key"
    with pytest.raises(ApiError) as err:
        es.security.create_cross_cluster_api_key(name="x", access={"search": [{"names": ["*"]}]})
    assert err.value.meta.status == 400
    assert (
        "authentication via API key not supported: An API key cannot be used to create a cross-cluster API "
        "key" in json.dumps(err.value.body)
    )


def test_get_and_invalidate_api_keys(side: kit.Side) -> None:
    es = client(side)
    created = es.security.create_cross_cluster_api_key(
        name="ccs", access={"replication": [{"names": ["a*"]}]}, metadata={"team": "search"}
    )
    key = es.security.get_api_key(id=created["id"])["api_keys"][0]
    assert key["type"] == "cross_cluster" and key["invalidated"] is False and key["username"] == "elastic"
    assert key["access"] == {"replication": [{"names": ["a*"], "allow_restricted_indices": False}]}
    assert key["metadata"] == {"team": "search"} and "expiration" not in key
    assert (
        es.security.update_cross_cluster_api_key(
            id=created["id"], access={"search": [{"names": ["b*"]}]}, metadata={"v": 2}
        )["updated"]
        is True
    )
    done = es.security.invalidate_api_key(ids=[created["id"]])
    assert done["invalidated_api_keys"] == [created["id"]] and done["error_count"] == 0
    assert es.security.get_api_key(name="ccs")["api_keys"][0]["invalidated"] is True


def test_cluster_settings_nested_flat_and_null_deletes(side: kit.Side) -> None:
    es = client(side)
    remote = {"cluster": {"remote": {"my": {"mode": "proxy", "proxy_address": "127.0.0.1:9443"}}}}
    put = es.cluster.put_settings(persistent=remote)
    assert put["persistent"] == remote and put["acknowledged"] is True
    flat = es.cluster.get_settings(flat_settings=True)
    assert flat["persistent"] == {
        "cluster.remote.my.mode": "proxy",
        "cluster.remote.my.proxy_address": "127.0.0.1:9443",
    }
    transient = {"mode": "proxy", "proxy_address": "127.0.0.1:9443", "skip_unavailable": False}
    es.cluster.put_settings(transient={"cluster": {"remote": {"my": transient}}})
    assert es.cluster.get_settings()["transient"]["cluster"]["remote"]["my"]["skip_unavailable"] == "false"
    es.cluster.put_settings(persistent={"cluster.remote.my.*": None}, transient={"cluster.remote.my.*": None})
    assert es.cluster.get_settings().body == {"persistent": {}, "transient": {}}
    assert "defaults" in es.cluster.get_settings(include_defaults=True)


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (
            {"cluster.remote.my.mode": "proxy", "cluster.remote.my.seeds": ["127.0.0.1:9300"]},
            'Setting "cluster.remote.my.seeds" cannot be used with the configured "cluster.remote.my.mode" '
            "[required=SNIFF, configured=PROXY]",
        ),
        (
            {"cluster.remote.my.proxy_address": "127.0.0.1:9443"},
            'Setting "cluster.remote.my.proxy_address" cannot be used with the configured '
            '"cluster.remote.my.mode" [required=PROXY, configured=SNIFF]',
        ),
        ({"no.such.setting": "x"}, "persistent setting [no.such.setting], not recognized"),
        (
            {"cluster.remote.my.credentials": "x"},
            "persistent setting [cluster.remote.my.credentials], not dynamically updateable",
        ),
    ],
)
def test_cluster_settings_validation_texts(side: kit.Side, settings: dict[str, Any], reason: str) -> None:
    status, body, _ = call(side, "PUT", "/_cluster/settings", {"persistent": settings})
    assert status == 400 and body["error"]["root_cause"][0]["reason"] == reason


@pytest.mark.parametrize(
    ("key", "value", "cause"),
    [
        (
            "proxy_address",
            "no-port",
            "remote hosts need to be configured as [host:port], found [no-port] instead",
        ),
        (
            "mode",
            "proxi",
            "No enum constant org.elasticsearch.transport.RemoteConnectionStrategy.ConnectionStrategy.PROXI",
        ),
    ],
)
def test_bad_remote_values_are_rejected(side: kit.Side, key: str, value: str, cause: str) -> None:
    settings = {"cluster.remote.my.mode": "proxy", f"cluster.remote.my.{key}": value}
    status, body, _ = call(side, "PUT", "/_cluster/settings", {"persistent": settings})
    # validateWithoutDependencies: the parser's or validator's exception is the answer, unwrapped
    assert status == 400 and body["error"]["root_cause"][0]["reason"] == cause
    assert body["error"]["type"] == "illegal_argument_exception" and "caused_by" not in body["error"]


@pytest.mark.parametrize("value", ["10.0.0.1", "not a host name!"])
def test_server_name_takes_any_string_at_put(side: kit.Side, value: str) -> None:
    # ProxyConnectionStrategy.SERVER_NAME is a plain string setting; SNIHostName judges it at connect.
    settings = {"cluster.remote.my.mode": "proxy", "cluster.remote.my.proxy_address": "127.0.0.1:9443",
                "cluster.remote.my.server_name": value}
    status, _, _ = call(side, "PUT", "/_cluster/settings", {"persistent": settings})
    assert status == 200


def test_reload_secure_settings_reports_the_keystore_loaded_at_start(side: kit.Side) -> None:
    side.restart(side.pod(0), keystore={"cluster.remote.my.credentials": "c2VjcmV0"})
    body = client(side).nodes.reload_secure_settings().body
    assert body["_nodes"] == {"total": 2, "successful": 2, "failed": 0} and body["cluster_name"] == "search"
    names = {n["name"]: n["secure_setting_names"] for n in body["nodes"].values()}
    assert names[side.pod(0)] == ["cluster.remote.my.credentials", "keystore.seed"]
    assert names[side.pod(1)] == ["keystore.seed"]
    assert "c2VjcmV0" not in json.dumps(body)


def test_nodes_settings_show_each_pods_effective_config(side: kit.Side) -> None:
    nodes = client(side).nodes.info(metric="settings", flat_settings=True)["nodes"]
    settings = {n["name"]: n["settings"] for n in nodes.values()}
    assert settings[side.pod(0)]["remote_cluster_server.enabled"] == "true"
    assert settings[side.pod(1)]["node.name"] == side.pod(1)


def test_roles_with_remote_indices_roundtrip(side: kit.Side) -> None:
    role = {"remote_indices": [{"clusters": ["my"], "names": ["logs-*"], "privileges": ["read"]}]}
    assert call(side, "PUT", "/_security/role/remote-reader", role)[1] == {"role": {"created": True}}
    status, roles, _ = call(side, "GET", "/_security/role")
    assert status == 200 and roles["remote-reader"] == role and "superuser" in roles
    assert call(side, "GET", "/_security/role/missing")[:2] == (404, {})


def test_unknown_endpoints_and_indices_fail_like_elasticsearch(side: kit.Side) -> None:
    status, body, _ = call(side, "GET", "/_nope")
    assert status == 400 and body == {"error": "no handler found for uri [/_nope] and method [GET]"}
    status, body, _ = call(side, "GET", "/logs-1")
    assert status == 404 and body["error"]["type"] == "index_not_found_exception"
    status, body, _ = call(side, "POST", "/_remote/info")
    assert status == 405 and "allowed: [GET]" in body["error"]


def test_resolve_cluster_needs_8_13() -> None:
    old = kit.make_side("old", "ns", version="8.12.2", addresses=ALLOC, key_base=6)
    try:
        status, body, _ = call(old, "GET", "/_resolve/cluster/my:*")
        assert status == 400 and "no handler found for uri" in body["error"]
    finally:
        old.cluster.stop()


def test_resolve_cluster_reports_unknown_alias_and_local_index(side: kit.Side) -> None:
    status, body, _ = call(side, "GET", "/_resolve/cluster/nope:*")
    assert status == 404 and body["error"]["reason"] == "no such remote cluster: [nope]"
    side.cluster.add_index("logs-1")
    local = call(side, "GET", "/_resolve/cluster/logs-*")[1]["(local)"]
    assert local["connected"] is True and local["matching_indices"] is True
    assert call(side, "GET", "/_resolve/cluster/missing")[1]["(local)"]["error"] == "no such index [missing]"


def test_license_shape_for_basic(side: kit.Side) -> None:
    side.cluster.set_license("basic")
    lic = client(side).license.get()["license"]
    assert lic["type"] == "basic" and lic["status"] == "active" and "expiry_date" not in lic


def test_filter_path_keeps_only_the_selected_settings(side: kit.Side) -> None:
    es = client(side)
    es.cluster.put_settings(
        persistent={
            "cluster.remote.my.mode": "proxy",
            "cluster.remote.my.proxy_address": "a:1",
            "indices.recovery.max_bytes_per_sec": "50mb",
        }
    )
    filtered = call(side, "GET", "/_cluster/settings?filter_path=persistent.cluster.remote")[1]
    assert filtered == {
        "persistent": {"cluster": {"remote": {"my": {"mode": "proxy", "proxy_address": "a:1"}}}}
    }
    assert call(side, "GET", "/?filter_path=version.number,-version.x")[1] == {
        "version": {"number": "8.15.3"}
    }
    assert call(side, "GET", "/_cluster/settings?filter_path=nothing.here")[1] == {}


def test_restricted_user_gets_the_real_403(side: kit.Side) -> None:
    side.cluster.security.put_role("viewer", {"cluster": ["monitor"]})
    side.cluster.security.add_user("viewer", "viewer-pw", ["viewer"])
    auth = "Basic " + base64.b64encode(b"viewer:viewer-pw").decode()
    assert call(side, "GET", "/_remote/info", auth=auth)[0] == 200
    status, body, _ = call(
        side, "PUT", "/_cluster/settings", {"persistent": {"cluster.remote.a.mode": "proxy"}}, auth=auth
    )
    assert status == 403
    assert body["error"]["reason"] == (
        "action [cluster:admin/settings/update] is unauthorized for user [viewer] "
        "with effective roles [viewer], this action is granted by the cluster "
        "privileges [manage,all]"
    )
    privileges = call(
        side,
        "POST",
        "/_security/user/_has_privileges",
        {"cluster": ["monitor", "manage_security"]},
        auth=auth,
    )[1]
    assert privileges["cluster"] == {"monitor": True, "manage_security": False}
    assert privileges["has_all_requested"] is False


def test_xpack_info_reports_the_license(side: kit.Side) -> None:
    info = client(side).xpack.info()
    assert info["license"]["type"] == "trial" and info["features"]["security"]["enabled"] is True
