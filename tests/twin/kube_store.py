"""The in-memory object store behind the Kubernetes API twin.

Objects are plain dicts keyed by (plural, namespace, name); namespace is "" for cluster-scoped
types. Semantics follow the real API server where clients can tell: resourceVersion is a global
counter (string), a no-op write keeps it, `generation` moves only when something outside
metadata and status changes, custom resources with a status subresource keep status on main
writes and change only status through /status, creates in a missing namespace fail, deleting a
namespace, a CRD or an owner removes what lives in / depends on it. Every return is a deep copy.
Watch callbacks run after the lock is released.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.twin import kube_gc, kube_patch, kube_schema, kube_selectors
from tests.twin.kube_defaults import apply_defaults, validate_name
from tests.twin.kube_errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    FieldError,
    Gone,
    Invalid,
    KubeError,
    NotFound,
    UnsupportedPatch,
    already_exists,
    cannot_decode,
    conflict,
    invalid,
    not_found,
    unsupported_patch,
)
from tests.twin.kube_resources import BY_PLURAL, RESOURCE_TYPES, ResourceType, resource_type

__all__ = [
    "RESOURCE_TYPES", "ResourceType", "Store", "KubeError", "NotFound", "AlreadyExists", "Conflict",
    "Invalid", "UnsupportedPatch", "BadRequest", "Gone", "MERGE", "JSON_PATCH", "STRATEGIC", "APPLY",
]

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"

Key = tuple[str, str, str]
WatchCallback = Callable[[str, str, dict[str, Any]], None]
Event = tuple[int, str, str, dict[str, Any]]  # (resourceVersion, type, plural, object)
Events = list[Event]
Objects = list[dict[str, Any]]
Watchers = list[WatchCallback]
Warnings = list[str]
HISTORY = 2000


def _now() -> datetime:
    return datetime.now(UTC)


def _without_status(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in ("resourceVersion", "managedFields")}
    return {**obj, "metadata": meta}


@dataclass
class _Write:
    """One write request as it travels through the store's helpers."""

    rt: ResourceType
    key: Key
    dry_run: bool
    subresource: str | None
    field_validation: str
    warnings: list[str] | None
    strict_status: bool = False  # status changes only through /status (requests via the API)
    events: Events = field(default_factory=list)

    @property
    def keeps_status(self) -> bool:
        """Main-resource writes leave status alone, as the API server's strategies do."""
        return self.rt.status_subresource or (self.strict_status and self.rt.has_status_subresource)


