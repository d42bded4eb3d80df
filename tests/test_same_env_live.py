"""Same-environment links (spec.remoteClusters) diagnosed live: the twin's ECK sets up alias
peer-es from logging/local-es to peers/peer-es of the same Kubernetes cluster.

doctor --alias peer-es without --remote-context reads peers/peer-es through the local context
as the remote side; a run with --remote-context of another cluster leaves peer-es out with a
note. Every finding on the alias says what ECK owns, and fix writes nothing ECK manages.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.test_doctor_live import ROOT, assert_no_canary, assert_read_only, doctor

pytestmark = pytest.mark.slow

PEER = ("--alias", "peer-es")


def by_id(run: Any) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in run.findings() if f["alias"] in (None, "peer-es")}


def test_a_healthy_same_environment_link_passes_with_what_eck_owns_named(twin: Any) -> None:
    running = twin("same-env-healthy")
    run = doctor(running.kubeconfig, *PEER, remote=False)
    assert run.code == 0, run.describe()
    findings = by_id(run)
    seed = "peer-es-es-remote-cluster.peers.svc:9443"
    assert findings["ECKRC502"]["message"].startswith(f"sniff mode to {seed}")
    assert findings["ECKRC404"]["status"] == "pass"  # ECK's eck-* key, looked up on peers/peer-es
    assert findings["ECKRC406"]["status"] == "pass"  # ECK's own key is not a clash
    assert "key eck-logging-local-es-peer-es" in findings["ECKRC404"]["evidence"]["managedByEck"]
    assert findings["ECKRC503"]["status"] == "pass"
    report = json.loads(run.stdout)
    assert report["remote"]["namespace"] == "peers" and report["remote"]["elasticsearch"] == "peer-es"
    # with the other environment as remote side, peer-es is left to its own run
    other = doctor(running.kubeconfig, "--remote-namespace", "search")
    assert other.code == 0, other.describe()
    assert {f["alias"] for f in other.findings()} == {None, "remote-es"}
    assert "check it with --alias peer-es and no --remote-context" in other.stderr
    assert_no_canary(running, run.stdout, run.stderr, other.stdout, other.stderr)
    assert_read_only(running)


def test_a_ca_string_replacing_ecks_list_is_the_cause_and_fix_writes_nothing(twin: Any) -> None:
    running = twin("same-env-user-ca-string")
    run = doctor(running.kubeconfig, *PEER, remote=False)
    assert run.code == 1, run.describe()
    findings = by_id(run)
    cause = findings["ECKRC303"]
    assert cause["status"] == "fail"
    assert "as one string: it replaces the list ECK writes" in cause["hint"]
    assert cause["hint"].startswith("ECK manages alias peer-es")
    failed = sorted(f["id"] for f in run.findings() if f["status"] == "fail")
    assert failed == ["ECKRC303", "ECKRC504"], run.describe()
    assert all(f["fix"] is None for f in run.findings() if f["alias"] == "peer-es")
    plan = subprocess.run(
        [sys.executable, "-m", "kubectl_eckrc.cli", "fix", "--kubeconfig", str(running.kubeconfig),
         "--context", "local", *PEER, "--apply", "--yes"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert plan.returncode == 1, plan.stdout + plan.stderr
    assert "fix writes nothing ECK manages" in plan.stdout
    assert "change the spec.remoteClusters entry peer-es of logging/local-es" in plan.stdout
    assert_read_only(running)
    # any other alias still needs the remote's context
    other = subprocess.run(
        [sys.executable, "-m", "kubectl_eckrc.cli", "fix", "--kubeconfig", str(running.kubeconfig),
         "--context", "local", "--alias", "remote-es"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert other.returncode == 2 and "fix needs the remote environment too" in other.stderr
