"""Unified diffs of YAML renderings, with secret values replaced by fingerprints.

A Secret's `data`/`stringData` values never reach a diff: each is shown as
`<N bytes, sha256 XXXX…>`, and a value still to be produced (the API key created at apply
time) as `<new cross-cluster API key>`. Settings bodies sent to Elasticsearch carry no secret.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import hashlib
from typing import Any

import yaml

from kubectl_eckrc import pki

PENDING_API_KEY = "<new cross-cluster API key>"

# Fields that change on every write and say nothing about the change.
_NOISE = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")


def fingerprint(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()[:16]


def _masked_value(value: Any) -> str:
    if value == PENDING_API_KEY:
        return PENDING_API_KEY
    raw = str(value).encode()
    with contextlib.suppress(ValueError):
        raw = base64.b64decode(raw, validate=True)
    return f"<{len(raw)} bytes, sha256 {fingerprint(raw)}>"


def mask_secret(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """A Secret-shaped dict whose values are replaced by size + fingerprint."""
    if obj is None:
        return None
    out = dict(obj)
    for field in ("data", "stringData"):
        if isinstance(obj.get(field), dict):
            out[field] = {k: _masked_value(v) for k, v in obj[field].items()}
    return out


def _pem_summary(value: Any) -> Any:
    """PEM bundles (public, but 30 lines each) shown as subject + fingerprint per certificate."""
    if isinstance(value, dict):
        return {k: _pem_summary(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pem_summary(v) for v in value]
    if isinstance(value, str) and "-----BEGIN CERTIFICATE-----" in value:
        try:
            certs = pki.parse_pem(value)
        except pki.PemError:
            certs = []
        return (
            "; ".join(f"<certificate {c.subject} sha256 {c.sha256[:16]}>" for c in certs)
            or "<unparseable PEM>"
        )
    return value


def render(obj: dict[str, Any] | None) -> str:
    if obj is None:
        return ""
    clean = _pem_summary(dict(obj))
    if isinstance(clean.get("metadata"), dict):
        clean["metadata"] = {k: v for k, v in clean["metadata"].items() if k not in _NOISE}
    clean.pop("status", None)
    return yaml.safe_dump(clean, sort_keys=True, default_flow_style=False)


def unified(
    before: dict[str, Any] | None, after: dict[str, Any] | None, label: str, *, secret: bool = False
) -> str:
    """`--- label` / `+++ label` diff of two objects; secret=True masks data values first."""
    if secret:
        before, after = mask_secret(before), mask_secret(after)
    old = render(before).splitlines(keepends=True)
    new = render(after).splitlines(keepends=True)
    lines = difflib.unified_diff(
        old, new, fromfile=label if before is not None else "/dev/null", tofile=label, n=2
    )
    return "".join(lines)
