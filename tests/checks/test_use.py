"""ECKRC508, proof of use: what a cross-cluster search on --index would get, and who hides what."""

from __future__ import annotations

import json
from typing import Any

import pytest

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


# --- exact messages, hints and evidence of each outcome ------------------------------------------

LOGS = ["logs-2026.12.01", "logs-2026.12.02"]
KEY_HINT = (f"widen the key's access on the remote: PUT /_security/cross_cluster/api_key/{KEY_ID} "
            '{"access": {"search": [{"names": ["logs-*"]}, {"names": ["metrics-*"]}]}} '
            "(kubectl eckrc fix --index 'metrics-*' --widen-key-access does it)")


def role_hint(role: str, pattern: str = "logs-*") -> str:
    entry = (f'[{{"clusters": ["{ALIAS}"], "names": ["{pattern}"], '
             '"privileges": ["read", "read_cross_cluster", "view_index_metadata"]}]')
    return (f"add to role {role}: remote_indices {entry} "
            f"(POST /_security/role/{role} with its other privileges kept)")


def remote_of(names: list[str]) -> dict[str, Any]:
    return resolved(names)


def test_a_pass_names_one_index_in_the_singular_and_carries_no_user_and_nothing_to_widen() -> None:
    pair = with_use(bare_pair(), "logs-2026.12.01", caps(["logs-2026.12.01"]))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.PASS
    assert finding.message == f"a search on {ALIAS}:logs-2026.12.01 reaches 1 index (logs-2026.12.01)"
    assert finding.hint == ""
    assert finding.evidence["patterns"] == {"logs-2026.12.01": {"visible": ["logs-2026.12.01"], "hidden": []}}
    assert "user" not in finding.evidence and "widenKeyAccess" not in finding.evidence


@pytest.mark.parametrize(("count", "listed"), [
    (3, "logs-2026.12.01, logs-2026.12.02, logs-2026.12.03"),
    (4, "logs-2026.12.01, logs-2026.12.02, logs-2026.12.03 and 1 more"),
    (5, "logs-2026.12.01, logs-2026.12.02, logs-2026.12.03 and 2 more"),
])
def test_a_pass_shows_three_indices_and_counts_the_rest(count: int, listed: str) -> None:
    names = [f"logs-2026.12.0{d}" for d in range(1, count + 1)]
    pair = with_use(bare_pair(), "logs-*", caps(names), remote=remote_of(names))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.PASS
    assert finding.message == f"a search on {ALIAS}:logs-* reaches {count} indices ({listed})"


def test_field_security_on_the_key_is_named_word_for_word_on_a_pass() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(LOGS))
    key = pair.remote.api_keys[KEY_ID]["api_keys"][0]
    key["access"] = {"search": [{"names": ["logs-*"], "field_security": {"grant": ["message"]}},
                                {"names": ["metrics-*"], "query": {"term": {"team": "a"}}}]}
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.PASS
    assert finding.message == (f"a search on {ALIAS}:logs-* reaches 2 indices (logs-2026.12.01, "
                               "logs-2026.12.02) (the key limits fields or documents of logs-*)")


def test_a_restricted_key_entry_the_search_does_not_reach_is_not_named() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(LOGS))
    key = pair.remote.api_keys[KEY_ID]["api_keys"][0]
    key["access"] = {"search": [{"names": ["logs-*"]}, {"names": ["metrics-*"], "query": {"term": {"a": 1}}}]}
    finding = outcome(pair, "ECKRC508")
    assert finding.message == (f"a search on {ALIAS}:logs-* reaches 2 indices (logs-2026.12.01, "
                               "logs-2026.12.02)")


def test_a_pattern_matching_nothing_on_the_remote_says_so_and_asks_to_check_it() -> None:
    pair = with_use(bare_pair(), "traces-*", caps([]), remote=remote_of([]))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.WARN
    assert finding.message == "no index on the remote matches traces-*"
    assert finding.hint == "check the pattern traces-*"
    assert finding.evidence["patterns"]["traces-*"] == {"visible": [], "hidden": []}
    assert "widenKeyAccess" not in finding.evidence


def test_an_empty_search_without_remote_access_says_what_it_got_and_that_hidden_is_unknown() -> None:
    pair = with_use(bare_pair(), "metrics-*", caps([]),
                    remote=Unavailable("no access to the remote environment", "no-access"))
    pair.no_remote_access()
    finding = outcome(pair, "ECKRC508")
    assert finding.message == f"a search on {ALIAS}:metrics-* gets no index"
    assert finding.hint == "pass --remote-context to tell whether indices exist on the remote"
    assert finding.evidence["patterns"]["metrics-*"] == {"visible": [], "hidden": "unknown"}


