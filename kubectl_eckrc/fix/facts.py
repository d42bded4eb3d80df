"""Read-only facts the planners share, taken from a Snapshot (pure, no I/O).

These are deliberately small and forgiving: an unavailable read gives an empty value, and the
planner that needs it says so in its plan instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from kubectl_eckrc.collect.kube_side import flatten
from kubectl_eckrc.snapshot import KubeState, SecretSummary, Side, Snapshot, Unavailable

RCS_PORT = 9443
TRANSPORT_PORT = 9300
CLUSTER_LABEL = "elasticsearch.k8s.elastic.co/cluster-name"
TYPE_LABEL = "common.k8s.elastic.co/type"


def side(snap: Snapshot, role: str) -> Side | None:
    chosen = snap.local if role == "local" else snap.remote
    return None if isinstance(chosen, Unavailable) else chosen


def kube(snap: Snapshot, role: str) -> KubeState | None:
    s = side(snap, role)
    return None if s is None or isinstance(s.kube, Unavailable) else s.kube


def elasticsearch(snap: Snapshot, role: str) -> dict[str, Any] | None:
    k = kube(snap, role)
    es = None if k is None else k.elasticsearch
    return es if isinstance(es, dict) else None


def namespace(snap: Snapshot, role: str) -> str:
    s = side(snap, role)
    return "" if s is None else s.namespace


def es_name(snap: Snapshot, role: str) -> str:
    s = side(snap, role)
    return "" if s is None else s.es_name


def node_sets(es: dict[str, Any]) -> list[dict[str, Any]]:
    return list(es.get("spec", {}).get("nodeSets", []) or [])


def configmaps(snap: Snapshot, role: str) -> dict[str, dict[str, Any]]:
    k = kube(snap, role)
    read = None if k is None else k.configmaps
    return read if isinstance(read, dict) else {}


def secrets(snap: Snapshot, role: str) -> dict[str, SecretSummary]:
    k = kube(snap, role)
    read = None if k is None else k.secrets
    if not isinstance(read, dict):
        return {}
    return {n: s for n, s in read.items() if isinstance(s, SecretSummary)}


def services(snap: Snapshot, role: str) -> list[dict[str, Any]]:
    k = kube(snap, role)
    read = None if k is None else k.services
    return read if isinstance(read, list) else []


def es_names_in_namespace(snap: Snapshot, role: str) -> list[str]:
    k = kube(snap, role)
    names = None if k is None else k.elasticsearch_names
    own = es_name(snap, role)
    listed = names if isinstance(names, list) else []
    return sorted({*listed, own} - {""})


def eck_serves_rcs_service(snap: Snapshot) -> bool:
    k = kube(snap, "remote")
    crd = None if k is None else k.crd
    return bool(isinstance(crd, dict) and crd.get("has_rcs_service"))


def is_eck_owned_name(name: str, es_names: list[str]) -> bool:
    """`<es>-es-*` is the prefix of everything ECK creates for `<es>`; we never write there."""
    return any(name.startswith(f"{es}-es-") for es in es_names)


# --- Elasticsearch settings ---------------------------------------------------------------------


def flat_settings(snap: Snapshot, role: str = "local") -> dict[str, dict[str, Any]]:
    """{"persistent": {flat: value}, "transient": {...}} as read (flat_settings=true)."""
    s = side(snap, role)
    es = None if s is None or isinstance(s.es, Unavailable) else s.es
    read = None if es is None else es.settings
    if not isinstance(read, dict):
        return {"persistent": {}, "transient": {}}
    return {scope: flatten(read.get(scope) or {}) for scope in ("persistent", "transient")}


def configured_aliases(snap: Snapshot) -> set[str]:
    settings = flat_settings(snap)
    aliases: set[str] = set()
    for scope in settings.values():
        for key, value in scope.items():
            parts = key.split(".")
            if len(parts) >= 4 and parts[:2] == ["cluster", "remote"] and value not in (None, ""):
                aliases.add(".".join(parts[2:-1]))
    return aliases


# --- certificates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pem:
    sha256: str
    subject: str
    pem: str


def parse_pems(text: str) -> list[Pem]:
    """Certificates in a PEM bundle; anything unparseable yields no entry."""
    try:
        certs = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        return []
    out = []
    for cert in certs:
        out.append(
            Pem(
                cert.fingerprint(hashes.SHA256()).hex(),
                cert.subject.rfc4514_string(),
                cert.public_bytes(Encoding.PEM).decode(),
            )
        )
    return out


def remote_ca_pems(snap: Snapshot) -> list[Pem]:
    """The CA bundle a peer must trust: `ca.crt` of `<remote-es>-es-transport-certs-public`."""
    name = f"{es_name(snap, 'remote')}-es-transport-certs-public"
    summary = secrets(snap, "remote").get(name)
    if summary is None or "ca.crt" not in summary.keys:
        return []
    return [
        Pem(c.sha256.lower().replace(":", ""), c.subject, c.pem) for c in summary.keys["ca.crt"].certificates
    ]
