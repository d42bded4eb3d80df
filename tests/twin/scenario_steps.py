"""The steps a user takes to link the two clusters, as `scenarios.build` runs them.

Each step works through public objects only: Kubernetes objects in the stores (what kubectl
would write) and Elasticsearch REST calls (`es_api.es_call`). `Plan` (scenario_plan.py)
decides which variant of each step the user took.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.twin import eck_ca, pki, scenario_signing
from tests.twin.eck_config import CLUSTER_LABEL, TYPE_LABEL, decode_secret_data
from tests.twin.environment import Environment
from tests.twin.es_api import es_call
from tests.twin.es_api_keys import encode_credential
from tests.twin.network import Acceptor, LoopbackAllocator, TlsTerminatingProxy
from tests.twin.scenario_plan import ALIAS, Plan
from tests.twin.service_network import HOSTNAME_LB_ANNOTATION, LB_HOSTNAME, LB_HOSTNAME_ADDRESS

LOCAL_NS, LOCAL_ES = "logging", "local-es"
REMOTE_NS, REMOTE_ES = "search", "remote-es"
RCS_SERVICE = "remote-es-rcs"
CA_CONFIGMAP, CA_KEY = "remote-ca", "remote-cluster-ca.crt"
KEYS_SECRET = "remote-api-keys"
KEY_NAME = "local-es-to-remote-es"
CA_MOUNT = "/usr/share/elasticsearch/config/remote-certs"
RCS_DNS = f"{REMOTE_ES}-es-remote-cluster.{REMOTE_NS}.svc"
PROXY_DNS = "rcs.remote-es.example.com"
WRONG_DNS = "wrong-name.example.com"  # in no certificate
LINK_FAILURE_WAIT = 15.0  # bound for a first failed attempt (twin timeouts are 2 s)
ALLOCATOR = LoopbackAllocator()
EXTRA_KEYS = 4
EXPIRED_KEY_AGE = 1.1  # seconds the expired-api-key scenario waits after its key (1ms) expired
_EXTRA_KEYS = itertools.count()


@dataclass
class Build:
    """The state of one scenario while it is built, then while it runs."""

    plan: Plan
    local: Environment
    remote: Environment
    workdir: Path
    extras: list[Acceptor] = field(default_factory=list)
    planted: list[str] = field(default_factory=list)
    proxy_address: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


# ---- Elasticsearch resources ------------------------------------------------------------------


def es_resource(namespace: str, name: str, version: str, node_sets: list[dict[str, Any]],
                **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"version": version, "nodeSets": node_sets, **spec}}


def node_set(name: str, config: dict[str, Any] | None = None, count: int = 1) -> dict[str, Any]:
    return {"name": name, "count": count, "config": {"node.store.allow_mmap": False, **(config or {})}}


def remote_spec(plan: Plan, build: Build) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if plan.rcs_enabled:
        spec["remoteClusterServer"] = {"enabled": True}
        if plan.expose == "eck-service":
            spec["remoteClusterServer"]["service"] = {"spec": {"type": "LoadBalancer"}}
    if plan.expose == "transport-service":
        spec["transport"] = {"service": {"spec": {"type": "LoadBalancer"}}}
    if plan.ca == "user-ca":
        ca = pki.transport_ca(REMOTE_ES, key=_distinct_key(),
                              **_window(expired=plan.remote_user_ca_expired))
        build.local.ensure_namespace(LOCAL_NS)
        _create(build.remote, "secrets", REMOTE_NS, "remote-es-transport-ca", {
            "stringData": {"ca.crt": pki.cert_pem(ca.cert).decode(), "ca.key": ca.key_pem.decode()}})
        spec.setdefault("transport", {})["tls"] = {"certificate": {"secretName": "remote-es-transport-ca"}}
    return spec


def _window(expired: bool) -> dict[str, Any]:
    if not expired:
        return {}
    begin, end = pki.expired_validity(days_ago=3)
    return {"not_before": begin, "not_after": end}


def local_node_sets(plan: Plan) -> list[dict[str, Any]]:
    if plan.rich_local or plan.mount == "first-nodeset" or not plan.client_role:
        client = ["remote_cluster_client"] if plan.client_role else []
        hot_roles = ["master", "data_hot", "ingest", *client]
        warm_roles = ["data_warm", *client]
        return [node_set("hot", {"node.roles": hot_roles, "node.attr.data": "hot"}),
                node_set("warm", {"node.roles": warm_roles, "node.attr.data": "warm"})]
    return [node_set("default")]


def _rich_extras(build: Build, node_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """User data on the local ES that any fix must keep: a secure setting, a sidecar, a volume."""
    credentials = '{"type": "service_account", "private_key_id": "twin-gcs-canary-1d7f"}'
    _create(build.local, "secrets", LOCAL_NS, "local-es-gcs", {
        "stringData": {"gcs.client.default.credentials_file": credentials}})
    _create(build.local, "configmaps", LOCAL_NS, "local-es-synonyms",
            {"data": {"synonyms.txt": "ny, new york\n"}})
    build.planted.append(credentials)
    for ns in node_sets:
        ns["podTemplate"] = {"spec": {
            "volumes": [{"name": "synonyms", "configMap": {"name": "local-es-synonyms"}}],
            "containers": [
                {"name": "elasticsearch", "resources": {"limits": {"memory": "2Gi"}},
                 "volumeMounts": [{"name": "synonyms",
                                   "mountPath": "/usr/share/elasticsearch/config/analysis"}]},
                {"name": "log-shipper", "image": "docker.elastic.co/beats/filebeat:8.15.3"},
            ]}}
    return [{"secretName": "local-es-gcs"}]


def _mount_ca(plan: Plan, node_sets: list[dict[str, Any]]) -> None:
    for index, ns in enumerate(node_sets):
        if plan.mount == "first-nodeset" and index > 0:
            continue
        path = f"remote-certs/{CA_KEY}" if plan.mount != "wrong-path" else "remote-certs/ca.crt"
        config: dict[str, Any] = {"xpack.security.remote_cluster_client.ssl.enabled": True}
        if plan.mount != "none":
            # one string replaces ECK's own list; a list is appended to it (go-ucfg AppendValues)
            value = path if plan.same_env == "user-ca-string" else [path]
            config["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = value
        ns["config"].update(config)
        if plan.mount == "none":
            continue
        template = ns.setdefault("podTemplate", {}).setdefault("spec", {})
        volume = {"name": "remote-certs", "configMap": {"name": CA_CONFIGMAP}}
        template.setdefault("volumes", []).append(volume)
        containers = template.setdefault("containers", [])
        es = next((c for c in containers if c["name"] == "elasticsearch"), None)
        if es is None:
            es = {"name": "elasticsearch"}
            containers.insert(0, es)
        mount = {"name": "remote-certs", "mountPath": CA_MOUNT, "readOnly": True}
        if plan.mount == "sub-path":  # the one file, copied by kubelet at container start
            mount.update(mountPath=f"{CA_MOUNT}/{CA_KEY}", subPath=CA_KEY)
        es.setdefault("volumeMounts", []).append(mount)


# ---- build steps ------------------------------------------------------------------------------


def _create(env: Environment, plural: str, namespace: str, name: str, body: dict[str, Any]) -> None:
    env.ensure_namespace(namespace)
    env.store.create(plural, {"metadata": {"name": name, "namespace": namespace}, **body})


def _distinct_key() -> Any:
    """A pool key no ECK CA uses (`pki.next_key` cycles below POOL_SIZE): hand-made CAs (a stale
    copy, another cluster's, a corporate proxy's) must never verify the operator's leaves."""
    return pki.pooled_key(pki.POOL_SIZE + next(_EXTRA_KEYS) % EXTRA_KEYS)


