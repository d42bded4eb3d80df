"""Same-environment remote clusters (`spec.remoteClusters`), as the ECK operator sets them up.

Read from elastic/cloud-on-k8s @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8:
- `pkg/controller/remotecluster/controller.go` (`doReconcile`, `getExpectedRemoteClientsFor`),
  `secret.go`, `labels.go`: both clusters' transport CAs are copied to each other, as Secret
  `<local>-<remote ns>-<remote name>-es-remote-ca` (key `ca.crt`) in the local namespace, labelled
  with the local cluster name, `common.k8s.elastic.co/type: remote-ca` and the remote's name
  and namespace; copies no longer expected are deleted.
- `apikey.go`: for an entry with `apiKey`, a cross-cluster API key `eck-<client ns>-<client
  name>-<alias>` is created on the referenced (server) cluster with the entry's `access` and
  ECK's metadata (config-hash of the access, name/namespace/uid of the client,
  `managed-by: eck`); a changed access updates it, a key whose id the keystore does not hold is
  invalidated, keys no longer expected are invalidated.
- `keystore/keystore.go`: the encoded keys go to Secret `<client>-es-remote-api-keys`
  (`cluster.remote.<alias>.credentials`, annotation `elasticsearch.k8s.elastic.co/remote-cluster-api-keys`
  with each alias's server and key id), a secure settings source of the client's keystore; the
  Secret is deleted when no alias is left.
- `pkg/controller/elasticsearch/remotecluster/elasticsearch.go`, `annotations.go`: the client's
  persistent settings `cluster.remote.<alias>.seeds` (sniff mode) list
  `<remote>-es-remote-cluster.<ns>.svc:9443` with an API key, `<remote>-es-transport.<ns>.svc:9300`
  without (the certificate model); the aliases ECK set are kept in the annotation
  `elasticsearch.k8s.elastic.co/managed-remote-clusters` and removed from the settings once they
  leave the spec. Enterprise features only.
- `pkg/controller/elasticsearch/certificates/remoteca/reconcile.go`: `<es>-es-remote-ca` (mounted
  at `transport-remote-certs/`) holds the copied CAs, concatenated in name order, or the
  cluster's own transport CA when there is none.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.twin import eck_config as cfg
from tests.twin import eck_objects as objs
from tests.twin.es_api import EsApiError, es_call
from tests.twin.kube_errors import Conflict, NotFound

REMOTE_NS_LABEL = "elasticsearch.k8s.elastic.co/remote-cluster-namespace"
REMOTE_NAME_LABEL = "elasticsearch.k8s.elastic.co/remote-cluster-name"
CREDENTIALS_LABEL = "eck.k8s.elastic.co/credentials"
KEYS_ANNOTATION = "elasticsearch.k8s.elastic.co/remote-cluster-api-keys"
MANAGED_ANNOTATION = "elasticsearch.k8s.elastic.co/managed-remote-clusters"
META_PREFIX = "elasticsearch.k8s.elastic.co/"
RCS_MIN_VERSION = (8, 10, 0)  # esv1.RemoteClusterAPIKeysMinVersion

Key = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class RemoteRef:
    """One `spec.remoteClusters` entry of a client cluster."""

    alias: str
    namespace: str
    name: str
    access: Mapping[str, Any] | None  # apiKey.access; None: the certificate model

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    def seed(self) -> str:
        if self.access is not None:
            return f"{self.name}-es-remote-cluster.{self.namespace}.svc:9443"
        return f"{self.name}-es-transport.{self.namespace}.svc:9300"


def remote_refs(es_obj: Mapping[str, Any]) -> list[RemoteRef]:
    namespace = es_obj["metadata"]["namespace"]
    refs = []
    for entry in (es_obj.get("spec") or {}).get("remoteClusters") or []:
        ref = entry.get("elasticsearchRef") or {}
        if not ref.get("name"):
            continue
        api_key = entry.get("apiKey")
        access = dict((api_key or {}).get("access") or {}) if api_key is not None else None
        refs.append(RemoteRef(str(entry.get("name", "")), str(ref.get("namespace") or namespace),
                              str(ref["name"]), access))
    return refs


def api_key_name(client: Key, alias: str) -> str:
    return f"eck-{client[0]}-{client[1]}-{alias}"


def pair_ca_secret(local: str, remote: Key) -> str:
    return f"{local}-{remote[0]}-{remote[1]}-es-remote-ca"


def api_keys_secret(es: str) -> str:
    return f"{es}-es-remote-api-keys"


def remote_ca_bundle(store: Any, namespace: str, es: str, own_ca_pem: bytes) -> bytes:
    """What ECK writes to `<es>-es-remote-ca` (`transport-remote-certs/ca.crt`)."""
    copies = store.list("secrets", namespace, f"{cfg.CLUSTER_LABEL}={es},{cfg.TYPE_LABEL}=remote-ca")
    copies.sort(key=lambda s: s["metadata"]["name"])
    pems = [cfg.decode_secret_data(s).get("ca.crt", "").encode() for s in copies]
    return b"".join(pems) if pems else own_ca_pem


def _version(es_obj: Mapping[str, Any]) -> tuple[int, ...] | None:
    text = str((es_obj.get("status") or {}).get("version") or "")
    try:
        return tuple(int(p) for p in text.split(".")[:3]) if text else None
    except ValueError:
        return None


@dataclass
class _KeyStore:
    """A client's `<es>-es-remote-api-keys` Secret, loaded."""

    aliases: dict[str, dict[str, str]]  # alias -> {namespace, name, id} of the server and key
    encoded: dict[str, str]  # alias -> encoded key


