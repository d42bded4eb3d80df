"""The TLS probe tells a certificate from a plaintext peer, a black hole and a refusal."""

from __future__ import annotations

from kubectl_eckrc.collect.tls_probe import probe, sni_for, split_address
from tests.collect import servers


def test_tls_endpoint_presents_its_leaf_certificate() -> None:
    cert, key = servers.make_cert("remote-es-es-remote-cluster", ["remote-es-es-remote-cluster.search.svc"])
    with servers.tcp_server(servers.tls_handler(servers.server_context(cert, key))) as port:
        result = probe("remote-es", f"127.0.0.1:{port}", "remote-es-es-remote-cluster.search.svc", 3)
    assert (result.tcp, result.tls) == ("ok", "ok")
    assert result.chain[0].dns_names == ["remote-es-es-remote-cluster.search.svc"]
    assert result.protocol.startswith("TLS")


def test_plaintext_peer_is_not_tls() -> None:
    def http_answer(conn: object) -> None:
        conn.recv(4096)  # type: ignore[attr-defined]
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]

    with servers.tcp_server(http_answer) as port:
        result = probe("a", f"127.0.0.1:{port}", "", 3)
    assert result.tcp == "ok" and result.tls == "not-tls"


def test_black_hole_times_out_in_the_handshake() -> None:
    with servers.black_hole() as port:
        result = probe("a", f"127.0.0.1:{port}", "", 0.5)
    assert result.tcp == "ok" and result.tls == "timeout"


def test_refused_port_is_refused() -> None:
    result = probe("a", f"127.0.0.1:{servers.free_port()}", "", 1)
    assert result.tcp == "refused" and result.tls == "skipped"


def test_address_without_port_is_an_error_not_a_crash() -> None:
    assert probe("a", "remote.example", "", 1).tcp == "error"


def test_sni_is_server_name_else_a_dns_host_never_an_ip() -> None:
    assert sni_for("127.0.0.7", "") == ""
    assert sni_for("lb.example", "") == "lb.example"
    assert sni_for("127.0.0.7", "remote-es-es-remote-cluster.search.svc").startswith("remote-es")
    assert split_address("[::1]:9443") == ("::1", 9443)
