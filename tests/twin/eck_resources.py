"""One reconcile pass of the simulated ECK operator: the objects ECK owns, written to the store.

`EckResources.reconcile` makes the secrets, certificates, services, StatefulSets and config
of one `Elasticsearch` match its spec and returns the desired pods; the operator decides when
each pod (re)starts. Writes are idempotent: an object already as desired is not rewritten, so
watch events caused by our own writes converge.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import secrets as pysecrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.twin import crd, eck_ca, pki
from tests.twin import eck_config as cfg
from tests.twin import eck_objects as objs
from tests.twin.eck_remote_clusters import api_keys_secret, remote_ca_bundle
from tests.twin.kube_errors import AlreadyExists, Conflict, NotFound

EventSink = Callable[[dict[str, Any], str, str, str], None]


class ReconcileError(Exception):
    """A reconcile step failed; ECK records it as a ReconciliationError event and retries later."""


@dataclass(frozen=True)
class PodPlan:
    """What one pod should run with, were it (re)started now."""

    pod: str
    nodeset: str
    index: int
    ip: str
    config: dict[str, Any]
    env: dict[str, str]
    files: dict[str, bytes]
    keystore: dict[str, str]
    restart_hash: str  # the StatefulSet revision's hash
    cert_pem: bytes
    key_pem: bytes
    trusted_ca_pems: tuple[bytes, ...]
    sts: dict[str, Any] = field(compare=False)
    blocked: tuple[str, ...] = ()  # FailedMount messages: the pod cannot start
    config_hash: str = ""  # ECK's config-hash annotation
    sub_path_files: frozenset[str] = frozenset()  # files mounted with subPath: never updated


@dataclass(frozen=True)
class Desired:
    version: str
    http_ca_pem: bytes
    http_cert_pem: bytes
    http_key_pem: bytes
    password: str
    pods: list[PodPlan]


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(pysecrets.choice(alphabet) for _ in range(24))


class EckResources:
    def __init__(self, store: Any, eck_version: str, event_sink: EventSink,
                 clock: Callable[[], str] | None = None) -> None:
        self.store = store
        self.eck_version = eck_version
        self.event_sink = event_sink
        self.now = clock or utc_now
        self.ca_rotation = eck_ca.CaRotation()  # the operator's --ca-cert-validity / --ca-cert-rotate-before
        self.ca_clock: Callable[[], dt.datetime] = eck_ca.utc_now  # the operator's clock for CAs
        self._certs: dict[tuple[str, str], tuple[Any, pki.Issued]] = {}
        self._http: dict[tuple[str, str], tuple[pki.Issued, pki.Issued]] = {}

    # ---- store helpers ---------------------------------------------------------------------

    def lookup(self, namespace: str) -> cfg.Lookup:
        def find(kind: str, name: str) -> dict[str, str] | None:
            try:
                obj = self.store.get(kind, namespace, name)
            except NotFound:
                return None
            if kind == "secrets":
                return cfg.decode_secret_data(obj)
            return dict(obj.get("data") or {})
        return find

    def apply(self, plural: str, desired: dict[str, Any], fields: tuple[str, ...]) -> None:
        """Create, or update the given top-level fields (and labels/owners) when they differ."""
        meta = desired["metadata"]
        for _ in range(5):
            try:
                current = self.store.get(plural, meta["namespace"], meta["name"])
            except NotFound:
                try:
                    self.store.create(plural, desired)
                    return
                except AlreadyExists:
                    continue
            updated = copy.deepcopy(current)
            for name in fields:
                if name in desired:
                    updated[name] = copy.deepcopy(desired[name])
            updated["metadata"].setdefault("labels", {}).update(meta.get("labels") or {})
            updated["metadata"]["ownerReferences"] = meta.get("ownerReferences", [])
            if meta.get("annotations"):
                updated["metadata"].setdefault("annotations", {}).update(meta["annotations"])
            if plural == "services":
                _keep_allocations(current, updated)
            if updated == current:
                return
            try:
                self.store.update(plural, updated)
                return
            except Conflict:
                continue

    def delete(self, plural: str, namespace: str, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.store.delete(plural, namespace, name)

    # ---- reconcile -------------------------------------------------------------------------

    def reconcile(self, es_obj: dict[str, Any], pod_address: Callable[[str, str], str]) -> Desired:
        spec = es_obj.get("spec") or {}
        names = cfg.Names(es_obj["metadata"]["name"], es_obj["metadata"]["namespace"])
        ca = self._transport_ca(names, es_obj, spec)
        trusted = (pki.cert_pem(ca.cert), *self._extra_trust(names, spec))
        bundle = b"".join(trusted)
        self.apply("secrets", objs.secret(names, names.svc("transport-certs-public"), es_obj,
                                          {"ca.crt": bundle.decode()}), ("data",))
        # CAs of same-environment spec.remoteClusters peers (or its own CA); every pod mounts it
        remote_ca = remote_ca_bundle(self.store, names.namespace, names.es, pki.cert_pem(ca.cert))
        remote_ca_secret = objs.secret(names, names.svc("remote-ca"), es_obj, {"ca.crt": remote_ca.decode()})
        self.apply("secrets", remote_ca_secret, ("data",))
        http_ca, http = self._http_certs(names, es_obj)
        password = self._elastic_user(names, es_obj)
        lookup = self.lookup(names.namespace)
        try:
            keystore, missing = cfg.keystore(spec, lookup)
        except cfg.KeystoreError as err:
            raise ReconcileError(str(err)) from None
        keystore.update(lookup("secrets", api_keys_secret(names.es)) or {})  # ECK's own source, last
        for secret_name in missing:
            message = f"Secure settings secret not found: {names.namespace}/{secret_name}"
            self.event_sink(es_obj, "Warning", "Unexpected", message)
        if keystore:
            aggregated = objs.secret(names, names.svc("secure-settings"), es_obj, keystore)
            self.apply("secrets", aggregated, ("data",))
        else:  # nothing to aggregate: ECK deletes its secure settings Secret
            self.delete("secrets", names.namespace, names.svc("secure-settings"))
        self._services(names, es_obj, spec)
        pods: list[PodPlan] = []
        for node_set in spec.get("nodeSets") or []:
            pods += self._node_set(names, es_obj, node_set, ca, trusted, keystore, pod_address, http_ca, http,
                                   remote_ca)
        self._prune(names, spec, pods)
        return Desired(str(spec.get("version", "")), pki.cert_pem(http_ca.cert), http.chain_pem,
                       http.key_pem, password, pods)

    def _transport_ca(self, names: cfg.Names, es_obj: dict[str, Any], spec: dict[str, Any]) -> pki.Issued:
        tls = (spec.get("transport") or {}).get("tls") or {}
        user_ca = (tls.get("certificate") or {}).get("secretName")
        if user_ca:
            data = self.lookup(names.namespace)("secrets", user_ca)
            if not data or "ca.crt" not in data or "ca.key" not in data:
                raise ReconcileError(f"secret {names.namespace}/{user_ca} specified in "
                                     "spec.transport.tls.certificate must contain ca.crt and ca.key")
            return _load_issued(data["ca.crt"], data["ca.key"])
        secret_name = names.svc("transport-ca-internal")
        data = self.lookup(names.namespace)("secrets", secret_name)
        existing = None
        if data and "tls.crt" in data and "tls.key" in data:
            existing = _load_issued(data["tls.crt"], data["tls.key"])
        outcome = eck_ca.reconcile_ca(existing, f"{names.es}-transport", names.es, self.ca_rotation,
                                      self.ca_clock)
        if outcome.action != "kept":
            ca = outcome.ca
            self.apply("secrets", objs.secret(names, secret_name, es_obj, {
                "tls.crt": pki.cert_pem(ca.cert).decode(), "tls.key": ca.key_pem.decode()}), ("data",))
        return outcome.ca

    def _extra_trust(self, names: cfg.Names, spec: dict[str, Any]) -> list[bytes]:
        ref = (((spec.get("transport") or {}).get("tls") or {}).get("certificateAuthorities") or {})
        map_name = ref.get("configMapName")
        if not map_name:
            return []
        nsn = f"{names.namespace}/{map_name}"
        data = self.lookup(names.namespace)("configmaps", map_name)
        if data is None:
            raise ReconcileError(f"could not retrieve config map {nsn} specified in spec.transport.tls."
                                 f"certificateAuthorities: configmaps \"{map_name}\" not found")
        if "ca.crt" not in data:
            raise ReconcileError(f"config map {nsn} specified in spec.transport.tls.certificateAuthorities "
                                 "must contain ca.crt file")
        return [pki.cert_pem(c) for c in pki.load_certs(data["ca.crt"].encode())]

    def _http_certs(self, names: cfg.Names, es_obj: dict[str, Any]) -> tuple[pki.Issued, pki.Issued]:
        key = (names.namespace, names.es)
        if key not in self._http:
            ca = pki.http_ca(names.es)
            self._http[key] = (ca, pki.http_cert(ca, names.es, names.namespace))
        ca, http = self._http[key]
        ca_pem = pki.cert_pem(ca.cert).decode()
        self.apply("secrets", objs.secret(names, names.svc("http-ca-internal"), es_obj, {
            "tls.crt": ca_pem, "tls.key": ca.key_pem.decode()}), ("data",))
        chain = http.chain_pem.decode()
        self.apply("secrets", objs.secret(names, names.svc("http-certs-internal"), es_obj, {
            "tls.crt": chain, "tls.key": http.key_pem.decode(), "ca.crt": ca_pem}), ("data",))
        self.apply("secrets", objs.secret(names, names.svc("http-certs-public"), es_obj, {
            "tls.crt": http.chain_pem.decode(), "ca.crt": ca_pem}), ("data",))
        return ca, http

    def _elastic_user(self, names: cfg.Names, es_obj: dict[str, Any]) -> str:
        data = self.lookup(names.namespace)("secrets", names.svc("elastic-user"))
        if data and data.get("elastic"):
            return data["elastic"]
        password = _password()
        self.apply("secrets", objs.secret(names, names.svc("elastic-user"), es_obj, {"elastic": password}),
                   ("data",))
        return password

    def _services(self, names: cfg.Names, es_obj: dict[str, Any], spec: dict[str, Any]) -> None:
        http_template = (spec.get("http") or {}).get("service")
        transport_template = (spec.get("transport") or {}).get("service")
        wanted = [
            objs.service(names, "http", es_obj, "https", 9200, False, http_template),
            objs.service(names, "internal-http", es_obj, "https", 9200, False),
            objs.service(names, "transport", es_obj, "tls-transport", 9300, True, transport_template,
                         publish_not_ready=True),
        ]
        if cfg.rcs_enabled(spec):
            rcs_template = None
            if crd.eck_serves_rcs_service(self.eck_version):
                rcs_template = (spec.get("remoteClusterServer") or {}).get("service")
            wanted.append(objs.service(names, "remote-cluster", es_obj, "rcs", 9443, True, rcs_template,
                                       publish_not_ready=True))
        else:
            self.delete("services", names.namespace, names.svc("remote-cluster"))
        for svc in wanted:
            self.apply("services", svc, ("spec",))

    def _node_set(self, names: cfg.Names, es_obj: dict[str, Any], node_set: dict[str, Any], ca: pki.Issued,
                  trusted: tuple[bytes, ...], keystore: dict[str, str],
                  pod_address: Callable[[str, str], str], http_ca: pki.Issued, http: pki.Issued,
                  remote_ca: bytes = b"") -> list[PodPlan]:
        spec = es_obj.get("spec") or {}
        nodeset = str(node_set["name"])
        count = min(int(node_set.get("count", 1)), cfg.MAX_PODS_PER_NODESET)
        config = cfg.render_config(names.es, spec, node_set)
        config_hash = cfg.config_hash(config, keystore)
        restart_hash = cfg.restart_inputs(node_set, config_hash)
        revision = f"{names.sts(nodeset)}-{restart_hash[:10]}"
        sts = objs.statefulset(names, es_obj, node_set, count, config_hash, revision)
        self.apply("statefulsets", sts, ("spec",))
        headless = objs.headless_service(names, es_obj, nodeset, cfg.rcs_enabled(spec))
        self.apply("services", headless, ("spec",))
        self.apply("secrets", objs.secret(names, names.config_secret(nodeset), es_obj,
                                          {"elasticsearch.yml": cfg.config_yaml(config)}), ("data",))
        certs: dict[str, str] = {"ca.crt": b"".join(trusted).decode()}
        # the transport profile trusts transport-certs/ca.crt and transport-remote-certs/ca.crt
        pod_trust = trusted + tuple(pem for pem in _pems(remote_ca) if pem not in trusted)
        plans = []
        for index in range(count):
            pod = names.pod(nodeset, index)
            ip = pod_address(names.namespace, pod)
            leaf = self._pod_cert(names, spec, ca, nodeset, pod, ip)
            certs[f"{pod}.tls.crt"] = leaf.chain_pem.decode()
            certs[f"{pod}.tls.key"] = leaf.key_pem.decode()
            plans.append(PodPlan(pod, nodeset, index, ip, config,
                                 {"POD_NAME": pod, "POD_IP": ip, "NAMESPACE": names.namespace,
                                  "HEADLESS_SERVICE_NAME": names.sts(nodeset)},
                                 {}, keystore, restart_hash, leaf.chain_pem, leaf.key_pem, pod_trust, sts,
                                 config_hash=config_hash))
        self.apply("secrets", objs.secret(names, names.transport_certs(nodeset), es_obj, certs), ("data",))
        files = self._eck_files(http_ca, http, certs, remote_ca)
        user_files = cfg.mounted_files(node_set, self.lookup(names.namespace))
        blocked = tuple(cfg.missing_mounts(node_set, self.lookup(names.namespace)))
        frozen = cfg.sub_path_files(node_set)
        return [_with_files(plan, {**files, **user_files}, blocked, frozen) for plan in plans]

    def _pod_cert(self, names: cfg.Names, spec: dict[str, Any], ca: pki.Issued, nodeset: str, pod: str,
                  ip: str) -> pki.Issued:
        tls = (spec.get("transport") or {}).get("tls") or {}
        extra = [str(s.get(kind) or "") for s in tls.get("subjectAltNames") or [] for kind in ("dns", "ip")]
        suffix = str(tls.get("otherNameSuffix") or "")
        sans = tuple(e for e in extra if e)
        # ECK reissues a leaf its current CA did not sign (key, AKI = SKI): a CA renewed with the
        # same key keeps the leaves, whose tls.crt still carries the previous CA issue
        wanted = (eck_ca.subject_key_id(ca.cert), ip, cfg.rcs_enabled(spec), sans, suffix)
        cached = self._certs.get((names.namespace, pod))
        if cached and cached[0] == wanted and not self._leaf_expiring(cached[1], ca):
            return cached[1]
        window = _leaf_window(ca)
        leaf = pki.transport_cert(ca, names.es, names.namespace, pod, nodeset, ip, wanted[2], wanted[3],
                                  not_before=window[0], not_after=window[1], other_name_suffix=suffix)
        self._certs[(names.namespace, pod)] = (wanted, leaf)
        return leaf

    def _leaf_expiring(self, leaf: pki.Issued, ca: pki.Issued) -> bool:
        """ECK's --cert-rotate-before (default as for CAs, 24 h): reissue a leaf close to its end,
        when the CA lets a new one live longer (the twin's leaves never outlive their CA)."""
        end = leaf.cert.not_valid_after_utc
        return self.ca_clock() > end - eck_ca.DEFAULT_ROTATE_BEFORE and ca.cert.not_valid_after_utc > end

    @staticmethod
    def _eck_files(http_ca: pki.Issued, http: pki.Issued, certs: dict[str, str],
                   remote_ca: bytes) -> dict[str, bytes]:
        files = {
            "http-certs/tls.crt": http.chain_pem,
            "http-certs/tls.key": http.key_pem,
            "http-certs/ca.crt": pki.cert_pem(http_ca.cert),
            "transport-remote-certs/ca.crt": remote_ca,
        }
        files.update({f"transport-certs/{k}": v.encode() for k, v in certs.items()})
        return files

    def _prune(self, names: cfg.Names, spec: dict[str, Any], pods: list[PodPlan]) -> None:
        keep = {p.pod for p in pods}
        for pod in self.store.list("pods", names.namespace, f"{cfg.CLUSTER_LABEL}={names.es}"):
            if pod["metadata"]["name"] not in keep:
                self.delete("pods", names.namespace, pod["metadata"]["name"])
        nodesets = {str(n["name"]) for n in spec.get("nodeSets") or []}
        for sts in self.store.list("statefulsets", names.namespace, f"{cfg.CLUSTER_LABEL}={names.es}"):
            nodeset = sts["spec"]["template"]["metadata"]["labels"].get(cfg.NODESET_LABEL)
            if nodeset not in nodesets:
                self.delete("statefulsets", names.namespace, sts["metadata"]["name"])
                self.delete("services", names.namespace, sts["metadata"]["name"])

    # ---- pods, status, events -----------------------------------------------------------------

    def write_pending_pod(self, namespace: str, plan: PodPlan) -> None:
        """The pod exists but cannot start (a mount source is missing): ContainerCreating."""
        self.write_pod(namespace, plan, self.now(), pending=True)
        for message in plan.blocked:
            with contextlib.suppress(AlreadyExists):
                self.store.create("events", objs.pod_event(namespace, plan.pod, "FailedMount", message,
                                                           self.now()))

    def write_pod(self, namespace: str, plan: PodPlan, started: str, pending: bool = False) -> None:
        revision = f"{plan.sts['metadata']['name']}-{plan.restart_hash[:10]}"
        desired = objs.pod(cfg.Names(plan.sts["metadata"]["labels"][cfg.CLUSTER_LABEL], namespace), plan.sts,
                           plan.index, plan.ip, plan.config_hash, revision, started)
        with contextlib.suppress(NotFound):
            sts = self.store.get("statefulsets", namespace, plan.sts["metadata"]["name"])
            desired["metadata"]["ownerReferences"][0]["uid"] = sts["metadata"]["uid"]
        with contextlib.suppress(NotFound):
            current = self.store.get("pods", namespace, desired["metadata"]["name"])
            if (current["metadata"].get("labels") or {}).get(objs.REVISION_LABEL) != revision:
                # ECK restarts a pod of an older revision by deleting it; the StatefulSet
                # re-creates it from the current template (new uid, start time)
                self.delete("pods", namespace, desired["metadata"]["name"])
        if pending:
            desired["status"] = objs.pending_status(desired["spec"].get("containers") or [], started)
        self.apply("pods", desired, ("spec", "status"))

    def write_sts_status(self, namespace: str, plans: list[PodPlan],
                         running_hash: Callable[[str], str]) -> None:
        """StatefulSet status as the controller reports it with the OnDelete strategy ECK uses."""
        by_sts: dict[str, list[PodPlan]] = {}
        for plan in plans:
            by_sts.setdefault(plan.sts["metadata"]["name"], []).append(plan)
        for name, members in by_sts.items():
            wanted = members[0].restart_hash
            current = [running_hash(p.pod) for p in members]
            stale = [h for h in current if h not in ("", wanted)]
            ready = len([h for h in current if h])
            status = {
                "observedGeneration": 0, "replicas": len(members), "readyReplicas": ready,
                "availableReplicas": ready, "updatedReplicas": len(members) - len(stale),
                "currentReplicas": len(stale) or len(members),
                "updateRevision": f"{name}-{wanted[:10]}",
                "currentRevision": f"{name}-{(stale[0] if stale else wanted)[:10]}",
            }
            self._put_status("statefulsets", namespace, name, status)

    def _put_status(self, plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        for _ in range(5):
            try:
                current = self.store.get(plural, namespace, name)
            except NotFound:
                return
            status["observedGeneration"] = current["metadata"].get("generation", 1)
            if current.get("status") == status:
                return
            current["status"] = status
            try:
                self.store.update(plural, current)
                return
            except Conflict:
                continue


def _with_files(plan: PodPlan, files: dict[str, bytes], blocked: tuple[str, ...],
                frozen: frozenset[str] = frozenset()) -> PodPlan:
    own = {k: v for k, v in files.items()
           if not k.startswith("transport-certs/") or k == "transport-certs/ca.crt" or plan.pod in k}
    return PodPlan(plan.pod, plan.nodeset, plan.index, plan.ip, plan.config, plan.env, own, plan.keystore,
                   plan.restart_hash, plan.cert_pem, plan.key_pem, plan.trusted_ca_pems, plan.sts, blocked,
                   plan.config_hash, frozen)


def _pems(bundle: bytes) -> list[bytes]:
    return [pki.cert_pem(cert) for cert in pki.load_certs(bundle)] if bundle.strip() else []


@functools.lru_cache(maxsize=256)
def _load_issued(cert_text: str, key_text: str) -> pki.Issued:
    """A CA from its secret; cached because RSA key loading (with its validation) is slow."""
    cert = pki.load_certs(cert_text.encode())[0]
    key = serialization.load_pem_private_key(key_text.encode(), password=None,
                                             unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    return pki.Issued(cert, key)


def _leaf_window(ca: pki.Issued) -> tuple[dt.datetime, dt.datetime]:
    """ECK's one-year leaf, never outliving its CA (an expired user CA gives an expired leaf)."""
    begin, end = pki.validity()
    ca_begin, ca_end = ca.cert.not_valid_before_utc, ca.cert.not_valid_after_utc
    end = min(end, ca_end)
    begin = max(begin, ca_begin) if end > max(begin, ca_begin) else ca_begin
    return begin, end


def _keep_allocations(current: dict[str, Any], updated: dict[str, Any]) -> None:
    """Keep what the API server and service controller allocated (cluster IP, node ports, status)."""
    old, new = current.get("spec") or {}, updated.get("spec") or {}
    for key in ("clusterIP", "clusterIPs"):
        if key in old and new.get("clusterIP") != "None" and old.get("clusterIP") != "None":
            new.setdefault(key, old[key])
    ports = {(p.get("port"), p.get("protocol", "TCP")): p for p in old.get("ports") or []}
    for port in new.get("ports") or []:
        before = ports.get((port.get("port"), port.get("protocol", "TCP")))
        if before and "nodePort" in before and "nodePort" not in port:
            port["nodePort"] = before["nodePort"]
    updated["status"] = current.get("status", {})
