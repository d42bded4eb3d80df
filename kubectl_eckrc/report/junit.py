"""`-o junit`: one testsuite, one testcase per finding, for CI dashboards.

A check that could not be evaluated is an `<error>`: a CI dashboard must not show green when
nothing was judged. The one exception is the remote side left out on purpose (no
--remote-context): those checks are `<skipped>` with the flag that would run them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kubectl_eckrc.findings import Finding, Report, Status
from kubectl_eckrc.report.common import evidence_lines, out_of_scope, suppressed_note
from kubectl_eckrc.report.text import printable_report


def render(report: Report) -> str:
    report = printable_report(report)  # XML 1.0 cannot carry most control characters at all
    s = report.summary
    suite = ET.Element("testsuite", {
        "name": "kubectl-eckrc doctor",
        "tests": str(len(report.findings)),
        "failures": str(s.failed),  # suppressed failures are <skipped> with their reason
        # a check that could not run is not a pass nor a deliberate skip: CI must see it
        "errors": str(sum(1 for f in report.findings if _is_error(report, f))),
        "skipped": str(sum(1 for f in report.findings if _is_skipped(report, f))),
        "timestamp": report.taken_at,
    })
    for finding in report.findings:
        suite.append(_testcase(finding, out_of_scope(report, finding)))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _is_error(report: Report, finding: Finding) -> bool:
    return finding.status is Status.NOT_EVALUATED and not out_of_scope(report, finding)


def _is_skipped(report: Report, finding: Finding) -> bool:
    return not finding.counts or finding.status in (Status.SKIPPED, Status.NOT_APPLICABLE) or (
        finding.status is Status.NOT_EVALUATED and out_of_scope(report, finding))


def _testcase(finding: Finding, by_choice: bool) -> ET.Element:
    name = f"{finding.id} {finding.title}" + (f" [{finding.alias}]" if finding.alias else "")
    case = ET.Element("testcase", {"classname": f"eckrc.{finding.side.value}", "name": name})
    if not finding.counts:
        ET.SubElement(case, "skipped", {"message": f"{suppressed_note(finding)} ({finding.status.value}: "
                                                   f"{finding.message})"})
    elif finding.status is Status.FAIL:
        failure = ET.SubElement(case, "failure", {"message": finding.message, "type": finding.severity.value})
        failure.text = _details(finding)
    elif finding.status is Status.NOT_EVALUATED and by_choice:
        message = f"not evaluated: {finding.message} ({finding.permission})"
        ET.SubElement(case, "skipped", {"message": message})
    elif finding.status is Status.NOT_EVALUATED:
        needs = f" ({finding.permission})" if finding.permission else ""
        reason = f"not evaluated: {finding.message}{needs}"
        error = ET.SubElement(case, "error", {"message": reason, "type": "not-evaluated"})
        error.text = "\n".join(filter(None, [finding.cause and f"cause: {finding.cause}",
                                               finding.permission and f"needs: {finding.permission}",
                                               f"docs: {finding.doc}"]))
    elif finding.status in (Status.SKIPPED, Status.NOT_APPLICABLE):
        ET.SubElement(case, "skipped", {"message": finding.message})
    elif finding.status in (Status.WARN, Status.INFO):
        out = ET.SubElement(case, "system-out")
        word = "warning" if finding.status is Status.WARN else "info"
        out.text = f"{word}: {finding.message}\n{_details(finding)}"
    return case


def _details(finding: Finding) -> str:
    lines = [f"{key}: {value}" if key else f"  {value}" for key, value in evidence_lines(finding.evidence)]
    if finding.hint:
        lines.append(f"cause: {finding.hint}")
    if finding.fix:
        lines.append(f"fix: {finding.fix.command} ({finding.fix.action})")
    lines.append(f"docs: {finding.doc}")
    return "\n".join(lines)
