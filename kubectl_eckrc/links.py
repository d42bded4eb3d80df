"""The remote-cluster links the local cluster configures, derived from a snapshot.

A link's settings can come from the cluster settings (transient wins over persistent) or from
elasticsearch.yml (a nodeSet's config, or what `_nodes/settings` shows). Its credential is a
`cluster.remote.<alias>.credentials` key in one of the `secureSettings` secrets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from kubectl_eckrc import eck
from kubectl_eckrc.snapshot import CredentialInfo, SecretSummary, Snapshot, Unavailable

_SETTING = re.compile(r"^cluster\.remote\.([^.]+)\.(.+)$")
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
    found: dict[str, tuple[Any, str]] = {}
    for name, value in _yml_settings(snap).items():
        found[name] = (value, "elasticsearch.yml")
    es = snap.local.es
    if not isinstance(es, Unavailable) and isinstance(es.settings, dict):
        for scope in ("persistent", "transient"):
            for name, value in eck.flatten(es.settings.get(scope) or {}).items():
                if name.startswith("cluster.remote.") and value is not None:
                    found[name] = (value, scope)
    return found


def settings_readable(snap: Snapshot) -> Unavailable | None:
    """Why the cluster settings could not be read, or None when they were."""
    es = snap.local.es
    if isinstance(es, Unavailable):
        return es
    return es.settings if isinstance(es.settings, Unavailable) else None


def _yml_settings(snap: Snapshot) -> dict[str, Any]:
    found: dict[str, Any] = {}
    es = eck.resource(snap.local)
    for nodeset in eck.nodesets(es) if es else []:
        for name, value in eck.nodeset_config(nodeset).items():
            if name.startswith("cluster.remote."):
                found.setdefault(name, value)
    return found


def configured_aliases(snap: Snapshot) -> list[str]:
    aliases = {m[1] for name in remote_settings(snap) if (m := _SETTING.match(name))}
    return sorted(aliases)


# --- credentials ---------------------------------------------------------------------------------


def credential_refs(snap: Snapshot) -> list[CredentialRef]:
    """Every cluster.remote.<alias>.credentials entry the local secureSettings provide."""
    es = eck.resource(snap.local)
    if es is None or isinstance(snap.local.kube, Unavailable):
        return []
    secrets = snap.local.kube.secrets
    refs = []
    for setting in eck.secure_settings(es):
        summary = secrets.get(setting.secret_name) if isinstance(secrets, dict) else None
        if not isinstance(summary, SecretSummary):
            continue
        for key, entry in summary.keys.items():
            name = setting.key_map.get(key, key) if setting.key_map else key
            if setting.key_map and key not in setting.key_map:
                continue  # entries limit the secret to the keys they list
            match = _CREDENTIALS.match(name)
            if match:
                refs.append(CredentialRef(match[1], summary.name, key, entry.credential))
    return refs


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


def uses_api_keys(snap: Snapshot) -> bool:
    """Whether any link in scope uses the API-key model (or none is configured yet, in which
    case the supported model is the one to check for)."""
    models = {link.model for link in configured_links(snap, snap.aliases)}
    return not models or API_KEY in models


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
