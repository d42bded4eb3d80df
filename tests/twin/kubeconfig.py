"""The kubeconfig a scenario hands to kubectl, the product and the tests."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class ContextEntry:
    """One kubeconfig context: a cluster (API URL + CA) and a bearer-token user."""

    name: str
    cluster: str
    server: str
    ca_pem: bytes
    user: str
    token: str
    namespace: str


def kubeconfig_dict(contexts: list[ContextEntry], current: str) -> dict[str, Any]:
    clusters: dict[str, dict[str, Any]] = {}
    users: dict[str, dict[str, Any]] = {}
    for entry in contexts:
        clusters[entry.cluster] = {"name": entry.cluster, "cluster": {
            "server": entry.server,
            "certificate-authority-data": base64.b64encode(entry.ca_pem).decode(),
        }}
        users[entry.user] = {"name": entry.user, "user": {"token": entry.token}}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": list(clusters.values()),
        "users": list(users.values()),
        "contexts": [{"name": e.name,
                      "context": {"cluster": e.cluster, "user": e.user, "namespace": e.namespace}}
                     for e in contexts],
        "current-context": current,
    }


def write_kubeconfig(path: Path, contexts: list[ContextEntry], current: str = "local") -> Path:
    """Write the file readable by its owner only (it holds bearer tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(kubeconfig_dict(contexts, current), sort_keys=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path
