"""4xx: the cross-cluster API key, from the secret to the keystore to the remote."""

from __future__ import annotations

from kubectl_eckrc.findings import Status
from kubectl_eckrc.snapshot import Unavailable
from tests.checks.helpers import first_failure, outcome
from tests.snapshot_builder import ALIAS, KEY_ID, credential_key, healthy_pair, secret

CRED = f"cluster.remote.{ALIAS}.credentials"
MS_2026_06_11 = 1781136000000  # 10 days after the snapshot
MS_2026_05_01 = 1777593600000  # before the snapshot


def _key(pair, **fields):  # type: ignore[no-untyped-def]
    entry = pair.remote.api_keys[KEY_ID]["api_keys"][0]
    entry.update(fields)
    return entry


def test_secure_settings_secret_missing_is_eckrc401() -> None:
    pair = healthy_pair()
    pair.local.es["spec"]["secureSettings"].append({"secretName": "remote-api-keyz"})
    pair.local.secrets["remote-api-keyz"] = Unavailable("secrets remote-api-keyz not found", "not-found")
    finding = outcome(pair, "ECKRC401")
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == ["remote-api-keyz"]


def test_alias_typo_in_the_key_name_is_eckrc402_naming_both() -> None:
    pair = healthy_pair()
    keys = pair.local.secrets["remote-api-keys"].keys
    keys["cluster.remote.remote-ess.credentials"] = keys.pop(CRED)
    finding = first_failure(pair)
    assert finding.id == "ECKRC402"
    assert "remote-ess" in finding.message and f"cluster.remote.{ALIAS}.credentials" in finding.hint
    assert finding.fix is not None and finding.fix.action == "create-api-key"
    assert outcome(pair, "ECKRC403").message == "skipped: ECKRC402 failed"


def test_secret_not_in_secure_settings_is_eckrc402() -> None:
    pair = healthy_pair()
    pair.local.es["spec"].pop("secureSettings")
    finding = outcome(pair, "ECKRC402")
    assert finding.status is Status.FAIL
    assert "spec.secureSettings" in finding.hint


def test_secure_settings_entries_remap_the_key_name() -> None:
    pair = healthy_pair()
    pair.local.secrets["remote-api-keys"] = secret("remote-api-keys", {"key": credential_key()})
    pair.local.es["spec"]["secureSettings"] = [
        {"secretName": "remote-api-keys", "entries": [{"key": "key", "path": CRED}]}]
    assert outcome(pair, "ECKRC402").status is Status.PASS


def test_raw_api_key_instead_of_encoded_is_eckrc403() -> None:
    pair = healthy_pair()
    pair.local.secrets["remote-api-keys"].keys[CRED] = credential_key(
        well_formed=False, problem="decodes to no 'id:key' pair")
    finding = outcome(pair, "ECKRC403")
    assert finding.status is Status.FAIL
    assert "`encoded`" in finding.hint
    assert finding.evidence["sha256"]  # a fingerprint, never the value


def test_rest_api_key_is_eckrc404() -> None:
    pair = healthy_pair()
    _key(pair, type="rest")
    finding = outcome(pair, "ECKRC404")
    assert finding.status is Status.FAIL and "not cross_cluster" in finding.message


def test_key_of_another_cluster_is_eckrc404() -> None:
    pair = healthy_pair()
    pair.remote.api_keys[KEY_ID] = {"api_keys": []}
    finding = outcome(pair, "ECKRC404")
    assert finding.status is Status.FAIL and "another cluster" in finding.hint


def test_invalidated_key_is_eckrc404() -> None:
    pair = healthy_pair()
    _key(pair, invalidated=True)
    assert "invalidated" in outcome(pair, "ECKRC404").message


def test_expired_key_is_eckrc404() -> None:
    pair = healthy_pair()
    _key(pair, expiration=MS_2026_05_01)
    assert "expired on 2026-05-01" in outcome(pair, "ECKRC404").message


def test_key_expiring_soon_is_an_eckrc404_warning() -> None:
    pair = healthy_pair()
    _key(pair, expiration=MS_2026_06_11)
    assert outcome(pair, "ECKRC404").status is Status.WARN


def test_key_lookup_forbidden_is_not_evaluated_with_the_privilege() -> None:
    pair = healthy_pair()
    pair.remote.api_keys[KEY_ID] = Unavailable(
        "403 Forbidden: action [cluster:admin/xpack/security/api_key/get]", "forbidden",
        "manage_api_key on the remote cluster")
    finding = outcome(pair, "ECKRC404")
    assert finding.status is Status.NOT_EVALUATED
    assert finding.permission == "manage_api_key on the remote cluster"


