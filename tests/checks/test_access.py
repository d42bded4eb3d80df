"""1xx: access to both environments, health, versions, licenses."""

from __future__ import annotations

from kubectl_eckrc.checks.access import supported_pair
from kubectl_eckrc.checks.engine import build_report, run_checks
from kubectl_eckrc.findings import Status
from kubectl_eckrc.snapshot import AccessReview, Unavailable
from tests.checks.helpers import findings, outcome
from tests.snapshot_builder import healthy_pair


def test_healthy_pair_passes_every_check_with_evidence() -> None:
    result = findings(healthy_pair())
    # the certificate model's, ECKRC508 (no --index given), ECKRC509 (no --follow given) and
    # strong identity's (unused)
    unconcerned = ("ECKRC601", "ECKRC602", "ECKRC508", "ECKRC509", "ECKRC410", "ECKRC411", "ECKRC412",
                   "ECKRC413")
    applicable = [f for f in result if f.id not in unconcerned]
    assert {f.status for f in applicable} == {Status.PASS}
    assert {f.status for f in result if f not in applicable} == {Status.NOT_APPLICABLE}
    assert all(f.message for f in result)
    report = build_report(healthy_pair().build(), result)
    assert report.exit_code == 0


def test_unreachable_local_api_is_not_evaluated_and_exits_3() -> None:
    pair = healthy_pair()
    pair.local.kube_unavailable = Unavailable("dial tcp 127.0.0.1:6443: connection refused", "unreachable")
    pair.local.es_unavailable = Unavailable("no pod to port-forward to", "unreachable")
    snap = pair.build()
    result = run_checks(snap)
    assert outcome(snap, "ECKRC101").status is Status.NOT_EVALUATED
    assert not any(f.status is Status.PASS and f.id.startswith(("ECKRC3", "ECKRC4")) and
                   f.evidence.get("applicable") is not False for f in result)
    assert build_report(snap, result).exit_code in (1, 3)


def test_missing_crd_is_eckrc101() -> None:
    pair = healthy_pair()
    pair.local.crd = Unavailable("the server could not find the requested resource", "not-found")
    finding = outcome(pair, "ECKRC101")
    assert finding.status is Status.FAIL
    assert "CRD is not installed" in finding.message


def test_wrong_es_name_is_eckrc101_listing_what_exists() -> None:
    pair = healthy_pair()
    pair.local.overrides["elasticsearch"] = Unavailable("elasticsearches local-es not found", "not-found")
    finding = outcome(pair, "ECKRC101")
    assert finding.status is Status.FAIL
    assert finding.evidence["found"] == ["local-es"]
    assert "--es" in finding.hint


def test_no_remote_access_is_not_evaluated_with_the_flag_to_pass() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    snap = pair.build()
    finding = outcome(snap, "ECKRC102")
    assert finding.status is Status.NOT_EVALUATED
    assert "--remote-context" in finding.permission
    assert build_report(snap, run_checks(snap)).exit_code == 0  # not an error by itself


def test_denied_secret_read_is_eckrc103_not_evaluated_with_the_rbac_rule_and_exit_3() -> None:
    pair = healthy_pair()
    pair.local.access = [AccessReview("get", "secrets", "logging", False, "local")]
    finding = outcome(pair, "ECKRC103")
    assert finding.status is Status.NOT_EVALUATED
    assert finding.evidence["missing"] == ["local: get secrets in logging"]
    assert 'resources: ["secrets"], verbs: ["get"]' in finding.permission
    snap = pair.build()
    assert build_report(snap, run_checks(snap)).exit_code == 3


def test_forbidden_secret_read_makes_dependent_checks_not_evaluated() -> None:
    pair = healthy_pair()
    pair.local.overrides["secrets"] = Unavailable("403 Forbidden: list secrets in namespace logging",
                                                  "forbidden", "get/list secrets in namespace logging")
    finding = outcome(pair, "ECKRC401")
    assert finding.status is Status.NOT_EVALUATED
    assert finding.permission == "get/list secrets in namespace logging"


def test_red_cluster_is_eckrc104() -> None:
    pair = healthy_pair()
    pair.remote.es["status"].update(health="red")
    finding = outcome(pair, "ECKRC104")
    assert finding.status is Status.FAIL and "remote" in finding.message


def test_rollout_in_progress_is_an_eckrc104_warning() -> None:
    pair = healthy_pair()
    pair.local.es["status"]["phase"] = "ApplyingChanges"
    assert outcome(pair, "ECKRC104").status is Status.WARN


def test_old_local_version_is_eckrc105() -> None:
    pair = healthy_pair()
    pair.local.info["version"]["number"] = "8.13.4"
    finding = outcome(pair, "ECKRC105")
    assert finding.status is Status.FAIL and "older than 8.14" in finding.message


def test_unsupported_major_pair_is_eckrc105() -> None:
    pair = healthy_pair()
    pair.remote.info["version"]["number"] = "9.1.0"
    finding = outcome(pair, "ECKRC105")
    assert finding.status is Status.FAIL
    assert "8.17.1 <-> 9.1.0" in finding.message


def test_supported_version_bridges() -> None:
    assert supported_pair((8, 18, 0), (9, 0, 3))
    assert supported_pair((9, 2, 0), (8, 19, 1))
    assert supported_pair((8, 14, 0), (8, 19, 0))
    assert not supported_pair((8, 18, 0), (9, 1, 0))
    assert not supported_pair((8, 17, 0), (9, 0, 0))


def test_basic_license_on_the_remote_is_eckrc106() -> None:
    pair = healthy_pair()
    pair.remote.license = {"license": {"type": "basic", "status": "active"}}
    finding = outcome(pair, "ECKRC106")
    assert finding.status is Status.FAIL
    assert "remote license is basic" in finding.message


def test_es_api_refusing_credentials_is_eckrc107() -> None:
    pair = healthy_pair()
    pair.local.es_unavailable = Unavailable("401 Unauthorized: unable to authenticate user [elastic]",
                                            "error")
    finding = outcome(pair, "ECKRC107")
    assert finding.status is Status.FAIL
    assert outcome(pair, "ECKRC106").message == "skipped: ECKRC107 failed"


def test_es_api_timing_out_is_not_evaluated() -> None:
    pair = healthy_pair()
    pair.remote.es_unavailable = Unavailable("timed out after 5s", "timeout")
    assert outcome(pair, "ECKRC108").status is Status.NOT_EVALUATED


def test_only_8_and_9_are_bridged_across_majors() -> None:
    assert not supported_pair((7, 17, 0), (8, 19, 0))
    assert not supported_pair((7, 17, 0), (9, 0, 0))


def test_an_unnamed_elasticsearch_is_looked_for_in_the_namespace() -> None:
    pair = healthy_pair()
    pair.local.es_name = ""
    pair.local.overrides = {"elasticsearch": {}, "elasticsearch_names": []}
    finding = outcome(pair, "ECKRC101")
    assert finding.message == "no Elasticsearch logging in local context prod-a"
    assert finding.hint == ("namespace logging holds no Elasticsearch resource: pass the namespace where "
                            "it runs")
