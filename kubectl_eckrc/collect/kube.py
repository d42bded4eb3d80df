"""The only module that imports the Kubernetes client.

`KubeClient` is a thin layer over one `ApiClient` per side: generic reads, typed reads for
the snapshot, SelfSubjectAccessReviews, the port-forward socket, and generic writes for
`fix/apply.py` (the only caller of `create`/`patch`/`replace`). Every call carries a timeout
and no call is retried, so a black-holed API server costs one timeout, not four. Failures
become `KubeUnavailable`, carrying the `Unavailable` the snapshot stores.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import threading
import warnings
from typing import Any
from urllib.parse import urlencode

import urllib3
from kubernetes import client as k8s
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import KubeConfigLoader
from kubernetes.stream.ws_client import portforward_call

from kubectl_eckrc import eck
from kubectl_eckrc.collect.failures import ReadFailed
from kubectl_eckrc.errors import AccessError, UsageError
from kubectl_eckrc.kubeconfig import ResolvedContext
from kubectl_eckrc.redact import scrub_known, scrub_text, secret_value, summarize_secret
from kubectl_eckrc.snapshot import SecretSummary, Unavailable

ES_GROUP = "elasticsearch.k8s.elastic.co"
ES_RESOURCE = f"elasticsearches.{ES_GROUP}"
CRD_PATH = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{ES_RESOURCE}"
FIELD_MANAGER = "kubectl-eckrc"
CLUSTER_LABEL = eck.CLUSTER_NAME_LABEL


# A kubeconfig with insecure-skip-tls-verify is the user's choice, as with kubectl: no warning
# per request on stderr.
warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
for _name in ("kubernetes", "urllib3", "websocket"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False


class KubeUnavailable(ReadFailed):
    """A failed read of this client."""


def _status_message(body: bytes) -> str:
    try:
        status = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:200]
    return str(status.get("message") or status.get("reason") or "")


def _http_failure(code: int, body: bytes, what: str, permission: str) -> Unavailable:
    message = " ".join(scrub_known(_status_message(body)).split())
    if code == 403:
        return Unavailable(f"403 Forbidden: {what}", "forbidden", permission)
    if code == 401:
        return Unavailable(f"401 Unauthorized: {what}: the context's credentials were rejected", "forbidden",
                           "valid credentials for this context")
    if code == 404:
        return Unavailable(f"404 Not Found: {what}", "not-found", permission)
    return Unavailable(f"{code} from the Kubernetes API: {what}: {message}", "error", permission)


def _network_failure(error: Exception, server: str) -> Unavailable:
    text = " ".join(scrub_known(str(error)).split())
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2: test refusal first.
    if isinstance(error, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
        if "refused" in text.lower() or isinstance(error, ConnectionRefusedError):
            return Unavailable(f"cannot connect to the Kubernetes API at {server}: connection refused",
                               "unreachable")
        return Unavailable(f"cannot connect to the Kubernetes API at {server}: {text}", "unreachable")
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.ReadTimeoutError
                  | socket.timeout | TimeoutError):
        return Unavailable(f"timed out talking to the Kubernetes API at {server}", "timeout")
    if isinstance(error, urllib3.exceptions.SSLError):
        return Unavailable(f"TLS failure talking to the Kubernetes API at {server}: {text}", "unreachable")
    return Unavailable(f"cannot reach the Kubernetes API at {server}: {text}", "unreachable")


class _PluginErrors(logging.Handler):
    """The client library reports a failed exec credential plugin only through
    `logging.error` (and carries on unauthenticated): catch it to say so in one line."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


# One loaded configuration per context and kubeconfig content for the whole process: loading
# runs the kubeconfig's exec credential plugin (a cloud CLI, often slow, sometimes
# interactive), and doctor, fix and their Elasticsearch reconnects open a client per side
# several times a run. The client refreshes an expiring exec token through its own hook.
_CONFIGURATIONS: dict[str, Any] = {}
_CONFIGURATION_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _configuration(resolved: ResolvedContext, timeout: float) -> Any:
    key = hashlib.sha256(json.dumps([resolved.context, resolved.config], sort_keys=True,
                                    default=str).encode()).hexdigest()
    with _LOCKS_LOCK:
        lock = _CONFIGURATION_LOCKS.setdefault(key, threading.Lock())
    with lock:  # the same context on both sides, read in parallel: one plugin run, not two
        if key not in _CONFIGURATIONS:
            _CONFIGURATIONS[key] = _load_configuration(resolved)
    # The websocket library (port-forward) has no per-call connect timeout: set its default.
    import websocket

    websocket.setdefaulttimeout(timeout)
    return _CONFIGURATIONS[key]


def _load_configuration(resolved: ResolvedContext) -> Any:
    configuration = k8s.Configuration()
    errors = _PluginErrors()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        KubeConfigLoader(resolved.config, active_context=resolved.context).load_and_set(configuration)
    except (ConfigException, ValueError, OSError, TypeError, AttributeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"context {resolved.context!r}: {scrub_text(first)}") from e
    finally:
        root.removeHandler(errors)
    if errors.messages:
        first = " ".join(scrub_text(errors.messages[0]).split())[:200]
        raise AccessError(f"context {resolved.context!r}: the kubeconfig exec credential plugin failed: "
                          f"{first}")
    configuration.retries = False
    return configuration


