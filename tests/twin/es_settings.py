"""Cluster settings of the twin: flat/nested forms, validation with Elasticsearch's texts, and
the effective `cluster.remote.<alias>.*` configuration of one node."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.twin.es_errors import illegal_argument
from tests.twin.es_signing import alias_signing, is_secure_setting, is_signing_setting

REMOTE_PREFIX = "cluster.remote."
# The dynamic `cluster.remote.<alias>.*` settings (RemoteClusterSettings); any other suffix is
# unknown. `cluster.remote.connect` was removed in 8.0 (node.roles remote_cluster_client).
REMOTE_KEYS = (
    "mode",
    "seeds",
    "proxy",
    "proxy_address",
    "server_name",
    "skip_unavailable",
    "proxy_socket_connections",
    "node_connections",
    "transport.compress",
    "transport.compression_scheme",
    "transport.ping_schedule",
)
SNIFF_ONLY = ("seeds", "proxy", "node_connections")
PROXY_ONLY = ("proxy_address", "proxy_socket_connections", "server_name")
# RemoteConnectionEnabled: refused unless the alias has a proxy_address (proxy) or seeds (sniff).
NEED_CONNECTION = (
    "skip_unavailable",
    "transport.compress",
    "transport.compression_scheme",
    "transport.ping_schedule",
)
# Recognised but not dynamic: refused by PUT _cluster/settings like in Elasticsearch.
STATIC_PATTERNS = (
    r"cluster\.remote\.[^.]+\.credentials",
    r"cluster\.remote\.initial_connect_timeout",
    r"cluster\.remote\.node\.attr",
    r"cluster\.remote\.connections_per_cluster",
    r"remote_cluster_server\.enabled",
    r"xpack\.security\..*",
    r"node\..*",
    r"path\..*",
    r"network\..*",
    r"transport\.port",
    r"http\.port",
)
DYNAMIC_PREFIXES = (
    "cluster.routing.",
    "logger.",
    "indices.",
    "action.",
    "xpack.monitoring.",
    "search.",
    "cluster.max_shards_per_node",
    "cluster.info.",
    "cluster.blocks.",
    "ingest.",
    "cluster.indices.",
    "cluster.persistent_tasks.",
)
DEFAULT_PROXY_SOCKETS = 18
DEFAULT_NODE_CONNECTIONS = 3

def to_setting_value(value: Any) -> Any:
    """Elasticsearch keeps setting values as strings (lists of strings for lists)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [to_setting_value(v) for v in value]
    return str(value)


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{full}."))
        else:
            flat[full] = to_setting_value(value)
    return flat


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key in sorted(flat):
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # a leaf and a subtree share a prefix: keep flat
                node = nested
                parts = [key]
                break
            node = child
        node[parts[-1]] = flat[key]
    return nested


@dataclass(frozen=True)
class RemoteConfig:
    """The effective `cluster.remote.<alias>.*` settings of one node."""

    alias: str
    mode: str
    proxy_address: str
    server_name: str
    seeds: tuple[str, ...]
    skip_unavailable: bool
    proxy_socket_connections: int
    node_connections: int
    initial_connect_timeout: str = "30s"
    signing: tuple[tuple[str, str], ...] = ()  # the alias's signing settings (es_signing.py)

    @property
    def configured(self) -> bool:
        return bool(self.proxy_address) if self.mode == "proxy" else bool(self.seeds)


def skip_unavailable_default(version: tuple[int, int, int]) -> bool:
    """`cluster.remote.<alias>.skip_unavailable` defaults to true from 8.15 on (false before); 9.x
    keeps true (RemoteClusterSettings.DEFAULT_SKIP_UNAVAILABLE)."""
    return version >= (8, 15, 0)


def remote_configs(flat: Mapping[str, Any], skip_unavailable_default: bool = True) -> dict[str, RemoteConfig]:
    """Every alias of the effective settings that has an address to connect to.

    `skip_unavailable` defaults to true from Elasticsearch 8.15 on, false before.
    """
    aliases = {
        m.group(1)
        for k in flat
        if (m := re.fullmatch(r"cluster\.remote\.([^.]+)\.(.+)", k)) and m.group(2) in REMOTE_KEYS
    }
    configs = {alias: _remote_config(alias, flat, skip_unavailable_default) for alias in sorted(aliases)}
    return {alias: config for alias, config in configs.items() if config.configured}


def _remote_config(alias: str, flat: Mapping[str, Any], skip_default: bool) -> RemoteConfig:
    def get(key: str, default: Any) -> Any:
        value = flat.get(f"{REMOTE_PREFIX}{alias}.{key}")
        return default if value is None else value

    seeds = get("seeds", [])
    seeds = [s.strip() for s in seeds.split(",")] if isinstance(seeds, str) else list(seeds)
    return RemoteConfig(
        alias=alias,
        mode=str(get("mode", "sniff")).lower(),
        proxy_address=str(get("proxy_address", "")),
        server_name=str(get("server_name", "")),
        seeds=tuple(s for s in seeds if s),
        skip_unavailable=str(get("skip_unavailable", "true" if skip_default else "false")).lower() == "true",
        proxy_socket_connections=int(get("proxy_socket_connections", DEFAULT_PROXY_SOCKETS)),
        node_connections=int(get("node_connections", DEFAULT_NODE_CONNECTIONS)),
        initial_connect_timeout=str(flat.get("cluster.remote.initial_connect_timeout") or "30s"),
        signing=alias_signing(flat, alias),
    )


