"""2xx: the remote cluster server is on, and reachable from outside its Kubernetes cluster."""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck, links, pki
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.spec import (
    API_KEY_LINK,
    API_KEY_SIDE,
    ERROR,
    LINK,
    REMOTE,
    CheckSpec,
    NotEvaluated,
    check,
    failed,
    need,
    not_applicable,
    not_evaluated,
    passed,
    warned,
)
from kubectl_eckrc.findings import Verdict
from kubectl_eckrc.snapshot import Side, Snapshot, TlsProbe, Unavailable


@check("ECKRC201", severity=ERROR, side=REMOTE, requires=("ECKRC102",), fix="enable-rcs", covers=("F1",),
       applies_to=API_KEY_SIDE)
def rcs_enabled(snap: Snapshot) -> Verdict:
    """Remote cluster server enabled on the remote Elasticsearch

    API-key links connect to the remote cluster server (port 9443), which ECK configures when
    the remote Elasticsearch sets `spec.remoteClusterServer.enabled: true`. The nodes must also
    run with it (`remote_cluster_server.enabled` in `_nodes/settings`): until the pods have
    rolled, the setting is only in the spec.

    On a real cluster: the spec, and `_nodes/settings` as the remote REST API answers it;
    without remote REST access only the spec, which can be ahead of pods that have not
    rolled.

    Fix by hand: set `spec.remoteClusterServer.enabled: true` on the remote Elasticsearch and
    let ECK roll its pods.
    """
    remote = reads.remote_side(snap)
    es = reads.resource(remote)
    where = f"{remote.namespace}/{remote.es_name}"
    if not eck.rcs_enabled(es):
        return failed(f"remote cluster server not enabled on {where}",
                      f"set spec.remoteClusterServer.enabled: true on Elasticsearch {where} "
                      "(this rolls the remote pods)", enabled=False)
    running = _nodes_with_rcs(remote)
    if running is None:
        return passed(f"remote cluster server enabled on {where} (node settings not read)", enabled=True)
    on, total = running
    if on < total:
        return failed(f"enabled in the spec of {where}, but {total - on} of {total} nodes run without it",
                      "the remote pods have not rolled yet: wait for ECK to finish the rollout "
                      f"(kubectl get elasticsearch {remote.es_name} -n {remote.namespace})",
                      nodesWithRcs=on, nodes=total)
    return passed(f"remote cluster server enabled on {where} ({on}/{total} nodes)", nodesWithRcs=on)


def _nodes_with_rcs(remote: Side) -> tuple[int, int] | None:
    if isinstance(remote.es, Unavailable) or not isinstance(remote.es.node_settings, dict):
        return None
    nodes = remote.es.node_settings.get("nodes") or {}
    on = sum(1 for n in nodes.values()
             if eck.truthy(eck.flatten(n.get("settings") or {}).get("remote_cluster_server.enabled")))
    return on, len(nodes)


@check("ECKRC202", severity=ERROR, side=REMOTE, requires=("ECKRC201",), covers=("F1",),
       applies_to=API_KEY_SIDE)
def rcs_service(snap: Snapshot) -> Verdict:
    """The remote cluster service exists, on port 9443, with ready pods behind it

    ECK creates `<es>-es-remote-cluster` (port 9443, name `rcs`) while the remote cluster server
    is enabled, and deletes it otherwise. It publishes not-ready pods
    (`publishNotReadyAddresses: true`), so its endpoints list pods that are still starting:
    readiness is read from the pods themselves. Without a ready pod nothing answers behind any
    exposure of it.

    On a real cluster: the Service and its EndpointSlices as the remote API server reports
    them; a pod that is ready but whose 9443 listener fails (e.g. a TLS configuration error)
    still counts as an endpoint.

    Fix by hand: enable the remote cluster server (ECKRC201); if the service exists, make the
    remote pods ready.
    """
    remote = reads.remote_side(snap)
    name = eck.remote_cluster_service(remote.es_name)
    svc = eck.find_by_name(reads.services(remote), name)
    if svc is None:
        return failed(f"service {remote.namespace}/{name} does not exist",
                      "ECK creates it only while spec.remoteClusterServer.enabled is true; "
                      "check the operator's events on the remote Elasticsearch", service=name)
    if not any(p.get("port") == eck.RCS_PORT for p in eck.service_ports(svc)):
        ports = [p.get("port") for p in eck.service_ports(svc)]
        return failed(f"service {name} does not serve port 9443 (ports: {ports})",
                      "the remote cluster service was changed by hand: let ECK own it", ports=ports)
    pods = need(reads.kube(remote).pods, f"pods of {remote.es_name} in {remote.namespace}")
    ready = [eck.name_of(p) for p in pods if eck.is_ready(p)]
    not_ready = [eck.name_of(p) for p in pods if not eck.is_ready(p)]
    total = len(pods)
    if not ready:
        return failed(f"{name}: 0/{total} {remote.es_name} pods ready behind 9443",
                      f"no remote Elasticsearch pod is ready (the Service lists not-ready pods too): check "
                      f"the pods of {remote.es_name} in {remote.namespace}", ready=0, total=total,
                      not_ready=not_ready)
    starting = {"not_ready": not_ready} if not_ready else {}
    return passed(f"{name}: {len(ready)}/{total} {remote.es_name} pods ready behind 9443",
                  ready=len(ready), total=total, **starting)