class KubeClient:
    """One side's Kubernetes API, every call bounded by `timeout` seconds."""

    def __init__(self, resolved: ResolvedContext, timeout: float) -> None:
        self.context = resolved.context
        self.server = resolved.cluster_server
        self.timeout = timeout
        self.api = k8s.ApiClient(_configuration(resolved, timeout))

    def close(self) -> None:
        self.api.close()

    # --- generic ------------------------------------------------------------------------------

    def request(self, method: str, path: str, query: dict[str, str] | None = None, body: Any = None,
                content_type: str | None = None, what: str = "", permission: str = "") -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        full = path + ("?" + urlencode(query) if query else "")
        method_, url, headers, body_, post = self.api.param_serialize(
            method, full, header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        try:
            # The REST client directly: kubernetes.stream swaps ApiClient.call_api while it opens
            # a websocket, which must not capture a concurrent plain request.
            response = self.api.rest_client.request(method_, url, headers=headers, body=body_,
                                                    post_params=post, _request_timeout=self.timeout)
            data = response.read()
        except Exception as e:  # urllib3, ssl and socket errors, wrapped or not
            raise KubeUnavailable(_network_failure(e, self.server)) from e
        if not 200 <= response.status < 300:
            failure = _http_failure(response.status, data, what or f"{method} {path}", permission)
            raise KubeUnavailable(failure, response.status)
        return json.loads(data) if data else {}

    def get(self, path: str, query: dict[str, str] | None = None, what: str = "",
            permission: str = "") -> Any:
        return self.request("GET", path, query, what=what, permission=permission)

    def list_items(self, path: str, label_selector: str | None = None, what: str = "",
             permission: str = "") -> list[dict[str, Any]]:
        query = {"labelSelector": label_selector} if label_selector else None
        return list(self.get(path, query, what, permission).get("items") or [])

    # --- writes (fix/apply.py only) -------------------------------------------------------------

    def create(self, path: str, body: dict[str, Any], dry_run: bool = False) -> Any:
        return self.request("POST", path, _write_query(dry_run), body, what=f"create {path}")

    def patch(self, path: str, body: Any, content_type: str, dry_run: bool = False,
              field_manager: str = FIELD_MANAGER) -> Any:
        query = {**_write_query(dry_run, field_manager)}
        return self.request("PATCH", path, query, body, content_type, what=f"patch {path}")

    def replace(self, path: str, body: dict[str, Any], dry_run: bool = False) -> Any:
        return self.request("PUT", path, _write_query(dry_run), body, what=f"replace {path}")

    # --- access reviews -----------------------------------------------------------------------

    def can_i(self, verb: str, resource: str, namespace: str, group: str = "", subresource: str = "") -> bool:
        attributes = {"verb": verb, "resource": resource, "group": group, "namespace": namespace}
        if subresource:
            attributes["subresource"] = subresource
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        review = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=body,
                              what="create selfsubjectaccessreviews")
        return bool((review.get("status") or {}).get("allowed"))

    # --- typed reads --------------------------------------------------------------------------

    def server_version(self) -> dict[str, Any]:
        return dict(self.get("/version", what="GET /version"))

    def crd_summary(self) -> dict[str, Any]:
        crd = self.get(CRD_PATH, what=f"the {ES_RESOURCE} CRD",
                       permission=f"get customresourcedefinitions {ES_RESOURCE} (cluster-wide)")
        spec = crd.get("spec") or {}
        versions = spec.get("versions") or []
        served = [v.get("name") for v in versions if v.get("served")]
        has_service = any(_rcs_properties(v).get("service") for v in versions)
        labels = (crd.get("metadata") or {}).get("labels") or {}
        return {"served_versions": served, "has_rcs_service": has_service,
                "eck_version": labels.get("app.kubernetes.io/version", "")}

    def elasticsearch_names(self, namespace: str) -> list[str]:
        items = self.list_items(_es_path(namespace), what=f"list elasticsearches in namespace {namespace}",
                          permission=f"list {ES_RESOURCE} in namespace {namespace}")
        return sorted(str(i["metadata"]["name"]) for i in items)

    def elasticsearch_everywhere(self) -> list[str]:
        """namespace/name of every Elasticsearch the user may list, across namespaces."""
        items = self.list_items(f"/apis/{ES_GROUP}/v1/elasticsearches", what="list elasticsearches",
                                permission=f"list {ES_RESOURCE} (all namespaces)")
        return sorted(f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in items)

    def elasticsearch(self, namespace: str, name: str) -> dict[str, Any]:
        obj = self.get(f"{_es_path(namespace)}/{name}", what=f"Elasticsearch {namespace}/{name}",
                       permission=f"get {ES_RESOURCE} in namespace {namespace}")
        (obj.get("metadata") or {}).pop("managedFields", None)
        return dict(obj)

    def core_list(self, resource: str, namespace: str, label_selector: str | None = None,
                  group_path: str = "/api/v1") -> list[dict[str, Any]]:
        items = self.list_items(f"{group_path}/namespaces/{namespace}/{resource}", label_selector,
                          what=f"list {resource} in namespace {namespace}",
                          permission=f"list {resource} in namespace {namespace}")
        for item in items:
            (item.get("metadata") or {}).pop("managedFields", None)
        return items

    def nodes(self) -> list[dict[str, Any]]:
        """The nodes' names, addresses and readiness: where a NodePort answers. Cluster-wide,
        so a namespaced Role often lacks it (the read is then Unavailable, naming the rule)."""
        items = self.list_items("/api/v1/nodes", what="list nodes",
                                permission="list nodes (cluster-wide, for NodePort addresses)")
        return [_node_summary(item) for item in items]

    def configmap(self, namespace: str, name: str) -> dict[str, Any]:
        obj = self.get(f"/api/v1/namespaces/{namespace}/configmaps/{name}",
                       what=f"ConfigMap {namespace}/{name}",
                       permission=f"get configmaps in namespace {namespace}")
        (obj.get("metadata") or {}).pop("managedFields", None)
        return dict(obj)

    def _secret(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(self.get(f"/api/v1/namespaces/{namespace}/secrets/{name}",
                             what=f"Secret {namespace}/{name}",
                             permission=f"get secrets in namespace {namespace}"))

    def secret_summary(self, namespace: str, name: str,
                       credential_keys: frozenset[str] = frozenset()) -> SecretSummary:
        """A Secret leaves this client only as its redacted summary; `credential_keys` names
        keys that hold an API key under another name (secureSettings `entries`)."""
        return summarize_secret(self._secret(namespace, name), credential_keys)

    def secret_text(self, namespace: str, name: str, key: str) -> str | None:
        """One raw value for the ES client (the elastic password): held in memory, never stored."""
        return secret_value(self._secret(namespace, name), key)

    def public_text(self, namespace: str, name: str, keys: tuple[str, ...]) -> str | None:
        """The first present key of a Secret holding public data (a CA certificate)."""
        secret = self._secret(namespace, name)
        for key in keys:
            value = secret_value(secret, key)
            if value:
                return value
        return None

    # --- port-forward -------------------------------------------------------------------------

    def open_portforward(self, namespace: str, pod: str, port: int) -> Any:
        """A socket-like object connected to `port` of the pod (one websocket, one TCP stream).

        The websocket is opened directly (`portforward_call`) rather than through CoreV1Api:
        importing the generated API classes costs seconds, and kubernetes.stream patches the
        shared ApiClient while it connects."""
        path = f"/api/v1/namespaces/{namespace}/pods/{pod}/portforward?ports={port}"
        _, url, headers, _, _ = self.api.param_serialize("GET", path, header_params={},
                                                          auth_settings=["BearerToken"])
        try:
            forward = portforward_call(self.api.configuration, "GET", url, headers=headers)
        except Exception as e:
            reason = _handshake_reason(str(getattr(e, "reason", "") or e))
            raise KubeUnavailable(Unavailable(
                f"port-forward to pod {namespace}/{pod}:{port} failed: {reason}", "unreachable",
                f"create pods/portforward in namespace {namespace}")) from e
        return forward.socket(port)


def _node_summary(node: dict[str, Any]) -> dict[str, Any]:
    """A Node reduced to what a NodePort address needs (labels, capacity and images dropped)."""
    status = node.get("status") or {}
    ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    return {"metadata": {"name": (node.get("metadata") or {}).get("name", "")},
            "status": {"addresses": list(status.get("addresses") or []), "conditions": ready}}


def _handshake_reason(text: str) -> str:
    """websocket-client's "Handshake status 404 Not Found -+-+- {headers} -+-+- {body}" as
    "404 Not Found: <the Status message>": the headers say nothing a user can act on."""
    parts = text.split(" -+-+- ")
    if len(parts) == 3 and parts[0].startswith("Handshake status "):
        status = parts[0][len("Handshake status "):]
        message = _status_message(parts[2].encode())
        text = f"{status}: {message}" if message else status
    return " ".join(scrub_known(text).split())


def _write_query(dry_run: bool, field_manager: str = FIELD_MANAGER) -> dict[str, str]:
    query = {"fieldManager": field_manager}
    if dry_run:
        query["dryRun"] = "All"
    return query


def _es_path(namespace: str) -> str:
    return f"/apis/{ES_GROUP}/v1/namespaces/{namespace}/elasticsearches"


def _rcs_properties(version: dict[str, Any]) -> dict[str, Any]:
    schema = (version.get("schema") or {}).get("openAPIV3Schema") or {}
    spec = (schema.get("properties") or {}).get("spec") or {}
    rcs = (spec.get("properties") or {}).get("remoteClusterServer") or {}
    return dict(rcs.get("properties") or {})
