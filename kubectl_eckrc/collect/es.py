"""The only module that imports the Elasticsearch client.

`EsClient` talks to one cluster's REST API (through a port-forward or a user URL), with a
timeout on every request and no retries. Each read returns the JSON answer or raises
`EsUnavailable` carrying an `Unavailable` with a one-line reason that says what to do:
the privilege a 403 lacks, TLS versus plaintext, an endpoint that is not Elasticsearch.
"""

from __future__ import annotations

import logging
import re
import ssl
import sys
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kubectl_eckrc.collect.failures import ReadFailed
from kubectl_eckrc.redact import scrub_known
from kubectl_eckrc.snapshot import Unavailable

# elastic_transport imports aiohttp, when it is installed, for an async transport this tool
# never uses: about 0.4 s of every run's start-up. A None entry makes that optional import
# fail fast; it is removed right after, so any other code may still import aiohttp.
_BLOCK_AIOHTTP = "aiohttp" not in sys.modules
if _BLOCK_AIOHTTP:
    sys.modules["aiohttp"] = None  # type: ignore[assignment]
import elastic_transport  # noqa: E402
from elasticsearch import ApiError, Elasticsearch, ElasticsearchWarning, UnsupportedProductError  # noqa: E402

if _BLOCK_AIOHTTP:
    del sys.modules["aiohttp"]

# A deprecation `Warning` header from the server would otherwise print a Python warning on
# stderr in the middle of a report; what matters reaches the findings through the answers.
warnings.filterwarnings("ignore", category=ElasticsearchWarning)

# The privilege each read needs, for the 403 message (Elasticsearch security privileges).
PRIVILEGES = {
    "info": "cluster privilege monitor",
    "health": "cluster privilege monitor",
    "license": "cluster privilege monitor",
    "settings": "cluster privilege monitor",
    "node_settings": "cluster privilege monitor",
    "remote_info": "cluster privilege monitor",
    "resolve_cluster": "an index privilege granting indices:admin/resolve/cluster (view_index_metadata, "
                       "read, read_cross_cluster or manage, on any index)",
    "api_key": "cluster privilege manage_api_key (or read_security)",
    "roles": "cluster privilege read_security",
    "use": "index privilege read on <alias>:<pattern> (remote_indices)",
    "user": "cluster privilege read_security",
}
RUN_AS_HEADER = "es-security-runas-user"
# Answers to a cross-cluster read that are what a user would get, not a failed read.
REFUSALS = (400, 403, 404)


# The transport logs every failed node at WARNING; those failures are reported as findings, so
# keep the log off stderr (Python's last-resort handler would print it).
logging.getLogger("elastic_transport").addHandler(logging.NullHandler())
logging.getLogger("elastic_transport").propagate = False


class EsUnavailable(ReadFailed):
    """A failed read of this client."""


@dataclass(frozen=True)
class EsAuth:
    """Credentials held in memory only; repr never shows them."""

    username: str | None = None
    password: str | None = None
    api_key: str | None = None

    def __repr__(self) -> str:
        kind = "api-key" if self.api_key else "basic" if self.username else "none"
        return f"EsAuth({kind})"


class _NamedContext(ssl.SSLContext):
    """Verifies (and sends as SNI) a fixed name whatever address was dialled: behind a
    port-forward the URL says 127.0.0.1 while the certificate names `<es>-es-http.<ns>.svc`.
    The client rejects `ssl_context` combined with `ssl_assert_hostname`, hence this."""

    pinned_name: str | None = None

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> Any:
        if self.pinned_name:
            kwargs["server_hostname"] = self.pinned_name
        return super().wrap_socket(sock, *args, **kwargs)


def _ssl_context(url: str, ca_pem: str | None, server_name: str | None,
                 system_trust: bool) -> ssl.SSLContext | None:
    if not url.startswith("https:"):
        return None
    context = _NamedContext(ssl.PROTOCOL_TLS_CLIENT)
    context.pinned_name = server_name
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if system_trust:
        context.load_default_certs()
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    return context


