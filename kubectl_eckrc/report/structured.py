"""`-o json` and `-o yaml`: one document, described by docs/report.schema.json."""

from __future__ import annotations

import json
from typing import Any

import yaml

from kubectl_eckrc.findings import Finding, Report
from kubectl_eckrc.report.text import printable_report

SCHEMA_VERSION = 1
TOOL_NAME = "kubectl-eckrc"


def to_document(report: Report) -> dict[str, Any]:
    report = printable_report(report)  # json.dumps escapes them too; a consumer may print them raw
    s = report.summary
    return {
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": report.tool_version},
        "source": report.source,
        "takenAt": report.taken_at,
        "local": dict(report.local),
        "remote": dict(report.remote),
        "links": [dict(link) for link in report.links],
        "findings": [finding_document(f) for f in report.findings],
        "summary": {"passed": s.passed, "failed": s.failed, "warnings": s.warnings,
                    "skipped": s.skipped, "notEvaluated": s.not_evaluated,
                    "notApplicable": s.not_applicable, "info": s.info, "suppressed": s.suppressed},
        # every suppressed finding, with its reason: a suppression leaves a trace
        "suppressed": [{"id": f.id, "alias": f.alias, "status": f.status.value, "reason": f.suppressed}
                       for f in report.findings if not f.counts],
        "exitCode": report.exit_code,
    }


def finding_document(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "title": finding.title,
        "severity": finding.severity.value,
        "status": finding.status.value,
        "side": finding.side.value,
        "alias": finding.alias,
        "message": finding.message,
        "evidence": _plain(finding.evidence),
        "hint": finding.hint,
        "permission": finding.permission,
        "cause": finding.cause,
        "fix": {"action": finding.fix.action, "command": finding.fix.command} if finding.fix else None,
        "doc": finding.doc,
        "suppressed": finding.suppressed,
    }


def _plain(value: Any) -> Any:
    """Evidence is JSON-shaped already; tuples and odd scalars become lists and strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def render_json(report: Report) -> str:
    return json.dumps(to_document(report), indent=2, ensure_ascii=False) + "\n"


def render_yaml(report: Report) -> str:
    return yaml.safe_dump(to_document(report), sort_keys=False, allow_unicode=True)