def exposures(remote: Side) -> eck.RcsExposures:
    kube = reads.kube(remote)
    nodes = kube.nodes if isinstance(kube.nodes, list) else []  # optional: NodePort addresses
    return eck.rcs_exposures(reads.services(remote), remote.es_name, eck.node_addresses(nodes))


@check("ECKRC203", severity=ERROR, side=REMOTE, requires=("ECKRC202",), fix="expose-rcs", covers=("F2",),
       applies_to=API_KEY_SIDE)
def rcs_exposed(snap: Snapshot) -> Verdict:
    """Port 9443 is exposed outside the remote Kubernetes cluster

    The remote cluster server must be reachable from the other Kubernetes cluster: a
    LoadBalancer Service with an external address, a NodePort, `spec.remoteClusterServer.service`
    (ECK >= 3.3), or an L4 (TCP / TLS passthrough) ingress. Every such Service must forward to
    9443 (`targetPort: 9443` or the port name `rcs`): a port remapped without `targetPort` is a
    classic silent failure. An exposure doctor cannot see (an ingress, an external load
    balancer) passes when the TLS probe reached the remote's own certificate through it.
    Links ECK sets up itself (`spec.remoteClusters`, same Kubernetes cluster) need no outside
    exposure: ECK's `<es>-es-remote-cluster` Service serves them.

    On a real cluster: Services of the remote namespace (and ECK's
    `remoteClusterServer.service`); cloud load balancer health checks, security groups and
    ingresses in other namespaces are not read, only their effect on the TLS probe.

    Fix by hand: on ECK >= 3.3 set `spec.remoteClusterServer.service.spec.type: LoadBalancer`;
    otherwise create a LoadBalancer or NodePort Service selecting
    `elasticsearch.k8s.elastic.co/cluster-name: <es>` with `port: 9443` and `targetPort:
    9443`.
    """
    managed = links.scope_eck_remote(snap)
    if managed is not None and managed.api_key:
        return passed(f"the links in scope stay inside one Kubernetes cluster: ECK's Service "
                      f"{managed.name}-es-remote-cluster serves 9443 (spec.remoteClusters)")
    remote = reads.remote_side(snap)
    exposed = exposures(remote)
    usable = exposed.usable
    problems = [text for texts in exposed.problems.values() for text in texts]
    evidence: dict[str, Any] = {"problems": problems, "exposures": [e.describe() for e in usable]}
    if exposed.remapped:  # the ports expose-rcs repoints at 9443
        evidence["remapped"] = [{"service": p.service, "port": p.port, "targetPort": p.target}
                                for p in exposed.remapped]
    if problems and usable:
        return warned(f"{problems[0]} (beside a working exposure)",
                      "fix or delete that Service; the remote cluster server is exposed by "
                      + "; ".join(e.describe() for e in usable), **evidence)
    if problems:
        return failed(problems[0], "fix the Service so that it forwards to port 9443 of the ES pods",
                      **evidence)
    if usable:
        return passed("exposed by " + "; ".join(e.describe() for e in usable),
                      exposures=[e.describe() for e in usable], **_unknown_node_addresses(remote, usable))
    reached = _probe_reached_remote(snap, remote)
    if reached:
        return passed(f"no Service exposes 9443, but {reached} reaches the remote cluster server "
                      "(ingress or external load balancer)", probe=reached)
    return failed(f"9443 of {remote.namespace}/{remote.es_name} is not exposed outside its cluster",
                  "expose the remote cluster server: spec.remoteClusterServer.service with type "
                  "LoadBalancer (ECK >= 3.3), or a LoadBalancer/NodePort Service selecting the "
                  f"{remote.es_name} pods with targetPort 9443", exposures=[])


