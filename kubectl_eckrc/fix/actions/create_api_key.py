"""create-api-key: a cross-cluster API key from the remote, stored for the local keystore.

1. `POST /_security/cross_cluster/api_key` on the remote (the `elastic` user), named
   `<local-es>-to-<remote-es>-<alias>` (never `eck-*`: ECK may invalidate keys with that
   prefix it does not know), `access.search` from --indices, `access.replication` from
   --replication-indices, `expiration` from --expiration.
2. Its `encoded` value under `cluster.remote.<alias>.credentials` in a user Secret of the
   local namespace: the secureSettings secret that already holds the alias' key, else the
   one secureSettings names but that does not exist, else `remote-api-keys`. Only that one
   key is written; other keys stay.
3. That Secret appended to `spec.secureSettings` (other entries stay). Rolls the local pods.

A key stored under a mistyped alias (the only credential for an unconfigured alias) is moved
to the right key name without ever being read. A broken key (raw `api_key`, REST key,
expired, invalidated) is replaced; the old one is left on the remote and its id reported, so
that the person decides when to invalidate it (other clusters may use it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubectl_eckrc.findings import Finding, Status
from kubectl_eckrc.fix import facts
from kubectl_eckrc.fix.actions.es_patch import es_patch
from kubectl_eckrc.fix.diff import PENDING_API_KEY, unified
from kubectl_eckrc.fix.merge import (
    add_secure_setting_ops,
    apply_json_patch,
    pointer,
    secure_setting_names,
)
from kubectl_eckrc.fix.plan import Change, Target
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import SecretSummary, Snapshot

ACTION = "create-api-key"
DEFAULT_SECRET = "remote-api-keys"
KEY_CHECKS = ("ECKRC403", "ECKRC404")
SKEW_MS = 60_000


def credential_key(alias: str) -> str:
    return f"cluster.remote.{alias}.credentials"


def key_name(snap: Snapshot, alias: str) -> str:
    name = f"{facts.es_name(snap, 'local')}-to-{facts.es_name(snap, 'remote')}-{alias}"
    return f"x-{name}" if name.startswith("eck-") else name


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    es = facts.elasticsearch(snap, "local")
    alias = options.scope.alias or ""
    if es is None or not alias:
        return []
    holder = _holder(snap, es, alias)
    if holder is not None and _credential_ok(snap, findings, holder, alias):
        return _secure_settings(snap, es, holder.name)
    orphan = None if holder is not None else _orphan(snap, es, alias)
    if orphan is not None and _usable(snap, *orphan):
        return [_move(snap, orphan, alias)] + _secure_settings(snap, es, orphan[0].name)
    secret = holder.name if holder is not None else _secret_name(snap, es)
    old_id = _old_key_id(holder, alias)
    changes = [_create_key(snap, alias, options, old_id), _store(snap, secret, alias)]
    if orphan is not None:
        changes.append(_remove_orphan(snap, orphan))
    return changes + _secure_settings(snap, es, secret)


def _secure_secrets(snap: Snapshot, es: dict[str, Any]) -> list[SecretSummary]:
    known = facts.secrets(snap, "local")
    return [known[n] for n in secure_setting_names(es) if n in known]


def _holder(snap: Snapshot, es: dict[str, Any], alias: str) -> SecretSummary | None:
    for summary in _secure_secrets(snap, es):
        if credential_key(alias) in summary.keys:
            return summary
    return None


def _orphan(snap: Snapshot, es: dict[str, Any], alias: str) -> tuple[SecretSummary, str] | None:
    """The only credential stored for an alias the local cluster does not configure."""
    configured = facts.configured_aliases(snap) | {alias}
    found = [
        (s, k)
        for s in _secure_secrets(snap, es)
        for k in s.keys
        if k.startswith("cluster.remote.")
        and k.endswith(".credentials")
        and k[len("cluster.remote.") : -len(".credentials")] not in configured
    ]
    return found[0] if len(found) == 1 else None


def _usable(snap: Snapshot, summary: SecretSummary, key: str) -> bool:
    """Well formed, and the remote does not say the key is bad (unknown counts as usable)."""
    cred = summary.keys[key].credential
    if cred is None or not cred.well_formed:
        return False
    info = _api_key_info(snap, cred.key_id)
    return info is None or _info_ok(snap, info)


def _info_ok(snap: Snapshot, info: dict[str, Any]) -> bool:
    if not info:
        return False
    expiration = info.get("expiration")
    # A key that expires within the clock-skew margin is as good as expired.
    expired = isinstance(expiration, int | float) and expiration <= _epoch_ms(snap.taken_at) + SKEW_MS
    return (
        info.get("type", "cross_cluster") == "cross_cluster" and not info.get("invalidated") and not expired
    )


def _api_key_info(snap: Snapshot, key_id: str) -> dict[str, Any] | None:
    remote = facts.side(snap, "remote")
    if remote is None or not key_id or isinstance(remote.es, facts.Unavailable):
        return None
    read = remote.es.api_keys.get(key_id)
    if not isinstance(read, dict):
        return None
    keys = read.get("api_keys")
    if isinstance(keys, list):
        return keys[0] if keys else {}
    return read


def _credential_ok(snap: Snapshot, findings: list[Finding], holder: SecretSummary, alias: str) -> bool:
    if any(f.id in KEY_CHECKS and f.alias in (alias, None) and f.status is Status.FAIL for f in findings):
        return False
    return _usable(snap, holder, credential_key(alias))


def _epoch_ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def _secret_name(snap: Snapshot, es: dict[str, Any]) -> str:
    """A secureSettings secret that is named but missing is the one the person meant."""
    known = facts.secrets(snap, "local")
    owned = facts.es_names_in_namespace(snap, "local")
    for name in secure_setting_names(es):
        if name not in known and not facts.is_eck_owned_name(name, owned):
            return name
    return DEFAULT_SECRET


def _old_key_id(holder: SecretSummary | None, alias: str) -> str:
    if holder is None:
        return ""
    cred = holder.keys[credential_key(alias)].credential
    return cred.key_id if cred is not None else ""


def _create_key(snap: Snapshot, alias: str, options: FixOptions, old_id: str = "") -> Change:
    access: dict[str, Any] = {}
    if options.indices or not options.replication_indices:
        access["search"] = [{"names": list(options.indices or ("*",))}]
    if options.replication_indices:
        access["replication"] = [{"names": list(options.replication_indices)}]
    body: dict[str, Any] = {
        "name": key_name(snap, alias),
        "access": access,
        "metadata": {
            "created_by": "kubectl-eckrc",
            "alias": alias,
            "local": f"{facts.namespace(snap, 'local')}/{facts.es_name(snap, 'local')}",
        },
    }
    if options.expiration:
        body["expiration"] = options.expiration
    target = Target("remote", "CrossClusterApiKey", "", body["name"])
    return Change(
        action=ACTION,
        target=target,
        operation="es-request",
        method="POST",
        path="/_security/cross_cluster/api_key",
        body=body,
        produces_api_key=True,
        summary=f"create cross-cluster API key {body['name']} (search: "
        f"{', '.join(access.get('search', [{}])[0].get('names', [])) or '-'})"
        + (
            f"; replaces key {old_id}, left valid on the remote: invalidate it by hand once unused"
            if old_id
            else ""
        ),
        diff=unified(None, body, "POST /_security/cross_cluster/api_key"),
    )


def _store(snap: Snapshot, secret: str, alias: str) -> Change:
    ns = facts.namespace(snap, "local")
    key = credential_key(alias)
    target = Target("local", "Secret", ns, secret)
    known = facts.secrets(snap, "local").get(secret)
    if known is None:
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": secret,
                "namespace": ns,
                "labels": {"app.kubernetes.io/managed-by": "kubectl-eckrc"},
            },
            "data": {key: PENDING_API_KEY},
        }
        return Change(
            action=ACTION,
            target=target,
            operation="create",
            credential_key=key,
            body=body,
            restarts="local",
            summary=f"{key}: the new key's encoded value",
            diff=unified(None, body, target.label, secret=True),
        )
    before = _masked_data(known)
    after = {"data": {**before["data"], key: PENDING_API_KEY}}
    return Change(
        action=ACTION,
        target=target,
        operation="patch",
        patch_type="merge",
        credential_key=key,
        body={"data": {key: PENDING_API_KEY}},
        restarts="local",
        summary=f"{key}: the new key's encoded value (other keys unchanged)",
        diff=unified(before, after, target.label),
    )


def _move(snap: Snapshot, orphan: tuple[SecretSummary, str], alias: str) -> Change:
    summary, old = orphan
    ops = [{"op": "move", "from": pointer("data", old), "path": pointer("data", credential_key(alias))}]
    return _secret_keys_patch(snap, summary, ops,
                              f"rename key {old} -> {credential_key(alias)} (value not read)")


def _remove_orphan(snap: Snapshot, orphan: tuple[SecretSummary, str]) -> Change:
    summary, old = orphan
    ops = [{"op": "remove", "path": pointer("data", old)}]
    return _secret_keys_patch(snap, summary, ops,
                              f"remove {old}: a broken credential for an alias that is not configured")


def _secret_keys_patch(snap: Snapshot, summary: SecretSummary, ops: list[dict[str, Any]],
                       text: str) -> Change:
    """A JSON patch on a Secret's keys; its diff shows sizes and fingerprints, never values."""
    target = Target("local", "Secret", facts.namespace(snap, "local"), summary.name)
    before = _masked_data(summary)
    return Change(
        action=ACTION,
        target=target,
        operation="patch",
        patch_type="json",
        body=ops,
        restarts="local",
        summary=text,
        diff=unified(before, apply_json_patch(before, ops), target.label),
    )


def _masked_data(summary: SecretSummary) -> dict[str, Any]:
    """The Secret's data as its diff shows it: the snapshot's sizes and fingerprints, never values."""
    return {"data": {k: f"<{v.size} bytes, sha256 {v.sha256}>" for k, v in summary.keys.items()}}


def _secure_settings(snap: Snapshot, es: dict[str, Any], secret: str) -> list[Change]:
    ops = add_secure_setting_ops(es, secret)
    if not ops:
        return []
    return [es_patch(snap, "local", es, ops, action=ACTION, restarts="local",
                     summary=f"spec.secureSettings += {secret}")]
