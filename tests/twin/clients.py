"""The official clients pointed at a scenario, as a user (or the product) would point them.

`kube_api(kubeconfig, context)`: a `kubernetes` ApiClient from the scenario's kubeconfig.
`port_forward(api, ns, pod, port)`: a local listener that opens one websocket port-forward per
accepted TCP connection (kubernetes.stream.portforward carries one stream per websocket).
`es_client(api, ns, es, port)`: the official Elasticsearch 8 client through that port-forward,
authenticated with the `elastic` password from the ECK secret and verifying the HTTP
certificate against `<es>-es-http-certs-public` with the name `<es>-es-http.<ns>.svc`.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from kubernetes import client, config
from kubernetes.stream import portforward

TIMEOUT = 10.0


def kube_api(kubeconfig: Path, context: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig), context=context)


def secret_value(api: client.ApiClient, namespace: str, name: str, key: str) -> str:
    secret: Any = client.CoreV1Api(api).read_namespaced_secret(name, namespace)
    return base64.b64decode(secret.data[key]).decode()


def _pump(src: Any, dst: Any, done: threading.Event) -> None:
    try:
        while not done.is_set():
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        done.set()
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _serve_one(api: client.ApiClient, namespace: str, pod: str, port: int, conn: socket.socket) -> None:
    core = client.CoreV1Api(api)
    forward = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port))
    remote = forward.socket(port)
    remote.setblocking(True)
    remote.settimeout(TIMEOUT)
    conn.settimeout(TIMEOUT)
    done = threading.Event()
    threading.Thread(target=_pump, args=(remote, conn, done), daemon=True).start()
    _pump(conn, remote, done)
    done.wait(TIMEOUT)
    conn.close()
    forward.close()


@contextlib.contextmanager
def port_forward(api: client.ApiClient, namespace: str, pod: str, port: int) -> Iterator[int]:
    """Yield a local port on 127.0.0.1 forwarding to the pod's `port` through the API server."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopped = threading.Event()

    def accept_loop() -> None:
        while not stopped.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_serve_one, args=(api, namespace, pod, port, conn), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stopped.set()
        listener.close()
        thread.join(timeout=2)


def ready_pod(api: client.ApiClient, namespace: str, es: str) -> str:
    pods: Any = client.CoreV1Api(api).list_namespaced_pod(
        namespace, label_selector=f"elasticsearch.k8s.elastic.co/cluster-name={es}")
    for pod in pods.items:
        if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []):
            return str(pod.metadata.name)
    raise AssertionError(f"no ready pod for {namespace}/{es}")


def es_client(api: client.ApiClient, namespace: str, es: str, local_port: int) -> Elasticsearch:
    password = secret_value(api, namespace, f"{es}-es-elastic-user", "elastic")
    ca = secret_value(api, namespace, f"{es}-es-http-certs-public", "ca.crt")
    ca_file = Path(tempfile.mkdtemp(prefix="eckrc-ca-")) / "ca.crt"
    ca_file.write_text(ca)
    return Elasticsearch(f"https://127.0.0.1:{local_port}", basic_auth=("elastic", password),
                         ca_certs=str(ca_file), verify_certs=True,
                         ssl_assert_hostname=f"{es}-es-http.{namespace}.svc", request_timeout=TIMEOUT)


@contextlib.contextmanager
def es_for(kubeconfig: Path, context: str, namespace: str, es: str) -> Iterator[Elasticsearch]:
    """The official client to `es` through a port-forward to one of its ready pods."""
    api = kube_api(kubeconfig, context)
    with port_forward(api, namespace, ready_pod(api, namespace, es), 9200) as port:
        client_ = es_client(api, namespace, es, port)
        try:
            yield client_
        finally:
            client_.close()
            api.close()
