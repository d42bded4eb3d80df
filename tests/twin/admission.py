"""ECK's validating admission webhook, in front of the store the API server writes to.

A real API server calls `elastic-es-validation-v1.k8s.elastic.co` on every create/update of an
`Elasticsearch` and refuses the write with the webhook's 422 `Invalid` Status. Writes to the
status subresource are not validated, as with ECK's webhook configuration.
"""

from __future__ import annotations

from typing import Any

from tests.twin.kube_errors import FieldError, Invalid, invalid
from tests.twin.kube_resources import resource_type
from tests.twin.kube_store import Store

WEBHOOK = "elastic-es-validation-v1.k8s.elastic.co"
RCS_MIN_ES = (8, 10, 0)  # ECK refuses the remote cluster server up to and including 8.10.0


def version_tuple(text: str) -> tuple[int, int, int]:
    parts = (text.split("-")[0].split(".") + ["0", "0"])[:3]
    return int(parts[0]), int(parts[1]), int(parts[2])


def validation_errors(es_obj: dict[str, Any]) -> list[FieldError]:
    """What ECK's validation finds wrong in an Elasticsearch (the part the twin simulates)."""
    spec = es_obj.get("spec") or {}
    version = str(spec.get("version") or "")
    enabled = bool((spec.get("remoteClusterServer") or {}).get("enabled"))
    if enabled and version and version_tuple(version) <= RCS_MIN_ES:
        return [FieldError("spec.remoteClusterServer", "Invalid value",
                           "minimum required version for remote cluster server is 8.10.0 but desired "
                           f"version is {version}", version)]
    return []


def _admit(es_obj: dict[str, Any]) -> None:
    errors = validation_errors(es_obj)
    if errors:
        name = (es_obj.get("metadata") or {}).get("name", "")
        denied = invalid(resource_type("elasticsearches"), name, errors)
        raise Invalid(f'admission webhook "{WEBHOOK}" denied the request: {denied.message}', denied.details)


class AdmittingStore(Store):
    """A `Store` whose Elasticsearch writes pass ECK's validating webhook first (other arguments
    are passed through untouched)."""

    def create(self, plural: str, obj: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        if plural == "elasticsearches":
            _admit(obj)
        return super().create(plural, obj, *args, **kwargs)

    def update(self, plural: str, obj: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        subresource = kwargs.get("subresource", args[1] if len(args) > 1 else None)
        if plural == "elasticsearches" and subresource is None:
            _admit(obj)
        return super().update(plural, obj, *args, **kwargs)

    def patch(self, plural: str, namespace: str | None, name: str, patch_type: str, body: Any,
              *args: Any, **kwargs: Any) -> dict[str, Any]:
        subresource = kwargs.get("subresource", args[1] if len(args) > 1 else None)
        if plural == "elasticsearches" and subresource is None:
            _admit(super().patch(plural, namespace, name, patch_type, body, dry_run=True))
        return super().patch(plural, namespace, name, patch_type, body, *args, **kwargs)
