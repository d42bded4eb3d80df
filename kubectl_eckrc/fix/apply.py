"""The only module that writes to a cluster.

Every Kubernetes write is first sent with `dryRun=All` (all of them, before the first real
one), carries the field manager `kubectl-eckrc` and an explicit content type (JSON patch or,
for single keys of core kinds, JSON merge patch; never strategic merge), and every patch of an
existing object starts with a `test` of its `resourceVersion`. A conflict (409, or 422 when
the test fails) re-reads the object, re-plans the action on the fresh state and tries again:
a concurrent edit is neither lost nor overwritten. Objects ECK owns are refused here whatever
a planner says. Actions run in order and are re-planned against the state the previous ones
left, so each is idempotent and a re-run continues where a failed one stopped.

The API key created on the remote exists in this process only between the POST that returns
it and the Secret write that stores it; it is registered with `redact` so that no message can
carry it.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from kubectl_eckrc import eck, redact
from kubectl_eckrc.collect.failures import http_status
from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix.model import (
    Change,
    Deferred,
    DryRun,
    Operation,
    Outcome,
    OutcomeStatus,
    PatchType,
    Plan,
    Target,
)
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import KubeState, Snapshot, Unavailable

FIELD_MANAGER = "kubectl-eckrc"
CONFLICT, UNPROCESSABLE = 409, 422  # a resourceVersion test failed, or a concurrent write won
PATHS = {
    "ConfigMap": "/api/v1/namespaces/{ns}/configmaps",
    "Secret": "/api/v1/namespaces/{ns}/secrets",
    "Service": "/api/v1/namespaces/{ns}/services",
    "Elasticsearch": "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/{ns}/elasticsearches",
}
MAX_ATTEMPTS = 5
DRY_RUN_CREDENTIAL = base64.b64encode(base64.b64encode(b"dry-run:placeholder")).decode()
ADDRESS_POLL_SECONDS = 0.5

# Test hook: called before each real write (tests make concurrent edits or inject failures).
before_write: Callable[[Change], None] | None = None


class KubeWriter(Protocol):
    def get(
        self, path: str, query: dict[str, str] | None = None, what: str = "", permission: str = ""
    ) -> Any: ...

    def list_items(
        self, path: str, label_selector: str | None = None, what: str = "", permission: str = ""
    ) -> list[dict[str, Any]]: ...

    def create(self, path: str, body: dict[str, Any], dry_run: bool = False) -> Any: ...

    def patch(
        self,
        path: str,
        body: Any,
        content_type: str,
        dry_run: bool = False,
        field_manager: str = FIELD_MANAGER,
    ) -> Any: ...


class EsWriter(Protocol):
    def request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None, what: str = ""
    ) -> Any: ...


@dataclass
class Clients:
    local_kube: KubeWriter
    remote_kube: KubeWriter | None
    local_es: EsWriter | None
    remote_es: EsWriter | None

    def kube(self, side: str) -> KubeWriter:
        client = self.local_kube if side == "local" else self.remote_kube
        if client is None:
            raise WriteError(f"no access to the {side} Kubernetes API")
        return client

    def es(self, side: str) -> EsWriter:
        client = self.local_es if side == "local" else self.remote_es
        if client is None:
            raise WriteError(f"the {side} Elasticsearch REST API is not reachable")
        return client


class WriteError(Exception):
    """A write that failed; the message is already free of secrets."""


# A planner as apply re-runs it against the state earlier writes left (commands/fix.py hands
# in plan.planners(): the writer does not import the planners).
Planner = Callable[[Snapshot, list[Finding], FixOptions], list[Change]]


# --- server-side dry run ------------------------------------------------------------------------


def dry_run(plan: Plan, clients: Clients, es_names: dict[str, list[str]]) -> DryRun:
    """Send every Kubernetes write of the plan with dryRun=All; nothing is stored."""
    accepted, rejected = 0, []
    for change in plan.changes:
        if not change.is_kube:
            continue
        try:
            _guard_owner(change, es_names)
            _dry_send(change, clients.kube(change.target.side))
            accepted += 1
        except WriteError as e:
            rejected.append((change.target.label, str(e)))
    return DryRun(accepted, tuple(rejected))


def _dry_send(change: Change, kube: KubeWriter) -> None:
    """A guarded patch whose object moved on since the snapshot (ECK updates the status all
    the time) is validated against the current version: staleness is apply's business."""
    try:
        _send(change, kube, dry=True, credential=DRY_RUN_CREDENTIAL, on_stale=True)
    except _Stale:
        base = PATHS[change.target.kind].format(ns=change.target.namespace)
        try:
            current = kube.get(f"{base}/{change.target.name}")
        except Exception as e:
            raise WriteError(f"cannot re-read {change.target.label}: {redact.scrub_known(str(e))}") from e
        rv = str((current.get("metadata") or {}).get("resourceVersion", ""))
        body = [{**change.body[0], "value": rv}, *change.body[1:]] if _guarded(change) else change.body
        _send(replace(change, body=body), kube, dry=True, credential=DRY_RUN_CREDENTIAL)