def test_hidden_by_the_key_gives_the_exact_change_and_what_fix_would_widen() -> None:
    pair = with_use(bare_pair(), "metrics-*", caps([]))
    finding = outcome(pair, "ECKRC508")
    assert finding.hint == KEY_HINT
    assert finding.evidence["widenKeyAccess"] == ["metrics-*"]
    assert finding.evidence["patterns"]["metrics-*"] == {
        "visible": [], "hidden": ["metrics-2026.12.01"], "keyId": KEY_ID, "keyAccess": ["logs-*"],
        "hiddenByKey": ["metrics-2026.12.01"]}


def test_hidden_by_the_key_next_to_a_reached_index_is_a_warning() -> None:
    both = ["logs-2026.12.01", "metrics-2026.12.01"]
    pair = with_use(bare_pair(), "*", caps(["logs-2026.12.01"]), remote=remote_of(both))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.WARN
    assert finding.message == (f"a search on {ALIAS}:* reaches 1 index (logs-2026.12.01); 1 index "
                               f"(metrics-2026.12.01) hidden by the key's access (API key {KEY_ID} grants "
                               "search on logs-*)")


def test_a_key_granting_no_search_says_it_grants_nothing() -> None:
    pair = with_use(bare_pair(), "metrics-*", caps([]))
    pair.remote.api_keys[KEY_ID]["api_keys"][0]["access"] = {"replication": [{"names": ["logs-*"]}]}
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert f"(API key {KEY_ID} grants search on nothing)" in finding.message


def test_hidden_by_the_tools_own_role_names_the_tools_user_and_a_role_to_fill_in() -> None:
    pair = with_use(bare_pair(), "logs-*", caps([]))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert finding.message == (f"a search on {ALIAS}:logs-* gets nothing; 2 indices (logs-2026.12.01, "
                               "logs-2026.12.02) hidden by the remote_indices of the tool's user")
    assert finding.hint == role_hint("<role>")
    assert finding.evidence["patterns"]["logs-*"] == {
        "visible": [], "hidden": LOGS, "keyId": KEY_ID, "keyAccess": ["logs-*"], "hiddenByRole": LOGS}
    assert "widenKeyAccess" not in finding.evidence


def test_hidden_by_the_role_of_a_user_doctor_could_not_read_names_the_user_without_roles() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(["logs-2026.12.01"]), as_user="day-user",
                    user=Unavailable("403 on GET /_security/user/day-user", "forbidden"))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.WARN
    assert finding.message == (f"a search on {ALIAS}:logs-* reaches 1 index (logs-2026.12.01); 1 index "
                               "(logs-2026.12.02) hidden by the remote_indices of user day-user")
    assert finding.hint == role_hint("<role>")
    assert finding.evidence["user"] == "day-user"


def test_hidden_by_the_role_of_a_user_with_several_roles_names_them_and_changes_the_first() -> None:
    pair = with_use(bare_pair(), "logs-*", caps([]), as_user="day-user",
                    user={"day-user": {"roles": ["one-day", "viewer"]}})
    finding = outcome(pair, "ECKRC508")
    assert finding.message.endswith("hidden by the remote_indices of user day-user (roles one-day, viewer)")
    assert finding.hint == role_hint("one-day")


def test_hidden_by_the_role_of_a_user_without_roles_or_missing_from_the_answer() -> None:
    users: list[dict[str, Any]] = [{"day-user": {"roles": []}}, {"someone-else": {"roles": ["x"]}},
                                   {"day-user": None}]
    for user in users:
        pair = with_use(bare_pair(), "logs-*", caps([]), as_user="day-user", user=user)
        finding = outcome(pair, "ECKRC508")
        assert finding.message.endswith("hidden by the remote_indices of user day-user"), user
        assert finding.hint == role_hint("<role>"), user


def test_an_unknown_key_gives_the_exact_message_and_hint_and_a_warning_when_something_is_reached() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(["logs-2026.12.01"]))
    pair.remote.api_keys[KEY_ID] = Unavailable(f"404 on GET /_security/api_key?id={KEY_ID}", "not-found")
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.WARN
    assert finding.message == (f"a search on {ALIAS}:logs-* reaches 1 index (logs-2026.12.01); 1 index "
                               "(logs-2026.12.02) hidden by the key's access or the local role")
    assert finding.hint == "doctor could not read the key's access on the remote"
    assert finding.evidence["patterns"]["logs-*"] == {"visible": ["logs-2026.12.01"],
                                                      "hidden": ["logs-2026.12.02"]}
    assert "widenKeyAccess" not in finding.evidence


NO_REMOTE_INDICES_REASON = (f"action [indices:data/read/field_caps] towards remote cluster [{ALIAS}] is "
                            "unauthorized for user [elastic] with effective roles [superuser] because no "
                            "remote indices privileges apply for the target cluster")