class RemoteClusters:
    """ECK's remote-cluster controller for one Kubernetes cluster (the operator calls `reconcile`)."""

    def __init__(self, store: Any, hooks: Any, apply: Callable[[str, dict[str, Any], tuple[str, ...]], None],
                 licensed: Callable[[], bool]) -> None:
        self.store = store
        self.hooks = hooks  # the environment: es_call's pod_target / first_pod
        self.apply = apply
        self.licensed = licensed

    def reconcile(self, es_obj: Mapping[str, Any]) -> None:
        """After `es_obj` was reconciled: the remote-cluster controller for it and every cluster it
        references, then its own remote-cluster settings."""
        key = (es_obj["metadata"]["namespace"], es_obj["metadata"]["name"])
        involved = {key, *(r.key for r in remote_refs(es_obj)), *self._associated(key)}
        annotated = MANAGED_ANNOTATION in (es_obj["metadata"].get("annotations") or {})
        if len(involved) == 1 and not annotated and not self.store.exists("secrets", key[0],
                                                                          api_keys_secret(key[1])):
            return  # no remote cluster anywhere near this one: nothing to do
        for server in sorted(involved):
            self._reconcile_server(server)
        self._update_settings(key)

    # ---- remotecluster controller -------------------------------------------------------------

    def _get(self, key: Key) -> dict[str, Any] | None:
        try:
            return dict(self.store.get("elasticsearches", key[0], key[1]))
        except NotFound:
            return None

    def _expected_clients(self, server: Key) -> dict[Key, list[RemoteRef]]:
        """`getExpectedRemoteClientsFor`: the server's own references (CA copies only) and every
        cluster referencing it, with those references."""
        clients: dict[Key, list[RemoteRef]] = {}
        server_obj = self._get(server)
        for ref in remote_refs(server_obj) if server_obj else []:
            clients.setdefault(ref.key, [])
        for es_obj in self.store.list("elasticsearches"):
            client = (es_obj["metadata"]["namespace"], es_obj["metadata"]["name"])
            for ref in remote_refs(es_obj):
                if ref.key == server:
                    clients.setdefault(client, []).append(ref)
        return clients

    def _copies_of(self, key: Key) -> list[dict[str, Any]]:
        """The remote CA copies this cluster takes part in (`getAssociatedRemoteCAs`)."""
        own = self.store.list("secrets", key[0], f"{cfg.CLUSTER_LABEL}={key[1]},{cfg.TYPE_LABEL}=remote-ca")
        theirs = self.store.list("secrets", None, f"{cfg.TYPE_LABEL}=remote-ca,{REMOTE_NS_LABEL}={key[0]},"
                                 f"{REMOTE_NAME_LABEL}={key[1]}")
        return [*own, *theirs]

    def _associated(self, key: Key) -> set[Key]:
        """The clusters that reference this one, and those its CA copies pair it with."""
        others = set(self._expected_clients(key))
        for secret in self._copies_of(key):
            others.add(self._other_side(key, secret))
        return others

    @staticmethod
    def _other_side(key: Key, secret: Mapping[str, Any]) -> Key:
        meta = secret["metadata"]
        labels = meta.get("labels") or {}
        if meta["namespace"] == key[0] and labels.get(cfg.CLUSTER_LABEL) == key[1]:
            return (labels.get(REMOTE_NS_LABEL, ""), labels.get(REMOTE_NAME_LABEL, ""))
        return (meta["namespace"], labels.get(cfg.CLUSTER_LABEL, ""))

    def _reconcile_server(self, server: Key) -> None:
        server_obj = self._get(server)
        if server_obj is None or _unmanaged(server_obj):
            return
        clients = self._expected_clients(server)
        if clients and not self.licensed():
            return  # "Remote cluster controller is an enterprise feature"
        for client in clients:
            client_obj = self._get(client)
            if client_obj is not None:
                self._copy_ca(server_obj, client_obj)
                self._copy_ca(client_obj, server_obj)
        self._delete_stale_copies(server, set(clients))
        self._reconcile_keys(server_obj, clients)

    def _copy_ca(self, source: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        src = (source["metadata"]["namespace"], source["metadata"]["name"])
        try:
            public = self.store.get("secrets", src[0], f"{src[1]}-es-transport-certs-public")
        except NotFound:
            return  # the source's CA is not there yet: its creation will bring us back
        ca = cfg.decode_secret_data(public).get("ca.crt", "")
        if not ca:
            return
        names = cfg.Names(target["metadata"]["name"], target["metadata"]["namespace"])
        labels = {cfg.TYPE_LABEL: "remote-ca", REMOTE_NS_LABEL: src[0], REMOTE_NAME_LABEL: src[1]}
        copy = objs.secret(names, pair_ca_secret(names.es, src), target, {"ca.crt": ca}, labels)
        self.apply("secrets", copy, ("data",))

    def _delete_stale_copies(self, server: Key, clients: set[Key]) -> None:
        for secret in self._copies_of(server):
            if self._other_side(server, secret) not in clients:
                with contextlib.suppress(NotFound):
                    self.store.delete("secrets", secret["metadata"]["namespace"], secret["metadata"]["name"])

    def _reconcile_keys(self, server_obj: dict[str, Any], clients: dict[Key, list[RemoteRef]]) -> None:
        version = _version(server_obj)
        if version is None or version < RCS_MIN_VERSION:
            return
        server = (server_obj["metadata"]["namespace"], server_obj["metadata"]["name"])
        try:
            active = self._active_keys(server)
        except EsApiError:
            return  # the API is not available yet: ECK requeues; the pods' start brings us back
        reconciled: set[Key] = set()
        for client, refs in clients.items():
            client_obj = self._get(client)
            if client_obj is None or _version(client_obj) is None:
                continue
            reconciled.add(client)
            self._reconcile_client_keys(server, client_obj, refs, active)
        for key in active:
            meta = key.get("metadata") or {}
            owner = (str(meta.get(f"{META_PREFIX}namespace", "")), str(meta.get(f"{META_PREFIX}name", "")))
            if owner not in reconciled and owner not in clients:
                self._invalidate(server, key["name"])
        self._prune_own_keystore(server_obj)

    def _prune_own_keystore(self, es_obj: Mapping[str, Any]) -> None:
        """The aliases of this cluster's own keystore that its spec no longer asks for."""
        key = (es_obj["metadata"]["namespace"], es_obj["metadata"]["name"])
        if not self.store.exists("secrets", key[0], api_keys_secret(key[1])):
            return
        store = self._load_keystore(key)
        wanted = {r.alias for r in remote_refs(es_obj) if r.access is not None}
        stale = [alias for alias in store.aliases if alias not in wanted]
        for alias in stale:
            del store.aliases[alias]
            store.encoded.pop(alias, None)
        if stale:
            self._save_keystore(es_obj, store)

    def _active_keys(self, server: Key) -> list[dict[str, Any]]:
        _, body = self._call(server, "GET", "/_security/api_key?name=eck-*&active_only=true")
        return [k for k in (body or {}).get("api_keys") or []
                if k.get("type") == "cross_cluster" and not k.get("invalidated")]

    def _reconcile_client_keys(self, server: Key, client_obj: Mapping[str, Any], refs: list[RemoteRef],
                               active: list[dict[str, Any]]) -> None:
        client = (client_obj["metadata"]["namespace"], client_obj["metadata"]["name"])
        store = self._load_keystore(client)
        by_name = {k["name"]: k for k in active}
        expected = set()
        for ref in refs:
            name = api_key_name(client, ref.alias)
            expected.add(name)
            current = by_name.get(name)
            if ref.access is None:
                if current is not None:
                    self._invalidate(server, name)
                continue
            config_hash = cfg.digest(ref.access)
            metadata = {f"{META_PREFIX}config-hash": config_hash, f"{META_PREFIX}name": client[1],
                        f"{META_PREFIX}namespace": client[0],
                        f"{META_PREFIX}uid": client_obj["metadata"].get("uid", ""),
                        f"{META_PREFIX}managed-by": "eck"}
            if current is None:
                _, created = self._call(server, "POST", "/_security/cross_cluster/api_key",
                                        {"name": name, "access": dict(ref.access), "metadata": metadata})
                store.aliases[ref.alias] = {"namespace": server[0], "name": server[1], "id": created["id"]}
                store.encoded[ref.alias] = created["encoded"]
            elif store.aliases.get(ref.alias, {}).get("id") != current["id"]:
                self._invalidate(server, name)  # ECK: the key in ES is not the one in the keystore
            elif (current.get("metadata") or {}).get(f"{META_PREFIX}config-hash") != config_hash:
                self._call(server, "PUT", f"/_security/cross_cluster/api_key/{current['id']}",
                           {"access": dict(ref.access), "metadata": metadata})
        for key in active:
            meta = key.get("metadata") or {}
            if (meta.get(f"{META_PREFIX}namespace"), meta.get(f"{META_PREFIX}name")) == client \
                    and key["name"] not in expected:
                self._invalidate(server, key["name"])
        wanted_aliases = {r.alias for r in refs if r.access is not None}
        for alias, target in list(store.aliases.items()):
            if (target.get("namespace"), target.get("name")) == server and alias not in wanted_aliases:
                del store.aliases[alias]
                store.encoded.pop(alias, None)
        self._save_keystore(client_obj, store)

    def _invalidate(self, server: Key, name: str) -> None:
        with contextlib.suppress(EsApiError):
            self._call(server, "DELETE", "/_security/api_key", {"name": name})

    def _load_keystore(self, client: Key) -> _KeyStore:
        try:
            secret = self.store.get("secrets", client[0], api_keys_secret(client[1]))
        except NotFound:
            return _KeyStore({}, {})
        aliases = json.loads(((secret["metadata"].get("annotations") or {}).get(KEYS_ANNOTATION)) or "{}")
        encoded = {}
        for setting, value in cfg.decode_secret_data(secret).items():
            parts = setting.split(".")
            if len(parts) == 4 and parts[:2] == ["cluster", "remote"] and parts[3] == "credentials":
                encoded[parts[2]] = value
        return _KeyStore(aliases, encoded)

    def _save_keystore(self, client_obj: Mapping[str, Any], store: _KeyStore) -> None:
        names = cfg.Names(client_obj["metadata"]["name"], client_obj["metadata"]["namespace"])
        if not store.aliases:
            with contextlib.suppress(NotFound):
                self.store.delete("secrets", names.namespace, api_keys_secret(names.es))
            return
        data = {f"cluster.remote.{alias}.credentials": value for alias, value in store.encoded.items()}
        secret = objs.secret(names, api_keys_secret(names.es), client_obj, data,
                             {cfg.TYPE_LABEL: "remote-cluster-api-keys", CREDENTIALS_LABEL: "true"})
        secret["metadata"]["annotations"] = {KEYS_ANNOTATION: json.dumps(store.aliases, sort_keys=True)}
        self.apply("secrets", secret, ("data",))

    # ---- the client's settings (elasticsearch controller) ------------------------------------

    def _update_settings(self, key: Key) -> None:
        es_obj = self._get(key)
        if es_obj is None or _unmanaged(es_obj):
            return
        refs = {r.alias: r for r in remote_refs(es_obj)}
        annotation = (es_obj["metadata"].get("annotations") or {}).get(MANAGED_ANNOTATION)
        if not refs and annotation is None:
            return
        if refs and not self.licensed():
            return
        managed = {a for a in (annotation or "").split(",") if a.strip()}
        try:
            _, body = self._call(key, "GET", "/_cluster/settings?flat_settings=true")
        except EsApiError:
            return
        persistent = cfg.flatten((body or {}).get("persistent") or {})
        in_es = {k.split(".")[2] for k in persistent if k.startswith("cluster.remote.") and k.count(".") >= 3}
        changes: dict[str, Any] = {}
        for alias, ref in refs.items():
            if persistent.get(f"cluster.remote.{alias}.seeds") != [ref.seed()]:
                changes[f"cluster.remote.{alias}.seeds"] = [ref.seed()]
        gone = {a for a in managed - set(refs) if a in in_es}
        for alias in gone:
            changes[f"cluster.remote.{alias}.seeds"] = None
        self._annotate(key, sorted(set(refs) | gone))
        if changes:
            with contextlib.suppress(EsApiError):
                self._call(key, "PUT", "/_cluster/settings", {"persistent": changes})

    def _annotate(self, key: Key, aliases: list[str]) -> None:
        for _ in range(5):
            es_obj = self.store.get("elasticsearches", key[0], key[1])
            annotations = dict(es_obj["metadata"].get("annotations") or {})
            wanted = ",".join(aliases)
            if (annotations.get(MANAGED_ANNOTATION) if aliases else None) == (wanted or None) \
                    and (aliases or MANAGED_ANNOTATION not in annotations):
                return
            if aliases:
                annotations[MANAGED_ANNOTATION] = wanted
            else:
                annotations.pop(MANAGED_ANNOTATION, None)
            es_obj["metadata"]["annotations"] = annotations
            try:
                self.store.update("elasticsearches", es_obj)
                return
            except Conflict:
                continue

    def _call(self, key: Key, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        try:
            return es_call(self.hooks, key[0], key[1], method, path, body)
        except (OSError, NotFound, IndexError, KeyError) as err:
            raise EsApiError(503, {"error": str(err)}) from None


def _unmanaged(es_obj: Mapping[str, Any]) -> bool:
    return (es_obj["metadata"].get("annotations") or {}).get("eck.k8s.elastic.co/managed") == "false"
