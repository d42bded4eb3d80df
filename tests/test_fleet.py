"""Matching an alias to its remote among the contexts given (fleet.py), on snapshots: the
healthy pair's local side, and the remotes a fleet run would list."""

from __future__ import annotations

from dataclasses import replace

from kubectl_eckrc import fleet
from kubectl_eckrc.findings import Report
from kubectl_eckrc.fleet import Candidate, EsRef, FleetReport, LinkReport
from tests.snapshot_builder import ALIAS, LB_IP, REMOTE_ES, REMOTE_NS, eck_leaf, healthy_pair, make_ca

REMOTE = EsRef("prod-b", REMOTE_NS, REMOTE_ES)


def remote_candidate(pair, ref: EsRef = REMOTE) -> Candidate:
    side = pair.remote.build()
    return fleet.candidate_of(ref, pair.remote.es, pair.remote.services,
                              fleet.transport_ca_of(side.kube.secrets[f"{REMOTE_ES}-es-transport-certs-public"]))


def other_candidate(name: str = "other-es", context: str = "prod-c") -> Candidate:
    ca = make_ca(name, f"{name}-ca")
    return Candidate(EsRef(context, "data", name), addresses=("127.0.0.99:9443",),
                     server_names=(f"{name}-es-remote-cluster.data.svc",), ca_sha256=(ca.info.sha256,),
                     cas=(ca.info,), version="8.17.1")


def facts(pair) -> fleet.AliasFacts:
    return fleet.alias_facts(pair.build(), ALIAS, "prod-a")


def test_the_healthy_link_is_matched_by_every_clue() -> None:
    pair = healthy_pair()
    found = fleet.match(facts(pair), [other_candidate(), remote_candidate(pair)])
    assert found.remote == REMOTE
    assert found.clues == (f"address {LB_IP}:9443 is a Service of it",
                           "the certificate at the address is its own",
                           f"server_name {REMOTE_ES}-es-remote-cluster.{REMOTE_NS}.svc is its remote cluster "
                           "service", "the trusted CA is its transport CA", "version 8.17.1")


def test_a_stale_ca_does_not_lose_the_link_its_address_and_certificate_name() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca(REMOTE_ES, "old-remote-ca")])
    found = fleet.match(facts(pair), [other_candidate(), remote_candidate(pair)])
    assert found.remote == REMOTE
    assert "the trusted CA is its transport CA" not in found.clues


def test_two_clusters_of_the_same_name_are_told_apart_by_the_address() -> None:
    pair = healthy_pair()
    twin_name = replace(other_candidate(REMOTE_ES, "prod-c"), ref=EsRef("prod-c", REMOTE_NS, REMOTE_ES),
                        server_names=(f"{REMOTE_ES}-es-remote-cluster.{REMOTE_NS}.svc",))
    found = fleet.match(facts(pair), [twin_name, remote_candidate(pair)])
    assert found.remote == REMOTE


def test_two_clusters_that_look_the_same_are_not_guessed_between() -> None:
    pair = healthy_pair()
    first = remote_candidate(pair)
    second = replace(first, ref=EsRef("prod-c", REMOTE_NS, REMOTE_ES))
    found = fleet.match(facts(pair), [first, second])
    assert found.remote is None
    assert found.reason == (f"alias {ALIAS} matches several clusters equally (prod-b/search/remote-es, "
                            "prod-c/search/remote-es)")


def test_an_alias_no_given_context_owns_says_what_would_complete_it() -> None:
    pair = healthy_pair()
    found = fleet.match(facts(pair), [other_candidate()])
    assert found.remote is None
    assert found.reason == (f"no given context runs the cluster behind alias {ALIAS} ({LB_IP}:9443; "
                            f"server_name names Elasticsearch {REMOTE_NS}/{REMOTE_ES})")
    remote = fleet.unmatched_remote(found.reason, ("prod-c",), ("prod-b",))
    assert remote.kind == "no-access"
    assert remote.permission == ("pass --remote-context for the context that runs it; contexts of the "
                                 "kubeconfig not given: prod-b")


def test_a_version_alone_matches_nothing() -> None:
    pair = healthy_pair()
    lookalike = Candidate(EsRef("prod-c", "x", "y"), version="8.17.1")
    assert fleet.match(facts(pair), [lookalike]).remote is None


def test_a_certificate_signed_by_the_candidate_ca_is_its_own_even_without_an_address() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", None)
    pair.local_cluster_setting("proxy_address", "lb.example.com:9443")
    pair.present([eck_leaf(pair.remote_ca)])
    found = fleet.match(facts(pair), [other_candidate(), remote_candidate(pair)])
    assert found.remote == REMOTE
    assert found.clues[0] == "the certificate at the address is its own"


def test_spec_remote_clusters_names_its_cluster_in_the_same_context() -> None:
    pair = healthy_pair()
    pair.local.es["spec"]["remoteClusters"] = [{"name": ALIAS, "elasticsearchRef": {"name": "peer"}}]
    found = fleet.match(facts(pair), [remote_candidate(pair)])
    assert found.remote == EsRef("prod-a", "logging", "peer")
    assert found.clues == ("spec.remoteClusters elasticsearchRef",)


def _link(code_of_report: Report, remote: EsRef | None = REMOTE) -> LinkReport:
    return LinkReport(EsRef("prod-a", "logging", "local-es"), ALIAS, remote, (), code_of_report)


def test_the_fleet_exits_with_its_worst_link() -> None:
    from kubectl_eckrc.checks.engine import build_report, run_checks

    healthy = healthy_pair().build()
    broken_pair = healthy_pair()
    broken_pair.set_configured_ca([make_ca(REMOTE_ES, "old-remote-ca")])
    broken = broken_pair.build()
    good, bad = (build_report(s, run_checks(s)) for s in (healthy, broken))
    report = FleetReport("0.1.0", "live", "t", ("prod-a", "prod-b"), [_link(good), _link(bad)])
    assert (good.exit_code, bad.exit_code, report.exit_code) == (0, 1, 1)
    assert [link.state for link in report.links] == ["healthy", "broken"]
    cause = report.links[1].root_cause
    assert cause is not None and cause.id == "ECKRC303"


def test_a_trusted_ca_alone_does_not_match_the_nodes_trust_it_for_every_alias() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("proxy_address", "127.0.0.77:9443")
    pair.local_cluster_setting("server_name", "elsewhere.example.com")
    pair.present([make_ca("elsewhere", "elsewhere-ca")])
    found = fleet.match(facts(pair), [remote_candidate(pair)])
    assert found.remote is None


def test_a_side_sanitized_in_place_is_what_a_bundle_keeps() -> None:
    from kubectl_eckrc.collect.bundle import sanitized
    from kubectl_eckrc.collect.sanitize import sanitized_side

    pair = healthy_pair()
    pair.local.es["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": '{"password": "hunter2-canary"}'}
    env = [{"name": "PW", "value": "s3cr3t-canary"}]
    pair.local.pods[0]["spec"] = {"containers": [{"name": "es", "env": env}]}
    snap = pair.build()
    memo: dict[int, tuple[object, object]] = {}
    assert sanitized_side(snap.local, memo) == sanitized(snap).local
    assert sanitized_side(snap.remote, memo) == sanitized(snap).remote
    assert "canary" not in repr(sanitized_side(snap.local, memo))
