"""Resource verbs of the API twin: one request in, one response out, no sockets here.

Watch and port-forward need the connection and live in kube_watch.py / portforward.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from tests.twin import kube_table
from tests.twin.kube_errors import (
    BadRequest,
    Invalid,
    MethodNotAllowed,
    UnsupportedPatch,
    forbidden,
    path_not_found,
)
from tests.twin.kube_resources import BY_PLURAL, RESOURCE_TYPES, ResourceType
from tests.twin.kube_routes import Query, Route, verb_of
from tests.twin.kube_store import APPLY, JSON_PATCH, MERGE, STRATEGIC, Store

Authorizer = Callable[[str, str, str, str, str, str], bool]
PodLogs = Callable[[str, str, str], str]
PATCH_TYPES = (MERGE, JSON_PATCH, STRATEGIC, APPLY)


@dataclass(frozen=True)
class ApiRequest:
    method: str
    route: Route
    query: Query
    user: str
    accept: str = "application/json"
    content_type: str = ""
    body: bytes = b""

    @property
    def wants_table(self) -> bool:
        return "as=Table" in self.accept.replace(" ", "")


@dataclass(frozen=True)
class ApiResponse:
    code: int
    body: Any  # dict/list -> JSON, str -> text/plain
    content_type: str = "application/json"
    warnings: tuple[str, ...] = ()


def allow_all(user: str, verb: str, plural: str, namespace: str, name: str, subresource: str) -> bool:
    return True


def _decode(body: bytes, content_type: str) -> Any:
    try:
        if "yaml" in content_type:
            return yaml.safe_load(body)
        return json.loads(body or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise BadRequest(f"couldn't get version/kind; json parse error: {exc}") from exc


def _position(obj: dict[str, Any]) -> list[str]:
    meta = obj.get("metadata") or {}
    return [meta.get("namespace", ""), meta.get("name", "")]


def _page(items: list[dict[str, Any]], query: Query) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`limit` / `continue` chunking: the token remembers the last key returned, as etcd's does."""
    token = query.get("continue")
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadRequest("continue key is not valid: incorrect encoded start resourceVersion "
                             "(version meta.k8s.io/v1)") from exc
        items = [i for i in items if _position(i) > after]
    limit = query.get("limit")
    if not limit.isdigit() or int(limit) == 0 or len(items) <= int(limit):
        return items, {}
    shown, rest = items[:int(limit)], items[int(limit):]
    next_token = base64.urlsafe_b64encode(json.dumps({"after": _position(shown[-1])}).encode()).decode()
    return shown, {"continue": next_token, "remainingItemCount": len(rest)}


def _field_validation(query: Query) -> str:
    """The fieldValidation directive; a server answers Warn when the client does not say."""
    value = query.get("fieldValidation") or "Warn"
    if value not in ("Ignore", "Warn", "Strict"):
        raise BadRequest(f"fieldValidation parameter unsupported: {value}")
    return value


