"""What the simulated ECK operator reports: the Elasticsearch status and Kubernetes events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from tests.twin import eck_objects as objs
from tests.twin.kube_errors import Conflict, NotFound


def es_status(es_obj: dict[str, Any], status: dict[str, Any], phase: str | None, error: str | None,
              nodes: tuple[int, int] | None, now: str) -> dict[str, Any]:
    """The Elasticsearch status ECK writes: phase, health, nodes, version, generation, conditions."""
    new = dict(status)
    spec = es_obj.get("spec") or {}
    if phase:
        new["phase"] = phase
    if nodes is not None:
        running, wanted = nodes
        new["availableNodes"] = running
        new["health"] = "green" if running == wanted else "yellow" if running else "unknown"
        new["version"] = str(spec.get("version", ""))
    new.setdefault("health", "unknown")
    new["observedGeneration"] = es_obj["metadata"].get("generation", 1)
    new["conditions"] = _conditions(status.get("conditions") or [], error, now, spec)
    return new


# ECK's upgrade reporter (pkg/controller/elasticsearch/reconcile/status.go, driver/stateful/
# upgrade_pods_deletion.go, upgrade_predicates.go): the texts it writes into the status.
MAX_UNAVAILABLE_PREDICATE = "do_not_restart_healthy_node_if_MaxUnavailable_reached"
FAILED_PREDICATE = "Cannot restart node because of failed predicate"
DELETING_FOR_UPGRADE = "Deleting pod for rolling upgrade"


def upgrade_nodes(outdated: list[str], blocked: bool, deleting: str) -> list[dict[str, Any]]:
    """`inProgressOperations.upgrade.nodes`: every pod still to restart is PENDING, the one being
    deleted now DELETED; with the change budget exhausted each carries the failed predicate."""
    nodes = []
    for pod in sorted(outdated):
        node: dict[str, Any] = {"name": pod, "status": "DELETED" if pod == deleting else "PENDING"}
        if pod == deleting:
            node["message"] = DELETING_FOR_UPGRADE
        elif blocked:
            node.update(predicate=MAX_UNAVAILABLE_PREDICATE, message=FAILED_PREDICATE)
        nodes.append(node)
    return nodes


def in_progress_operations(status: dict[str, Any], upgrade: list[dict[str, Any]], now: str) -> dict[str, Any]:
    """ECK's `status.inProgressOperations`: downscale, upgrade and upscale, each with the time its
    node list last changed (`Merge`); `nodes` only when there are any."""
    previous = status.get("inProgressOperations") or {}
    operations = {}
    for name, nodes in (("downscale", []), ("upgrade", upgrade), ("upscale", [])):
        before = previous.get(name) or {}
        entry: dict[str, Any] = {"lastUpdatedTime": before.get("lastUpdatedTime", now)}
        if (before.get("nodes") or []) != nodes:
            entry["lastUpdatedTime"] = now
        if nodes:
            entry["nodes"] = nodes
        operations[name] = entry
    return operations


class EventRecorder:
    """Warning/Normal events on the Elasticsearch resource; a repeat bumps `count`, as
    client-go's recorder aggregates them."""

    def __init__(self, store: Any, clock: Callable[[], str]) -> None:
        self.store = store
        self.now = clock
        self._event_names: dict[tuple[str, str, str, str, str], str] = {}
        self._event_seq = 0

    def record(self, es_obj: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        meta = es_obj["metadata"]
        key = (meta["namespace"], meta["name"], event_type, reason, message)
        name = self._event_names.get(key)
        now = self.now()
        if name:
            try:
                current = self.store.get("events", meta["namespace"], name)
                current["count"] = int(current.get("count", 1)) + 1
                current["lastTimestamp"] = now
                self.store.update("events", current)
                return
            except (NotFound, Conflict):
                pass
        self._event_seq += 1
        name = f"{meta['name']}.{int(dt.datetime.now(dt.UTC).timestamp() * 1e6):x}{self._event_seq:x}"
        self._event_names[key] = name
        self.store.create("events", objs.event(es_obj, event_type, reason, message, now, name))


def _conditions(previous: list[dict[str, Any]], error: str | None, now: str, spec: dict[str, Any]
                ) -> list[dict[str, Any]]:
    wanted = {
        "ReconciliationComplete": ("False", error) if error else ("True", ""),
        "RunningDesiredVersion": ("True", f"All nodes are running version {spec.get('version', '')}"),
        "ElasticsearchIsReachable": ("True", "Service is reachable"),
    }
    old = {c.get("type"): c for c in previous}
    out = []
    for ctype, (status, message) in wanted.items():
        before = old.get(ctype) or {}
        changed = before.get("status") != status
        out.append({"type": ctype, "status": status, "message": message or "",
                    "lastTransitionTime": now if changed else before.get("lastTransitionTime", now)})
    return out
