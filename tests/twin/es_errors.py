"""Elasticsearch REST errors, shaped like the real `{"error": {...}, "status": N}` bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WWW_AUTHENTICATE = ('Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey")


@dataclass(frozen=True)
class Cause:
    type: str
    reason: str


@dataclass
class EsError(Exception):
    """An error the REST layer turns into a real-looking Elasticsearch error response."""

    status: int
    type: str
    reason: str
    caused_by: Cause | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    www_authenticate: bool = False

    def __str__(self) -> str:
        return f"{self.type}: {self.reason}"

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "reason": self.reason, **self.extra}
        if self.www_authenticate:
            error["header"] = {"WWW-Authenticate": list(WWW_AUTHENTICATE)}
        root = dict(error)
        if self.caused_by is not None:
            error["caused_by"] = {"type": self.caused_by.type, "reason": self.caused_by.reason}
        return {"error": {"root_cause": [root], **error}, "status": self.status}


def illegal_argument(reason: str, caused_by: Cause | None = None) -> EsError:
    return EsError(400, "illegal_argument_exception", reason, caused_by)


def security(status: int, reason: str, www_authenticate: bool = False, **extra: Any) -> EsError:
    return EsError(status, "security_exception", reason, extra=extra, www_authenticate=www_authenticate)


def not_found_resource(resource_type: str, resource_id: str, reason: str) -> EsError:
    return EsError(
        404,
        "resource_not_found_exception",
        reason,
        extra={"resource.type": resource_type, "resource.id": resource_id},
    )


def license_non_compliant(feature: str) -> EsError:
    return EsError(
        403,
        "security_exception",
        f"current license is non-compliant for [{feature}]",
        extra={"license.expired.feature": feature},
    )
