"""One context's Kubernetes reads, shared by every Elasticsearch of a fleet run.

A fleet run reads tens of Elasticsearch resources through the same API server. `SharedKube`
answers the single-link reads of `kube_side.py` from one list per resource kind (across
namespaces), and asks each other question (an object, an access review, /version) once: the
per-link collection stays what it is, and the API server sees one list per kind, not one per
Elasticsearch. Where listing across namespaces is forbidden, the namespace's own list is used
(once per namespace).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from kubectl_eckrc.collect.kube import ES_GROUP, ES_RESOURCE, KubeClient, KubeUnavailable
from kubectl_eckrc.kubeconfig import ResolvedContext

POOL_SIZE = 64


class SharedKube(KubeClient):
    """A KubeClient whose reads are made once per run; `close()` is left to the fleet."""

    def __init__(self, resolved: ResolvedContext, timeout: float) -> None:
        super().__init__(resolved, timeout)
        # Many clusters read at once through one client: keep their connections (and TLS
        # sessions) for reuse instead of opening and dropping one per request past the default.
        self.api.rest_client.pool_manager.connection_pool_kw["maxsize"] = POOL_SIZE
        self._lock = threading.Lock()
        self._answers: dict[tuple[Any, ...], Future[Any]] = {}

    def _once(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        """The answer (or the failure) of the first call with this key, for every caller."""
        with self._lock:
            future = self._answers.get(key)
            owner = future is None
            if future is None:
                future = self._answers[key] = Future()
        if owner:
            try:
                future.set_result(read())
            except BaseException as e:  # every waiter gets the failure, not an endless wait
                future.set_exception(e)
        return future.result()

    def close(self) -> None:
        """Sessions close their client when done; the fleet's client outlives them."""

    def shutdown(self) -> None:
        super().close()

    # --- lists across namespaces --------------------------------------------------------------

    def _all(self, path: str, selector: str | None, what: str) -> list[dict[str, Any]]:
        items = self._once(("list", path, selector), lambda: self.list_items(
            path, selector, what=f"list {what} (all namespaces)", permission=f"list {what} (all namespaces)"))
        return list(items)

    def _in_namespace(self, group_path: str, resource: str, namespace: str,
                      selector: str | None) -> list[Any]:
        """Filtered from the list across namespaces; the namespace's own list when that is refused."""
        key, _, _ = (selector or "").partition("=")
        try:
            items = self._all(f"{group_path}/{resource}", key or None, resource)
        except KubeUnavailable as e:
            if e.unavailable.kind != "forbidden":
                raise
            return list(self._once(("ns-list", group_path, resource, namespace, key), lambda: super(
                SharedKube, self).core_list(resource, namespace, key or None, group_path)))
        return [i for i in items if (i.get("metadata") or {}).get("namespace") == namespace]

    def core_list(self, resource: str, namespace: str, label_selector: str | None = None,
                  group_path: str = "/api/v1") -> list[dict[str, Any]]:
        items = self._in_namespace(group_path, resource, namespace, label_selector)
        key, sep, value = (label_selector or "").partition("=")
        if sep:
            items = [i for i in items if ((i.get("metadata") or {}).get("labels") or {}).get(key) == value]
        for item in items:
            (item.get("metadata") or {}).pop("managedFields", None)
        return items

    def elasticsearches(self, namespace: str | None) -> list[dict[str, Any]]:
        """Every Elasticsearch of the context (namespace None) or of one namespace."""
        if namespace is None:
            return self._all(f"/apis/{ES_GROUP}/v1/elasticsearches", None, ES_RESOURCE)
        return self._in_namespace(f"/apis/{ES_GROUP}/v1", "elasticsearches", namespace, None)

    def elasticsearch_names(self, namespace: str) -> list[str]:
        return sorted(str(i["metadata"]["name"]) for i in self.elasticsearches(namespace))

    def elasticsearch(self, namespace: str, name: str) -> dict[str, Any]:
        for item in self.elasticsearches(namespace):
            if item["metadata"]["name"] == name:
                (item.get("metadata") or {}).pop("managedFields", None)
                return dict(item)
        return super().elasticsearch(namespace, name)  # the API's own 404

    # --- single questions ---------------------------------------------------------------------

    def server_version(self) -> dict[str, Any]:
        return dict(self._once(("version",), super().server_version))

    def crd_summary(self) -> dict[str, Any]:
        return dict(self._once(("crd",), super().crd_summary))

    def can_i(self, verb: str, resource: str, namespace: str, group: str = "", subresource: str = "") -> bool:
        return bool(self._once(("can-i", verb, resource, namespace, group, subresource),
                               lambda: super(SharedKube, self).can_i(verb, resource, namespace, group,
                                                                     subresource)))

    def configmap(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(self._once(("cm", namespace, name),
                               lambda: super(SharedKube, self).configmap(namespace, name)))

    def _secret(self, namespace: str, name: str) -> dict[str, Any]:
        # held in memory for the run only, as a single-link run holds it
        return dict(self._once(("secret", namespace, name),
                               lambda: super(SharedKube, self)._secret(namespace, name)))
