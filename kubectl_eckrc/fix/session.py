"""Clients for fix: the snapshot comes from the same collector as doctor; Kubernetes writes
go through one `KubeClient` per side; Elasticsearch writes through sessions opened with the
live collector's own session helpers (`collect.side`).

Elasticsearch writes go through `ReconnectingEs`: a fix rolls pods, and a port-forward bound
to a pod that is being replaced must not fail the step, so an unreachable cluster gets a
fresh session (a currently ready pod) until a deadline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from kubectl_eckrc.collect import live, side
from kubectl_eckrc.collect.es import EsUnavailable
from kubectl_eckrc.collect.kube import KubeClient
from kubectl_eckrc.fix.apply import Clients
from kubectl_eckrc.kubeconfig import resolve
from kubectl_eckrc.options import Scope, SideTarget
from kubectl_eckrc.snapshot import Snapshot

RECONNECT_SECONDS = 90.0
RETRY_PAUSE = 1.0


@dataclass
class Sessions:
    """The Kubernetes clients fix writes through (one per side)."""

    scope: Scope
    local_kube: KubeClient
    remote_kube: KubeClient | None
    debug: bool

    def clients(self) -> Clients:
        return Clients(
            local_kube=self.local_kube,
            remote_kube=self.remote_kube,
            local_es=ReconnectingEs("local", self.scope.local, self.scope.timeout, self.debug),
            remote_es=None
            if self.scope.remote is None
            else ReconnectingEs("remote", self.scope.remote, self.scope.timeout, self.debug),
        )

    def close(self) -> None:
        self.local_kube.close()
        if self.remote_kube is not None:
            self.remote_kube.close()


def open_and_collect(scope: Scope, debug: bool) -> tuple[Snapshot, Sessions]:
    """The same snapshot `doctor` takes, plus a Kubernetes client per side for the writes."""
    snap = live.collect_live(scope, debug=debug)
    local = KubeClient(resolve(scope.local), scope.timeout)
    remote = KubeClient(resolve(scope.remote, "remote-"), scope.timeout) if scope.remote else None
    return snap, Sessions(scope, local, remote, debug)


def collect(scope: Scope, debug: bool) -> Snapshot:
    return live.collect_live(scope, debug=debug)


class ReconnectingEs:
    """One side's Elasticsearch for writes; reconnects while pods roll."""

    def __init__(self, role: str, target: SideTarget, timeout: float, debug: bool) -> None:
        self.role, self.target, self.timeout, self.debug = role, target, timeout, debug

    def request(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None, what: str = ""
    ) -> Any:
        deadline = time.monotonic() + RECONNECT_SECONDS
        # POST (creating a cross-cluster API key) is not idempotent: once sent, never retried,
        # as a lost answer may hide a created key and a retry would create a second one
        once = method == "POST"
        while True:
            sent = False
            session = side.open_side(self.role, self.target, self.timeout, self.debug)
            try:
                side.read_kube(session)
                side.connect_es(session)
                if session.es_client is None:
                    reason = session.es_failure.reason if session.es_failure else "not reachable"
                    raise ConnectionError(f"{self.role} Elasticsearch: {reason}")
                sent = True
                return session.es_client.request(method, path, body, params, what)
            except EsUnavailable as e:
                if once and sent:
                    raise EsUnavailable(replace(e.unavailable, reason=(
                        f"{e.unavailable.reason}; not retried: the request may have reached Elasticsearch, "
                        "and sending it again could create a second key"))) from e
                if e.unavailable.kind != "unreachable" or time.monotonic() > deadline:
                    raise
            except ConnectionError:
                if once and sent or time.monotonic() > deadline:
                    raise
            finally:
                session.close()
            time.sleep(RETRY_PAUSE)
