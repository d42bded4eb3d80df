"""The snapshot: everything doctor read, as plain serialisable data.

Collectors (live or from a bundle) produce one `Snapshot`; checks only read it. Kubernetes
objects and Elasticsearch answers stay plain dicts (JSON-shaped). A read that failed is stored
as `Unavailable` with the reason and what would let it succeed, never as an empty value, so
that a check can tell "absent" from "could not look".

Secrets never enter a snapshot: `redact.py` turns each Secret into `SecretSummary` (key names,
sizes, fingerprints; certificate PEMs kept because they are public; credentials reduced to
their API-key id and a well-formedness verdict).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, TypeAlias, TypeVar

SCHEMA_VERSION = 1

T = TypeVar("T")


@dataclass(frozen=True)
class Unavailable:
    """A read that did not produce data."""

    reason: str  # one line, e.g. "403 Forbidden: get secrets in namespace logging"
    kind: str = "error"  # forbidden | timeout | unreachable | not-found | no-access | offline | error
    permission: str = ""  # what would let it run: an RBAC rule, an ES privilege or a flag


# A read: the value, or why there is none. Every field of the snapshot that comes from a read
# says which value it holds (`Read[dict[str, Any]]`); checks reach it through checks/reads.py.
Read: TypeAlias = T | Unavailable  # noqa: UP040 - Python 3.11 has no `type` statement
Json: TypeAlias = dict[str, Any]


def value_of(read: T | Unavailable, default: T) -> T:
    return default if isinstance(read, Unavailable) else read


@dataclass(frozen=True)
class CertInfo:
    """One X.509 certificate, public data only."""

    pem: str
    subject: str  # RFC 4514, e.g. "CN=remote-es-transport,OU=remote-es"
    issuer: str
    sha256: str  # lowercase hex of the DER
    not_before: str  # ISO 8601 UTC
    not_after: str
    is_ca: bool
    dns_names: list[str] = field(default_factory=list)
    ip_addresses: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CredentialInfo:
    """What may be known about a `cluster.remote.<alias>.credentials` value without keeping it."""

    well_formed: bool
    problem: str  # "" when well formed, else e.g. "not base64", "decodes to no 'id:key' pair"
    key_id: str  # the API key id when the value decodes to id:key, else ""
    sha256: str  # fingerprint of the value (first 16 hex chars), to compare without revealing


@dataclass(frozen=True)
class PrivateKeyInfo:
    """What may be known about a PEM private key without keeping it: judged when it was read."""

    parses: bool
    problem: str  # "" when it parses, else e.g. "encrypted (needs its passphrase)", "does not parse"
    algorithm: str  # RSA | EC | other ("" when it does not parse)
    public_sha256: str  # sha256 hex of its public key's SubjectPublicKeyInfo (DER), to match a certificate


@dataclass(frozen=True)
class SecretKey:
    size: int
    sha256: str  # first 16 hex chars of the value's sha256
    certificates: list[CertInfo] = field(default_factory=list)  # when the value is PEM certificates
    credential: CredentialInfo | None = None  # when the key is cluster.remote.<alias>.credentials
    pem_error: str = ""  # the value looks like PEM but does not parse
    private_key: PrivateKeyInfo | None = None  # when the value holds a PEM private key


@dataclass(frozen=True)
class SecretSummary:
    name: str
    type: str
    keys: dict[str, SecretKey]
    labels: dict[str, str] = field(default_factory=dict)
    owner_kinds: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccessReview:
    verb: str
    resource: str  # "secrets", "elasticsearches.elasticsearch.k8s.elastic.co", ...
    namespace: str
    allowed: bool
    side: str  # local | remote


@dataclass(frozen=True)
class KubeState:
    """What the Kubernetes API of one side showed, in the ES namespace."""

    server_version: Read[Json]  # /version
    crd: Read[Json]  # the elasticsearches CRD summary: {"served_versions": [...], "has_rcs_service": bool}
    elasticsearch: Read[Json]  # the Elasticsearch resource (managedFields dropped)
    elasticsearch_names: Read[list[str]]  # every Elasticsearch in the namespace
    services: Read[list[Json]]  # services in the namespace
    endpoints: Read[list[Json]]  # Endpoints objects in the namespace
    pods: Read[list[Json]]  # pods of this Elasticsearch (cluster-name label)
    statefulsets: Read[list[Json]]  # statefulsets of this Elasticsearch
    configmaps: Read[dict[str, Read[Json]]]  # name -> ConfigMap: those the ES resource references
    secrets: Read[dict[str, Read[SecretSummary]]]  # name -> summary: referenced and ECK public secrets
    events: Read[list[Json]]  # events whose involvedObject is this Elasticsearch
    access: list[AccessReview] = field(default_factory=list)
    # the cluster's nodes (name, addresses, Ready), read on the remote side for NodePort
    # addresses; None: not read (the local side, or a bundle of an older version)
    nodes: Read[list[Json]] | None = None


@dataclass(frozen=True)
class EsState:
    """What the Elasticsearch REST API of one side answered."""

    endpoint: str  # how it was reached, e.g. "port-forward pod logging/local-es-es-default-0" or a URL
    info: Read[Json]  # GET /
    health: Read[Json]  # GET _cluster/health
    license: Read[Json]  # GET _license
    settings: Read[Json]  # GET _cluster/settings?flat_settings=true&include_defaults=false
    node_settings: Read[Json]  # GET _nodes/settings?flat_settings=true (remote_cluster_server / client keys)
    remote_info: Read[Json]  # GET _remote/info (local side)
    # alias -> GET _resolve/cluster/<alias>:*
    resolve_cluster: dict[str, Read[Json]] = field(default_factory=dict)
    # key id -> GET _security/api_key?id= (remote)
    api_keys: dict[str, Read[Json]] = field(default_factory=dict)
    roles: Read[Json] | None = None  # GET _security/role (local side, for remote_indices); None: not asked


@dataclass(frozen=True)
class TlsProbe:
    """A real TCP connect and TLS handshake to a proxy_address, from where the tool runs."""

    alias: str
    address: str  # host:port as configured
    server_name: str  # SNI sent ("" = none; then the client checks the address host)
    tcp: str  # ok | refused | timeout | unresolved | error
    tcp_error: str
    tls: str  # ok | timeout | not-tls | closed | error | skipped
    tls_error: str
    chain: list[CertInfo] = field(default_factory=list)  # presented certificates, leaf first
    protocol: str = ""
    elapsed_ms: int = 0


@dataclass(frozen=True)
class UseProbe:
    """What cross-cluster reads of one index pattern got through one link (doctor --index), as
    the tool's user or, with --as-user, as that user (run_as). A refusal (403, 404) is an
    answer here, stored as `{"status": N, "error": {...}}`: it is what the user would get."""

    alias: str
    pattern: str  # the remote's own pattern; the reads target <alias>:<pattern>
    as_user: str  # "" = the tool's own user
    field_caps: Read[Json]  # GET <alias>:<pattern>/_field_caps?fields=*
    resolve: Read[Json]  # GET _resolve/index/<alias>:<pattern>
    remote: Read[Json]  # GET _resolve/index/<pattern> on the remote as doctor's remote user: what exists
    user: Read[Json] | None = None  # GET _security/user/<as_user> on the local side (with --as-user)


@dataclass(frozen=True)
class FollowProbe:
    """doctor --follow: the remote leader indices to be followed (through every link in scope, into
    local follower indices of the same name) and the local user who would follow them."""

    leaders: list[str]
    as_user: str  # "" = the tool's own user (its roles are not read)
    user: Read[Json] | None = None  # GET _security/user/<as_user> on the local side (with --as-user)


@dataclass(frozen=True)
class Side:
    role: str  # local | remote
    context: str  # kube context name ("" when unknown, e.g. offline)
    namespace: str
    es_name: str
    kube: KubeState | Unavailable
    es: EsState | Unavailable


@dataclass(frozen=True)
class Snapshot:
    schema_version: int
    taken_at: str  # ISO 8601 UTC: the clock every check uses
    tool_version: str
    source: str  # live | bundle | eck-diagnostics
    local: Side
    remote: Side | Unavailable  # Unavailable(kind="no-access") without remote access
    aliases: list[str]  # the links in scope (--alias, else every alias the local side configures)
    probes: dict[str, TlsProbe | Unavailable] = field(default_factory=dict)  # alias -> probe
    notes: list[str] = field(default_factory=list)
    uses: list[UseProbe] = field(default_factory=list)  # doctor --index: one per alias and pattern
    follow: FollowProbe | None = None  # doctor --follow


# --- serialisation -----------------------------------------------------------------------------
# Explicit, one function per type: a bundle written by one version must be readable by a
# newer one, and an explicit loader is where that compatibility will live.


def to_dict(snapshot: Snapshot) -> dict[str, Any]:
    return _encode(asdict(snapshot), snapshot)


def _encode(plain: Any, original: Any) -> Any:
    """asdict() loses the Unavailable type; tag it so that from_dict can restore it."""
    if isinstance(original, Unavailable):
        return {"unavailable": asdict(original)}
    if isinstance(original, dict):
        return {k: _encode(plain[k], v) for k, v in original.items()}
    if isinstance(original, list):
        return [_encode(p, o) for p, o in zip(plain, original, strict=True)]
    if hasattr(original, "__dataclass_fields__"):
        return {k: _encode(plain[k], getattr(original, k)) for k in original.__dataclass_fields__}
    return plain


def _read(data: Any) -> Any:
    if isinstance(data, dict) and set(data) == {"unavailable"}:
        return Unavailable(**data["unavailable"])
    return data


def _cert(data: dict[str, Any]) -> CertInfo:
    return CertInfo(**data)


def _secret_key(data: dict[str, Any]) -> SecretKey:
    cred = data.get("credential")
    key = data.get("private_key")
    return SecretKey(
        size=data["size"],
        sha256=data["sha256"],
        certificates=[_cert(c) for c in data.get("certificates", [])],
        credential=CredentialInfo(**cred) if cred else None,
        pem_error=data.get("pem_error", ""),
        private_key=PrivateKeyInfo(**key) if key else None,
    )


def _secret(data: Any) -> SecretSummary | Unavailable:
    read = _read(data)
    if isinstance(read, Unavailable):
        return read
    return SecretSummary(
        name=read["name"],
        type=read["type"],
        keys={k: _secret_key(v) for k, v in read["keys"].items()},
        labels=read.get("labels", {}),
        owner_kinds=read.get("owner_kinds", []),
    )


def _kube(data: Any) -> KubeState | Unavailable:
    read = _read(data)
    if isinstance(read, Unavailable):
        return read
    secrets = _read(read["secrets"])
    if not isinstance(secrets, Unavailable):
        secrets = {name: _secret(s) for name, s in secrets.items()}
    return KubeState(
        server_version=_read(read["server_version"]),
        crd=_read(read["crd"]),
        elasticsearch=_read(read["elasticsearch"]),
        elasticsearch_names=_read(read["elasticsearch_names"]),
        services=_read(read["services"]),
        endpoints=_read(read["endpoints"]),
        pods=_read(read["pods"]),
        statefulsets=_read(read["statefulsets"]),
        configmaps=_read(read["configmaps"]),
        secrets=secrets,
        events=_read(read["events"]),
        access=[AccessReview(**a) for a in read.get("access", [])],
        nodes=_read(read.get("nodes")),
    )


def _es(data: Any) -> EsState | Unavailable:
    read = _read(data)
    if isinstance(read, Unavailable):
        return read
    return EsState(
        endpoint=read["endpoint"],
        info=_read(read["info"]),
        health=_read(read["health"]),
        license=_read(read["license"]),
        settings=_read(read["settings"]),
        node_settings=_read(read["node_settings"]),
        remote_info=_read(read["remote_info"]),
        resolve_cluster={k: _read(v) for k, v in read.get("resolve_cluster", {}).items()},
        api_keys={k: _read(v) for k, v in read.get("api_keys", {}).items()},
        roles=_read(read.get("roles")),
    )


def _side(data: Any) -> Side | Unavailable:
    read = _read(data)
    if isinstance(read, Unavailable):
        return read
    return Side(
        role=read["role"],
        context=read["context"],
        namespace=read["namespace"],
        es_name=read["es_name"],
        kube=_kube(read["kube"]),
        es=_es(read["es"]),
    )


def _probe(data: Any) -> TlsProbe | Unavailable:
    read = _read(data)
    if isinstance(read, Unavailable):
        return read
    return TlsProbe(**{**read, "chain": [_cert(c) for c in read.get("chain", [])]})


def _use(data: dict[str, Any]) -> UseProbe:
    return UseProbe(
        alias=data["alias"],
        pattern=data["pattern"],
        as_user=data.get("as_user", ""),
        field_caps=_read(data["field_caps"]),
        resolve=_read(data["resolve"]),
        remote=_read(data["remote"]),
        user=_read(data.get("user")),
    )


def _follow(data: dict[str, Any] | None) -> FollowProbe | None:
    if data is None:
        return None
    return FollowProbe(leaders=list(data["leaders"]), as_user=data.get("as_user", ""),
                       user=_read(data.get("user")))


def from_dict(data: dict[str, Any]) -> Snapshot:
    """Inverse of to_dict. Raises KeyError/TypeError on a malformed document (callers turn
    that into a one-line usage error)."""
    local = _side(data["local"])
    if isinstance(local, Unavailable):
        raise TypeError("the local side of a snapshot cannot be unavailable")
    return Snapshot(
        schema_version=data["schema_version"],
        taken_at=data["taken_at"],
        tool_version=data["tool_version"],
        source=data["source"],
        local=local,
        remote=_side(data["remote"]),
        aliases=list(data["aliases"]),
        probes={k: _probe(v) for k, v in data.get("probes", {}).items()},
        notes=list(data.get("notes", [])),
        uses=[_use(u) for u in data.get("uses", [])],
        follow=_follow(data.get("follow")),
    )