def _guarded(change: Change) -> bool:
    return (
        change.patch_type is PatchType.JSON
        and isinstance(change.body, list)
        and bool(change.body)
        and change.body[0].get("path") == "/metadata/resourceVersion"
    )


# --- applying -----------------------------------------------------------------------------------


@dataclass
class Run:
    """The state of one apply: the snapshot as our writes left it, and what was done."""

    snap: Snapshot
    findings: list[Finding]
    options: FixOptions
    clients: Clients
    es_names: dict[str, list[str]]
    planners: dict[str, Planner]
    credential: str = ""  # base64 of the new key's `encoded`, between POST and Secret write
    new_key: str = ""  # "id (name)" of the API key this run created: named if a later step fails
    done: set[str] = field(default_factory=set)


def apply_plan(
    plan: Plan,
    snap: Snapshot,
    findings: list[Finding],
    options: FixOptions,
    clients: Clients,
    planners: dict[str, Planner],
    progress: Callable[[Outcome], None] = lambda o: None,
) -> tuple[list[Outcome], Snapshot]:
    """Carry out the plan's actions in order, each re-planned by its planner against the state
    the previous writes left; stop at the first failure."""
    run = Run(snap, findings, options, clients, _es_names(snap), planners)
    outcomes = [Outcome(a) for a in plan.actions]
    for outcome in outcomes:
        try:
            _apply_action(run, outcome)
        except WriteError as e:
            outcome.status, outcome.message = OutcomeStatus.FAILED, redact.scrub_known(str(e))
        except Exception as e:  # noqa: BLE001 - a bug must still leave the done/not-done report
            outcome.status = OutcomeStatus.FAILED
            outcome.message = redact.scrub_known(f"internal error: {type(e).__name__}: {e}")
        if outcome.status is OutcomeStatus.FAILED and run.new_key:
            outcome.message += (f"; this run created the cross-cluster API key {run.new_key} on the "
                                "remote: rerun fix to use it, or invalidate it (DELETE /_security/api_key "
                                "with its id)")
        progress(outcome)
        if outcome.status is OutcomeStatus.FAILED:
            break
    run.credential = ""
    return outcomes, run.snap


def _es_names(snap: Snapshot) -> dict[str, list[str]]:
    return {role: eck.es_names_in_namespace(snap, role) for role in ("local", "remote")}


def _apply_action(run: Run, outcome: Outcome) -> None:
    """Plan, write, re-plan until the action is satisfied; a conflict re-reads the object."""
    planner = run.planners[outcome.action]
    stale_count, passes = 0, 0
    while True:
        changes = [c for c in planner(run.snap, run.findings, run.options) if _key(c) not in run.done]
        if not changes:
            outcome.status = OutcomeStatus.APPLIED if outcome.changed else OutcomeStatus.UNCHANGED
            return
        passes += 1
        if passes > MAX_ATTEMPTS + 2:
            raise WriteError(f"{outcome.action} did not settle after {passes - 1} passes")
        try:
            for change in changes:
                _apply_change(run, change)
                if change.deferred:
                    continue
                outcome.changed = True
                if change.target.label not in outcome.objects:
                    outcome.objects.append(change.target.label)
        except _Stale as stale:
            stale_count += 1
            if stale_count >= MAX_ATTEMPTS:
                raise WriteError(f"{stale.change.target.label} keeps changing under us: {stale}") from stale
            _reread(run, stale.change)


def _key(change: Change) -> str:
    return f"{change.action}|{change.target.label}|{change.operation}|{change.summary}"


class _Stale(Exception):
    def __init__(self, change: Change, message: str) -> None:
        super().__init__(message)
        self.change = change


def _apply_change(run: Run, change: Change) -> None:
    if change.deferred is Deferred.PROXY_ADDRESS:
        _wait_for_address(run)  # the next pass plans with the address
        return
    if change.is_kube:
        _guard_owner(change, run.es_names)
    if before_write is not None:
        before_write(change)
    if change.is_kube:
        result = _send(
            change, run.clients.kube(change.target.side), dry=False, credential=run.credential, on_stale=True
        )
        run.snap = absorb(run.snap, change.target, result)
    else:
        _es_request(run, change)
    run.done.add(_key(change))