def test_keystore_without_credentials_while_rollout_pending_is_eckrc405() -> None:
    pair = healthy_pair()
    pair.remote_info(cluster_credentials=None)
    pair.local.statefulsets[0]["spec"]["template"]["metadata"]["annotations"][
        "elasticsearch.k8s.elastic.co/config-hash"] = "new-hash"
    finding = outcome(pair, "ECKRC405")
    assert finding.status is Status.FAIL
    assert "rollout is pending" in finding.hint
    assert "local-es-es-hot-0" in finding.evidence["rollout"]


def test_a_pod_of_an_older_statefulset_revision_is_a_pending_rollout_for_eckrc405() -> None:
    # mount-ca's volume changes the podTemplate, not ECK's config-hash: the revision tells.
    pair = healthy_pair()
    pair.remote_info(cluster_credentials=None)
    pair.local.pods[0]["metadata"]["labels"]["controller-revision-hash"] = "local-es-es-hot-1"
    pair.local.statefulsets[0]["status"]["updateRevision"] = "local-es-es-hot-2"
    finding = outcome(pair, "ECKRC405")
    assert finding.status is Status.FAIL and "rollout is pending" in finding.hint
    assert finding.evidence["rollout"] == "1 pods run an older spec: local-es-es-hot-0"


def test_ecks_in_progress_upgrade_is_the_pending_rollout_and_a_zero_budget_says_waiting_will_not_do() -> None:
    # status.inProgressOperations.upgrade (elastic/cloud-on-k8s reconcile/status.go): ECK's own list
    pair = healthy_pair()
    pair.remote_info(cluster_credentials=None)
    pair.local.es["status"]["inProgressOperations"] = {"upgrade": {
        "lastUpdatedTime": "2026-12-01T00:00:00Z",
        "nodes": [{"name": "local-es-es-hot-0", "status": "PENDING",
                   "predicate": "do_not_restart_healthy_node_if_MaxUnavailable_reached",
                   "message": "Cannot restart node because of failed predicate"}]}}
    finding = outcome(pair, "ECKRC405")
    assert finding.status is Status.FAIL
    assert finding.evidence["rollout"] == ("ECK must restart 1 pods: local-es-es-hot-0 "
                                           "(PENDING; do_not_restart_healthy_node_if_MaxUnavailable_reached)")
    assert "changeBudget.maxUnavailable allows none to be down: raise it" in finding.hint


def test_keystore_without_credentials_and_no_rollout_is_eckrc405() -> None:
    pair = healthy_pair()
    pair.remote_info(cluster_credentials=None)
    finding = outcome(pair, "ECKRC405")
    assert finding.status is Status.FAIL and "restart the local pods" in finding.hint


def test_keystore_holding_an_older_key_is_eckrc405() -> None:
    pair = healthy_pair()
    pair.local.resolve_cluster[ALIAS][ALIAS] = {
        "connected": False, "skip_unavailable": False,
        "error": "unable to authenticate user [old-key-id] for action "
                 "[cluster:internal/remote_cluster/handshake]"}
    finding = outcome(pair, "ECKRC405")
    assert finding.status is Status.FAIL
    assert "older credential" in finding.message


def test_user_secret_named_like_ecks_is_eckrc406() -> None:
    pair = healthy_pair()
    pair.local.es["spec"]["secureSettings"] = [{"secretName": "local-es-es-remote-api-keys"}]
    finding = outcome(pair, "ECKRC406")
    assert finding.status is Status.FAIL
    assert finding.evidence["names"] == ["local-es-es-remote-api-keys"]


def test_eck_prefixed_key_name_is_eckrc406() -> None:
    pair = healthy_pair()
    _key(pair, name="eck-my-key")
    assert "eck-my-key" in outcome(pair, "ECKRC406").message


def test_api_key_checks_do_not_apply_to_the_certificate_model() -> None:
    from tests.snapshot_builder import certificate_model_pair

    pair = certificate_model_pair()
    for check_id in ("ECKRC402", "ECKRC403", "ECKRC404", "ECKRC405"):
        finding = outcome(pair, check_id)
        assert finding.status is Status.NOT_APPLICABLE and finding.evidence == {"applicable": False}, check_id


AUTH_ERROR = "unable to authenticate user [old-key-id] for action [cluster:internal/remote_cluster/handshake]"


