"""Handlers of the cross-cluster read APIs and of the user and document APIs scenarios use.

Response shapes follow the real APIs: field_caps `{indices, fields[, failures]}` with remote
names `alias:index`; resolve/index `{indices, aliases, data_streams}`; search with `_shards`,
`_clusters` (details per cluster, `skipped` with its failure) and `hits.total`; the twin serves
`size: 0` searches (no hit bodies).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.twin import es_ccs
from tests.twin import es_index_authz as authz
from tests.twin.es_ccs_rest import Caller, ask_remote, caller, local_indices, split_targets
from tests.twin.es_errors import EsError

if TYPE_CHECKING:
    from tests.twin.es_routes import Context

ONE_SHARD = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}


def field_caps(ctx: Context) -> Any:
    fields = [f for f in (ctx.request.query.get("fields") or _body_fields(ctx)).split(",") if f]
    if not fields:
        raise EsError(400, "action_request_validation_exception",
                      "Validation Failed: 1: specified fields can't be null or empty;")
    who = caller(ctx, authz.FIELD_CAPS)
    local, remote = split_targets(ctx, ctx.params.get("target", "_all"))
    per_index: dict[str, dict[str, str]] = {}
    for index in local_indices(ctx, who, authz.FIELD_CAPS, local):
        per_index[index] = es_ccs.field_caps_of(ctx.cluster, [[authz.Grant(("*",), ("all",))]], index, fields)
    failures: list[tuple[list[str], EsError]] = []
    for alias, expressions in remote.items():
        try:
            answer = ask_remote(ctx, who, alias, authz.FIELD_CAPS, expressions, fields=fields)
        except EsError as error:
            failures.append(([f"{alias}:{e}" for e in expressions], error))
            continue
        per_index.update({f"{alias}:{i}": caps for i, caps in answer["indices"].items()})
    if not per_index and failures:
        raise failures[0][1]  # nothing answered: the first failure is the response
    body: dict[str, Any] = {"indices": sorted(per_index), "fields": _merge(per_index)}
    if failures:
        body["failures"] = [{"indices": names, "failure": error.body()["error"]} for names, error in failures]
    return body


def _body_fields(ctx: Context) -> str:
    value = ctx.request.json().get("fields") if ctx.request.body else None
    return ",".join(value) if isinstance(value, list) else str(value or "")


def _merge(per_index: dict[str, dict[str, str]]) -> dict[str, Any]:
    by_field: dict[str, dict[str, list[str]]] = {}
    for index, caps in sorted(per_index.items()):
        for field, kind in caps.items():
            by_field.setdefault(field, {}).setdefault(kind, []).append(index)
    merged: dict[str, Any] = {}
    for field, kinds in sorted(by_field.items()):
        merged[field] = {}
        for kind, indices in kinds.items():
            entry: dict[str, Any] = {"type": kind, "metadata_field": False, "searchable": True,
                                     "aggregatable": True}
            if len(kinds) > 1:
                entry["indices"] = indices
            merged[field][kind] = entry
    return merged


def resolve_index(ctx: Context) -> Any:
    who = caller(ctx, authz.RESOLVE_INDEX)
    local, remote = split_targets(ctx, ctx.params["expr"])
    found = [{"name": i, "attributes": ["open"]} for i in local_indices(ctx, who, authz.RESOLVE_INDEX, local)]
    for alias, expressions in sorted(remote.items()):
        try:
            answer = ask_remote(ctx, who, alias, authz.RESOLVE_INDEX, expressions)
        except EsError:
            continue  # TransportResolveIndexAction leaves a failed remote out of the answer
        found += [{**entry, "name": f"{alias}:{entry['name']}"} for entry in answer["indices"]]
    return {"indices": sorted(found, key=lambda e: e["name"]), "aliases": [], "data_streams": []}


def search(ctx: Context) -> Any:
    body = ctx.request.json() if ctx.request.body else {}
    query = body.get("query") or {}
    who = caller(ctx, authz.SEARCH)
    target = ctx.params.get("target", "_all")
    local, remote = split_targets(ctx, target)
    count = 0
    shards = 0
    if local:
        indices = local_indices(ctx, who, authz.SEARCH, local)
        count += sum(1 for i in indices for d in ctx.cluster.documents.get(i, []) if authz.matches(query, d))
        shards += len(indices)
    details: dict[str, Any] = {}
    for alias, expressions in sorted(remote.items()):
        detail, found = _remote_search(ctx, who, alias, expressions, query)
        details[alias] = detail
        count += found
        shards += detail.get("_shards", {}).get("total", 0)
    response: dict[str, Any] = {"took": 1, "timed_out": False,
                                "_shards": {"total": shards, "successful": shards, "skipped": 0, "failed": 0}}
    if details:
        response["_clusters"] = _clusters(details, bool(local))
    response["hits"] = {"total": {"value": count, "relation": "eq"}, "max_score": None, "hits": []}
    return response


def _remote_search(ctx: Context, who: Caller, alias: str, expressions: list[str],
                   query: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """One cluster's part: its details entry and hit count. A failure skips the cluster when
    skip_unavailable is true (RemoteClusterService.shouldSkipOnFailure), else fails the search."""
    detail: dict[str, Any] = {"indices": ",".join(expressions), "timed_out": False}
    try:
        answer = ask_remote(ctx, who, alias, authz.SEARCH, expressions, query=query)
    except EsError as error:
        if not ctx.cluster.links(ctx.pod).links()[alias].config.skip_unavailable:
            raise
        detail.update(status="skipped", failures=[{"shard": -1, "index": None,
                                                   "reason": error.body()["error"]}])
        return detail, 0
    total = len(answer["indices"])
    detail.update(status="successful", took=1,
                  _shards={"total": total, "successful": total, "skipped": 0, "failed": 0})
    return detail, int(answer["count"])


def _clusters(details: dict[str, Any], with_local: bool) -> dict[str, Any]:
    entries = dict(details)
    if with_local:
        entries = {"(local)": {"status": "successful", "indices": "", "took": 1, "timed_out": False,
                               "_shards": ONE_SHARD}, **entries}
    statuses = [e["status"] for e in entries.values()]
    return {"total": len(entries), "successful": statuses.count("successful"),
            "skipped": statuses.count("skipped"), "running": 0, "partial": 0, "failed": 0,
            "details": entries}


# ---- what scenarios set up: users and documents --------------------------------------------


def put_user(ctx: Context) -> Any:
    body = ctx.request.json()
    password = body.get("password")
    if not isinstance(password, str) or len(password) < 6:
        raise EsError(400, "action_request_validation_exception",
                      "Validation Failed: 1: passwords must be at least [6] characters long;")
    name = ctx.params["name"]
    created = name not in ctx.cluster.security.users
    ctx.cluster.security.add_user(name, password, [str(r) for r in body.get("roles") or []])
    return {"created": created}


def get_user(ctx: Context) -> Any:
    users = ctx.cluster.security.users
    names = ctx.params["name"].split(",")
    found = {n: {"username": n, "roles": list(users[n].roles), "full_name": None, "email": None,
                 "metadata": dict(users[n].metadata), "enabled": True} for n in names if n in users}
    if not found:
        raise _EmptyNotFound()
    return found


class _EmptyNotFound(EsError):
    """`GET _security/user/<missing>` answers 404 with an empty object."""

    def __init__(self) -> None:
        super().__init__(404, "", "")

    def body(self) -> dict[str, Any]:
        return {}


def index_document(ctx: Context) -> Any:
    """`POST <index>/_doc`: stores the document (creating the index); needs an index privilege
    that grants `indices:data/write/index` on it."""
    index = ctx.params["index"]
    who = caller(ctx, authz.INDEX_DOC)
    defined = ctx.cluster.security.all_roles()
    role = [authz.grant_of(e) for r in who.roles for e in (defined.get(r) or {}).get("indices") or []]
    if not authz.authorized([role], index, authz.INDEX_DOC):
        raise es_ccs.denied(authz.INDEX_DOC, who.description(defined), [index])
    documents = ctx.cluster.documents.setdefault(index, [])
    documents.append(ctx.request.json())
    ctx.cluster.add_index(index)
    return {"_index": index, "_id": str(len(documents)), "_version": 1, "result": "created",
            "_shards": {"total": 1, "successful": 1, "failed": 0}, "_seq_no": len(documents) - 1,
            "_primary_term": 1}
