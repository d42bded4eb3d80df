"""fix-server-name: `PUT _cluster/settings` with only `cluster.remote.<alias>.server_name`.

The name the local client sends as SNI and verifies in the remote certificate:
`<remote-es>-es-remote-cluster.<remote-ns>.svc` (a SAN of every RCS certificate ECK issues),
or --server-name. Never an IP address. No restart.
"""

from __future__ import annotations

from kubectl_eckrc import links
from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix.actions.register_remote import server_name, settings_change
from kubectl_eckrc.fix.model import Change
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

ACTION = "fix-server-name"


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    alias = options.scope.alias or ""
    if not alias:
        return []
    link = links.link_for(snap, alias)
    name = server_name(snap, options)
    if link.server_name == name:
        return []
    return [settings_change(ACTION, snap, alias, {"server_name": name}, null_sniff=False)]
