"""Hand-built Elasticsearch twins for tests: a remote with the RCS on and a local that trusts it.

Builds what the simulated operator would build (ECK certificates, NodeViews), without Kubernetes,
so the Elasticsearch side of the twin can be tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tests.twin import pki
from tests.twin.es_node import NodeView
from tests.twin.es_server import EsCluster
from tests.twin.network import LoopbackAllocator
from tests.twin.remote_client import LinkTimeouts

PASSWORD = "tw1n-elastic-pw"
CA_MOUNT = "remote-certs/ca.crt"
FAST = LinkTimeouts(connect=1.0, tls=1.0, handshake=1.0, retry=0.5)


@dataclass
class Side:
    """One cluster with its PKI, so tests can re-issue views by hand."""

    cluster: EsCluster
    es: str
    namespace: str
    transport_ca: pki.Issued
    http_ca: pki.Issued
    views: dict[str, NodeView] = field(default_factory=dict)

    def pod(self, index: int = 0) -> str:
        return f"{self.es}-es-default-{index}"

    def restart(self, pod: str, **changes: Any) -> NodeView:
        """Restart one pod with changed NodeView fields (files, keystore, config...)."""
        self.views[pod] = replace(self.views[pod], **changes)
        self.cluster.set_nodes(self.views.values())
        return self.views[pod]

    def url(self, pod: str | None = None) -> str:
        address = self.cluster.http_address(pod or self.pod())
        assert address is not None
        return f"https://{address[0]}:{address[1]}"


def make_side(
    es: str,
    namespace: str,
    version: str = "8.15.3",
    pods: int = 1,
    rcs: bool = False,
    license_type: str = "trial",
    config: Mapping[str, Any] | None = None,
    files: Mapping[str, bytes] | None = None,
    keystore: Mapping[str, str] | None = None,
    addresses: LoopbackAllocator | None = None,
    key_base: int = 0,
    timeouts: LinkTimeouts = FAST,
) -> Side:
    transport_ca = pki.transport_ca(es, key=pki.pooled_key(key_base))
    http_ca = pki.http_ca(es, key=pki.pooled_key(key_base + 1))
    http = pki.http_cert(http_ca, es, namespace, key=pki.pooled_key(key_base + 2))
    cluster = EsCluster(
        es,
        namespace,
        version,
        pki.cert_pem(http_ca.cert),
        http.chain_pem,
        http.key_pem,
        PASSWORD,
        license_type,
        addresses=addresses or LoopbackAllocator(),
        timeouts=timeouts,
    )
    side = Side(cluster, es, namespace, transport_ca, http_ca)
    base_config: dict[str, Any] = {"xpack.security.transport.ssl.verification_mode": "certificate"}
    if rcs:
        base_config["remote_cluster_server.enabled"] = True
    base_config.update(config or {})
    for index in range(pods):
        pod = side.pod(index)
        ip = f"10.{key_base % 200}.0.{index + 10}"
        cert = pki.transport_cert(
            transport_ca, es, namespace, pod, "default", ip, rcs=rcs, key=pki.pooled_key(key_base + 3 + index)
        )
        side.views[pod] = NodeView(
            pod,
            "default",
            dict(base_config),
            dict(files or {}),
            dict(keystore or {}),
            cert.chain_pem,
            cert.key_pem,
            pki.cert_pem(transport_ca.cert),
            pod_ip=ip,
        )
    cluster.set_nodes(side.views.values())
    return side


def api_key_local_config(ca_path: str = CA_MOUNT) -> dict[str, Any]:
    return {
        "xpack.security.remote_cluster_client.ssl.enabled": True,
        "xpack.security.remote_cluster_client.ssl.certificate_authorities": [ca_path],
    }
