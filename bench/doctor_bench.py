"""Benchmarks of `kubectl eckrc doctor` against the twin (what users will measure, product.md).

1. healthy pair: doctor's wall time vs the manual procedure of domain.md §2 done with real
   kubectl, curl and openssl against the same twin (median of N runs, ratio);
2. black hole: doctor's wall time when the link address accepts TCP and never answers, vs
   --timeout;
3. peak RSS of a doctor run (getrusage of the children);
4. many links: doctor's wall time with 1 alias vs many aliases on the same pair;
5. the fleet: doctor -A on `fleet` (3 links over 3 contexts) side by side with a single-link
   doctor on the same twin, and doctor -A on `fleet-synthetic-N` (N Elasticsearch resources).

Run: scripts/bench [--runs N] [--links N] [--fleet-clusters N] [--only-fleet]. Prints a
Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTES: list[str] = []
PY = sys.executable
DOCTOR = [PY, "-m", "kubectl_eckrc.cli", "doctor"]
LOCAL = ("local", "logging", "local-es")
REMOTE = ("remote", "search", "remote-es")


# --- the twin ----------------------------------------------------------------------------------


@contextlib.contextmanager
def twin(scenario: str, extra: tuple[str, ...] = (), ready_within: float = 60) -> Iterator[Path]:
    """Start `python -m tests.twin up` in the background; yield its kubeconfig."""
    work = Path(tempfile.mkdtemp(prefix="eckrc-bench-"))
    kubeconfig = work / "kubeconfig"
    log = (work / "twin.log").open("w+")
    proc = subprocess.Popen([PY, "-m", "tests.twin", "up", "--scenario", scenario, "--kubeconfig",
                             str(kubeconfig), *extra], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            log.seek(0)
            if any(line.startswith("ready") for line in log):
                break
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"twin {scenario} did not start:\n{log.read()}")
            time.sleep(0.05)
        else:
            raise RuntimeError(f"twin {scenario} not ready after {ready_within:g} s")
        yield kubeconfig
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- doctor ------------------------------------------------------------------------------------


def run_doctor(kubeconfig: Path, *args: str) -> tuple[float, int, dict[str, Any]]:
    """One doctor run in local's context (JSON): seconds, exit code, the document."""
    started = time.monotonic()
    command = [*DOCTOR, "--kubeconfig", str(kubeconfig), "--context", "local", "-o", "json", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    elapsed = time.monotonic() - started
    try:
        document = json.loads(result.stdout)
    except ValueError:
        document = {"error": result.stderr.strip()}
    return elapsed, result.returncode, document


def doctor(kubeconfig: Path, *args: str) -> tuple[float, int, dict[str, Any]]:
    """A single-link doctor run against the `remote` context."""
    return run_doctor(kubeconfig, "--remote-context", "remote", *args)


# --- the manual procedure ------------------------------------------------------------------------


def kubectl(kubeconfig: Path, context: str, namespace: str, *args: str) -> Any:
    out = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "--context", context, "-n", namespace,
                          *args, "-o", "json"], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def secret_key(secret: Any, key: str) -> str:
    data = secret.get("data") or {}
    return base64.b64decode(data.get(key, "")).decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def port_forward(kubeconfig: Path, context: str, namespace: str, pod: str) -> Iterator[int]:
    """`kubectl port-forward`, else (the twin speaks only the v4.channel.k8s.io websocket
    protocol, not kubectl's SPDY tunnel) the same websocket port-forward from Python."""
    port = free_port()
    proc = subprocess.Popen(["kubectl", "--kubeconfig", str(kubeconfig), "--context", context,
                             "-n", namespace, "port-forward", f"pod/{pod}", f"{port}:9200"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "Forwarding from" in line:
        try:
            yield port
        finally:
            proc.terminate()
            proc.wait(10)
        return
    proc.wait(10)
    note = (f"kubectl port-forward fails on the twin ({line.strip()}): ES reached through the same "
            "websocket port-forward from Python")
    if note not in NOTES:
        NOTES.append(note)
    with python_port_forward(kubeconfig, context, namespace, pod) as fallback:
        yield fallback


@contextlib.contextmanager
def python_port_forward(kubeconfig: Path, context: str, namespace: str, pod: str) -> Iterator[int]:
    from kubectl_eckrc.collect.kube import KubeClient
    from kubectl_eckrc.collect.portforward import PortForwardListener
    from kubectl_eckrc.kubeconfig import resolve
    from kubectl_eckrc.options import SideTarget

    kube = KubeClient(resolve(SideTarget(str(kubeconfig), context, namespace, None)), 10)
    with PortForwardListener(lambda: kube.open_portforward(namespace, pod, 9200), 30) as listener:
        yield listener.port


def curl(port: int, ca_file: Path, host: str, password: str, path: str) -> dict[str, object]:
    out = subprocess.run(["curl", "-sS", "--fail-with-body", "--max-time", "10", "--cacert", str(ca_file),
                          "--resolve", f"{host}:{port}:127.0.0.1", "-u", f"elastic:{password}",
                          f"https://{host}:{port}{path}"], capture_output=True, text=True, timeout=30)
    return dict(json.loads(out.stdout or "{}"))


def tls_handshake(address: str, server_name: str) -> str:
    host, _, port = address.rpartition(":")
    args = ["openssl", "s_client", "-connect", f"{host}:{port}", "-showcerts"]
    if server_name:
        args += ["-servername", server_name]
    out = subprocess.run(args, input="", capture_output=True, text=True, timeout=15)
    return out.stdout


def es_reads(kubeconfig: Path, side: tuple[str, str, str], work: Path, paths: list[str]) -> list[Any]:
    context, ns, es = side
    user_secret = kubectl(kubeconfig, context, ns, "get", "secret", f"{es}-es-elastic-user")
    password = secret_key(user_secret, "elastic")
    ca = work / f"{es}-http-ca.crt"
    http_certs = kubectl(kubeconfig, context, ns, "get", "secret", f"{es}-es-http-certs-public")
    ca.write_text(secret_key(http_certs, "ca.crt"))
    selector = f"elasticsearch.k8s.elastic.co/cluster-name={es}"
    pods = kubectl(kubeconfig, context, ns, "get", "pods", "-l", selector)
    pod = sorted(p["metadata"]["name"] for p in pods["items"])[0]
    with port_forward(kubeconfig, context, ns, pod) as port:
        return [curl(port, ca, f"{es}-es-http.{ns}.svc", password, p) for p in paths]


def manual_procedure(kubeconfig: Path) -> None:
    """domain.md §2 verified step by step, as a person (or their script) does it today."""
    work = Path(tempfile.mkdtemp(prefix="eckrc-manual-"))
    r_ctx, r_ns, r_es = REMOTE
    l_ctx, l_ns, l_es = LOCAL
    # remote side: RCS on, its service, endpoints, exposure, the transport CA
    kubectl(kubeconfig, r_ctx, r_ns, "get", "elasticsearch", r_es)
    kubectl(kubeconfig, r_ctx, r_ns, "get", "services")
    kubectl(kubeconfig, r_ctx, r_ns, "get", "endpoints", f"{r_es}-es-remote-cluster")
    transport = kubectl(kubeconfig, r_ctx, r_ns, "get", "secret", f"{r_es}-es-transport-certs-public")
    remote_ca = secret_key(transport, "ca.crt")
    # local side: nodeSet config, mounted CA, secure settings, pods and events
    spec = kubectl(kubeconfig, l_ctx, l_ns, "get", "elasticsearch", l_es)["spec"]
    for volume in spec["nodeSets"][0].get("podTemplate", {}).get("spec", {}).get("volumes", []):
        if "configMap" in volume:
            cm = kubectl(kubeconfig, l_ctx, l_ns, "get", "configmap", volume["configMap"]["name"])
            _ = remote_ca in json.dumps(cm)
    key_ids = []
    for entry in spec.get("secureSettings", []):
        secret = kubectl(kubeconfig, l_ctx, l_ns, "get", "secret", entry["secretName"])
        for key in (secret.get("data") or {}):
            if key.endswith(".credentials"):
                key_ids.append(base64.b64decode(secret_key(secret, key)).decode().split(":")[0])
    kubectl(kubeconfig, l_ctx, l_ns, "get", "pods")
    kubectl(kubeconfig, l_ctx, l_ns, "get", "events")
    # the APIs: settings, _remote/info, _resolve/cluster, licences, the API key
    basics = ["/_cluster/settings?flat_settings=true", "/_license", "/_remote/info", "/"]
    settings = es_reads(kubeconfig, LOCAL, work, basics)[0]
    persistent = settings.get("persistent") or {}
    aliases = sorted({m.group(1) for k in persistent if (m := re.match(r"cluster\.remote\.([^.]+)\.", k))})
    es_reads(kubeconfig, LOCAL, work, [f"/_resolve/cluster/{a}:*" for a in aliases])
    es_reads(kubeconfig, REMOTE, work, ["/", "/_license", *[f"/_security/api_key?id={k}" for k in key_ids]])
    # the network: a TLS handshake to every proxy_address with its server_name
    for alias in aliases:
        tls_handshake(str(persistent.get(f"cluster.remote.{alias}.proxy_address", "")),
                      str(persistent.get(f"cluster.remote.{alias}.server_name", "")))


# --- measurements ------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU of this process and its finished children (the Python port-forward fallback of
    the manual procedure runs in this process)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(fn: Any) -> tuple[float, float, Any]:
    """(wall s, CPU s, result) of one call."""
    cpu, started = cpu_seconds(), time.monotonic()
    result = fn()
    return time.monotonic() - started, cpu_seconds() - cpu, result


def bench_healthy(runs: int) -> list[str]:
    """doctor and the manual procedure alternate, so that both see the same machine load."""
    with twin("healthy") as kubeconfig:
        doctor(kubeconfig)  # warm-up (file cache), not counted
        walls, cpus, manual_walls, manual_cpus = [], [], [], []
        code, findings = 0, 0
        rss_mb = 0.0
        manual_error = ""
        for _ in range(runs):
            wall, cpu, (_, code, document) = measured(lambda: doctor(kubeconfig))
            walls.append(wall)
            cpus.append(cpu)
            findings = len(document.get("findings") or [])
            rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            if manual_error:
                continue
            try:
                wall, cpu, _ = measured(lambda: manual_procedure(kubeconfig))
            except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
                manual_error = str(e).splitlines()[0]
                continue
            manual_walls.append(wall)
            manual_cpus.append(cpu)
    median = statistics.median
    lines = [f"- doctor on `healthy`: median {median(walls):.2f} s wall (min {min(walls):.2f}, "
             f"max {max(walls):.2f}), {median(cpus):.2f} s CPU, over {runs} runs; exit {code}, "
             f"{findings} findings",
             f"- peak RSS of a doctor run: {rss_mb:.0f} MiB"]
    if manual_error:
        return [*lines, f"- manual procedure could not run here: {manual_error}"]
    lines.append(f"- manual procedure (kubectl + curl + openssl): median {median(manual_walls):.2f} s "
                 f"wall (min {min(manual_walls):.2f}, max {max(manual_walls):.2f}), "
                 f"{median(manual_cpus):.2f} s CPU")
    lines.append(f"- doctor / manual: wall {median(walls) / median(manual_walls):.2f}, "
                 f"CPU {median(cpus) / median(manual_cpus):.2f}")
    return lines


def bench_blackhole(timeouts: tuple[float, ...]) -> list[str]:
    lines = []
    with twin("blackhole") as kubeconfig:
        for timeout in timeouts:
            elapsed, code, _ = doctor(kubeconfig, "--timeout", str(timeout))
            lines.append(f"- doctor on `blackhole` with --timeout {timeout:g}: {elapsed:.2f} s "
                         f"(budget {timeout + 1:g} s), exit {code}")
    return lines


@contextlib.contextmanager
def twin_with_links(count: int) -> Iterator[Path]:
    """`healthy` plus `count - 1` more aliases to the same remote (registered like the first,
    through PUT _cluster/settings), started in this process."""
    sys.path.insert(0, str(ROOT))
    from tests.twin.es_api import es_call
    from tests.twin.scenarios import LOCAL_ES, LOCAL_NS, RCS_DNS, start_scenario

    running = start_scenario("healthy")
    try:
        settings = {}
        for index in range(1, count):
            prefix = f"cluster.remote.extra-{index:02d}"
            settings.update({f"{prefix}.mode": "proxy", f"{prefix}.proxy_address": running.proxy_address,
                             f"{prefix}.server_name": RCS_DNS})
        if settings:
            es_call(running.local, LOCAL_NS, LOCAL_ES, "PUT", "/_cluster/settings", {"persistent": settings})
        yield Path(running.kubeconfig)
    finally:
        running.stop()


def bench_links(count: int, runs: int) -> list[str]:
    lines = []
    for links in (1, count):
        with twin_with_links(links) as kubeconfig:
            doctor(kubeconfig)  # warm-up
            samples = [doctor(kubeconfig)[0] for _ in range(runs)]
        median = statistics.median(samples)
        lines.append(f"- doctor with {links} link(s) to one remote: median {median:.2f} s over {runs} runs")
    return lines


FLEET = ("-A", "--remote-context", "remote", "--remote-context", "remote2")


def bench_fleet(runs: int, clusters: int) -> list[str]:
    """doctor -A and a single-link doctor alternate on the same twin, so both see the same load."""
    single = ("-n", "logging", "--es", "local-es", "--remote-context", "remote", "--remote-namespace",
              "search", "--remote-es", "remote-es", "--alias", "remote-es")
    with twin("fleet") as kubeconfig:
        run_doctor(kubeconfig, *FLEET)  # warm-up
        singles, fleets, links, code = [], [], 0, 0
        for _ in range(runs):
            singles.append(run_doctor(kubeconfig, *single)[0])
            elapsed, code, document = run_doctor(kubeconfig, *FLEET)
            fleets.append(elapsed)
            links = len(document.get("links") or [])
    median = statistics.median
    lines = [f"- single-link doctor on `fleet` (local-es -> remote-es): median {median(singles):.2f} s "
             f"(min {min(singles):.2f}) over {runs} runs",
             f"- doctor -A on `fleet` ({links} links, 3 contexts): median {median(fleets):.2f} s "
             f"(min {min(fleets):.2f}), exit {code}",
             f"- fleet / single link: {median(fleets) / median(singles):.2f} (target: at most 3)"]
    with twin(f"fleet-synthetic-{clusters}", ready_within=900) as kubeconfig:
        run_doctor(kubeconfig, *FLEET)  # warm-up
        samples, documents = [], []
        for _ in range(max(1, runs // 2)):
            elapsed, code, document = run_doctor(kubeconfig, *FLEET)
            samples.append(elapsed)
            documents.append(document)
        found = documents[-1].get("links") or []
        states = ", ".join(sorted({link["state"] for link in found}))
        lines.append(f"- doctor -A on `fleet-synthetic-{clusters}` ({clusters} Elasticsearch over 3 "
                     f"contexts, {len(found)} links, {states}): median {median(samples):.2f} s "
                     f"(max {max(samples):.2f}) over {len(samples)} runs, exit {code} (target: under 10 s)")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--links", type=int, default=30)
    parser.add_argument("--skip-links", action="store_true")
    parser.add_argument("--fleet-clusters", type=int, default=100)
    parser.add_argument("--only-fleet", action="store_true", help="only the fleet figures")
    args = parser.parse_args()
    os.chdir(ROOT)
    print(f"## doctor benchmarks ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, Python "
          f"{sys.version.split()[0]})\n")
    if not args.only_fleet:
        for line in bench_healthy(args.runs) + bench_blackhole((2.0, 5.0)):
            print(line, flush=True)
    for line in bench_fleet(args.runs, args.fleet_clusters):
        print(line, flush=True)
    if not args.skip_links and not args.only_fleet:
        for line in bench_links(args.links, args.runs):
            print(line, flush=True)
    for note in NOTES:
        print(f"- note: {note}")
    print(f"- load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
