"""A minimal HTTPS client for the twin's own set-up steps: talks to an Elasticsearch pod the way
a user with the `elastic` password and the HTTP CA would (public objects only)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
from typing import Any

from tests.twin.eck_config import decode_secret_data

TIMEOUT = 5.0


class _Connection(http.client.HTTPSConnection):
    """HTTPS to an address, verifying the certificate for another name (the service DNS name)."""

    def __init__(self, host: str, port: int, server_name: str, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=TIMEOUT, context=context)
        self._server_name = server_name
        self._ctx = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self._server_name)


class EsApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {json.dumps(body)[:300]}")
        self.status = status
        self.body = body


def es_call(env: Any, namespace: str, es: str, method: str, path: str, body: Any = None,
            expect_ok: bool = True, pod: str | None = None) -> tuple[int, Any]:
    """One REST call as `elastic`, to `pod` (default: the first pod) of `es` in environment `env`."""
    store = env.store
    password = decode_secret_data(store.get("secrets", namespace, f"{es}-es-elastic-user"))["elastic"]
    ca = decode_secret_data(store.get("secrets", namespace, f"{es}-es-http-certs-public"))["ca.crt"]
    address = env.pod_target(namespace, pod or env.first_pod(namespace, es), 9200)
    if address is None:
        raise EsApiError(503, {"error": f"no HTTP listener for {namespace}/{es}"})
    context = ssl.create_default_context(cadata=ca)
    conn = _Connection(address[0], address[1], f"{es}-es-http.{namespace}.svc", context)
    token = base64.b64encode(f"elastic:{password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    payload = json.loads(raw) if raw else None
    if expect_ok and response.status >= 300:
        raise EsApiError(response.status, payload)
    return response.status, payload
