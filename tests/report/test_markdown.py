"""-o markdown: a ticket-ready report."""

from __future__ import annotations

from kubectl_eckrc.report import markdown
from tests.report.reports import healthy_report, stale_ca_report


def test_title_states_the_verdict() -> None:
    assert markdown.render(healthy_report()).startswith("## kubectl eckrc doctor: healthy\n")
    assert markdown.render(stale_ca_report()).startswith("## kubectl eckrc doctor: 1 failed")


def test_environments_table_lists_both_sides() -> None:
    text = markdown.render(stale_ca_report())
    assert "| local  | prod-a" in text and "| remote | prod-b" in text


def test_failures_come_first_with_evidence_and_fix_then_the_rest_collapsed() -> None:
    text = markdown.render(stale_ca_report())
    failure = text.index("### FAIL: ECKRC303")
    details = text.index("<details>")
    assert failure < details
    section = text[failure:details]
    assert "- **cause**:" in section and "- trusted:" in section
    assert "- **fix**: `kubectl eckrc fix --alias remote-es` (sync-ca)" in section
    assert "| skipped       | ECKRC304 |" in text[details:]
    assert text.rstrip().endswith("(exit 1)`")
