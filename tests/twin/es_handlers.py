"""REST handlers of the Elasticsearch twin, with the response shapes of the real APIs."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import threading
from typing import TYPE_CHECKING, Any

from tests.twin.es_errors import EsError, illegal_argument
from tests.twin.es_node import minimum_wire_version, version_tuple
from tests.twin.es_security import ACTION_PRIVILEGES, RESOLVE_CLUSTER_ACTION, parse_time_value
from tests.twin.es_settings import flatten, nest
from tests.twin.es_signing import unfiltered

if TYPE_CHECKING:
    from tests.twin.es_routes import Context

BUILD_HASH = "0a844d892a12f90abfd72785f8fc3dd0f933af28"
KEYSTORE_PATH = "/usr/share/elasticsearch/config/elasticsearch.keystore"


def version_info(number: str) -> dict[str, Any]:
    major = int(number.split(".")[0])
    return {
        "number": number,
        "build_flavor": "default",
        "build_type": "docker",
        "build_hash": BUILD_HASH,
        "build_date": "2025-01-10T10:08:26.972230187Z",
        "build_snapshot": False,
        "lucene_version": "10.1.0" if major >= 9 else "9.12.0",
        "minimum_wire_compatibility_version": minimum_wire_version(number),
        "minimum_index_compatibility_version": "8.0.0" if major >= 9 else "7.0.0",
    }


def root(ctx: Context) -> Any:
    c = ctx.cluster
    return {
        "name": ctx.pod,
        "cluster_name": c.name,
        "cluster_uuid": c.uuid,
        "version": version_info(c.version),
        "tagline": "You Know, for Search",
    }


def health(ctx: Context) -> Any:
    nodes = len(ctx.cluster.pods())
    return {
        "cluster_name": ctx.cluster.name,
        "status": "green" if nodes else "red",
        "timed_out": False,
        "number_of_nodes": nodes,
        "number_of_data_nodes": nodes,
        "active_primary_shards": 0,
        "active_shards": 0,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
        "unassigned_primary_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": 100.0,
    }


def _shape(flat: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return flat if ctx.request.query.get("flat_settings") == "true" else nest(flat)


def get_settings(ctx: Context) -> Any:
    settings = ctx.cluster.settings
    body: dict[str, Any] = {
        "persistent": _shape(unfiltered(settings.persistent), ctx),
        "transient": _shape(unfiltered(settings.transient), ctx),
    }
    if ctx.request.query.get("include_defaults") == "true":
        view = ctx.cluster.node_view(ctx.pod)
        defaults = {
            "cluster.remote.initial_connect_timeout": "30s",
            "remote_cluster_server.enabled": "false",
            "cluster.name": ctx.cluster.name,
            "node.name": ctx.pod,
            **unfiltered(flatten(view.config if view else {})),
        }
        set_keys = set(settings.persistent) | set(settings.transient)
        body["defaults"] = _shape({k: v for k, v in defaults.items() if k not in set_keys}, ctx)
    return body


def put_settings(ctx: Context) -> Any:
    body = ctx.request.json()
    if not isinstance(body, dict) or not (set(body) & {"persistent", "transient"}):
        raise EsError(
            400, "action_request_validation_exception", "Validation Failed: 1: no settings to update;"
        )
    persistent, transient = ctx.cluster.settings.update(body)
    ctx.cluster.settings_changed()
    return {"acknowledged": True, "persistent": _shape(persistent, ctx), "transient": _shape(transient, ctx)}


def license_info(ctx: Context) -> Any:
    c = ctx.cluster
    kind = c.license_type
    lic: dict[str, Any] = {
        "status": "active",
        "uid": c.license_uid,
        "type": kind,
        "issue_date": _iso(c.license_issued_ms),
        "issue_date_in_millis": c.license_issued_ms,
    }
    if kind != "basic":
        expiry = c.license_issued_ms + (30 if kind == "trial" else 365) * 86_400_000
        lic.update(expiry_date=_iso(expiry), expiry_date_in_millis=expiry)
    lic.update(
        max_nodes=None if kind == "enterprise" else 1000,
        max_resource_units=10 if kind == "enterprise" else None,
        issued_to=c.name,
        issuer="elasticsearch" if kind in ("basic", "trial") else "API",
        start_date_in_millis=-1,
    )
    return {"license": lic}


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def remote_info(ctx: Context) -> Any:
    return ctx.cluster.links(ctx.pod).remote_info()


# RestResolveClusterAction reads `timeout` from 8.18 on; before, BaseRestHandler refuses any
# parameter the handler did not consume.
RESOLVE_TIMEOUT_SINCE = (8, 18, 0)


def resolve_cluster(ctx: Context) -> Any:
    expr = ctx.params.get("expr")
    timeout_text = ctx.request.query.get("timeout")
    if timeout_text is not None and version_tuple(ctx.cluster.version) < RESOLVE_TIMEOUT_SINCE:
        raise illegal_argument(f"request [{ctx.request.path}] contains unrecognized parameter: [timeout]")
    timeout = parse_time_value(timeout_text, "timeout") / 1000 if timeout_text else None
    # The security filter authorizes the action before it runs (RBACEngine.authorizeIndexAction).
    names = [p for p in expr.split(",") if p and not p.startswith("-")] if expr else []
    explicit = [p for p in names if ":" not in p and not any(ch in p for ch in "*?")]
    ctx.cluster.security.authorize_index(ctx.principal, RESOLVE_CLUSTER_ACTION, explicit)
    links = ctx.cluster.links(ctx.pod)
    view = ctx.cluster.node_view(ctx.pod)
    if view is not None and not view.remote_client and (not expr or ":" in expr):
        raise illegal_argument(f"node [{ctx.pod}] does not have the [remote_cluster_client] role")
    aliases = sorted(links.links())
    wanted: dict[str, str] = {}
    local: list[str] = []
    for part in expr.split(",") if expr else [f"{a}:*" for a in aliases]:
        if part.startswith("-"):
            continue
        alias_pattern, sep, index = part.partition(":")
        if not sep:
            local.append(part)
            continue
        matched = [a for a in aliases if fnmatch.fnmatchcase(a, alias_pattern)]
        if not matched and not any(ch in alias_pattern for ch in "*?"):
            raise EsError(
                404, "no_such_remote_cluster_exception", f"no such remote cluster: [{alias_pattern}]"
            )
        wanted.update({a: index for a in matched})
    result: dict[str, Any] = {}
    if local:
        result["(local)"] = _local_entry(ctx, local)
    denials = {
        alias: ctx.cluster.security.remote_denial(ctx.principal, RESOLVE_CLUSTER_ACTION, alias)
        for alias in wanted
        if view is not None and view.credential(alias) is not None  # API-key model only
    }
    result.update(_resolve_remotes(links, wanted, timeout, denials))
    return result


def _local_entry(ctx: Context, patterns: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"connected": True, "skip_unavailable": False}
    ignore = ctx.request.query.get("ignore_unavailable") == "true"
    for pattern in patterns:
        if not any(ch in pattern for ch in "*?") and not ctx.cluster.matching_indices(pattern) and not ignore:
            entry["error"] = f"no such index [{pattern}]"
            return entry
    entry["matching_indices"] = any(ctx.cluster.matching_indices(p) for p in patterns)
    entry["version"] = {
        k: v
        for k, v in version_info(ctx.cluster.version).items()
        if k
        in (
            "number",
            "build_flavor",
            "minimum_wire_compatibility_version",
            "minimum_index_compatibility_version",
        )
    }
    return entry


def _resolve_remotes(
    links: Any, wanted: dict[str, str], timeout: float | None, denials: dict[str, str | None]
) -> dict[str, Any]:
    results: dict[str, Any] = {}

    def run(alias: str, pattern: str) -> None:
        results[alias] = links.resolve(alias, pattern, timeout, denials.get(alias))

    workers = [threading.Thread(target=run, args=item, daemon=True) for item in wanted.items()]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {alias: results[alias] for alias in sorted(results)}


def authenticate(ctx: Context) -> Any:
    p = ctx.principal
    realm = {"name": p.realm, "type": p.realm_type}
    user = ctx.cluster.security.users.get(p.username)
    body: dict[str, Any] = {
        "username": p.username,
        "roles": list(p.roles) if p.api_key is None else [],
        "full_name": None,
        "email": None,
        "metadata": dict(user.metadata) if user else {},
        "enabled": True,
        "authentication_realm": realm,
        "lookup_realm": realm,
        "authentication_type": "api_key" if p.api_key else "realm",
    }
    if p.api_key is not None:
        body["api_key"] = {"id": p.api_key.id, "name": p.api_key.name}
    return body


def _no_api_key(ctx: Context, verb: str) -> None:
    if ctx.principal.api_key is not None:
        raise illegal_argument(
            f"authentication via API key not supported: An API key cannot be used to {verb} "
            "a cross-cluster API key"
        )


def create_cross_cluster_key(ctx: Context) -> Any:
    _no_api_key(ctx, "create")
    return ctx.cluster.security.create_api_key(ctx.principal, ctx.request.json(), cross_cluster=True)


def update_cross_cluster_key(ctx: Context) -> Any:
    _no_api_key(ctx, "update")
    return ctx.cluster.security.update_cross_cluster_key(ctx.params["id"], ctx.request.json())


def create_rest_key(ctx: Context) -> Any:
    return ctx.cluster.security.create_api_key(ctx.principal, ctx.request.json(), cross_cluster=False)


def get_keys(ctx: Context) -> Any:
    q = ctx.request.query
    found = ctx.cluster.security.get_api_keys([q.get("id", "")], q.get("name"), q.get("username"))
    if q.get("id") and not found["api_keys"]:
        # RestGetApiKeyAction: an id that matches nothing is a 404 with the (empty) answer as body.
        raise _NotFoundWith(found)
    return found


def invalidate_keys(ctx: Context) -> Any:
    body = ctx.request.json()
    ids = list(body.get("ids") or []) + ([body["id"]] if body.get("id") else [])
    if not ids and not body.get("name"):
        raise EsError(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: One of [api key id, "
            "api key name, username, realm name] must be specified if [owner] flag is false;",
        )
    return ctx.cluster.security.invalidate(ids, body.get("name"))


def get_roles(ctx: Context) -> Any:
    roles = ctx.cluster.security.all_roles()
    name = ctx.params.get("name")
    if name is None:
        return roles
    found = {n: roles[n] for n in name.split(",") if n in roles}
    if not found:
        raise _NotFoundWith({})  # `GET _security/role/<missing>`
    return found


class _NotFoundWith(EsError):
    """A 404 whose body is the API's ordinary answer, not an error object."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(404, "", "")
        self.payload = payload

    def body(self) -> dict[str, Any]:
        return self.payload