def _unknown_node_addresses(remote: Side, usable: list[eck.Exposure]) -> dict[str, str]:
    """Why a NodePort shows no node address: the nodes read failed (often a namespaced Role)."""
    nodes = reads.kube(remote).nodes
    if not isinstance(nodes, Unavailable) or not any(e.kind == "NodePort" and not e.address for e in usable):
        return {}
    return {"node_addresses": f"{nodes.reason} (needs {nodes.permission})"}


def _probe_reached_remote(snap: Snapshot, remote: Side) -> str:
    """The address of a probe whose presented chain validates against the remote's own CA."""
    try:
        cas = reads.transport_cas(remote)
    except NotEvaluated:  # without the remote CA there is nothing to compare with
        return ""
    for probe in snap.probes.values():
        if isinstance(probe, TlsProbe) and probe.chain and pki.chain_from(probe.chain, cas):
            return probe.address
    return ""


@check("ECKRC204", severity=ERROR, side=LINK, requires=("ECKRC502", "ECKRC203"), fix="register-remote",
       covers=("F2", "F10"), applies_to=API_KEY_LINK)
def proxy_address_matches(snap: Snapshot, alias: str) -> Verdict:
    """proxy_address points at an exposure of the remote cluster server

    With API keys, `proxy_address` must reach 9443 through one of the remote's exposures (the
    load balancer's address and port, or a node address and the nodePort). Pointing it at the
    transport port (9300, or a Service forwarding to it) fails with `bad_certificate` /
    `Empty client certificate chain`; an in-cluster `*.svc` name of the other Kubernetes
    cluster does not resolve from the local pods.

    On a real cluster: the `proxy_address` of the settings compared with the exposures
    doctor found; a DNS name is resolved from where doctor runs, which can differ from what
    the local pods resolve.

    Fix by hand: `PUT _cluster/settings` with `cluster.remote.<alias>.proxy_address` set to
    the load balancer's address and port (or a node address and the nodePort).
    """
    if links.eck_remote(snap, alias) is not None:
        return not_applicable("ECK registers this same-cluster link with seeds, not proxy_address")
    link = reads.link(snap, alias)
    evidence: dict[str, Any] = {"proxy_address": link.proxy_address}
    if link.port == eck.TRANSPORT_PORT:
        return failed(f"proxy_address {link.proxy_address} targets the transport port 9300",
                      "API-key links must connect to the remote cluster server (9443): change "
                      f"cluster.remote.{alias}.proxy_address to its exposed address", **evidence)
    if link.host.endswith((".svc", ".svc.cluster.local")):
        return failed(f"proxy_address {link.proxy_address} is an in-cluster service name",
                      "the remote runs in another Kubernetes cluster: use the address of its "
                      "LoadBalancer or NodePort", **evidence)
    return _match_exposure(snap, link, evidence)


def _match_exposure(snap: Snapshot, link: links.Link, evidence: dict[str, Any]) -> Verdict:
    remote = reads.remote_for(snap, link.alias)
    found = exposures(remote).found
    evidence["exposures"] = [e.describe() for e in found]
    for e in found:
        if e.port == link.port and (e.address == link.host or e.kind == "NodePort"):
            return passed(f"{link.proxy_address} is {e.describe()}", **evidence)
    transport = _transport_exposure(remote, link)
    if transport:
        return failed(f"proxy_address {link.proxy_address} reaches the transport port through {transport}",
                      "API-key links must use the remote cluster server (9443): point proxy_address "
                      "at an exposure of it", **evidence)
    reached = _probe_reached_remote(snap, remote)
    if reached == link.proxy_address:
        return passed(f"{link.proxy_address} reaches the remote cluster server (exposure not visible "
                      "as a Service)", **evidence)
    probe = snap.probes.get(link.alias)
    if isinstance(probe, TlsProbe) and probe.tcp == "ok" and (probe.chain or probe.tls == "not-tls"):
        # Something outside the remote's Services answers there (an ingress, an external LB):
        # doctor cannot see it, and ECKRC306 judges what it presents.
        return not_evaluated(f"{link.proxy_address} is not a Service of {remote.namespace}: something "
                             "doctor cannot see (ingress, external load balancer) answers there; "
                             "ECKRC306 judges what it presents")
    return failed(f"proxy_address {link.proxy_address} matches no exposure of the remote cluster server",
                  "set proxy_address to " + (found[0].where if found else "the exposed address of port 9443"),
                  **evidence)


