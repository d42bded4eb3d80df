"""`kubectl eckrc doctor`: collect (live or from a bundle), check, render; exit from findings.

The imports inside functions are for start-up time, not cycles: a bundle run never imports
the cluster clients, and the engine and renderer are imported (see `_prewarm`) while the live
collection waits on the network.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from dataclasses import replace

from kubectl_eckrc import suppress
from kubectl_eckrc.commandline import with_fix_commands
from kubectl_eckrc.errors import FleetBundle, UsageError
from kubectl_eckrc.findings import Report
from kubectl_eckrc.options import DoctorOptions
from kubectl_eckrc.output import log, use_color, use_unicode, write_document
from kubectl_eckrc.snapshot import Snapshot
from kubectl_eckrc.suppress import Ignore


def load(options: DoctorOptions) -> Snapshot:
    """The snapshot to diagnose: a bundle when one is given, else the live clusters."""
    if options.bundle:
        from kubectl_eckrc.collect.bundle import load_snapshot

        return load_snapshot(options.bundle, options.remote_bundle, options.scope)
    from kubectl_eckrc.checks.engine import needs_link_reads
    from kubectl_eckrc.collect.bundle import sanitized
    from kubectl_eckrc.collect.live import collect_live

    # What a bundle would keep, no more: the findings quote objects (events, annotations) and
    # must not quote a secret that sits in one; the bundle's report is made the same way.
    from kubectl_eckrc.progress import Progress

    link_reads = needs_link_reads(options.only, options.skip)
    # on a terminal only, and not beside a json/yaml document or the --debug phase lines
    progress = Progress.on_terminal(options.output not in ("json", "yaml") and not options.debug)
    try:
        return sanitized(collect_live(options.scope, debug=options.debug, link_reads=link_reads,
                                      progress=progress))
    finally:
        progress.stop()


def render(report: Report, output: str, color: bool | None) -> str:
    if output == "json":
        from kubectl_eckrc.report import structured

        return structured.render_json(report)
    if output == "yaml":
        from kubectl_eckrc.report import structured

        return structured.render_yaml(report)
    if output == "junit":
        from kubectl_eckrc.report import junit

        return junit.render(report)
    if output == "markdown":
        from kubectl_eckrc.report import markdown

        return markdown.render(report)
    from kubectl_eckrc.report import table

    return table.render(report, color=use_color(requested=color), unicode=use_unicode())


def diagnose(snapshot: Snapshot, only: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> Report:
    from kubectl_eckrc.checks.engine import build_report, run_checks

    return build_report(snapshot, run_checks(snapshot, only=only, skip=skip))


RENDERERS = {"json": "structured", "yaml": "structured", "junit": "junit", "markdown": "markdown",
             "table": "table"}


def _prewarm(output: str) -> threading.Thread:
    """Import the check engine and the renderer while collection waits on the network: on a
    black-holed link that wait is the whole --timeout, and the imports then cost nothing."""
    modules = ("kubectl_eckrc.checks.engine", f"kubectl_eckrc.report.{RENDERERS.get(output, 'table')}")

    def load_modules() -> None:
        for name in modules:
            with contextlib.suppress(Exception):  # a real import error resurfaces in diagnose()
                importlib.import_module(name)

    thread = threading.Thread(target=load_modules, name="eckrc-prewarm", daemon=True)
    thread.start()
    return thread


def check_patterns(only: tuple[str, ...], skip: tuple[str, ...]) -> None:
    """A pattern that selects no check is a typo, not "run nothing": say so (exit 2)."""
    from fnmatch import fnmatchcase

    from kubectl_eckrc.checks.registry import ALL_CHECKS

    ids = [spec.id.upper() for spec in ALL_CHECKS]
    for flag, patterns in (("--only", only), ("--skip", skip)):
        for pattern in patterns:
            if not any(fnmatchcase(i, pattern.upper()) for i in ids):
                raise UsageError(f"{flag} {pattern}: matches no check (see 'kubectl eckrc checks')")


def crashed_checks(report: Report, snapshot: Snapshot, where: str) -> None:
    """A check that raised is never a silent pass. On a file (bundle, eck-diagnostics
    archive) it could not read its content: a usage error naming the file. Live, it is a bug:
    one error line naming the check; the report still shows, and the exit code is 3."""
    crashed = report.crashed
    if not crashed:
        return
    ids = ", ".join(sorted({f.id for f in crashed}))
    if snapshot.source != "live":
        detail = crashed[0].message.split(": ", 1)[-1]  # the exception, without "internal error in X"
        raise UsageError(f"{where}: check {ids} cannot read this file ({detail}); "
                         "it is damaged or was altered")
    log(f"error: check {ids} failed with an internal error; the report is incomplete (exit 3). "
        "Run with --debug and report it")


# What reading a value of the wrong type raises (a list where an object belongs, ...).
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError)


def ignores_of(options: DoctorOptions) -> list[Ignore]:
    """The suppressions asked for, checked before anything is read."""
    from kubectl_eckrc.checks.registry import ALL_CHECKS

    ignores = [suppress.parse(text) for text in options.ignore]
    if options.ignore_file:
        ignores += suppress.load_file(options.ignore_file)
    suppress.check_ids(ignores, [spec.id for spec in ALL_CHECKS])
    return ignores


# doctor --wait: the pause between two runs (a rollout takes minutes; a run costs little)
WAIT_PAUSE = 5.0


def run(options: DoctorOptions) -> int:
    check_patterns(options.only, options.skip)
    if options.wait is not None and options.bundle:
        raise UsageError("--wait re-reads the clusters: it does not go with --bundle")
    ignores = ignores_of(options)
    if options.scope.fleet:
        from kubectl_eckrc.commands import fleet

        return fleet.run(options, ignores)
    warm = _prewarm(options.output)
    deadline = time.monotonic() + (options.wait or 0.0)
    while True:
        try:
            snapshot, report, unused, text = evaluate(options, ignores, warm)
        except FleetBundle as found:  # a bundle of collect -A: the fleet's report
            from kubectl_eckrc.commands import fleet

            return fleet.run(options, ignores, found.fleet)
        left = deadline - time.monotonic()
        if options.wait is None or report.exit_code == 0 or left <= 0:
            break
        pause = min(WAIT_PAUSE, left)
        if options.output not in ("json", "yaml"):  # -o json stays one document, stderr quiet
            from kubectl_eckrc.report.common import verdict_title

            log(f"waiting: {verdict_title(report)}; next run in {pause:.0f}s, {left:.0f}s left")
        time.sleep(pause)
    if options.wait is not None and report.exit_code != 0:
        log(f"timed out after {options.wait:g}s: the last run exits {report.exit_code}")
    for ignore in unused:
        log(f"note: --ignore {ignore.label()} matched no failure or warning; remove it if it is stale")
    for note in snapshot.notes:  # after the checks: a file that cannot be read gets one line only
        log(f"note: {note}")
    write_document(text)
    return report.exit_code


def evaluate(options: DoctorOptions, ignores: list[Ignore],
             warm: threading.Thread) -> tuple[Snapshot, Report, list[Ignore], str]:
    """One run: read, check, suppress, render."""
    try:
        snapshot = load(options)
        warm.join()
        report = with_fix_commands(diagnose(snapshot, options.only, options.skip), options.scope, snapshot)
        report, unused = suppress.apply(replace(report, fail_on=options.fail_on), ignores)
        crashed_checks(report, snapshot, options.bundle or "")
        text = render(report, options.output, options.color)
    except SHAPE_ERRORS as exc:
        if not options.bundle:
            raise  # live: a bug, reported as an internal error (exit 3)
        # the shape check (collect/shape.py) cannot know every field of every object inside
        raise UsageError(f"{options.bundle}: a value is not of the type kubectl-eckrc reads "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:120]}); the file is "
                         "damaged or was altered") from None
    return snapshot, report, unused, text
