"""Remote-cluster links are computed by really connecting: every failure gives Elasticsearch's text."""

from __future__ import annotations

import base64
import dataclasses
import json
import ssl
import urllib.request
from typing import Any

from tests.twin import es_testkit as kit
from tests.twin import pki
from tests.twin.es_testkit import (
    ALLOC,
    SERVER_NAME,
    assert_unavailable,
    cross_cluster_key,
    eventually,
    info,
    logs_of,
    make_local,
    rcs,
    register,
    resolve,
    wait_for_log,
)
from tests.twin.network import BlackHole, TcpForwarder, TlsTerminatingProxy
from tests.twin.remote_client import LinkTimeouts
from tests.twin.test_es_server import call


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


def test_resolve_cluster_for_a_caller_without_remote_indices_is_the_local_denial(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    """With an API-key link up, a caller whose roles grant the index action locally but have no
    remote_indices for the alias gets `connected: false` and the interceptor's security message."""
    from tests.twin.es_routes import Request, dispatch

    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, rcs(remote))
    eventually(lambda: info(local)["connected"])
    role = {"indices": [{"names": ["logs-*"], "privileges": ["read"]}]}
    local.cluster.security.put_role("local-only", role)
    local.cluster.security.add_user("searcher", "pw-of-a-user", ["local-only"])
    auth = "Basic " + base64.b64encode(b"searcher:pw-of-a-user").decode()
    request = Request("GET", "/_resolve/cluster/my:*", {"Authorization": auth})
    answer = dispatch(local.cluster, local.pod(), request)
    assert answer.status == 200 and answer.body == {"my": {
        "connected": False,
        "skip_unavailable": True,
        "error": "action [indices:admin/resolve/cluster] towards remote cluster [my] is unauthorized for "
        "user [searcher] with effective roles [local-only] because no remote indices privileges apply for "
        "the target cluster",
    }}
    assert info(local)["connected"] is True  # the link itself is fine


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
    other = pki.make_ca("other-ca", key=pki.pooled_key(11))
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], ca=pki.cert_pem(other.cert))
    register(local, rcs(remote))
    wait_for_log(local, "failed to open any proxy connections to cluster [my]")
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
    assert_unavailable(resolve(local))  # a TLS failure is "remote unavailable": no error text


def test_fixing_the_ca_file_by_hand_flips_the_link_to_connected(remote: kit.Side, cleanup: list[Any]) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], ca=b"not a pem")
    register(local, rcs(remote))
    wait_for_log(local, "failed to establish trust with server")
    local.restart(local.pod(), files={kit.CA_MOUNT: pki.cert_pem(remote.transport_ca.cert)})
    eventually(lambda: info(local)["connected"])


def test_stale_ca_with_the_same_subject_is_named(remote: kit.Side, cleanup: list[Any]) -> None:
    stale = pki.transport_ca("search", key=pki.pooled_key(12))
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
    assert_unavailable(resolve(local))
    register(local, f"{lb.host}:9443")
    eventually(lambda: info(local)["connected"])


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
    proxy_ca = pki.make_ca("Example Corp Ingress CA", key=pki.pooled_key(13))
    cert = pki.make_leaf(
        proxy_ca.cert, proxy_ca.key, "rcs.example.com", dns=["rcs.example.com"], key=pki.pooled_key(14)
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
    fake = pki.ingress_fake_cert(key=pki.pooled_key(15))
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
    # 8.18 waits for the attempt (earlier 8.1x answer a disconnected remote at once)
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"], timeouts=slow, version="8.18.2")
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
    assert_unavailable(resolve(local))


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
        "10.0.0.10",
        rcs=True,
        not_before=begin,
        not_after=end,
        key=pki.pooled_key(3),
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


def test_lb_with_one_broken_backend_connects_below_max_sockets(remote: kit.Side, cleanup: list[Any]) -> None:
    good = remote.cluster.rcs_address(remote.pod())
    broken = (ALLOC.next_host(), 9443)  # a backend pod whose RCS is not listening (yet)
    lb = ALLOC.start(lambda h: TcpForwarder(h, 9443, lambda: [good, broken] if good else []))
    cleanup.append(lb)
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, f"{lb.host}:9443")
    eventually(lambda: info(local)["connected"])
    assert info(local)["num_proxy_sockets_connected"] == 9
    assert info(local)["max_proxy_socket_connections"] == 18


def test_wrong_server_name_reports_the_address_host(remote: kit.Side, cleanup: list[Any]) -> None:
    # The JDK checks the SNI name, then fails over to the peer host: its error names the latter.
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    address = rcs(remote)
    register(local, address, server_name="search.example.com")
    text = f"No subject alternative names matching IP address {address.split(':')[0]} found"
    logs = wait_for_log(local, text)
    assert f"javax.net.ssl.SSLHandshakeException: {text}" in logs


def test_wait_for_links_returns_once_first_attempts_finished(remote: kit.Side, cleanup: list[Any]) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, rcs(remote))
    assert local.cluster.wait_for_links(timeout=15.0)
    assert info(local)["connected"] is True


def test_a_node_without_the_remote_cluster_client_role_has_no_links(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(
        cleanup, remote, cross_cluster_key(remote)["encoded"], config={"node.roles": ["master"]}
    )
    register(local, rcs(remote))
    assert local.cluster.remote_info(local.pod()) == {}
    status, body, _ = call(local, "GET", "/_resolve/cluster/my:*")
    assert status == 400
    assert body["error"]["reason"] == f"node [{local.pod()}] does not have the [remote_cluster_client] role"