def test_the_tools_user_without_remote_indices_is_refused_with_the_role_to_fill_in() -> None:
    pair = with_use(bare_pair(), "logs-*", refusal(NO_REMOTE_INDICES_REASON))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert finding.message == (f"a search on {ALIAS}:logs-* is refused: the tool's user has no "
                               f"remote_indices privilege for {ALIAS}")
    assert finding.hint == role_hint("<role>")
    assert finding.evidence["patterns"]["logs-*"] == {
        "status": 403, "error": NO_REMOTE_INDICES_REASON, "missingPrivilege": "remote_indices"}


KEY_REFUSAL = ("action [indices:data/read/field_caps] towards remote cluster is unauthorized for user "
               f"[elastic] with assigned roles [superuser] authenticated by API key id [{KEY_ID}] of user "
               "[elastic] on indices [metrics-2026.12.01], this action is granted by the index privileges "
               "[read,all]")


def test_an_explicit_name_refused_by_the_key_gives_the_exact_message_hint_and_widening() -> None:
    pair = with_use(bare_pair(), "metrics-2026.12.01", refusal(KEY_REFUSAL))
    finding = outcome(pair, "ECKRC508")
    assert finding.message == (f"a search on {ALIAS}:metrics-2026.12.01 is refused: API key {KEY_ID} grants "
                               "search on logs-*")
    assert finding.hint == (f"widen the key's access on the remote: PUT /_security/cross_cluster/api_key/"
                            f'{KEY_ID} {{"access": {{"search": [{{"names": ["logs-*"]}}, '
                            '{"names": ["metrics-2026.12.01"]}]}} '
                            "(kubectl eckrc fix --index metrics-2026.12.01 --widen-key-access does it)")
    assert finding.evidence["patterns"]["metrics-2026.12.01"] == {"status": 403, "error": KEY_REFUSAL}
    assert finding.evidence["widenKeyAccess"] == ["metrics-2026.12.01"]


def test_a_key_refusal_of_a_name_the_key_grants_is_reported_with_the_remotes_reason() -> None:
    reason = KEY_REFUSAL.replace("metrics-2026.12.01", "logs-2026.12.09")
    pair = with_use(bare_pair(), "logs-2026.12.09", refusal(reason))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert finding.message == f"a search on {ALIAS}:logs-2026.12.09 is refused: {reason}"
    assert finding.hint == "the key's access and the user's remote_indices must both grant the index"


def test_a_refusal_with_an_unknown_key_is_reported_with_the_remotes_reason() -> None:
    pair = with_use(bare_pair(), "metrics-2026.12.01", refusal(KEY_REFUSAL))
    pair.remote.api_keys[KEY_ID] = Unavailable(f"404 on GET /_security/api_key?id={KEY_ID}", "not-found")
    finding = outcome(pair, "ECKRC508")
    assert finding.message == f"a search on {ALIAS}:metrics-2026.12.01 is refused: {KEY_REFUSAL}"
    assert finding.hint == "the key's access and the user's remote_indices must both grant the index"


def test_another_refusal_is_reported_with_its_status_and_reason() -> None:
    reason = "no such index [remote-es:missing]"
    pair = with_use(bare_pair(), "missing", refusal(reason, status=404))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert finding.message == f"a search on {ALIAS}:missing is refused: {reason}"
    assert finding.evidence["patterns"]["missing"] == {"status": 404, "error": reason}


RUN_AS_REASON = ("action [indices:data/read/field_caps] is unauthorized for user [elastic] with effective "
                 "roles [superuser], because user [elastic] is unauthorized to run as [{user}]")


def test_run_as_refused_for_an_existing_user_says_the_tool_may_not_run_as_it() -> None:
    pair = with_use(bare_pair(), "logs-*", refusal(RUN_AS_REASON.format(user="app-user")), as_user="app-user",
                    user={"app-user": {"roles": ["app-role"]}})
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.NOT_EVALUATED
    assert finding.message == "cannot read as app-user: the tool's user may not run as that user"
    assert finding.permission == "the run_as privilege for app-user on the tool's user"


def test_run_as_refused_for_a_missing_user_names_the_user_word_for_word() -> None:
    pair = with_use(bare_pair(), "logs-*", refusal(RUN_AS_REASON.format(user="nobody")), as_user="nobody",
                    user=Unavailable("404 on GET /_security/user/nobody", "not-found"))
    finding = outcome(pair, "ECKRC508")
    assert finding.message == "cannot read as nobody: there is no user nobody on the local cluster"
    assert finding.permission == "the run_as privilege for nobody on the tool's user"


