"""eck-diagnostics archives read as snapshots: what they support gives the live verdicts, the
rest is "not evaluated: offline", never a pass."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from kubectl_eckrc.checks.engine import run_checks
from kubectl_eckrc.collect import bundle
from kubectl_eckrc.collect.eck_diagnostics import parse_time
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.findings import Finding, Status
from kubectl_eckrc.options import Scope, SideTarget
from kubectl_eckrc.snapshot import SecretSummary, Side, Unavailable
from tests.collect.eckdiag_layout import NamespaceDump, nodes_answer, write_archive
from tests.snapshot_builder import ALIAS, PairBuilder, SideParts, healthy_pair

# What an eck-diagnostics archive can never give: the TLS probe, secret contents, API keys.
NEVER_FROM_ECK_DIAGNOSTICS = ("ECKRC103", "ECKRC304", "ECKRC404")


def dump_of(side: SideParts) -> NamespaceDump:
    secrets = [{"metadata": {"name": name, "namespace": side.namespace,
                             "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
                "data": {"k": "c2VjcmV0"}}
               for name, summary in side.secrets.items() if isinstance(summary, SecretSummary)]
    api: dict[str, Any] = {
        "version.json": side.info, "cluster_health.json": side.health, "licenses.json": side.license,
        "cluster_settings.json": side.settings, "nodes.json": nodes_answer(side.node_settings),
        "remote_cluster_info.json": side.remote_info,
    }
    if side.roles is not None:
        api["commercial/security_roles.json"] = side.roles
    return NamespaceDump(
        namespace=side.namespace,
        lists={"elasticsearch": [side.es], "services": side.services, "endpoints": side.endpoints,
               "pods": side.pods, "statefulsets": side.statefulsets,
               "configmaps": list(side.configmaps.values()), "events": side.events},
        secrets=secrets, es_name=side.es_name, api=api)


def archive_of(tmp_path: Path, pair: PairBuilder, **kw: Any) -> Path:
    return write_archive(tmp_path / "eck-diagnostics-2026-06-01T00-00-00.zip",
                         [dump_of(pair.local), dump_of(pair.remote)], **kw)


def scope(namespace: str | None = "logging", es: str | None = None, remote_namespace: str | None = "search",
          alias: str | None = None) -> Scope:
    remote = SideTarget(None, None, remote_namespace, None) if remote_namespace else None
    return Scope(local=SideTarget(None, None, namespace, es), remote=remote, alias=alias)


def compare(offline: list[Finding], live: list[Finding]) -> dict[tuple[str, str | None], Status]:
    """Assert offline agrees with live wherever it has evidence; returns the offline statuses."""
    live_by = {(f.id, f.alias): f for f in live}
    result = {}
    for finding in offline:
        expected = live_by[(finding.id, finding.alias)]
        if finding.status is Status.NOT_EVALUATED:
            assert "offline" in finding.message, finding
        else:
            assert finding.status == expected.status, (finding, expected)
        result[(finding.id, finding.alias)] = finding.status
    return result


def test_healthy_pair_archive_gives_live_verdicts_where_it_has_evidence(tmp_path: Path) -> None:
    pair = healthy_pair()
    live_snap = pair.build()
    snap = bundle.load_snapshot(str(archive_of(tmp_path, pair)), scope=scope())
    assert snap.source == "eck-diagnostics" and isinstance(snap.remote, Side)
    assert snap.aliases == [ALIAS]
    statuses = compare(run_checks(snap), run_checks(live_snap))
    for check_id in NEVER_FROM_ECK_DIAGNOSTICS:
        assert all(s is Status.NOT_EVALUATED for (i, _), s in statuses.items() if i == check_id), check_id
    evaluated = {i for (i, _), s in statuses.items() if s is not Status.NOT_EVALUATED}
    assert {"ECKRC101", "ECKRC102", "ECKRC104"} <= evaluated


@pytest.mark.parametrize(("fault", "check_id"), [("disconnected", "ECKRC503"), ("sniff", "ECKRC502")])
def test_broken_link_archive_fails_the_same_checks_as_live(tmp_path: Path, fault: str, check_id: str) -> None:
    pair = healthy_pair()
    if fault == "disconnected":
        pair.remote_info(connected=False, num_proxy_sockets_connected=0)
        # live, _resolve/cluster makes a fresh attempt: it must fail too for the link to be down
        pair.local.resolve_cluster = {ALIAS: {ALIAS: {"connected": False, "skip_unavailable": False}}}
    else:
        pair.local_cluster_setting("mode", "sniff")
    live = run_checks(pair.build())
    offline = run_checks(bundle.load_snapshot(str(archive_of(tmp_path, pair)), scope=scope()))
    statuses = compare(offline, live)
    live_failures = {(f.id, f.alias) for f in live if f.status is Status.FAIL}
    offline_failures = {k for k, s in statuses.items() if s is Status.FAIL}
    assert offline_failures <= live_failures
    assert (check_id, ALIAS) in offline_failures


def test_unreadable_parts_are_offline_never_pass(tmp_path: Path) -> None:
    snap = bundle.load_snapshot(str(archive_of(tmp_path, healthy_pair())), scope=scope())
    probe = snap.probes[ALIAS]
    assert isinstance(probe, Unavailable) and probe.kind == "offline"
    secrets = snap.local.kube.secrets  # type: ignore[union-attr]
    assert secrets["remote-api-keys"].kind == "offline"
    assert "metadata" in secrets["remote-api-keys"].reason
    assert snap.local.kube.access == []  # type: ignore[union-attr]
    findings = {f.id: f for f in run_checks(snap) if f.alias in (None, ALIAS)}
    for check_id in (*NEVER_FROM_ECK_DIAGNOSTICS, "ECKRC504"):
        assert findings[check_id].status is Status.NOT_EVALUATED, findings[check_id]
        assert "offline" in findings[check_id].message


def test_without_remote_flags_the_remote_side_is_offline_with_the_flag_that_adds_it(tmp_path: Path) -> None:
    snap = bundle.load_snapshot(str(archive_of(tmp_path, healthy_pair())), scope=scope(remote_namespace=None))
    assert isinstance(snap.remote, Unavailable) and snap.remote.kind == "offline"
    assert "--remote-bundle" in snap.remote.permission
    remote_found = next(f for f in run_checks(snap) if f.id == "ECKRC102")
    assert remote_found.status is Status.NOT_EVALUATED and "offline" in remote_found.message


def test_remote_side_can_come_from_a_second_archive(tmp_path: Path) -> None:
    pair = healthy_pair()
    local = write_archive(tmp_path / "a.zip", [dump_of(pair.local)])
    remote = write_archive(tmp_path / "b.zip", [dump_of(pair.remote)])
    snap = bundle.load_snapshot(str(local), str(remote), scope=scope())
    assert isinstance(snap.remote, Side) and snap.remote.role == "remote"
    assert snap.remote.namespace == "search" and snap.remote.es_name == "remote-es"
    compare(run_checks(snap), run_checks(pair.build()))


def test_ambiguous_archive_lists_the_choices(tmp_path: Path) -> None:
    path = archive_of(tmp_path, healthy_pair())
    with pytest.raises(UsageError) as caught:
        bundle.load_snapshot(str(path), scope=scope(namespace=None, remote_namespace=None))
    assert "logging/local-es, search/remote-es" in str(caught.value)
    assert "-n/--namespace" in str(caught.value)


def test_unknown_namespace_lists_what_the_archive_holds(tmp_path: Path) -> None:
    path = archive_of(tmp_path, healthy_pair())
    with pytest.raises(UsageError) as caught:
        bundle.load_snapshot(str(path), scope=scope(namespace="nope"))
    assert "no Elasticsearch nope/*" in str(caught.value) and "logging/local-es" in str(caught.value)


def test_archive_without_manifest_is_recognised_by_its_layout(tmp_path: Path) -> None:
    snap = bundle.load_snapshot(str(archive_of(tmp_path, healthy_pair(), manifest=False)), scope=scope())
    assert snap.source == "eck-diagnostics"


def test_collection_date_becomes_the_snapshot_clock(tmp_path: Path) -> None:
    path = archive_of(tmp_path, healthy_pair(), collection_date="2026-06-01T02:30:00.5+02:00")
    assert bundle.load_snapshot(str(path), scope=scope()).taken_at == "2026-06-01T00:30:00Z"
    assert parse_time("2026-06-01T00:00:00.123456789Z") == "2026-06-01T00:00:00Z"
    assert parse_time("yesterday") is None


def test_nested_node_settings_are_flattened_like_the_live_api(tmp_path: Path) -> None:
    snap = bundle.load_snapshot(str(archive_of(tmp_path, healthy_pair())), scope=scope())
    nodes = snap.remote.es.node_settings["nodes"]  # type: ignore[union-attr]
    assert nodes["n0"]["settings"] == {"remote_cluster_server.enabled": "true"}
    assert "jvm" not in nodes["n0"]


def test_error_answer_in_the_archive_is_offline_with_its_reason(tmp_path: Path) -> None:
    pair = healthy_pair()
    dump = dump_of(pair.local)
    dump.api["remote_cluster_info.json"] = {"error": {"type": "security_exception", "reason": "denied"},
                                            "status": 403}
    path = write_archive(tmp_path / "e.zip", [dump, dump_of(pair.remote)])
    snap = bundle.load_snapshot(str(path), scope=scope())
    remote_info = snap.local.es.remote_info  # type: ignore[union-attr]
    assert isinstance(remote_info, Unavailable) and remote_info.kind == "offline"
    assert "403" in remote_info.reason and "denied" in remote_info.reason


def test_missing_api_diagnostics_make_the_es_side_offline(tmp_path: Path) -> None:
    pair = healthy_pair()
    dump = dump_of(pair.local)
    dump.api = {}
    path = write_archive(tmp_path / "n.zip", [dump])
    snap = bundle.load_snapshot(str(path), scope=scope(remote_namespace=None))
    assert isinstance(snap.local.es, Unavailable) and snap.local.es.kind == "offline"
    assert "support-diagnostics" in snap.local.es.reason


def test_secret_data_in_an_archive_never_reaches_the_snapshot(tmp_path: Path) -> None:
    path = archive_of(tmp_path, healthy_pair())
    with zipfile.ZipFile(path) as zf:
        assert b"c2VjcmV0" not in zf.read("logging/secrets.json")
    snap = bundle.load_snapshot(str(path), scope=scope())
    assert all(isinstance(s, Unavailable) for s in snap.local.kube.secrets.values())  # type: ignore[union-attr]


def test_alias_flag_narrows_the_links(tmp_path: Path) -> None:
    snap = bundle.load_snapshot(str(archive_of(tmp_path, healthy_pair())), scope=scope(alias="other"))
    assert snap.aliases == ["other"] and set(snap.probes) == {"other"}


def test_archive_wrapped_in_one_top_folder_is_read_the_same(tmp_path: Path) -> None:
    flat = archive_of(tmp_path, healthy_pair())
    wrapped = tmp_path / "wrapped.zip"
    with zipfile.ZipFile(flat) as src, zipfile.ZipFile(wrapped, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr("eck-diagnostics-2026-06-01T00-00-00/" + info.filename, src.read(info))
    a = bundle.load_snapshot(str(flat), scope=scope())
    b = bundle.load_snapshot(str(wrapped), scope=scope())
    assert [f.status for f in run_checks(a)] == [f.status for f in run_checks(b)]
    assert b.local.kube.elasticsearch == a.local.kube.elasticsearch  # type: ignore[union-attr]


@pytest.mark.parametrize(("operator", "has_service"), [("3.2.0", False), ("3.3.0", True)])
def test_crd_summary_is_inferred_from_the_operator_version(
    tmp_path: Path, operator: str, has_service: bool
) -> None:
    path = archive_of(tmp_path, healthy_pair(), operator_version=operator)
    crd = bundle.load_snapshot(str(path), scope=scope()).local.kube.crd  # type: ignore[union-attr]
    assert crd["served_versions"] == ["v1"] and crd["eck_version"] == operator
    assert crd["has_rcs_service"] is has_service
