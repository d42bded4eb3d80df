"""Hand-built Elasticsearch twins for tests: a remote with the RCS on and a local that trusts it.

Builds what the simulated operator would build (ECK certificates, NodeViews), without Kubernetes,
so the Elasticsearch side of the twin can be tested on its own.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tests.twin import pki
from tests.twin.es_node import NodeView
from tests.twin.es_server import EsCluster
from tests.twin.network import LoopbackAllocator
from tests.twin.remote_client import LinkTimeouts

PASSWORD = "tw1n-elastic-pw"
SERVER_NAME = "search-es-remote-cluster.search.svc"
HANDSHAKE = "cluster:internal/remote_cluster/handshake"
ALLOC = LoopbackAllocator()
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
        """Restart one pod with changed NodeView fields (files, keystore, config...): stopped,
        then started with them (a changed file alone would only be reloaded, see EsCluster)."""
        self.views[pod] = replace(self.views[pod], **changes)
        self.cluster.set_nodes([v for name, v in self.views.items() if name != pod])
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


# ---- a local cluster linked to a remote, and waiting for the link threads -------------------


def cross_cluster_key(remote: Side, **body: Any) -> dict[str, Any]:
    principal = remote.cluster.security.authenticate(
        "Basic " + base64.b64encode(f"elastic:{PASSWORD}".encode()).decode(), "/"
    )
    body = {"name": "logging-to-search", "access": {"search": [{"names": ["logs-*"]}]}, **body}
    return remote.cluster.security.create_api_key(principal, body, cross_cluster=True)


def make_local(
    cleanup: list[Any],
    remote: Side,
    credential: str | None,
    ca: bytes | None = None,
    config: dict[str, Any] | None = None,
    timeouts: LinkTimeouts = FAST,
    **kwargs: Any,
) -> Side:
    files = {CA_MOUNT: pki.cert_pem(remote.transport_ca.cert) if ca is None else ca}
    keystore = {"cluster.remote.my.credentials": credential} if credential else {}
    local = make_side(
        "logging",
        "logging",
        addresses=ALLOC,
        key_base=6,
        files=files,
        keystore=keystore,
        config={**api_key_local_config(), **(config or {})},
        timeouts=timeouts,
        **kwargs,
    )
    cleanup.append(local.cluster)
    return local


def register(local: Side, address: str, server_name: str | None = SERVER_NAME, mode: str = "proxy") -> None:
    settings: dict[str, Any] = {"mode": mode}
    if mode == "proxy":
        settings["proxy_address"] = address
        if server_name:
            settings["server_name"] = server_name
    else:
        settings["seeds"] = [address]
    local.cluster.settings.update({"persistent": {"cluster": {"remote": {"my": settings}}}})
    local.cluster.settings_changed()


def rcs(remote: Side) -> str:
    address = remote.cluster.rcs_address(remote.pod())
    assert address is not None
    return f"{address[0]}:{address[1]}"


def info(local: Side) -> dict[str, Any]:
    return dict(local.cluster.remote_info(local.pod())["my"])


def resolve(local: Side) -> dict[str, Any]:
    return dict(local.cluster.links(local.pod()).resolve("my", "*", None))


def assert_unavailable(entry: dict[str, Any]) -> None:
    """`_resolve/cluster` for a remote it cannot reach: not connected, and no error text."""
    assert entry["connected"] is False and "error" not in entry, entry


def eventually(check: Callable[[], bool], wait: float = 15.0) -> None:
    """Waits for the background link threads (a bound for the test run, not a timed assertion)."""
    deadline = time.monotonic() + wait
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def logs_of(side: Side) -> str:
    return side.cluster.logs(side.pod(), fmt="plain")


def wait_for_log(side: Side, text: str) -> str:
    eventually(lambda: text in logs_of(side))
    return logs_of(side)
