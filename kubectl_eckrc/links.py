"""The remote-cluster links the local cluster configures, derived from a snapshot.

A link's settings can come from the cluster settings (transient wins over persistent) or from
elasticsearch.yml (a nodeSet's config, or what `_nodes/settings` shows). Its credential is a
`cluster.remote.<alias>.credentials` key in one of the `secureSettings` secrets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from kubectl_eckrc import eck
from kubectl_eckrc.snapshot import CredentialInfo, SecretSummary, Snapshot, Unavailable

_SETTING = re.compile(r"^cluster\.remote\.(?!signing\.(?:certificate_authorities|truststore\.|diagnose\.))"
                      r"([^.]+)\.(.+)$")  # 9.3's global signing trust names no alias (identity.py)
_CREDENTIALS = re.compile(r"^cluster\.remote\.([^.]+)\.credentials$")
API_KEY = "api-key"
CERTIFICATE = "certificate"


@dataclass(frozen=True)
class CredentialRef:
    """A keystore entry `cluster.remote.<alias>.credentials` provided by a secureSettings secret."""

    alias: str
    secret: str
    key: str  # key in the secret (may differ from the setting name through `entries`)
    info: CredentialInfo | None  # None: the collector could not classify the value


@dataclass(frozen=True)
class Link:
    alias: str
    registered: bool  # some cluster.remote.<alias>.* setting exists
    mode: str  # proxy | sniff ("" = unset, which Elasticsearch treats as sniff)
    proxy_address: str
    server_name: str
    skip_unavailable: bool | None  # None: unknown (default true since 8.15)
    seeds: list[str]
    sources: dict[str, str]  # setting name (after the alias) -> persistent | transient | elasticsearch.yml
    credentials: list[CredentialRef] = field(default_factory=list)
    model: str = API_KEY  # api-key | certificate

    @property
    def host(self) -> str:
        return split_address(self.proxy_address)[0]

    @property
    def port(self) -> int | None:
        return split_address(self.proxy_address)[1]

    @property
    def checked_name(self) -> str:
        """The name the client verifies in the server certificate: SNI name, else the host."""
        return self.server_name or self.host


def split_address(address: str) -> tuple[str, int | None]:
    host, sep, port = address.rpartition(":")
    if not sep:
        return address, None
    host = host.strip("[]")
    return host, int(port) if port.isdigit() else None


# --- settings ------------------------------------------------------------------------------------


def remote_settings(snap: Snapshot) -> dict[str, tuple[Any, str]]:
    """Every cluster.remote.* setting -> (value, source), highest precedence winning."""
    es = snap.local.es
    settings = None if isinstance(es, Unavailable) else es.settings
    return remote_settings_of(eck.resource(snap.local), settings)


def remote_settings_of(es: dict[str, Any] | None, settings: Any) -> dict[str, tuple[Any, str]]:
    """The same from the parts the collector holds before there is a snapshot: the
    Elasticsearch resource (nodeSet config) and the `_cluster/settings` answer."""
    found: dict[str, tuple[Any, str]] = {}
    for name, value in _yml_settings(es).items():
        found[name] = (value, "elasticsearch.yml")
    for scope, flat in cluster_settings_of(settings).items():
        for name, value in flat.items():
            if name.startswith("cluster.remote.") and value is not None:
                found[name] = (value, scope)
    return found


def cluster_settings(snap: Snapshot) -> dict[str, dict[str, Any]]:
    """{"persistent": {flat name: value}, "transient": {...}} as read; empty when unreadable."""
    es = snap.local.es
    return cluster_settings_of(None if isinstance(es, Unavailable) else es.settings)


def cluster_settings_of(settings: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(settings, dict):
        return {"persistent": {}, "transient": {}}
    return {scope: eck.flatten(settings.get(scope) or {}) for scope in ("persistent", "transient")}


def settings_readable(snap: Snapshot) -> Unavailable | None:
    """Why the cluster settings could not be read, or None when they were."""
    es = snap.local.es
    if isinstance(es, Unavailable):
        return es
    return es.settings if isinstance(es.settings, Unavailable) else None


def _yml_settings(es: dict[str, Any] | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for nodeset in eck.nodesets(es) if es else []:
        for name, value in eck.nodeset_config(nodeset).items():
            if name.startswith("cluster.remote."):
                found.setdefault(name, value)
    return found


def configured_aliases(snap: Snapshot) -> list[str]:
    return aliases_in(remote_settings(snap))


def aliases_in(settings: dict[str, Any]) -> list[str]:
    """The aliases of `cluster.remote.<alias>.<setting>` names: the alias is the first
    segment (`cluster.remote.a.transport.compress` is alias `a`)."""
    return sorted({m[1] for name in settings if (m := _SETTING.match(name))})


def alias_of_credential(setting: str) -> str:
    """The alias of a `cluster.remote.<alias>.credentials` keystore name, else ""."""
    match = _CREDENTIALS.match(setting)
    return match[1] if match else ""


def credential_setting(alias: str) -> str:
    return f"cluster.remote.{alias}.credentials"


# --- credentials ---------------------------------------------------------------------------------


def credential_refs(snap: Snapshot) -> list[CredentialRef]:
    """Every cluster.remote.<alias>.credentials entry the local secureSettings provide."""
    if isinstance(snap.local.kube, Unavailable):
        return []
    return credential_refs_of(eck.resource(snap.local), snap.local.kube.secrets)


def credential_refs_of(es: dict[str, Any] | None, secrets: Any) -> list[CredentialRef]:
    """The same from the Elasticsearch resource and the secret summaries read so far. A
    secureSettings entry with `entries` maps a secret key to another keystore name."""
    if es is None or not isinstance(secrets, dict):
        return []
    refs = []
    # ECK adds its own source after the user's: the keys it made for spec.remoteClusters
    user = eck.secure_settings(es)
    own = eck.SecureSetting(eck.remote_api_keys_secret(str((es.get("metadata") or {}).get("name", ""))), {})
    for setting in user if own.secret_name in {u.secret_name for u in user} else [*user, own]:
        summary = secrets.get(setting.secret_name)
        if not isinstance(summary, SecretSummary):
            continue
        for key, entry in summary.keys.items():
            alias = alias_of_credential(setting.keystore_name(key))
            if alias:
                refs.append(CredentialRef(alias, summary.name, key, entry.credential))
    return refs


# --- links ECK sets up itself (spec.remoteClusters) ----------------------------------------------


@dataclass(frozen=True)
class EckRemote:
    """A `spec.remoteClusters` entry of the local Elasticsearch: ECK sets this alias up itself
    with another Elasticsearch of the same Kubernetes cluster (elastic/cloud-on-k8s
    pkg/controller/remotecluster): the CA copies, the `eck-*` key, its keystore Secret and the
    `cluster.remote.<alias>.seeds` setting are ECK's."""

    alias: str
    namespace: str  # of the referenced Elasticsearch
    name: str
    api_key: bool  # the entry has `apiKey` (else the certificate model)
    local_namespace: str
    local_name: str

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def key_name(self) -> str:
        return f"eck-{self.local_namespace}-{self.local_name}-{self.alias}"

    def owned(self, check_id: str) -> str:
        """What ECK owns among the objects a check of that id looks at."""
        area = check_id[len("ECKRC"):][:1] if check_id.startswith("ECKRC") else ""
        if area == "2":
            return (f"Service {self.name}-es-remote-cluster in {self.namespace} (the remote cluster server "
                    f"itself is {self.ref}'s spec.remoteClusterServer, yours to enable)")
        if area in ("3", "6"):
            return (f"the CA it copies from {self.ref} into Secret {self.local_name}-es-remote-ca "
                    "(transport-remote-certs/ca.crt) and its own certificate_authorities entries")
        if area == "4":
            if not self.api_key:
                return "no key: the entry has no apiKey (certificate model)"
            return (f"key {self.key_name} on {self.ref} and Secret "
                    f"{eck.remote_api_keys_secret(self.local_name)}")
        if area == "5":
            return f"cluster.remote.{self.alias}.seeds"
        return "the key, the CA copies and the seeds of this link"

    def statement(self, check_id: str) -> str:
        return (f"ECK manages alias {self.alias} (spec.remoteClusters of {self.local_namespace}/"
                f"{self.local_name} -> {self.ref}): {self.owned(check_id)}; change spec.remoteClusters, "
                "not what ECK writes")


