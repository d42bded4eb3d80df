"""The simulated ECK operator: a reconcile loop over the store, like the real one (domain.md §1-§4).

A worker thread is fed by store watch events (Elasticsearch resources, and Secrets/ConfigMaps
of their namespace) and reconciles each `Elasticsearch` into its ECK objects: secrets,
certificates, services, StatefulSets and pods. Pods take config and keystore only when they
(re)start: a change to the rendered config, the podTemplate volumes/mounts or the secure
settings data makes the operator roll the pods one at a time after a short delay (phase
ApplyingChanges, then Ready). Mounted ConfigMap/Secret files follow their objects at once, as
kubelet does. What each pod sees is handed to the environment (`OperatorHooks.publish`), which
feeds the Elasticsearch twin. The operator writes through the `Store` directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tests.twin import eck_config as cfg
from tests.twin.admission import validation_errors
from tests.twin.eck_remote_clusters import RemoteClusters
from tests.twin.eck_resources import EckResources, ReconcileError
from tests.twin.eck_status import EventRecorder, es_status, in_progress_operations, upgrade_nodes
from tests.twin.kube_errors import Conflict, NotFound

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace, es name)
LICENSE_NAMESPACE = "elastic-system"
LICENSE_SCOPE_LABEL = "license.k8s.elastic.co/scope"


@dataclass(frozen=True)
class ClusterInputs:
    """What the Elasticsearch twin of one resource is built from."""

    namespace: str
    name: str
    version: str
    http_ca_pem: bytes
    http_cert_pem: bytes
    http_key_pem: bytes
    elastic_password: str
    license_type: str


@dataclass(frozen=True)
class PodView:
    """What one pod sees: config and keystore loaded at its last start, files as mounted now."""

    pod: str
    nodeset: str
    ip: str
    config: dict[str, Any]
    files: dict[str, bytes]
    keystore: dict[str, str]
    transport_cert_pem: bytes
    transport_key_pem: bytes
    transport_trusted_ca_pems: tuple[bytes, ...]


class OperatorHooks(Protocol):
    def pod_address(self, namespace: str, pod: str) -> str: ...

    def publish(self, cluster: ClusterInputs, pods: list[PodView]) -> None: ...

    def forget(self, namespace: str, name: str) -> None: ...


@dataclass(frozen=True)
class PodRun:
    """A pod's state as of its last (simulated) start."""

    nodeset: str
    config: dict[str, Any]
    keystore: dict[str, str]
    restart_hash: str
    started: str
    files: dict[str, bytes] = field(default_factory=dict)  # what the volumes held at the start


@dataclass
class _Queue:
    items: dict[Any, None] = field(default_factory=dict)  # insertion-ordered set
    restarts: dict[Key, float] = field(default_factory=dict)  # es -> when the next pod restarts
    syncs: dict[Key, float] = field(default_factory=dict)  # es -> when kubelet syncs changed volumes
    busy: bool = False


def admission_error(es_obj: dict[str, Any]) -> str | None:
    """What ECK's validation says about this resource, or None when it admits it."""
    errors = validation_errors(es_obj)
    return errors[0].detail if errors else None


# How long kubelet takes to show a changed ConfigMap/Secret in a pod's volume. Real clusters: up to
# the kubelet sync period (1 min) plus its cache TTL; the twin keeps it short but never zero.
KUBELET_SYNC_DELAY = 0.2


