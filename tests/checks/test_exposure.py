"""2xx: the remote cluster server, its service and its exposure."""

from __future__ import annotations

from kubectl_eckrc.findings import Status
from kubectl_eckrc.snapshot import Unavailable
from tests.checks.helpers import first_failure, outcome
from tests.snapshot_builder import ALIAS, PairBuilder, healthy_pair, make_ca, make_leaf, service

LB = 3  # index of the LoadBalancer in the builder's remote services


def test_rcs_disabled_is_eckrc201_and_skips_the_service_check() -> None:
    pair = healthy_pair()
    pair.remote.es["spec"]["remoteClusterServer"] = {"enabled": False}
    finding = first_failure(pair)
    assert finding.id == "ECKRC201"
    assert finding.fix is not None and finding.fix.action == "enable-rcs"
    assert "spec.remoteClusterServer.enabled: true" in finding.hint
    assert outcome(pair, "ECKRC202").message == "skipped: ECKRC201 failed"


def test_rcs_enabled_but_pods_not_rolled_is_eckrc201() -> None:
    pair = healthy_pair()
    pair.remote.node_settings["nodes"]["n2"]["settings"] = {}
    finding = outcome(pair, "ECKRC201")
    assert finding.status is Status.FAIL
    assert "1 of 3 nodes run without it" in finding.message


def test_missing_remote_cluster_service_is_eckrc202() -> None:
    pair = healthy_pair()
    del pair.remote.services[2]
    finding = outcome(pair, "ECKRC202")
    assert finding.status is Status.FAIL
    assert "remote-es-es-remote-cluster does not exist" in finding.message


