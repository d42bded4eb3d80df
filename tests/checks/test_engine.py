"""The engine: selection, dependencies, severities, fix references, the report."""

from __future__ import annotations

import dataclasses

import pytest

from kubectl_eckrc import __version__
from kubectl_eckrc.checks.engine import _dependency_order, build_report, needs_link_reads, run_checks
from kubectl_eckrc.checks.registry import ALL_CHECKS, BY_ID
from kubectl_eckrc.checks.spec import ERROR, LINK, check
from kubectl_eckrc.eck import CLIENT_SSL_CAS
from kubectl_eckrc.findings import INTERNAL_ERROR, CheckSide, Finding, FixRef, Severity, Status, Verdict
from kubectl_eckrc.snapshot import Unavailable
from tests.checks.helpers import outcome
from tests.snapshot_builder import ALIAS, certificate_model_pair, healthy_pair, make_ca


def test_only_and_skip_select_by_glob() -> None:
    snap = healthy_pair().build()
    assert {f.id for f in run_checks(snap, only=["ECKRC3*"])} == {f"ECKRC30{i}" for i in range(1, 8)}
    assert {f.id for f in run_checks(snap, only=["eckrc30?"], skip=["ECKRC307"])} == {
        f"ECKRC30{i}" for i in range(1, 7)}


def test_a_check_filtered_out_does_not_skip_its_dependants() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    [chain] = run_checks(pair.build(), only=["ECKRC304"])
    assert chain.status is Status.FAIL  # stands on its own evidence


def test_findings_come_out_in_id_order_whatever_the_dependency_order() -> None:
    ids = [f.id for f in run_checks(healthy_pair().build())]
    assert ids == sorted(ids)


def test_link_checks_run_once_per_alias() -> None:
    pair = healthy_pair()
    pair.aliases = [ALIAS, "other"]
    result = run_checks(pair.build())
    assert [f.alias for f in result if f.id == "ECKRC501"] == [ALIAS, "other"]
    assert [f.alias for f in result if f.id == "ECKRC101"] == [None]
    other = outcome(pair, "ECKRC502", "other")
    assert other.message == "skipped: ECKRC501 failed"


def test_failing_finding_carries_fix_and_doc() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", "127.0.0.10")
    finding = outcome(pair, "ECKRC305")
    assert finding.fix is not None
    assert finding.fix.action == "fix-server-name"
    assert finding.fix.command == f"kubectl eckrc fix --alias {ALIAS}"
    assert finding.doc == f"https://github.com/kubectl-eckrc/kubectl-eckrc/blob/v{__version__}/docs/checks.md#eckrc305"
    assert outcome(healthy_pair(), "ECKRC305").fix is None


def test_warning_severity_check_never_fails() -> None:
    pair = healthy_pair()
    pair.local.roles = {}
    assert outcome(pair, "ECKRC506").status is Status.WARN


def test_report_headers_name_both_sides_and_the_link() -> None:
    snap = healthy_pair().build()
    report = build_report(snap, run_checks(snap))
    assert report.local == {"context": "prod-a", "namespace": "logging", "elasticsearch": "local-es",
                            "version": "8.17.1", "eck": "3.2.0"}
    assert report.remote["elasticsearch"] == "remote-es"
    assert report.links[0]["proxy_address"] == "127.0.0.10:9443"
    assert report.links[0]["model"] == "api-key"


def test_report_without_remote_access_says_why() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    snap = pair.build()
    report = build_report(snap, run_checks(snap))
    assert report.remote["unavailable"] == "no access to the remote environment"


def test_no_check_crashes_on_an_empty_snapshot() -> None:
    pair = healthy_pair()
    pair.local.es = {}
    pair.remote.es = {}
    pair.local.services, pair.remote.services = [], []
    pair.local.settings, pair.local.remote_info = {}, {}
    result = run_checks(pair.build())
    assert [f.id for f in result if INTERNAL_ERROR in f.evidence] == []