def settle(*envs: Environment) -> None:
    for env in envs:
        if not env.settle(10.0):
            raise RuntimeError(f"environment {env.name} did not settle")


def remote_ca_pem(build: Build) -> str:
    secret = build.remote.store.get("secrets", REMOTE_NS, f"{REMOTE_ES}-es-transport-certs-public")
    data = decode_secret_data(secret)
    return data["ca.crt"]


def _expose(build: Build) -> str:
    """Expose the remote's 9443 (or 9300) as the plan says; returns host:port for proxy_address."""
    plan, remote = build.plan, build.remote
    selector = {CLUSTER_LABEL: REMOTE_ES, TYPE_LABEL: "elasticsearch"}
    if plan.expose == "eck-service":
        settle(remote)
        return f"{remote.network.lb_host(REMOTE_NS, f'{REMOTE_ES}-es-remote-cluster')}:9443"
    if plan.expose == "transport-service":
        settle(remote)
        return f"{remote.network.lb_host(REMOTE_NS, f'{REMOTE_ES}-es-transport')}:9300"
    port: dict[str, Any] = {"name": "rcs", "port": 9443, "targetPort": 9443, "protocol": "TCP"}
    spec: dict[str, Any] = {"type": "LoadBalancer", "selector": selector, "ports": [port]}
    if plan.expose == "lb-remapped":
        port.pop("targetPort")
        port["port"] = 443
    if plan.expose == "lb-no-class-provider":
        spec["loadBalancerClass"] = "service.k8s.aws/nlb"
    if plan.expose == "nodeport":
        spec["type"] = "NodePort"
    body: dict[str, Any] = {"spec": spec}
    if plan.expose == "lb-pass-through":  # MetalLB: refusals pass through
        body["metadata"] = {"name": RCS_SERVICE, "namespace": REMOTE_NS,
                            "annotations": {"metallb.io/address-pool": "default"}}
    if plan.expose == "lb-hostname":  # an NLB published by DNS name, on a port of its own
        port["port"] = _free_port(LB_HOSTNAME_ADDRESS)
        body["metadata"] = {"name": RCS_SERVICE, "namespace": REMOTE_NS,
                            "annotations": {HOSTNAME_LB_ANNOTATION: "nlb"}}
    if plan.path == "pods-only":
        # an internal load balancer: a private address of the remote's network
        body["metadata"] = {"name": RCS_SERVICE, "namespace": REMOTE_NS,
                            "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}}
    _create(remote, "services", REMOTE_NS, RCS_SERVICE, body)
    if plan.expose == "transport-lb":
        _create(remote, "services", REMOTE_NS, "remote-es-transport-lb", {"spec": {
            "type": "LoadBalancer", "selector": selector,
            "ports": [{"name": "transport", "port": 9300, "targetPort": 9300}]}})
    settle(remote)
    if plan.expose == "lb-no-class-provider":
        return f"{ALLOCATOR.next_host()}:9443"  # the address the user expected the LB to get
    if plan.expose == "transport-lb":
        return f"{remote.network.lb_host(REMOTE_NS, 'remote-es-transport-lb')}:9300"
    if plan.expose == "lb-hostname":
        return f"{LB_HOSTNAME}:{port['port']}"
    if plan.expose == "nodeport":  # a node's address and the allocated nodePort
        node_port = remote.store.get("services", REMOTE_NS, RCS_SERVICE)["spec"]["ports"][0]["nodePort"]
        return f"{remote.node_address}:{node_port}"
    return f"{remote.network.lb_host(REMOTE_NS, RCS_SERVICE)}:{port['port']}"


def _free_port(host: str) -> int:
    """A port nothing listens on now (the hostname LB shares 127.0.0.1 with other tests)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _add_lb_ip_to_sans(build: Build, address: str) -> None:
    """The other fix for hostname verification (domain.md §3): the LB IP as a transport SAN."""
    es = build.remote.store.get("elasticsearches", REMOTE_NS, REMOTE_ES)
    tls = es["spec"].setdefault("transport", {}).setdefault("tls", {})
    tls["subjectAltNames"] = [{"ip": address.rsplit(":", 1)[0]}]
    build.remote.store.update("elasticsearches", es)
    settle(build.remote)


def _network_path(build: Build, lb_address: str) -> str:
    """What stands between the local cluster and the LB: nothing, a firewall or a proxy."""
    plan = build.plan
    if plan.path in ("drop", "drop-syn", "reject"):
        build.remote.network.firewall(REMOTE_NS, RCS_SERVICE, plan.path)
        return lb_address
    if plan.path == "pods-only":
        # the networks are peered: the local pods reach the remote's private addresses
        build.local.pod_network.peer(build.remote.network.vpc_route)
        return lb_address
    if plan.path == "egress-blocked":
        # an egress NetworkPolicy of the local namespace drops the pods' traffic to the LB
        host, port = lb_address.rsplit(":", 1)
        build.local.pod_network.deny((host, int(port)), "drop")
        return lb_address
    if plan.path not in ("tls-proxy", "plaintext-proxy"):
        return lb_address
    host, port = lb_address.rsplit(":", 1)
    target = (host, int(port))
    if plan.path == "tls-proxy":
        cert = pki.ingress_fake_cert()
    else:
        corp_ca = build.notes["proxy_ca"] = pki.make_ca("Example Corp Ingress CA", key=_distinct_key())
        cert = pki.make_leaf(corp_ca.cert, corp_ca.key, PROXY_DNS, dns=[PROXY_DNS])
    proxy = ALLOCATOR.start(lambda h: TlsTerminatingProxy(h, 9443, cert.chain_pem, cert.key_pem,
                                                          lambda: [target], plan.path == "plaintext-proxy"))
    build.extras.append(proxy)
    return f"{proxy.host}:{proxy.port}"


def _ca_to_trust(build: Build) -> str:
    plan = build.plan
    current = remote_ca_pem(build)
    if plan.ca in ("stale", "same-name"):
        # same subject as the remote's CA, another key: an expired previous CA, or another cluster's
        window = _window(expired=plan.ca == "stale")
        other = pki.transport_ca(REMOTE_ES, key=_distinct_key(), **window)
        return pki.cert_pem(other.cert).decode()
    if plan.ca == "proxy" or plan.path == "plaintext-proxy":
        return pki.cert_pem(build.notes["proxy_ca"].cert).decode()
    return current


def _credential(build: Build) -> str:
    """Create the key on the remote through its REST API; returns what the user stores."""
    plan = build.plan
    access = {"search": [{"names": ["logs-*"]}], "replication": [{"names": ["leader-*"]}]}
    body: dict[str, Any] = {"name": KEY_NAME, "expiration": "90d", "access": access,
                            "metadata": {"purpose": "ccs from logging/local-es"}}
    if plan.credential == "expired":
        body["expiration"] = "1ms"
    if plan.strong_identity:
        body["certificate_identity"] = scenario_signing.key_identity(plan.strong_identity)
    if plan.credential == "rest":
        _, key = es_call(build.remote, REMOTE_NS, REMOTE_ES, "POST", "/_security/api_key",
                         {"name": KEY_NAME, "expiration": "90d"})
    else:
        _, key = es_call(build.remote, REMOTE_NS, REMOTE_ES, "POST", "/_security/cross_cluster/api_key", body)
    build.planted += [key["api_key"], key["encoded"]]
    build.notes["key_id"] = key["id"]
    if plan.credential == "invalidated":
        es_call(build.remote, REMOTE_NS, REMOTE_ES, "DELETE", "/_security/api_key", {"ids": [key["id"]]})
    if plan.credential == "expired":
        # expired by more than a second, so no reader comparing at second precision sees it valid
        time.sleep(EXPIRED_KEY_AGE)
    if plan.credential == "unknown":
        # Well-formed and encoded like a real key, but its id is not one the remote knows (a key
        # created on another cluster, or deleted since).
        unknown = encode_credential("unknownKeyId00000000", key["api_key"])
        build.planted.append(unknown)
        return unknown
    return str(key["api_key"] if plan.credential == "raw" else key["encoded"])


def local_spec(build: Build, node_sets: list[dict[str, Any]]) -> dict[str, Any]:
    plan = build.plan
    secure: list[dict[str, Any]] = _rich_extras(build, node_sets) if plan.rich_local else []
    spec: dict[str, Any] = {}
    if plan.link and not plan.cert_model:
        secure.append(_keys_entry(plan))
        _mount_ca(plan, node_sets)
    if plan.server_name == "ip-in-config":
        host = build.proxy_address.rsplit(":", 1)[0]
        for ns in node_sets:
            ns["config"][f"cluster.remote.{ALIAS}.server_name"] = host
    if plan.rollout_pending:
        spec["updateStrategy"] = {"changeBudget": {"maxUnavailable": 0}}
    if plan.same_env:
        spec["remoteClusters"] = [same_env_entry(plan)]
    if secure:
        spec["secureSettings"] = secure
    return spec


PEER_NS, PEER_ES = "peers", "peer-es"  # same-environment peer of local-es (spec.remoteClusters)
PEER_ACCESS = {"search": [{"names": ["logs-*"]}]}


def same_env_entry(plan: Plan) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": PEER_ES, "elasticsearchRef": {"name": PEER_ES, "namespace": PEER_NS}}
    if plan.same_env != "cert":
        entry["apiKey"] = {"access": PEER_ACCESS}
    return entry


def create_same_env_peer(build: Build) -> None:
    """peers/peer-es in the local environment, with RCS on (the API-key model needs it)."""
    spec = {"remoteClusterServer": {"enabled": True}} if build.plan.same_env != "cert" else {}
    build.local.ensure_namespace(PEER_NS)
    build.local.store.create("elasticsearches", es_resource(PEER_NS, PEER_ES, build.plan.local_version,
                                                            [node_set("default")], **spec))
    settle(build.local)


def first_cross_cluster_request(build: Build, tries: int = 10) -> None:
    """The user's first requests through the peer link: a sniff link whose first attempt raced
    ECK's set-up (the peer's pods reloading the copied CA) connects on demand, as in
    Elasticsearch (`_resolve/cluster` answers at once and starts an attempt)."""
    for _ in range(tries):
        answer = es_call(build.local, LOCAL_NS, LOCAL_ES, "GET", f"/_resolve/cluster/{PEER_ES}:*")[1]
        if (answer.get(PEER_ES) or {}).get("connected"):
            return
        time.sleep(0.2)


ENTRY_KEY = "remote-es-api-key"  # key-entries: the secret's own key name for the credential


def _keys_entry(plan: Plan) -> dict[str, Any]:
    """The secureSettings entry of the key secret; with key-entries, `entries` maps the
    secret's key to the keystore setting name (ECK's SecretSource.entries)."""
    if not plan.key_entries:
        return {"secretName": KEYS_SECRET}
    setting = f"cluster.remote.{plan.key_alias}.credentials"
    return {"secretName": KEYS_SECRET, "entries": [{"key": ENTRY_KEY, "path": setting}]}


def _key_name(plan: Plan) -> str:
    return ENTRY_KEY if plan.key_entries else f"cluster.remote.{plan.key_alias}.credentials"


def _register(build: Build) -> None:
    plan = build.plan
    prefix = f"cluster.remote.{ALIAS}"
    settings: dict[str, Any] = {f"{prefix}.mode": plan.mode}
    if plan.mode == "sniff":
        settings[f"{prefix}.seeds"] = [build.proxy_address]
    else:
        settings[f"{prefix}.proxy_address"] = build.proxy_address
        if plan.server_name == "dns" and not plan.cert_model:
            settings[f"{prefix}.server_name"] = PROXY_DNS if plan.path == "plaintext-proxy" else RCS_DNS
        if plan.server_name == "wrong-with-lb-ip-san":
            settings[f"{prefix}.server_name"] = WRONG_DNS
        if plan.server_name == "lb-ip":
            settings[f"{prefix}.server_name"] = build.proxy_address.rsplit(":", 1)[0]
    if plan.skip_unavailable is not None:
        settings[f"{prefix}.skip_unavailable"] = plan.skip_unavailable
    es_call(build.local, LOCAL_NS, LOCAL_ES, "PUT", "/_cluster/settings", {"persistent": settings})


# What the remote holds: two days of logs (the key's search access) and one of metrics (not in it).
REMOTE_DOCUMENTS = {
    "logs-2026.12.01": [{"@timestamp": "2026-12-01T10:00:00Z", "message": "started", "service": "api"}],
    "logs-2026.12.02": [{"@timestamp": "2026-12-02T10:00:00Z", "message": "stopped", "service": "api"}],
    "metrics-2026.12.01": [{"@timestamp": "2026-12-01T10:00:00Z", "cpu": 0.4, "service": "api"}],
}
APP_USER, APP_ROLE = "app-user", "app-role"


def _remote_data(build: Build) -> None:
    for index, documents in REMOTE_DOCUMENTS.items():
        for document in documents:
            es_call(build.remote, REMOTE_NS, REMOTE_ES, "POST", f"/{index}/_doc", document)


def _local_user(build: Build) -> None:
    """A local user whose role reads local app-* indices only: no remote_indices for the alias."""
    es_call(build.local, LOCAL_NS, LOCAL_ES, "PUT", f"/_security/role/{APP_ROLE}",
            {"indices": [{"names": ["app-*"], "privileges": ["read", "view_index_metadata"]}]})
    password = secrets.token_urlsafe(12)
    build.planted.append(password)
    es_call(build.local, LOCAL_NS, LOCAL_ES, "PUT", f"/_security/user/{APP_USER}",
            {"password": password, "roles": [APP_ROLE]})


def _rotate_key_without_rollout(build: Build) -> None:
    """rollout-pending: a new key goes into the secret, the old one is invalidated, and the
    pods cannot restart (changeBudget.maxUnavailable: 0), so the keystore keeps the old key.
    The link made with the old key is up first: that open link stays up (only new handshakes
    fail), which an invalidation racing the first handshake would not show."""
    for es in list(build.local.clusters.values()):
        if not es.wait_for_links(10.0):
            raise RuntimeError("the local links did not make their first attempt")
    old_id = build.notes["key_id"]
    _, key = es_call(build.remote, REMOTE_NS, REMOTE_ES, "POST", "/_security/cross_cluster/api_key",
                     {"name": f"{KEY_NAME}-2", "access": {"search": [{"names": ["logs-*"]}]}})
    build.planted += [key["api_key"], key["encoded"]]
    secret = build.local.store.get("secrets", LOCAL_NS, KEYS_SECRET)
    secret["stringData"] = {_key_name(build.plan): key["encoded"]}
    secret.pop("data", None)
    build.local.store.update("secrets", secret)
    es_call(build.remote, REMOTE_NS, REMOTE_ES, "DELETE", "/_security/api_key", {"ids": [old_id]})
    settle(build.local)


# remote-ca-renewed: the CA is issued this long before the scenario, 12 h short of ECK's 1 year
CA_AGE = eck_ca.DEFAULT_VALIDITY - dt.timedelta(hours=12)


def age_remote_ca(remote: Environment) -> None:
    """The remote's ECK issues its transport CA as if a year ago (its clock for CAs runs behind)."""
    remote.operator.resources.ca_clock = lambda: eck_ca.utc_now() - CA_AGE


