"""In-memory Elasticsearch node logs, rendered like a real ECK pod prints them.

ECK's Elasticsearch containers log ECS JSON lines to stdout; the classic
`[time][LEVEL][logger] [node] message` form (what the docs quote) is available too.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import threading
from dataclasses import dataclass

MAX_EVENTS = 5000


@dataclass(frozen=True)
class LogEvent:
    timestamp: dt.datetime
    level: str
    logger: str
    node: str
    message: str
    exception: tuple[str, ...] = ()

    def plain(self) -> str:
        stamp = self.timestamp.strftime("%Y-%m-%dT%H:%M:%S,") + f"{self.timestamp.microsecond // 1000:03d}"
        head = f"[{stamp}][{self.level:<5}][{_abbreviate(self.logger)}] [{self.node}] {self.message}"
        return "\n".join([head, *self.exception])

    def ecs(self, cluster_name: str, cluster_uuid: str) -> str:
        record: dict[str, str] = {
            "@timestamp": self.timestamp.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{self.timestamp.microsecond // 1000:03d}Z",
            "log.level": self.level,
            "message": self.message,
            "ecs.version": "1.2.0",
            "service.name": "ES_ECS",
            "event.dataset": "elasticsearch.server",
            "process.thread.name": "elasticsearch[" + self.node + "][generic][T#1]",
            "log.logger": self.logger,
            "elasticsearch.cluster.uuid": cluster_uuid,
            "elasticsearch.node.name": self.node,
            "elasticsearch.cluster.name": cluster_name,
        }
        if self.exception:
            error_type, _, error_message = self.exception[0].partition(": ")
            record.update(
                {
                    "error.type": error_type,
                    "error.message": error_message,
                    "error.stack_trace": "\n".join(self.exception),
                }
            )
        return json.dumps(record, separators=(",", ":"))


def _abbreviate(logger: str) -> str:
    parts = logger.split(".")
    return ".".join([p[0] for p in parts[:-1]] + parts[-1:])


class PodLog:
    """The bounded log of one pod (one Elasticsearch node)."""

    def __init__(self, node: str) -> None:
        self.node = node
        self._events: collections.deque[LogEvent] = collections.deque(maxlen=MAX_EVENTS)
        self._lock = threading.Lock()

    def log(self, level: str, logger: str, message: str, exception: tuple[str, ...] = ()) -> None:
        event = LogEvent(dt.datetime.now(dt.UTC), level, logger, self.node, message, exception)
        with self._lock:
            self._events.append(event)

    def events(self) -> list[LogEvent]:
        with self._lock:
            return list(self._events)

    def render(self, cluster_name: str, cluster_uuid: str, fmt: str = "json") -> str:
        events = self.events()
        if fmt == "plain":
            return "".join(e.plain() + "\n" for e in events)
        return "".join(e.ecs(cluster_name, cluster_uuid) + "\n" for e in events)
