"""The small support bundle committed as tests/data/sample-bundle.zip: what the release and CI
workflows give `doctor --bundle` to smoke-test a freshly built binary on its own runner, where
no cluster is at hand. A healthy pair of sides whose link reports `connected: false` (and no
`_resolve/cluster` answer), so
doctor has one error to find (exit 1, ECKRC503: scripts/smoke_binary.py expects exactly that)
and a broken bundle reader would show.

Regenerate after a change of the bundle format:  .venv/bin/python -m tests.packaging.sample_bundle
"""

from __future__ import annotations

from pathlib import Path

from kubectl_eckrc.checks.engine import build_report, run_checks
from kubectl_eckrc.collect import bundle
from kubectl_eckrc.report import markdown, structured
from tests.snapshot_builder import healthy_pair

SAMPLE_BUNDLE = Path(__file__).resolve().parents[1] / "data" / "sample-bundle.zip"


def write_sample_bundle(path: Path = SAMPLE_BUNDLE) -> Path:
    pair = healthy_pair()
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    # No _resolve/cluster answer recorded: had its fresh attempt connected, a stale _remote/info
    # alone would be no failure
    pair.local.resolve_cluster = {}
    snap = pair.build()
    report = build_report(snap, run_checks(snap))
    reports = {"report.json": structured.render_json(report), "report.md": markdown.render(report)}
    members = bundle.bundle_members(snap, reports, {"name": "kubectl-eckrc", "command": ["collect"]})
    manifest = bundle.manifest(members, "0.1.0", "2026-06-01T00:00:00Z")
    bundle.write_bundle(str(path), members, manifest, [])
    return path


if __name__ == "__main__":
    print(write_sample_bundle())