def test_no_ready_pod_is_eckrc202_even_when_the_service_publishes_it_as_ready() -> None:
    # ECK's remote cluster Service has publishNotReadyAddresses: true, so a starting pod is a
    # ready address of its endpoints: only the pod's Ready condition tells.
    pair = healthy_pair()
    pair.remote.pods[0]["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    assert pair.remote.endpoints[0]["subsets"][0]["addresses"]
    finding = outcome(pair, "ECKRC202")
    assert finding.status is Status.FAIL and "0/1 remote-es pods ready" in finding.message
    assert finding.evidence["not_ready"] == ["remote-es-es-default-0"]


def test_not_exposed_is_eckrc203_fixed_by_expose_rcs() -> None:
    pair = healthy_pair()
    del pair.remote.services[LB]
    pair.present([], tcp="timeout", tcp_error="timed out", tls="skipped")
    finding = outcome(pair, "ECKRC203")
    assert finding.status is Status.FAIL
    assert finding.fix is not None and finding.fix.action == "expose-rcs"


def test_exposure_through_an_invisible_ingress_passes_when_the_probe_reaches_the_rcs() -> None:
    pair = healthy_pair()
    del pair.remote.services[LB]
    finding = outcome(pair, "ECKRC203")
    assert finding.status is Status.PASS
    assert outcome(pair, "ECKRC204").status is Status.PASS


def test_load_balancer_without_address_is_eckrc203() -> None:
    pair = healthy_pair()
    pair.remote.services[LB]["status"] = {}
    finding = outcome(pair, "ECKRC203")
    assert finding.status is Status.FAIL
    assert "has no external address" in finding.message


def test_port_remapped_without_target_port_is_eckrc203_naming_the_port() -> None:
    pair = healthy_pair()
    pair.remote.services[LB] = service("remote-es-rcs", "search", "remote-es", 443, "rcs", "LoadBalancer",
                                       lb_ip="127.0.0.10")
    finding = outcome(pair, "ECKRC203")
    assert finding.status is Status.FAIL
    assert "port 443 forwards to 443" in finding.message
    assert "targetPort: 9443" in finding.message


def test_target_port_by_name_counts_as_9443() -> None:
    pair = healthy_pair()
    pair.remote.services[LB]["spec"]["ports"][0].update(port=443, targetPort="rcs")
    pair.local_cluster_setting("proxy_address", "127.0.0.10:443")
    assert outcome(pair, "ECKRC203").status is Status.PASS
    assert outcome(pair, "ECKRC204").status is Status.PASS


def test_proxy_address_on_transport_port_is_eckrc204() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("proxy_address", "127.0.0.10:9300")
    finding = outcome(pair, "ECKRC204")
    assert finding.status is Status.FAIL
    assert "transport port 9300" in finding.message


def test_proxy_address_on_a_service_forwarding_to_transport_is_eckrc204() -> None:
    pair = healthy_pair()
    pair.remote.services.append(service("remote-es-transport-lb", "search", "remote-es", 443, "transport",
                                        "LoadBalancer", target=9300, lb_ip="127.0.0.11"))
    pair.local_cluster_setting("proxy_address", "127.0.0.11:443")
    finding = outcome(pair, "ECKRC204")
    assert finding.status is Status.FAIL
    assert "transport port through service remote-es-transport-lb" in finding.message


def test_in_cluster_service_name_is_eckrc204() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("proxy_address", "remote-es-es-remote-cluster.search.svc:9443")
    assert "in-cluster service name" in outcome(pair, "ECKRC204").message


def test_proxy_address_matching_nothing_is_eckrc204_suggesting_the_lb() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("proxy_address", "127.0.0.99:9443")
    pair.present([], address="127.0.0.99:9443", tcp="refused", tcp_error="Connection refused", tls="skipped")
    finding = outcome(pair, "ECKRC204")
    assert finding.status is Status.FAIL
    assert "127.0.0.10:9443" in finding.hint


def test_proxy_address_served_by_an_invisible_proxy_defers_to_eckrc306() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("proxy_address", "127.0.0.99:9443")
    other = make_ca("other", "other-ca", subject_cn="some-proxy")
    pair.present([make_leaf(other, "x", "other", ["x.example"], key_name="other-leaf")],
                 address="127.0.0.99:9443")
    finding = outcome(pair, "ECKRC204")
    assert finding.status is Status.NOT_EVALUATED
    assert "ECKRC306" in finding.message
    assert outcome(pair, "ECKRC306").status is Status.FAIL


def test_accepted_connection_without_any_answer_is_eckrc205() -> None:
    pair = healthy_pair()
    pair.present([], tls="timeout", tls_error="the TLS handshake got no answer (accepted TCP, then silence)")
    _link_down(pair)
    finding = outcome(pair, "ECKRC205")
    assert finding.status is Status.FAIL
    assert "accepts TCP but nothing answers" in finding.message
    assert outcome(pair, "ECKRC304").message == "skipped: ECKRC205 failed"


def test_nodeport_matches_eckrc204() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("proxy_address", "127.0.0.50:31443")
    assert outcome(pair, "ECKRC204").status is Status.PASS


def test_refused_connection_is_eckrc205_and_skips_the_handshake_checks() -> None:
    pair = healthy_pair()
    pair.present([], tcp="refused", tcp_error="Connection refused", tls="skipped")
    _link_down(pair)
    finding = outcome(pair, "ECKRC205")
    assert finding.status is Status.FAIL
    assert "nothing listens" in finding.hint
    assert outcome(pair, "ECKRC304").message == "skipped: ECKRC205 failed"
    assert outcome(pair, "ECKRC306").message == "skipped: ECKRC205 failed"


def test_missing_probe_is_not_evaluated() -> None:
    pair = healthy_pair()
    snap = pair.build()
    snap.probes.clear()
    assert outcome(snap, "ECKRC205").status is Status.NOT_EVALUATED


def test_pending_load_balancer_beside_a_working_exposure_is_an_eckrc203_warning() -> None:
    pair = healthy_pair()
    pending = service("remote-es-rcs-old", "search", "remote-es", 9443, "rcs", "LoadBalancer",
                      node_port=31444)
    pair.remote.services.append(pending)
    finding = outcome(pair, "ECKRC203")
    assert finding.status is Status.WARN
    assert "remote-es-rcs-old has no external address" in finding.message
    assert finding.evidence["exposures"][0].startswith("LoadBalancer remote-es-rcs at 127.0.0.10:9443")


def test_pending_load_balancer_alone_is_eckrc203_even_with_its_node_port() -> None:
    pair = healthy_pair()
    pair.remote.services[LB]["status"] = {}
    assert outcome(pair, "ECKRC203").status is Status.FAIL


def test_an_address_this_machine_cannot_reach_is_a_warning_while_the_link_is_connected() -> None:
    # An internal load balancer: the local pods reach it, the workstation does not
    # (scenario pods-only-reachable). The link's own evidence decides.
    pair = healthy_pair()
    pair.present([], tcp="refused", tcp_error="connection refused", tls="skipped")
    finding = outcome(pair, "ECKRC205")
    assert finding.status is Status.WARN and "not reachable from this machine" in finding.message
    assert finding.evidence["connected_by"] == "_resolve/cluster"
    assert outcome(pair, "ECKRC503").status is Status.PASS


def _link_down(pair: PairBuilder) -> None:
    """What the local cluster says when it cannot reach the remote either."""
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    pair.local.resolve_cluster[ALIAS][ALIAS] = {"connected": False, "skip_unavailable": True}


def test_a_node_port_without_node_addresses_passes_and_names_the_missing_permission() -> None:
    pair = healthy_pair()
    lb = pair.remote.services[3]
    lb["spec"]["type"], lb["status"] = "NodePort", {}
    pair.remote.nodes = Unavailable("403 Forbidden: list nodes", "forbidden", "list nodes (cluster-wide)")
    verdict = outcome(pair, "ECKRC203")
    assert verdict.status is Status.PASS, verdict.message
    assert verdict.evidence["node_addresses"] == "403 Forbidden: list nodes (needs list nodes (cluster-wide))"
    assert "<node address>:31443" in verdict.message
