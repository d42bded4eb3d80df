"""The default human-readable report: context header, findings by area, summary line."""

from __future__ import annotations

from kubectl_eckrc.findings import Finding, Report, Status
from kubectl_eckrc.report.common import (
    RootCause,
    cause_number,
    evidence_lines,
    grouped,
    link_line,
    needs_attention,
    root_causes,
    side_line,
    summary_line,
    suppressed_note,
    without_cause,
)
from kubectl_eckrc.report.text import printable_report

UNICODE_SYMBOLS = {
    Status.INFO: "i",
    Status.PASS: "✔", Status.FAIL: "✖", Status.WARN: "!", Status.SKIPPED: "-", Status.NOT_EVALUATED: "?",
    Status.NOT_APPLICABLE: "·",
}
ASCII_SYMBOLS = {
    Status.INFO: "i",
    Status.PASS: "+", Status.FAIL: "x", Status.WARN: "!", Status.SKIPPED: "-", Status.NOT_EVALUATED: "?",
    Status.NOT_APPLICABLE: ".",
}
COLOURS = {
    Status.INFO: "36",
    Status.PASS: "32", Status.FAIL: "31", Status.WARN: "33", Status.SKIPPED: "2", Status.NOT_EVALUATED: "35",
    Status.NOT_APPLICABLE: "2",
}
INDENT = "      "


def render(report: Report, color: bool = False, unicode: bool = True) -> str:
    report = printable_report(report)  # no control character from a cluster reaches the terminal
    lines = _header(report)
    several_links = len({f.alias for f in report.findings if f.alias}) > 1
    causes = root_causes(report.findings)
    for area, findings in grouped(report.findings):
        lines.append("")
        lines.append(_paint(area, "1", color))
        for finding in findings:
            lines.extend(_finding(finding, color, unicode, several_links, cause_number(finding, causes)))
    lines.extend(_root_causes(causes, color))
    lines.append("")
    lines.append(summary_line(report))
    text = "\n".join(lines) + "\n"
    if unicode:
        return text
    return text.replace("…", "...").encode("ascii", "replace").decode("ascii")


def _header(report: Report) -> list[str]:
    lines = [f"local   {side_line(report.local)}", f"remote  {side_line(report.remote)}"]
    for link in report.links:
        lines.append(f"link    {link_line(link)}")
    if not report.links:
        lines.append("link    (no remote cluster configured)")
    if report.source != "live":
        lines.append(f"source  {report.source}, taken at {report.taken_at}")
    return lines


def _finding(finding: Finding, color: bool, unicode: bool, several_links: bool, cause: int = 0) -> list[str]:
    symbols = UNICODE_SYMBOLS if unicode else ASCII_SYMBOLS
    symbol = _paint(symbols[finding.status], COLOURS[finding.status], color)
    label = finding.id + (f" [{finding.alias}]" if several_links and finding.alias else "")
    if cause:  # the cause and what lifts it are said once, below the areas
        return [f"  {symbol} {label}  not evaluated: {without_cause(finding)} (cause {cause} below)"]
    message = finding.message
    if finding.status is Status.NOT_EVALUATED and not message.startswith("not evaluated"):
        message = f"not evaluated: {message}"
    if not finding.counts:  # shown, with its reason, without the details it would otherwise get
        return [f"  {symbol} {label}  {message}", f"{INDENT}{suppressed_note(finding)}"]
    lines = [f"  {symbol} {label}  {message}"]
    if needs_attention(finding):
        lines.extend(_details(finding))
    elif finding.status is Status.NOT_EVALUATED and finding.permission:
        lines.append(f"{INDENT}needs:    {finding.permission}")
    return lines


def _details(finding: Finding) -> list[str]:
    lines, width = [], 9
    for key, value in evidence_lines(finding.evidence):
        if key:
            width = max(9, len(key) + 1)
        lines.append(f"{INDENT}{key + ':' if key else '':<{width}} {value}")
    if finding.hint:
        lines.append(f"{INDENT}cause:    {finding.hint}")
    if finding.fix:
        lines.append(f"{INDENT}fix:      {finding.fix.command}   ({finding.fix.action})")
    lines.append(f"{INDENT}docs:     {finding.doc}   (offline: kubectl eckrc checks {finding.id})")
    return lines


def _root_causes(causes: list[RootCause], color: bool) -> list[str]:
    if not causes:
        return []
    lines = ["", _paint("Not evaluated because", "1", color)]
    for cause in causes:
        lines.append(f"  {cause.number}  {cause.text}")
        if cause.permission:
            lines.append(f"{INDENT}needs:      {cause.permission}")
        lines.append(f"{INDENT}holds back: {', '.join(cause.held_back)}")
    return lines


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text
