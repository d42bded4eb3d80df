"""The port-forward listener opens one stream per accepted connection and pumps both ways."""

from __future__ import annotations

import socket

from kubectl_eckrc.collect.portforward import PortForwardListener
from tests.collect import servers


def test_each_connection_gets_its_own_stream_and_bytes_flow_both_ways() -> None:
    opened: list[int] = []
    with servers.tcp_server(servers.echo) as port:
        def opener() -> socket.socket:
            opened.append(port)
            return socket.create_connection(("127.0.0.1", port), timeout=2)

        with PortForwardListener(opener, idle_timeout=5) as listener:
            for message in (b"first", b"second"):
                with socket.create_connection(("127.0.0.1", listener.port), timeout=2) as client:
                    client.sendall(message)
                    assert client.recv(100) == message
    assert len(opened) == 2


def test_a_failing_port_forward_closes_the_client_connection_after_a_second_try() -> None:
    tries: list[int] = []

    def opener() -> socket.socket:
        tries.append(1)
        raise OSError("pod gone")

    with PortForwardListener(opener, idle_timeout=5) as listener:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=2) as client:
            assert client.recv(10) == b""
        assert isinstance(listener.last_failure, OSError)
    assert len(tries) == 2


def test_a_stream_that_fails_to_open_once_is_opened_again_and_the_request_goes_through() -> None:
    failures = [OSError("API server busy")]
    with servers.tcp_server(servers.echo) as port:
        def opener() -> socket.socket:
            if failures:
                raise failures.pop()
            return socket.create_connection(("127.0.0.1", port), timeout=2)

        with PortForwardListener(opener, idle_timeout=5) as listener, \
                socket.create_connection(("127.0.0.1", listener.port), timeout=2) as client:
            client.sendall(b"hello")
            assert client.recv(100) == b"hello"


def test_a_refused_port_forward_handshake_is_one_short_line() -> None:
    from kubectl_eckrc.collect.kube import _handshake_reason

    raw = ('Handshake status 404 Not Found -+-+- {\'date\': \'x\', \'audit-id\': \'y\'} -+-+- '
           '{"kind": "Status", "message": "pods \\"es-0\\" not found", "code": 404}')
    assert _handshake_reason(raw) == '404 Not Found: pods "es-0" not found'
