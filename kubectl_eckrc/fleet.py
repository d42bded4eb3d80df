"""The fleet: which remote Elasticsearch each alias reaches, and the reports of every link.

Matching is a pure function of what was read: the alias's settings and the local nodes' trust
on one side (a local-only `Snapshot`), and `Candidate`s (every Elasticsearch of the contexts
given) on the other. Each clue names the candidate it points at; the candidate with the
strongest clues wins, and a tie is no match (two clusters that look the same are not guessed
between). `FleetReport` gathers one single-link `Report` per link; renderers show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubectl_eckrc import eck, links, pki
from kubectl_eckrc.findings import Finding, Report, Severity, Status
from kubectl_eckrc.snapshot import CertInfo, SecretSummary, Side, Snapshot, TlsProbe, Unavailable


@dataclass(frozen=True, order=True)
class EsRef:
    """One Elasticsearch resource: where it runs and its name."""

    context: str
    namespace: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.context}/{self.namespace}/{self.name}"

    def document(self) -> dict[str, str]:
        return {"context": self.context, "namespace": self.namespace, "elasticsearch": self.name}


@dataclass(frozen=True)
class Candidate:
    """What a remote Elasticsearch shows a peer: where 9443 is exposed, the names its remote
    cluster server answers to, its transport CA, its version."""

    ref: EsRef
    addresses: tuple[str, ...] = ()  # host:port of each LoadBalancer exposure of 9443
    node_ports: tuple[int, ...] = ()  # nodePorts of 9443 (node addresses are not read)
    server_names: tuple[str, ...] = ()  # <es>-es-remote-cluster.<ns>.svc and user SANs
    ca_sha256: tuple[str, ...] = ()  # the transport CA(s) its certificates chain to
    cas: tuple[CertInfo, ...] = ()
    version: str = ""


@dataclass(frozen=True)
class AliasFacts:
    """What the local side says about one alias."""

    alias: str
    proxy_address: str = ""
    server_name: str = ""
    seeds: tuple[str, ...] = ()
    trusted: tuple[CertInfo, ...] = ()  # CA certificates the local nodes trust for remote clusters
    presented: tuple[CertInfo, ...] = ()  # the chain the TLS probe got at proxy_address
    version: str = ""  # the remote's version as `_resolve/cluster` reports it
    eck_ref: EsRef | None = None  # spec.remoteClusters[].elasticsearchRef (same context)


@dataclass(frozen=True)
class Match:
    """The remote an alias reaches, and the clues that say so; `remote` None: none found."""

    alias: str
    remote: EsRef | None
    clues: tuple[str, ...] = ()
    reason: str = ""  # why there is no match


# Clue weights: an address or a certificate points at one cluster, a server_name at a name; the
# trusted CA may be stale (the link is then broken, and still this cluster's) and is trusted for
# every alias alike; a version only separates ties.
ADDRESS, CERTIFICATE, SERVER_NAME, TRUSTED_CA, VERSION = 10, 8, 5, 3, 1


def match(facts: AliasFacts, candidates: list[Candidate]) -> Match:
    if facts.eck_ref is not None:
        return Match(facts.alias, facts.eck_ref, ("spec.remoteClusters elasticsearchRef",))
    scored: list[tuple[int, Candidate, tuple[str, ...]]] = []
    for candidate in candidates:
        clues = _clues(facts, candidate)
        score = sum(weight for weight, _ in clues)
        # The trusted CAs serve every alias of the cluster and a version is shared by many: they
        # only confirm what the address, the certificate or the server_name points at.
        if score >= SERVER_NAME:
            scored.append((score, candidate, tuple(text for _, text in clues)))
    if not scored:
        return Match(facts.alias, None, reason=_no_owner(facts))
    best = max(score for score, _, _ in scored)
    top = [(c, texts) for score, c, texts in scored if score == best]
    if len(top) > 1:
        names = ", ".join(c.ref.label for c, _ in top)
        reason = f"alias {facts.alias} matches several clusters equally ({names})"
        return Match(facts.alias, None, reason=reason)
    candidate, texts = top[0]
    return Match(facts.alias, candidate.ref, texts)


def _clues(facts: AliasFacts, candidate: Candidate) -> list[tuple[int, str]]:
    clues: list[tuple[int, str]] = []
    exposed = [a for a in (facts.proxy_address, *facts.seeds) if a and _exposed_at(a, candidate)]
    if exposed:
        clues.append((ADDRESS, f"address {exposed[0]} is a Service of it"))
    if facts.presented and _presented_by(facts.presented, candidate):
        clues.append((CERTIFICATE, "the certificate at the address is its own"))
    if facts.server_name and facts.server_name.rstrip(".").lower() in candidate.server_names:
        clues.append((SERVER_NAME, f"server_name {facts.server_name} is its remote cluster service"))
    if facts.trusted and {c.sha256 for c in facts.trusted} & set(candidate.ca_sha256):
        clues.append((TRUSTED_CA, "the trusted CA is its transport CA"))
    if facts.version and facts.version == candidate.version:
        clues.append((VERSION, f"version {facts.version}"))
    return clues


def _exposed_at(address: str, candidate: Candidate) -> bool:
    if address in candidate.addresses:
        return True
    _, port = links.split_address(address)
    # a NodePort: the port identifies the Service (node addresses are not read; the NodePort
    # range is the API server's own setting, so any port may be one)
    return port is not None and port in candidate.node_ports


def _presented_by(chain: tuple[CertInfo, ...], candidate: Candidate) -> bool:
    if not candidate.cas:
        return False
    try:
        return pki.chain_from(list(chain), list(candidate.cas))
    except ValueError:  # a certificate that does not load is nobody's
        return False


def _no_owner(facts: AliasFacts) -> str:
    where = facts.proxy_address or ", ".join(facts.seeds) or "no address"
    named = _named_by(facts.server_name)
    owner = f"; server_name names Elasticsearch {named}" if named else ""
    return f"no given context runs the cluster behind alias {facts.alias} ({where}{owner})"


def _named_by(server_name: str) -> str:
    """`<es>-es-remote-cluster.<ns>.svc` -> `<ns>/<es>`, else ""."""
    host = server_name.rstrip(".").lower()
    for suffix in (".svc.cluster.local", ".svc"):
        if host.endswith(suffix):
            head = host[: -len(suffix)]
            service, _, namespace = head.rpartition(".")
            if service.endswith("-es-remote-cluster") and namespace:
                return f"{namespace}/{service[: -len('-es-remote-cluster')]}"
    return ""


# --- the facts, from what was read ------------------------------------------------------------


def candidate_of(ref: EsRef, es: dict[str, Any] | None, services: list[dict[str, Any]],
                 transport_ca: list[CertInfo]) -> Candidate:
    """A remote Elasticsearch as peers see it, from its resource, its namespace's Services and
    the CA of `<es>-es-transport-certs-public`."""
    exposures = eck.rcs_exposures(services, ref.name)
    addresses = tuple(e.proxy_address for e in exposures.found if e.proxy_address)
    node_ports = tuple(e.port for e in exposures.found if e.kind == "NodePort")
    base = eck.rcs_server_name(ref.name, ref.namespace)
    names = [base, f"{base}.cluster.local"]
    spec = eck.spec(es) if es else {}
    for san in (((spec.get("transport") or {}).get("tls") or {}).get("subjectAltNames") or []):
        if isinstance(san, dict) and san.get("dns"):
            names.append(str(san["dns"]).lower())
        if isinstance(san, dict) and san.get("ip"):
            names.append(str(san["ip"]))
    version = str((eck.status(es).get("version") or spec.get("version") or "") if es else "")
    return Candidate(ref, addresses, node_ports, tuple(names), tuple(c.sha256 for c in transport_ca),
                     tuple(transport_ca), version)


def transport_ca_of(secret: SecretSummary | Unavailable | None) -> list[CertInfo]:
    if not isinstance(secret, SecretSummary):
        return []
    entry = secret.keys.get("ca.crt")
    return list(entry.certificates) if entry is not None else []


def alias_facts(snap: Snapshot, alias: str, context: str) -> AliasFacts:
    """The facts of one alias from a local-only snapshot (remote not read yet)."""
    link = links.link_for(snap, alias)
    probe = snap.probes.get(alias)
    presented = tuple(probe.chain) if isinstance(probe, TlsProbe) else ()
    return AliasFacts(alias, link.proxy_address, link.server_name, tuple(link.seeds),
                      tuple(trusted_cas(snap.local)), presented, _resolved_version(snap, alias),
                      eck_ref(snap.local, alias, context))


def eck_ref(side: Side, alias: str, context: str) -> EsRef | None:
    """The Elasticsearch ECK links `alias` to through `spec.remoteClusters` (same context)."""
    es = eck.resource(side)
    for entry in (eck.spec(es).get("remoteClusters") or []) if es else []:
        if isinstance(entry, dict) and entry.get("name") == alias:
            ref = entry.get("elasticsearchRef") or {}
            if ref.get("name"):
                return EsRef(context, str(ref.get("namespace") or side.namespace), str(ref["name"]))
    return None


def trusted_cas(side: Side) -> list[CertInfo]:
    """The CA certificates the local nodeSets trust for remote clusters, as far as readable."""
    es = eck.resource(side)
    if es is None or isinstance(side.kube, Unavailable):
        return []
    found: dict[str, CertInfo] = {}
    for source in eck.client_ca_files(es)[0]:
        for cert in _mounted_certs(side, source.mounted):
            found.setdefault(cert.sha256, cert)
    return list(found.values())


def _mounted_certs(side: Side, mounted: eck.MountedFile | None) -> list[CertInfo]:
    if mounted is None or isinstance(side.kube, Unavailable):
        return []
    if mounted.kind == "configMap" and isinstance(side.kube.configmaps, dict):
        cm = side.kube.configmaps.get(mounted.source)
        text = ((cm.get("data") or {}).get(mounted.key) if isinstance(cm, dict) else None) or ""
        try:
            return pki.parse_pem(str(text)) if text else []
        except pki.PemError:
            return []
    if mounted.kind == "secret" and isinstance(side.kube.secrets, dict):
        return transport_ca_of(_with_key(side.kube.secrets.get(mounted.source), mounted.key))
    return []


def _with_key(secret: SecretSummary | Unavailable | None, key: str) -> SecretSummary | None:
    if not isinstance(secret, SecretSummary) or key not in secret.keys:
        return None
    return SecretSummary(secret.name, secret.type, {"ca.crt": secret.keys[key]})


def _resolved_version(snap: Snapshot, alias: str) -> str:
    es = snap.local.es
    answer = None if isinstance(es, Unavailable) else es.resolve_cluster.get(alias)
    entry = answer.get(alias) if isinstance(answer, dict) else None
    version = entry.get("version") if isinstance(entry, dict) else None
    return str(version.get("number") or "") if isinstance(version, dict) else ""


# --- the fleet's reports ------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkReport:
    """One link of the fleet: its local Elasticsearch, alias, the remote it reaches, its report."""

    local: EsRef
    alias: str
    remote: EsRef | None
    clues: tuple[str, ...]
    report: Report
    unmatched: str = ""  # why no given context owns the remote

    @property
    def label(self) -> str:
        return f"{self.local.label} -> {self.alias or '(aliases not readable)'}"

    @property
    def exit_code(self) -> int:
        return self.report.exit_code

    @property
    def state(self) -> str:
        code = self.report.exit_code
        if code == 1:
            return "broken"
        if code == 3:
            return "not evaluated"
        if self.remote is None:
            return "local side ok"
        return "healthy"

    @property
    def root_cause(self) -> Finding | None:
        """The finding that explains the state: the first error, else what blocked the run,
        else the first warning."""
        counted = sorted((f for f in self.report.findings if f.counts), key=lambda f: f.id)
        for finding in counted:
            if finding.status is Status.FAIL and finding.severity is Severity.ERROR:
                return finding
        if self.report.blocked_by:
            return self.report.blocked_by[0]
        return next((f for f in counted if f.status is Status.WARN), None)


@dataclass(frozen=True)
class FleetReport:
    tool_version: str
    source: str
    taken_at: str
    contexts: tuple[str, ...]  # local first
    links: list[LinkReport]
    unlinked: list[EsRef] = field(default_factory=list)  # local Elasticsearch without any alias

    @property
    def exit_code(self) -> int:
        """The worst over the fleet, in the single run's order: errors (1) over not evaluated (3)."""
        codes = {link.exit_code for link in self.links}
        return 1 if 1 in codes else 3 if 3 in codes else 0

    @property
    def broken(self) -> list[LinkReport]:
        return [link for link in self.links if link.exit_code != 0]


# --- what a fleet run read ----------------------------------------------------------------------


@dataclass(frozen=True)
class LinkSnapshot:
    """One link's single-link snapshot (local side, matched remote side or why none, one alias)."""

    local: EsRef
    alias: str
    remote: EsRef | None
    clues: tuple[str, ...]
    snapshot: Snapshot
    unmatched: str = ""


@dataclass(frozen=True)
class FleetSnapshot:
    taken_at: str
    source: str
    tool_version: str
    contexts: tuple[str, ...]  # local first
    links: list[LinkSnapshot]
    unlinked: list[EsRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def unmatched_remote(reason: str, remote_contexts: tuple[str, ...],
                     other_contexts: tuple[str, ...]) -> Unavailable:
    """The remote side of a link no given context owns: evaluated from the local side only,
    saying which context would complete it."""
    given = ", ".join(remote_contexts) or "none"
    others = f"; contexts of the kubeconfig not given: {', '.join(other_contexts)}" if other_contexts else ""
    return Unavailable(f"{reason} (remote contexts given: {given})", "no-access",
                       f"pass --remote-context for the context that runs it{others}")
