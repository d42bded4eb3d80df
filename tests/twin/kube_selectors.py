"""Label and field selectors, parsed the way the API server parses the query parameters."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.twin.kube_errors import BadRequest

Predicate = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_CMP_RE = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|!=|=)\s*([A-Za-z0-9._-]*)\s*$")


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside `in (...)` value lists."""
    terms, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t for t in terms if t.strip()]


def _label_term(term: str) -> Callable[[dict[str, str]], bool]:
    cmp = _CMP_RE.match(term)
    if cmp:
        key, op, value = cmp.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    found = _SET_RE.match(term)
    if not found:
        raise BadRequest(f'unable to parse requirement: found \'{term.strip()}\', expected: identifier')
    negated, key, op, values_text = found.groups()
    if op:
        values = {v.strip() for v in values_text.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if negated:
        return lambda labels: key not in labels
    return lambda labels: key in labels


def label_selector(selector: str | None) -> Predicate:
    """`a=b,c!=d,e in (x,y),f notin (z),g,!h` -> predicate over objects."""
    if not selector or not selector.strip():
        return lambda obj: True
    tests = [_label_term(t) for t in _split_terms(selector)]

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(test(labels) for test in tests)

    return matches


def _field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_selector(selector: str | None) -> Predicate:
    """`metadata.name=x,involvedObject.kind=Pod,type!=Normal` -> predicate over objects."""
    if not selector or not selector.strip():
        return lambda obj: True
    tests: list[tuple[str, bool, str]] = []
    for term in _split_terms(selector):
        found = re.match(r"^\s*([A-Za-z0-9._-]+)\s*(==|!=|=)\s*(.*?)\s*$", term)
        if not found:
            raise BadRequest(f'invalid selector: \'{selector}\'; can\'t understand \'{term}\'')
        path, op, value = found.groups()
        tests.append((path, op == "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) != negated for path, negated, value in tests)

    return matches
