"""Is a snapshot read from a file shaped as the checks expect? One line naming the first
field that is not.

A bundle is someone else's file: hand-edited, damaged, or hostile, with its manifest checksums
recomputed. `snapshot.from_dict` restores the types it knows; this walks what it cannot check
(the free-form Kubernetes objects and Elasticsearch answers the checks read with `.get`
chains, and the certificates they parse) so that a wrong type is a usage error (exit 2) when
the file is read, not an exception inside a check.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from kubectl_eckrc.snapshot import (
    AccessReview,
    CertInfo,
    CredentialInfo,
    EsState,
    KubeState,
    SecretKey,
    SecretSummary,
    Side,
    Snapshot,
    TlsProbe,
    Unavailable,
)

# KubeState / EsState fields that hold a read: what the read is when it is not Unavailable.
_KUBE_LISTS = ("services", "endpoints", "pods", "statefulsets", "events")
_KUBE_DICTS = ("server_version", "crd", "elasticsearch")
_ES_DICTS = ("info", "health", "license", "settings", "node_settings", "remote_info")
_PRIMITIVES = {"str": str, "int": int, "bool": bool}


class ShapeError(ValueError):
    """Where a snapshot differs from its schema, e.g. `local.kube.pods[0]: expected an object`."""


def check_snapshot(snap: Snapshot) -> None:
    """Raise ShapeError naming the first field of the wrong shape."""
    _fields(snap, "", skip=("local", "remote", "probes"))
    _side(snap.local, "local")
    if not isinstance(snap.remote, Unavailable):
        _side(snap.remote, "remote")
    _typed_dict(snap.probes, "probes", (TlsProbe, Unavailable))
    for alias, probe in snap.probes.items():
        if isinstance(probe, TlsProbe):
            _fields(probe, f"probes.{alias}", skip=("chain",))
            _certs(probe.chain, f"probes.{alias}.chain")


def _fail(path: str, expected: str) -> None:
    raise ShapeError(f"{path or 'the snapshot'}: expected {expected}")


def _fields(obj: Any, path: str, skip: tuple[str, ...] = ()) -> None:
    """The primitive and list[str] / dict[str, str] fields of one of our dataclasses."""
    for f in dataclasses.fields(obj):
        if f.name in skip:
            continue
        value, where = getattr(obj, f.name), f"{path}.{f.name}" if path else f.name
        kind = str(f.type)
        if kind in _PRIMITIVES:
            wanted = _PRIMITIVES[kind]
            if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
                _fail(where, f"a {'string' if wanted is str else kind}")
        elif kind == "list[str]":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                _fail(where, "a list of strings")
        elif kind == "dict[str, str]" and (
                not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())):
            _fail(where, "an object of strings")


def _side(side: Any, path: str) -> None:
    if not isinstance(side, Side):
        _fail(path, "a side")
    _fields(side, path, skip=("kube", "es"))
    if isinstance(side.kube, KubeState):
        _kube(side.kube, f"{path}.kube")
    elif not isinstance(side.kube, Unavailable):
        _fail(f"{path}.kube", "an object")
    else:
        _fields(side.kube, f"{path}.kube")
    if isinstance(side.es, EsState):
        _es(side.es, f"{path}.es")
    elif isinstance(side.es, Unavailable):
        _fields(side.es, f"{path}.es")
    else:
        _fail(f"{path}.es", "an object")


def _read(value: Any, path: str, expected: type, what: str) -> bool:
    """True when `value` is data of the expected container type; False when Unavailable."""
    if isinstance(value, Unavailable):
        _fields(value, path)
        return False
    if not isinstance(value, expected):
        _fail(path, what)
    return True


def _kube(kube: KubeState, path: str) -> None:
    for name in _KUBE_DICTS:
        _read(getattr(kube, name), f"{path}.{name}", dict, "an object")
    for name in _KUBE_LISTS:
        if _read(getattr(kube, name), f"{path}.{name}", list, "a list"):
            _objects(getattr(kube, name), f"{path}.{name}")
    names = kube.elasticsearch_names
    if _read(names, f"{path}.elasticsearch_names", list, "a list") and isinstance(names, list) and not all(
            isinstance(n, str) for n in names):
        _fail(f"{path}.elasticsearch_names", "a list of strings")
    # (isinstance after _read: _read fails on any other type; it only narrows for mypy)
    if _read(kube.configmaps, f"{path}.configmaps", dict, "an object") and isinstance(kube.configmaps, dict):
        for name, cm in kube.configmaps.items():
            if _read(cm, f"{path}.configmaps.{name}", dict, "an object"):
                _objects([cm], f"{path}.configmaps.{name}")
    if _read(kube.secrets, f"{path}.secrets", dict, "an object") and isinstance(kube.secrets, dict):
        for name, summary in kube.secrets.items():
            _secret(summary, f"{path}.secrets.{name}")
    nodes = kube.nodes
    if nodes is not None and _read(nodes, f"{path}.nodes", list, "a list") and isinstance(nodes, list):
        _objects(nodes, f"{path}.nodes")
    if not isinstance(kube.access, list) or not all(isinstance(a, AccessReview) for a in kube.access):
        _fail(f"{path}.access", "a list of access reviews")
    for i, review in enumerate(kube.access):
        _fields(review, f"{path}.access[{i}]")


def _objects(items: list[Any], path: str) -> None:
    """Kubernetes objects: an object each, with an object `metadata` holding a string name."""
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        if not isinstance(item, dict):
            _fail(where, "an object")
        meta = item.get("metadata", {})
        if not isinstance(meta, dict):
            _fail(f"{where}.metadata", "an object")
        if "name" in meta and not isinstance(meta["name"], str):
            _fail(f"{where}.metadata.name", "a string")
        for key in ("spec", "status", "data"):
            if key in item and item[key] is not None and not isinstance(item[key], dict):
                _fail(f"{where}.{key}", "an object")


def _secret(summary: Any, path: str) -> None:
    if isinstance(summary, Unavailable):
        _fields(summary, path)
        return
    if not isinstance(summary, SecretSummary):
        _fail(path, "a secret summary")
    _fields(summary, path, skip=("keys",))
    if not isinstance(summary.keys, dict):
        _fail(f"{path}.keys", "an object")
    for key, entry in summary.keys.items():
        where = f"{path}.keys.{key}"
        if not isinstance(entry, SecretKey):
            _fail(where, "a secret key summary")
        _fields(entry, where, skip=("certificates", "credential"))
        _certs(entry.certificates, f"{where}.certificates")
        if entry.credential is not None:
            if not isinstance(entry.credential, CredentialInfo):
                _fail(f"{where}.credential", "a credential summary")
            _fields(entry.credential, f"{where}.credential")


def _es(es: EsState, path: str) -> None:
    _fields(es, path)
    for name in _ES_DICTS:
        _read(getattr(es, name), f"{path}.{name}", dict, "an object")
    for name in ("resolve_cluster", "api_keys"):
        values = getattr(es, name)
        if not isinstance(values, dict):
            _fail(f"{path}.{name}", "an object")
        for key, value in values.items():
            _read(value, f"{path}.{name}.{key}", dict, "an object")
    if es.roles is not None:
        _read(es.roles, f"{path}.roles", dict, "an object")


def _typed_dict(values: Any, path: str, kinds: tuple[type, ...]) -> None:
    if not isinstance(values, dict) or not all(isinstance(v, kinds) for v in values.values()):
        _fail(path, "an object")


def _certs(certs: Any, path: str) -> None:
    """Certificates are parsed again by the checks: each must be one, with readable dates."""
    from cryptography import x509

    if not isinstance(certs, list):
        _fail(path, "a list")
    for i, cert in enumerate(certs):
        where = f"{path}[{i}]"
        if not isinstance(cert, CertInfo):
            _fail(where, "a certificate")
        _fields(cert, where)
        try:
            x509.load_pem_x509_certificate(cert.pem.encode())
            for stamp in (cert.not_before, cert.not_after):
                datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except (ValueError, TypeError):
            _fail(f"{where}.pem", "a PEM certificate with ISO 8601 dates")