def renew_remote_ca(build: Build) -> None:
    """A year later: the CA is within --ca-cert-rotate-before of its end, and ECK's next reconcile
    renews it with the same key and SKI while the link is up. The nodes reload the new leaves
    (open connections stay up); a new connection meets the renewed chain."""
    build.local.es(LOCAL_NS, LOCAL_ES).wait_for_links(LINK_FAILURE_WAIT)
    build.remote.operator.resources.ca_clock = eck_ca.utc_now
    build.remote.operator.requeue()
    settle(build.remote)


def _enable_rcs_after_the_links_failed(build: Build) -> None:
    """remote-fixed-later: the link failed on RCS being off; then the remote enables it. Nothing
    makes the local nodes try again (Elasticsearch has no periodic retry)."""
    build.local.es(LOCAL_NS, LOCAL_ES).wait_for_links(LINK_FAILURE_WAIT)
    es = build.remote.store.get("elasticsearches", REMOTE_NS, REMOTE_ES)
    es["spec"]["remoteClusterServer"] = {"enabled": True}
    build.remote.store.update("elasticsearches", es)
    settle(build.remote)


def _mount_missing_configmap(build: Build) -> None:
    """remote-pods-not-ready: the remote's nodeSet mounts a ConfigMap nobody created; ECK rolls
    the pod, which then stays in ContainerCreating (FailedMount), so no endpoint is ready."""
    es = build.remote.store.get("elasticsearches", REMOTE_NS, REMOTE_ES)
    es["spec"]["nodeSets"][0]["podTemplate"] = {"spec": {
        "volumes": [{"name": "synonyms", "configMap": {"name": "remote-es-synonyms"}}],
        "containers": [{"name": "elasticsearch", "volumeMounts": [
            {"name": "synonyms", "mountPath": "/usr/share/elasticsearch/config/analysis"}]}]}}
    build.remote.store.update("elasticsearches", es)
    settle(build.remote)


