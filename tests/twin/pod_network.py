"""The network as the local pods see it, apart from the machine the tests (and doctor) run on.

Elasticsearch dials `proxy_address` from its pods; doctor probes it from the workstation. On a
real pair of clusters the two paths differ: an internal load balancer or a private DNS zone
answers only inside the peered networks, an egress NetworkPolicy or a firewall stops the pods
but not the workstation. `PodNetwork.route` is where a pod's TCP connection to an address
really goes:

- through a peered network's routes (`peer`): an internal load balancer's private address
  leads to its listener, which the workstation cannot reach;
- through an egress rule (`deny`): "drop" (a NetworkPolicy: connects time out) or "reject"
  (a firewall answering with a refusal);
- otherwise straight to the address, as from the workstation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.twin.network import Address, LoopbackAllocator
from tests.twin.service_network import SynDrop

Routes = Callable[[Address], Address | None]


class PodNetwork:
    def __init__(self, allocator: LoopbackAllocator) -> None:
        self._allocator = allocator
        self._peers: list[Routes] = []
        self._denied: dict[Address, str] = {}
        self._sinks: dict[tuple[str, int], Address] = {}
        self._drops: list[SynDrop] = []
        self._lock = threading.Lock()

    def peer(self, routes: Routes) -> None:
        """Make another network's private addresses reachable from the pods (VPC peering)."""
        with self._lock:
            self._peers.append(routes)

    def deny(self, address: Address, how: str) -> None:
        """An egress rule for the pods' connections to `address`: "drop" or "reject"."""
        with self._lock:
            self._denied[address] = how

    def route(self, host: str, port: int) -> Address:
        """Where a pod's connection to host:port goes."""
        with self._lock:
            how = self._denied.get((host, port))
            peers = list(self._peers)
        if how:
            return self._sink(how, port)
        for routes in peers:
            found = routes((host, port))
            if found is not None:
                return found
        return host, port

    def _sink(self, how: str, port: int) -> Address:
        """A local address that drops SYNs ("drop") or where nothing listens ("reject")."""
        with self._lock:
            if (how, port) not in self._sinks:
                if how == "drop":
                    host, drop = self._allocator.start(lambda h: (h, SynDrop(h, port)))
                    self._drops.append(drop)
                else:
                    host = self._allocator.next_host()
                self._sinks[(how, port)] = (host, port)
            return self._sinks[(how, port)]

    def stop(self) -> None:
        with self._lock:
            drops, self._drops = self._drops, []
            self._sinks.clear()
        for drop in drops:
            drop.stop()