def _send(change: Change, kube: KubeWriter, *, dry: bool, credential: str, on_stale: bool = False) -> Any:
    base = PATHS[change.target.kind].format(ns=change.target.namespace)
    body = _with_credential(change, credential)
    if change.operation is Operation.PATCH and change.target.kind in ("Secret", "ConfigMap"):
        body = _with_precondition(change, body, kube, f"{base}/{change.target.name}")
    try:
        if change.operation is Operation.CREATE:
            return kube.create(base, body, dry_run=dry)
        return kube.patch(f"{base}/{change.target.name}", body, change.patch_type.content_type, dry_run=dry)
    except Exception as e:  # KubeUnavailable (the client's one failure type) or a network error
        reason = redact.scrub_known(str(e))
        status = http_status(e)
        if on_stale and status in (CONFLICT, UNPROCESSABLE):
            raise _Stale(change, reason) from e
        if change.operation is Operation.CREATE and status == CONFLICT and dry:
            return None  # it exists: the apply re-reads it and merges into it
        raise WriteError(f"{change.operation} {change.target.label}: {reason}") from e


def _with_precondition(change: Change, body: Any, kube: KubeWriter, path: str) -> Any:
    """Every Secret/ConfigMap patch is conditional on a resourceVersion (a concurrent edit then
    conflicts instead of being overwritten): a JSON patch starts with a `test` of it, a merge
    patch carries metadata.resourceVersion. The snapshot keeps no Secret body, so when the
    planner had none, the version is read now."""
    if change.patch_type is PatchType.JSON and _guarded(change):
        return body
    if change.patch_type is not PatchType.JSON and (body.get("metadata") or {}).get("resourceVersion"):
        return body
    try:
        current = kube.get(path)
    except Exception as e:
        raise WriteError(f"cannot read {change.target.label}: {redact.scrub_known(str(e))}") from e
    rv = str((current.get("metadata") or {}).get("resourceVersion", ""))
    if change.patch_type is PatchType.JSON:
        return [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}, *body]
    return {**body, "metadata": {**(body.get("metadata") or {}), "resourceVersion": rv}}


def _with_credential(change: Change, credential: str) -> Any:
    if not change.credential_key:
        return change.body
    if not credential:
        raise WriteError(f"{change.target.label}: no API key to store (its creation did not run)")
    data = {**change.body["data"], change.credential_key: credential}
    return {**change.body, "data": data}


def _guard_owner(change: Change, es_names: dict[str, list[str]]) -> None:
    """Refuse ECK-owned objects whatever a planner says: `<es>-es-*` except the Elasticsearch
    resource itself, and the two names ECK reserves for its own remote-cluster automation."""
    target = change.target
    if target.kind == "Elasticsearch":
        return
    if eck.is_eck_owned_name(target.name, es_names.get(target.side, [])):
        raise WriteError(f"refusing to write {target.label}: ECK owns that name")


def _es_request(run: Run, change: Change) -> None:
    client = run.clients.es(change.target.side)
    try:
        answer = client.request(change.method, change.path, change.body, what=change.action)
    except Exception as e:
        lookup = (f"; if it reached Elasticsearch, a key named {change.target.name} exists: GET "
                  f"/_security/api_key?name={change.target.name} on the remote, then invalidate it"
                  if change.produces_api_key else "")
        raise WriteError(
            f"{change.method} {change.path} on the {change.target.side} cluster: "
            f"{redact.scrub_known(str(e))}{lookup}"
        ) from e
    if change.produces_api_key:
        encoded = str((answer or {}).get("encoded", ""))
        if not encoded:
            raise WriteError("the remote answered the API key creation without an `encoded` value")
        redact.remember(encoded)
        redact.remember(str((answer or {}).get("api_key", "")))
        run.new_key = f"{(answer or {}).get('id', '?')} ({(answer or {}).get('name', change.target.name)})"
        run.credential = base64.b64encode(encoded.encode()).decode()
        redact.remember(run.credential)
    if change.path == "/_cluster/settings":
        run.snap = _refresh_settings(run.snap, client)


def _refresh_settings(snap: Snapshot, client: EsWriter) -> Snapshot:
    try:
        settings = client.request(
            "GET", "/_cluster/settings", params={"flat_settings": "true"}, what="settings"
        )
    except Exception:  # noqa: BLE001 - the write worked; the next plan just sees older settings
        return snap
    es = snap.local.es
    if isinstance(es, Unavailable):
        return snap
    return replace(snap, local=replace(snap.local, es=replace(es, settings=settings)))


