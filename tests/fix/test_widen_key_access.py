"""widen-key-access: only when asked for, exactly the patterns ECKRC508 says the key hides."""

from __future__ import annotations

from dataclasses import replace

from kubectl_eckrc.checks.engine import build_report, run_checks
from kubectl_eckrc.commandline import with_fix_commands
from kubectl_eckrc.fix.actions import widen_key_access
from kubectl_eckrc.fix.plan import build_plan
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import UseProbe
from tests.fix.conftest import fix_options
from tests.snapshot_builder import ALIAS, KEY_ID, PairBuilder, healthy_pair

ASKED = fix_options(widen_key_access=True)
METRICS = "metrics-2026.12.01"


def _metrics_search(pair: PairBuilder, as_user: str = "", caps: object = None, user: object = None) -> None:
    found = {"indices": [{"name": METRICS, "attributes": ["open"]}], "aliases": [], "data_streams": []}
    nothing = {"indices": [], "fields": {}}
    pair.uses.append(UseProbe(ALIAS, "metrics-*", as_user, caps or nothing,
                              {"indices": [], "aliases": [], "data_streams": []}, found, user))


def _finding(pair: PairBuilder) -> dict[str, object]:
    found = next(f for f in run_checks(pair.build()) if f.id == "ECKRC508")
    return {"status": found.status.value, "widen": found.evidence.get("widenKeyAccess")}


def test_the_key_hiding_a_pattern_is_widened_with_one_more_search_entry() -> None:
    pair = healthy_pair()
    key = pair.remote.api_keys[KEY_ID]["api_keys"][0]
    key["access"] = {"search": [{"names": ["logs-*"], "query": {"term": {"team": "a"}}}],
                     "replication": [{"names": ["leader-*"]}]}
    _metrics_search(pair)
    assert _finding(pair) == {"status": "fail", "widen": ["metrics-*"]}
    [change] = widen_key_access.plan(pair.build(), [], ASKED)
    assert (change.method, change.path) == ("PUT", f"/_security/cross_cluster/api_key/{KEY_ID}")
    assert change.body == {"access": {
        "search": [{"names": ["logs-*"], "query": {"term": {"team": "a"}}}, {"names": ["metrics-*"]}],
        "replication": [{"names": ["leader-*"]}]}}
    assert "+  - names:\n+    - metrics-*" in change.diff
    assert change.target.side == "remote" and not change.restarts


def test_without_the_flag_nothing_is_planned_and_the_blocker_says_how_to_ask(options: FixOptions) -> None:
    pair = healthy_pair()
    _metrics_search(pair)
    assert widen_key_access.plan(pair.build(), [], options) == []
    findings = run_checks(pair.build())
    plan = build_plan(pair.build(), findings, options, ("l", "r"))
    assert plan.changes == ()
    assert [b.finding_id for b in plan.blockers] == ["ECKRC508"]
    assert "--widen-key-access" in plan.blockers[0].todo


def test_what_the_local_role_hides_is_not_fixes_to_change() -> None:
    reason = (f"action [indices:data/read/field_caps] towards remote cluster [{ALIAS}] is unauthorized for "
              "user [elastic] run as [app-user] with effective roles [app-role] because no remote indices "
              "privileges apply for the target cluster")
    pair = healthy_pair()
    refused = {"status": 403, "error": {"type": "security_exception", "reason": reason}}
    _metrics_search(pair, "app-user", refused, {"app-user": {"roles": ["app-role"]}})
    assert _finding(pair) == {"status": "fail", "widen": None}
    assert widen_key_access.plan(pair.build(), [], ASKED) == []
    findings = run_checks(pair.build())
    plan = build_plan(pair.build(), findings, ASKED, ("l", "r"))
    assert plan.changes == () and "add to role app-role" in plan.blockers[0].todo


def test_doctor_prints_the_fix_command_with_the_flag_only_for_the_key() -> None:
    pair = healthy_pair()
    _metrics_search(pair)
    snap = pair.build()
    scope = replace(ASKED.scope, indices=("metrics-*",))
    report = with_fix_commands(build_report(snap, run_checks(snap)), scope, snap)
    found = next(f for f in report.findings if f.id == "ECKRC508")
    assert found.fix is not None
    assert found.fix.command.endswith("--alias remote-es --index 'metrics-*' --widen-key-access")
    pair.uses = [replace(pair.uses[-1], field_caps={"status": 403, "error": {
        "type": "security_exception", "reason": "... because no remote indices privileges apply ..."}})]
    snap = pair.build()
    report = with_fix_commands(build_report(snap, run_checks(snap)), scope, snap)
    assert next(f for f in report.findings if f.id == "ECKRC508").fix is None
