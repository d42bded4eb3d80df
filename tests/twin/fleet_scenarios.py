"""Fleet scenarios: several Elasticsearch clusters over three environments (contexts `local`,
`remote`, `remote2`), linked the way a platform team links them, each link built with the
user's steps of domain.md §2 (expose 9443, copy the CA, create a cross-cluster key, store it,
mount the CA, register the alias).

`fleet`: `logging/local-es` -> `search/remote-es` (remote) and -> `archive/archive-es`
(remote2); `metrics/metrics-es` -> `search/remote-es`, and -> `logging/local-es` through ECK's
`spec.remoteClusters` (alias `logging`, API key). `fleet-one-broken`: the same, with the CA
copied for local-es -> archive-es a stale one (F4): only that link fails. `fleet-synthetic-N`:
N clusters spread over the three environments, each local one linked to a remote one (the
benchmark's fleet).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tests.twin import pki
from tests.twin.eck_config import CLUSTER_LABEL, TYPE_LABEL, decode_secret_data
from tests.twin.environment import Environment
from tests.twin.es_api import es_call
from tests.twin.kubeconfig import ContextEntry, write_kubeconfig
from tests.twin.scenario_steps import (
    ALLOCATOR,
    CA_MOUNT,
    _create,
    _distinct_key,
    es_resource,
    node_set,
)

ENVIRONMENTS = ("local", "remote", "remote2")
VERSION = "8.15.3"


@dataclass(frozen=True)
class EsName:
    env: str
    namespace: str
    name: str


@dataclass(frozen=True)
class FleetLink:
    source: EsName
    alias: str
    target: EsName
    stale_ca: bool = False  # the CA copied for this link is an old one (same subject, other key)


@dataclass(frozen=True)
class FleetPlan:
    links: tuple[FleetLink, ...]
    lone: tuple[EsName, ...] = ()  # clusters with no link
    # same-environment links ECK sets up (spec.remoteClusters with an API key): source, alias, target
    eck_links: tuple[FleetLink, ...] = ()

    @property
    def targets(self) -> list[EsName]:
        return sorted({link.target for link in self.links}, key=lambda e: (e.env, e.namespace, e.name))

    @property
    def sources(self) -> list[EsName]:
        return sorted({link.source for link in self.links}, key=lambda e: (e.env, e.namespace, e.name))


LOCAL_ES = EsName("local", "logging", "local-es")
METRICS_ES = EsName("local", "metrics", "metrics-es")
REMOTE_ES = EsName("remote", "search", "remote-es")
ARCHIVE_ES = EsName("remote2", "archive", "archive-es")

FLEET = FleetPlan((
    FleetLink(LOCAL_ES, "remote-es", REMOTE_ES),
    FleetLink(LOCAL_ES, "archive", ARCHIVE_ES),
    FleetLink(METRICS_ES, "search", REMOTE_ES),
), eck_links=(FleetLink(METRICS_ES, "logging", LOCAL_ES),))
ECK_ACCESS = {"search": [{"names": ["logs-*"]}]}


def _one_broken(plan: FleetPlan) -> FleetPlan:
    return replace(plan, links=tuple(replace(link, stale_ca=link.alias == "archive") for link in plan.links))


def synthetic(count: int) -> FleetPlan:
    """`count` clusters over the three environments: a third local, each linked to one remote."""
    locals_ = [EsName("local", f"team-{i % 10}", f"es-{i}") for i in range(count // 3 + count % 3)]
    remotes = [EsName(ENVIRONMENTS[1 + i % 2], f"team-{i % 10}", f"data-{i}")
               for i in range(count - len(locals_))]
    links = tuple(FleetLink(src, "data", remotes[i % len(remotes)]) for i, src in enumerate(locals_))
    lone = tuple(r for r in remotes if r not in {link.target for link in links})
    return FleetPlan(links, lone)


FLEET_SCENARIOS: dict[str, FleetPlan] = {"fleet": FLEET, "fleet-one-broken": _one_broken(FLEET)}


def plan_of(name: str) -> FleetPlan | None:
    if name in FLEET_SCENARIOS:
        return FLEET_SCENARIOS[name]
    if name.startswith("fleet-synthetic-") and name.rsplit("-", 1)[1].isdigit():
        return synthetic(int(name.rsplit("-", 1)[1]))
    return None


@dataclass
class RunningFleet:
    name: str
    envs: dict[str, Environment]
    kubeconfig: Path
    workdir: Path
    planted: list[str] = field(default_factory=list)

    @property
    def local(self) -> Environment:
        return self.envs["local"]

    def settle(self, timeout: float = 10.0) -> bool:
        return all(env.settle(timeout) for env in self.envs.values()) and self.wait_for_links(timeout)

    def wait_for_links(self, timeout: float) -> bool:
        return all(es.wait_for_links(timeout) for es in list(self.local.clusters.values()))

    def canaries(self) -> list[str]:
        values = set(self.planted)
        for env in self.envs.values():
            values |= env.secret_values()
        return sorted(values)

    def stop(self) -> None:
        for env in self.envs.values():
            env.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_fleet(name: str, kubeconfig: Path | None = None) -> RunningFleet:
    plan = plan_of(name)
    if plan is None:
        raise KeyError(f"unknown fleet scenario {name!r}")
    envs = {env: Environment(env, ALLOCATOR) for env in ENVIRONMENTS}
    workdir = Path(tempfile.mkdtemp(prefix="eckrc-fleet-"))
    running = RunningFleet(name, envs, workdir / "kubeconfig", workdir)
    try:
        for env in envs.values():
            env.start()
        _build(plan, running)
    except BaseException:
        running.stop()
        raise
    running.kubeconfig = write_kubeconfig(kubeconfig or running.kubeconfig, [
        ContextEntry(env, f"{env}-cluster", e.credentials.url, e.credentials.ca_pem, f"{env}-admin",
                     e.credentials.admin_token, "default") for env, e in envs.items()])
    running.wait_for_links(1.0)
    return running


def _env(running: RunningFleet, es: EsName) -> Environment:
    return running.envs[es.env]


def _build(plan: FleetPlan, running: RunningFleet) -> None:
    """The remotes first (RCS on, 9443 behind a LoadBalancer), then each local cluster with its
    CAs mounted and keys stored, then the aliases registered."""
    for es in [*plan.targets, *plan.lone]:
        env = _env(running, es)
        env.ensure_namespace(es.namespace)
        spec = {"remoteClusterServer": {"enabled": True}} if es in plan.targets else {}
        env.store.create("elasticsearches", es_resource(es.namespace, es.name, VERSION, [node_set("default")],
                                                        **spec))
    for es in plan.targets:
        _create(_env(running, es), "services", es.namespace, f"{es.name}-rcs", {"spec": {
            "type": "LoadBalancer", "selector": {CLUSTER_LABEL: es.name, TYPE_LABEL: "elasticsearch"},
            "ports": [{"name": "rcs", "port": 9443, "targetPort": 9443, "protocol": "TCP"}]}})
    _settle(running, plan)
    addresses = {es: f"{_env(running, es).network.lb_host(es.namespace, f'{es.name}-rcs')}:9443"
                 for es in plan.targets}
    for source in plan.sources:
        _build_source(running, source, [link for link in plan.links if link.source == source],
                      [link for link in plan.eck_links if link.source == source],
                      any(link.target == source for link in plan.eck_links))
    _settle(running, plan)
    for link in plan.eck_links:
        _first_request(running, link)
    for link in plan.links:
        prefix = f"cluster.remote.{link.alias}"
        source = link.source
        es_call(_env(running, source), source.namespace, source.name, "PUT", "/_cluster/settings",
                {"persistent": {f"{prefix}.mode": "proxy", f"{prefix}.proxy_address": addresses[link.target],
                                f"{prefix}.server_name": f"{link.target.name}-es-remote-cluster."
                                                         f"{link.target.namespace}.svc"}})


def _settle(running: RunningFleet, plan: FleetPlan) -> None:
    """A hundred clusters take their operators longer than two do: the bound grows with them."""
    bound = 10.0 + 0.5 * (len(plan.targets) + len(plan.sources) + len(plan.lone))
    for env in running.envs.values():
        if not env.settle(bound):
            raise RuntimeError(f"environment {env.name} did not settle within {bound:g} s")


def _first_request(running: RunningFleet, link: FleetLink, tries: int = 25) -> None:
    """The user's first request through an ECK-managed link: its first attempt may race ECK's
    set-up (CA copies reloaded), and `_resolve/cluster` starts another, as in Elasticsearch."""
    source = link.source
    for _ in range(tries):
        answer = es_call(_env(running, source), source.namespace, source.name, "GET",
                         f"/_resolve/cluster/{link.alias}:*")[1]
        if (answer.get(link.alias) or {}).get("connected"):
            return
        time.sleep(0.2)


def _build_source(running: RunningFleet, source: EsName, links: list[FleetLink], eck_links: list[FleetLink],
                  eck_target: bool) -> None:
    env = _env(running, source)
    env.ensure_namespace(source.namespace)
    credentials = {}
    config: dict[str, Any] = {"xpack.security.remote_cluster_client.ssl.enabled": True,
                              "xpack.security.remote_cluster_client.ssl.certificate_authorities": []}
    volumes, mounts = [], []
    for link in links:
        configmap = f"{source.name}-{link.alias}-ca"  # clusters of one namespace may share an alias
        _create(env, "configmaps", source.namespace, configmap,
                {"data": {"ca.crt": _ca(running, link)}})
        credentials[f"cluster.remote.{link.alias}.credentials"] = _key(running, link)
        directory = f"{link.alias}-certs"
        config["xpack.security.remote_cluster_client.ssl.certificate_authorities"].append(f"{directory}/ca.crt")
        volumes.append({"name": directory, "configMap": {"name": configmap}})
        mounts.append({"name": directory, "mountPath": f"{CA_MOUNT.rsplit('/', 1)[0]}/{directory}",
                       "readOnly": True})
    _create(env, "secrets", source.namespace, f"{source.name}-remote-keys", {"stringData": credentials})
    nodes = node_set("default", config)
    nodes["podTemplate"] = {"spec": {"volumes": volumes,
                                     "containers": [{"name": "elasticsearch", "volumeMounts": mounts}]}}
    spec: dict[str, Any] = {"secureSettings": [{"secretName": f"{source.name}-remote-keys"}]}
    if eck_links:
        spec["remoteClusters"] = [{"name": link.alias, "apiKey": {"access": ECK_ACCESS}, "elasticsearchRef": {
            "name": link.target.name, "namespace": link.target.namespace}} for link in eck_links]
    if eck_target:  # ECK's API-key links need the remote cluster server on their target
        spec["remoteClusterServer"] = {"enabled": True}
    env.store.create("elasticsearches", es_resource(source.namespace, source.name, VERSION, [nodes], **spec))


def _ca(running: RunningFleet, link: FleetLink) -> str:
    if link.stale_ca:
        begin, end = pki.expired_validity(days_ago=3)
        old = pki.transport_ca(link.target.name, key=_distinct_key(), not_before=begin, not_after=end)
        return pki.cert_pem(old.cert).decode()
    target = link.target
    secret = _env(running, target).store.get("secrets", target.namespace,
                                             f"{target.name}-es-transport-certs-public")
    return decode_secret_data(secret)["ca.crt"]


def _key(running: RunningFleet, link: FleetLink) -> str:
    target = link.target
    _, key = es_call(_env(running, target), target.namespace, target.name, "POST",
                     "/_security/cross_cluster/api_key",
                     {"name": f"{link.source.name}-to-{target.name}", "expiration": "90d",
                      "access": {"search": [{"names": ["logs-*"]}]}})
    running.planted += [key["api_key"], key["encoded"]]
    return str(key["encoded"])
