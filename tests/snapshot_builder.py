"""Realistic Snapshot objects for unit tests: a healthy pair, then one mutation per failure.

`healthy_pair()` returns a `PairBuilder` whose attributes are the plain dicts a collector would
have read (an API-key link `remote-es` from logging/local-es in context prod-a to
search/remote-es in context prod-b, through a LoadBalancer at 127.0.0.10:9443). Tests change
what their scenario needs, then call `build()`.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubectl_eckrc import pki
from kubectl_eckrc.snapshot import (
    AccessReview,
    CertInfo,
    CredentialInfo,
    EsState,
    KubeState,
    SecretKey,
    SecretSummary,
    Side,
    Snapshot,
    TlsProbe,
    Unavailable,
    UseProbe,
)

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
TAKEN_AT = "2026-06-01T00:00:00Z"
LOCAL_NS, LOCAL_ES, REMOTE_NS, REMOTE_ES = "logging", "local-es", "search", "remote-es"
ALIAS = "remote-es"
LB_IP = "127.0.0.10"
PROXY = f"{LB_IP}:9443"
SERVER_NAME = f"{REMOTE_ES}-es-remote-cluster.{REMOTE_NS}.svc"
KEY_ID = "VuaCfGcBCdbkQm-e5aOx"
CA_PATH = "remote-certs/remote-cluster-ca.crt"
CONFIG_HASH = "1234567890"
REDACTED = "::es_redacted::"

# --- certificates (EC keys: fast, and every chain check is key-type agnostic) ---------------------

_KEYS: dict[str, ec.EllipticCurvePrivateKey] = {}


def key(name: str) -> ec.EllipticCurvePrivateKey:
    if name not in _KEYS:
        _KEYS[name] = ec.generate_private_key(ec.SECP256R1())
    return _KEYS[name]


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def info(self) -> CertInfo:
        return pki.cert_info(self.cert)

    @property
    def pem(self) -> str:
        return self.info.pem


def _name(cn: str, ou: str) -> x509.Name:
    # ECK (Go's pkix.Name) encodes OU before CN, so RFC 4514 reads "CN=...,OU=..."
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(es: str, key_name: str, start: dt.datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            days: int = 365, subject_cn: str | None = None, ski: bytes | None = None) -> Issued:
    """A transport CA shaped like ECK's: CN=<es>-transport,OU=<es>, one year (or another CN);
    `ski`: another Subject Key Identifier than the one derived from the key."""
    private = key(key_name)
    subject = _name(subject_cn or f"{es}-transport", es)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier(ski) if ski else
                       x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False)
        .sign(private, hashes.SHA256())
    )
    return Issued(cert, private)


def make_leaf(ca: Issued, cn: str, ou: str, dns: list[str], ips: list[str] = (),  # type: ignore[assignment]
              start: dt.datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), days: int = 365,
              key_name: str = "leaf") -> Issued:
    private = key(key_name)
    sans: list[x509.GeneralName] = [x509.OtherName(x509.ObjectIdentifier("2.5.4.3"),
                                                   b"\x0c" + bytes([len(cn)]) + cn.encode())]
    sans += [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder().subject_name(_name(cn, ou)).issuer_name(ca.cert.subject)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert, private)


def _usage(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=not ca,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def eck_leaf(ca: Issued, es: str = REMOTE_ES, ns: str = REMOTE_NS, **kw: Any) -> Issued:
    """The transport certificate of pod <es>-es-default-0, with the SANs ECK gives it."""
    pod = f"{es}-es-default-0"
    dns = [f"{pod}.node.{es}.{ns}.es.local", f"{es}-es-transport.{ns}.svc",
           f"{es}-es-remote-cluster.{ns}.svc", f"{pod}.{es}-es-default.{ns}.svc"]
    return make_leaf(ca, f"{pod}.node.{es}.{ns}.es.local", es, dns, ["127.0.1.1"], **kw)


# --- secrets as redact.py summarises them ---------------------------------------------------------


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cert_key(certs: list[Issued]) -> SecretKey:
    pem = "".join(c.pem for c in certs)
    return SecretKey(size=len(pem), sha256=_sha(pem), certificates=[c.info for c in certs])


def credential_key(key_id: str = KEY_ID, well_formed: bool = True, problem: str = "") -> SecretKey:
    return SecretKey(size=60, sha256=_sha(key_id),
                     credential=CredentialInfo(well_formed, problem, key_id if well_formed else "",
                                               _sha(key_id)))


def secret(name: str, keys: dict[str, SecretKey], labels: dict[str, str] | None = None) -> SecretSummary:
    return SecretSummary(name=name, type="Opaque", keys=keys, labels=labels or {})


# --- Kubernetes objects --------------------------------------------------------------------------


def meta(name: str, ns: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": ns, **extra}


def nodeset(name: str, ca_path: str | None = CA_PATH, configmap: str = "remote-ca") -> dict[str, Any]:
    config: dict[str, Any] = {"node.roles": ["master", "data", "remote_cluster_client"]}
    if ca_path is not None:
        config["xpack.security.remote_cluster_client.ssl.enabled"] = True
        config["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = [ca_path]
    return {
        "name": name,
        "count": 1,
        "config": config,
        "podTemplate": {"spec": {
            "volumes": [{"name": "remote-ca", "configMap": {"name": configmap}}],
            "containers": [{"name": "elasticsearch", "volumeMounts": [
                {"name": "remote-ca", "mountPath": "/usr/share/elasticsearch/config/remote-certs",
                 "readOnly": True}]}],
        }},
    }


def es_resource(name: str, ns: str, version: str, nodesets: list[dict[str, Any]],
                **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "elasticsearch.k8s.elastic.co/v1",
        "kind": "Elasticsearch",
        "metadata": meta(name, ns, annotations={"common.k8s.elastic.co/controller-version": "3.2.0"}),
        "spec": {"version": version, "nodeSets": nodesets, **spec},
        "status": {"phase": "Ready", "health": "green", "availableNodes": len(nodesets),
                   "version": version},
    }


def service(name: str, ns: str, es: str, port: int, port_name: str, svc_type: str = "ClusterIP",
            target: Any = None, node_port: int | None = None, lb_ip: str | None = None) -> dict[str, Any]:
    port_spec: dict[str, Any] = {"name": port_name, "port": port, "protocol": "TCP",
                                 "targetPort": target if target is not None else port}
    if node_port:
        port_spec["nodePort"] = node_port
    svc: dict[str, Any] = {
        "metadata": meta(name, ns),
        "spec": {"type": svc_type, "ports": [port_spec],
                 "selector": {"elasticsearch.k8s.elastic.co/cluster-name": es,
                              "common.k8s.elastic.co/type": "elasticsearch"}},
        "status": {},
    }
    if svc_type == "ClusterIP" and name.endswith(("-remote-cluster", "-transport")):
        svc["spec"]["clusterIP"] = "None"
    if lb_ip:
        svc["status"] = {"loadBalancer": {"ingress": [{"ip": lb_ip}]}}
    return svc


def endpoints(name: str, ns: str, port: int, port_name: str, ready: int,
              not_ready: int = 0) -> dict[str, Any]:
    subset: dict[str, Any] = {
        "addresses": [{"ip": f"127.0.1.{i + 1}"} for i in range(ready)],
        "ports": [{"name": port_name, "port": port, "protocol": "TCP"}],
    }
    if not_ready:
        subset["notReadyAddresses"] = [{"ip": f"127.0.2.{i + 1}"} for i in range(not_ready)]
    return {"metadata": meta(name, ns), "subsets": [subset]}


def pod_and_sts(es: str, ns: str, nodeset_name: str,
                config_hash: str = CONFIG_HASH) -> tuple[dict[str, Any], dict[str, Any]]:
    sts_name = f"{es}-es-{nodeset_name}"
    annotations = {"elasticsearch.k8s.elastic.co/config-hash": config_hash}
    labels = {"elasticsearch.k8s.elastic.co/cluster-name": es,
              "elasticsearch.k8s.elastic.co/statefulset-name": sts_name}
    pod = {"metadata": meta(f"{sts_name}-0", ns, labels=labels, annotations=dict(annotations)),
           "status": {"phase": "Running", "startTime": "2026-05-01T00:00:00Z",
                      "conditions": [{"type": "Ready", "status": "True"}]}}
    sts = {"metadata": meta(sts_name, ns, labels=labels),
           "spec": {"replicas": 1, "template": {"metadata": {"labels": labels,
                                                             "annotations": dict(annotations)}}},
           "status": {"replicas": 1, "readyReplicas": 1, "updatedReplicas": 1}}
    return pod, sts


def reviews(side: str, ns: str) -> list[AccessReview]:
    resources = ["elasticsearches.elasticsearch.k8s.elastic.co", "services", "endpoints", "pods",
                 "statefulsets.apps", "configmaps", "secrets", "events"]
    verbs = {"elasticsearches.elasticsearch.k8s.elastic.co": "get", "configmaps": "get", "secrets": "get"}
    return [AccessReview(verbs.get(r, "list"), r, ns, True, side) for r in resources]


# --- the builder ---------------------------------------------------------------------------------


@dataclass
class SideParts:
    role: str
    context: str
    namespace: str
    es_name: str
    es: dict[str, Any]
    services: list[dict[str, Any]]
    endpoints: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    statefulsets: list[dict[str, Any]]
    configmaps: dict[str, dict[str, Any]]
    secrets: dict[str, SecretSummary | Unavailable]
    access: list[AccessReview]
    info: dict[str, Any]
    health: dict[str, Any]
    license: dict[str, Any]
    settings: dict[str, Any]
    node_settings: dict[str, Any]
    remote_info: Any = field(default_factory=dict)
    resolve_cluster: dict[str, Any] = field(default_factory=dict)
    api_keys: dict[str, Any] = field(default_factory=dict)
    roles: Any = None
    events: list[dict[str, Any]] = field(default_factory=list)
    crd: Any = field(default_factory=lambda: {"served_versions": ["v1"], "has_rcs_service": False})
    nodes: Any = None  # KubeState.nodes: None = not read
    kube_unavailable: Unavailable | None = None
    es_unavailable: Unavailable | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # KubeState/EsState field -> Unavailable

    def build(self) -> Side:
        return Side(self.role, self.context, self.namespace, self.es_name, self._kube(), self._es())

    def _kube(self) -> KubeState | Unavailable:
        if self.kube_unavailable:
            return self.kube_unavailable
        values: dict[str, Any] = {
            "server_version": {"gitVersion": "v1.31.0"}, "crd": self.crd, "elasticsearch": self.es,
            "elasticsearch_names": [self.es_name], "services": self.services, "endpoints": self.endpoints,
            "pods": self.pods, "statefulsets": self.statefulsets, "configmaps": self.configmaps,
            "secrets": self.secrets, "events": self.events, "nodes": self.nodes,
        }
        values.update({k: v for k, v in self.overrides.items() if k in values})
        return KubeState(**copy.deepcopy(values), access=list(self.access))

    def _es(self) -> EsState | Unavailable:
        if self.es_unavailable:
            return self.es_unavailable
        values: dict[str, Any] = {
            "info": self.info, "health": self.health, "license": self.license, "settings": self.settings,
            "node_settings": self.node_settings, "remote_info": self.remote_info,
            "resolve_cluster": self.resolve_cluster, "api_keys": self.api_keys, "roles": self.roles,
        }
        values.update({k: v for k, v in self.overrides.items() if k in values})
        return EsState(endpoint=f"port-forward pod {self.namespace}/{self.es_name}-es-default-0",
                       **copy.deepcopy(values))


@dataclass
class PairBuilder:
    local: SideParts
    remote: SideParts
    remote_ca: Issued
    local_ca: Issued
    leaf: Issued
    probe: TlsProbe | Unavailable
    aliases: list[str] = field(default_factory=lambda: [ALIAS])
    remote_unavailable: Unavailable | None = None
    uses: list[UseProbe] = field(default_factory=list)  # doctor --index reads

    def build(self) -> Snapshot:
        remote: Side | Unavailable = self.remote_unavailable or self.remote.build()
        probes = {ALIAS: self.probe} if ALIAS in self.aliases else {}
        return Snapshot(schema_version=1, taken_at=TAKEN_AT, tool_version="0.1.0", source="live",
                        local=self.local.build(), remote=remote, aliases=list(self.aliases), probes=probes,
                        uses=list(self.uses))

    # --- common mutations --------------------------------------------------------------------

    def local_cluster_setting(self, name: str, value: Any) -> None:
        """A persistent cluster.remote.<alias>.<name> (None deletes it)."""
        key = f"cluster.remote.{ALIAS}.{name}"
        persistent = self.local.settings["persistent"]
        if value is None:
            persistent.pop(key, None)
        else:
            persistent[key] = value

    def remote_info(self, **fields: Any) -> None:
        entry = self.local.remote_info[ALIAS]
        for name, value in fields.items():
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value

    def set_configured_ca(self, certs: list[Issued]) -> None:
        pem = "".join(c.pem for c in certs)
        self.local.configmaps["remote-ca"]["data"]["remote-cluster-ca.crt"] = pem

    def present(self, chain: list[Issued], **fields: Any) -> None:
        """What the TLS probe saw at proxy_address."""
        assert isinstance(self.probe, TlsProbe)
        values = {**self.probe.__dict__, "chain": [c.info for c in chain], **fields}
        self.probe = TlsProbe(**values)

    def no_remote_access(self) -> None:
        self.remote_unavailable = Unavailable("no access to the remote environment", "no-access")


def healthy_pair() -> PairBuilder:
    remote_ca = make_ca(REMOTE_ES, "remote-ca")
    local_ca = make_ca(LOCAL_ES, "local-ca")
    leaf = eck_leaf(remote_ca)
    return PairBuilder(local=_local_side(remote_ca, local_ca), remote=_remote_side(remote_ca),
                       remote_ca=remote_ca, local_ca=local_ca, leaf=leaf, probe=_probe(leaf))


REMOTE_LOGS = ["logs-2026.12.01", "logs-2026.12.02"]


def logs_search() -> UseProbe:
    """doctor --index logs-* on the healthy link: the search reaches both logs indices (add it
    to `PairBuilder.uses`; without it ECKRC508 is not applicable, as without --index)."""
    found = {"indices": [{"name": n, "attributes": ["open"]} for n in REMOTE_LOGS], "aliases": [],
             "data_streams": []}
    linked = {**found, "indices": [{**i, "name": f"{ALIAS}:{i['name']}"} for i in found["indices"]]}
    caps = {"indices": [f"{ALIAS}:{n}" for n in REMOTE_LOGS],
            "fields": {"@timestamp": {"date": {"type": "date"}}}}
    return UseProbe(ALIAS, "logs-*", "", caps, linked, found)


def _local_side(remote_ca: Issued, local_ca: Issued) -> SideParts:
    nodesets = [nodeset("hot"), nodeset("warm")]
    es = es_resource(LOCAL_ES, LOCAL_NS, "8.17.1", nodesets,
                     secureSettings=[{"secretName": "remote-api-keys"}])
    pods, stss = zip(*(pod_and_sts(LOCAL_ES, LOCAL_NS, ns["name"]) for ns in nodesets), strict=True)
    prefix = f"cluster.remote.{ALIAS}"
    return SideParts(
        role="local", context="prod-a", namespace=LOCAL_NS, es_name=LOCAL_ES, es=es,
        services=[service(f"{LOCAL_ES}-es-http", LOCAL_NS, LOCAL_ES, 9200, "https"),
                  service(f"{LOCAL_ES}-es-transport", LOCAL_NS, LOCAL_ES, 9300, "tls-transport")],
        endpoints=[], pods=list(pods), statefulsets=list(stss),
        configmaps={"remote-ca": {"metadata": meta("remote-ca", LOCAL_NS),
                                  "data": {"remote-cluster-ca.crt": remote_ca.pem}}},
        secrets={"remote-api-keys": secret("remote-api-keys", {f"{prefix}.credentials": credential_key()}),
                 f"{LOCAL_ES}-es-transport-certs-public": secret(
                     f"{LOCAL_ES}-es-transport-certs-public", {"ca.crt": cert_key([local_ca])})},
        access=reviews("local", LOCAL_NS),
        info={"name": f"{LOCAL_ES}-es-hot-0", "cluster_name": LOCAL_ES, "version": {"number": "8.17.1"}},
        health={"cluster_name": LOCAL_ES, "status": "green", "number_of_nodes": 2},
        license={"license": {"type": "enterprise", "status": "active"}},
        settings={"persistent": {f"{prefix}.mode": "proxy", f"{prefix}.proxy_address": PROXY,
                                 f"{prefix}.server_name": SERVER_NAME}, "transient": {}},
        node_settings={"nodes": {"n1": {"name": f"{LOCAL_ES}-es-hot-0", "settings": {}}}},
        remote_info={ALIAS: {"connected": True, "mode": "proxy", "proxy_address": PROXY,
                             "server_name": SERVER_NAME, "num_proxy_sockets_connected": 18,
                             "max_proxy_socket_connections": 18, "initial_connect_timeout": "30s",
                             "skip_unavailable": False, "cluster_credentials": REDACTED}},
        resolve_cluster={ALIAS: {ALIAS: {"connected": True, "skip_unavailable": False,
                                         "matching_indices": True, "version": {"number": "8.17.1"}}}},
        roles={"remote-reader": {"cluster": [], "indices": [], "remote_indices": [
            {"clusters": [ALIAS], "names": ["logs-*"],
             "privileges": ["read", "read_cross_cluster", "view_index_metadata"]}]}},
    )


def _remote_side(remote_ca: Issued) -> SideParts:
    nodesets = [{"name": "default", "count": 3, "config": {}}]
    es = es_resource(REMOTE_ES, REMOTE_NS, "8.17.1", nodesets, remoteClusterServer={"enabled": True})
    es["status"]["availableNodes"] = 3
    pod, sts = pod_and_sts(REMOTE_ES, REMOTE_NS, "default")
    rcs = f"{REMOTE_ES}-es-remote-cluster"
    return SideParts(
        role="remote", context="prod-b", namespace=REMOTE_NS, es_name=REMOTE_ES, es=es,
        services=[service(f"{REMOTE_ES}-es-http", REMOTE_NS, REMOTE_ES, 9200, "https"),
                  service(f"{REMOTE_ES}-es-transport", REMOTE_NS, REMOTE_ES, 9300, "tls-transport"),
                  service(rcs, REMOTE_NS, REMOTE_ES, 9443, "rcs"),
                  service(f"{REMOTE_ES}-rcs", REMOTE_NS, REMOTE_ES, 9443, "rcs", "LoadBalancer",
                          target=9443, node_port=31443, lb_ip=LB_IP)],
        endpoints=[endpoints(rcs, REMOTE_NS, 9443, "rcs", 3),
                   endpoints(f"{REMOTE_ES}-rcs", REMOTE_NS, 9443, "rcs", 3)],
        pods=[pod], statefulsets=[sts], configmaps={},
        secrets={f"{REMOTE_ES}-es-transport-certs-public": secret(
            f"{REMOTE_ES}-es-transport-certs-public", {"ca.crt": cert_key([remote_ca])})},
        access=reviews("remote", REMOTE_NS),
        info={"name": f"{REMOTE_ES}-es-default-0", "cluster_name": REMOTE_ES,
              "version": {"number": "8.17.1"}},
        health={"cluster_name": REMOTE_ES, "status": "green", "number_of_nodes": 3},
        license={"license": {"type": "enterprise", "status": "active"}},
        settings={"persistent": {}, "transient": {}},
        node_settings={"nodes": {f"n{i}": {"name": f"{REMOTE_ES}-es-default-{i}",
                                           "settings": {"remote_cluster_server.enabled": "true"}}
                                 for i in range(3)}},
        remote_info={},
        api_keys={KEY_ID: {"api_keys": [{
            "id": KEY_ID, "name": "local-es-logs", "type": "cross_cluster", "creation": 1767225600000,
            "invalidated": False, "username": "elastic", "realm": "reserved",
            "access": {"search": [{"names": ["logs-*"]}]}, "metadata": {}}]}},
    )


def _probe(leaf: Issued) -> TlsProbe:
    return TlsProbe(alias=ALIAS, address=PROXY, server_name=SERVER_NAME, tcp="ok", tcp_error="",
                    tls="ok", tls_error="", chain=[leaf.info], protocol="TLSv1.3", elapsed_ms=12)



def certificate_model_pair() -> PairBuilder:
    """The deprecated certificate model: mutual transport trust, proxy to the remote's 9300."""
    pair = healthy_pair()
    transport_lb = "127.0.0.11:9300"
    for nodeset_spec in pair.local.es["spec"]["nodeSets"]:
        nodeset_spec["config"] = {"node.roles": ["master", "data", "remote_cluster_client"]}
        nodeset_spec.pop("podTemplate")
    pair.local.es["spec"].pop("secureSettings")
    trust_remote = {"certificateAuthorities": {"configMapName": "remote-transport-ca"}}
    pair.local.es["spec"]["transport"] = {"tls": trust_remote}
    pair.local.configmaps = {"remote-transport-ca": {"metadata": meta("remote-transport-ca", LOCAL_NS),
                                                     "data": {"ca.crt": pair.remote_ca.pem}}}
    pair.local.secrets.pop("remote-api-keys")
    pair.remote.es["spec"].pop("remoteClusterServer")
    trust_local = {"certificateAuthorities": {"configMapName": "local-transport-ca"}}
    pair.remote.es["spec"]["transport"] = {"tls": trust_local, "service": {"spec": {"type": "LoadBalancer"}}}
    pair.remote.configmaps = {"local-transport-ca": {"metadata": meta("local-transport-ca", REMOTE_NS),
                                                     "data": {"ca.crt": pair.local_ca.pem}}}
    pair.remote.services = [s for s in pair.remote.services if "remote-cluster" not in s["metadata"]["name"]
                            and s["metadata"]["name"] != f"{REMOTE_ES}-rcs"]
    pair.remote.services[1] = service(f"{REMOTE_ES}-es-transport", REMOTE_NS, REMOTE_ES, 9300,
                                      "tls-transport", "LoadBalancer", lb_ip="127.0.0.11")
    pair.remote.api_keys = {}
    pair.local_cluster_setting("proxy_address", transport_lb)
    pair.local_cluster_setting("server_name", None)
    pair.remote_info(proxy_address=transport_lb, server_name="", cluster_credentials=None)
    pair.local.roles = {}
    pair.present([eck_leaf(pair.remote_ca)], address=transport_lb, server_name="")
    return pair
