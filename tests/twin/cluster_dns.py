"""Cluster DNS as the pods of one Kubernetes cluster see it (kube-dns / CoreDNS).

`<service>.<namespace>.svc[.cluster.local]` resolves to a ready endpoint of the Service (the
twin has no cluster IPs to proxy: a pod address on the same port stands for kube-proxy's
forwarding, as every ECK Service maps a port to the same target port), and
`<pod>.<headless service>.<namespace>.svc` to the pod's IP. Nothing else inside the cluster has a
name; IP literals and `localhost` resolve as everywhere. Pods of another environment never
resolve these names (their own DNS does not know them).

Source: Kubernetes docs, [DNS for Services and Pods](https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/)
(A records of Services and of headless Services' pods `<hostname>.<subdomain>.<ns>.svc`).
"""

from __future__ import annotations

from typing import Any

from tests.twin.es_server import default_resolver
from tests.twin.kube_errors import NotFound

CLUSTER_DOMAIN = "cluster.local"


class ClusterDns:
    def __init__(self, store: Any) -> None:
        self.store = store

    def resolve(self, host: str) -> str | None:
        literal = default_resolver(host)
        if literal is not None:
            return literal
        labels = host.rstrip(".").removesuffix(f".{CLUSTER_DOMAIN}").split(".")
        if len(labels) == 3 and labels[2] == "svc":
            return self._service_address(labels[1], labels[0])
        if len(labels) == 4 and labels[3] == "svc":
            return self._pod_address(labels[2], labels[0], labels[1])
        return None

    def in_cluster(self, ip: str) -> bool:
        """True when `ip` is the address of a pod of this cluster (reachable from its pods)."""
        return any((pod.get("status") or {}).get("podIP") == ip for pod in self.store.list("pods"))

    def _service_address(self, namespace: str, service: str) -> str | None:
        try:
            endpoints = self.store.get("endpoints", namespace, service)
        except NotFound:
            return None
        for subset in endpoints.get("subsets") or []:
            for address in subset.get("addresses") or []:
                if address.get("ip"):
                    return str(address["ip"])
        return None

    def _pod_address(self, namespace: str, pod: str, subdomain: str) -> str | None:
        try:
            obj = self.store.get("pods", namespace, pod)
        except NotFound:
            return None
        hostname = (obj.get("spec") or {}).get("hostname") or pod
        if (obj.get("spec") or {}).get("subdomain", subdomain) != subdomain or hostname != pod:
            return None
        ip = (obj.get("status") or {}).get("podIP")
        return str(ip) if ip else None
