"""REST routing of the Elasticsearch twin: authentication, version negotiation, dispatch.

Handlers live in es_handlers.py; each returns a JSON-able body (status 200) or raises EsError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.twin import es_ccs_handlers as ccs
from tests.twin import es_handlers as h
from tests.twin.es_errors import WWW_AUTHENTICATE, Cause, EsError
from tests.twin.es_filter import filter_path
from tests.twin.es_node import version_tuple
from tests.twin.es_security import Principal

if TYPE_CHECKING:
    from tests.twin.es_server import EsCluster

COMPAT = re.compile(r"application/vnd\.elasticsearch\+json\s*;\s*compatible-with\s*=\s*(\d+)", re.I)


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.target).path) or "/"

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.target).query, keep_blank_values=True).items()}

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise EsError(
                400, "x_content_parse_exception", "[1:1] Unexpected character: was expecting a JSON value"
            ) from None


@dataclass
class Response:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)
    pretty: bool = False

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        return (pretty_json(self.body) + "\n").encode() if self.pretty else json.dumps(self.body).encode()


def pretty_json(value: Any, depth: int = 0) -> str:
    """`?pretty` as Elasticsearch writes it: Jackson's DefaultPrettyPrinter with a two-space,
    line-feed indenter for objects and arrays, `"key" : value`, and `{ }` / `[ ]` when empty."""
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        if not value:
            return "{ }"
        items = [f"{inner}{json.dumps(str(k))} : {pretty_json(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{outer}}}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[\n" + ",\n".join(f"{inner}{pretty_json(v, depth + 1)}" for v in value) + f"\n{outer}]"
    return json.dumps(value)


@dataclass(frozen=True)
class Context:
    """What a handler gets: the cluster, the pod answering, the caller and the request."""

    cluster: EsCluster
    pod: str
    principal: Principal
    request: Request
    params: dict[str, str]


Handler = Callable[[Context], Any]
# (methods, path pattern, privilege or None for any authenticated user, action name, handler)
ROUTES: list[tuple[tuple[str, ...], str, str | None, str, Handler]] = [
    (("GET", "HEAD"), r"/", "monitor", "cluster:monitor/main", h.root),
    (("GET",), r"/_cluster/health(?:/(?P<index>[^/]+))?", "monitor", "cluster:monitor/health", h.health),
    (("GET",), r"/_cluster/settings", "monitor", "cluster:monitor/settings", h.get_settings),
    (("PUT",), r"/_cluster/settings", "manage", "cluster:admin/settings/update", h.put_settings),
    (("GET",), r"/_license", "monitor", "cluster:monitor/xpack/license/get", h.license_info),
    (("GET",), r"/_remote/info", "monitor", "cluster:monitor/remote/info", h.remote_info),
    (
        ("GET",),
        r"/_resolve/cluster(?:/(?P<expr>[^/]+))?",
        None,  # an index action: the handler authorizes it against the expression's indices
        "indices:admin/resolve/cluster",
        h.resolve_cluster,
    ),
    (
        ("GET",),
        r"/_security/_authenticate",
        None,
        "cluster:admin/xpack/security/user/authenticate",
        h.authenticate,
    ),
    (
        ("POST", "PUT"),
        r"/_security/cross_cluster/api_key",
        "manage_security",
        "cluster:admin/xpack/security/cross_cluster/api_key/create",
        h.create_cross_cluster_key,
    ),
    (
        ("PUT",),
        r"/_security/cross_cluster/api_key/(?P<id>[^/]+)",
        "manage_security",
        "cluster:admin/xpack/security/cross_cluster/api_key/update",
        h.update_cross_cluster_key,
    ),
    (
        ("POST", "PUT"),
        r"/_security/api_key",
        "create_api_key",
        "cluster:admin/xpack/security/api_key/create",
        h.create_rest_key,
    ),
    (("GET",), r"/_security/api_key", "read_api_key", "cluster:admin/xpack/security/api_key/get", h.get_keys),
    (
        ("DELETE",),
        r"/_security/api_key",
        "manage_api_key",
        "cluster:admin/xpack/security/api_key/invalidate",
        h.invalidate_keys,
    ),
    (
        ("GET",),
        r"/_security/role(?:/(?P<name>[^/]+))?",
        "read_security",
        "cluster:admin/xpack/security/role/get",
        h.get_roles,
    ),
    (
        ("PUT", "POST"),
        r"/_security/role/(?P<name>[^/]+)",
        "manage_security",
        "cluster:admin/xpack/security/role/put",
        h.put_role,
    ),
    (
        ("POST",),
        r"/_nodes(?:/(?P<nodes>[^/]+))?/reload_secure_settings",
        "manage",
        "cluster:admin/nodes/reload_secure_settings",
        h.reload_secure_settings,
    ),
    (
        ("GET",),
        r"/_nodes(?:/(?P<nodes>[^/_][^/]*))?(?:/(?P<metric>settings))?",
        "monitor",
        "cluster:monitor/nodes/info",
        h.nodes_info,
    ),
    (("GET",), r"/_xpack", "monitor", "cluster:monitor/xpack/info", h.xpack_info),
    (
        ("GET", "POST"),
        r"/_security/user/_has_privileges",
        None,
        "cluster:admin/xpack/security/user/has_privileges",
        h.has_privileges,
    ),
    # cross-cluster reads (es_ccs_*.py): index privileges are checked by the handlers
    (("GET",), r"/_resolve/index/(?P<expr>[^/]+)", None, "indices:admin/resolve/index", ccs.resolve_index),
    (("GET", "POST"), r"/(?P<target>[^_/][^/]*)/_field_caps", None, "indices:data/read/field_caps",
     ccs.field_caps),
    (("GET", "POST"), r"/(?P<target>[^_/][^/]*)/_search", None, "indices:data/read/search", ccs.search),
    (("POST",), r"/(?P<index>[^_/][^/]*)/_doc", None, "indices:data/write/index", ccs.index_document),
    (
        ("PUT", "POST"),
        r"/_security/user/(?P<name>[^_/][^/]*)",
        "manage_security",
        "cluster:admin/xpack/security/user/put",
        ccs.put_user,
    ),
    (
        ("GET",),
        r"/_security/user/(?P<name>[^_/][^/]*)",
        "read_security",
        "cluster:admin/xpack/security/user/get",
        ccs.get_user,
    ),
]


def dispatch(cluster: EsCluster, pod: str, request: Request) -> Response:
    try:
        content_type = negotiate(cluster.version, request)
        response = _route(cluster, pod, request)
        spec = request.query.get("filter_path")
        if spec and response.body is not None:
            response.body = filter_path(response.body, spec)
    except EsError as err:
        content_type = "application/json"
        response = Response(err.status, err.body())
        if err.www_authenticate:
            response.headers += [("WWW-Authenticate", v) for v in WWW_AUTHENTICATE]
    response.headers += [("X-Elastic-Product", "Elasticsearch"), ("Content-Type", content_type)]
    response.pretty = request.query.get("pretty", "false") != "false"
    if request.method == "HEAD":
        response.body = None
    return response


def _route(cluster: EsCluster, pod: str, request: Request) -> Response:
    path = request.path.rstrip("/") or "/"
    allowed: list[str] = []
    for methods, pattern, privilege, action, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if not match or not _available(cluster, pattern):
            continue
        if request.method not in methods:
            allowed += methods
            continue
        principal = cluster.security.authenticate(request.header("Authorization"), request.path)
        if privilege is not None:
            cluster.security.authorize(principal, action, privilege)
        params = {k: v for k, v in match.groupdict().items() if v is not None}
        body = handler(Context(cluster, pod, principal, request, params))
        return Response(_status_of(body), body)
    if allowed:
        raise _method_not_allowed(request, allowed)
    return _unknown(cluster, request)


def _status_of(body: Any) -> int:
    # a document write answers 201 when it created the document (DocWriteResponse.status())
    created = isinstance(body, dict) and "_seq_no" in body and body.get("result") == "created"
    return 201 if created else 200


def _available(cluster: EsCluster, pattern: str) -> bool:
    """`_resolve/cluster` exists from 8.13 on, like the real API."""
    return not pattern.startswith("/_resolve/cluster") or version_tuple(cluster.version) >= (8, 13, 0)


def _method_not_allowed(request: Request, allowed: list[str]) -> EsError:
    methods = ", ".join(sorted(set(allowed)))
    return _RawError(
        405,
        {
            "error": f"Incorrect HTTP method for uri [{request.target}] and method "
            f"[{request.method}], allowed: [{methods}]",
            "status": 405,
        },
    )


def _unknown(cluster: EsCluster, request: Request) -> Response:
    cluster.security.authenticate(request.header("Authorization"), request.path)
    first = request.path.strip("/").split("/")[0]
    if first and not first.startswith("_"):
        raise EsError(
            404,
            "index_not_found_exception",
            f"no such index [{first}]",
            extra={
                "resource.type": "index_or_alias",
                "resource.id": first,
                "index_uuid": "_na_",
                "index": first,
            },
        )
    raise _RawError(
        400, {"error": f"no handler found for uri [{request.target}] and method [{request.method}]"}
    )


class _RawError(EsError):
    """An error whose body is not the usual error object (routing errors)."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(status, "", "")
        self.payload = payload

    def body(self) -> dict[str, Any]:
        return self.payload


def negotiate(version: str, request: Request) -> str:
    """Check `compatible-with` like Elasticsearch; returns the response Content-Type."""
    major = version_tuple(version)[0]
    found = {name: COMPAT.search(request.header(name) or "") for name in ("Accept", "Content-Type")}
    for name, match in found.items():
        if match and int(match.group(1)) not in (major, major - 1):
            failed = [n for n, m in found.items() if m]
            value = (request.header(name) or "").strip()
            raise EsError(
                400,
                "media_type_header_exception",
                f"Invalid media-type value on headers [{', '.join(failed)}]",
                Cause(
                    "status_exception",
                    f"{name} version must be either version {major} or "
                    f"{major - 1}, but found {match.group(1)}. {name}={value}",
                ),
            )
    accept = found["Accept"]
    if accept:
        return f"application/vnd.elasticsearch+json;compatible-with={accept.group(1)}"
    return "application/json"
