"""Shared helpers for the fix unit tests: options for the builder's link."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kubectl_eckrc.options import FixOptions, Scope, SideTarget
from tests.snapshot_builder import ALIAS


def fix_options(**kw: object) -> FixOptions:
    local = SideTarget(None, "prod-a", "logging", "local-es")
    remote = SideTarget(None, "prod-b", "search", "remote-es")
    options = FixOptions(scope=Scope(local=local, remote=remote, alias=ALIAS))
    return replace(options, **kw)  # type: ignore[arg-type]


@pytest.fixture
def options() -> FixOptions:
    return fix_options()
