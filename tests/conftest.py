"""Fixtures for the whole suite: the twin scenarios and the session key pool."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.twin.scenarios import RunningScenario

TwinFactory = Callable[[str], "RunningScenario"]
# The whole pool: the cycling keys (CAs, leaves, API servers) and the extra ones hand-made CAs use.
_WARM_KEYS = 36


def _warm_pool() -> None:
    from tests.twin import pki

    for index in range(_WARM_KEYS):
        pki.pooled_key(index)


# Fixtures that build something for a minute: the tests using them run first.
BUILDERS = ("binary_dir", "built")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that need a build first. Parallel workers start on consecutive slices of
    the collection, so one worker takes all of them and builds while the others test, instead
    of several workers meeting the build later and waiting for it."""
    items.sort(key=lambda item: not any(name in BUILDERS for name in getattr(item, "fixturenames", ())))


@pytest.fixture(scope="session", autouse=True)
def twin_key_pool() -> Iterator[None]:
    """Generate the RSA key pool in the background from the first test on: key generation, not
    sockets, dominates scenario start-up, and most tests never wait for it."""
    thread = threading.Thread(target=_warm_pool, name="twin-key-pool", daemon=True)
    thread.start()
    yield
    thread.join(timeout=0)


@pytest.fixture
def twin() -> Iterator[TwinFactory]:
    """`twin("stale-ca")` starts that scenario; every scenario started is stopped at teardown."""
    from tests.twin.scenarios import start_scenario

    started: list[RunningScenario] = []

    def start(name: str) -> RunningScenario:
        running = start_scenario(name)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
