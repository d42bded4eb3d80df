"""Kubernetes API errors, each carrying the `Status` object a real API server answers with.

Message shapes follow k8s.io/apimachinery/pkg/api/errors and the apiserver's authorization
filter, so that clients (kubectl, the Python client, the product) print what they would print
against a real cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.twin.kube_resources import ResourceType

UNSUPPORTED_PATCH_MESSAGE = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)
NOT_FOUND_PATH_MESSAGE = "the server could not find the requested resource"


class KubeError(Exception):
    """An API error: HTTP code, Status reason, message and optional details."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


class BadRequest(KubeError):
    code, reason = 400, "BadRequest"


class Unauthorized(KubeError):
    code, reason = 401, "Unauthorized"


class Forbidden(KubeError):
    code, reason = 403, "Forbidden"


class NotFound(KubeError):
    code, reason = 404, "NotFound"


class MethodNotAllowed(KubeError):
    code, reason = 405, "MethodNotAllowed"


class AlreadyExists(KubeError):
    code, reason = 409, "AlreadyExists"


class Conflict(KubeError):
    code, reason = 409, "Conflict"


class Gone(KubeError):
    code, reason = 410, "Expired"


class UnsupportedPatch(KubeError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(KubeError):
    code, reason = 422, "Invalid"


@dataclass(frozen=True)
class FieldError:
    field: str  # "metadata.name"
    kind: str  # "Invalid value", "Required value", "Unsupported value", "Forbidden"
    detail: str
    value: Any = None
    quoted: bool = True  # False prints the value as Go's %#v of a number would (e.g. 0x0)
    reason: str = ""  # the Status cause's reason when the kind alone does not tell it

    def __str__(self) -> str:
        if self.kind == "Invalid value":
            shown = _go_quote(self.value) if self.quoted else str(self.value)
            return f"{self.field}: {self.kind}: {shown}: {self.detail}"
        return f"{self.field}: {self.kind}: {self.detail}" if self.detail else f"{self.field}: {self.kind}"

    def cause(self) -> dict[str, str]:
        reasons = {"Invalid value": "FieldValueInvalid", "Required value": "FieldValueRequired",
                   "Unsupported value": "FieldValueNotSupported", "Forbidden": "FieldValueForbidden"}
        text = str(self)[len(self.field) + 2:]
        reason = self.reason or reasons.get(self.kind, "FieldValueInvalid")
        return {"reason": reason, "message": text, "field": self.field}


def _go_quote(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _details(rt: ResourceType, name: str, kind: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if rt.group:
        details["group"] = rt.group
    details["kind"] = kind or rt.plural
    return details


def not_found(rt: ResourceType, name: str) -> NotFound:
    return NotFound(f'{rt.group_resource} "{name}" not found', _details(rt, name))


def path_not_found() -> NotFound:
    return NotFound(NOT_FOUND_PATH_MESSAGE, {})


def already_exists(rt: ResourceType, name: str) -> AlreadyExists:
    return AlreadyExists(f'{rt.group_resource} "{name}" already exists', _details(rt, name))


def conflict(rt: ResourceType, name: str, why: str = "") -> Conflict:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    message = f'Operation cannot be fulfilled on {rt.group_resource} "{name}": {why}'
    return Conflict(message, _details(rt, name))


def invalid(rt: ResourceType, name: str, errors: list[FieldError]) -> Invalid:
    qualified_kind = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    aggregate = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    details = _details(rt, name, kind=rt.kind)
    details["causes"] = [e.cause() for e in errors]
    return Invalid(f'{qualified_kind} "{name}" is invalid: {aggregate}', details)


def patch_rejected() -> Invalid:
    """A JSON patch whose operations cannot apply (failed `test`, missing path)."""
    return Invalid("the server rejected our request due to an error in our request", {})


def unsupported_patch() -> UnsupportedPatch:
    return UnsupportedPatch(UNSUPPORTED_PATCH_MESSAGE)


def unauthorized() -> Unauthorized:
    return Unauthorized("Unauthorized")


def forbidden(user: str, verb: str, group: str, plural: str, namespace: str, name: str,
              subresource: str = "") -> Forbidden:
    resource = f"{plural}/{subresource}" if subresource else plural
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    why = f'User "{user}" cannot {verb} resource "{resource}" in API group "{group}" {scope}'
    qualified = f"{plural}.{group}" if group else plural
    head = f'{qualified} "{name}"' if name else qualified
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = plural
    return Forbidden(f"{head} is forbidden: {why}", details)


def cannot_decode(rt: ResourceType, why: str) -> BadRequest:
    return BadRequest(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: {why}')
