"""Remote-cluster links are computed by really connecting: every failure gives Elasticsearch's text."""

from __future__ import annotations

import base64
import dataclasses
import json
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.twin import es_testkit as kit
from tests.twin import pki
from tests.twin.es_security import now_ms
from tests.twin.network import BlackHole, TcpForwarder, TlsTerminatingProxy
from tests.twin.remote_client import LinkTimeouts

ALLOC = kit.LoopbackAllocator()
SERVER_NAME = "search-es-remote-cluster.search.svc"
HANDSHAKE = "cluster:internal/remote_cluster/handshake"


@pytest.fixture
def remote() -> Iterator[kit.Side]:
    side = kit.make_side("search", "search", rcs=True, addresses=ALLOC, key_base=40)
    yield side
    side.cluster.stop()


@pytest.fixture
def cleanup() -> Iterator[list[Any]]:
    things: list[Any] = []
    yield things
    for thing in reversed(things):
        thing.stop()


def cross_cluster_key(remote: kit.Side, **body: Any) -> dict[str, Any]:
    principal = remote.cluster.security.authenticate(
        "Basic " + base64.b64encode(f"elastic:{kit.PASSWORD}".encode()).decode(), "/"
    )
    body = {"name": "logging-to-search", "access": {"search": [{"names": ["logs-*"]}]}, **body}
    return remote.cluster.security.create_api_key(principal, body, cross_cluster=True)


def make_local(
    cleanup: list[Any],
    remote: kit.Side,
    credential: str | None,
    ca: bytes | None = None,
    config: dict[str, Any] | None = None,
    timeouts: LinkTimeouts = kit.FAST,
    **kwargs: Any,
) -> kit.Side:
    files = {kit.CA_MOUNT: pki.cert_pem(remote.transport_ca.cert) if ca is None else ca}
    keystore = {"cluster.remote.my.credentials": credential} if credential else {}
    local = kit.make_side(
        "logging",
        "logging",
        addresses=ALLOC,
        key_base=50,
        files=files,
        keystore=keystore,
        config={**kit.api_key_local_config(), **(config or {})},
        timeouts=timeouts,
        **kwargs,
    )
    cleanup.append(local.cluster)
    return local


def register(
    local: kit.Side, address: str, server_name: str | None = SERVER_NAME, mode: str = "proxy"
) -> None:
    settings: dict[str, Any] = {"mode": mode}
    if mode == "proxy":
        settings["proxy_address"] = address
        if server_name:
            settings["server_name"] = server_name
    else:
        settings["seeds"] = [address]
    local.cluster.settings.update({"persistent": {"cluster": {"remote": {"my": settings}}}})
    local.cluster.settings_changed()


def rcs(remote: kit.Side) -> str:
    address = remote.cluster.rcs_address(remote.pod())
    assert address is not None
    return f"{address[0]}:{address[1]}"


def info(local: kit.Side) -> dict[str, Any]:
    return dict(local.cluster.remote_info(local.pod())["my"])


def resolve(local: kit.Side) -> dict[str, Any]:
    return dict(local.cluster.links(local.pod()).resolve("my", "*", None))


def eventually(check: Callable[[], bool], wait: float = 15.0) -> None:
    """Waits for the background link threads (a bound for the test run, not a timed assertion)."""
    deadline = time.monotonic() + wait
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def logs_of(side: kit.Side) -> str:
    return side.cluster.logs(side.pod(), fmt="plain")


def wait_for_log(side: kit.Side, text: str) -> str:
    eventually(lambda: text in logs_of(side))
    return logs_of(side)


