"""3xx: the local cluster trusts the certificate the remote cluster server presents."""

from __future__ import annotations

from kubectl_eckrc.checks.spec import CheckSpec

CHECKS: list[CheckSpec] = []
