"""-o junit: one testsuite, a testcase per finding."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from kubectl_eckrc.report import junit
from tests.report.reports import no_remote_report, stale_ca_report


def test_one_testcase_per_finding_with_failures_and_skips() -> None:
    report = stale_ca_report()
    suite = ET.fromstring(junit.render(report))
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert len(cases) == len(report.findings) == int(suite.get("tests", "0"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == report.summary.failed == int(suite.get("failures", "0"))
    stale = next(c for c in failures if c.get("name", "").startswith("ECKRC303"))
    failure = stale.find("failure")
    assert failure is not None and "sync-ca" in (failure.text or "")
    skipped = [c.find("skipped") for c in cases if c.find("skipped") is not None]
    assert any(s is not None and s.get("message") == "skipped: ECKRC303 failed" for s in skipped)


def test_not_evaluated_is_an_error_so_ci_never_shows_green_for_nothing_judged() -> None:
    from kubectl_eckrc.findings import Status

    report = stale_ca_report()
    report.findings[0] = replace(report.findings[0], status=Status.NOT_EVALUATED,
                                 message="cannot reach the Kubernetes API: timed out", cause="timed out")
    suite = ET.fromstring(junit.render(report))
    assert suite.get("errors") == str(report.summary.not_evaluated) != "0"
    error = suite.findall("testcase")[0].find("error")
    assert error is not None and error.get("message", "").startswith("not evaluated: cannot reach")


def test_the_remote_left_out_on_purpose_is_skipped_with_the_reason_and_permission() -> None:
    suite = ET.fromstring(junit.render(no_remote_report()))
    case = next(c for c in suite.findall("testcase") if c.get("name", "").startswith("ECKRC102"))
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("not evaluated: cannot read the remote environment")
    assert "--remote-context" in skipped.get("message", "")
    assert suite.get("errors") == "0"