def test_api_key_link_connects_and_shows_redacted_credentials(remote: kit.Side, cleanup: list[Any]) -> None:
    key = cross_cluster_key(remote)
    local = make_local(cleanup, remote, key["encoded"])
    register(local, rcs(remote))
    eventually(lambda: info(local)["connected"])
    assert info(local) == {
        "connected": True,
        "mode": "proxy",
        "proxy_address": rcs(remote),
        "server_name": SERVER_NAME,
        "num_proxy_sockets_connected": 18,
        "max_proxy_socket_connections": 18,
        "initial_connect_timeout": "30s",
        "skip_unavailable": True,
        "cluster_credentials": "::es_redacted::",
    }
    remote.cluster.add_index("logs-2024")
    resolved = resolve(local)
    assert resolved["connected"] is True and resolved["matching_indices"] is True
    assert resolved["version"]["number"] == "8.15.3"
    assert key["encoded"] not in logs_of(local) + logs_of(remote)


def test_remote_info_over_rest_with_the_official_client(remote: kit.Side, cleanup: list[Any]) -> None:
    from tests.twin.test_es_server import client

    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    es = client(local)
    es.cluster.put_settings(
        persistent={
            "cluster.remote.my.mode": "proxy",
            "cluster.remote.my.proxy_address": rcs(remote),
            "cluster.remote.my.server_name": SERVER_NAME,
        }
    )
    eventually(lambda: es.cluster.remote_info()["my"]["connected"])
    assert es.indices.resolve_cluster(name="my:*")["my"]["connected"] is True


def test_wrong_ca_is_a_trust_failure_computed_from_the_presented_chain(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    other = pki.make_ca("other-ca", key=pki.pooled_key(60))
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], ca=pki.cert_pem(other.cert))
    register(local, rcs(remote))
    logs = wait_for_log(local, "failed to establish trust with server")
    host = rcs(remote).split(":")[0]
    assert (
        f"failed to establish trust with server at [{host}]; the server provided a certificate with subject "
        "name [CN=search-es-default-0.node.search.search.es.local,OU=search]" in logs
    )
    assert (
        "the [CN=search-transport,OU=search] certificate is not trusted in this ssl context "
        "([xpack.security.remote_cluster_client.ssl (with trust configuration: "
        "PEM-trust{/usr/share/elasticsearch/config/remote-certs/ca.crt})])" in logs
    )
    assert "failed to open any proxy connections to cluster [my]" in logs
    assert "client did not trust this server's certificate, closing connection" in wait_for_log(
        remote, "client did not trust"
    )
    assert info(local)["connected"] is False and info(local)["num_proxy_sockets_connected"] == 0
    assert "PKIX path building failed" in resolve(local)["error"]


def test_fixing_the_ca_file_by_hand_flips_the_link_to_connected(remote: kit.Side, cleanup: list[Any]) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], ca=b"not a pem")
    register(local, rcs(remote))
    wait_for_log(local, "failed to establish trust with server")
    local.restart(local.pod(), files={kit.CA_MOUNT: pki.cert_pem(remote.transport_ca.cert)})
    eventually(lambda: info(local)["connected"])


def test_stale_ca_with_the_same_subject_is_named(remote: kit.Side, cleanup: list[Any]) -> None:
    stale = pki.transport_ca("search", key=pki.pooled_key(61))
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], ca=pki.cert_pem(stale.cert))
    register(local, rcs(remote))
    logs = wait_for_log(local, "failed to establish trust")
    assert (
        "this ssl context does trust a certificate with subject [CN=search-transport,OU=search] but the "
        f"trusted certificate has fingerprint [{pki.fingerprint_sha1(stale.cert)}]"
    ) in logs


def test_ip_proxy_address_without_server_name_fails_hostname_verification(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    target = remote.cluster.rcs_address(remote.pod())
    lb = ALLOC.start(lambda h: TcpForwarder(h, 9443, lambda: [target] if target else []))
    cleanup.append(lb)
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, f"{lb.host}:9443", server_name=None)
    logs = wait_for_log(local, "No subject alternative names matching IP address")
    assert (
        "java.security.cert.CertificateException: No subject alternative names matching IP address "
        f"{lb.host} found" in logs
    )
    assert "the [CN=search-transport,OU=search] certificate is trusted in this ssl context" in logs
    assert resolve(local)["error"] == f"No subject alternative names matching IP address {lb.host} found"
    register(local, f"{lb.host}:9443")
    eventually(lambda: info(local)["connected"])


