"""A standalone Kubernetes API twin for tests: TLS material, a running server, kubeconfigs."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.twin import pki
from tests.twin.audit import AuditLog
from tests.twin.kube_api import KubeApiServer, PodTarget
from tests.twin.kube_handlers import Authorizer, PodLogs
from tests.twin.kube_store import Store

ADMIN, ADMIN_TOKEN = "admin", "twin-admin-token"
RESTRICTED, RESTRICTED_TOKEN = "restricted", "twin-restricted-token"
TOKENS = {ADMIN_TOKEN: ADMIN, RESTRICTED_TOKEN: RESTRICTED}


@dataclass(frozen=True)
class ServerTls:
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def make_tls(host: str) -> ServerTls:
    """A CA and a serving certificate for `host` (IP SAN) plus the in-cluster names."""
    ca = pki.make_ca("kubernetes")
    leaf = pki.make_leaf(ca.cert, ca.key, "kube-apiserver", ips=[host],
                         dns=["kubernetes", "kubernetes.default", "kubernetes.default.svc", "localhost"])
    return ServerTls(ca.cert_pem, leaf.chain_pem, leaf.key_pem)


def restrict_secrets(user: str, verb: str, plural: str, namespace: str, name: str, subresource: str) -> bool:
    """Admin may do anything; the restricted user may read everything but Secrets, write nothing."""
    if user == ADMIN:
        return True
    return verb in ("get", "list", "watch") and plural != "secrets"


@dataclass
class RunningApi:
    server: KubeApiServer
    tls: ServerTls
    store: Store
    audit: AuditLog = field(default_factory=AuditLog)

    @property
    def url(self) -> str:
        return self.server.url

    def kubeconfig(self, token: str = ADMIN_TOKEN, namespace: str | None = None) -> dict[str, Any]:
        return kubeconfig(self.url, self.tls.ca_pem, token, namespace=namespace)

    def write_kubeconfig(self, path: Path, token: str = ADMIN_TOKEN, namespace: str | None = None) -> Path:
        path.write_text(yaml.safe_dump(self.kubeconfig(token, namespace)))
        return path

    def stop(self) -> None:
        self.server.stop()


def start_api(store: Store | None = None, host: str = "127.0.0.1", tokens: dict[str, str] | None = None,
              authorizer: Authorizer | None = None, pod_target: PodTarget | None = None,
              pod_logs: PodLogs | None = None) -> RunningApi:
    store = store or Store()
    tls = make_tls(host)
    audit = AuditLog()
    server = KubeApiServer(store, host, tls.cert_pem, tls.key_pem, tokens or TOKENS,
                           authorizer or restrict_secrets, pod_target, pod_logs, audit).start()
    return RunningApi(server, tls, store, audit)


def kubeconfig(url: str, ca_pem: bytes, token: str, context: str = "twin",
               namespace: str | None = None, user: str = "twin-user") -> dict[str, Any]:
    ctx: dict[str, Any] = {"cluster": context, "user": user}
    if namespace:
        ctx["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {
            "server": url, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
    }
