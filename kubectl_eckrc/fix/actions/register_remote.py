"""register-remote: `PUT _cluster/settings` so the local cluster reaches the remote in proxy mode.

Persistent `cluster.remote.<alias>.mode: proxy`, `proxy_address` (--proxy-address, else the
current address when it is an exposure of the remote RCS, else the exposure's address:
load balancer ip/hostname and port, or a node's ExternalIP (else InternalIP) and the nodePort),
`server_name`
`<remote-es>-es-remote-cluster.<remote-ns>.svc` (or --server-name). The same request sets the
sniff-only settings (`seeds`, `node_connections`) to null, as Elasticsearch refuses a mix,
and nulls transient settings of the alias, which would otherwise shadow the persistent ones.
No restart: remote-cluster settings are dynamic.
"""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck, links
from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix.actions.expose_rcs import usable_addresses
from kubectl_eckrc.fix.diff import unified
from kubectl_eckrc.fix.model import Change, Deferred, Operation, Target
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

ACTION = "register-remote"
SNIFF_ONLY = ("seeds", "node_connections")
PENDING_ADDRESS = "<address of the remote cluster server exposure, once assigned>"


def server_name(snap: Snapshot, options: FixOptions) -> str:
    if options.server_name:
        return options.server_name
    return eck.rcs_server_name(eck.es_name(snap, "remote"), eck.namespace(snap, "remote"))


def proxy_address(snap: Snapshot, options: FixOptions, current: str) -> str:
    """The address to register, or "" when it is only known once an exposure gets one."""
    if options.proxy_address:
        return options.proxy_address
    addresses = usable_addresses(snap)
    if current and current in addresses:
        return current
    return addresses[0] if addresses else ""


def wanted(snap: Snapshot, options: FixOptions, alias: str) -> dict[str, Any]:
    link = links.link_for(snap, alias)
    address = proxy_address(snap, options, link.proxy_address)
    return {"mode": "proxy", "proxy_address": address, "server_name": server_name(snap, options)}


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    alias = options.scope.alias or ""
    if not alias or eck.resource_of(snap, "local") is None:
        return []
    values = wanted(snap, options, alias)
    deferred = not values["proxy_address"]
    if deferred:
        values["proxy_address"] = PENDING_ADDRESS
    if not deferred and _satisfied(snap, alias, values):
        return []
    return [settings_change(ACTION, snap, alias, values, deferred=deferred)]


def _satisfied(snap: Snapshot, alias: str, values: dict[str, Any]) -> bool:
    settings = links.cluster_settings(snap)
    prefix = f"cluster.remote.{alias}."
    if any(k.startswith(prefix) for k in settings["transient"]):
        return False
    persistent = settings["persistent"]
    if any(persistent.get(prefix + k) not in (None, [], "") for k in SNIFF_ONLY):
        return False
    return all(str(persistent.get(prefix + k, "")) == str(v) for k, v in values.items())


def settings_change(
    action: str,
    snap: Snapshot,
    alias: str,
    values: dict[str, Any],
    *,
    deferred: bool = False,
    null_sniff: bool = True,
) -> Change:
    settings = links.cluster_settings(snap)
    prefix = f"cluster.remote.{alias}."
    persistent: dict[str, Any] = {prefix + k: v for k, v in values.items()}
    if null_sniff:
        for key in SNIFF_ONLY:
            if settings["persistent"].get(prefix + key) not in (None, [], ""):
                persistent[prefix + key] = None
    body: dict[str, Any] = {"persistent": persistent}
    transient = {k: None for k in settings["transient"] if k.startswith(prefix)}
    if transient:
        body["transient"] = transient
    before = {
        s: {k: v for k, v in settings[s].items() if k.startswith(prefix)} for s in ("persistent", "transient")
    }
    after = {s: {k: v for k, v in {**before[s], **body.get(s, {})}.items() if v is not None} for s in before}
    target = Target("local", "ClusterSettings", "", f"cluster.remote.{alias}")
    return Change(
        action=action,
        target=target,
        operation=Operation.ES_REQUEST,
        method="PUT",
        path="/_cluster/settings",
        body=body,
        deferred=Deferred.PROXY_ADDRESS if deferred else Deferred.NONE,
        summary=", ".join(f"{k}: {v}" for k, v in values.items()),
        diff=unified(before, after, "_cluster/settings"),
    )
