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

from typing import Any

from kubectl_eckrc import eck, links, pki
from kubectl_eckrc.findings import Finding, Status
from kubectl_eckrc.fix.actions.es_patch import es_patch
from kubectl_eckrc.fix.diff import PENDING_API_KEY, unified
from kubectl_eckrc.fix.merge import (
    add_secure_setting_ops,
    apply_json_patch,
    pointer,
    secure_setting_names,
)
from kubectl_eckrc.fix.model import Change, Operation, PatchType, Restart, Target
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import SecretSummary, Snapshot, Unavailable

ACTION = "create-api-key"
DEFAULT_SECRET = "remote-api-keys"
KEY_CHECKS = ("ECKRC403", "ECKRC404")

credential_key = links.credential_setting


def key_name(snap: Snapshot, alias: str) -> str:
    name = f"{eck.es_name(snap, 'local')}-to-{eck.es_name(snap, 'remote')}-{alias}"
    return f"x-{name}" if name.startswith("eck-") else name


def plan(snap: Snapshot, findings: list[Finding], options: FixOptions) -> list[Change]:
    es = eck.resource_of(snap, "local")
    alias = options.scope.alias or ""
    if es is None or not alias:
        return []
    holder = _holder(snap, alias)
    if holder is not None and _credential_ok(snap, findings, holder, alias):
        return _secure_settings(snap, es, holder.secret)
    orphan = None if holder is not None else _orphan(snap, alias)
    if orphan is not None and _usable(snap, orphan):
        return [_move(snap, orphan, alias)] + _secure_settings(snap, es, orphan.secret)
    secret = holder.secret if holder is not None else _secret_name(snap, es)
    old_id = holder.info.key_id if holder is not None and holder.info is not None else ""
    changes = [_create_key(snap, alias, options, old_id), _store(snap, secret, alias)]
    if orphan is not None:
        changes.append(_remove_orphan(snap, orphan))
    return changes + _secure_settings(snap, es, secret)


def _holder(snap: Snapshot, alias: str) -> links.CredentialRef | None:
    """The secureSettings entry that gives the alias its credential (ECKRC402's evidence)."""
    return next((ref for ref in links.credential_refs(snap) if ref.alias == alias), None)


def _orphan(snap: Snapshot, alias: str) -> links.CredentialRef | None:
    """The only credential stored for an alias the local cluster does not configure (a key
    name with a typo), stored under its own name: moving it renames the key."""
    configured = {*links.configured_aliases(snap), alias}
    found = [ref for ref in links.credential_refs(snap)
             if ref.alias not in configured and ref.key == credential_key(ref.alias)]
    return found[0] if len(found) == 1 else None


def _usable(snap: Snapshot, ref: links.CredentialRef) -> bool:
    """Well formed, and the remote does not say the key is bad (unknown counts as usable)."""
    if ref.info is None or not ref.info.well_formed:
        return False
    remote = eck.side_of(snap, "remote")
    if remote is None or isinstance(remote.es, Unavailable):
        return True
    answer = remote.es.api_keys.get(ref.info.key_id)
    if not isinstance(answer, dict):
        return True  # not looked up or not readable: nothing says it is bad
    entry = links.remote_api_key(answer, ref.info.key_id)
    return not links.api_key_problem(entry, pki.parse_time(snap.taken_at))


def _credential_ok(snap: Snapshot, findings: list[Finding], holder: links.CredentialRef, alias: str) -> bool:
    if any(f.id in KEY_CHECKS and f.alias in (alias, None) and f.status is Status.FAIL for f in findings):
        return False
    return _usable(snap, holder)


def _secret_name(snap: Snapshot, es: dict[str, Any]) -> str:
    """A secureSettings secret that is named but missing is the one the person meant."""
    known = eck.secrets(snap, "local")
    owned = eck.es_names_in_namespace(snap, "local")
    for name in secure_setting_names(es):
        if name not in known and not eck.is_eck_owned_name(name, owned):
            return name
    return DEFAULT_SECRET


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
            "local": f"{eck.namespace(snap, 'local')}/{eck.es_name(snap, 'local')}",
        },
    }
    if options.expiration:
        body["expiration"] = options.expiration
    target = Target("remote", "CrossClusterApiKey", "", body["name"])
    return Change(
        action=ACTION,
        target=target,
        operation=Operation.ES_REQUEST,
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
    ns = eck.namespace(snap, "local")
    key = credential_key(alias)
    target = Target("local", "Secret", ns, secret)
    known = eck.secrets(snap, "local").get(secret)
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
            operation=Operation.CREATE,
            credential_key=key,
            body=body,
            restarts=Restart.LOCAL,
            summary=f"{key}: the new key's encoded value",
            diff=unified(None, body, target.label, secret=True),
        )
    before = _masked_data(known)
    after = {"data": {**before["data"], key: PENDING_API_KEY}}
    return Change(
        action=ACTION,
        target=target,
        operation=Operation.PATCH,
        patch_type=PatchType.MERGE,
        credential_key=key,
        body={"data": {key: PENDING_API_KEY}},
        restarts=Restart.LOCAL,
        summary=f"{key}: the new key's encoded value (other keys unchanged)",
        diff=unified(before, after, target.label),
    )


def _move(snap: Snapshot, orphan: links.CredentialRef, alias: str) -> Change:
    summary, old = eck.secrets(snap, "local")[orphan.secret], orphan.key
    ops = [{"op": "move", "from": pointer("data", old), "path": pointer("data", credential_key(alias))}]
    return _secret_keys_patch(snap, summary, ops,
                              f"rename key {old} -> {credential_key(alias)} (value not read)")


def _remove_orphan(snap: Snapshot, orphan: links.CredentialRef) -> Change:
    summary, old = eck.secrets(snap, "local")[orphan.secret], orphan.key
    ops = [{"op": "remove", "path": pointer("data", old)}]
    return _secret_keys_patch(snap, summary, ops,
                              f"remove {old}: a broken credential for an alias that is not configured")


def _secret_keys_patch(snap: Snapshot, summary: SecretSummary, ops: list[dict[str, Any]],
                       text: str) -> Change:
    """A JSON patch on a Secret's keys; its diff shows sizes and fingerprints, never values."""
    target = Target("local", "Secret", eck.namespace(snap, "local"), summary.name)
    before = _masked_data(summary)
    return Change(
        action=ACTION,
        target=target,
        operation=Operation.PATCH,
        patch_type=PatchType.JSON,
        body=ops,
        restarts=Restart.LOCAL,
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
    return [es_patch(snap, "local", es, ops, action=ACTION, restarts=Restart.LOCAL,
                     summary=f"spec.secureSettings += {secret}")]
