"""6xx: the deprecated certificate model."""

from __future__ import annotations

from kubectl_eckrc.findings import Severity, Status
from tests.checks.helpers import failing, outcome
from tests.snapshot_builder import certificate_model_pair, healthy_pair


def test_working_certificate_model_only_informs_about_the_deprecation() -> None:
    from kubectl_eckrc.checks.engine import build_report, run_checks
    from kubectl_eckrc.report.common import summary_line

    pair = certificate_model_pair()
    assert failing(pair) == ["ECKRC603"]
    finding = outcome(pair, "ECKRC603")
    assert finding.status is Status.INFO and finding.severity is Severity.INFO
    snap = pair.build()
    report = build_report(snap, run_checks(snap))
    assert report.summary.warnings == 0 and report.summary.info == 1 and report.exit_code == 0
    assert "0 warnings" in summary_line(report) and "1 info" in summary_line(report)


def test_api_key_link_has_the_certificate_model_checks_not_applicable() -> None:
    pair = healthy_pair()
    assert outcome(pair, "ECKRC601").status is Status.NOT_APPLICABLE
    assert outcome(pair, "ECKRC603").status is Status.PASS


def test_missing_transport_ca_configmap_is_eckrc601() -> None:
    pair = certificate_model_pair()
    pair.local.configmaps.clear()
    finding = outcome(pair, "ECKRC601")
    assert finding.status is Status.FAIL
    assert "remote-transport-ca (local) does not exist" in finding.message


def test_transport_ca_configmap_with_the_wrong_key_is_eckrc601() -> None:
    pair = certificate_model_pair()
    data = pair.remote.configmaps["local-transport-ca"]["data"]
    data["local.crt"] = data.pop("ca.crt")
    assert "has no key ca.crt" in outcome(pair, "ECKRC601").message


def test_one_way_trust_is_eckrc601() -> None:
    pair = certificate_model_pair()
    pair.remote.configmaps["local-transport-ca"]["data"]["ca.crt"] = pair.remote_ca.pem
    finding = outcome(pair, "ECKRC601")
    assert finding.status is Status.FAIL
    assert "only one side" in finding.hint


def test_certificate_model_against_9443_is_eckrc602() -> None:
    pair = certificate_model_pair()
    pair.local_cluster_setting("proxy_address", "127.0.0.10:9443")
    finding = outcome(pair, "ECKRC602")
    assert finding.status is Status.FAIL
    assert "requires an API key" in finding.hint
