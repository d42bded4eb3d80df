"""Wording shared by the human-readable renderers (table, markdown)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_eckrc import pki
from kubectl_eckrc.checks.registry import area_of
from kubectl_eckrc.findings import Finding, Report, Status, Summary


def _warnings(count: int) -> str:
    return f"{count} warning" if count == 1 else f"{count} warnings"


def summary_line(report: Report) -> str:
    s: Summary = report.summary
    not_applicable = f", {s.not_applicable} not applicable" if s.not_applicable else ""
    not_applicable += f", {s.info} info" if s.info else ""
    not_applicable += f", {s.suppressed} suppressed" if s.suppressed else ""
    return (f"{s.passed} passed, {s.failed} failed, {_warnings(s.warnings)}, {s.skipped} skipped, "
            f"{s.not_evaluated} not evaluated{not_applicable}   (exit {report.exit_code})")


def verdict_title(report: Report) -> str:
    s = report.summary
    if report.exit_code == 1 and not s.failed:
        return f"{_warnings(s.warnings)} (--fail-on warning)"
    if report.exit_code == 1:
        return f"{s.failed} failed" + (f", {_warnings(s.warnings)}" if s.warnings else "")
    if report.exit_code == 3:
        return "could not evaluate"
    if s.warnings:
        return f"healthy with {_warnings(s.warnings)}"
    return "healthy"


def side_line(side: dict[str, Any]) -> str:
    if side.get("unavailable"):
        return f"not available: {side['unavailable']}"
    parts = [side.get("context") or "(current context)",
             f"{side.get('namespace', '')}/{side.get('elasticsearch', '')}"]
    if side.get("version"):
        parts.append(f"Elasticsearch {side['version']}")
    if side.get("eck"):
        parts.append(f"ECK {side['eck']}")
    return "  ".join(parts)


def link_line(link: dict[str, Any]) -> str:
    if link.get("mode") == "unknown":
        return f"{link.get('alias') or '(aliases unknown)'}  (cluster settings not readable)"
    if link.get("registered") is False:
        return f"{link.get('alias', '')}  (not registered)"
    line = f"{link.get('alias', '')}  {link.get('mode') or 'sniff'}"
    if link.get("proxy_address"):
        line += f" -> {link['proxy_address']}"
    if link.get("server_name"):
        line += f"  server_name {link['server_name']}"
    if link.get("model"):
        line += f"  ({link['model']} model)"
    return line


def evidence_value(value: Any) -> str:
    """Evidence as one line of text; full fingerprints are shortened for reading (the JSON
    document keeps them whole)."""
    if isinstance(value, dict):
        return "  ".join(f"{k} {_short(k, v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(evidence_value(v) for v in value) or "(none)"
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _short(key: str, value: Any) -> str:
    if key == "sha256" and isinstance(value, str) and len(value) == 64:
        return pki.short(value)
    return evidence_value(value)


def evidence_lines(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, text) pairs; a list of records gets one line per record, the key on the first."""
    lines: list[tuple[str, str]] = []
    for key, value in evidence.items():
        if isinstance(value, list) and len(value) > 1 and all(isinstance(v, dict) for v in value):
            lines += [(str(key) if i == 0 else "", evidence_value(v)) for i, v in enumerate(value)]
        else:
            lines.append((str(key), evidence_value(value)))
    return lines


def grouped(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings by area, in the order of the ids (areas are the hundreds)."""
    groups: dict[str, list[Finding]] = {}
    for finding in sorted(findings, key=lambda f: f.id):
        groups.setdefault(area_of(finding.id), []).append(finding)
    return list(groups.items())


def out_of_scope(report: Report, finding: Finding) -> bool:
    """Not evaluated only because the user left the remote side out (no --remote-context)."""
    unavailable = report.remote.get("unavailable")
    return (finding.status is Status.NOT_EVALUATED and bool(unavailable) and finding.cause == unavailable
            and "--remote-context" in finding.permission)


def needs_attention(finding: Finding) -> bool:
    return finding.status in (Status.FAIL, Status.WARN, Status.INFO) and finding.counts


def suppressed_note(finding: Finding) -> str:
    return f"suppressed: {finding.suppressed or 'no reason given'}"


@dataclass(frozen=True)
class RootCause:
    """A failed read that holds back several checks: shown once, with the checks under it."""

    number: int
    text: str  # the read's own reason
    permission: str
    held_back: tuple[str, ...]  # "ECKRC303" or "ECKRC303 [alias]"


def root_causes(findings: list[Finding]) -> list[RootCause]:
    """Not-evaluated causes shared by two findings or more, numbered in report order."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        if finding.status is Status.NOT_EVALUATED and finding.cause:
            groups.setdefault((finding.cause, finding.permission), []).append(finding)
    shared = [(key, held) for key, held in groups.items() if len(held) > 1]
    return [RootCause(i, cause, permission, tuple(_label(f) for f in held))
            for i, ((cause, permission), held) in enumerate(shared, 1)]


def _label(finding: Finding) -> str:
    return finding.id + (f" [{finding.alias}]" if finding.alias else "")


def cause_number(finding: Finding, causes: list[RootCause]) -> int:
    """The number of the shared root cause that holds `finding` back, 0 when none does."""
    for cause in causes:
        if finding.status is Status.NOT_EVALUATED and (finding.cause, finding.permission) == (
                cause.text, cause.permission) and _label(finding) in cause.held_back:
            return cause.number
    return 0


def without_cause(finding: Finding) -> str:
    """The message without the shared cause it ends with ("cannot read X: <cause>" -> "cannot read X")."""
    suffix = f": {finding.cause}"
    if finding.cause and finding.message.endswith(suffix):
        return finding.message[: -len(suffix)]
    return finding.message
