"""Structural-schema handling of custom resources, as the API server does it with a CRD's
openAPIV3Schema: unknown fields are pruned (reported as warnings or, with
fieldValidation=Strict, refused), required fields are enforced.

This is what makes the CRD tell which ECK version is simulated: a field the installed CRD does
not declare (e.g. `spec.remoteClusterServer.service` before ECK 3.3) silently disappears.
"""

from __future__ import annotations

from typing import Any

from tests.twin.kube_errors import FieldError

PRESERVE = "x-kubernetes-preserve-unknown-fields"
ROOT_FIELDS = ("apiVersion", "kind", "metadata")


def version_schema(crd: dict[str, Any], version: str) -> dict[str, Any] | None:
    for served in (crd.get("spec") or {}).get("versions") or []:
        if served.get("name") == version:
            schema = (served.get("schema") or {}).get("openAPIV3Schema")
            return schema if isinstance(schema, dict) else None
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def prune(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Remove, in place, the fields `schema` does not declare; return their paths
    (`spec.remoteClusterServer.service`, `spec.nodeSets[0].foo`)."""
    unknown: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        # A schema that says nothing about the value's shape (no type, no properties) keeps it.
        keeps_unknown = bool(schema.get(PRESERVE)) or additional is True or ("type" not in schema
                                                                             and not properties)
        for key in list(value):
            if not path and key in ROOT_FIELDS:
                continue
            if key in properties:
                unknown += prune(value[key], properties[key], _join(path, key))
            elif isinstance(additional, dict):
                unknown += prune(value[key], additional, _join(path, key))
            elif not keeps_unknown:
                unknown.append(_join(path, key))
                del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            unknown += prune(item, schema["items"], f"{path}[{index}]")
    return unknown


def missing_required(value: Any, schema: dict[str, Any], path: str = "") -> list[FieldError]:
    """Required properties absent from `value`, as `Required value` field errors."""
    errors: list[FieldError] = []
    if isinstance(value, dict):
        for key in schema.get("required") or []:
            if key not in value:
                errors.append(FieldError(_join(path, key), "Required value", ""))
        for key, sub in (schema.get("properties") or {}).items():
            if key in value and not (not path and key in ROOT_FIELDS):
                errors += missing_required(value[key], sub, _join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += missing_required(item, schema["items"], f"{path}[{index}]")
    return errors
