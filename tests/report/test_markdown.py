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


def test_a_read_that_holds_back_many_checks_is_one_section_in_the_ticket() -> None:
    from kubectl_eckrc.checks.engine import build_report, run_checks
    from kubectl_eckrc.snapshot import Unavailable
    from tests.snapshot_builder import healthy_pair

    pair = healthy_pair()
    cause = "cannot read the elastic user's password: 403 Forbidden: Secret logging/local-es-es-elastic-user"
    pair.local.es_unavailable = Unavailable(cause, "forbidden", "get secrets in namespace logging")
    snap = pair.build()
    text = markdown.render(build_report(snap, run_checks(snap)))
    assert text.count(cause) == 1 and "- **needs**: get secrets in namespace logging" in text
    assert "cannot read the local cluster settings (cause 1 above)" in text


def test_an_exit_3_report_leads_with_what_blocked_it() -> None:
    from tests.report.reports import unreachable_report

    report = unreachable_report()
    assert report.exit_code == 3
    text = markdown.render(report)
    title = "## kubectl eckrc doctor: could not evaluate\n\n"
    assert text.startswith(title + "**Could not evaluate, blocked by:**")
    blocked = text[: text.index("| side")]
    assert "ECKRC107" in blocked and "(cause 1 below)" in blocked