class EsClient:
    """One side's Elasticsearch REST API.

    `server_name` is the name the certificate must carry: `<es>-es-http.<ns>.svc` behind a
    port-forward (the URL says 127.0.0.1), else None to check the URL's own host."""

    def __init__(self, url: str, auth: EsAuth, timeout: float, ca_pem: str | None = None,
                 server_name: str | None = None, system_trust: bool = False, connections: int = 2) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        # Few connections: behind a port-forward each one is a websocket through the API server.
        options: dict[str, Any] = {
            "request_timeout": timeout,
            "max_retries": 0,
            "retry_on_timeout": False,
        }
        context = _ssl_context(self.url, ca_pem, server_name, system_trust)
        if context is not None:
            options["ssl_context"] = context
        if auth.api_key:
            options["api_key"] = auth.api_key
        elif auth.username is not None:
            options["basic_auth"] = (auth.username, auth.password or "")
        self._options = options
        self._es = Elasticsearch(self.url, connections_per_node=connections, **options)

    def widened(self, connections: int) -> EsClient:
        """The same endpoint and credentials with its own pool, for reads that may each wait
        on a broken link (`_resolve/cluster` per alias) without queueing behind one another."""
        twin = object.__new__(EsClient)
        twin.url, twin.timeout, twin._options = self.url, self.timeout, self._options
        twin._es = Elasticsearch(self.url, connections_per_node=connections, **self._options)
        return twin

    def close(self) -> None:
        self._es.close()

    def request(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None,
                what: str = "") -> Any:
        """Generic call (fix uses it for PUT _cluster/settings and API-key creation)."""
        headers = {"accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/json"
        try:
            response = self._es.perform_request(method, path, params=params, headers=headers, body=body)
        except Exception as e:
            failure = describe_error(e, self.url, f"{method} {path}", PRIVILEGES.get(what, ""))
            raise EsUnavailable(failure, _status_of(e)) from e
        return response.body

    def get(self, path: str, what: str, params: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, params=params, what=what)

    # --- typed reads --------------------------------------------------------------------------

    def info(self) -> Any:
        return self.get("/", "info")

    def health(self) -> Any:
        return self.get("/_cluster/health", "health")

    def license(self) -> Any:
        return self.get("/_license", "license")

    def settings(self) -> Any:
        params = {"flat_settings": "true", "include_defaults": "false"}
        return self.get("/_cluster/settings", "settings", params)

    def node_settings(self) -> Any:
        return self.get("/_nodes/settings", "node_settings", {"flat_settings": "true"})

    def remote_info(self) -> Any:
        return self.get("/_remote/info", "remote_info")

    def resolve_cluster(self, alias: str, timeout: float) -> Any:
        """`timeout` bounds the server's connection attempt to the remote; servers that predate
        the parameter reject it ("unrecognized parameter"), and are asked again without it."""
        path = f"/_resolve/cluster/{quote(alias)}:*"
        try:
            return self.get(path, "resolve_cluster", {"timeout": f"{max(1, int(timeout))}s"})
        except EsUnavailable as e:
            reason = e.unavailable.reason
            if "unrecognized parameter" not in reason or "timeout" not in reason:
                raise
        return self.get(path, "resolve_cluster")

    def api_key(self, key_id: str) -> Any:
        return self.get("/_security/api_key", "api_key", {"id": key_id})

    def roles(self) -> Any:
        return self.get("/_security/role", "roles")

    def user(self, name: str) -> Any:
        return self.get(f"/_security/user/{quote(name)}", "user")

    def use(self, path: str, params: dict[str, str] | None = None, run_as: str | None = None) -> Any:
        """A read as a user would make it (run_as with `run_as`): a refusal (400, 403, 404) is
        the answer, `{"status": N, "error": {...}}`; anything else that fails is a failed read."""
        headers = {"accept": "application/json"}
        if run_as:
            headers[RUN_AS_HEADER] = run_as
        try:
            return self._es.perform_request("GET", path, params=params, headers=headers).body
        except Exception as e:
            refusal = _refusal(e)
            if refusal is not None:
                return refusal
            failure = describe_error(e, self.url, f"GET {path}", PRIVILEGES["use"])
            raise EsUnavailable(failure, _status_of(e)) from e


def _refusal(error: Exception) -> dict[str, Any] | None:
    """Elasticsearch's own 400/403/404 error answer, as data."""
    if not isinstance(error, ApiError) or error.meta.status not in REFUSALS:
        return None
    body = error.body if isinstance(error.body, dict) else {}
    product = (getattr(error.meta, "headers", {}) or {}).get("x-elastic-product", "")
    if product != "Elasticsearch" or not isinstance(body.get("error"), dict):
        return None
    return {"status": error.meta.status, "error": body["error"]}


def _status_line(error: ApiError) -> str:
    body = error.body
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            reason = err.get("reason") or err.get("type") or ""
            return " ".join(str(reason).split())
        if err:
            return " ".join(str(err).split())
    return " ".join(str(error.message).split())


PLAINTEXT_SIGNS = ("wrong version number", "record layer failure", "unknown protocol",
                   "packet length too long", "http request")
SSL_SOURCE = re.compile(r"\s*\(_ssl\.c:\d+\)?")


def _tls_reason(text: str) -> str:
    low = text.lower()
    if any(sign in low for sign in PLAINTEXT_SIGNS):
        return "plaintext where TLS was expected (the server does not speak TLS)"
    if "certificate verify failed" in low:
        detail = SSL_SOURCE.sub("", text.split("certificate verify failed")[-1]).strip(" :().")
        return "certificate verify failed: " + detail
    return "TLS failure: " + SSL_SOURCE.sub("", text)


def _status_of(error: Exception) -> int:
    return int(error.meta.status) if isinstance(error, ApiError) else 0


def describe_error(error: Exception, url: str, what: str, privilege: str) -> Unavailable:
    """One line a user can act on, for any failure of one ES request."""
    if isinstance(error, UnsupportedProductError):
        return Unavailable(f"{url} is not Elasticsearch (no X-Elastic-Product header)", "error",
                           "an Elasticsearch REST URL")
    if isinstance(error, ApiError):
        headers = getattr(error.meta, "headers", {}) or {}
        if headers.get("x-elastic-product", "") != "Elasticsearch" and error.meta.status != 401:
            return Unavailable(f"{url} is not Elasticsearch (no X-Elastic-Product header, HTTP "
                               f"{error.meta.status})", "error", "an Elasticsearch REST URL")
        return _api_failure(error, what, privilege)
    text = " ".join(scrub_known(_chain_text(error)).split())
    if isinstance(error, elastic_transport.ConnectionTimeout):
        return Unavailable(f"{what} at {url}: timed out", "timeout")
    if isinstance(error, elastic_transport.TlsError):
        return Unavailable(f"{what} at {url}: {_tls_reason(text)}", "unreachable")
    if isinstance(error, elastic_transport.ConnectionError):
        if "refused" in text.lower():
            return Unavailable(f"{what} at {url}: connection refused", "unreachable")
        if "wrong version number" in text.lower() or "ssl" in text.lower():
            return Unavailable(f"{what} at {url}: {_tls_reason(text)}", "unreachable")
        return Unavailable(f"{what} at {url}: cannot connect: {text}", "unreachable")
    if isinstance(error, elastic_transport.SerializationError):
        return Unavailable(f"{url} is not Elasticsearch (the answer is not JSON)", "error",
                           "an Elasticsearch REST URL")
    return Unavailable(f"{what} at {url}: {type(error).__name__}: {text}", "error")


def _chain_text(error: BaseException) -> str:
    """The client's own message is terse ("Connection error"): the cause chain says why."""
    texts: list[str] = []
    current: BaseException | None = error
    while current is not None and len(texts) < 5:
        text = str(getattr(current, "message", "") or current)
        if text and text not in texts:
            texts.append(text)
        current = current.__cause__ or current.__context__
    return texts[-1] if len(texts) == 1 else ": ".join(texts[1:])


def _api_failure(error: ApiError, what: str, privilege: str) -> Unavailable:
    status = error.meta.status
    reason = scrub_known(_status_line(error))
    if status == 401:
        return Unavailable(f"401 Unauthorized on {what}: Elasticsearch rejected the credentials", "forbidden",
                           "the elastic user's password, or --es-api-key-env with a valid key")
    if status == 403:
        return Unavailable(f"403 Forbidden on {what}: {reason}", "forbidden", privilege)
    if status == 404:
        return Unavailable(f"404 on {what}: {reason}", "not-found")
    return Unavailable(f"{status} on {what}: {reason}", "error")