class Operator:
    """One ECK operator for one simulated Kubernetes cluster."""

    def __init__(self, store: Any, hooks: OperatorHooks, eck_version: str = "3.2.0",
                 restart_delay: float = 0.05, clock: Callable[[], str] | None = None,
                 kubelet_sync_delay: float = KUBELET_SYNC_DELAY) -> None:
        self.store = store
        self.hooks = hooks
        self.eck_version = eck_version
        self.restart_delay = restart_delay
        self.kubelet_sync_delay = kubelet_sync_delay
        self._seen: dict[tuple[str, str], dict[str, bytes]] = {}  # (ns, pod) -> files kubelet shows it
        self._changed_since: dict[tuple[str, str], float] = {}  # (ns, pod) -> when its volumes changed
        self.resources = EckResources(store, eck_version, self._event, clock)
        self.events = EventRecorder(store, self.resources.now)
        self.remote_clusters = RemoteClusters(store, hooks, self.resources.apply,
                                              lambda: self._license_type() == "enterprise")
        self.runs: dict[tuple[str, str], PodRun] = {}  # (namespace, pod) -> last start
        self._published: dict[Key, tuple[ClusterInputs, list[PodView]]] = {}
        self._upgrades: dict[Key, list[dict[str, Any]]] = {}  # status.inProgressOperations.upgrade.nodes
        self._queue = _Queue()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="twin-eck-operator", daemon=True)

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.store.watch(self._on_change)
        for es_obj in self.store.list("elasticsearches"):
            self._enqueue((es_obj["metadata"]["namespace"], es_obj["metadata"]["name"]))
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued, running or due to restart; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue.items or self._queue.busy or self._queue.restarts or self._queue.syncs:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopped:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def requeue(self) -> None:
        """Reconcile every Elasticsearch now, as ECK's RequeueAfter does at a CA's rotation time
        (the twin requeues on demand rather than on that timer)."""
        self._enqueue(("*", ""))

    # ---- queue -------------------------------------------------------------------------------

    def _on_change(self, event: str, plural: str, obj: dict[str, Any]) -> None:
        namespace = (obj.get("metadata") or {}).get("namespace") or ""
        if plural == "elasticsearches":
            self._enqueue((namespace, obj["metadata"]["name"]))
        elif plural in ("secrets", "configmaps"):
            self._enqueue(("*", "") if namespace == LICENSE_NAMESPACE else ("ns", namespace))

    def _enqueue(self, item: Any) -> None:
        with self._cond:
            self._queue.items[item] = None
            self._cond.notify_all()

    def _next_item(self) -> Any:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                due = [k for k, when in self._queue.restarts.items() if when <= now]
                for key in due:
                    del self._queue.restarts[key]
                    self._queue.items[("restart", key)] = None
                for key in [k for k, when in self._queue.syncs.items() if when <= now]:
                    del self._queue.syncs[key]
                    self._queue.items[key] = None
                if self._queue.items:
                    item = next(iter(self._queue.items))
                    del self._queue.items[item]
                    self._queue.busy = True
                    return item
                waits = [when - now for when in (*self._queue.restarts.values(), *self._queue.syncs.values())]
                self._cond.wait(min(waits) if waits else 0.5)
            return None

    def _loop(self) -> None:
        while True:
            item = self._next_item()
            if item is None:
                return
            try:
                self._handle(item)
            except Exception:  # a reconcile error must not kill the operator, as in ECK
                log.exception("reconcile of %s failed", item)
            finally:
                with self._cond:
                    self._queue.busy = False
                    self._cond.notify_all()

    def _handle(self, item: Any) -> None:
        if item[0] == "restart":
            self.reconcile(item[1][0], item[1][1], restart_due=True)
            return
        if item[0] in ("*", "ns"):
            namespace = None if item[0] == "*" else item[1]
            for es_obj in self.store.list("elasticsearches", namespace):
                self.reconcile(es_obj["metadata"]["namespace"], es_obj["metadata"]["name"])
            return
        self.reconcile(*item)

    # ---- reconcile ---------------------------------------------------------------------------

    def reconcile(self, namespace: str, name: str, restart_due: bool = False) -> None:
        try:
            es_obj = self.store.get("elasticsearches", namespace, name)
        except NotFound:
            self._forget(namespace, name)
            return
        annotations = es_obj["metadata"].get("annotations") or {}
        if annotations.get("eck.k8s.elastic.co/managed") == "false":
            return  # ECK's documented way to pause reconciliation
        invalid = admission_error(es_obj)
        if invalid:
            self._event(es_obj, "Warning", "Validation", invalid)
            self._set_status(es_obj, phase="Invalid", error=invalid)
            return
        try:
            desired = self.resources.reconcile(es_obj, self.hooks.pod_address)
        except ReconcileError as err:
            self._event(es_obj, "Warning", "ReconciliationError", f"Reconciliation error: {err}")
            self._set_status(es_obj, phase=None, error=str(err))
            return
        pending = self._roll(es_obj, desired, restart_due)
        self.resources.write_sts_status(namespace, desired.pods,
                                        lambda pod: self._running_hash(namespace, pod))
        self._publish(es_obj, desired)
        self.remote_clusters.reconcile(es_obj)  # spec.remoteClusters, once the API can answer
        running = sum(1 for p in desired.pods if (namespace, p.pod) in self.runs)
        self._set_status(es_obj, phase="ApplyingChanges" if pending else "Ready", error=None,
                         nodes=(running, len(desired.pods)))

    def _roll(self, es_obj: dict[str, Any], desired: Any, restart_due: bool) -> bool:
        """Start new pods at once; restart one outdated pod per `restart_delay`. True if any is outdated."""
        namespace = es_obj["metadata"]["namespace"]
        key = (namespace, es_obj["metadata"]["name"])
        outdated = []
        pending = False
        for plan in desired.pods:
            run = self.runs.get((namespace, plan.pod))
            if run is None:
                pending = not self._start_pod(namespace, plan) or pending
            elif run.restart_hash != plan.restart_hash:
                outdated.append(plan)
        blocked = _restarts_blocked(es_obj)
        deleting = outdated[0].pod if restart_due and outdated and not (blocked or pending) else ""
        self._upgrades[key] = upgrade_nodes([p.pod for p in outdated], blocked, deleting)
        if not outdated:
            return pending
        if blocked or pending:
            return True  # ECK takes no pod down beyond the change budget, nor while one is not ready
        if restart_due:
            self._start_pod(namespace, outdated.pop(0))
        if outdated:
            with self._cond:
                self._queue.restarts.setdefault(key, time.monotonic() + self.restart_delay)
                self._cond.notify_all()
            return True
        return False

    def _running_hash(self, namespace: str, pod: str) -> str:
        run = self.runs.get((namespace, pod))
        return run.restart_hash if run else ""

    def _start_pod(self, namespace: str, plan: Any) -> bool:
        """(Re)start a pod; False when it cannot start (stays in ContainerCreating)."""
        if plan.blocked:
            self.runs.pop((namespace, plan.pod), None)
            self.resources.write_pending_pod(namespace, plan)
            return False
        started = self.resources.now()
        self.runs[(namespace, plan.pod)] = PodRun(plan.nodeset, plan.config, dict(plan.keystore),
                                                  plan.restart_hash, started, dict(plan.files))
        self._seen[(namespace, plan.pod)] = dict(plan.files)
        self._changed_since.pop((namespace, plan.pod), None)
        self.resources.write_pod(namespace, plan, started)
        return True

    def _publish(self, es_obj: dict[str, Any], desired: Any) -> None:
        namespace = es_obj["metadata"]["namespace"]
        views = []
        for plan in desired.pods:
            run = self.runs.get((namespace, plan.pod))
            if run is None:
                continue  # not running: no Elasticsearch node
            views.append(PodView(
                pod=plan.pod, nodeset=plan.nodeset, ip=plan.ip,
                config=cfg.resolve_env(run.config, plan.env), files=self._kubelet_files(es_obj, plan, run),
                keystore=run.keystore,
                transport_cert_pem=plan.cert_pem, transport_key_pem=plan.key_pem,
                transport_trusted_ca_pems=plan.trusted_ca_pems,
            ))
        self._schedule_sync(es_obj, [v.pod for v in views])
        cluster = ClusterInputs(namespace, es_obj["metadata"]["name"], desired.version, desired.http_ca_pem,
                                desired.http_cert_pem, desired.http_key_pem, desired.password,
                                self._license_type())
        key = (namespace, es_obj["metadata"]["name"])
        if self._published.get(key) == (cluster, views):
            return
        self._published[key] = (cluster, views)
        self.hooks.publish(cluster, views)

    def _kubelet_files(self, es_obj: dict[str, Any], plan: Any, run: PodRun) -> dict[str, bytes]:
        """The files the pod sees: a changed ConfigMap/Secret only after kubelet's sync delay, and
        a file mounted with subPath as it was when the container started, for ever."""
        key = (es_obj["metadata"]["namespace"], plan.pod)
        wanted = {path: data for path, data in plan.files.items() if path not in plan.sub_path_files}
        wanted.update({path: run.files[path] for path in plan.sub_path_files if path in run.files})
        seen = self._seen.setdefault(key, dict(run.files))
        if wanted == seen:
            self._changed_since.pop(key, None)
            return seen
        now = time.monotonic()
        due = self._changed_since.setdefault(key, now) + self.kubelet_sync_delay
        if now >= due:
            self._seen[key] = wanted
            self._changed_since.pop(key, None)
            return wanted
        return seen

    def _schedule_sync(self, es_obj: dict[str, Any], pods: list[str]) -> None:
        """Reconcile again when the first pending volume change of these pods is due (kubelet)."""
        namespace = es_obj["metadata"]["namespace"]
        since = [self._changed_since[(namespace, p)] for p in pods if (namespace, p) in self._changed_since]
        with self._cond:
            key = (namespace, es_obj["metadata"]["name"])
            if since:
                self._queue.syncs[key] = min(since) + self.kubelet_sync_delay
            else:
                self._queue.syncs.pop(key, None)
            self._cond.notify_all()

    def _license_type(self) -> str:
        """enterprise when an operator-scoped license secret is installed (as with ECK), else basic."""
        licenses = self.store.list("secrets", LICENSE_NAMESPACE, f"{LICENSE_SCOPE_LABEL}=operator")
        return "enterprise" if licenses else "basic"

    def _forget(self, namespace: str, name: str) -> None:
        if self._published.pop((namespace, name), None) is not None:
            self.hooks.forget(namespace, name)
        prefix = f"{name}-es-"
        for key in [k for k in self.runs if k[0] == namespace and k[1].startswith(prefix)]:
            del self.runs[key]
            self._seen.pop(key, None)
            self._changed_since.pop(key, None)

    # ---- status and events -------------------------------------------------------------------

    def _set_status(self, es_obj: dict[str, Any], phase: str | None, error: str | None,
                    nodes: tuple[int, int] | None = None) -> None:
        """`nodes`: (running, wanted) pods, when the reconcile got that far."""
        for _ in range(5):
            current = self.store.get("elasticsearches", es_obj["metadata"]["namespace"],
                                     es_obj["metadata"]["name"])
            status = dict(current.get("status") or {})
            new = es_status(current, status, phase, error, nodes, self.resources.now())
            key = (current["metadata"]["namespace"], current["metadata"]["name"])
            new["inProgressOperations"] = in_progress_operations(status, self._upgrades.get(key, []),
                                                                 self.resources.now())
            if new == status:
                return
            current["status"] = new
            try:
                self.store.update("elasticsearches", current, subresource="status")
                return
            except Conflict:
                continue

    def _event(self, es_obj: dict[str, Any], event_type: str, reason: str, message: str) -> None:
        self.events.record(es_obj, event_type, reason, message)


def _restarts_blocked(es_obj: dict[str, Any]) -> bool:
    budget = ((es_obj.get("spec") or {}).get("updateStrategy") or {}).get("changeBudget") or {}
    return budget.get("maxUnavailable") == 0