def _wait_for_address(run: Run) -> None:
    """register-remote needs the exposure's address: poll the remote Services until one has
    it (a load balancer gets its address asynchronously)."""
    kube = run.clients.kube("remote")
    ns, es = eck.namespace(run.snap, "remote"), eck.es_name(run.snap, "remote")
    deadline = time.monotonic() + max(5.0, min(run.options.timeout_wait, 120.0))
    while True:
        try:
            services = kube.list_items(f"/api/v1/namespaces/{ns}/services")
        except Exception as e:
            raise WriteError(f"cannot list the remote Services: {redact.scrub_known(str(e))}") from e
        run.snap = _with_kube(run.snap, "remote", services=services)
        usable = eck.rcs_exposures_of(run.snap, "remote").usable
        if any(e.proxy_address for e in usable):
            return
        _refuse_unknown_node_address(run, usable)
        if time.monotonic() > deadline:
            raise WriteError(
                f"no external address for the remote cluster server of {ns}/{es} yet "
                "(a LoadBalancer without address?): pass --proxy-address HOST:PORT"
            )
        time.sleep(ADDRESS_POLL_SECONDS)


def _refuse_unknown_node_address(run: Run, usable: list[eck.Exposure]) -> None:
    """A NodePort is there at once; without the nodes' addresses waiting gains nothing."""
    node_ports = [e for e in usable if e.kind == "NodePort"]
    if not node_ports:
        return
    kube = eck.kube_of(run.snap, "remote")
    nodes = None if kube is None else kube.nodes
    why = f" ({nodes.reason}; needs {nodes.permission})" if isinstance(nodes, Unavailable) else ""
    raise WriteError(
        f"the remote cluster server is exposed as NodePort {node_ports[0].port}, but the remote's "
        f"node addresses could not be read{why}: pass --proxy-address <node address>:{node_ports[0].port}"
    )


def _reread(run: Run, change: Change) -> None:
    target = change.target
    if not change.is_kube:
        return
    base = PATHS[target.kind].format(ns=target.namespace)
    try:
        obj = run.clients.kube(target.side).get(f"{base}/{target.name}")
    except Exception as e:  # gone or unreadable: plan from what we know
        if http_status(e) != 404:
            raise WriteError(f"cannot re-read {target.label}: {redact.scrub_known(str(e))}") from e
        obj = None
    run.snap = absorb(run.snap, target, obj)


# --- keeping the snapshot in step with our writes -----------------------------------------------


def absorb(snap: Snapshot, target: Target, obj: dict[str, Any] | None) -> Snapshot:
    """The snapshot with `obj` (as the API server returned it; None = gone) in place of the
    object the target names, so the next plan starts from the current state."""
    if obj is not None:
        obj = dict(obj)
        if isinstance(obj.get("metadata"), dict):
            obj["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    kube = eck.kube_of(snap, target.side)
    if kube is None:
        return snap
    if target.kind == "Elasticsearch":
        return _with_kube(snap, target.side, elasticsearch=obj)
    if target.kind == "ConfigMap":
        maps = dict(eck.configmaps(snap, target.side))
        _put(maps, target.name, obj)
        return _with_kube(snap, target.side, configmaps=maps)
    if target.kind == "Secret":
        secrets = dict(kube.secrets) if isinstance(kube.secrets, dict) else {}
        es = eck.resource_of(snap, target.side) or {}
        credentials = eck.credential_keys(es).get(target.name, frozenset())
        _put(secrets, target.name, None if obj is None else redact.summarize_secret(obj, credentials))
        return _with_kube(snap, target.side, secrets=secrets)
    if target.kind == "Service":
        others = [
            s for s in eck.services(snap, target.side) if s.get("metadata", {}).get("name") != target.name
        ]
        return _with_kube(snap, target.side, services=others + ([obj] if obj else []))
    return snap


def _put(table: dict[str, Any], name: str, value: Any) -> None:
    if value is None:
        table.pop(name, None)
    else:
        table[name] = value


def _with_kube(snap: Snapshot, role: str, **fields: Any) -> Snapshot:
    side = eck.side_of(snap, role)
    if side is None or not isinstance(side.kube, KubeState):
        return snap
    new_side = replace(side, kube=replace(side.kube, **fields))
    return replace(snap, local=new_side) if role == "local" else replace(snap, remote=new_side)