def put_role(ctx: Context) -> Any:
    created = ctx.cluster.security.put_role(ctx.params["name"], ctx.request.json())
    return {"role": {"created": created}}


def _selected_pods(ctx: Context) -> list[str]:
    pods = ctx.cluster.pods()
    selector = ctx.params.get("nodes")
    if selector in ("settings", "_all/settings"):  # `/_nodes/settings`: a metric, not a node id
        selector = None
    if not selector or selector in ("_all", "_local"):
        return [ctx.pod] if selector == "_local" else pods
    names = selector.split(",")
    return [p for p in pods if p in names or ctx.cluster.node_id(p) in names]


def _nodes_header(ctx: Context, count: int) -> dict[str, Any]:
    return {"_nodes": {"total": count, "successful": count, "failed": 0}, "cluster_name": ctx.cluster.name}


def reload_secure_settings(ctx: Context) -> Any:
    """Reports the keystore each pod loaded at start: ECK only changes it by restarting pods."""
    pods = _selected_pods(ctx)
    nodes: dict[str, Any] = {}
    for pod in pods:
        view = ctx.cluster.node_view(pod)
        keystore = dict(view.keystore) if view else {}
        digest = hashlib.sha256(repr(sorted(keystore.items())).encode()).hexdigest()
        nodes[ctx.cluster.node_id(pod)] = {
            "name": pod,
            "secure_setting_names": sorted({"keystore.seed", *keystore}),
            "keystore_path": KEYSTORE_PATH,
            "keystore_digest": digest,
            "keystore_last_modified_time": _iso(ctx.cluster.pod_started_ms(pod)),
        }
    return {**_nodes_header(ctx, len(pods)), "nodes": nodes}


