"""Elasticsearch semantics the twin imitates, at the REST layer, without sockets.

Each test names the source it follows (tests/twin/FIDELITY.md has the commits read). The
requests go through the twin's own routing (`es_routes.dispatch`), as the HTTPS listener sends
them, on a cluster without pods: nothing here opens a port.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.twin import es_testkit as kit
from tests.twin.es_routes import Request, Response, dispatch
from tests.twin.es_server import EsCluster

BASIC = "Basic " + base64.b64encode(f"elastic:{kit.PASSWORD}".encode()).decode()
POD = "search-es-default-0"


def cluster(version: str = "8.15.3") -> EsCluster:
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
