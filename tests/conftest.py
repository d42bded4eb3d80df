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


# Fixtures that build something for minutes (the frozen binary, the wheel).
BUILDERS = ("binary_dir", "built")
# Modules whose tests take longest, longest per test first (`--durations`, 4 workers): they start
# before the short ones, so the run does not end with one worker alone on a long test while
# the others are idle. Tests of other modules that start a twin come next, then everything else.
LONGEST_FIRST = (
    "tests/test_secrets_live.py",
    "tests/test_fix_live.py",
    "tests/test_collect_live.py",
    "tests/test_user_path_live.py",
    "tests/test_fleet_live.py",
    "tests/test_doctor_live.py",
    "tests/packaging/test_binary.py",
    "tests/collect/test_hostile_input.py",
    "tests/twin/test_scenarios.py",
)


def _needs_a_build(item: pytest.Item) -> bool:
    return any(name in BUILDERS for name in getattr(item, "fixturenames", ()))


def _rank(item: pytest.Item) -> int:
    module = item.nodeid.split("::")[0]
    if module in LONGEST_FIRST:
        return LONGEST_FIRST.index(module)
    if "twin" in getattr(item, "fixturenames", ()):
        return len(LONGEST_FIRST)
    return len(LONGEST_FIRST) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest first, for scripts/test's workers, which take one test at a time
    (--maxschedchunk 1). The first two tests that need a build open the run: the first worker
    takes both (a worker holds two tests) and builds while the others test; the other tests that
    need a build come after the live modules, when the build is done, instead of several
    workers meeting it early and waiting for it. Each module's tests stay in order, together."""
    builders = [item for item in items if _needs_a_build(item)]
    opening = builders[:2]
    rest = [item for item in items if item not in opening]
    rest.sort(key=_rank)
    items[:] = opening + rest


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