class ResourceApi:
    """The REST semantics of the served resources over a `Store`."""

    def __init__(self, store: Store, authorizer: Authorizer = allow_all, pod_logs: PodLogs | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.authorizer = authorizer
        self.pod_logs = pod_logs
        self.clock = clock

    # ---- what is served ------------------------------------------------------------------

    def served_types(self) -> list[ResourceType]:
        return [rt for rt in RESOURCE_TYPES
                if not rt.is_custom or self.store.exists("customresourcedefinitions", None, rt.crd_name)]

    def resolve(self, route: Route) -> ResourceType:
        rt = BY_PLURAL.get(route.plural)
        if rt is None or (rt.group, rt.version) != (route.group, route.version):
            raise path_not_found()
        if rt not in self.served_types():
            raise path_not_found()
        known_subresources = [s for s, _ in rt.subresources]
        if route.subresource and route.subresource not in known_subresources:
            raise path_not_found()
        if route.namespace and not rt.namespaced:
            raise path_not_found()
        return rt

    def authorize(self, request: ApiRequest, rt: ResourceType) -> str:
        route = request.route
        verb = verb_of(request.method, route, request.query)
        if rt.plural == "selfsubjectaccessreviews":
            return verb  # every authenticated user may ask what they may do
        if not self.authorizer(request.user, verb, rt.plural, route.namespace, route.name, route.subresource):
            raise forbidden(request.user, verb, rt.group, rt.plural, route.namespace, route.name,
                            route.subresource)
        return verb

    # ---- dispatch ------------------------------------------------------------------------

    def handle(self, request: ApiRequest) -> ApiResponse:
        rt = self.resolve(request.route)
        verb = self.authorize(request, rt)
        if rt.plural == "selfsubjectaccessreviews":
            return self._access_review(request)
        if request.route.subresource == "log":
            return self._pod_log(request)
        handlers: dict[str, Callable[[ApiRequest, ResourceType], ApiResponse]] = {
            "get": self._get, "list": self._list, "create": self._create, "update": self._update,
            "patch": self._patch, "delete": self._delete,
        }
        handler = handlers.get(verb)
        if handler is None or verb not in rt.verbs:
            raise MethodNotAllowed("the server does not allow this method on the requested resource", {})
        return handler(request, rt)

    def _crd(self, rt: ResourceType) -> dict[str, Any] | None:
        return self.store.get("customresourcedefinitions", None, rt.crd_name) if rt.is_custom else None

    def _get(self, request: ApiRequest, rt: ResourceType) -> ApiResponse:
        route = request.route
        obj = self.store.get(rt.plural, route.namespace, route.name)
        if request.wants_table:
            table = kube_table.to_table(rt, [obj], obj["metadata"]["resourceVersion"], self.clock(),
                                        request.query.get("includeObject", "Metadata"), self._crd(rt))
            return ApiResponse(200, table)
        return ApiResponse(200, obj)

    def _list(self, request: ApiRequest, rt: ResourceType) -> ApiResponse:
        query = request.query
        items, rv = self.store.list_with_version(rt.plural, request.route.namespace or None,
                                                 query.get("labelSelector") or None,
                                                 query.get("fieldSelector") or None)
        items, page = _page(items, query)
        if request.wants_table:
            table = kube_table.to_table(rt, items, rv, self.clock(), query.get("includeObject", "Metadata"),
                                        self._crd(rt))
            table["metadata"].update(page)
            return ApiResponse(200, table)
        if not rt.is_custom:
            # Typed lists of built-in kinds carry kind/apiVersion on the list only.
            items = [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in items]
        return ApiResponse(200, {"kind": rt.list_kind, "apiVersion": rt.group_version,
                                 "metadata": {"resourceVersion": rv, **page}, "items": items})

    def _body_object(self, request: ApiRequest, rt: ResourceType) -> dict[str, Any]:
        obj = _decode(request.body, request.content_type)
        if not isinstance(obj, dict):
            raise BadRequest("Object 'Kind' is missing in the request body")
        if obj.get("apiVersion") not in (None, rt.group_version):
            raise BadRequest(f"the API version in the data ({obj['apiVersion']}) does not match the expected "
                             f"API version ({rt.group_version})")
        if obj.get("kind") not in (None, rt.kind):
            raise BadRequest(f"the kind in the data ({obj['kind']}) does not match the expected kind "
                             f"({rt.kind})")
        meta = obj.setdefault("metadata", {})
        namespace = request.route.namespace
        if rt.namespaced and meta.get("namespace") not in (None, "", namespace):
            raise BadRequest("the namespace of the provided object does not match the namespace sent on the "
                             "request")
        if rt.namespaced:
            meta["namespace"] = namespace
        return obj

    def _create(self, request: ApiRequest, rt: ResourceType) -> ApiResponse:
        obj = self._body_object(request, rt)
        warnings: list[str] = []
        created = self.store.create(rt.plural, obj, request.query.dry_run, _field_validation(request.query),
                                    warnings, strict_status=True)
        return ApiResponse(201, created, warnings=tuple(warnings))

    def _update(self, request: ApiRequest, rt: ResourceType) -> ApiResponse:
        obj = self._body_object(request, rt)
        name = obj["metadata"].get("name")
        if name != request.route.name:
            raise BadRequest(f"the name of the object ({name}) does not match the name on the URL "
                             f"({request.route.name})")
        warnings: list[str] = []
        updated = self.store.update(rt.plural, obj, request.query.dry_run, request.route.subresource or None,
                                    _field_validation(request.query), warnings, strict_status=True)
        return ApiResponse(200, updated, warnings=tuple(warnings))

    def _patch(self, request: ApiRequest, rt: ResourceType) -> ApiResponse:
        patch_type = request.content_type.split(";")[0].strip()
        if patch_type not in PATCH_TYPES:
            raise UnsupportedPatch(f"the body of the request was in an unknown format - accepted media types "
                                   f"include: {', '.join(PATCH_TYPES)}")
        if patch_type == APPLY and not request.query.get("fieldManager"):
            raise Invalid('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is '
                          "required for apply patch", {"group": "meta.k8s.io", "kind": "PatchOptions"})
        route = request.route
        existed = self.store.exists(rt.plural, route.namespace, route.name)
        warnings: list[str] = []
        patched = self.store.patch(rt.plural, route.namespace, route.name, patch_type, request.body,
                                   request.query.dry_run, route.subresource or None,
                                   _field_validation(request.query), warnings, strict_status=True)
        return ApiResponse(200 if existed else 201, patched, warnings=tuple(warnings))

    def _delete(self, request: ApiRequest, rt: ResourceType) -> ApiResponse:
        options = _decode(request.body, "json") if request.body.strip() else {}
        options = options if isinstance(options, dict) else {}
        dry_run = request.query.dry_run or "All" in (options.get("dryRun") or [])
        precondition = (options.get("preconditions") or {}).get("resourceVersion")
        route = request.route
        deleted = self.store.delete(rt.plural, route.namespace, route.name, dry_run=dry_run,
                                    resource_version=precondition)
        if rt.is_custom:
            return ApiResponse(200, deleted)
        details: dict[str, Any] = {"name": route.name}
        if rt.group:
            details["group"] = rt.group
        details.update({"kind": rt.plural, "uid": deleted["metadata"]["uid"]})
        return ApiResponse(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                 "details": details})

    def _pod_log(self, request: ApiRequest) -> ApiResponse:
        route = request.route
        pod = self.store.get("pods", route.namespace, route.name)
        containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
        container = request.query.get("container")
        if not container and len(containers) > 1:
            raise BadRequest(f"a container name must be specified for pod {route.name}, choose one of: "
                             f"[{' '.join(containers)}]")
        container = container or (containers[0] if containers else "")
        if containers and container not in containers:
            raise BadRequest(f"container {container} is not valid for pod {route.name}")
        text = self.pod_logs(route.namespace, route.name, container) if self.pod_logs else ""
        tail = request.query.get("tailLines")
        if tail.isdigit():
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-int(tail):]) if int(tail) else ""
        return ApiResponse(200, text, content_type="text/plain")

    def _access_review(self, request: ApiRequest) -> ApiResponse:
        review = _decode(request.body, request.content_type)
        if not isinstance(review, dict):
            raise BadRequest("Object 'Kind' is missing in the request body")
        spec = review.get("spec") or {}
        attrs = spec.get("resourceAttributes")
        if attrs is None:
            allowed = True  # non-resource URLs (/version, /api) are open to authenticated users
        else:
            allowed = self.authorizer(request.user, attrs.get("verb", ""), attrs.get("resource", ""),
                                      attrs.get("namespace", ""), attrs.get("name", ""),
                                      attrs.get("subresource", ""))
        status: dict[str, Any] = {"allowed": allowed}
        body = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
        return ApiResponse(201, body)
