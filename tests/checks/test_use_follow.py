"""ECKRC509, proof of use for replication: may --follow INDEX be followed, and who lacks what."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from kubectl_eckrc.findings import Status
from kubectl_eckrc.snapshot import FollowProbe, Snapshot, Unavailable, from_dict, to_dict
from tests.checks.helpers import outcome
from tests.snapshot_builder import ALIAS, KEY_ID, PairBuilder, healthy_pair

LEADER = "logs-2026.12.01"
FOLLOWER_ROLE = {
    "cluster": ["manage_ccr"],
    "indices": [{"names": ["logs-*"], "privileges": ["monitor", "read", "write", "manage_follow_index"]}],
    "remote_indices": [{"clusters": [ALIAS], "names": ["logs-*"],
                        "privileges": ["cross_cluster_replication", "cross_cluster_replication_internal"]}],
}


def key_access(pair: PairBuilder, access: dict[str, Any]) -> PairBuilder:
    pair.remote.api_keys[KEY_ID]["api_keys"][0]["access"] = access
    return pair


def following(pair: PairBuilder, as_user: str = "", roles: list[str] | None = None,
              user: Any = None) -> Snapshot:
    """The snapshot doctor takes with --follow LEADER [--as-user as_user]."""
    if user is None and as_user:
        user = {as_user: {"username": as_user, "roles": roles or []}}
    return replace(pair.build(), follow=FollowProbe([LEADER], as_user, user))


def replicating_pair(role: dict[str, Any] | None = None) -> PairBuilder:
    """The healthy pair whose key may also replicate logs-* and whose local role `follower` may follow."""
    access = {"search": [{"names": ["logs-*"]}], "replication": [{"names": ["logs-*"]}]}
    pair = key_access(healthy_pair(), access)
    pair.local.roles = {**pair.local.roles, "follower": FOLLOWER_ROLE if role is None else role}
    return pair


def test_without_follow_the_check_does_not_apply() -> None:
    finding = outcome(healthy_pair(), "ECKRC509")
    assert finding.status is Status.NOT_APPLICABLE and "no --follow given" in finding.message


def test_a_key_with_search_access_only_cannot_replicate_and_the_key_change_is_named() -> None:
    finding = outcome(following(healthy_pair()), "ECKRC509")
    assert finding.status is Status.FAIL
    assert finding.message == (f"following {ALIAS}:{LEADER} is refused: API key {KEY_ID} grants no "
                               f"replication access to {LEADER} (replication on nothing)")
    widened = {"access": {"search": [{"names": ["logs-*"]}], "replication": [{"names": [LEADER]}]}}
    assert finding.hint == ("add replication access on the remote: "
                            f"PUT /_security/cross_cluster/api_key/{KEY_ID} {json.dumps(widened)}")
    assert finding.evidence["notReplicableByKey"] == [LEADER]


def test_a_user_without_the_remote_indices_replication_privileges_fails_naming_them_and_the_role() -> None:
    role = {**FOLLOWER_ROLE, "remote_indices": [{"clusters": [ALIAS], "names": ["logs-*"],
                                                 "privileges": ["read", "read_cross_cluster"]}]}
    snap = following(replicating_pair(role), as_user="ccr-user", roles=["follower"])
    finding = outcome(snap, "ECKRC509")
    assert finding.status is Status.FAIL
    assert finding.message == (f"following {ALIAS}:{LEADER} is refused: user ccr-user (roles follower) lacks "
                               "remote_indices privileges cross_cluster_replication, "
                               "cross_cluster_replication_internal")
    change = {"remote_indices": [{"clusters": [ALIAS], "names": [LEADER], "privileges": [
        "cross_cluster_replication", "cross_cluster_replication_internal"]}]}
    assert finding.hint == (f"add to role follower: {json.dumps(change)} "
                            "(POST /_security/role/follower with its other privileges kept)")


def test_a_user_missing_manage_ccr_and_the_follower_index_privileges_gets_each_named() -> None:
    role = {"remote_indices": FOLLOWER_ROLE["remote_indices"],
            "indices": [{"names": ["logs-*"], "privileges": ["read"]}]}
    snap = following(replicating_pair(role), as_user="ccr-user", roles=["follower"])
    finding = outcome(snap, "ECKRC509")
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == {"cluster": ["manage_ccr"],
                                           "indices": ["monitor", "write", "manage_follow_index"]}
    assert "cluster privilege manage_ccr and follower index privileges monitor, write" in finding.message


def test_a_key_and_a_user_granting_everything_pass() -> None:
    finding = outcome(following(replicating_pair(), as_user="ccr-user", roles=["follower"]), "ECKRC509")
    assert finding.status is Status.PASS, finding.message
    assert finding.message == f"{ALIAS}:{LEADER} may be followed: user ccr-user grants replication"


def test_a_superuser_style_role_with_all_privileges_passes() -> None:
    everything = {"cluster": ["all"], "indices": [{"names": ["*"], "privileges": ["all"]}],
                  "remote_indices": [{"clusters": ["*"], "names": ["*"], "privileges": ["all"]}]}
    snap = following(replicating_pair(everything), as_user="admin", roles=["follower"])
    finding = outcome(snap, "ECKRC509")
    assert finding.status is Status.PASS, finding.message


def test_without_as_user_only_the_key_is_judged_and_the_message_says_so() -> None:
    finding = outcome(following(replicating_pair()), "ECKRC509")
    assert finding.status is Status.PASS
    assert "pass --as-user NAME" in finding.message


def test_an_unknown_user_is_not_evaluated() -> None:
    missing = Unavailable("GET /_security/user/ghost: 404", "not-found")
    finding = outcome(following(replicating_pair(), as_user="ghost", user=missing), "ECKRC509")
    assert finding.status is Status.NOT_EVALUATED
    assert finding.message == "there is no user ghost on the local cluster"


def test_the_follow_reads_survive_a_bundle_round_trip() -> None:
    snap = following(replicating_pair(), as_user="ccr-user", roles=["follower"])
    assert from_dict(json.loads(json.dumps(to_dict(snap)))).follow == snap.follow
