"""-o json and -o yaml: one document, as docs/report.schema.json describes."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kubectl_eckrc import __version__
from kubectl_eckrc.report import structured
from tests.report.reports import healthy_report, no_remote_report, stale_ca_report
from tests.report.schema_check import errors

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())


def test_json_document_follows_the_schema() -> None:
    for report in (healthy_report(), stale_ca_report(), no_remote_report()):
        document = json.loads(structured.render_json(report))
        assert errors(document, SCHEMA, SCHEMA) == []


def test_json_failure_finding_looks_like_the_ux_example() -> None:
    document = json.loads(structured.render_json(stale_ca_report()))
    assert document["schemaVersion"] == 1
    assert document["tool"]["name"] == "kubectl-eckrc"
    finding = next(f for f in document["findings"] if f["id"] == "ECKRC303")
    assert finding["status"] == "fail" and finding["severity"] == "error" and finding["side"] == "link"
    assert finding["alias"] == "remote-es"
    assert finding["fix"] == {"action": "sync-ca", "command": "kubectl eckrc fix --alias remote-es"}
    assert finding["doc"].endswith(f"/blob/v{__version__}/docs/checks.md#eckrc303")
    assert finding["doc"].startswith("https://")
    assert set(finding["evidence"]) == {"trusted", "current"}


def test_summary_and_exit_code_agree() -> None:
    report = stale_ca_report()
    document = json.loads(structured.render_json(report))
    assert document["exitCode"] == report.exit_code == 1
    assert document["summary"]["failed"] == sum(f["status"] == "fail" for f in document["findings"])
    assert document["summary"]["notEvaluated"] == sum(
        f["status"] == "not-evaluated" for f in document["findings"])


def test_yaml_is_the_same_document() -> None:
    report = stale_ca_report()
    assert yaml.safe_load(structured.render_yaml(report)) == json.loads(structured.render_json(report))


def test_schema_check_catches_a_broken_document() -> None:
    document = json.loads(structured.render_json(healthy_report()))
    document["findings"][0]["status"] = "ok"
    del document["summary"]
    problems = errors(document, SCHEMA, SCHEMA)
    assert any("summary" in p for p in problems) and any("'ok'" in p for p in problems)
