"""--ignore / --ignore-file: a suppressed finding leaves a trace in every format and never
passes for a check that was not evaluated."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kubectl_eckrc import suppress
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.findings import Status
from kubectl_eckrc.report import junit, markdown, structured, table
from tests.report.reports import stale_ca_report, unreachable_report

REASON = "CA rotation tracked in OPS-42"


def suppressed_stale_ca() -> tuple:
    return suppress.apply(stale_ca_report(), [suppress.parse(f"ECKRC303:remote-es={REASON}")])


def test_the_flag_reads_id_alias_and_reason() -> None:
    assert suppress.parse("ECKRC505:remote-es=searches may skip it") == suppress.Ignore(
        "ECKRC505", "remote-es", "searches may skip it")
    assert suppress.parse("ECKRC1*") == suppress.Ignore("ECKRC1*")
    with pytest.raises(UsageError):
        suppress.parse(":remote-es=x")


def test_a_suppressed_failure_no_longer_sets_the_exit_code_but_is_counted_and_shown() -> None:
    before = stale_ca_report()
    report, unused = suppressed_stale_ca()
    assert before.exit_code == 1 and unused == []
    stale = next(f for f in report.findings if f.id == "ECKRC303")
    assert stale.status is Status.FAIL and stale.suppressed == REASON
    assert report.summary.failed == before.summary.failed - 1 and report.summary.suppressed == 1
    assert report.exit_code == 0

    text = table.render(report)
    assert f"suppressed: {REASON}" in text and "1 suppressed" in text
    document = json.loads(structured.render_json(report))
    assert document["suppressed"] == [
        {"id": "ECKRC303", "alias": "remote-es", "status": "fail", "reason": REASON}]
    assert document["summary"]["suppressed"] == 1
    assert f"suppressed: {REASON}" in markdown.render(report)
    case = next(c for c in ET.fromstring(junit.render(report)).findall("testcase")
                if c.get("name", "").startswith("ECKRC303"))
    skipped = case.find("skipped")
    assert skipped is not None and REASON in skipped.get("message", "") and case.find("failure") is None


def test_a_check_that_could_not_be_evaluated_cannot_be_suppressed_into_a_pass() -> None:
    report, unused = suppress.apply(unreachable_report(), [suppress.parse("ECKRC107=we know")])
    assert report.exit_code == 3 and [i.check for i in unused] == ["ECKRC107"]


def test_the_file_takes_entries_and_strings(tmp_path: Path) -> None:
    path = tmp_path / "ignore.yaml"
    path.write_text("ignore:\n  - id: ECKRC505\n    alias: remote-es\n    reason: known\n  - ECKRC104\n")
    assert suppress.load_file(str(path)) == [suppress.Ignore("ECKRC505", "remote-es", "known"),
                                             suppress.Ignore("ECKRC104")]
    path.write_text("ignore:\n  - idd: ECKRC505\n")
    with pytest.raises(UsageError, match="needs an 'id'"):
        suppress.load_file(str(path))


def test_an_unknown_id_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="matches no check"):
        suppress.check_ids([suppress.parse("ECKRC999")], ["ECKRC101"])


def test_doctor_refuses_an_unknown_id_before_reading_anything(capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_eckrc import cli

    assert cli.main(["doctor", "--context", "nowhere", "--ignore", "ECKRC999=typo"]) == 2
    assert "--ignore ECKRC999: matches no check" in capsys.readouterr().err
