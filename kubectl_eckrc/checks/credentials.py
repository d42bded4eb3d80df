"""4xx: the local keystore holds a valid cross-cluster API key for each alias."""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck, links, pki
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.spec import (
    API_KEY_LINK,
    ERROR,
    LINK,
    LOCAL,
    CheckSpec,
    NotEvaluated,
    check,
    failed,
    need,
    not_evaluated,
    passed,
    warned,
)
from kubectl_eckrc.findings import Verdict
from kubectl_eckrc.snapshot import Snapshot, Unavailable

EXPIRY_WARNING_DAYS = 30
# Texts the remote cluster answers with when the credential itself is refused.
AUTH_ERRORS = ("unable to authenticate", "invalid credentials", "unable to find apikey",
               "api key is expired", "has been invalidated", "invalid cross-cluster api key")


@check("ECKRC401", severity=ERROR, side=LOCAL, requires=("ECKRC101",), covers=("F15",))
def secure_settings_exist(snap: Snapshot) -> Verdict:
    """Every secureSettings secret exists in the local namespace

    ECK builds the keystore from the secrets listed in `spec.secureSettings` of the local
    Elasticsearch. A secret that does not exist is skipped silently (only a Warning event
    `Secure settings secret not found` tells), so its credentials never reach the keystore.

    On a real cluster: the secrets named in `spec.secureSettings`, through the local context
    (not evaluated without permission to read secrets); a secret created after the pods
    started is present here but not in the keystore (ECKRC405).

    Fix by hand: create the secret in the local Elasticsearch namespace, or correct its name
    in `spec.secureSettings`.
    """
    es = reads.resource(snap.local)
    settings = eck.secure_settings(es)
    if not settings:
        return passed("spec.secureSettings lists no secret", secureSettings=[])
    missing = [s.secret_name for s in settings if reads.secret(snap.local, s.secret_name) is None]
    names = [s.secret_name for s in settings]
    if missing:
        return failed(f"secureSettings names {', '.join(missing)}, which does not exist in "
                      f"{snap.local.namespace}",
                      f"create secret {missing[0]} in namespace {snap.local.namespace} (a secret in another "
                      "namespace is not seen), or correct the name in spec.secureSettings",
                      missing=missing, secureSettings=names)
    return passed(f"secureSettings secrets exist: {', '.join(names)}", secureSettings=names)


def _missing_secrets(snap: Snapshot) -> list[str]:
    es = reads.resource(snap.local)
    return [s.secret_name for s in eck.secure_settings(es) if reads.secret(snap.local, s.secret_name) is None]


def _credentials(snap: Snapshot, alias: str) -> list[links.CredentialRef]:
    es = reads.resource(snap.local)
    for setting in eck.secure_settings(es):
        reads.secret(snap.local, setting.secret_name)  # NotEvaluated when secrets cannot be read
    return list(links.link_for(snap, alias).credentials)


@check("ECKRC402", severity=ERROR, side=LINK, requires=("ECKRC501",), fix="create-api-key", covers=("F9",),
       applies_to=API_KEY_LINK)
def credentials_entry(snap: Snapshot, alias: str) -> Verdict:
    """A credentials entry exists for the alias, and none for an alias not configured

    A secureSettings secret must hold the key `cluster.remote.<alias>.credentials`, with
    exactly the alias of the cluster settings. An entry for an alias that is not configured is
    usually a typo of the real one, and the remote answers
    `require transport header [_cross_cluster_access_credentials] but none found`.

    On a real cluster: the keys of the secureSettings secrets (and `entries` mappings);
    without permission to read secrets this check is not evaluated, and what the running
    keystore holds comes from `_remote/info` (ECKRC405).

    Fix by hand: store the encoded API key under `cluster.remote.<alias>.credentials` (same
    alias as the cluster settings) in a secret listed in `spec.secureSettings`.
    """
    mine = _credentials(snap, alias)
    configured = set(links.registered_aliases(snap))
    strays = [ref for ref in links.all_credentials(snap) if ref.alias not in configured]
    stray_text = ", ".join(f"cluster.remote.{r.alias}.credentials in secret {r.secret}" for r in strays)
    if not mine:
        if strays:
            return failed(f"no credentials for alias {alias}; found {stray_text}",
                          f"the alias differs: rename the key to cluster.remote.{alias}.credentials (or "
                          f"register the remote as {strays[0].alias})",
                          expected=f"cluster.remote.{alias}.credentials", found=[r.alias for r in strays],
                          keys=[f"{r.secret}/{r.key}" for r in strays])  # what create-api-key renames
        missing = _missing_secrets(snap)
        return failed(f"no secureSettings secret provides cluster.remote.{alias}.credentials",
                      f"secureSettings names {', '.join(missing)}, which does not exist (ECKRC401)" if missing
                      else "create a cross-cluster API key on the remote, store its `encoded` value under "
                      "that key in a secret of the local namespace, and list it in spec.secureSettings",
                      expected=f"cluster.remote.{alias}.credentials")
    evidence = {"secret": mine[0].secret, "key": mine[0].key}
    if strays:
        return warned(f"credentials for {alias} found, and also {stray_text}",
                      "an entry for an alias that is not configured is unused: remove it or fix its name",
                      **evidence, strays=[r.alias for r in strays])
    return passed(f"secret {mine[0].secret} provides cluster.remote.{alias}.credentials", **evidence)