def test_several_patterns_join_messages_and_distinct_hints_in_order() -> None:
    pair = with_use(bare_pair(), "metrics-*", caps([]))
    with_use(pair, "traces-*", caps([]), remote=remote_of([]))
    with_use(pair, "metrics-2026.12.*", caps([]))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.FAIL
    assert finding.message == "; ".join([
        f"a search on {ALIAS}:metrics-* gets nothing; 1 index (metrics-2026.12.01) hidden by the key's "
        f"access (API key {KEY_ID} grants search on logs-*)",
        "no index on the remote matches traces-*",
        f"a search on {ALIAS}:metrics-2026.12.* gets nothing; 1 index (metrics-2026.12.01) hidden by the "
        f"key's access (API key {KEY_ID} grants search on logs-*)"])
    widen_both = (f"widen the key's access on the remote: PUT /_security/cross_cluster/api_key/{KEY_ID} "
                  '{"access": {"search": [{"names": ["logs-*"]}, {"names": ["metrics-2026.12.*"]}]}} '
                  "(kubectl eckrc fix --index 'metrics-2026.12.*' --widen-key-access does it)")
    assert finding.hint == "; ".join([KEY_HINT, "check the pattern traces-*", widen_both])
    assert finding.evidence["widenKeyAccess"] == ["metrics-*", "metrics-2026.12.*"]


def test_a_warning_and_a_pass_make_a_warning_whatever_their_order() -> None:
    for order in (["logs-*", "traces-*"], ["traces-*", "logs-*"]):
        pair = bare_pair()
        for pattern in order:
            if pattern == "logs-*":
                with_use(pair, pattern, caps(LOGS))
            else:
                with_use(pair, pattern, caps([]), remote=remote_of([]))
        finding = outcome(pair, "ECKRC508")
        assert finding.status is Status.WARN, order
        assert finding.hint == "check the pattern traces-*", order


def test_a_failure_after_a_warning_still_fails() -> None:
    pair = with_use(bare_pair(), "traces-*", caps([]), remote=remote_of([]))
    with_use(pair, "metrics-*", caps([]))
    assert outcome(pair, "ECKRC508").status is Status.FAIL


def test_uses_of_another_alias_do_not_count_for_this_link() -> None:
    pair = bare_pair()
    pair.uses.append(UseProbe("other-es", "logs-*", "", caps([]), resolved([]), resolved(LOGS)))
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.NOT_APPLICABLE


def key_searching(pair: PairBuilder, *entries: dict[str, Any]) -> PairBuilder:
    pair.remote.api_keys[KEY_ID]["api_keys"][0]["access"] = {"search": list(entries)}
    return pair


def test_a_pass_with_an_unknown_key_says_what_the_search_reaches() -> None:
    pair = with_use(bare_pair(), "logs-*", caps(LOGS))
    pair.remote.api_keys[KEY_ID] = Unavailable(f"404 on GET /_security/api_key?id={KEY_ID}", "not-found")
    finding = outcome(pair, "ECKRC508")
    assert finding.status is Status.PASS
    assert finding.message == (f"a search on {ALIAS}:logs-* reaches 2 indices (logs-2026.12.01, "
                               "logs-2026.12.02)")


def test_every_restricted_key_entry_the_search_reaches_is_named() -> None:
    pair = key_searching(with_use(bare_pair(), "logs-*", caps(LOGS)),
                         {"names": LOGS, "query": {"term": {"team": "a"}}})
    finding = outcome(pair, "ECKRC508")
    assert finding.message.endswith("(the key limits fields or documents of "
                                    "logs-2026.12.01, logs-2026.12.02)")


def test_a_key_granting_several_names_lists_them_when_it_hides_an_index() -> None:
    pair = key_searching(with_use(bare_pair(), "metrics-*", caps([])), {"names": ["logs-*", "traces-*"]})
    finding = outcome(pair, "ECKRC508")
    assert f"(API key {KEY_ID} grants search on logs-*, traces-*)" in finding.message


def test_a_key_granting_several_names_lists_them_when_it_refuses_an_explicit_name() -> None:
    pair = key_searching(with_use(bare_pair(), "metrics-2026.12.01", refusal(KEY_REFUSAL)),
                         {"names": ["logs-*"]}, {"names": "traces-*"})
    finding = outcome(pair, "ECKRC508")
    assert finding.message == (f"a search on {ALIAS}:metrics-2026.12.01 is refused: API key {KEY_ID} grants "
                               "search on logs-*, traces-*")


def test_a_key_granting_no_search_says_so_when_it_refuses_an_explicit_name() -> None:
    pair = key_searching(with_use(bare_pair(), "metrics-2026.12.01", refusal(KEY_REFUSAL)))
    finding = outcome(pair, "ECKRC508")
    assert finding.message == (f"a search on {ALIAS}:metrics-2026.12.01 is refused: API key {KEY_ID} grants "
                               "search on nothing")