def build_api_key_link(build: Build, local_sets: list[dict[str, Any]]) -> None:
    plan = build.plan
    build.proxy_address = _network_path(build, _expose(build))
    if plan.server_name in ("lb-ip-san", "wrong-with-lb-ip-san"):
        _add_lb_ip_to_sans(build, build.proxy_address)
    _create(build.local, "configmaps", LOCAL_NS, CA_CONFIGMAP, {"data": {CA_KEY: _ca_to_trust(build)}})
    if plan.strong_identity:
        _strong_identity(build, local_sets)
    credential = _credential(build)
    _remote_data(build)
    if plan.same_env:
        create_same_env_peer(build)
    if plan.secret_created:
        _create(build.local, "secrets", LOCAL_NS, KEYS_SECRET, {
            "stringData": {_key_name(plan): credential}})
    spec = local_spec(build, local_sets)
    build.local.store.create("elasticsearches", es_resource(LOCAL_NS, LOCAL_ES, plan.local_version,
                                                            local_sets, **spec))
    settle(build.local)
    _register(build)
    if plan.same_env:
        first_cross_cluster_request(build)
    if plan.local_user:
        _local_user(build)
    if plan.rollout_pending:
        _rotate_key_without_rollout(build)
    if plan.remote_missing_mount:
        _mount_missing_configmap(build)
    if plan.remote_fixed_later:
        _enable_rcs_after_the_links_failed(build)
    if plan.remote_ca_renewed:
        renew_remote_ca(build)


