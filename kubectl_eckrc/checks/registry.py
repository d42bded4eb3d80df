"""The check catalogue: every check of the six area modules, in id order.

Ids are forever: never renumbered, never reused. Retired ids stay listed in RETIRED with the
reason, so that a reader of an old report can still find what a code meant.
"""

from __future__ import annotations

from kubectl_eckrc.checks import access, cert_model, connection, credentials, exposure, trust
from kubectl_eckrc.checks.spec import CheckSpec

ALL_CHECKS: list[CheckSpec] = sorted(
    [
        *access.CHECKS,
        *exposure.CHECKS,
        *trust.CHECKS,
        *credentials.CHECKS,
        *connection.CHECKS,
        *cert_model.CHECKS,
    ],
    key=lambda spec: spec.id,
)

BY_ID: dict[str, CheckSpec] = {spec.id: spec for spec in ALL_CHECKS}

RETIRED: dict[str, str] = {}  # id -> why it was retired

AREAS: dict[str, str] = {
    "1": "Access",
    "2": "Remote cluster server",
    "3": "TLS trust",
    "4": "API key",
    "5": "Connection",
    "6": "Certificate model",
}


def area_of(check_id: str) -> str:
    return AREAS.get(check_id.removeprefix("ECKRC")[:1], "Other")


def get(check_id: str) -> CheckSpec | None:
    return BY_ID.get(check_id.upper())
