"""Fixtures shared by the link tests: a running remote cluster and a stop-list for what they start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.twin import es_testkit as kit


@pytest.fixture
def remote() -> Iterator[kit.Side]:
    side = kit.make_side("search", "search", rcs=True, addresses=kit.ALLOC, key_base=0)
    yield side
    side.cluster.stop()


@pytest.fixture
def cleanup() -> Iterator[list[Any]]:
    things: list[Any] = []
    yield things
    for thing in reversed(things):
        thing.stop()