def _refused_by_the_remote(pair):  # type: ignore[no-untyped-def]
    pair.local.resolve_cluster[ALIAS][ALIAS] = {"connected": False, "skip_unavailable": False,
                                                "error": AUTH_ERROR}
    return pair


def test_eckrc405_on_an_older_keystore_says_restart_without_a_rollout_and_wait_with_one() -> None:
    finding = outcome(_refused_by_the_remote(healthy_pair()), "ECKRC405")
    assert finding.message == "the keystore holds an older credential than the secret"
    assert finding.hint == ("the secret was changed after the pods started; the remote refuses the old key. "
                            "Restart the local pods so that ECK rebuilds the keystore.")
    assert finding.evidence == {"error": AUTH_ERROR, "rollout": "none pending"}
    pair = _refused_by_the_remote(healthy_pair())
    pair.local.es["status"]["phase"] = "ApplyingChanges"
    pending = outcome(pair, "ECKRC405")
    assert pending.hint.endswith("A rollout is pending (phase ApplyingChanges): wait for it.")
    assert pending.evidence["rollout"] == "phase ApplyingChanges"


def test_eckrc405_blames_the_keystore_only_when_the_key_in_the_secret_is_good() -> None:
    for change in ({"invalidated": True}, {"type": "rest"}):
        pair = _refused_by_the_remote(healthy_pair())
        _key(pair, **change)
        assert outcome(pair, "ECKRC405").status is Status.PASS, change
    expired = _refused_by_the_remote(healthy_pair())
    _key(expired, expiration=MS_2026_05_01)  # expired keys are ECKRC404's: the keystore may be current
    assert outcome(expired, "ECKRC405").status is Status.FAIL
    unread = _refused_by_the_remote(healthy_pair())
    unread.remote.api_keys = {}
    assert outcome(unread, "ECKRC405").status is Status.PASS


def test_eckrc405_passes_when_the_keystore_is_loaded_and_nothing_refuses_it() -> None:
    finding = outcome(healthy_pair(), "ECKRC405")
    assert finding.status is Status.PASS
    assert finding.message == f"_remote/info shows cluster_credentials for {ALIAS}"
    assert finding.evidence == {"clusterCredentials": True}
    pair = healthy_pair()
    pair.local.resolve_cluster[ALIAS][ALIAS]["error"] = "no such remote cluster"  # not an auth error
    assert outcome(pair, "ECKRC405").status is Status.PASS


def test_eckrc404_not_looked_up_names_the_privilege_that_allows_it() -> None:
    pair = healthy_pair()
    pair.remote.api_keys = {}
    finding = outcome(pair, "ECKRC404")
    assert finding.status is Status.NOT_EVALUATED
    assert finding.message == f"API key {KEY_ID} was not looked up on the remote"
    assert finding.permission == "grant manage_api_key (or manage_security) to the remote Elasticsearch user"


def test_eckrc404_on_a_valid_key_names_it_and_its_expiry() -> None:
    pair = healthy_pair()
    entry = _key(pair, expiration=MS_2026_06_11 + 30 * 86_400_000)
    finding = outcome(pair, "ECKRC404")
    assert finding.status is Status.PASS
    assert finding.message == f"remote key {KEY_ID} ({entry['name']}) is a valid cross_cluster key"
    assert finding.evidence == {"keyId": KEY_ID, "name": entry["name"], "type": "cross_cluster",
                                "expiration": "2026-07-11T00:00:00Z"}


def test_unreadable_pods_say_nothing_about_a_rollout() -> None:
    pair = healthy_pair()
    pair.remote_info(cluster_credentials=None)
    pair.local.pods = Unavailable("403 Forbidden: list pods", "forbidden")
    finding = outcome(pair, "ECKRC405")
    assert finding.message == f"the keystore does not hold cluster.remote.{ALIAS}.credentials"
    assert finding.evidence == {"clusterCredentials": False, "rollout": "none pending"}


def test_every_pod_behind_its_statefulset_is_named() -> None:
    pair = healthy_pair()
    pair.remote_info(cluster_credentials=None)
    for sts in pair.local.statefulsets:
        sts["spec"]["template"]["metadata"]["annotations"]["elasticsearch.k8s.elastic.co/config-hash"] = "new"
    finding = outcome(pair, "ECKRC405")
    assert finding.evidence["rollout"].startswith(f"{len(pair.local.pods)} pods run an older spec: ")
    assert finding.evidence["rollout"].count(", ") == len(pair.local.pods) - 1
