"""5xx: the link is registered, in proxy mode, and connected end to end."""

from __future__ import annotations

from kubectl_eckrc.checks.spec import CheckSpec

CHECKS: list[CheckSpec] = []
