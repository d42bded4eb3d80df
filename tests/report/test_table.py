"""The default table report."""

from __future__ import annotations

import re

from kubectl_eckrc import __version__
from kubectl_eckrc.report import table
from tests.report.reports import healthy_report, no_remote_report, stale_ca_report

ANSI = re.compile(r"\x1b\[")


def test_header_names_both_sides_and_the_link() -> None:
    lines = table.render(healthy_report()).splitlines()
    assert lines[0] == "local   prod-a  logging/local-es  Elasticsearch 8.17.1  ECK 3.2.0"
    assert lines[1] == "remote  prod-b  search/remote-es  Elasticsearch 8.17.1  ECK 3.2.0"
    assert lines[2].startswith("link    remote-es  proxy -> 127.0.0.10:9443  server_name remote-es-es-remote")


def test_areas_appear_in_id_order() -> None:
    text = table.render(healthy_report())
    areas = ["Access", "Remote cluster server", "TLS trust", "API key", "Connection", "Certificate model"]
    positions = [text.index(f"\n{area}\n") for area in areas]
    assert positions == sorted(positions)


def test_failure_shows_evidence_cause_fix_and_docs() -> None:
    text = table.render(stale_ca_report())
    block = text[text.index("✖ ECKRC303"):]
    block = block[: block.index("\n  ", block.index("docs:"))]
    assert "trusted:" in block and "current:" in block
    assert "cause:" in block
    assert "fix:      kubectl eckrc fix --alias remote-es   (sync-ca)" in block
    url = f"https://github.com/kubectl-eckrc/kubectl-eckrc/blob/v{__version__}/docs/checks.md#eckrc303"
    assert f"docs:     {url}   (offline: kubectl eckrc checks ECKRC303)" in block
    assert "- ECKRC304  skipped: ECKRC303 failed" in text


def test_not_evaluated_shows_reason_and_what_would_let_it_run() -> None:
    text = table.render(no_remote_report())
    assert "? ECKRC102  not evaluated: cannot read the remote environment" in text
    causes = text[text.index("Not evaluated because"):]  # shared by every remote check: said once
    assert "needs:      pass --remote-context" in causes and text.count("pass --remote-context") == 1


def test_summary_line_matches_the_exit_code() -> None:
    report = stale_ca_report()
    last = table.render(report).rstrip().splitlines()[-1]
    s = report.summary
    assert s.warnings == 1
    assert last == (f"{s.passed} passed, {s.failed} failed, 1 warning, {s.skipped} skipped, "
                    f"{s.not_evaluated} not evaluated, 8 not applicable   (exit 1)")
    # the certificate-model checks, ECKRC508 and ECKRC509 (no --index, no --follow) and the strong
    # identity checks (unused), not counted as passed
    assert s.not_applicable == 8
    assert table.render(healthy_report()).rstrip().endswith("(exit 0)")


def test_no_colour_unless_asked() -> None:
    assert not ANSI.search(table.render(stale_ca_report()))
    assert ANSI.search(table.render(stale_ca_report(), color=True))


def test_ascii_fallback_has_only_ascii() -> None:
    text = table.render(stale_ca_report(), unicode=False)
    assert text.isascii()
    assert "x ECKRC303" in text and "+ ECKRC101" in text


def test_a_read_that_holds_back_many_checks_is_shown_once_with_them_listed() -> None:
    from kubectl_eckrc.checks.engine import build_report, run_checks
    from kubectl_eckrc.snapshot import Unavailable
    from tests.snapshot_builder import healthy_pair

    pair = healthy_pair()
    cause = "cannot read the elastic user's password: 403 Forbidden: Secret logging/local-es-es-elastic-user"
    pair.local.es_unavailable = Unavailable(cause, "forbidden", "get secrets in namespace logging")
    snap = pair.build()
    text = table.render(build_report(snap, run_checks(snap)))
    assert text.count(cause) == 1
    assert text.count("needs:      get secrets in namespace logging") == 1
    block = text[text.index("Not evaluated because"):]
    held = block[block.index("holds back: "):].splitlines()[0]
    assert "ECKRC107" in held and "ECKRC501" in held
    assert "? ECKRC501  not evaluated: cannot read the local cluster settings (cause 1 below)" in text
