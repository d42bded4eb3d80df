"""6xx: the deprecated certificate model (mutual transport TLS on 9300)."""

from __future__ import annotations

from kubectl_eckrc.checks.spec import CheckSpec

CHECKS: list[CheckSpec] = []
