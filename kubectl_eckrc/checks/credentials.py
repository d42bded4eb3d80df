"""4xx: the local keystore holds a valid cross-cluster API key for each alias."""

from __future__ import annotations

from kubectl_eckrc.checks.spec import CheckSpec

CHECKS: list[CheckSpec] = []
