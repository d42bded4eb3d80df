"""The plan as a table and as one JSON document."""

from __future__ import annotations

import json

import pytest

from kubectl_eckrc.fix.model import Blocker, Change, DryRun, Outcome, Plan, Target
from kubectl_eckrc.fix.render import document, outcome_line, plan_table

CHANGE = Change(
    action="sync-ca",
    target=Target("local", "ConfigMap", "logging", "remote-ca"),
    operation="create",
    summary="remote-cluster-ca.crt: remote CA",
    diff="+data: x\n",
)
PLAN = Plan("remote-es", "prod-a logging/local-es", "prod-b search/remote-es", ("sync-ca",), (CHANGE,))


def test_table_names_object_operation_restart_and_dry_run() -> None:
    text = plan_table(PLAN, DryRun(1, ()))
    assert "sync-ca" in text and "ConfigMap logging/remote-ca" in text and "no restart" in text
    assert "Server-side dry run: 1 object accepted." in text


def test_blockers_come_first_with_what_to_do() -> None:
    plan = Plan("remote-es", "l", "r", (), (), (Blocker("ECKRC106", "basic license", "start a trial"),))
    text = plan_table(plan, None)
    assert "Cannot repair automatically" in text and "ECKRC106  basic license" in text
    assert "todo: start a trial" in text


def test_json_document_carries_plan_and_per_action_outcomes() -> None:
    outcome = Outcome("sync-ca", True, ["ConfigMap logging/remote-ca"], "applied")
    doc = json.loads(document(PLAN, DryRun(1, ()), [outcome], True, 0))
    assert doc["schemaVersion"] == 1 and doc["exitCode"] == 0 and doc["connected"] is True
    assert doc["plan"][0]["object"] == {"kind": "ConfigMap", "namespace": "logging", "name": "remote-ca"}
    assert doc["actions"] == [
        {
            "action": "sync-ca",
            "changed": True,
            "objects": ["ConfigMap logging/remote-ca"],
            "outcome": "applied",
            "message": "",
        }
    ]


def test_outcome_line_has_an_ascii_fallback() -> None:
    line = outcome_line(
        Outcome("sync-ca", True, ["ConfigMap logging/remote-ca"], "applied"), 1, unicode=False
    )
    assert line.startswith("OK 1 sync-ca") and line.isascii()


def test_the_plan_numbers_every_action_apply_will_report_and_keeps_long_names_aligned() -> None:
    name = "a-very-long-key-name-for-the-remote-cluster-link"
    long = Change(action="create-api-key", target=Target("remote", "CrossClusterApiKey", "", name),
                  operation="es-request", summary="key", diff="")
    secret = Change(action="create-api-key", target=Target("local", "Secret", "logging", "remote-api-keys"),
                    operation="create", summary="secret", diff="")
    plan = Plan("remote-es", "l", "r", ("sync-ca", "mount-ca", "create-api-key"), (CHANGE, long, secret))
    text = plan_table(plan, None)
    rows = [line for line in text.splitlines() if line.startswith("  ") and not line.startswith("       ")]
    assert [row.split()[0] for row in rows] == ["1", "2", "3", "create-api-key"]
    assert "2  mount-ca" in text and "nothing to change now" in rows[1]
    columns = {row.index(f" {c.operation} ") for row, c in zip([rows[0], *rows[2:]], (CHANGE, long, secret),
                                                                strict=True)}
    assert len(columns) == 1  # the operation column lines up under a long object name
    assert [step["step"] for step in json.loads(document(plan, None, None, None, 1))["plan"]] == [1, 3, 3]


def test_wait_follows_the_remote_rollout_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """enable-rcs rolls the remote's pods: a local link that reads connected is not the end
    while the remote still rolls."""
    from kubectl_eckrc.fix import wait

    monkeypatch.setattr(wait, "_observe_local", lambda o, a: wait.Progress("Ready", "1/1", "connected", True))
    monkeypatch.setattr(wait, "_remote_rollout", lambda o: ("phase ApplyingChanges, 0/1 pods rolled", False))
    rolling = wait._observe(None, "remote-es")  # type: ignore[arg-type]
    assert not rolling.connected and "remote cluster: phase ApplyingChanges, 0/1" in rolling.line
    monkeypatch.setattr(wait, "_remote_rollout", lambda o: ("phase Ready, 1/1 pods rolled", True))
    assert wait._observe(None, "remote-es").connected  # type: ignore[arg-type]
