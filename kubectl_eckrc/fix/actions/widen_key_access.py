"""widen-key-access: `PUT /_security/cross_cluster/api_key/<id>` on the remote, adding a search
entry for the --index patterns the key's access hides (ECKRC508's evidence).

Only when asked for with `fix --widen-key-access`: widening what another cluster may read is a
decision about data, not a repair of a broken link. The key keeps its other search entries
(with their query and field security) and its replication access; no restart (the remote reads
the key's access at each request). Elasticsearch lets only the key's owner update it: the
remote user doctor reads as must be the one that created the key.
"""

from __future__ import annotations

from kubectl_eckrc.findings import Finding
from kubectl_eckrc.fix.diff import unified
from kubectl_eckrc.fix.model import Change, Operation, Target
from kubectl_eckrc.key_access import key_access, patterns_to_grant, with_access
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Snapshot

ACTION = "widen-key-access"


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    alias = options.scope.alias or ""
    if not options.widen_key_access or not alias:
        return []
    access = key_access(snap, alias)
    if access is None:
        return []
    patterns = patterns_to_grant(snap, alias, access)
    if not patterns:
        return []
    path = f"/_security/cross_cluster/api_key/{access.key_id}"
    body = {"access": with_access(access.access, "search", patterns)}
    return [Change(
        action=ACTION,
        target=Target("remote", "CrossClusterApiKey", "", access.name or access.key_id),
        operation=Operation.ES_REQUEST,
        method="PUT",
        path=path,
        body=body,
        summary=f"search access of API key {access.key_id} += {', '.join(patterns)}",
        diff=unified({"access": access.access}, body, f"PUT {path}"),
    )]
