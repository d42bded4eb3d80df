"""Request paths of the Kubernetes REST API, parsed into what they address."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from tests.twin.kube_errors import MethodNotAllowed

NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class Route:
    """A resource request: /api/v1/namespaces/logging/pods/es-0/log -> ("", "v1", "pods",
    "logging", "es-0", "log")."""

    group: str
    version: str
    plural: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""


@dataclass(frozen=True)
class Query:
    values: dict[str, list[str]]

    @classmethod
    def parse(cls, text: str) -> Query:
        return cls(parse_qs(text, keep_blank_values=True))

    def get(self, key: str, default: str = "") -> str:
        found = self.values.get(key)
        return found[-1] if found else default

    def flag(self, key: str) -> bool:
        return self.get(key).lower() in ("1", "true")

    @property
    def dry_run(self) -> bool:
        return "All" in self.values.get("dryRun", [])


def parse_resource_path(path: str) -> Route | None:
    """The route of a resource path, or None for a path that is not one."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = ""
    namespace_subresource = len(rest) == 3 and rest[2] in NAMESPACE_SUBRESOURCES
    if len(rest) >= 3 and rest[0] == "namespaces" and not namespace_subresource:
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        return None
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    return Route(group, version, rest[0], namespace, name, subresource)


def verb_of(method: str, route: Route, query: Query) -> str:
    """The authorization verb of a request, as the apiserver's RequestInfoFactory derives it."""
    if route.subresource == "portforward":
        # Since Kubernetes 1.30 a websocket (GET) port-forward needs `create`, like the SPDY POST.
        return "create"
    if method == "GET":
        if query.flag("watch"):
            return "watch"
        return "get" if route.name else "list"
    verbs = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
    if method not in verbs:
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    if method == "DELETE" and not route.name:
        return "deletecollection"
    return verbs[method]
