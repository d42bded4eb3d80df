"""ECKRC508, proof of use: what a cross-cluster search on --index would get, and who hides what."""

from __future__ import annotations

import json
from typing import Any

from kubectl_eckrc.findings import Status
from kubectl_eckrc.snapshot import Unavailable, UseProbe, from_dict, to_dict
from tests.checks.helpers import outcome
from tests.snapshot_builder import ALIAS, KEY_ID, PairBuilder, healthy_pair, logs_search

REMOTE_INDICES = ["logs-2026.12.01", "logs-2026.12.02", "metrics-2026.12.01"]


def resolved(names: list[str]) -> dict[str, Any]:
    indices = [{"name": n, "attributes": ["open"]} for n in names]
    return {"indices": indices, "aliases": [], "data_streams": []}


def caps(names: list[str]) -> dict[str, Any]:
    return {"indices": [f"{ALIAS}:{n}" for n in names], "fields": {"@timestamp": {"date": {"type": "date"}}}}


def refusal(reason: str, status: int = 403) -> dict[str, Any]:
    return {"status": status, "error": {"type": "security_exception", "reason": reason}}


def with_use(pair: PairBuilder, pattern: str, field_caps: Any, remote: Any = None, as_user: str = "",
             user: Any = None) -> PairBuilder:
    matching = [n for n in REMOTE_INDICES if n.startswith(pattern.rstrip("*"))]
    pair.uses.append(UseProbe(ALIAS, pattern, as_user, field_caps, resolved([]),
                              resolved(matching) if remote is None else remote, user))
    return pair


def bare_pair() -> PairBuilder:
    """The healthy pair as doctor sees it without --index."""
    return healthy_pair()


def test_the_healthy_link_with_index_logs_passes() -> None:
    pair = healthy_pair()
    pair.uses.append(logs_search())
    assert outcome(pair, "ECKRC508").status is Status.PASS


def test_without_index_the_check_does_not_apply() -> None:
    finding = outcome(bare_pair(), "ECKRC508")
    assert finding.status is Status.NOT_APPLICABLE and "no --index given" in finding.message


def test_a_search_reaching_every_matching_index_passes() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(["logs-2026.12.01", "logs-2026.12.02"]))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.PASS, finding.message
    assert finding.message == (f"a search on {ALIAS}:logs-* reaches 2 indices (logs-2026.12.01, "
                               "logs-2026.12.02)")
    assert finding.evidence["patterns"]["logs-*"]["hidden"] == []


def test_indices_outside_the_keys_access_are_hidden_by_the_key_with_the_exact_key_change() -> None:
    pair = with_use(bare_pair(), "metrics-*", caps([]))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert finding.message == (f"a search on {ALIAS}:metrics-* gets nothing; 1 index (metrics-2026.12.01) "
                               f"hidden by the key's access (API key {KEY_ID} grants search on logs-*)")
    assert f"PUT /_security/cross_cluster/api_key/{KEY_ID}" in finding.hint
    assert '{"search": [{"names": ["logs-*"]}, {"names": ["metrics-*"]}]}' in finding.hint
    assert finding.evidence["patterns"]["metrics-*"]["hiddenByKey"] == ["metrics-2026.12.01"]


def test_indices_the_key_grants_but_the_local_role_does_not_are_hidden_by_the_role() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(["logs-2026.12.01"]), as_user="day-user",
                    user={"day-user": {"roles": ["one-day"]}})
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.WARN  # something is reached, not everything
    assert "hidden by the remote_indices of user day-user (roles one-day)" in finding.message
    assert finding.hint.startswith("add to role one-day: remote_indices")
    assert finding.evidence["user"] == "day-user"


