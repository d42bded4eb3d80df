"""In-process stand-ins for fix's clients: the twin's object store behind the KubeWriter
protocol (real patch, dry-run and conflict semantics, no sockets), and a recording ES."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from kubectl_eckrc.collect.failures import ReadFailed
from kubectl_eckrc.fix.apply import Clients
from kubectl_eckrc.snapshot import Unavailable
from tests.twin.kube_errors import KubeError
from tests.twin.kube_store import Store


class ApiFailure(ReadFailed):
    """Shaped like the product's KubeUnavailable: the Unavailable to store and the HTTP status."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(Unavailable(message), status)


class StoreKube:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.writes: list[tuple[str, str, bool]] = []  # (verb, path, dry_run)

    @staticmethod
    def _split(path: str) -> tuple[str, str, str | None]:
        parts = path.strip("/").split("/")
        i = parts.index("namespaces")
        return parts[i + 2], parts[i + 1], parts[i + 3] if len(parts) > i + 3 else None

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except KubeError as e:
            raise ApiFailure(f"{e.code} from the Kubernetes API: {e.message}", e.code) from e

    def get(
        self, path: str, query: dict[str, str] | None = None, what: str = "", permission: str = ""
    ) -> Any:
        plural, ns, name = self._split(path)
        return self._call(lambda: self.store.get(plural, ns, name or ""))

    def list_items(
        self, path: str, label_selector: str | None = None, what: str = "", permission: str = ""
    ) -> list[dict[str, Any]]:
        plural, ns, _ = self._split(path)
        return list(self._call(lambda: self.store.list(plural, ns)))

    def create(self, path: str, body: dict[str, Any], dry_run: bool = False) -> Any:
        plural, _, _ = self._split(path)
        self.writes.append(("create", path, dry_run))
        return self._call(lambda: self.store.create(plural, copy.deepcopy(body), dry_run=dry_run))

    def patch(
        self,
        path: str,
        body: Any,
        content_type: str,
        dry_run: bool = False,
        field_manager: str = "kubectl-eckrc",
    ) -> Any:
        plural, ns, name = self._split(path)
        self.writes.append(("patch", path, dry_run))
        return self._call(
            lambda: self.store.patch(
                plural, ns, name or "", content_type, copy.deepcopy(body), dry_run=dry_run
            )
        )


class RecordingEs:
    def __init__(self, fail_on: str = "") -> None:
        self.requests: list[tuple[str, str, Any]] = []
        self.fail_on = fail_on
        self.settings: dict[str, Any] = {"persistent": {}, "transient": {}}

    def request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None, what: str = ""
    ) -> Any:
        if self.fail_on and self.fail_on in f"{method} {path}":
            raise ApiFailure(f"500 on {method} {path}: injected failure", 500)
        self.requests.append((method, path, body))
        if path == "/_security/cross_cluster/api_key":
            return {
                "id": "new-id",
                "name": body["name"],
                "api_key": "s3cr3t-api-key-value",
                "encoded": "bmV3LWlkOnMzY3IzdC1hcGkta2V5LXZhbHVl",
            }
        if method == "PUT" and path == "/_cluster/settings":
            for scope in ("persistent", "transient"):
                for k, v in (body.get(scope) or {}).items():
                    if v is None:
                        self.settings[scope].pop(k, None)
                    else:
                        self.settings[scope][k] = v
            return {"acknowledged": True}
        if path == "/_cluster/settings":
            return copy.deepcopy(self.settings)
        return {}


def clients(local: StoreKube, remote: StoreKube, local_es: RecordingEs, remote_es: RecordingEs) -> Clients:
    return Clients(local_kube=local, remote_kube=remote, local_es=local_es, remote_es=remote_es)