def test_a_check_that_raises_is_not_evaluated_names_the_error_and_makes_the_run_exit_3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*_: object) -> Verdict:
        raise KeyError("spec")

    specs = [dataclasses.replace(s, func=explode) if s.id == "ECKRC303" else s for s in ALL_CHECKS]
    monkeypatch.setattr("kubectl_eckrc.checks.engine.ALL_CHECKS", specs)
    snap = healthy_pair().build()
    result = run_checks(snap)
    [crashed] = [f for f in result if f.id == "ECKRC303"]
    assert crashed.status is Status.NOT_EVALUATED
    assert crashed.message == "internal error in ECKRC303: KeyError: 'spec'"
    assert crashed.evidence == {INTERNAL_ERROR: "KeyError"}
    # one broken check hides nothing else: every other check still gives its verdict
    assert {f.id for f in result if f.status is Status.PASS} >= {"ECKRC301", "ECKRC304", "ECKRC503"}
    report = build_report(snap, result)
    assert report.crashed == [crashed] and report.exit_code == 3


def test_alias_pointing_at_another_cluster_is_not_judged_against_the_given_remote() -> None:
    pair = healthy_pair()
    prefix = "cluster.remote.other"
    pair.local.settings["persistent"].update({
        f"{prefix}.mode": "proxy", f"{prefix}.proxy_address": "127.0.0.20:9443",
        f"{prefix}.server_name": "other-es-es-remote-cluster.other.svc"})
    pair.aliases = [ALIAS, "other"]
    stale = outcome(pair, "ECKRC303", "other")
    assert stale.status is Status.NOT_EVALUATED
    assert "points at other/other-es" in stale.message
    assert stale.permission == "run with --alias other and that cluster's --remote-context"
    assert outcome(pair, "ECKRC303", ALIAS).status is Status.PASS


def test_eck_transport_ca_owner() -> None:
    from kubectl_eckrc import eck

    assert eck.transport_ca_owner("CN=remote-es-transport,OU=remote-es") == "remote-es"
    assert eck.transport_ca_owner("OU=remote-es,CN=remote-es-transport") == "remote-es"
    assert eck.transport_ca_owner("CN=remote-es-transport,OU=other") == ""


def test_only_a_selection_with_link_checks_needs_the_link_reads() -> None:
    assert needs_link_reads((), ())
    assert needs_link_reads(["ECKRC5*"], ())
    assert not needs_link_reads(["ECKRC1*"], ())
    assert not needs_link_reads((), ["ECKRC3*", "ECKRC5*", "ECKRC2*", "ECKRC4*", "ECKRC6*"])
    assert needs_link_reads(["ECKRC1*", "ECKRC305"], ["ECKRC10*"])


def test_a_requirement_filtered_out_does_not_hide_the_next_one_that_failed() -> None:
    pair = healthy_pair()
    pair.aliases = ["unregistered"]
    [trusted, registered] = run_checks(pair.build(), only=["ECKRC303", "ECKRC501"])
    assert registered.status is Status.FAIL
    assert (trusted.status, trusted.message) == (Status.SKIPPED, "skipped: ECKRC501 failed")


def test_a_requires_cycle_in_the_catalogue_is_refused_naming_it() -> None:
    def verdict(*_: object) -> Verdict:
        return Verdict(Status.PASS, "ok", {})

    first = check("ECKRC901", severity=ERROR, side=LINK, requires=("ECKRC902",))(verdict)
    second = check("ECKRC902", severity=ERROR, side=LINK, requires=("ECKRC901",))(verdict)
    with pytest.raises(ValueError, match=r"^requires cycle: ECKRC901 -> ECKRC902 -> ECKRC901$"):
        _dependency_order([first, second])


def test_a_failing_side_check_offers_fix_for_the_only_alias_or_for_every_link() -> None:
    pair = healthy_pair()
    del pair.local.es["spec"]["nodeSets"][1]["config"][CLIENT_SSL_CAS]
    one = outcome(pair, "ECKRC301", None)
    assert one.fix is not None and one.fix.command == f"kubectl eckrc fix --alias {ALIAS}"
    pair.aliases = [ALIAS, "other"]
    assert outcome(pair, "ECKRC301", None).fix == FixRef("mount-ca", "kubectl eckrc fix")