class ClusterSettings:
    """Persistent and transient cluster settings (flat, string values), validated on update."""

    def __init__(self, signing: bool = False) -> None:
        self.signing = signing  # 9.3+ knows the strong identity (signing) settings
        self.persistent: dict[str, Any] = {}
        self.transient: dict[str, Any] = {}
        self._lock = threading.Lock()

    def effective(self, node_config: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {**flatten(node_config), **self.persistent, **self.transient}

    def update(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Apply a PUT body; returns the (persistent, transient) settings it set, flat."""
        updates = {scope: flatten(body.get(scope) or {}) for scope in ("persistent", "transient")}
        with self._lock:
            results = {}
            for scope in ("transient", "persistent"):  # SettingsUpdater's order
                changes, current = updates[scope], getattr(self, scope)
                for key, value in changes.items():
                    _check_key(scope, key, self.signing)
                    if value is not None:
                        _check_value(key, value)
                merged = _apply(current, changes)
                _check_strategies(merged)
                results[scope] = merged
            self.persistent, self.transient = results["persistent"], results["transient"]
        return (
            {k: v for k, v in updates["persistent"].items() if v is not None},
            {k: v for k, v in updates["transient"].items() if v is not None},
        )


def _apply(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            prefix = key[:-1] if key.endswith("*") else None
            for existing in [k for k in merged if k == key or (prefix and k.startswith(prefix))]:
                del merged[existing]
        else:
            merged[key] = value
    return merged


def _check_key(scope: str, key: str, signing: bool = False) -> None:
    bare = key[:-1] if key.endswith("*") else key
    if signing and is_signing_setting(key):
        if is_secure_setting(key):
            raise illegal_argument(f"{scope} setting [{key}], not dynamically updateable")
        return
    remote = re.fullmatch(r"cluster\.remote\.([^.]+)\.(.+)", key)
    if remote and remote.group(2) in REMOTE_KEYS:
        return
    if key.endswith("*") and bare.startswith(REMOTE_PREFIX):
        return
    if any(re.fullmatch(p, key) for p in STATIC_PATTERNS):
        raise illegal_argument(f"{scope} setting [{key}], not dynamically updateable")
    if not any(bare.startswith(prefix) for prefix in DYNAMIC_PREFIXES):
        raise illegal_argument(f"{scope} setting [{key}], not recognized")


def _check_value(key: str, value: Any) -> None:
    """AbstractScopedSettings.updateSettings: `validateWithoutDependencies` parses the value and
    runs its validator; their IllegalArgumentException is the answer as it is (not wrapped)."""
    name = key.rsplit(".", 1)[-1] if ".transport." not in key else "transport"
    problem = _value_problem(name, value, key)
    if problem is not None:
        raise illegal_argument(problem)


def _value_problem(name: str, value: Any, key: str) -> str | None:
    if name == "mode" and str(value).lower() not in ("sniff", "proxy"):
        return (
            f"No enum constant org.elasticsearch.transport.RemoteConnectionStrategy.ConnectionStrategy."
            f"{str(value).upper()}"
        )
    if name == "skip_unavailable" and value not in ("true", "false"):
        return f"Failed to parse value [{value}] as only [true] or [false] are allowed."
    if name in ("proxy_socket_connections", "node_connections") and (
        not str(value).isdigit() or int(value) < 1
    ):
        return f"Failed to parse value [{value}] for setting [{key}] must be >= 1"
    if name == "proxy_address" and value:
        return _address_problem(str(value))
    if name == "seeds":
        for seed in value if isinstance(value, list) else str(value).split(","):
            if seed.strip() and (problem := _address_problem(seed.strip())):
                return problem
    return None


def _address_problem(address: str) -> str | None:
    """RemoteConnectionStrategy.parsePort: only the text after the last colon is checked, as a
    Java int above 0; the host is not looked at until a connection is made."""
    _, sep, port = address.rpartition(":")
    if not sep:
        return f"remote hosts need to be configured as [host:port], found [{address}] instead"
    if not re.fullmatch(r"[-+]?\d+", port) or not -(2**31) <= int(port) < 2**31:
        return "failed to parse port"
    if int(port) <= 0:
        return f"port number must be > 0 but was: [{int(port)}]"
    return None


def _check_strategies(flat: Mapping[str, Any]) -> None:
    aliases = {m.group(1) for k in flat if (m := re.fullmatch(r"cluster\.remote\.([^.]+)\.(.+)", k))}
    for alias in sorted(aliases):
        mode = str(flat.get(f"{REMOTE_PREFIX}{alias}.mode", "sniff")).lower()
        address = flat.get(f"{REMOTE_PREFIX}{alias}.{'proxy_address' if mode == 'proxy' else 'seeds'}")
        for name in NEED_CONNECTION:
            key = f"{REMOTE_PREFIX}{alias}.{name}"
            if key in flat and address in (None, "", []):
                raise illegal_argument(f"Cannot configure setting [{key}] if remote cluster is not enabled.")
        wrong, required = (SNIFF_ONLY, "SNIFF") if mode == "proxy" else (PROXY_ONLY, "PROXY")
        for name in wrong:
            key = f"{REMOTE_PREFIX}{alias}.{name}"
            if flat.get(key) not in (None, "", []):
                raise illegal_argument(
                    f'Setting "{key}" cannot be used with the configured "{REMOTE_PREFIX}{alias}.mode" '
                    f"[required={required}, configured={mode.upper()}]"
                )
