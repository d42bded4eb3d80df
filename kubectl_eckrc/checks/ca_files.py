"""The CA files the local nodeSets trust for the remote cluster client, and their content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_eckrc import eck, pki
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.spec import NotEvaluated
from kubectl_eckrc.snapshot import CertInfo, Snapshot


@dataclass(frozen=True)
class CaSource:
    nodeset: str
    path: str  # as configured
    mounted: eck.MountedFile | None


def ca_sources(es: dict[str, Any]) -> tuple[list[CaSource], list[str]]:
    """The CA file each nodeSet configures for the remote cluster client, and the nodeSets
    that miss the client SSL settings."""
    sources, missing = [], []
    for nodeset in eck.nodesets(es):
        config = eck.nodeset_config(nodeset)
        name = str(nodeset.get("name", ""))
        enabled = config.get(eck.CLIENT_SSL_ENABLED, True)  # Elasticsearch's default is true
        paths = config.get(eck.CLIENT_SSL_CAS)
        if isinstance(paths, str):
            paths = [p.strip() for p in paths.strip("[]").split(",") if p.strip()]
        if not eck.truthy(enabled) or not paths:
            missing.append(name)
            continue
        sources += [CaSource(name, str(p), eck.mounted_file(nodeset, str(p))) for p in paths]
    return sources, missing


def configured_cas(snap: Snapshot) -> list[CertInfo]:
    """The certificates the local nodeSets trust for remote clusters (distinct, in order).
    Raises NotEvaluated when a source cannot be read; returns [] when none is configured."""
    es = reads.resource(snap.local)
    seen: dict[str, CertInfo] = {}
    for source in ca_sources(es)[0]:
        if source.mounted is None:
            continue
        for cert in _read_source(snap, source.mounted):
            seen.setdefault(cert.sha256, cert)
    return list(seen.values())


class SourceProblem(Exception):
    """A configured CA file whose ConfigMap/Secret or key is missing or not PEM."""


def _read_source(snap: Snapshot, mounted: eck.MountedFile) -> list[CertInfo]:
    where = f"{mounted.kind} {snap.local.namespace}/{mounted.source}"
    if mounted.kind == "configMap":
        cm = reads.configmap(snap.local, mounted.source)
        if cm is None:
            raise SourceProblem(f"{where} does not exist")
        data = cm.get("data") or {}
        if mounted.key not in data:
            keys = ", ".join(sorted(data)) or "none"
            raise SourceProblem(f"{where} has no key {mounted.key} (keys: {keys})")
        try:
            return pki.parse_pem(str(data[mounted.key]))
        except pki.PemError as exc:
            raise SourceProblem(f"{where} key {mounted.key}: {exc}") from exc
    if mounted.kind == "secret":
        summary = reads.secret(snap.local, mounted.source)
        if summary is None:
            raise SourceProblem(f"{where} does not exist")
        entry = summary.keys.get(mounted.key)
        if entry is None:
            raise SourceProblem(f"{where} has no key {mounted.key} (keys: {', '.join(sorted(summary.keys))})")
        if entry.pem_error or not entry.certificates:
            raise SourceProblem(f"{where} key {mounted.key}: {entry.pem_error or 'no PEM certificate'}")
        return list(entry.certificates)
    raise NotEvaluated(f"volume {mounted.volume} is neither a ConfigMap nor a Secret: not read")
