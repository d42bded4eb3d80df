"""What a support bundle must not carry, and the last line of defence before it is written.

Two layers, because the first can only know the fields it was told about:

1. `sanitize_snapshot_dict` blanks known secret-bearing fields of the Kubernetes objects and
   Elasticsearch answers a snapshot stores verbatim: the `last-applied-configuration`
   annotation (a copy of the whole object as the user applied it, Secrets included), the
   `value` of container `env` entries (names and `valueFrom` references stay), any string
   under a key (or annotation) named like a password, token, secret, credential, API key or
   private key, and, by content, in every string: PEM private key blocks, `key: value` /
   `key=value` pairs with such a name, URL user-info and query strings (redact.redact_content).
2. `find_leak` searches every file of the bundle for the secret values the collector saw, in
   every encoding we could think of (plain, JSON-escaped once and twice, standard and URL-safe
   base64 at any alignment, hex, percent-encoding, single PEM body lines), and for any PEM
   private key block at all. A hit means the bundle is refused: a leak is a bug, never
   something to paper over.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from kubectl_eckrc.redact import ANY_PRIVATE_KEY, OBJECT_REDACTED, redact_object
from kubectl_eckrc.snapshot import EsState, KubeState, Side

REDACTED = OBJECT_REDACTED
sanitize = redact_object  # the same redaction for bundles, reports and fix's diffs

MIN_SECRET_LENGTH = 8  # shorter values would match by chance everywhere; see docs/bundle.md

# Snapshot fields that hold free-form Kubernetes objects / Elasticsearch answers. Our own
# dataclasses (SecretSummary, CertInfo, probes) are safe by construction and are left alone.
_KUBE_FIELDS = ("elasticsearch", "services", "endpoints", "pods", "statefulsets", "configmaps", "events",
                "nodes")
_ES_FIELDS = ("info", "health", "license", "settings", "node_settings", "remote_info",
              "resolve_cluster", "api_keys", "roles")


def sanitize_snapshot_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of `snapshot.to_dict(...)` output with secret-bearing fields blanked."""
    out = dict(data)
    for role in ("local", "remote"):
        side = out.get(role)
        if isinstance(side, dict) and "kube" in side:
            out[role] = {**side, "kube": _sanitize_fields(side["kube"], _KUBE_FIELDS),
                         "es": _sanitize_fields(side["es"], _ES_FIELDS)}
    return out


def sanitized_side(side: Side, memo: dict[int, tuple[Any, Any]]) -> Side:
    """The same blanking on a Side as it is, without the round trip through a dict: a fleet's
    clusters share the objects of their namespace (one list per kind), so each object is
    redacted once (`memo`: id -> (object, redacted))."""
    kube, es = side.kube, side.es
    if isinstance(kube, KubeState):
        fields = [f for f in _KUBE_FIELDS if hasattr(kube, f)]
        kube = replace(kube, **{f: _redacted(getattr(kube, f), memo) for f in fields})
    if isinstance(es, EsState):
        es = replace(es, **{f: _redacted(getattr(es, f), memo) for f in _ES_FIELDS})
    return replace(side, kube=kube, es=es)


def _redacted(value: Any, memo: dict[int, tuple[Any, Any]]) -> Any:
    if isinstance(value, list):
        return [_redacted(v, memo) for v in value]
    if not isinstance(value, dict):
        return value  # an Unavailable (our own text), None or a scalar: as the dict path keeps it
    seen = memo.get(id(value))
    if seen is None or seen[0] is not value:
        seen = memo[id(value)] = (value, sanitize(value))
    return seen[1]


def _sanitize_fields(state: Any, fields: tuple[str, ...]) -> Any:
    if not isinstance(state, dict) or "unavailable" in state:
        return state
    return {k: (sanitize(v) if k in fields else v) for k, v in state.items()}


# --- the final scan ------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretValue:
    """A secret value the collector read, and where it came from (named, never shown)."""

    origin: str  # e.g. "secret logging/remote-api-keys key cluster.remote.x.credentials"
    value: bytes


@dataclass(frozen=True)
class Leak:
    member: str  # the file inside the bundle
    origin: str
    encoding: str


def is_public(value: bytes) -> bool:
    """Certificates are public and are kept on purpose (CertInfo.pem); private keys are not."""
    return b"-----BEGIN CERTIFICATE-----" in value and b"PRIVATE KEY" not in value


def find_leak(members: dict[str, bytes], secrets: Iterable[SecretValue]) -> Leak | None:
    """The first secret value found in any member, in any encoding, or None; any PEM private
    key block, whoever's, is one too."""
    for name, data in members.items():
        if ANY_PRIVATE_KEY.search(data):
            return Leak(member=name, origin="a PEM private key", encoding="plain")
    for secret in secrets:
        if len(secret.value) < MIN_SECRET_LENGTH or is_public(secret.value):
            continue
        for encoding, needle in encodings(secret.value):
            for name, data in members.items():
                if needle in data or needle in name.encode():
                    return Leak(member=name, origin=secret.origin, encoding=encoding)
    return None


def encodings(value: bytes) -> list[tuple[str, bytes]]:
    """Every form under which `value` could sit inside a text file of the bundle."""
    forms: list[tuple[str, bytes]] = [("plain", value), ("hex", value.hex().encode()),
                                      ("hex", value.hex().upper().encode())]
    text = value.decode("utf-8", errors="replace")
    once = json.dumps(text)[1:-1]
    forms += [("JSON-escaped", once.encode()),
              ("JSON-escaped", json.dumps(text, ensure_ascii=False)[1:-1].encode()),
              ("JSON-escaped twice", json.dumps(once)[1:-1].encode()),
              ("percent-encoded", urllib.parse.quote(text, safe="").encode()),
              ("percent-encoded", urllib.parse.quote_plus(text).encode())]
    for shift in range(3):
        forms.append(("base64", _base64_core(value, shift, base64.b64encode)))
        forms.append(("URL-safe base64", _base64_core(value, shift, base64.urlsafe_b64encode)))
    forms += [("PEM body line", line) for line in _pem_lines(value)]
    seen: set[bytes] = set()
    unique = []
    for name, needle in forms:
        if len(needle) >= MIN_SECRET_LENGTH and needle not in seen:
            seen.add(needle)
            unique.append((name, needle))
    return unique


def _base64_core(value: bytes, shift: int, encode: Any) -> bytes:
    """The base64 characters that depend only on `value` when it starts `shift` bytes into a
    larger encoded buffer: what shows up wherever the value is embedded (e.g. `id:key`)."""
    encoded: bytes = encode(b"\0" * shift + value)
    first_bit, end_bit = 8 * shift, 8 * (shift + len(value))
    first = -(-first_bit // 6)  # first character whose 6 bits start inside the value
    last = (end_bit // 6) - 1  # last character whose 6 bits end inside the value
    return encoded[first : last + 1] if last >= first else b""


def _pem_lines(value: bytes) -> list[bytes]:
    if b"-----BEGIN" not in value:
        return []
    lines = [ln.strip() for ln in value.splitlines()]
    return [ln for ln in lines if len(ln) >= 40 and not ln.startswith(b"-----") and _is_b64(ln)]


def _is_b64(line: bytes) -> bool:
    try:
        base64.b64decode(line, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
