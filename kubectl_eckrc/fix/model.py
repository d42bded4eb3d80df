"""The records fix passes between its layers: a Change, the Plan of changes, the Outcome of an
action. Pure data: planners build them, render.py shows them, apply.py carries them out.

Nothing here imports a planner, a client or a collector, so every layer can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Operation(StrEnum):
    CREATE = "create"  # a Kubernetes object that does not exist yet
    PATCH = "patch"  # a Kubernetes object that exists
    ES_REQUEST = "es-request"  # an Elasticsearch REST request


class PatchType(StrEnum):
    """Never strategic merge: custom resources refuse it."""

    NONE = ""  # not a patch
    JSON = "json"  # RFC 6902, every patch of an existing object starts with a resourceVersion test
    MERGE = "merge"  # RFC 7386, single keys of core kinds (a Secret's one data key)

    @property
    def content_type(self) -> str:
        return {PatchType.JSON: "application/json-patch+json",
                PatchType.MERGE: "application/merge-patch+json"}[self]


class Restart(StrEnum):
    """Whose pods roll once the change is stored."""

    NONE = ""
    LOCAL = "local"
    REMOTE = "remote"


class Deferred(StrEnum):
    """A value only known after earlier changes took effect."""

    NONE = ""
    PROXY_ADDRESS = "proxy-address"


@dataclass(frozen=True)
class Target:
    """The object a change writes."""

    side: str  # local | remote
    kind: str  # ConfigMap | Secret | Service | Elasticsearch | ClusterSettings | CrossClusterApiKey
    namespace: str
    name: str

    @property
    def label(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True)
class Change:
    """One write. `body` is the object (create), the patch (patch) or the request body
    (es-request). Placeholders resolved by apply.py: `credential_key` names the Secret data key
    that receives the API key created by an earlier es-request of the same action."""

    action: str
    target: Target
    operation: Operation
    summary: str
    diff: str
    restarts: Restart = Restart.NONE
    body: Any = None
    patch_type: PatchType = PatchType.NONE
    method: str = ""  # es-request: HTTP method
    path: str = ""  # es-request: path
    credential_key: str = ""
    produces_api_key: bool = False
    deferred: Deferred = Deferred.NONE

    @property
    def is_kube(self) -> bool:
        return self.operation in (Operation.CREATE, Operation.PATCH)


@dataclass(frozen=True)
class Blocker:
    """A failing finding no action repairs, with what a person must do."""

    finding_id: str
    message: str
    todo: str


@dataclass(frozen=True)
class Plan:
    alias: str
    local: str  # "context namespace/es"
    remote: str
    actions: tuple[str, ...]  # actions the findings call for, in order
    changes: tuple[Change, ...]
    blockers: tuple[Blocker, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def restarts(self) -> tuple[Restart, ...]:
        return tuple(sorted({c.restarts for c in self.changes if c.restarts}))


class OutcomeStatus(StrEnum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    NOT_RUN = "not run"


@dataclass
class Outcome:
    """What became of one action during apply."""

    action: str
    changed: bool = False
    objects: list[str] = field(default_factory=list)  # "Kind ns/name" written (or requested)
    status: OutcomeStatus = OutcomeStatus.NOT_RUN
    message: str = ""


@dataclass(frozen=True)
class DryRun:
    accepted: int
    rejected: tuple[tuple[str, str], ...]  # (object label, reason)
