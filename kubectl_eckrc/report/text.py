"""Text from clusters and bundles, made safe to print in each output format.

Names, notes, certificate subjects and error texts come from objects someone else wrote. A
control character in them could move the cursor, recolour or erase a terminal line, or make
XML invalid; Markdown or HTML in them could forge a heading, a link or a table column in a
support ticket. Every renderer first passes the report through `printable_report` (control
characters become visible escapes such as `\\x1b`), then escapes its own syntax.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from kubectl_eckrc.findings import Finding, FixRef, Report

# C0 (but for the newlines renderers place themselves), DEL, C1, and the bidirectional
# overrides and isolates that reorder what a reader sees (CVE-2021-42574).
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# What makes inline text something else in GitHub Markdown: emphasis, code, links and images,
# HTML, table columns, strikethrough, entities; and at the start of a line, block markers.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_BLOCK_START = re.compile(r"^(\s*)([#>+=\-]|\d+[.)])")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, newlines: bool = True) -> str:
    """Control characters as visible escapes; `newlines=False` escapes line breaks too."""
    text = _CONTROL.sub(_escape, text)
    return text if newlines else text.replace("\r", "\\r").replace("\n", "\\n")


def markdown_text(text: str, starts_line: bool = False) -> str:
    """Literal text in Markdown (GitHub flavour): no emphasis, link, HTML or column; with
    `starts_line`, no heading, quote or list either."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", printable(text, newlines=False))
    return _BLOCK_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text) if starts_line else text


def markdown_code(text: str) -> str:
    """An inline code span that no backtick in `text` can close early."""
    text = printable(text, newlines=False)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value, newlines=False)
    if isinstance(value, dict):
        return {_clean(k) if isinstance(k, str) else k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _finding(finding: Finding) -> Finding:
    fix = finding.fix and FixRef(_clean(finding.fix.action), _clean(finding.fix.command))
    return dataclasses.replace(
        finding, title=_clean(finding.title), alias=_clean(finding.alias), message=_clean(finding.message),
        evidence=_clean(finding.evidence), hint=_clean(finding.hint), fix=fix, doc=_clean(finding.doc),
        permission=_clean(finding.permission), cause=_clean(finding.cause),
        suppressed=_clean(finding.suppressed))


def printable_report(report: Report) -> Report:
    """Every string of the report with its control characters escaped (one line each)."""
    return dataclasses.replace(
        report, tool_version=_clean(report.tool_version), source=_clean(report.source),
        local=_clean(report.local), remote=_clean(report.remote), links=_clean(report.links),
        findings=[_finding(f) for f in report.findings], taken_at=_clean(report.taken_at))
