"""The one exception a collector read raises: it carries the `Unavailable` to store."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from kubectl_eckrc.snapshot import Unavailable

T = TypeVar("T")


class ReadFailed(Exception):
    """`status` is the HTTP status of a refused request, 0 when there was no HTTP answer."""

    def __init__(self, unavailable: Unavailable, status: int = 0) -> None:
        super().__init__(unavailable.reason)
        self.unavailable = unavailable
        self.status = status


def http_status(error: BaseException) -> int:
    """The HTTP status a failed request got, 0 when it got none (network, timeout, bug)."""
    return error.status if isinstance(error, ReadFailed) else 0


def attempt(fn: Callable[[], T]) -> T | Unavailable:
    """Run one read; its failure becomes the Unavailable the snapshot stores."""
    try:
        return fn()
    except ReadFailed as e:
        return e.unavailable


def parallel(calls: dict[str, Callable[[], Any]], max_workers: int = 16,
             thread_name: str = "eckrc-read") -> dict[str, Any]:
    """Run independent reads at once; each bounds itself with its own timeout."""
    if not calls:
        return {}
    with ThreadPoolExecutor(max_workers=min(max_workers, len(calls)), thread_name_prefix=thread_name) as pool:
        futures = {name: pool.submit(attempt, fn) for name, fn in calls.items()}
        return {name: f.result() for name, f in futures.items()}
