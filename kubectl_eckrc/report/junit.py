"""`-o junit`: one testsuite, one testcase per finding, for CI dashboards."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kubectl_eckrc.findings import Finding, Report, Status
from kubectl_eckrc.report.common import evidence_lines
from kubectl_eckrc.report.text import printable_report


def render(report: Report) -> str:
    report = printable_report(report)  # XML 1.0 cannot carry most control characters at all
    s = report.summary
    suite = ET.Element("testsuite", {
        "name": "kubectl-eckrc doctor",
        "tests": str(len(report.findings)),
        "failures": str(s.failed),
        "errors": "0",
        "skipped": str(s.skipped + s.not_evaluated + s.not_applicable),
        "timestamp": report.taken_at,
    })
    for finding in report.findings:
        suite.append(_testcase(finding))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _testcase(finding: Finding) -> ET.Element:
    name = f"{finding.id} {finding.title}" + (f" [{finding.alias}]" if finding.alias else "")
    case = ET.Element("testcase", {"classname": f"eckrc.{finding.side.value}", "name": name})
    if finding.status is Status.FAIL:
        failure = ET.SubElement(case, "failure", {"message": finding.message, "type": finding.severity.value})
        failure.text = _details(finding)
    elif finding.status in (Status.SKIPPED, Status.NOT_EVALUATED, Status.NOT_APPLICABLE):
        reason = finding.message
        if finding.status is Status.NOT_EVALUATED:
            reason = f"not evaluated: {reason}" + (f" ({finding.permission})" if finding.permission else "")
        ET.SubElement(case, "skipped", {"message": reason})
    elif finding.status is Status.WARN:
        out = ET.SubElement(case, "system-out")
        out.text = f"warning: {finding.message}\n{_details(finding)}"
    return case


def _details(finding: Finding) -> str:
    lines = [f"{key}: {value}" if key else f"  {value}" for key, value in evidence_lines(finding.evidence)]
    if finding.hint:
        lines.append(f"cause: {finding.hint}")
    if finding.fix:
        lines.append(f"fix: {finding.fix.command} ({finding.fix.action})")
    lines.append(f"docs: {finding.doc}")
    return "\n".join(lines)