def eck_remotes_of(es: dict[str, Any] | None) -> dict[str, EckRemote]:
    """alias -> its `spec.remoteClusters` entry (with an elasticsearchRef)."""
    if not es:
        return {}
    meta = es.get("metadata") or {}
    local_ns, local_name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    found = {}
    for entry in eck.spec(es).get("remoteClusters") or []:
        if not isinstance(entry, dict):
            continue
        ref = entry.get("elasticsearchRef") or {}
        if not entry.get("name") or not ref.get("name"):
            continue
        found[str(entry["name"])] = EckRemote(str(entry["name"]), str(ref.get("namespace") or local_ns),
                                              str(ref["name"]), entry.get("apiKey") is not None,
                                              local_ns, local_name)
    return found


def eck_remote(snap: Snapshot, alias: str) -> EckRemote | None:
    """The ECK-managed entry behind `alias`, None for a link the user set up."""
    return eck_remotes_of(eck.resource(snap.local)).get(alias) if alias else None


def scope_eck_remote(snap: Snapshot) -> EckRemote | None:
    """The ECK-managed entry behind every alias in scope (side checks of such a run judge the
    same-cluster link), None when some alias in scope is the user's."""
    managed = [eck_remote(snap, a) for a in snap.aliases]
    return managed[0] if managed and all(m is not None for m in managed) else None