def nodes_info(ctx: Context) -> Any:
    pods = _selected_pods(ctx)
    nodes: dict[str, Any] = {}
    for pod in pods:
        view = ctx.cluster.node_view(pod)
        ip = view.publish_ip if view else ""
        settings = {
            "cluster.name": ctx.cluster.name,
            "node.name": pod,
            "path.home": "/usr/share/elasticsearch",
            "path.logs": "/usr/share/elasticsearch/logs",
            "client.type": "node",
            **unfiltered(flatten(view.config if view else {})),
        }
        nodes[ctx.cluster.node_id(pod)] = {
            "name": pod,
            "transport_address": f"{ip}:9300",
            "host": ip,
            "ip": ip,
            "version": ctx.cluster.version,
            "build_flavor": "default",
            "build_type": "docker",
            "build_hash": BUILD_HASH,
            "roles": sorted(view.roles) if view else [],
            "attributes": {"k8s_node_name": f"node-{pod}", "xpack.installed": "true"},
            "settings": _shape(settings, ctx),
        }
    return {**_nodes_header(ctx, len(pods)), "nodes": nodes}


def xpack_info(ctx: Context) -> Any:
    c = ctx.cluster
    kind = c.license_type
    paid = kind in ("platinum", "enterprise", "trial")
    feature = {"available": True, "enabled": True}
    return {
        "build": {"hash": BUILD_HASH, "date": "2025-01-10T10:08:26.972230187Z"},
        "license": {"uid": c.license_uid, "type": kind, "mode": kind, "status": "active"},
        "features": {
            "security": feature,
            "ccr": {"available": paid, "enabled": True},
            "monitoring": feature,
            "ml": {"available": paid, "enabled": True},
        },
        "tagline": "You know, for X",
    }


def has_privileges(ctx: Context) -> Any:
    """`_has_privileges` for cluster privileges (index checks: superuser-style `all` only)."""
    body = ctx.request.json()
    security = ctx.cluster.security
    held = security.cluster_privileges(ctx.principal)
    cluster = {p: bool(held & set(ACTION_PRIVILEGES.get(p, (p, "all")))) for p in body.get("cluster", [])}
    index: dict[str, Any] = {}
    for entry in body.get("index", []):
        for name in entry.get("names", []):
            index[name] = {p: "all" in held for p in entry.get("privileges", [])}
    every = all(cluster.values()) and all(v for privs in index.values() for v in privs.values())
    return {
        "username": ctx.principal.username,
        "has_all_requested": every,
        "cluster": cluster,
        "index": index,
        "application": {},
    }