def _strong_identity(build: Build, local_sets: list[dict[str, Any]]) -> None:
    """The signing Secret and its mounts on the local side, the signer's CA on the remote."""
    variant = build.plan.strong_identity
    material = scenario_signing.signing_material()
    _create(build.local, "secrets", LOCAL_NS, scenario_signing.SIGNING_SECRET,
            {"type": "kubernetes.io/tls", "stringData": material})
    build.planted.append(material["tls.key"])
    scenario_signing.sign_on_local(variant, local_sets)
    es = build.remote.store.get("elasticsearches", REMOTE_NS, REMOTE_ES)
    if scenario_signing.trust_on_remote(variant, es):
        _create(build.remote, "configmaps", REMOTE_NS, scenario_signing.TRUST_CONFIGMAP,
                {"data": {"ca.crt": material["ca.crt"]}})
        build.remote.store.update("elasticsearches", es)
        settle(build.remote)


def build_cert_model(build: Build, local_sets: list[dict[str, Any]]) -> None:
    """Deprecated model: each side trusts the other's transport CA; proxy to the remote's 9300."""
    plan = build.plan
    local_es = es_resource(LOCAL_NS, LOCAL_ES, plan.local_version, local_sets)
    build.local.store.create("elasticsearches", local_es)
    build.proxy_address = _expose(build)
    settle(build.local)
    local_ca = decode_secret_data(build.local.store.get(
        "secrets", LOCAL_NS, f"{LOCAL_ES}-es-transport-certs-public"))["ca.crt"]
    key = "remote-ca.crt" if plan.cert_model == "wrong-key" else "ca.crt"
    _create(build.local, "configmaps", LOCAL_NS, "remote-es-ca", {"data": {key: remote_ca_pem(build)}})
    _trust(build.local, LOCAL_NS, LOCAL_ES, "remote-es-ca")
    if plan.cert_model in ("mutual", "wrong-key"):
        _create(build.remote, "configmaps", REMOTE_NS, "local-es-ca", {"data": {"ca.crt": local_ca}})
        _trust(build.remote, REMOTE_NS, REMOTE_ES, "local-es-ca")
    settle(build.local, build.remote)
    _register(build)


def _trust(env: Environment, namespace: str, name: str, configmap: str) -> None:
    es = env.store.get("elasticsearches", namespace, name)
    es["spec"].setdefault("transport", {}).setdefault("tls", {})["certificateAuthorities"] = {
        "configMapName": configmap}
    env.store.update("elasticsearches", es)