def eck_seed(remote: EckRemote) -> str:
    """The seed ECK writes (elastic/cloud-on-k8s pkg/controller/elasticsearch/remotecluster/
    elasticsearch.go): the remote cluster Service with an API key, the transport Service without."""
    if remote.api_key:
        return f"{remote.name}-es-remote-cluster.{remote.namespace}.svc:{eck.RCS_PORT}"
    return f"{remote.name}-es-transport.{remote.namespace}.svc:{eck.TRANSPORT_PORT}"


# --- the remote's API keys ----------------------------------------------------------------------

# A key that expires within the clock-skew margin is as good as expired.
EXPIRY_MARGIN = timedelta(seconds=60)


def api_key_expiry(entry: dict[str, Any]) -> datetime | None:
    value = entry.get("expiration")
    return datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int | float) else None


def api_key_problem(entry: dict[str, Any] | None, now: datetime) -> str:
    """Why a remote API key (an entry of `GET _security/api_key`) cannot carry a link: "missing",
    "type", "invalidated" or "expired"; "" when it can. ECKRC404 judges with it and
    create-api-key keeps or replaces a key by it."""
    if entry is None:
        return "missing"
    if entry.get("type") != "cross_cluster":
        return "type"
    if entry.get("invalidated"):
        return "invalidated"
    expiry = api_key_expiry(entry)
    if expiry is not None and expiry <= now + EXPIRY_MARGIN:
        return "expired"
    return ""


def remote_api_key(answer: Any, key_id: str) -> dict[str, Any] | None:
    """The entry for `key_id` in a `GET _security/api_key?id=` answer, None when absent."""
    found = [k for k in (answer or {}).get("api_keys") or [] if k.get("id") == key_id]
    return found[0] if found else None


# --- links ---------------------------------------------------------------------------------------


def configured_links(snap: Snapshot, aliases: list[str]) -> list[Link]:
    return [link_for(snap, alias) for alias in aliases if alias]


# Every check asks for its alias's link: derive all links of a snapshot in one pass and keep
# them for the latest few snapshots, so that many aliases cost linear time, not quadratic.
_DERIVED: dict[int, tuple[Snapshot, dict[str, Link]]] = {}


def _links(snap: Snapshot) -> dict[str, Link]:
    hit = _DERIVED.get(id(snap))
    if hit is None or hit[0] is not snap:
        if len(_DERIVED) > 8:
            _DERIVED.clear()
        hit = (snap, _derive_all(snap))
        _DERIVED[id(snap)] = hit
    return hit[1]