def test_a_finding_carries_the_catalogue_entry_and_the_verdict_whole() -> None:
    pair = healthy_pair()
    pair.local.roles = {}
    finding = outcome(pair, "ECKRC506")
    spec = BY_ID["ECKRC506"]
    assert finding == Finding(
        id="ECKRC506", title=spec.title, severity=Severity.WARNING, status=Status.WARN,
        side=CheckSide.LINK, alias=ALIAS, message=f"no local role grants remote_indices on {ALIAS}",
        evidence={"roleIndices": [], "keyAccess": ["logs-*"]},
        hint=f"add remote_indices with clusters: [{ALIAS}] to the roles of the users who search",
        fix=None, doc=spec.doc_ref, permission="", cause="")


def test_a_failing_info_check_is_information() -> None:
    info = outcome(certificate_model_pair(), "ECKRC603")
    assert (info.severity, info.status, info.fix) == (Severity.INFO, Status.INFO, None)


def test_a_check_not_evaluated_for_a_failed_read_names_the_read_the_permission_and_the_cause() -> None:
    pair = healthy_pair()
    pair.local.overrides = {"roles": Unavailable("403 Forbidden", "forbidden", "read_security on local")}
    finding = outcome(pair, "ECKRC506")
    assert (finding.status, finding.message, finding.permission, finding.cause) == (
        Status.NOT_EVALUATED, "cannot read local roles (GET _security/role): 403 Forbidden",
        "read_security on local", "403 Forbidden")


def test_an_api_key_check_on_a_certificate_model_link_is_not_applicable() -> None:
    finding = outcome(certificate_model_pair(), "ECKRC303")
    assert (finding.status, finding.message, finding.evidence) == (
        Status.NOT_APPLICABLE, "not applicable (certificate model: no API key)", {"applicable": False})


def test_an_internal_error_message_is_one_line_of_at_most_300_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*_: object) -> Verdict:
        raise RuntimeError("line one\n  line two " + "x" * 400)

    specs = [dataclasses.replace(s, func=explode) if s.id == "ECKRC101" else s for s in ALL_CHECKS]
    monkeypatch.setattr("kubectl_eckrc.checks.engine.ALL_CHECKS", specs)
    [crashed] = run_checks(healthy_pair().build(), only=["ECKRC101"])
    assert crashed.message.startswith("internal error in ECKRC101: RuntimeError: line one line two xxx")
    assert len(crashed.message) == 300 and crashed.evidence == {INTERNAL_ERROR: "RuntimeError"}


def test_report_headers_when_a_side_or_the_settings_could_not_be_read() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    pair.local.settings = Unavailable("403 Forbidden", "forbidden")  # type: ignore[assignment]
    pair.aliases = []
    snap = pair.build()
    report = build_report(snap, run_checks(snap))
    assert report.remote == {"context": "", "namespace": "", "elasticsearch": "", "version": "", "eck": "",
                             "unavailable": "no access to the remote environment"}
    assert report.links == [{"alias": "", "model": "unknown", "mode": "unknown", "proxy_address": "",
                             "server_name": "", "skip_unavailable": None, "registered": None}]
    pair.aliases = ["unregistered"]
    snap = pair.build()
    [header] = build_report(snap, run_checks(snap)).links
    assert (header["alias"], header["mode"], header["model"], header["registered"]) == (
        "unregistered", "unknown", "unknown", None)


def test_report_headers_of_readable_settings_and_a_side_of_unknown_versions() -> None:
    pair = healthy_pair()
    pair.aliases = []
    pair.local.overrides = {"info": Unavailable("timed out", "timeout")}
    del pair.local.es["status"]["version"]
    del pair.local.es["spec"]["version"]
    del pair.local.es["metadata"]["annotations"]["common.k8s.elastic.co/controller-version"]
    snap = pair.build()
    report = build_report(snap, run_checks(snap))
    assert report.links == []
    assert report.local == {"context": "prod-a", "namespace": "logging", "elasticsearch": "local-es",
                            "version": "", "eck": ""}