@check("ECKRC403", severity=ERROR, side=LINK, requires=("ECKRC402",), fix="create-api-key", covers=("F12",),
       applies_to=API_KEY_LINK)
def credential_well_formed(snap: Snapshot, alias: str) -> Verdict:
    """The credential is an encoded API key (base64 of id:key)

    The value to store is the `encoded` field of the create-API-key response. Storing the
    `api_key` field, or a damaged value, fails the remote's authentication with
    `unable to authenticate user [...] for action [cluster:internal/remote_cluster/handshake]`.

    On a real cluster: the value in the secret, decoded in memory and never printed; the
    keystore of running pods may hold an older value (ECKRC405).

    Fix by hand: replace the value with the `encoded` field of the create-API-key response.
    """
    refs = _credentials(snap, alias)
    if not refs:
        return not_evaluated(f"no credentials entry for {alias}")
    ref = refs[0]
    if ref.info is None:
        return not_evaluated(f"the value of {ref.secret}/{ref.key} was not classified by the collector")
    evidence = {"secret": ref.secret, "key": ref.key, "sha256": ref.info.sha256}
    if not ref.info.well_formed:
        return failed(f"{ref.secret}/{ref.key} is not an encoded API key: {ref.info.problem}",
                      "store the `encoded` value of the create response (base64 of id:api_key), not the "
                      "`api_key` field", **evidence)
    return passed(f"{ref.secret}/{ref.key} holds API key id {ref.info.key_id}", keyId=ref.info.key_id,
                  **evidence)


def key_id(snap: Snapshot, alias: str) -> str:
    refs = _credentials(snap, alias)
    if not refs or refs[0].info is None or not refs[0].info.key_id:
        raise NotEvaluated(f"no well-formed credential for {alias}")
    return refs[0].info.key_id


def remote_key(snap: Snapshot, alias: str, key: str) -> dict[str, Any] | None:
    remote = reads.remote_for(snap, alias)
    es = reads.es_api(remote)
    if key not in es.api_keys:
        raise NotEvaluated(f"API key {key} was not looked up on the remote",
                           "grant manage_api_key (or manage_security) to the remote Elasticsearch user")
    read = es.api_keys[key]
    if isinstance(read, Unavailable) and read.kind == "not-found":
        return None  # a 404 for the id: the remote has no such key, which is the finding itself
    return links.remote_api_key(need(read, f"API key {key} on the remote"), key)


@check("ECKRC404", severity=ERROR, side=LINK, requires=("ECKRC403",), fix="create-api-key",
       covers=("F11", "F12"), applies_to=API_KEY_LINK)
