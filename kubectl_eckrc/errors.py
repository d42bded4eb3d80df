"""One exception family for every user-facing error: a message and an exit code."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FINDINGS = 1  # error-severity findings
EXIT_USAGE = 2  # usage or configuration error (bad flag, malformed kubeconfig, bad bundle)
EXIT_UNEVALUATED = 3  # could not evaluate: cluster or API unreachable, forbidden


class EckrcError(Exception):
    """An error the user can act on. `cli.main` prints `error: <message>` on one stderr line
    and exits with `exit_code`; a traceback only with --debug."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(EckrcError):
    exit_code = EXIT_USAGE


class AccessError(EckrcError):
    """A cluster or API could not be reached or refused us."""

    exit_code = EXIT_UNEVALUATED


class FleetBundle(Exception):  # noqa: N818 - not an error: the caller reads the bundle as a fleet
    """A bundle turned out to hold a fleet (collect -A); it carries the fleet (a
    `fleet.FleetSnapshot`), read in the same opening of the file."""

    def __init__(self, fleet: Any) -> None:
        super().__init__("a fleet bundle")
        self.fleet = fleet
