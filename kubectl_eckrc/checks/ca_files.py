"""The CA files the local nodeSets trust for the remote cluster client, and their content."""

from __future__ import annotations

from kubectl_eckrc import eck, pki
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.spec import NotEvaluated
from kubectl_eckrc.snapshot import CertInfo, Snapshot


def configured_cas(snap: Snapshot) -> list[CertInfo]:
    """The certificates the local nodeSets trust for remote clusters (distinct, in order).
    Raises NotEvaluated when a source cannot be read; returns [] when none is configured."""
    es = reads.resource(snap.local)
    seen: dict[str, CertInfo] = {}
    for source in eck.client_ca_files(es)[0]:
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
