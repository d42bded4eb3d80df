"""Structural-schema handling of custom resources, as the API server does it with a CRD's
openAPIV3Schema: unknown fields are pruned (reported as warnings or, with
fieldValidation=Strict, refused), nulls of non-nullable fields are dropped, then the object is
validated: required fields, types (`x-kubernetes-int-or-string` included), enums and minimum
sizes, each failure a field error worded as apiextensions-apiserver words it (FIDELITY.md).

This is what makes the CRD tell which ECK version is simulated: a field the installed CRD does
not declare (e.g. `spec.remoteClusterServer.service` before ECK 3.3) silently disappears.
"""

from __future__ import annotations

import json
from typing import Any

from tests.twin.kube_errors import FieldError

PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"
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


def drop_nulls(value: Any, schema: dict[str, Any], path: str = "") -> None:
    """Remove, in place, the null values of declared fields that are not `nullable` (the API
    server does this before validating, so `{"count": null}` means "unset")."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key in list(value):
            if not path and key in ROOT_FIELDS:
                continue
            sub = properties.get(key)
            if sub is None and isinstance(schema.get("additionalProperties"), dict):
                sub = schema["additionalProperties"]
            if sub is None:
                continue
            if value[key] is None and not sub.get("nullable"):
                del value[key]
            else:
                drop_nulls(value[key], sub, _join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            drop_nulls(item, schema["items"], f"{path}[{index}]")


def json_type(value: Any) -> str:
    """The JSON type name the validator reports for a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_matches(wanted: str, actual: str) -> bool:
    return wanted == actual or (wanted == "number" and actual == "integer")


def _type_error(path: str, wanted: str, actual: str) -> FieldError:
    detail = f'{path} in body must be of type {wanted}: "{actual}"'
    return FieldError(path, "Invalid value", detail, actual, reason="FieldValueTypeInvalid")


def _type_errors(value: Any, schema: dict[str, Any], path: str) -> list[FieldError]:
    actual = json_type(value)
    if schema.get(INT_OR_STRING):
        if actual in ("integer", "string"):
            return []
        # The CRD's own anyOf [integer, string] fails too: three errors, as the API server lists.
        errors = []
        if schema.get("anyOf"):
            anyof = f'"{path}" must validate at least one schema (anyOf)'
            errors.append(FieldError("<nil>", "Invalid value", anyof, ""))
        errors.append(_type_error(path, "integer,string", actual))
        if schema.get("anyOf"):
            errors.append(_type_error(path, "integer", actual))
        return errors
    wanted = schema.get("type")
    if isinstance(wanted, str) and not _type_matches(wanted, actual):
        return [_type_error(path, wanted, actual)]
    return []


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value_errors(value: Any, schema: dict[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        supported = ", ".join(_go_value(v if isinstance(v, str) else json.dumps(v)) for v in enum)
        detail = f"{_go_value(value)}: supported values: {supported}"
        errors.append(FieldError(path, "Unsupported value", detail))
    if isinstance(value, list) and len(value) < schema.get("minItems", 0):
        detail = f"{path} in body should have at least {schema['minItems']} items"
        errors.append(FieldError(path, "Invalid value", detail, len(value), quoted=False))
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        detail = f"{path} in body should be at least {schema['minLength']} chars long"
        errors.append(FieldError(path, "Invalid value", detail, value))
    return errors


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[FieldError]:
    """Every field error of `value` against `schema`: required, type, enum, minItems,
    minLength; a node of the wrong type is not looked into."""
    if path:
        type_errors = _type_errors(value, schema, path)
        if type_errors:
            return type_errors
        errors = _value_errors(value, schema, path)
    else:
        errors = []
    if isinstance(value, dict):
        for key in schema.get("required") or []:
            if key not in value:
                errors.append(FieldError(_join(path, key), "Required value", ""))
        properties = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            if not path and key in ROOT_FIELDS:
                continue
            sub = properties.get(key, additional if isinstance(additional, dict) else None)
            if sub is not None:
                errors += validate(item, sub, _join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{index}]")
    return errors