def link_for(snap: Snapshot, alias: str) -> Link:
    return _links(snap).get(alias) or _derive(snap, alias, {}, [])


def registered_aliases(snap: Snapshot) -> list[str]:
    """configured_aliases, from the links derived once per snapshot."""
    return sorted(a for a, link in _links(snap).items() if link.sources)


def all_credentials(snap: Snapshot) -> list[CredentialRef]:
    """credential_refs, from the links derived once per snapshot."""
    return [ref for link in _links(snap).values() for ref in link.credentials]


def _derive_all(snap: Snapshot) -> dict[str, Link]:
    per_alias: dict[str, dict[str, tuple[Any, str]]] = {}
    for name, value_source in remote_settings(snap).items():
        match = _SETTING.match(name)
        if match:
            per_alias.setdefault(match[1], {})[match[2]] = value_source
    refs = credential_refs(snap)
    aliases = set(per_alias) | {ref.alias for ref in refs} | set(snap.aliases)
    return {alias: _derive(snap, alias, per_alias.get(alias, {}), [r for r in refs if r.alias == alias])
            for alias in aliases}


def _derive(snap: Snapshot, alias: str, mine: dict[str, tuple[Any, str]], creds: list[CredentialRef]) -> Link:
    value = {k: v for k, (v, _) in mine.items()}
    link = Link(
        alias=alias,
        registered=bool(set(value) - {"credentials"}),
        mode=str(value.get("mode") or ""),
        proxy_address=str(value.get("proxy_address") or ""),
        server_name=str(value.get("server_name") or ""),
        skip_unavailable=_skip_unavailable(snap, alias, value),
        seeds=_seeds(value.get("seeds")),
        sources={k: source for k, (_, source) in mine.items()},
        credentials=creds,
    )
    return _with_model(snap, link)


def _seeds(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [s.strip() for s in str(value).strip("[]").split(",") if s.strip()] if value else []


def _skip_unavailable(snap: Snapshot, alias: str, value: dict[str, Any]) -> bool | None:
    info = remote_info_entry(snap, alias)
    if info is not None and "skip_unavailable" in info:
        return bool(info["skip_unavailable"])
    if "skip_unavailable" in value:
        return eck.truthy(value["skip_unavailable"])
    return None


def remote_info_entry(snap: Snapshot, alias: str) -> dict[str, Any] | None:
    es = snap.local.es
    if isinstance(es, Unavailable) or not isinstance(es.remote_info, dict):
        return None
    entry = es.remote_info.get(alias)
    return entry if isinstance(entry, dict) else None


def _with_model(snap: Snapshot, link: Link) -> Link:
    return replace(link, model=link_model(snap, link))


def link_model(snap: Snapshot, link: Link) -> str:
    """API-key model unless nothing points at it and the link looks like mutual transport TLS."""
    info = remote_info_entry(snap, link.alias) or {}
    if link.credentials or "cluster_credentials" in info:
        return API_KEY
    ports = [link.port] if link.mode == "proxy" else [split_address(s)[1] for s in link.seeds]
    if eck.TRANSPORT_PORT in ports:
        return CERTIFICATE
    es = eck.resource(snap.local)
    if es is None or not eck.transport_ca_configmap(es):
        return API_KEY
    client_ca = any(eck.CLIENT_SSL_CAS in eck.nodeset_config(ns) for ns in eck.nodesets(es))
    return API_KEY if client_ca else CERTIFICATE


def models_in_scope(snap: Snapshot) -> set[str]:
    """The models of the links in scope; none configured yet: the API-key model, the one to
    set up and so the one to check for."""
    return {link.model for link in configured_links(snap, snap.aliases)} or {API_KEY}


def uses_api_keys(snap: Snapshot) -> bool:
    return API_KEY in models_in_scope(snap)


def link_header(link: Link) -> dict[str, Any]:
    return {
        "alias": link.alias,
        "model": link.model,
        "mode": link.mode or "sniff",
        "proxy_address": link.proxy_address,
        "server_name": link.server_name,
        "skip_unavailable": link.skip_unavailable,
        "registered": link.registered,
    }
