"""-o json and -o yaml: one document, as docs/report.schema.json describes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import yaml

from kubectl_eckrc import __version__
from kubectl_eckrc.findings import Status
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
    # ux.md's keys, plus the JDK's own words for the failed handshake
    assert set(finding["evidence"]) == {"trusted", "current", "handshake"}


def test_summary_counts_each_status_of_a_known_mix() -> None:
    """The counts are written down here, not recomputed from the document under test."""
    statuses = [Status.PASS] * 3 + [Status.FAIL] * 2 + [Status.WARN] + [Status.SKIPPED] * 4 + [
        Status.NOT_EVALUATED] * 5
    base = healthy_report()
    findings = [dataclasses.replace(f, status=s) for f, s in zip(base.findings, statuses, strict=False)]
    assert len(findings) == 15
    document = json.loads(structured.render_json(dataclasses.replace(base, findings=findings)))
    expected = {"passed": 3, "failed": 2, "warnings": 1, "skipped": 4, "notEvaluated": 5}
    assert {key: document["summary"][key] for key in expected} == expected
    assert sum(document["summary"].values()) == 15  # every finding counted once, none twice


def test_exit_code_follows_the_error_failure() -> None:
    report = stale_ca_report()
    document = json.loads(structured.render_json(report))
    assert document["exitCode"] == 1
    assert json.loads(structured.render_json(healthy_report()))["exitCode"] == 0


def test_yaml_is_the_same_document() -> None:
    report = stale_ca_report()
    assert yaml.safe_load(structured.render_yaml(report)) == json.loads(structured.render_json(report))


def test_schema_check_catches_a_broken_document() -> None:
    document = json.loads(structured.render_json(healthy_report()))
    document["findings"][0]["status"] = "ok"
    del document["summary"]
    problems = errors(document, SCHEMA, SCHEMA)
    assert any("summary" in p for p in problems) and any("'ok'" in p for p in problems)


def test_fail_on_warning_turns_a_warning_into_exit_1_and_says_why() -> None:
    from dataclasses import replace

    from kubectl_eckrc.findings import Status
    from kubectl_eckrc.report.common import verdict_title
    from tests.report.reports import healthy_report

    report = healthy_report()
    report = replace(report, findings=[replace(report.findings[0], status=Status.WARN), *report.findings[1:]])
    assert report.exit_code == 0
    strict = replace(report, fail_on="warning")
    assert strict.exit_code == 1 and verdict_title(strict) == "1 warning (--fail-on warning)"
