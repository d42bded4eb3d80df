"""2xx: the remote cluster server is on, and reachable from outside its Kubernetes cluster."""

from __future__ import annotations

from kubectl_eckrc.checks.spec import CheckSpec

CHECKS: list[CheckSpec] = []
