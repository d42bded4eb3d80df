"""`-o markdown`: a report to paste into a support ticket."""

from __future__ import annotations

from tabulate import tabulate

from kubectl_eckrc.findings import Finding, Report, Status
from kubectl_eckrc.report.common import (
    RootCause,
    cause_number,
    evidence_lines,
    link_line,
    needs_attention,
    root_causes,
    summary_line,
    suppressed_note,
    verdict_title,
    without_cause,
)
from kubectl_eckrc.report.text import markdown_code, markdown_text, printable_report

MARKS = {Status.PASS: "pass", Status.FAIL: "**FAIL**", Status.WARN: "**warn**", Status.INFO: "info",
         Status.SKIPPED: "skipped", Status.NOT_EVALUATED: "not evaluated", Status.NOT_APPLICABLE: "n/a"}


def render(report: Report) -> str:
    report = printable_report(report)
    parts = [f"## kubectl eckrc doctor: {verdict_title(report)}", ""]
    causes = root_causes(report.findings)
    parts += _blocked(report, causes)
    parts += [_environments(report), ""]
    if report.links:
        parts += ["Links:", ""] + [f"- {markdown_code(link_line(link))}" for link in report.links] + [""]
    attention = [f for f in report.findings if needs_attention(f)]
    for finding in attention:
        parts += _attention(finding)
    parts += _causes(causes)
    parts += _suppressed([f for f in report.findings if not f.counts])
    rest = [f for f in report.findings if not needs_attention(f) and f.counts]
    parts += [f"<details><summary>{len(rest)} other findings</summary>", "", _rest_table(rest, causes), "",
              "</details>", "", f"`{summary_line(report)}`", ""]
    return "\n".join(parts)


def _blocked(report: Report, causes: list[RootCause]) -> list[str]:
    """An exit-3 report says first what stopped the evaluation and what would lift it (a
    shared cause is spelled out once, in its own section below)."""
    blocked = report.blocked_by
    if not blocked:
        return []
    lines = ["**Could not evaluate, blocked by:**", ""]
    for finding in blocked:
        number = cause_number(finding, causes)
        if number:
            lines.append(f"- {finding.id}: {markdown_text(without_cause(finding))} (cause {number} below)")
            continue
        needs = f" (needs: {markdown_text(finding.permission)})" if finding.permission else ""
        lines.append(f"- {finding.id}: {markdown_text(finding.message)}{needs}")
    return [*lines, ""]


def _suppressed(findings: list[Finding]) -> list[str]:
    if not findings:
        return []
    lines = [f"### suppressed ({len(findings)})", ""]
    for f in findings:
        alias = f" ({markdown_code(f.alias)})" if f.alias else ""
        lines.append(f"- {MARKS[f.status]} {f.id}{alias}: {markdown_text(f.message)}; "
                     f"**{markdown_text(suppressed_note(f))}**")
    return [*lines, ""]


def _cell(text: object) -> str:
    """Text from a cluster in a table cell: literal, one line, no column of its own."""
    return markdown_text(str(text))


def _environments(report: Report) -> str:
    rows = []
    for role, side in (("local", report.local), ("remote", report.remote)):
        if side.get("unavailable"):
            rows.append([role, "", "", "", _cell(f"not available: {side['unavailable']}")])
            continue
        rows.append([role, _cell(side.get("context", "")),
                     _cell(f"{side.get('namespace', '')}/{side.get('elasticsearch', '')}"),
                     _cell(side.get("version", "")), _cell(side.get("eck", ""))])
    return tabulate(rows, headers=["side", "context", "namespace/elasticsearch", "Elasticsearch", "ECK"],
                    tablefmt="github")


def _attention(finding: Finding) -> list[str]:
    word = {Status.FAIL: "FAIL", Status.WARN: "warning"}.get(finding.status, "info")
    alias = f" ({markdown_code(finding.alias)})" if finding.alias else ""
    lines = [f"### {word}: {finding.id} {markdown_text(finding.title)}{alias}", "",
             markdown_text(finding.message, starts_line=True), ""]
    if finding.hint:
        lines.append(f"- **cause**: {markdown_text(finding.hint)}")
    lines += [f"- {markdown_text(key)}: {markdown_code(value)}" if key else f"  {markdown_code(value)}"
              for key, value in evidence_lines(finding.evidence)]
    if finding.fix:
        lines.append(f"- **fix**: {markdown_code(finding.fix.command)} ({markdown_text(finding.fix.action)})")
    lines += [f"- docs: {finding.doc}", ""]
    return lines


def _causes(causes: list[RootCause]) -> list[str]:
    """A read that holds back several checks, once, with the checks it holds back."""
    lines = []
    for cause in causes:
        lines += [f"### not evaluated ({cause.number}): {_cell(cause.text)}", ""]
        if cause.permission:
            lines.append(f"- **needs**: {_cell(cause.permission)}")
        lines += [f"- holds back: {', '.join(cause.held_back)}", ""]
    return lines


def _rest_table(findings: list[Finding], causes: list[RootCause]) -> str:
    rows = []
    for f in findings:
        number = cause_number(f, causes)
        message = (f"{without_cause(f)} (cause {number} above)" if number else
                   f.message + (f" ({f.permission})" if f.permission else ""))
        rows.append([MARKS[f.status], f.id, _cell(f.alias or ""), _cell(message)])
    return tabulate(rows, headers=["status", "id", "alias", "message"], tablefmt="github")
