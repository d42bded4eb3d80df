"""The local pods' network apart from this machine's: peered private addresses and egress rules."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.twin.network import LoopbackAllocator, listen
from tests.twin.pod_network import PodNetwork


@pytest.fixture
def network() -> Iterator[tuple[PodNetwork, LoopbackAllocator]]:
    allocator = LoopbackAllocator()
    pods = PodNetwork(allocator)
    yield pods, allocator
    pods.stop()


def test_a_private_address_leads_to_its_listener_only_from_the_pods(
        network: tuple[PodNetwork, LoopbackAllocator]) -> None:
    pods, allocator = network
    private, behind = allocator.next_host(), allocator.next_host()
    server = listen(behind, 0)
    port = server.getsockname()[1]
    try:
        pods.peer(lambda address: (behind, address[1]) if address[0] == private else None)
        assert pods.route(private, port) == (behind, port)
        with socket.create_connection(pods.route(private, port), timeout=2):
            pass
        with pytest.raises(ConnectionRefusedError):  # this machine: nothing listens there
            socket.create_connection((private, port), timeout=2).close()
        other = allocator.next_host()
        assert pods.route(other, port) == (other, port)
    finally:
        server.close()


def test_an_egress_rule_refuses_or_drops_the_pods_connections(
        network: tuple[PodNetwork, LoopbackAllocator]) -> None:
    pods, allocator = network
    target = (allocator.next_host(), 9443)
    pods.deny(target, "reject")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(pods.route(*target), timeout=2).close()
    pods.deny(target, "drop")
    dropped = pods.route(*target)
    assert dropped != target
    with pytest.raises(TimeoutError):
        socket.create_connection(dropped, timeout=0.3).close()
