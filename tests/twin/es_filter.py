"""Elasticsearch's `filter_path` response filtering (inclusions, `*`, `**` and `-` exclusions)."""

from __future__ import annotations

import fnmatch
from typing import Any


def filter_path(body: Any, spec: str) -> Any:
    """Keep only what the comma-separated `filter_path` expressions select, like Elasticsearch."""
    includes = [p.split(".") for p in spec.split(",") if p and not p.startswith("-")]
    excludes = [p[1:].split(".") for p in spec.split(",") if p.startswith("-")]
    result = _include(body, includes) if includes else body
    for pattern in excludes:
        result = _exclude(result, pattern)
    return {} if result is None else result


def _include(node: Any, patterns: list[list[str]]) -> Any:
    if any(not p for p in patterns):
        return node
    if isinstance(node, list):
        kept = [_include(item, patterns) for item in node]
        kept = [k for k in kept if k is not None]
        return kept or None
    if not isinstance(node, dict):
        return None
    out: dict[str, Any] = {}
    for key, value in node.items():
        nested: list[list[str]] = []
        for pattern in patterns:
            head, rest = pattern[0], pattern[1:]
            if head == "**":
                nested += [pattern, rest] if rest else [[]]
            elif fnmatch.fnmatchcase(key, head):
                nested.append(rest)
        if nested:
            kept = _include(value, nested)
            if kept is not None:
                out[key] = kept
    return out or None


def _exclude(node: Any, pattern: list[str]) -> Any:
    if not isinstance(node, dict) or not pattern:
        return node
    head, rest = pattern[0], pattern[1:]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if fnmatch.fnmatchcase(key, head):
            if not rest:
                continue
            out[key] = _exclude(value, rest)
        else:
            out[key] = value
    return out