def _transport_exposure(remote: Side, link: links.Link) -> str:
    for svc in reads.services(remote):
        for port in eck.service_ports(svc):
            if str(eck.target_port(port)) not in (str(eck.TRANSPORT_PORT), "transport", "tls-transport"):
                continue
            if (link.host in eck.lb_addresses(svc) and port.get("port") == link.port) or \
                    port.get("nodePort") == link.port:
                return f"service {eck.name_of(svc)}"
    return ""


TCP_HINTS = {
    "refused": "nothing listens there: wrong host or port, or the load balancer does not forward to 9443",
    "timeout": "packets are dropped: a firewall or NetworkPolicy, a load balancer without backends, or "
               "a wrong address",
    "unresolved": "the host name does not resolve from here; it must resolve from the local pods too",
}


@check("ECKRC205", severity=ERROR, side=LINK, requires=("ECKRC502",), covers=("F2",),
       remediation=("open TCP from the local cluster's nodes to proxy_address (firewall, security "
                    "group, NetworkPolicy); the address itself is right"))
def tcp_reachable(snap: Snapshot, alias: str) -> Verdict:
    """proxy_address accepts TCP connections

    doctor opens a TCP connection to `proxy_address` from where it runs, within the timeout.
    A connection that is accepted but then gets no answer at all (a load balancer without a
    working backend, a black hole) fails too. This is not the local pods' network: a pass here
    with a failure in `_remote/info` points at egress rules of the local cluster, and an
    address this machine cannot reach while the local cluster is connected to it (an internal
    load balancer, a private DNS name) is only a warning: the link's own evidence
    (`_resolve/cluster`, `_remote/info`) decides.

    On a real cluster: a TCP connect from doctor's machine, not from the local pods: egress
    NetworkPolicies, NAT and firewalls on the pods' path are only seen through
    `_remote/info` and `_resolve/cluster`.

    Fix by hand: check firewalls, security groups and NetworkPolicies between the clusters,
    and that the load balancer has healthy backends on 9443.
    """
    if links.eck_remote(snap, alias) is not None:
        return not_applicable("ECK's seeds are in-cluster names the pods reach, not this machine")
    probe = reads.probe(snap, alias)
    # "tcp" and "tls" name their layer: a TCP connect that succeeded beside a TLS handshake
    # that timed out is one story (accepted, then silence), not two contradicting results
    evidence = {"address": probe.address, "tcp": probe.tcp}
    silent = probe.tcp == "ok" and probe.tls in ("timeout", "closed") and not probe.chain
    if probe.tcp == "ok" and not silent:
        return passed(f"{probe.address} accepts TCP connections ({probe.elapsed_ms} ms)", **evidence)
    if probe.tcp_error:
        evidence["error"] = probe.tcp_error
    problem = (f"accepts TCP but nothing answers: {probe.tls_error or probe.tls}" if silent else
               f"{probe.tcp}" + (f" ({probe.tcp_error})" if probe.tcp_error else ""))
    connected = reads.connected_by(snap, alias)
    if connected:
        return warned(f"{probe.address} is not reachable from this machine ({problem}); the local "
                      f"cluster is connected to it ({connected})",
                      "the local pods reach it by another path (an internal load balancer, private "
                      "DNS, a peered network): the link's own evidence decides; run doctor from inside "
                      "that network to check the certificate the remote presents",
                      **evidence, connected_by=connected)
    if silent:
        return failed(f"{probe.address} accepts TCP but nothing answers: {probe.tls_error or probe.tls}",
                      "the load balancer (or a firewall in between) accepts connections without a "
                      "working backend on 9443, or the remote pods are not ready",
                      **evidence, tls=probe.tls)
    return failed(f"cannot connect to {probe.address}: {problem}",
                  TCP_HINTS.get(probe.tcp, "the connection failed"), **evidence)


CHECKS: list[CheckSpec] = [rcs_enabled, rcs_service, rcs_exposed, proxy_address_matches, tcp_reachable]
