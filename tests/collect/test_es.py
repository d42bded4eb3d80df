"""EsClient failures read as what to do: not Elasticsearch, plaintext, refused, 403."""

from __future__ import annotations

import pytest

from kubectl_eckrc.collect.es import EsAuth, EsClient, EsUnavailable
from tests.collect import servers


def _info_failure(url: str, ca: str | None = None) -> str:
    auth = EsAuth(username="elastic", password="pw-not-shown")
    client = EsClient(url, auth, 2, ca, None, system_trust=True)
    try:
        with pytest.raises(EsUnavailable) as failure:
            client.info()
    finally:
        client.close()
    return failure.value.unavailable.reason


def test_an_http_endpoint_without_the_product_header_is_not_elasticsearch() -> None:
    with servers.http_server() as port:
        reason = _info_failure(f"http://127.0.0.1:{port}")
    assert reason == f"http://127.0.0.1:{port} is not Elasticsearch (no X-Elastic-Product header)"


def test_an_https_endpoint_without_the_product_header_is_not_elasticsearch() -> None:
    cert, key = servers.make_cert("localhost", ["localhost"])
    with servers.http_server(servers.server_context(cert, key)) as port:
        reason = _info_failure(f"https://localhost:{port}", cert)
    assert "is not Elasticsearch" in reason


def test_plaintext_where_tls_was_expected() -> None:
    with servers.http_server() as port:
        reason = _info_failure(f"https://127.0.0.1:{port}")
    assert "plaintext where TLS was expected" in reason


def test_an_untrusted_certificate_fails_verification() -> None:
    cert, key = servers.make_cert("localhost", ["localhost"])
    with servers.http_server(servers.server_context(cert, key)) as port:
        reason = _info_failure(f"https://localhost:{port}")
    assert "certificate verify failed" in reason


def test_refused_connection() -> None:
    reason = _info_failure(f"http://127.0.0.1:{servers.free_port()}")
    assert reason.endswith("connection refused")


def test_credentials_never_show_in_repr() -> None:
    assert "pw" not in repr(EsAuth(username="elastic", password="pw"))


def test_resolve_cluster_asks_again_without_timeout_on_servers_that_predate_it() -> None:
    with servers.http_server(handler=servers.OldElasticsearch) as port:
        client = EsClient(f"http://127.0.0.1:{port}", EsAuth(), 2)
        try:
            assert client.resolve_cluster("remote-es", 4)["remote-es"]["connected"] is True
        finally:
            client.close()
