"""A fleet's report in every format: one summary line per link first (link, state, root
cause), then the details of the broken links as the single-link renderers show them. Every
finding carries its link: `local` (context, namespace, Elasticsearch) and `alias`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import yaml

from kubectl_eckrc.fleet import FleetReport, LinkReport
from kubectl_eckrc.report import junit, markdown, structured, table
from kubectl_eckrc.report.text import markdown_code, markdown_text, printable

SCHEMA_VERSION = 1
CAUSE_WIDTH = 100


def _remote_label(link: LinkReport) -> str:
    return link.remote.label if link.remote is not None else "(no given context)"


def _cause(link: LinkReport) -> str:
    finding = link.root_cause
    if finding is None:
        return "" if link.remote is not None else "remote side not read: " + link.unmatched
    text = f"{finding.id} {finding.message}"
    return text if len(text) <= CAUSE_WIDTH else text[: CAUSE_WIDTH - 1] + "…"


def fleet_line(fleet: FleetReport) -> str:
    counts: dict[str, int] = {}
    for link in fleet.links:
        counts[link.state] = counts.get(link.state, 0) + 1
    states = ", ".join(f"{n} {state}" for state, n in counts.items())
    noun = "link" if len(fleet.links) == 1 else "links"
    return f"{len(fleet.links)} {noun}" + (f": {states}" if states else "") + f"   (exit {fleet.exit_code})"


# --- table ----------------------------------------------------------------------------------------


def render_table(fleet: FleetReport, color: bool = False, unicode: bool = True) -> str:
    rows = [("LINK", "STATE", "REMOTE", "ROOT CAUSE")]
    rows += [(link.label, link.state, _remote_label(link), _cause(link)) for link in fleet.links]
    widths = [max(len(printable(r[i])) for r in rows) for i in range(3)]
    local, *remotes = fleet.contexts
    lines = [f"fleet   context {local}, remote contexts: {', '.join(remotes) or 'none'}"]
    if fleet.source != "live":
        lines.append(f"source  {fleet.source}, taken at {fleet.taken_at}")
    lines.append("")
    for row in rows:
        cells = [printable(c) for c in row]
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(cells[:3])) + "  " + cells[3])
    if fleet.unlinked:
        lines += ["", "no link configured: " + ", ".join(ref.label for ref in fleet.unlinked)]
    text = "\n".join(line.rstrip() for line in lines) + "\n"
    rule = "─" if unicode else "-"
    for link in fleet.broken:
        text += f"\n{rule * 2} {printable(link.label)} ({link.state}) {rule * 2}\n"
        text += table.render(link.report, color=color, unicode=unicode)
    text += "\n" + fleet_line(fleet) + "\n"
    return text if unicode else text.replace("…", "...").encode("ascii", "replace").decode("ascii")


# --- json / yaml ----------------------------------------------------------------------------------


def link_document(link: LinkReport) -> dict[str, Any]:
    cause = link.root_cause
    s = link.report.summary
    return {
        "local": link.local.document(),
        "alias": link.alias,
        "remote": link.remote.document() if link.remote is not None else None,
        "matchedBy": list(link.clues),
        "unmatched": link.unmatched or None,
        "state": link.state,
        "rootCause": {"id": cause.id, "message": cause.message} if cause is not None else None,
        "summary": {"passed": s.passed, "failed": s.failed, "warnings": s.warnings, "skipped": s.skipped,
                    "notEvaluated": s.not_evaluated, "notApplicable": s.not_applicable, "info": s.info,
                    "suppressed": s.suppressed},
        "exitCode": link.exit_code,
    }


def to_document(fleet: FleetReport) -> dict[str, Any]:
    findings = []
    for link in fleet.links:
        single = structured.to_document(link.report)
        # a side's finding (alias null in a single-link report) belongs to this link too
        findings += [{**f, "local": link.local.document(), "alias": link.alias} for f in single["findings"]]
    return {
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": structured.TOOL_NAME, "version": fleet.tool_version},
        "fleet": True,
        "source": fleet.source,
        "takenAt": fleet.taken_at,
        "contexts": {"local": fleet.contexts[0], "remote": list(fleet.contexts[1:])},
        "links": [link_document(link) for link in fleet.links],
        "unlinked": [ref.document() for ref in fleet.unlinked],
        "findings": findings,
        "exitCode": fleet.exit_code,
    }


def render_json(fleet: FleetReport) -> str:
    return json.dumps(to_document(fleet), indent=2, ensure_ascii=False) + "\n"


def render_yaml(fleet: FleetReport) -> str:
    return yaml.safe_dump(to_document(fleet), sort_keys=False, allow_unicode=True)


# --- junit ----------------------------------------------------------------------------------------


def render_junit(fleet: FleetReport) -> str:
    """One testsuite per link (named after it), as the single-link report makes it."""
    suites = ET.Element("testsuites", {"name": "kubectl-eckrc doctor -A"})
    for link in fleet.links:
        suite = ET.fromstring(junit.render(link.report).split("\n", 1)[1])
        suite.set("name", printable(link.label))
        for case in suite.iter("testcase"):
            case.set("classname", f"{case.get('classname')}.{printable(link.label)}")
        suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# --- markdown -------------------------------------------------------------------------------------


def render_markdown(fleet: FleetReport) -> str:
    parts = [f"## kubectl eckrc doctor -A: {markdown_text(fleet_line(fleet))}", "",
             "| link | state | remote | root cause |", "|---|---|---|---|"]
    for link in fleet.links:
        parts.append(f"| {markdown_code(link.label)} | {link.state} | {markdown_code(_remote_label(link))} | "
                     f"{markdown_text(_cause(link))} |")
    parts.append("")
    if fleet.unlinked:
        parts += ["No link configured: " + ", ".join(markdown_code(r.label) for r in fleet.unlinked), ""]
    for link in fleet.broken:
        single = markdown.render(link.report).replace("\n## ", "\n#### ")
        single = single.removeprefix("## ")
        parts += [f"### {markdown_code(link.label)}", "", "#### " + single]
    return "\n".join(parts)


def render(fleet: FleetReport, output: str, color: bool = False, unicode: bool = True) -> str:
    if output == "json":
        return render_json(fleet)
    if output == "yaml":
        return render_yaml(fleet)
    if output == "junit":
        return render_junit(fleet)
    if output == "markdown":
        return render_markdown(fleet)
    return render_table(fleet, color=color, unicode=unicode)
