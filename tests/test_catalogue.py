"""Invariants of the check catalogue (istio-style: ids are forever)."""

from __future__ import annotations

import re
from pathlib import Path

from kubectl_eckrc.checks import access, cert_model, connection, credentials, exposure, identity, trust, use
from kubectl_eckrc.checks.registry import ALL_CHECKS, FAILURE_ROWS, FIX_ACTIONS, RETIRED
from kubectl_eckrc.commands.checks import doc_page
from kubectl_eckrc.findings import Status
from tests.checks.helpers import findings
from tests.snapshot_builder import certificate_model_pair, healthy_pair, make_ca
from tests.test_doctor_live import ROW_CAUGHT_BY, ROWS_WITHOUT_SCENARIO
from tests.test_doctor_live import SCENARIOS as LIVE_SCENARIOS
from tests.twin.faults import SCENARIOS as TWIN_SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
BINDING = [f"ECKRC{n}" for n in (*range(101, 109), *range(201, 206), *range(301, 308), *range(401, 407),
                                 *range(501, 507), 601, 602, 603)]


def test_every_binding_id_exists_once() -> None:
    ids = [spec.id for spec in ALL_CHECKS]
    assert len(ids) == len(set(ids))
    assert set(BINDING) <= set(ids)
    assert not set(ids) & set(RETIRED)


def test_catalogue_is_in_id_order_and_each_module_holds_its_hundreds() -> None:
    assert [s.id for s in ALL_CHECKS] == sorted(s.id for s in ALL_CHECKS)
    for module, hundred in ((access, "1"), (exposure, "2"), (trust, "3"), (credentials, "4"), (identity, "4"),
                            (connection, "5"), (use, "5"), (cert_model, "6")):
        assert all(spec.id.startswith(f"ECKRC{hundred}") for spec in module.CHECKS), module.__name__


def test_every_check_has_title_doc_and_manual_fix() -> None:
    for spec in ALL_CHECKS:
        assert re.fullmatch(r"ECKRC\d{3}", spec.id)
        assert spec.title and not spec.title.endswith(".")
        assert len(spec.doc) > 80, spec.id
        assert "Fix by hand:" in spec.doc, spec.id
        # docs/checks.md tells, for every check, what it can and cannot see on a real cluster
        assert "On a real cluster:" in spec.doc, spec.id


def test_every_failure_row_is_caught_by_a_live_scenario_or_says_why_not() -> None:
    """Not the self-declared `covers` tags: each row names the twin scenario reproducing it and
    the check that fails there, and tests/test_doctor_live.py asserts that check fails or warns
    in that scenario's doctor run."""
    assert set(FAILURE_ROWS) == {f"F{i}" for i in range(1, 24)}
    assert set(ROW_CAUGHT_BY) | set(ROWS_WITHOUT_SCENARIO) == set(FAILURE_ROWS)
    assert not set(ROW_CAUGHT_BY) & set(ROWS_WITHOUT_SCENARIO)
    ids = {spec.id for spec in ALL_CHECKS}
    for row, (scenario, check) in ROW_CAUGHT_BY.items():
        assert scenario in LIVE_SCENARIOS, f"{row}: {scenario} has no live doctor run"
        assert row in TWIN_SCENARIOS[scenario].rows, f"{row}: the twin's {scenario} does not reproduce it"
        assert check in ids and LIVE_SCENARIOS[scenario].code == 1, (row, scenario, check)
    for row in ROWS_WITHOUT_SCENARIO:
        reproducing = [name for name, s in TWIN_SCENARIOS.items() if row in s.rows]
        assert reproducing == [], f"{row} has a scenario now ({reproducing}): prove it in ROW_CAUGHT_BY"


def test_requires_refer_to_existing_checks_and_fixes_to_known_actions() -> None:
    ids = {spec.id for spec in ALL_CHECKS}
    for spec in ALL_CHECKS:
        assert set(spec.requires) <= ids, spec.id
        assert spec.id not in spec.requires
        assert spec.fix is None or spec.fix in FIX_ACTIONS, spec.id


def test_docs_checks_md_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == doc_page(), "run scripts/gen-checks-doc"
    for spec in ALL_CHECKS:
        assert f'<a id="{spec.anchor}"></a>' in committed


def _broken_pairs() -> list[object]:
    pairs = []
    stale = healthy_pair()
    stale.set_configured_ca([make_ca("third-es", "third-ca")])
    pairs.append(stale)
    no_rcs = healthy_pair()
    no_rcs.remote.es["spec"]["remoteClusterServer"] = {"enabled": False}
    pairs.append(no_rcs)
    sniff = healthy_pair()
    sniff.local_cluster_setting("mode", None)
    pairs.append(sniff)
    offline = healthy_pair()
    offline.present([], tcp="timeout", tcp_error="timed out", tls="skipped")
    offline.remote_info(connected=False, num_proxy_sockets_connected=0, skip_unavailable=True)
    pairs.append(offline)
    cert = certificate_model_pair()
    cert.local_cluster_setting("proxy_address", "127.0.0.10:9443")
    pairs.append(cert)
    return pairs


def test_every_failure_and_warning_has_a_message_and_a_hint() -> None:
    for pair in _broken_pairs():
        for finding in findings(pair):  # type: ignore[arg-type]
            if finding.status in (Status.FAIL, Status.WARN):
                assert finding.message and finding.hint, finding.id
            if finding.status is Status.SKIPPED:
                assert finding.message.startswith("skipped: ECKRC"), finding.id


def test_every_fix_action_is_named_by_a_check_and_planned_by_fix() -> None:
    from kubectl_eckrc.checks.registry import ACTIONS
    from kubectl_eckrc.fix.plan import planners

    named = {spec.fix for spec in ALL_CHECKS if spec.fix}
    assert named == set(FIX_ACTIONS)  # no check names an unknown action, no action is orphaned
    assert set(planners()) == set(FIX_ACTIONS)
    assert {implied for action in ACTIONS for implied in action.implies} <= set(FIX_ACTIONS)


def test_a_check_fix_repairs_has_no_remediation_for_a_person() -> None:
    for spec in ALL_CHECKS:
        assert not (spec.fix and spec.remediation), spec.id