def remote_key_valid(snap: Snapshot, alias: str) -> Verdict:
    """The API key exists on the remote, is cross-cluster, not invalidated, not expired

    The key id in the local credential must name a key of the remote cluster
    (`GET /_security/api_key?id=`) with `type: cross_cluster` (a REST key fails with
    `expected API key type of [cross_cluster]`), not invalidated and not expired. A key created
    on another cluster is not found. Expiry within 30 days is a warning.

    On a real cluster: `GET _security/api_key?id=` on the remote with doctor's remote user
    (a 404 means the remote has no such key); without remote access or `manage_api_key` it
    is not evaluated, and only the link's own error can tell.

    Fix by hand: create a new key on the remote with `POST /_security/cross_cluster/api_key`
    (not named `eck-*`) and store its encoded value.
    """
    kid = key_id(snap, alias)
    entry = remote_key(snap, alias, kid)
    now = pki.parse_time(snap.taken_at)
    problem = links.api_key_problem(entry, now)
    if entry is None:
        return failed(f"the remote has no API key {kid}",
                      "the credential comes from another cluster, or the key was deleted: create a new "
                      "cross-cluster key on the remote", keyId=kid)
    evidence = {"keyId": kid, "name": entry.get("name", ""), "type": entry.get("type", "rest")}
    if problem == "type":
        return failed(f"API key {kid} has type {entry.get('type', 'rest')}, not cross_cluster",
                      "create it with POST /_security/cross_cluster/api_key: a REST key cannot be used",
                      **evidence)
    if problem == "invalidated":
        return failed(f"API key {kid} is invalidated", "create a new cross-cluster key", **evidence)
    expiry = links.api_key_expiry(entry)
    if expiry is not None:
        evidence["expiration"] = pki.iso(expiry)
        days = (expiry - now).total_seconds() / 86400
        if problem == "expired":
            return failed(f"API key {kid} expired on {pki.iso(expiry)}", "create a new cross-cluster key",
                          **evidence)
        if days < EXPIRY_WARNING_DAYS:
            return warned(f"API key {kid} expires in {int(days)} days", "rotate it before it expires",
                          **evidence)
    return passed(f"remote key {kid} ({entry.get('name', '')}) is a valid cross_cluster key", **evidence)


@check("ECKRC405", severity=ERROR, side=LINK, requires=("ECKRC402",), covers=("F9", "F20"),
       applies_to=API_KEY_LINK)
def keystore_loaded(snap: Snapshot, alias: str) -> Verdict:
    """The keystore holds the credential (`_remote/info` shows cluster_credentials)

    `_remote/info` shows `cluster_credentials` only when the keystore of the nodes holds
    `cluster.remote.<alias>.credentials`. ECK builds the keystore at pod start, so a secret
    added or changed after the pods started is not used until they roll. The signs of a
    pending rollout are pods whose `config-hash` annotation differs from their StatefulSet's
    template (config and secure settings) or whose `controller-revision-hash` is not the
    StatefulSet's `updateRevision` (any podTemplate change, such as a CA volume), the nodes
    ECK's status lists under `inProgressOperations.upgrade` (with the predicate that holds a
    node back, such as a change budget of zero), or the phase ApplyingChanges. When the
    keystore holds a credential but the remote
    refuses it while the key in the secret is valid, the pods still run with an older value.

    On a real cluster: `_remote/info` of the node doctor reaches and the pods' config-hash
    annotations; other nodes may have started with another keystore.

    Fix by hand: wait for the pending rollout; without one, restart the local Elasticsearch
    pods (e.g. an annotation change in the podTemplate) so that ECK rebuilds the keystore.
    """
    es = reads.es_api(snap.local)
    info = need(es.remote_info, "_remote/info")
    entry = info.get(alias)
    if not isinstance(entry, dict):
        return not_evaluated(f"_remote/info has no entry for {alias}")
    pending = rollout_pending(snap)
    if "cluster_credentials" not in entry:
        evidence = {"clusterCredentials": False, "rollout": pending or "none pending"}
        if pending:
            return failed(f"the keystore does not hold cluster.remote.{alias}.credentials yet",
                          f"a rollout is pending ({pending}): the keystore is built at pod start; "
                          + _wait_for(pending, "wait for it to finish"), **evidence)
        return failed(f"the keystore does not hold cluster.remote.{alias}.credentials",
                      "the pods started before the secret was listed in secureSettings or got the key: "
                      "restart the local pods (ECK rolls them when spec.secureSettings changes)", **evidence)
    return _stale_keystore(snap, alias, pending)


def _stale_keystore(snap: Snapshot, alias: str, pending: str) -> Verdict:
    error = resolve_error(snap, alias)
    if error and any(text in error.lower() for text in AUTH_ERRORS) and _secret_key_valid(snap, alias):
        wait = _wait_for(pending, "wait for it")
        return failed("the keystore holds an older credential than the secret",
                      "the secret was changed after the pods started; the remote refuses the old key. "
                      + (f"A rollout is pending ({pending}): {wait}." if pending else
                         "Restart the local pods so that ECK rebuilds the keystore."),
                      error=error, rollout=pending or "none pending")
    return passed(f"_remote/info shows cluster_credentials for {alias}", clusterCredentials=True)


def _wait_for(pending: str, wait: str) -> str:
    """Waiting helps unless ECK says a predicate keeps it from restarting the nodes."""
    if MAX_UNAVAILABLE_PREDICATE in pending:
        return ("ECK restarts no pod while spec.updateStrategy.changeBudget.maxUnavailable allows none to "
                "be down: raise it, or restart the pods yourself")
    return wait


