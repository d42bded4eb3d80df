"""The one way actions change an Elasticsearch resource: a guarded JSON patch."""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck
from kubectl_eckrc.fix.diff import unified
from kubectl_eckrc.fix.merge import JsonPatch, apply_json_patch, rv_guard
from kubectl_eckrc.fix.model import Change, Operation, PatchType, Restart, Target
from kubectl_eckrc.snapshot import Snapshot


def es_patch(snap: Snapshot, role: str, es: dict[str, Any], ops: JsonPatch, *, action: str,
             summary: str, restarts: Restart = Restart.NONE) -> Change:
    """`ops` on the `role` side's Elasticsearch, behind a resourceVersion test so that the API
    server refuses it if someone changed the object since we read it (the diff assumes `es`)."""
    patch = rv_guard(es) + ops
    target = Target(role, "Elasticsearch", eck.namespace(snap, role), eck.es_name(snap, role))
    return Change(
        action=action,
        target=target,
        operation=Operation.PATCH,
        patch_type=PatchType.JSON,
        body=patch,
        restarts=restarts,
        summary=summary,
        diff=unified(es, apply_json_patch(es, patch), target.label),
    )