class Store:
    """Thread-safe in-memory Kubernetes objects."""

    def __init__(self, clock: Callable[[], datetime] = _now) -> None:
        self._lock = threading.RLock()
        self._objects: dict[Key, dict[str, Any]] = {}
        self._rv = 0
        self._clock = clock
        self._watchers: Watchers = []
        self._history: deque[Event] = deque(maxlen=HISTORY)
        self._ips = itertools.count(10)
        self._node_ports = itertools.count(30100)

    # ---- reads ---------------------------------------------------------------------------

    def get(self, plural: str, namespace: str | None, name: str) -> dict[str, Any]:
        rt = resource_type(plural)
        with self._lock:
            obj = self._objects.get(self._key(rt, namespace, name))
            if obj is None:
                raise not_found(rt, name)
            return copy.deepcopy(obj)

    def list(self, plural: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> Objects:
        return self.list_with_version(plural, namespace, label_selector, field_selector)[0]

    def list_with_version(self, plural: str, namespace: str | None = None, label_selector: str | None = None,
                          field_selector: str | None = None) -> tuple[Objects, str]:
        """Matching objects sorted by (namespace, name), and the store's resourceVersion."""
        resource_type(plural)
        labels_match = kube_selectors.label_selector(label_selector)
        fields_match = kube_selectors.field_selector(field_selector)
        with self._lock:
            items = [copy.deepcopy(o) for (p, ns, _), o in sorted(self._objects.items())
                     if p == plural and (not namespace or ns == namespace)
                     and labels_match(o) and fields_match(o)]
            return items, str(self._rv)

    def resource_version(self) -> str:
        with self._lock:
            return str(self._rv)

    def exists(self, plural: str, namespace: str | None, name: str) -> bool:
        with self._lock:
            return self._key(resource_type(plural), namespace, name) in self._objects

    # ---- writes --------------------------------------------------------------------------

    def create(self, plural: str, obj: dict[str, Any], dry_run: bool = False,
               field_validation: str = "Ignore", warnings: Warnings | None = None,
               strict_status: bool = False) -> dict[str, Any]:
        """Create; for custom resources, fields the CRD schema does not declare are pruned
        (`field_validation` Ignore), reported in `warnings` (Warn) or refused (Strict).
        `strict_status` (what the HTTP API uses) drops a body's status for every kind with a
        status subresource; in-process callers may otherwise set status of built-in kinds."""
        rt = resource_type(plural)
        new = self._prepare_create(rt, obj)
        key = self._key(rt, new["metadata"].get("namespace"), new["metadata"]["name"])
        w = _Write(rt, key, dry_run, None, field_validation, warnings, strict_status)
        if w.keeps_status:
            new.pop("status", None)
        with self._lock:
            if key in self._objects:
                raise already_exists(rt, key[2])
            if rt.namespaced and ("namespaces", "", key[1]) not in self._objects:
                raise not_found(BY_PLURAL["namespaces"], key[1])
            self._check_schema(w, new)
            apply_defaults(rt, new, None, self._allocate_ip, self._allocate_node_port)
            if not dry_run:
                self._store(rt, key, new, "ADDED", w.events)
            result = copy.deepcopy(new)
        self._notify(w.events)
        return result

    def update(self, plural: str, obj: dict[str, Any], dry_run: bool = False, subresource: str | None = None,
               field_validation: str = "Ignore", warnings: Warnings | None = None,
               strict_status: bool = False) -> dict[str, Any]:
        rt = resource_type(plural)
        meta = obj.get("metadata") or {}
        key = self._key(rt, meta.get("namespace"), meta.get("name", ""))
        w = _Write(rt, key, dry_run, subresource, field_validation, warnings, strict_status)
        with self._lock:
            old = self._objects.get(key)
            if old is None:
                raise not_found(rt, key[2])
            wanted_rv = meta.get("resourceVersion")
            if not wanted_rv and rt.is_custom and subresource is None:
                raise invalid(rt, key[2], [FieldError("metadata.resourceVersion", "Invalid value",
                                                      "must be specified for an update", "0x0",
                                                      quoted=False)])
            result = self._write_update(w, old, copy.deepcopy(obj), wanted_rv)
        self._notify(w.events)
        return result

    def patch(self, plural: str, namespace: str | None, name: str, patch_type: str, body: Any,
              dry_run: bool = False, subresource: str | None = None, field_validation: str = "Ignore",
              warnings: Warnings | None = None, strict_status: bool = False) -> dict[str, Any]:
        """Patch with one of MERGE, JSON_PATCH, STRATEGIC, APPLY (server-side apply without field
        ownership: a merge of the applied configuration, creating the object when absent)."""
        rt = resource_type(plural)
        if patch_type == STRATEGIC and rt.is_custom:
            raise unsupported_patch()
        if patch_type not in (MERGE, JSON_PATCH, STRATEGIC, APPLY):
            raise UnsupportedPatch(f"the body of the request was in an unknown format - accepted media types "
                                   f"include: {JSON_PATCH}, {MERGE}, {APPLY}, {STRATEGIC}")
        patch = kube_patch.parse_body(patch_type == APPLY, body)
        w = _Write(rt, self._key(rt, namespace, name), dry_run, subresource, field_validation, warnings,
                   strict_status)
        with self._lock:
            old = self._objects.get(w.key)
            if old is not None:
                result = self._patch_existing(w, old, patch_type, patch)
            elif patch_type != APPLY or subresource is not None:
                raise not_found(rt, name)
        if old is None:
            return self._apply_create(w, patch)
        self._notify(w.events)
        return result

    def _patch_existing(self, w: _Write, old: dict[str, Any], patch_type: str, patch: Any) -> dict[str, Any]:
        patched = self._apply_patch(w.rt, old, patch_type, patch)
        new_meta = patched.get("metadata") or {}
        if new_meta.get("name") != w.key[2]:
            raise BadRequest(f"the name of the object ({new_meta.get('name')}) does not match the name "
                             f"on the URL ({w.key[2]})")
        return self._write_update(w, old, patched, new_meta.get("resourceVersion"))

    def delete(self, plural: str, namespace: str | None, name: str, dry_run: bool = False,
               resource_version: str | None = None) -> dict[str, Any]:
        """Delete and return the object; dependants (namespace content, custom resources of a
        CRD, objects owned through ownerReferences) go with it, as the garbage collector does."""
        rt = resource_type(plural)
        events: Events = []
        with self._lock:
            key = self._key(rt, namespace, name)
            old = self._objects.get(key)
            if old is None:
                raise not_found(rt, name)
            if resource_version and old["metadata"]["resourceVersion"] != resource_version:
                raise conflict(rt, name, "Precondition failed: ResourceVersion in precondition: "
                               f"{resource_version}, ResourceVersion in object meta: "
                               f"{old['metadata']['resourceVersion']}")
            if dry_run:
                return copy.deepcopy(old)
            removed = self._remove(key, events)
            for dependant in kube_gc.dependants(self._objects, rt.plural, old):
                if dependant in self._objects:
                    self._remove(dependant, events)
        self._notify(events)
        return removed

    # ---- watch ---------------------------------------------------------------------------

    def watch(self, callback: WatchCallback) -> Callable[[], None]:
        """Call `callback(event, plural, obj)` (event ADDED, MODIFIED, DELETED) after every
        stored change; returns a function that stops the notifications."""
        with self._lock:
            self._watchers.append(callback)

        def cancel() -> None:
            with self._lock:
                if callback in self._watchers:
                    self._watchers.remove(callback)

        return cancel

    def events_since(self, plural: str, resource_version: int) -> Events:
        """Stored changes of `plural` after `resource_version`; Gone when history no longer
        reaches back that far (as etcd compaction makes a real server answer 410)."""
        with self._lock:
            oldest = self._history[0][0] if self._history else self._rv + 1
            if resource_version < self._rv and resource_version + 1 < oldest:
                raise Gone(f"too old resource version: {resource_version} ({oldest - 1})")
            return [copy.deepcopy(e) for e in self._history if e[2] == plural and e[0] > resource_version]

    # ---- internals -----------------------------------------------------------------------

    def _key(self, rt: ResourceType, namespace: str | None, name: str) -> Key:
        return (rt.plural, (namespace or "default") if rt.namespaced else "", name)

    def _allocate_ip(self) -> str:
        n = next(self._ips)
        return f"10.96.{n // 250}.{n % 250 + 1}"

    def _allocate_node_port(self) -> int:
        return next(self._node_ports)

    def _prepare_create(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        new = copy.deepcopy(obj)
        meta = new.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        validate_name(rt, meta.get("name", ""))
        if rt.namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        for system_field in ("resourceVersion", "deletionTimestamp", "generation", "managedFields"):
            meta.pop(system_field, None)
        new["apiVersion"], new["kind"] = rt.group_version, rt.kind
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self._clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        if rt.has_generation:
            meta["generation"] = 1
        return new

    def _apply_create(self, w: _Write, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise BadRequest("error decoding YAML: the object is not a map")
        meta = patch.setdefault("metadata", {})
        meta.setdefault("name", w.key[2])
        if w.rt.namespaced:
            meta.setdefault("namespace", w.key[1])
        return self.create(w.rt.plural, patch, w.dry_run, w.field_validation, w.warnings, w.strict_status)

    def _check_schema(self, w: _Write, obj: dict[str, Any]) -> None:
        crd = self._objects.get(("customresourcedefinitions", "", w.rt.crd_name)) if w.rt.is_custom else None
        schema = kube_schema.version_schema(crd, w.rt.version) if crd else None
        if schema is None:
            return
        unknown = sorted(kube_schema.prune(obj, schema))
        if unknown and w.field_validation == "Strict":
            fields = ", ".join(f'unknown field "{path}"' for path in unknown)
            raise cannot_decode(w.rt, f"strict decoding error: {fields}")
        if w.warnings is not None and w.field_validation == "Warn":
            w.warnings.extend(f'unknown field "{path}"' for path in unknown)
        kube_schema.drop_nulls(obj, schema)
        errors = kube_schema.validate(obj, schema)
        if errors:
            raise invalid(w.rt, obj["metadata"].get("name", ""), errors)

    def _apply_patch(self, rt: ResourceType, old: dict[str, Any], patch_type: str,
                     patch: Any) -> dict[str, Any]:
        if patch_type == JSON_PATCH:
            result = kube_patch.json_patch(old, patch)
        elif not isinstance(patch, dict):
            raise BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}")
        elif patch_type == STRATEGIC or (patch_type == APPLY and not rt.is_custom):
            result = kube_patch.strategic_merge(old, patch)
        else:
            # Custom resource lists are atomic unless the schema says otherwise: replaced whole.
            result = kube_patch.merge_patch(old, patch)
        if not isinstance(result, dict):
            raise BadRequest("the patch did not produce an object")
        return result

    def _write_update(self, w: _Write, old: dict[str, Any], new: dict[str, Any],
                      wanted_rv: str | None) -> dict[str, Any]:
        rt = w.rt
        if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
            raise conflict(rt, w.key[2])
        if w.subresource == "status":
            status = new.get("status")
            new = copy.deepcopy(old)
            new.pop("status", None)
            if status is not None:
                new["status"] = status
        elif w.keeps_status:
            new.pop("status", None)
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
        meta = new.setdefault("metadata", {})
        for kept in ("uid", "creationTimestamp", "resourceVersion", "generation", "namespace", "name"):
            if kept in old["metadata"]:
                meta[kept] = old["metadata"][kept]
        new["apiVersion"], new["kind"] = rt.group_version, rt.kind
        self._check_schema(w, new)
        apply_defaults(rt, new, old, self._allocate_ip, self._allocate_node_port)
        if rt.has_generation and _without_status(new) != _without_status(old):
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if _comparable(new) == _comparable(old) or w.dry_run:
            return copy.deepcopy(new)
        self._store(rt, w.key, new, "MODIFIED", w.events)
        return copy.deepcopy(new)

    def _store(self, rt: ResourceType, key: Key, obj: dict[str, Any], event: str,
               events: Events) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._objects[key] = obj
        self._record(event, rt.plural, obj, events)

    def _remove(self, key: Key, events: Events) -> dict[str, Any]:
        obj = self._objects.pop(key)
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._record("DELETED", key[0], obj, events)
        return copy.deepcopy(obj)

    def _record(self, event: str, plural: str, obj: dict[str, Any], events: Events) -> None:
        entry = (self._rv, event, plural, copy.deepcopy(obj))
        self._history.append(entry)
        events.append(entry)

    def _notify(self, events: Events) -> None:
        if not events:
            return
        with self._lock:
            watchers = list(self._watchers)
        for _, event, plural, obj in events:
            for callback in watchers:
                callback(event, plural, copy.deepcopy(obj))
