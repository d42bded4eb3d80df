"""What kube-controller-manager and a cloud load-balancer provider do for Services in the twin.

- Endpoints and EndpointSlices for every Service with a selector: the pods it selects that
  have an IP and are not terminal, ready ones as `addresses` (slice condition `ready`), the
  others as `notReadyAddresses`, except that `publishNotReadyAddresses: true` publishes every
  such pod as ready (ECK's transport, remote cluster and per-nodeSet Services); the
  `targetPort` resolved by number or by container port name.
- `type: LoadBalancer`: a loopback address of its own with one L4 forwarder per service port
  (to the resolved targetPort of the published ready addresses; a port without `targetPort` targets the same
  number, so a remapped port reaches a pod port where nothing listens), and
  `status.loadBalancer.ingress[0].ip`. A Service asking for a `loadBalancerClass` no provider
  implements stays pending (no address), as on a real cluster.
- `type: NodePort`: a forwarder on the environment's node address at each `nodePort`.
- A load balancer that a cloud publishes by DNS name (AWS ELB/NLB:
  `service.beta.kubernetes.io/aws-load-balancer-type`) gets `ingress[0].hostname`; the twin's
  name is `localhost`, the one name this machine resolves without edited system files, so such
  an LB listens on 127.0.0.1 and its Service port must be one no other test uses.
- A load balancer that passes refusals through (MetalLB, `metallb.io/address-pool`; kube-proxy
  DNAT, as for NodePorts): packets go to the pod, so a port nothing listens on is refused, where
  a proxying cloud LB accepts and closes. The twin gives it its (first) backend pod's own
  address (port and targetPort must match): the same answers as DNAT to one backend.
- An internal load balancer (`service.beta.kubernetes.io/aws-load-balancer-internal: "true"`
  and the other clouds' equivalents) gets a private address: its `status` shows an address
  where nothing answers from this machine, and `vpc_route` tells where a connection to it goes
  from inside the network (the pods of a peered cluster, `pod_network.py`).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.twin import kube_selectors
from tests.twin.kube_errors import AlreadyExists, Conflict, NotFound
from tests.twin.network import Acceptor, Address, BlackHole, LoopbackAllocator, TcpForwarder

log = logging.getLogger(__name__)

# Annotations that ask a cloud provider for a load balancer on the private network only.
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "networking.gke.io/load-balancer-type": "Internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
}


HOSTNAME_LB_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type"
LB_HOSTNAME, LB_HOSTNAME_ADDRESS = "localhost", "127.0.0.1"


PASS_THROUGH_ANNOTATIONS = ("metallb.io/address-pool", "metallb.universe.tf/address-pool")


def passes_refusals(svc: dict[str, Any]) -> bool:
    annotations = svc["metadata"].get("annotations") or {}
    return any(key in annotations for key in PASS_THROUGH_ANNOTATIONS)


def publishes_hostname(svc: dict[str, Any]) -> bool:
    return bool((svc["metadata"].get("annotations") or {}).get(HOSTNAME_LB_ANNOTATION))


def is_internal_lb(svc: dict[str, Any]) -> bool:
    annotations = svc["metadata"].get("annotations") or {}
    return any(annotations.get(key) == value for key, value in INTERNAL_LB_ANNOTATIONS.items())

# (namespace, pod name, container port) -> where the process listening there really is
PodPort = Callable[[str, str, int], "Address | None"]


@dataclass(frozen=True)
class Backend:
    pod: str
    ip: str
    port: int


class SynDrop:
    """A firewall that drops SYNs: the address:port exists but TCP connects time out.

    A listening socket with a zero backlog whose accept queue is filled and never drained:
    the kernel then drops further SYNs, so a client's connect() waits until its timeout.
    """

    def __init__(self, host: str, port: int) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((host, port))
        self._listener.listen(0)
        self._fillers = []
        for _ in range(3):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((host, port))
            self._fillers.append(filler)

    def stop(self) -> None:
        for sock in (*self._fillers, self._listener):
            sock.close()


def _ready(pod: dict[str, Any]) -> bool:
    """The pod's Ready condition (what kube-controller-manager reads, not the phase)."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _terminating(pod: dict[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _publishable(pod: dict[str, Any], include_terminating: bool) -> bool:
    """A pod that may appear in Endpoints at all: an IP, not terminal."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed") or not (status.get("podIP") or status.get("podIPs")):
        return False
    return include_terminating or not _terminating(pod)


def _published_ready(pod: dict[str, Any], publish_not_ready: bool) -> bool:
    return publish_not_ready or (_ready(pod) and not _terminating(pod))


def _selector(svc: dict[str, Any]) -> str | None:
    selector = (svc.get("spec") or {}).get("selector")
    if not selector:
        return None
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def resolve_target_port(port: dict[str, Any], pod: dict[str, Any]) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if cport.get("name") == target:
                return int(cport["containerPort"])
    return None


class ServiceNetwork:
    def __init__(self, store: Any, allocator: LoopbackAllocator, pod_port: PodPort,
                 node_address: str) -> None:
        self.store = store
        self.allocator = allocator
        self.pod_port = pod_port
        self.node_address = node_address
        self._lb_hosts: dict[tuple[str, str], str] = {}
        self._private: dict[tuple[str, str], str] = {}  # internal LBs: (ns, name) -> advertised address
        self._forwarders: dict[tuple[str, str, int], tuple[Address, Acceptor | SynDrop]] = {}
        self._firewall: dict[tuple[str, str], str] = {}
        self._backends: dict[tuple[str, str, int], list[Backend]] = {}
        self._pending: set[str] = set()
        self._busy = False
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="twin-service-network", daemon=True)
        self._cancel: Callable[[], None] | None = None

    def start(self) -> None:
        self._cancel = self.store.watch(self._on_change)
        self._thread.start()

    def stop(self) -> None:
        if self._cancel:
            self._cancel()
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        for _, forwarder in list(self._forwarders.values()):
            forwarder.stop()
        self._forwarders.clear()

    def settle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def firewall(self, namespace: str, service: str, action: str) -> None:
        """Filter traffic to a Service's external addresses: "drop" (accept, never answer),
        "drop-syn" (TCP connects time out), "reject" (connection refused) or "" (let it
        through), like a cloud firewall rule."""
        with self._cond:
            self._firewall[(namespace, service)] = action
        for key in [k for k in self._forwarders if k[:2] == (namespace, service)]:
            self._forwarders.pop(key)[1].stop()
        self.sync_namespace(namespace)

    def lb_host(self, namespace: str, service: str) -> str | None:
        """The address a Service's status advertises (an internal LB's private address)."""
        key = (namespace, service)
        return self._private.get(key) or self._lb_hosts.get(key)

    def vpc_route(self, address: Address) -> Address | None:
        """Where a connection to an internal LB's private address goes from inside the network
        (None: not such an address)."""
        for key, private in list(self._private.items()):
            host = self._lb_hosts.get(key)
            if private == address[0] and host is not None:
                return host, address[1]
        return None

    def _on_change(self, event: str, plural: str, obj: dict[str, Any]) -> None:
        if plural in ("services", "pods"):
            with self._cond:
                self._pending.add(obj["metadata"].get("namespace", ""))
                self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopped:
                    self._cond.wait(0.5)
                if self._stopped:
                    return
                namespace = self._pending.pop()
                self._busy = True
            try:
                self.sync_namespace(namespace)
            except Exception:
                log.exception("service network sync of %s failed", namespace)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    # ---- one pass ------------------------------------------------------------------------------

    def sync_namespace(self, namespace: str) -> None:
        services = self.store.list("services", namespace)
        pods = self.store.list("pods", namespace)
        seen: set[tuple[str, str, int]] = set()
        for svc in services:
            selector = _selector(svc)
            if selector is None:
                continue
            match = kube_selectors.label_selector(selector)
            publish = bool(svc["spec"].get("publishNotReadyAddresses"))
            selected = [p for p in pods if match(p) and _publishable(p, publish)]
            ready = [p for p in selected if _published_ready(p, publish)]
            self._endpoints(svc, selected, publish)
            seen |= self._expose(svc, ready)
        for key in [k for k in self._forwarders if k[0] == namespace and k not in seen]:
            self._forwarders.pop(key)[1].stop()
        names = {s["metadata"]["name"] for s in services}
        for gone in [k for k in self._lb_hosts if k[0] == namespace and k[1] not in names]:
            del self._lb_hosts[gone]
            self._private.pop(gone, None)

    def _endpoints(self, svc: dict[str, Any], pods: list[dict[str, Any]], publish: bool) -> None:
        meta = svc["metadata"]
        ports = []
        for port in svc["spec"].get("ports") or []:
            resolved = resolve_target_port(port, pods[0]) if pods else None
            if resolved is not None or not pods:
                entry = {"port": resolved or port.get("port"), "protocol": port.get("protocol", "TCP")}
                if port.get("name"):
                    entry["name"] = port["name"]
                ports.append(entry)
        def address(p: dict[str, Any]) -> dict[str, Any]:
            return {"ip": p["status"]["podIP"], "nodeName": "twin-node",
                    "targetRef": {"kind": "Pod", "name": p["metadata"]["name"],
                                  "namespace": meta["namespace"], "uid": p["metadata"].get("uid", "")}}

        ready = [address(p) for p in pods if _published_ready(p, publish)]
        not_ready = [address(p) for p in pods if not _published_ready(p, publish)]
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        subsets = [{**subset, "ports": ports}] if subset else []
        labels = dict(meta.get("labels") or {})
        self._put("endpoints", {"apiVersion": "v1", "kind": "Endpoints",
                                "metadata": {"name": meta["name"], "namespace": meta["namespace"],
                                             "labels": labels},
                                "subsets": subsets}, "subsets")
        slice_ports = [dict(p) for p in ports]
        endpoints = [{"addresses": [p["status"]["podIP"]],
                      "conditions": {"ready": _published_ready(p, publish), "serving": _ready(p),
                                     "terminating": _terminating(p)},
                      "targetRef": address(p)["targetRef"], "nodeName": "twin-node"} for p in pods]
        self._put("endpointslices", {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{meta['name']}-twin", "namespace": meta["namespace"],
                         "labels": {**labels, "kubernetes.io/service-name": meta["name"],
                                    "endpointslice.kubernetes.io/managed-by":
                                        "endpointslice-controller.k8s.io"}},
            "endpoints": endpoints, "ports": slice_ports}, "endpoints", "ports")

    def _put(self, plural: str, desired: dict[str, Any], *fields: str) -> None:
        meta = desired["metadata"]
        for _ in range(5):
            try:
                current = self.store.get(plural, meta["namespace"], meta["name"])
            except NotFound:
                try:
                    self.store.create(plural, desired)
                    return
                except (AlreadyExists, NotFound):
                    return
            updated = copy.deepcopy(current)
            for name in fields:
                updated[name] = desired.get(name)
            updated["metadata"]["labels"] = meta.get("labels") or {}
            if updated == current:
                return
            try:
                self.store.update(plural, updated)
                return
            except Conflict:
                continue
            except NotFound:
                return

    # ---- load balancers and node ports -------------------------------------------------------

    def _expose(self, svc: dict[str, Any], pods: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
        spec = svc["spec"]
        meta = svc["metadata"]
        kind = spec.get("type", "ClusterIP")
        keys: set[tuple[str, str, int]] = set()
        if kind == "LoadBalancer" and not spec.get("loadBalancerClass") and passes_refusals(svc):
            key = (meta["namespace"], meta["name"])
            backend = str(pods[0]["status"]["podIP"]) if pods else None
            self._lb_hosts[key] = backend or self._lb_hosts.get(key) or self.allocator.next_host()
            self._set_ingress(svc, self._lb_hosts[key])  # no forwarder: the backend answers itself
        elif kind == "LoadBalancer" and not spec.get("loadBalancerClass"):
            host = self._lb_hosts.get((meta["namespace"], meta["name"]))
            if host is None:
                host = LB_HOSTNAME_ADDRESS if publishes_hostname(svc) else self.allocator.next_host()
                self._lb_hosts[(meta["namespace"], meta["name"])] = host
            for port in spec.get("ports") or []:
                keys.add(self._forward(svc, (host, int(port["port"])), port, pods))
            self._set_ingress(svc, self._advertised(svc, host))
        elif kind == "NodePort":
            for port in spec.get("ports") or []:
                if port.get("nodePort"):
                    keys.add(self._forward(svc, (self.node_address, int(port["nodePort"])), port, pods))
        return keys

    def _advertised(self, svc: dict[str, Any], host: str) -> str:
        """The LB's address in its status: its own, or for an internal LB a private address that
        does not answer from this machine (nothing listens there)."""
        key = (svc["metadata"]["namespace"], svc["metadata"]["name"])
        if not is_internal_lb(svc):
            self._private.pop(key, None)
            return host
        if key not in self._private:
            self._private[key] = self.allocator.next_host()
        return self._private[key]

    def _forward(self, svc: dict[str, Any], listen: Address, port: dict[str, Any], pods: list[dict[str, Any]]
                 ) -> tuple[str, str, int]:
        namespace = svc["metadata"]["namespace"]
        key = (namespace, svc["metadata"]["name"], listen[1])
        self._backends[key] = [Backend(p["metadata"]["name"], p["status"]["podIP"], target)
                               for p in pods if (target := resolve_target_port(port, p)) is not None]
        existing = self._forwarders.get(key)
        if existing and existing[0] == listen:
            return key
        if existing:
            existing[1].stop()

        def targets() -> list[Address]:
            found = []
            for backend in self._backends.get(key, []):
                address = self.pod_port(namespace, backend.pod, backend.port)
                found.append(address or (backend.ip, backend.port))
            return found

        action = self._firewall.get(key[:2], "")
        try:
            if action == "drop":
                self._forwarders[key] = (listen, BlackHole(listen[0], listen[1]))
            elif action == "drop-syn":
                self._forwarders[key] = (listen, SynDrop(listen[0], listen[1]))
            elif action != "reject":
                self._forwarders[key] = (listen, TcpForwarder(listen[0], listen[1], targets))
        except OSError:
            log.exception("cannot listen on %s:%s for service %s", listen[0], listen[1], key)
        return key

    def _set_ingress(self, svc: dict[str, Any], host: str) -> None:
        ingress = {"hostname": LB_HOSTNAME} if publishes_hostname(svc) else {"ip": host, "ipMode": "VIP"}
        wanted = {"loadBalancer": {"ingress": [ingress]}}
        for _ in range(5):
            try:
                current = self.store.get("services", svc["metadata"]["namespace"], svc["metadata"]["name"])
            except NotFound:
                return
            if current.get("status") == wanted:
                return
            current["status"] = wanted
            try:
                self.store.update("services", current)
                return
            except Conflict:
                continue
