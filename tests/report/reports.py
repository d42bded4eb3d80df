"""Reports for the renderer tests, built from the snapshot builder through the real engine."""

from __future__ import annotations

from kubectl_eckrc.checks.engine import build_report, run_checks
from kubectl_eckrc.findings import Report
from tests.snapshot_builder import healthy_pair, make_ca


def healthy_report() -> Report:
    snap = healthy_pair().build()
    return build_report(snap, run_checks(snap))


def stale_ca_report() -> Report:
    """One failure (ECKRC303), its dependants skipped, skip_unavailable warning, remote no key read."""
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    pair.remote_info(connected=False, num_proxy_sockets_connected=0, skip_unavailable=True)
    pair.remote.api_keys = {}
    snap = pair.build()
    return build_report(snap, run_checks(snap))


def no_remote_report() -> Report:
    pair = healthy_pair()
    pair.no_remote_access()
    snap = pair.build()
    return build_report(snap, run_checks(snap))


def unreachable_report() -> Report:
    """The local Elasticsearch API times out: nothing about the link can be judged (exit 3)."""
    from kubectl_eckrc.snapshot import Unavailable

    pair = healthy_pair()
    pair.local.es_unavailable = Unavailable("GET / timed out after 5s", "timeout")
    snap = pair.build()
    return build_report(snap, run_checks(snap))
