"""What parallel test workers share: scripts/test runs the suite in several pytest-xdist
workers, and a costly artefact (the binary, the wheel) must be made once, not once per worker."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def in_a_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


@contextlib.contextmanager
def one_worker_at_a_time(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[None]:
    """Serialise a block across the parallel workers of one test session (scripts/test runs
    several): the lock file lives in the session's base directory, which all workers share."""
    if not in_a_worker():
        yield
        return
    import fcntl  # POSIX only, like the parallel run itself

    lock_path = tmp_path_factory.getbasetemp().parent / f"{name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """`make(directory)` once per test session, whichever worker asks first; the others wait
    and share the result. A failed `make` leaves nothing behind, so the next asker retries."""
    with one_worker_at_a_time(tmp_path_factory, name):
        root = tmp_path_factory.getbasetemp()
        if in_a_worker():
            root = root.parent
        directory = root / name
        if not (directory / ".made").is_file():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            try:
                make(directory)
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            (directory / ".made").touch()
        return directory