def test_rest_key_in_the_keystore_is_rejected_by_type(remote: kit.Side, cleanup: list[Any]) -> None:
    principal = remote.cluster.security.authenticate(
        "Basic " + base64.b64encode(f"elastic:{kit.PASSWORD}".encode()).decode(), "/"
    )
    rest = remote.cluster.security.create_api_key(principal, {"name": "rest"}, cross_cluster=False)
    local = make_local(cleanup, remote, rest["encoded"])
    register(local, rcs(remote))
    reason = (
        f"authentication expected API key type of [cross_cluster], but API key [{rest['id']}] has type [rest]"
    )
    logs = wait_for_log(local, reason)
    assert (
        "org.elasticsearch.transport.RemoteTransportException: [search-es-default-0][10.40.0.10:9443]"
        f"[{HANDSHAKE}]" in logs
    )
    assert f"Caused by: org.elasticsearch.ElasticsearchSecurityException: {reason}" in logs
    assert resolve(local)["error"] == reason


@pytest.mark.parametrize(
    ("damage", "remote_log"),
    [
        ("invalidate", "Authentication using apikey failed - api key has been invalidated"),
        ("expire", "Authentication using apikey failed - api key is expired"),
        ("secret", "Authentication using apikey failed - invalid credentials for API key [{id}]"),
        ("unknown", "Authentication using apikey failed - unable to find apikey with id {id}"),
    ],
)
def test_unusable_keys_fail_the_handshake(
    remote: kit.Side, cleanup: list[Any], damage: str, remote_log: str
) -> None:
    key = cross_cluster_key(remote)
    encoded = key["encoded"]
    if damage == "invalidate":
        remote.cluster.security.invalidate([key["id"]])
    elif damage == "expire":
        remote.cluster.security.set_expiration(key["id"], now_ms() - 1000)
    elif damage == "secret":
        encoded = base64.b64encode(f"{key['id']}:{'x' * 22}".encode()).decode()
    else:
        encoded = base64.b64encode(f"{'u' * 20}:{key['api_key']}".encode()).decode()
    key_id = base64.b64decode(encoded).decode().split(":")[0]
    local = make_local(cleanup, remote, encoded)
    register(local, rcs(remote))
    reason = f"unable to authenticate user [{key_id}] for action [{HANDSHAKE}]"
    wait_for_log(local, reason)
    assert remote_log.format(id=key_id) in wait_for_log(remote, "ApiKeyAuthenticator")
    assert resolve(local)["error"] == reason


def test_raw_api_key_instead_of_encoded_is_a_malformed_value(remote: kit.Side, cleanup: list[Any]) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["api_key"])
    register(local, rcs(remote))
    wait_for_log(local, "invalid cross-cluster API key value")


def test_invalidating_a_key_breaks_resolve_and_the_next_connection(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    key = cross_cluster_key(remote)
    local = make_local(cleanup, remote, key["encoded"])
    register(local, rcs(remote))
    eventually(lambda: info(local)["connected"])
    remote.cluster.security.invalidate([key["id"]])
    assert "unable to authenticate user" in resolve(local)["error"]


def test_basic_license_on_the_remote_is_non_compliant(remote: kit.Side, cleanup: list[Any]) -> None:
    remote.cluster.set_license("basic")
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, rcs(remote))
    wait_for_log(local, "current license is non-compliant for [advanced-remote-cluster-security]")


