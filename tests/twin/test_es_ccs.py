"""Cross-cluster reads through the link, as Elasticsearch authorizes them on both sides.

One linked pair per module (official client to the local cluster, the link's real handshake to
the remote); each test names its own users and roles, and a test that changes the key's access
puts it back.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import ApiError, Elasticsearch

from tests.twin import es_testkit as kit
from tests.twin.test_es_server import client

LOGS_1, LOGS_2, METRICS = "logs-2026.12.01", "logs-2026.12.02", "metrics-2026.12.01"
DOCS = {
    LOGS_1: [{"@timestamp": "2026-12-01T10:00:00Z", "message": "a", "team": "a", "secret": "s"},
             {"@timestamp": "2026-12-01T11:00:00Z", "message": "b", "team": "b", "secret": "s"}],
    LOGS_2: [{"@timestamp": "2026-12-02T10:00:00Z", "message": "c", "team": "a"}],
    METRICS: [{"@timestamp": "2026-12-01T10:00:00Z", "cpu": 0.5}],
}
SEARCH_LOGS = {"search": [{"names": ["logs-*"]}]}


class Pair:
    def __init__(self, remote: kit.Side, local: kit.Side, key: dict[str, Any]) -> None:
        self.remote, self.local, self.key = remote, local, key
        self.es = client(local)

    def as_user(self, name: str) -> Elasticsearch:
        return self.es.options(headers={"es-security-runas-user": name})

    def role(self, name: str, **descriptor: Any) -> None:
        self.es.security.put_role(name=name, **descriptor)

    def user(self, name: str, *roles: str) -> None:
        self.es.perform_request("PUT", f"/_security/user/{name}", headers=JSON,
                                body={"password": "app-user-pw", "roles": list(roles)})

    def access(self, access: dict[str, Any]) -> None:
        self.remote.cluster.security.update_cross_cluster_key(self.key["id"], {"access": access})


JSON = {"content-type": "application/json", "accept": "application/json"}


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    things: list[Any] = []
    remote = kit.make_side("search", "search", rcs=True, addresses=kit.ALLOC, key_base=0)
    things.append(remote.cluster)
    try:
        for index, docs in DOCS.items():
            remote.cluster.add_index(index)
            remote.cluster.documents[index].extend(docs)
        key = kit.cross_cluster_key(remote, access=SEARCH_LOGS)
        local = kit.make_local(things, remote, key["encoded"])
        kit.register(local, kit.rcs(remote))
        kit.eventually(lambda: kit.info(local)["connected"])
        yield Pair(remote, local, key)
    finally:
        for thing in reversed(things):
            thing.stop()


@pytest.fixture
def narrowed(pair: Pair) -> Iterator[Pair]:
    yield pair
    pair.access(SEARCH_LOGS)


def error_of(call: Any) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call()
    return raised.value


def test_wildcards_through_the_link_silently_drop_what_the_key_does_not_grant(pair: Pair) -> None:
    caps = pair.es.field_caps(index="my:*", fields="*")
    assert caps["indices"] == [f"my:{LOGS_1}", f"my:{LOGS_2}"]
    assert set(caps["fields"]) == {"@timestamp", "message", "team", "secret"}
    resolved = pair.es.indices.resolve_index(name="my:*")
    assert [i["name"] for i in resolved["indices"]] == [f"my:{LOGS_1}", f"my:{LOGS_2}"]
    assert pair.es.field_caps(index="my:metrics-*", fields="*")["indices"] == []
    assert pair.es.search(index="my:logs-*", size=0)["hits"]["total"]["value"] == 3


def test_an_explicit_name_outside_the_keys_access_is_the_real_security_exception(pair: Pair) -> None:
    error = error_of(lambda: pair.es.field_caps(index=f"my:{METRICS}", fields="*"))
    assert error.meta.status == 403
    assert error.body["error"]["type"] == "security_exception"
    assert error.body["error"]["reason"] == (
        f"action [indices:data/read/field_caps] towards remote cluster is unauthorized for user [elastic] "
        f"with assigned roles [superuser] authenticated by API key id [{pair.key['id']}] of user [elastic] "
        f"on indices [{METRICS}], this action is granted by the index privileges "
        "[view_index_metadata,manage,read,all]")


def test_a_local_user_without_remote_indices_is_refused_before_anything_is_sent(pair: Pair) -> None:
    pair.role("app-only", indices=[{"names": ["app-*"], "privileges": ["read"]}])
    pair.user("app-user", "app-only")
    error = error_of(lambda: pair.as_user("app-user").field_caps(index="my:logs-*", fields="*"))
    assert error.meta.status == 403
    assert error.body["error"]["reason"] == (
        "action [indices:data/read/field_caps] towards remote cluster [my] is unauthorized for user "
        "[elastic] run as [app-user] with effective roles [app-only] because no remote indices "
        "privileges apply for the target cluster")
    token = base64.b64encode(b"app-user:app-user-pw").decode()
    direct = pair.es.options(headers={"authorization": f"Basic {token}"})
    error = error_of(lambda: direct.field_caps(index="my:logs-*", fields="*"))
    assert "for user [app-user] with effective roles [app-only] because no remote indices" in str(error.body)
    # a search skips the refused cluster (skip_unavailable defaults to true from 8.15)
    skipped = direct.search(index="my:logs-*", size=0)["_clusters"]["details"]["my"]
    assert "no remote indices privileges apply" in skipped["failures"][0]["reason"]["reason"]
    # _resolve/index leaves a failed remote out instead of failing
    assert pair.as_user("app-user").indices.resolve_index(name="my:logs-*")["indices"] == []


def test_remote_indices_of_another_alias_or_of_missing_roles_grant_nothing(pair: Pair) -> None:
    pair.role("other-alias", remote_indices=[{"clusters": ["other"], "names": ["*"], "privileges": ["read"]}])
    pair.user("other-user", "other-alias", "ghost-role")
    error = error_of(lambda: pair.as_user("other-user").field_caps(index="my:*", fields="*"))
    assert ("with effective roles [other-alias] (assigned roles [ghost-role] were not found) because no "
            "remote indices privileges apply") in error.body["error"]["reason"]


def test_effective_access_is_the_key_intersected_with_the_local_role(pair: Pair) -> None:
    pair.role("one-day", remote_indices=[{"clusters": ["my"], "names": [LOGS_1, METRICS],
                                          "privileges": ["read", "view_index_metadata"]}])
    pair.user("day-user", "one-day")
    reader = pair.as_user("day-user")
    assert reader.field_caps(index="my:*", fields="*")["indices"] == [f"my:{LOGS_1}"]
    error = error_of(lambda: reader.field_caps(index=f"my:{LOGS_2}", fields="*"))
    assert ("user [elastic] run as [day-user] with assigned roles [one-day] authenticated by API key id"
            in error.body["error"]["reason"])


def test_read_alone_searches_and_resolves_through_the_link(pair: Pair) -> None:
    """`read` grants search and, since 8.2, resolve/index too (no view_index_metadata needed)."""
    pair.role("read-only", remote_indices=[{"clusters": ["my"], "names": ["logs-*"], "privileges": ["read"]}])
    pair.user("reader", "read-only")
    reader = pair.as_user("reader")
    assert reader.search(index="my:logs-*", size=0)["hits"]["total"]["value"] == 3
    assert [i["name"] for i in reader.indices.resolve_index(name="my:logs-*")["indices"]] == [
        f"my:{LOGS_1}", f"my:{LOGS_2}"]


def test_a_replication_only_key_grants_no_search(narrowed: Pair) -> None:
    narrowed.access({"replication": [{"names": ["logs-*"]}]})
    assert narrowed.es.field_caps(index="my:logs-*", fields="*")["indices"] == []
    error = error_of(lambda: narrowed.es.field_caps(index=f"my:{LOGS_1}", fields="*"))
    assert error.meta.status == 403


def test_field_and_document_security_of_the_key_shape_what_a_search_sees(narrowed: Pair) -> None:
    narrowed.access({"search": [{"names": ["logs-*"], "field_security": {"grant": ["@timestamp", "message"]},
                                 "query": {"term": {"team": "a"}}}]})
    caps = narrowed.es.field_caps(index="my:logs-*", fields="*")
    assert set(caps["fields"]) == {"@timestamp", "message"}
    assert narrowed.es.search(index="my:logs-*", size=0)["hits"]["total"]["value"] == 2


def test_skip_unavailable_turns_a_refused_search_into_a_skipped_cluster(pair: Pair) -> None:
    answer = pair.es.search(index=f"my:{METRICS}", size=0)
    details = answer["_clusters"]["details"]["my"]
    assert answer["_clusters"]["skipped"] == 1 and details["status"] == "skipped"
    assert details["failures"][0]["reason"]["type"] == "security_exception"


def test_run_as_needs_the_run_as_privilege_and_an_existing_user(pair: Pair) -> None:
    error = error_of(lambda: pair.as_user("nobody").field_caps(index="my:logs-*", fields="*"))
    assert error.meta.status == 403
    assert error.body["error"]["reason"] == (
        "action [indices:data/read/field_caps] is unauthorized for user [elastic] with effective roles "
        "[superuser], because user [elastic] is unauthorized to run as [nobody]")


def test_unknown_alias_and_missing_fields_are_the_real_errors(pair: Pair) -> None:
    error = error_of(lambda: pair.es.field_caps(index="nope:logs-*", fields="*"))
    assert error.meta.status == 404 and error.body["error"]["reason"] == "no such remote cluster: [nope]"
    error = error_of(lambda: pair.es.perform_request("GET", "/my:logs-*/_field_caps", headers=JSON))
    assert error.meta.status == 400


def test_documents_and_users_are_set_up_through_rest(pair: Pair) -> None:
    pair.es.index(index="local-notes", document={"note": "x"})
    pair.user("set-up-user")
    assert pair.es.security.get_user(username="set-up-user")["set-up-user"]["roles"] == []
    assert pair.es.field_caps(index="local-notes", fields="*")["indices"] == ["local-notes"]
