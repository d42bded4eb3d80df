"""Unified diffs of YAML renderings, with secret values replaced by fingerprints.

A Secret's `data`/`stringData` values never reach a diff: each is shown as
`<N bytes, sha256 XXXX…>`, and a value still to be produced (the API key created at apply
time) as `<new cross-cluster API key>`. Settings bodies sent to Elasticsearch carry no secret.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
from typing import Any

import yaml

from kubectl_eckrc import pki, redact

PENDING_API_KEY = "<new cross-cluster API key>"

# Fields that change on every write and say nothing about the change.
_NOISE = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")


def fingerprint(value: bytes) -> str:
    """The snapshot's fingerprint (keyed per run), so an unchanged value shows unchanged."""
    return redact.fingerprint(value)


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


def render(obj: dict[str, Any] | None, masked: bool = False) -> str:
    """`masked`: the Secret's data values are already sizes and fingerprints (mask_secret)."""
    if obj is None:
        return ""
    # the bundle's redaction (env values, secret-named fields, private keys, key=value pairs):
    # a context line next to a changed one must not print a secret
    kept = {k: obj[k] for k in ("data", "stringData") if masked and k in obj}
    clean = {**redact.redact_object(_pem_summary({k: v for k, v in obj.items() if k not in kept})), **kept}
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
    old = render(before, secret).splitlines(keepends=True)
    new = render(after, secret).splitlines(keepends=True)
    lines = difflib.unified_diff(
        old, new, fromfile=label if before is not None else "/dev/null", tofile=label, n=2
    )
    return "".join(lines)