def test_no_credential_uses_the_certificate_model_and_the_rcs_demands_a_key(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(cleanup, remote, None)
    pod = local.pod()
    both = local.views[pod].transport_trusted_ca_pems + pki.cert_pem(remote.transport_ca.cert)
    local.restart(pod, transport_trusted_ca_pems=both)
    register(local, rcs(remote))
    logs = wait_for_log(local, "require transport header [_cross_cluster_access_credentials] but none found")
    assert (
        "Caused by: java.lang.IllegalArgumentException: Cross cluster requests through the dedicated remote "
        "cluster server port require transport header" in logs
    )
    assert "cluster_credentials" not in info(local)


def test_no_credential_without_mutual_trust_fails_in_the_transport_context(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(cleanup, remote, None)
    register(local, rcs(remote))
    logs = wait_for_log(local, "failed to establish trust")
    assert "xpack.security.transport.ssl (with trust configuration: PEM-trust{" in logs


def test_certificate_model_on_the_transport_port_connects_without_credentials(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(cleanup, remote, None)
    pod = local.pod()
    local.restart(
        pod,
        transport_trusted_ca_pems=local.views[pod].transport_trusted_ca_pems
        + pki.cert_pem(remote.transport_ca.cert),
    )
    remote.restart(
        remote.pod(),
        transport_trusted_ca_pems=remote.views[remote.pod()].transport_trusted_ca_pems
        + pki.cert_pem(local.transport_ca.cert),
    )
    address = remote.cluster.transport_address(remote.pod())
    assert address is not None
    register(local, f"{address[0]}:{address[1]}", server_name=None)
    eventually(lambda: info(local)["connected"])
    assert "cluster_credentials" not in info(local)


def test_api_key_client_at_the_transport_port_gets_bad_certificate(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    address = remote.cluster.transport_address(remote.pod())
    assert address is not None
    register(local, f"{address[0]}:{address[1]}")
    logs = wait_for_log(local, "Received fatal alert: bad_certificate")
    assert (
        "io.netty.handler.codec.DecoderException: javax.net.ssl.SSLHandshakeException: Received fatal alert: "
        "bad_certificate" in logs
    )
    assert "profile=_remote_cluster" in logs
    assert "Empty client certificate chain" in wait_for_log(remote, "Empty client certificate chain")


def test_plaintext_forwarding_proxy_makes_the_remote_log_plaintext_traffic(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    proxy_ca = pki.make_ca("Example Corp Ingress CA", key=pki.pooled_key(62))
    cert = pki.make_leaf(
        proxy_ca.cert, proxy_ca.key, "rcs.example.com", dns=["rcs.example.com"], key=pki.pooled_key(63)
    )
    target = remote.cluster.rcs_address(remote.pod())
    proxy = ALLOC.start(
        lambda h: TlsTerminatingProxy(
            h, 9443, cert.chain_pem, cert.key_pem, lambda: [target] if target else [], forward_plaintext=True
        )
    )
    cleanup.append(proxy)
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], ca=pki.cert_pem(proxy_ca.cert))
    register(local, f"{proxy.host}:9443", server_name="rcs.example.com")
    logs = wait_for_log(remote, "received plaintext traffic on an encrypted channel, closing connection")
    assert "profile=_remote_cluster}" in logs
    wait_for_log(local, "failed to open any proxy connections to cluster [my]")
    assert info(local)["connected"] is False


def test_tls_terminating_ingress_presents_its_fake_certificate(remote: kit.Side, cleanup: list[Any]) -> None:
    fake = pki.ingress_fake_cert(key=pki.pooled_key(64))
    target = remote.cluster.rcs_address(remote.pod())
    proxy = ALLOC.start(
        lambda h: TlsTerminatingProxy(
            h, 9443, fake.cert_pem, fake.key_pem, lambda: [target] if target else [], forward_plaintext=False
        )
    )
    cleanup.append(proxy)
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, f"{proxy.host}:9443")
    logs = wait_for_log(local, "failed to establish trust")
    assert "subject name [CN=Kubernetes Ingress Controller Fake Certificate,O=Acme Co]" in logs
    assert "the certificate is self-issued" in logs


def test_black_hole_does_not_make_remote_info_wait(remote: kit.Side, cleanup: list[Any]) -> None:
    hole = ALLOC.start(lambda h: BlackHole(h, 9443))
    cleanup.append(hole)
    slow = LinkTimeouts(connect=1.0, tls=30.0, handshake=30.0, retry=30.0)
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], timeouts=slow)
    register(local, f"{hole.host}:9443")
    ctx = ssl.create_default_context(cadata=pki.cert_pem(local.http_ca.cert).decode())
    ctx.check_hostname = False
    request = urllib.request.Request(
        local.url() + "/_remote/info",
        headers={"Authorization": "Basic " + base64.b64encode(f"elastic:{kit.PASSWORD}".encode()).decode()},
    )
    with urllib.request.urlopen(request, context=ctx, timeout=5) as response:
        body = json.loads(response.read())
    assert body["my"]["connected"] is False and body["my"]["num_proxy_sockets_connected"] == 0
    timed_out = local.cluster.links(local.pod()).resolve("my", "*", 0.2)
    assert timed_out["error"] == "Request timed out before receiving a response from the remote cluster"


