"""Streams of the API twin through the official Python client: websocket port-forward,
watch and pod logs."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward

from tests.twin.kube_store import Store
from tests.twin.kube_testkit import RESTRICTED_TOKEN, RunningApi, start_api


class EchoServer:
    """A TCP server on loopback that sends back what it receives, one thread per connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.address = self.sock.getsockname()[:2]
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            while data := conn.recv(65536):
                conn.sendall(data)

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.stop()


def pod(name: str, phase: str = "Running",
        containers: tuple[str, ...] = ("elasticsearch",)) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "logging"},
            "spec": {"containers": [{"name": c, "image": "es"} for c in containers]},
            "status": {"phase": phase}}


@pytest.fixture
def api(echo: EchoServer) -> Iterator[RunningApi]:
    store = Store()
    store.create("namespaces", {"metadata": {"name": "logging"}})
    store.create("pods", pod("es-0"))
    store.create("pods", pod("es-pending", phase="Pending"))
    store.create("pods", pod("multi", containers=("elasticsearch", "sidecar")))

    def target(namespace: str, name: str, port: int) -> tuple[str, int] | None:
        return (str(echo.address[0]), int(echo.address[1])) if (name, port) == ("es-0", 9200) else None

    def logs(namespace: str, name: str, container: str) -> str:
        return f"line 1 of {container}\nline 2 of {container}\n"

    running = start_api(store, pod_target=target, pod_logs=logs)
    yield running
    running.stop()


def core_api(api: RunningApi, tmp_path: Path, token: str | None = None) -> client.CoreV1Api:
    path = api.write_kubeconfig(tmp_path / "py.yaml", *([token] if token else []))
    return client.CoreV1Api(config.new_client_from_config(config_file=str(path)))


def test_port_forward_round_trips_bytes_to_the_pod_port(api: RunningApi, tmp_path: Path) -> None:
    core = core_api(api, tmp_path)
    forward = portforward(core.connect_get_namespaced_pod_portforward, "es-0", "logging", ports="9200")
    sock = forward.socket(9200)
    sock.settimeout(10)
    payload = b"GET / HTTP/1.1\r\n\r\n" + bytes(range(256)) * 300
    sock.sendall(payload)
    received = b""
    while len(received) < len(payload):
        received += sock.recv(65536)
    assert received == payload
    sock.close()
    assert forward.error(9200) is None
    [entry] = [e for e in api.audit.entries() if e.subresource == "portforward"]
    assert (entry.method, entry.code, entry.verb, entry.query) == ("GET", 101, "create", "ports=9200")


def test_port_forward_to_a_closed_port_reports_the_kubelet_error(api: RunningApi, tmp_path: Path) -> None:
    core = core_api(api, tmp_path)
    forward = portforward(core.connect_get_namespaced_pod_portforward, "es-0", "logging", ports="9300")
    sock = forward.socket(9300)
    sock.settimeout(10)
    assert sock.recv(10) == b""  # the stream ends
    error = forward.error(9300)
    assert error is not None and error.startswith("error forwarding port 9300 to pod ")
    assert "failed to connect to localhost:9300" in error and "connection refused" in error


def test_port_forward_to_a_pod_that_is_not_running_fails(api: RunningApi, tmp_path: Path) -> None:
    core = core_api(api, tmp_path)
    forward = portforward(core.connect_get_namespaced_pod_portforward, "es-pending", "logging", ports="9200")
    sock = forward.socket(9200)
    sock.settimeout(10)
    assert sock.recv(10) == b""
    assert "container not running" in (forward.error(9200) or "")


def test_port_forward_needs_create_on_pods_portforward(api: RunningApi, tmp_path: Path) -> None:
    core = core_api(api, tmp_path, RESTRICTED_TOKEN)
    with pytest.raises(ApiException) as denied:
        portforward(core.connect_get_namespaced_pod_portforward, "es-0", "logging", ports="9200")
    assert "403" in str(denied.value)


def test_pod_logs_name_the_container_and_tail(api: RunningApi, tmp_path: Path) -> None:
    core = core_api(api, tmp_path)
    expected = "line 1 of elasticsearch\nline 2 of elasticsearch\n"
    assert core.read_namespaced_pod_log("es-0", "logging") == expected
    assert core.read_namespaced_pod_log("multi", "logging", container="sidecar", tail_lines=1) == (
        "line 2 of sidecar\n")
    with pytest.raises(ApiException) as ambiguous:
        core.read_namespaced_pod_log("multi", "logging")
    assert ambiguous.value.status == 400
    assert "a container name must be specified for pod multi, choose one of: [elasticsearch sidecar]" in str(
        ambiguous.value.body)


def test_watch_streams_existing_then_new_objects(api: RunningApi, tmp_path: Path) -> None:
    core = core_api(api, tmp_path)
    seen: list[tuple[str, str]] = []
    watcher = watch.Watch()
    timer = threading.Timer(0.3, lambda: api.store.create(
        "configmaps", {"metadata": {"name": "late", "namespace": "logging"}}))
    timer.start()
    for event in watcher.stream(core.list_namespaced_pod, "logging", timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            api.store.create("pods", pod("es-1"))
        if len(seen) == 4:
            watcher.stop()
    timer.join()
    assert seen == [("ADDED", "es-0"), ("ADDED", "es-pending"), ("ADDED", "multi"), ("ADDED", "es-1")]