def _secret_key_valid(snap: Snapshot, alias: str) -> bool:
    try:
        entry = remote_key(snap, alias, key_id(snap, alias))
    except NotEvaluated:
        return False
    return links.api_key_problem(entry, pki.parse_time(snap.taken_at)) in ("", "expired")


def resolve_error(snap: Snapshot, alias: str) -> str:
    es = snap.local.es
    if isinstance(es, Unavailable):
        return ""
    answer = es.resolve_cluster.get(alias)
    if not isinstance(answer, dict):
        return ""
    entry = answer.get(alias) or {}
    return str(entry.get("error") or "") if isinstance(entry, dict) else ""


# The predicate ECK's status names when the change budget allows no pod down (upgrade_predicates.go).
MAX_UNAVAILABLE_PREDICATE = "do_not_restart_healthy_node_if_MaxUnavailable_reached"


def rollout_pending(snap: Snapshot) -> str:
    """Why the local pods do not run the current spec yet, "" when nothing says so."""
    es = eck.resource(snap.local)
    upgrading = eck.upgrading_nodes(es)
    if upgrading:  # ECK's own list, with what holds each node back
        return f"ECK must restart {len(upgrading)} pods: " + ", ".join(n.describe() for n in upgrading)
    if es is not None and eck.status(es).get("phase") == "ApplyingChanges":
        return "phase ApplyingChanges"
    if isinstance(snap.local.kube, Unavailable):
        return ""
    pods, stss = snap.local.kube.pods, snap.local.kube.statefulsets
    if not isinstance(pods, list) or not isinstance(stss, list):
        return ""
    behind = eck.pods_behind(pods, stss)
    return f"{len(behind)} pods run an older spec: {', '.join(behind)}" if behind else ""


@check("ECKRC406", severity=ERROR, side=LOCAL, requires=("ECKRC101",))
def no_eck_owned_names(snap: Snapshot) -> Verdict:
    """No user object reuses ECK-owned names

    `<es>-es-remote-api-keys` and `<es>-es-remote-ca` belong to ECK's same-environment
    automation, and ECK lists, and may invalidate, cross-cluster keys named `eck-*` that it
    does not recognise. A user secret, volume or key with those names breaks in ways that are
    hard to trace.

    On a real cluster: Secrets, volumes and the remote's API key names doctor may read; keys
    it cannot list (no remote access) are not judged.

    Fix by hand: copy the data into objects with your own names and reference those; recreate
    `eck-*` keys under another name.
    """
    es = reads.resource(snap.local)
    owned = set(eck.eck_owned_secret_names(snap.local.es_name))
    used = {s.secret_name for s in eck.secure_settings(es)}
    for nodeset in eck.nodesets(es):
        for volume in eck.volumes(nodeset):
            used.add(str((volume.get("secret") or {}).get("secretName", "")))
            used.add(str((volume.get("configMap") or {}).get("name", "")))
    clashes = sorted(owned & used)
    if clashes:
        return failed(f"the local Elasticsearch uses ECK-owned names: {', '.join(clashes)}",
                      "ECK owns and rewrites these objects: copy the data into a secret/ConfigMap with "
                      "your own name and reference that", names=clashes)
    eck_keys = _eck_named_keys(snap)
    if eck_keys:
        return failed(f"remote API keys named {', '.join(eck_keys)}",
                      "ECK may invalidate eck-* keys it did not create: create a key with another name",
                      keys=eck_keys)
    return passed("no ECK-owned secret name or eck-* key name in use")


def _eck_named_keys(snap: Snapshot) -> list[str]:
    """eck-* keys on the remote that ECK did not make for this cluster's spec.remoteClusters."""
    if isinstance(snap.remote, Unavailable) or isinstance(snap.remote.es, Unavailable):
        return []
    own = {m.key_name for m in links.eck_remotes_of(reads.resource(snap.local)).values()}
    names = []
    for answer in snap.remote.es.api_keys.values():
        if isinstance(answer, dict):
            names += [str(k.get("name", "")) for k in answer.get("api_keys") or []
                      if str(k.get("name", "")).startswith("eck-") and k.get("name") not in own]
    return names


CHECKS: list[CheckSpec] = [
    secure_settings_exist, credentials_entry, credential_well_formed, remote_key_valid, keystore_loaded,
    no_eck_owned_names,
]