def test_a_user_without_remote_indices_names_the_role_and_the_missing_privilege() -> None:
    reason = (f"action [indices:data/read/field_caps] towards remote cluster [{ALIAS}] is unauthorized for "
              "user [elastic] run as [app-user] with effective roles [app-role] because no remote indices "
              "privileges apply for the target cluster")
    pair = with_use(bare_pair(), "logs-*", refusal(reason), as_user="app-user",
                    user={"app-user": {"roles": ["app-role"]}})
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert finding.message == (f"a search on {ALIAS}:logs-* is refused: user app-user (roles app-role) "
                               f"has no remote_indices privilege for {ALIAS}")
    assert finding.evidence["patterns"]["logs-*"]["missingPrivilege"] == "remote_indices"
    assert (f'add to role app-role: remote_indices [{{"clusters": ["{ALIAS}"], "names": ["logs-*"], '
            '"privileges": ["read", "read_cross_cluster", "view_index_metadata"]}]') in finding.hint


def test_an_explicit_name_refused_by_the_key_names_the_keys_access() -> None:
    reason = ("action [indices:data/read/field_caps] towards remote cluster is unauthorized for user "
              f"[elastic] with assigned roles [superuser] authenticated by API key id [{KEY_ID}] of user "
              "[elastic] on indices [metrics-2026.12.01], this action is granted by the index privileges "
              "[read,all]")
    pair = with_use(bare_pair(), "metrics-2026.12.01", refusal(reason))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert f"API key {KEY_ID} grants search on logs-*" in finding.message


def test_run_as_refused_is_not_evaluated_with_the_privilege_it_needs() -> None:
    reason = ("action [indices:data/read/field_caps] is unauthorized for user [elastic] with effective roles "
              "[superuser], because user [elastic] is unauthorized to run as [nobody]")
    pair = with_use(bare_pair(), "logs-*", refusal(reason), as_user="nobody",
                    user=Unavailable("404 on GET /_security/user/nobody", "not-found"))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.NOT_EVALUATED
    assert "there is no user nobody on the local cluster" in finding.message
    assert "run_as" in finding.permission


def test_without_remote_access_an_empty_search_is_a_warning_that_says_why_it_cannot_tell() -> None:
    pair = with_use(bare_pair(), "metrics-*", caps([]),
                    remote=Unavailable("no access to the remote environment", "no-access"))
    pair.no_remote_access()
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.WARN
    assert "--remote-context" in finding.hint


def test_through_a_link_that_is_down_the_proof_is_not_evaluated_with_the_reason() -> None:
    down = Unavailable(f"500 on GET /{ALIAS}:logs-*/_field_caps: Unable to connect to [{ALIAS}]", "error")
    pair = with_use(bare_pair(), "logs-*", down)
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.NOT_EVALUATED
    assert finding.message == f"cannot read {ALIAS}:logs-*/_field_caps: {down.reason}"


def test_several_patterns_report_each_and_the_worst_status_wins() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(["logs-2026.12.01", "logs-2026.12.02"]))
    with_use(pair, "metrics-*", caps([]))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert set(finding.evidence["patterns"]) == {"logs-*", "metrics-*"}
    assert "reaches 2 indices" in finding.message and "gets nothing" in finding.message


def test_key_entries_with_field_or_document_security_are_named_on_a_pass() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(["logs-2026.12.01", "logs-2026.12.02"]))
    key = pair.remote.api_keys[KEY_ID]["api_keys"][0]
    key["access"] = {"search": [{"names": ["logs-*"], "query": {"term": {"team": "a"}}}]}
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.PASS
    assert "the key limits fields or documents of logs-*" in finding.message


def test_a_key_the_remote_does_not_know_leaves_the_cause_to_the_key_checks() -> None:
    pair = with_use(bare_pair(), "metrics-*", caps([]))
    pair.remote.api_keys[KEY_ID] = Unavailable(f"404 on GET /_security/api_key?id={KEY_ID}", "not-found")
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert "hidden by the key's access or the local role" in finding.message


def test_a_bundle_carries_the_index_reads_and_gives_the_same_verdict() -> None:
    pair = with_use(bare_pair(), "metrics-*", caps([]), as_user="app-user",
                    user=Unavailable("404 on GET /_security/user/app-user", "not-found"))
    snap = pair.build()
    loaded = from_dict(json.loads(json.dumps(to_dict(snap))))
    assert loaded.uses == snap.uses
    assert outcome(loaded, "ECKRC508") == outcome(snap, "ECKRC508")
