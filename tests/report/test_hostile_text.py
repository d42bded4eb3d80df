"""Strings from clusters and bundles are text, never terminal commands, markup or structure.

A report whose every cluster-given string (names, link fields, messages, evidence, causes) is
hostile goes through each renderer: no C0/C1 control character (but the renderer's own line
breaks) survives, Markdown and table syntax stay literal, JSON and JUnit XML still parse.
"""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from kubectl_eckrc.findings import FixRef, Report, Status
from kubectl_eckrc.report import junit, markdown, structured, table
from kubectl_eckrc.report.text import markdown_code, markdown_text, printable
from tests.report.reports import stale_ca_report

HOSTILE = ("evil\x1b[2J\x1b]0;pwned\x07\r\nline2\x00\x85\x9b31m\u202egnp.exe | col | "
           "# head *bold* [link](http://x) <img src=x> `tick` ~~s~~ &amp;")
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile_report() -> Report:
    report = stale_ca_report()
    findings = [dataclasses.replace(f, alias=HOSTILE, message=f"{f.message} {HOSTILE}", hint=HOSTILE,
                                    evidence={**f.evidence, "subject": HOSTILE, HOSTILE: [HOSTILE]},
                                    status=Status.FAIL if f.id == "ECKRC303" else f.status,
                                    fix=FixRef("sync-ca", f"kubectl eckrc fix --alias {HOSTILE}"))
                for f in report.findings]
    links = [{**link, "alias": HOSTILE, "proxy_address": HOSTILE, "server_name": HOSTILE}
             for link in report.links]
    return dataclasses.replace(report, findings=findings, links=links,
                               local={**report.local, "context": HOSTILE, "namespace": HOSTILE},
                               remote={**report.remote, "elasticsearch": HOSTILE})


RENDERED = {
    "table": lambda r: table.render(r, color=False),
    "table colour": lambda r: table.render(r, color=True),
    "markdown": markdown.render,
    "junit": junit.render,
    "json": structured.render_json,
    "yaml": structured.render_yaml,
}


@pytest.mark.parametrize("fmt", RENDERED)
def test_no_control_character_from_a_cluster_reaches_any_format(fmt: str) -> None:
    text = RENDERED[fmt](hostile_report())
    if fmt == "table colour":  # our own SGR codes are the only escapes left
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    assert "\\x1b" in text or "\\\\x1b" in text  # shown, visibly


def test_json_and_yaml_stay_one_valid_document() -> None:
    report = hostile_report()
    document = json.loads(structured.render_json(report))
    assert yaml.safe_load(structured.render_yaml(report)) == document
    assert document["links"][0]["alias"].startswith("evil\\x1b[2J")


def test_junit_stays_valid_xml() -> None:
    suite = ET.fromstring(junit.render(hostile_report()).split("\n", 1)[1])
    assert suite.tag == "testsuite" and len(suite) == len(hostile_report().findings)


def test_markdown_cannot_be_forged_by_a_name() -> None:
    text = markdown.render(hostile_report())
    ours = [line for line in text.splitlines() if line.startswith("#")]
    assert all(line.startswith(("## kubectl eckrc doctor", "### FAIL", "### warning")) for line in ours)
    outside_code = re.sub(r"(`+).*?\1", "", text)  # inside a code span, markup is literal anyway
    assert not re.search(r"(?<!\\)<img", outside_code)
    assert not re.search(r"(?<!\\)\]\(http", outside_code)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    columns = {len(re.split(r"(?<!\\)\|", row)) for row in rows if "status" not in row and "---" not in row}
    assert len(columns) <= 2  # two tables (environments, other findings); no cell adds a column


def test_table_keeps_one_line_per_field() -> None:
    lines = table.render(hostile_report()).splitlines()
    assert not any(line.startswith("line2") for line in lines)


@pytest.mark.parametrize(("text", "expected"), [
    ("a\x1bb", "a\\x1bb"), ("a\u202eb", "a\\u202eb"), ("a\x85b", "a\\x85b"), ("ok é ✔", "ok é ✔"),
])
def test_printable_escapes_exactly_the_control_characters(text: str, expected: str) -> None:
    assert printable(text) == expected


def test_markdown_helpers() -> None:
    assert markdown_text("# x | *y*", starts_line=True) == "\\# x \\| \\*y\\*"
    assert markdown_text("8.17.1 | x") == "8.17.1 \\| x"
    assert markdown_code("a `b` c") == "``a `b` c``"
    assert markdown_code("`") == "`` ` ``"
