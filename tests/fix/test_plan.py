"""Choosing actions and blockers from findings, and the commands fix prints."""

from __future__ import annotations

from dataclasses import replace

from kubectl_eckrc.commands.fix import command_line
from kubectl_eckrc.findings import CheckSide, Finding, FixRef, Severity, Status
from kubectl_eckrc.fix.blockers import blockers_of
from kubectl_eckrc.fix.plan import build_plan, select_actions
from kubectl_eckrc.options import FixOptions
from tests.snapshot_builder import ALIAS, healthy_pair


def finding(check_id: str, status: Status, fix: str | None = None, **evidence: object) -> Finding:
    return Finding(
        id=check_id,
        title="t",
        severity=Severity.ERROR,
        status=status,
        side=CheckSide.LINK,
        alias=ALIAS,
        message=f"{check_id} {status.value}",
        evidence=dict(evidence),
        hint="h",
        fix=FixRef(fix, "kubectl eckrc fix") if fix else None,
        doc="",
    )


def test_skipped_findings_and_implications_complete_the_action_list() -> None:
    findings = [
        finding("ECKRC201", Status.FAIL, "enable-rcs"),
        finding("ECKRC301", Status.FAIL, "mount-ca"),
        finding("ECKRC402", Status.SKIPPED),
    ]
    actions = select_actions(findings, {"ECKRC402": "create-api-key"})
    assert actions == ("enable-rcs", "expose-rcs", "sync-ca", "mount-ca", "create-api-key", "register-remote")


def test_license_failure_blocks_every_write(options: FixOptions) -> None:
    findings = [finding("ECKRC106", Status.FAIL), finding("ECKRC301", Status.FAIL, "mount-ca")]
    plan = build_plan(healthy_pair().build(), findings, options, ("l", "r"))
    assert [b.finding_id for b in plan.blockers] == ["ECKRC106"]
    assert plan.changes == ()


def test_failed_handshake_is_a_path_problem_only_when_fixable_parts_are_right() -> None:
    snap = healthy_pair().build()
    handshake = finding("ECKRC306", Status.FAIL, error="timeout")
    ok = [finding(c, Status.PASS) for c in ("ECKRC201", "ECKRC203", "ECKRC204")]
    assert [b.finding_id for b in blockers_of(snap, [handshake, *ok], ALIAS)] == ["ECKRC306"]
    rcs_off = [finding("ECKRC201", Status.FAIL, "enable-rcs"), *ok[1:]]
    assert blockers_of(snap, [handshake, *rcs_off], ALIAS) == []
    proxy = finding("ECKRC306", Status.FAIL, issuer="CN=ingress-fake")
    assert [b.finding_id for b in blockers_of(snap, [proxy, *rcs_off], ALIAS)] == ["ECKRC306"]


def test_symptoms_without_a_fix_do_not_block_a_fixable_cause() -> None:
    findings = [finding("ECKRC303", Status.FAIL, "sync-ca"), finding("ECKRC504", Status.FAIL)]
    assert blockers_of(healthy_pair().build(), findings, ALIAS) == []


def test_commands_carry_the_users_scope_and_fix_flags(options: FixOptions) -> None:
    options = replace(options, expiration="90d", expose="nodeport")
    text = command_line(options)
    assert text.startswith(
        "kubectl eckrc fix --context prod-a -n logging --es local-es --remote-context prod-b"
    )
    assert "--alias remote-es" in text and "--expiration 90d" in text and "--expose nodeport" in text
    doctor = command_line(options, "doctor")
    assert doctor.startswith("kubectl eckrc doctor") and "--expiration" not in doctor


def test_usage_errors_come_before_any_cluster_is_read(options: FixOptions) -> None:
    import pytest

    from kubectl_eckrc.commands.fix import run
    from kubectl_eckrc.errors import UsageError

    for bad in (
        replace(options, server_name="10.0.0.1"),
        replace(options, proxy_address="lb.example.com"),
        replace(options, scope=replace(options.scope, alias="Remote ES")),
        replace(options, scope=replace(options.scope, remote=None)),
    ):
        with pytest.raises(UsageError):
            run(bad)


def test_an_unreconcilable_elasticsearch_blocks_every_write(options: FixOptions) -> None:
    pair = healthy_pair()
    pair.local.es["spec"]["transport"] = {"tls": {"certificateAuthorities": {"configMapName": "peer-ca"}}}
    pair.local.configmaps["peer-ca"] = {"metadata": {"name": "peer-ca"}, "data": {"wrong.crt": "x"}}
    findings = [finding("ECKRC301", Status.FAIL, "mount-ca")]
    plan = build_plan(pair.build(), findings, options, ("l", "r"))
    assert [b.finding_id for b in plan.blockers] == ["ECKRC601"] and plan.changes == ()
    assert "ConfigMap peer-ca has no key ca.crt" in plan.blockers[0].message
