"""The fleet's shared Kubernetes reads: one answer per question for every caller."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from kubectl_eckrc.collect.shared_kube import SharedKube


def test_a_read_that_fails_unexpectedly_fails_every_caller_instead_of_leaving_them_waiting() -> None:
    shared = SimpleNamespace(_lock=threading.Lock(), _answers={})

    def garbage() -> None:
        raise ValueError("the answer is not JSON")

    with pytest.raises(ValueError):
        SharedKube._once(shared, ("list", "/api/v1/pods"), garbage)  # type: ignore[arg-type]
    assert shared._answers[("list", "/api/v1/pods")].done()  # a later caller gets it at once
    with pytest.raises(ValueError):
        SharedKube._once(shared, ("list", "/api/v1/pods"), lambda: [])  # type: ignore[arg-type]


def test_the_first_answer_serves_every_later_caller() -> None:
    shared = SimpleNamespace(_lock=threading.Lock(), _answers={})
    assert SharedKube._once(shared, ("version",), lambda: "v1.31") == "v1.31"  # type: ignore[arg-type]
    assert SharedKube._once(shared, ("version",), lambda: "other") == "v1.31"  # type: ignore[arg-type]