def test_refused_connection_is_a_connect_exception(remote: kit.Side, cleanup: list[Any]) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    nobody = f"{ALLOC.next_host()}:9443"
    register(local, nobody)
    logs = wait_for_log(local, "connect_exception")
    assert f"org.elasticsearch.transport.ConnectTransportException: [][{nobody}] connect_exception" in logs
    assert (
        resolve(local)["error"]
        == f"Unable to open any proxy connections to cluster [my] at address [{nobody}]"
    )


def test_cluster_internal_names_do_not_resolve_from_the_other_cluster(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, f"{SERVER_NAME}:9443")
    wait_for_log(local, f"java.lang.IllegalArgumentException: unknown host [{SERVER_NAME}]")


def test_sniff_mode_across_clusters_never_connects(remote: kit.Side, cleanup: list[Any]) -> None:
    # Seeds have no server_name: without relaxing hostname checks the seed TLS would fail first.
    relaxed = {"xpack.security.remote_cluster_client.ssl.verification_mode": "certificate"}
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], config=relaxed)
    register(local, rcs(remote), mode="sniff")
    logs = wait_for_log(local, "Unable to open any connections to remote cluster [my]")
    assert "fetching nodes from external cluster [my] failed" in logs
    assert info(local) == {
        "connected": False,
        "mode": "sniff",
        "seeds": [rcs(remote)],
        "num_nodes_connected": 0,
        "max_connections_per_cluster": 3,
        "initial_connect_timeout": "30s",
        "skip_unavailable": True,
        "cluster_credentials": "::es_redacted::",
    }


def test_expired_remote_certificate_fails_validity(remote: kit.Side, cleanup: list[Any]) -> None:
    pod = remote.pod()
    begin, end = pki.expired_validity()
    leaf = pki.transport_cert(
        remote.transport_ca,
        "search",
        "search",
        pod,
        "default",
        "10.40.0.10",
        rcs=True,
        not_before=begin,
        not_after=end,
        key=pki.pooled_key(43),
    )
    remote.restart(pod, transport_cert_pem=leaf.chain_pem)
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, rcs(remote))
    logs = wait_for_log(local, "validity check failed")
    assert "certificate dates are not valid" in logs


def test_incompatible_versions_fail_the_handshake(remote: kit.Side, cleanup: list[Any]) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], version="9.1.0")
    register(local, rcs(remote))
    wait_for_log(
        local, "Received message from unsupported version: [9.1.0] minimal compatible version is: [8.19.0]"
    )


def test_pod_logs_are_ecs_json_lines(remote: kit.Side, cleanup: list[Any]) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, f"{ALLOC.next_host()}:9443")
    wait_for_log(local, "connect_exception")
    records = [json.loads(line) for line in local.cluster.logs(local.pod()).splitlines()]
    warn = [r for r in records if r["log.level"] == "WARN"][0]
    assert warn["log.logger"] == "org.elasticsearch.transport.ProxyConnectionStrategy"
    assert warn["message"] == "failed to open any proxy connections to cluster [my]"
    assert warn["error.type"] == "org.elasticsearch.transport.ConnectTransportException"
    assert dataclasses.is_dataclass(local.views[local.pod()])
