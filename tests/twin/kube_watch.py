"""Watch streams (`?watch=true`): newline-delimited JSON events over a chunked response, as the
API server sends them; a resourceVersion older than the store's history answers an ERROR
event carrying a 410 Expired Status, as after etcd compaction."""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.twin import kube_selectors
from tests.twin.kube_errors import BadRequest, Gone
from tests.twin.kube_resources import ResourceType
from tests.twin.kube_routes import Query, Route
from tests.twin.kube_store import Store

MAX_TIMEOUT = 1800.0
POLL = 0.25


def _matcher(route: Route, query: Query) -> Any:
    labels = kube_selectors.label_selector(query.get("labelSelector") or None)
    fields = kube_selectors.field_selector(query.get("fieldSelector") or None)

    def matches(obj: dict[str, Any]) -> bool:
        in_namespace = not route.namespace or obj.get("metadata", {}).get("namespace") == route.namespace
        return in_namespace and labels(obj) and fields(obj)

    return matches


def _write_chunk(handler: BaseHTTPRequestHandler, event: dict[str, Any]) -> None:
    data = json.dumps(event).encode() + b"\n"
    handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.flush()


def _rv(obj: dict[str, Any]) -> int:
    return int(obj.get("metadata", {}).get("resourceVersion") or 0)


def _initial(store: Store, rt: ResourceType, route: Route, query: Query) -> tuple[list[dict[str, Any]], int]:
    matches = _matcher(route, query)
    wanted = query.get("resourceVersion")
    if wanted in ("", "0"):
        labels, fields = query.get("labelSelector") or None, query.get("fieldSelector") or None
        items, rv = store.list_with_version(rt.plural, route.namespace or None, labels, fields)
        return [{"type": "ADDED", "object": o} for o in items], int(rv)
    if not wanted.isdigit():
        raise BadRequest(f'resourceVersion: Invalid value: "{wanted}": must be a valid resource version')
    try:
        history = store.events_since(rt.plural, int(wanted))
    except Gone as gone:
        return [{"type": "ERROR", "object": gone.status()}], -1
    events = [{"type": event, "object": obj} for _, event, _, obj in history if matches(obj)]
    return events, max([int(wanted)] + [e[0] for e in history])


def stream(handler: BaseHTTPRequestHandler, store: Store, rt: ResourceType, route: Route, query: Query,
           stopping: threading.Event) -> int:
    """Serve one watch on `handler`'s connection until timeoutSeconds, a client hang-up or the
    server stopping. Returns the HTTP code for the audit log."""
    pending: queue.Queue[dict[str, Any]] = queue.Queue()

    def on_change(event: str, plural: str, obj: dict[str, Any]) -> None:
        if plural == rt.plural:
            pending.put({"type": event, "object": obj})

    cancel = store.watch(on_change)
    try:
        initial, last_rv = _initial(store, rt, route, query)
        timeout = float(query.get("timeoutSeconds") or MAX_TIMEOUT)
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Cache-Control", "no-cache, private")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for event in initial:
            _write_chunk(handler, event)
        if last_rv >= 0:
            _follow(handler, pending, _matcher(route, query), last_rv, min(timeout, MAX_TIMEOUT), stopping)
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
    except OSError:
        pass  # the client went away
    finally:
        cancel()
    return 200


def _follow(handler: BaseHTTPRequestHandler, pending: queue.Queue[dict[str, Any]], matches: Any,
            last_rv: int, timeout: float, stopping: threading.Event) -> None:
    deadline = time.monotonic() + timeout
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            event = pending.get(timeout=POLL)
        except queue.Empty:
            continue
        rv = _rv(event["object"])
        if rv <= last_rv or not matches(event["object"]):
            continue
        last_rv = rv
        _write_chunk(handler, event)
