"""The real JDK as the TLS client of the twin's local Elasticsearch nodes.

`jdk/TwinTlsClient.java` is compiled once into a cache directory outside the repository (keyed
by the source's hash) and runs as one long-lived JVM per process, shared by every twin: a JVM
start costs far more than a handshake. Requests are JSON lines with an id, so handshakes of
several links run at once. The JVM ends when its stdin closes (our process died) and is
terminated at exit.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

SOURCE = Path(__file__).with_name("jdk") / "TwinTlsClient.java"
MAIN_CLASS = "TwinTlsClient"
START_TIMEOUT = 60.0
JVM_OPTIONS = ("-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m", "-Xss512k")


class JdkUnavailable(RuntimeError):
    """No usable java/javac: scripts/_bootstrap.sh installs openjdk-17-jdk-headless."""


class JdkGone(JdkUnavailable):
    """The helper stopped while a handshake was pending (the process is exiting)."""


@dataclass(frozen=True)
class Handshake:
    """What the JDK client saw: connected, or the exception Elasticsearch would log."""

    connected: bool
    exception: str = ""
    message: str = ""
    causes: tuple[tuple[str, str], ...] = ()
    stage: str = ""  # server_name | connect | handshake ("" when connected)
    chain: tuple[str, ...] = ()  # PEM certificates the server presented, leaf first
    cipher: str = ""
    protocol: str = ""
    local: tuple[str, int] | None = None  # the JDK socket's own address, once connected
    session: str = ""  # with relay: the id `ended()` answers for
    relay_port: int = 0  # with relay: the loopback port carrying the session's plaintext

    @property
    def certificate_rejected(self) -> bool:
        """The trust manager refused the server (PKIX or endpoint identification)."""
        return any(c[0].startswith(("java.security.cert.", "sun.security.")) for c in self.causes)


@dataclass(frozen=True)
class ClientConfig:
    """One outbound TLS configuration, in Elasticsearch's terms."""

    verification_mode: str = "full"
    trust: tuple[str, ...] | None = None  # PEM bundles of certificate_authorities; None = JDK default
    key_pem: str | None = None  # PKCS#8 PEM, with cert_pem, for profiles that present a certificate
    cert_pem: str | None = None


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] = field(default_factory=dict)


class JdkTlsClient:
    """One JVM running TwinTlsClient; thread-safe."""

    def __init__(self) -> None:
        java = shutil.which("java")
        if java is None:
            raise JdkUnavailable("java not found on PATH (install openjdk-17-jdk-headless)")
        classes = compiled_classes()
        self._proc = subprocess.Popen(
            [java, *JVM_OPTIONS, "-cp", str(classes), MAIN_CLASS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._ready = threading.Event()
        self.java_version = ""
        self._reader = threading.Thread(target=self._read, daemon=True, name="jdk-tls-reader")
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise JdkUnavailable("the JDK TLS helper did not start")

    def _read(self) -> None:
        stdout: IO[str] | None = self._proc.stdout
        assert stdout is not None
        for line in stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            if answer.get("ready"):
                self.java_version = str(answer.get("java", ""))
                self._ready.set()
                continue
            with self._lock:
                pending = self._pending.pop(str(answer.get("id")), None)
            if pending is not None:
                pending.answer = answer
                pending.done.set()
        with self._lock:  # the JVM is gone: wake every waiter
            waiting, self._pending = list(self._pending.values()), {}
        for pending in waiting:
            pending.answer = {"connected": False, "helper_error": "the JDK TLS helper exited", "gone": True}
            pending.done.set()

    def handshake(
        self,
        ip: str,
        port: int,
        peer_host: str,
        server_name: str | None,
        config: ClientConfig,
        timeout: float,
        relay: bool = False,
    ) -> Handshake:
        """One handshake to ip:port as a node dialling `peer_host` (the proxy_address host).

        With `relay` the JDK keeps the session and relays its plaintext on `relay_port`.
        """
        request = {
            "relay": relay,
            "ip": ip,
            "port": port,
            "peer_host": peer_host,
            "server_name": server_name,
            "verification_mode": config.verification_mode,
            "trust": list(config.trust) if config.trust is not None else None,
            "key": config.key_pem,
            "cert": config.cert_pem,
            "timeout_ms": int(timeout * 1000),
        }
        # Connect and handshake each get `timeout`; the margin covers JIT warm-up.
        return _handshake(self._call(request, 2 * timeout + 10.0))

    def ended(self, session: str) -> tuple[str, str]:
        """(exception class, message) that ended a relayed session ("", "" when unknown)."""
        answer = self._call({"op": "ended", "session": session}, 10.0)
        ending = answer.get("ending") or {}
        return str(ending.get("exception") or ""), str(ending.get("message") or "")

    def _call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        request_id = str(next(self._ids))
        request["id"] = request_id
        pending = _Pending()
        with self._lock:
            self._pending[request_id] = pending
        try:
            stdin = self._proc.stdin
            assert stdin is not None
            with self._lock:
                stdin.write(json.dumps(request) + "\n")
                stdin.flush()
        except (OSError, ValueError) as err:
            raise JdkGone(f"the JDK TLS helper is gone: {err}") from None
        if not pending.done.wait(timeout):
            with self._lock:
                self._pending.pop(request_id, None)
            raise JdkUnavailable("the JDK TLS helper did not answer")
        if pending.answer.get("gone"):
            raise JdkGone(str(pending.answer["helper_error"]))
        if pending.answer.get("helper_error"):
            raise JdkUnavailable(str(pending.answer["helper_error"]))
        return pending.answer

    def stop(self) -> None:
        if self._proc.poll() is None:
            try:
                if self._proc.stdin:
                    self._proc.stdin.close()
                self._proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()


def _handshake(answer: dict[str, Any]) -> Handshake:
    local = str(answer.get("local") or "")
    host, _, port = local.rpartition(":")
    return Handshake(
        connected=bool(answer.get("connected")),
        exception=str(answer.get("exception") or ""),
        message=str(answer.get("message") or ""),
        causes=tuple((str(c[0]), str(c[1])) for c in answer.get("causes") or ()),
        stage=str(answer.get("stage") or ""),
        chain=tuple(str(p) for p in answer.get("chain") or ()),
        cipher=str(answer.get("cipher") or ""),
        protocol=str(answer.get("protocol") or ""),
        local=(host, int(port)) if local else None,
        session=str(answer.get("id") or ""),
        relay_port=int(answer.get("relay_port") or 0),
    )


def compiled_classes() -> Path:
    """The directory holding the compiled helper, compiled on first use per source version."""
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eckrc-twin-jdk" / digest
    if (cache / f"{MAIN_CLASS}.class").exists():
        return cache
    javac = shutil.which("javac")
    if javac is None:
        raise JdkUnavailable("javac not found on PATH (install openjdk-17-jdk-headless)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    # Compile beside the cache and rename: concurrent first uses never see half a directory.
    staging = Path(tempfile.mkdtemp(prefix=f"{digest}-", dir=cache.parent))
    subprocess.run(
        [javac, "-nowarn", "-d", str(staging), str(SOURCE)],
        check=True,
        capture_output=True,
        timeout=START_TIMEOUT,
    )
    try:
        staging.rename(cache)
    except OSError:  # another process won the race
        shutil.rmtree(staging, ignore_errors=True)
    return cache


_client: JdkTlsClient | None = None
_client_lock = threading.Lock()


def client() -> JdkTlsClient:
    """The process-wide helper, started on first use and stopped at exit."""
    global _client
    with _client_lock:
        if _client is None or _client._proc.poll() is not None:
            _client = JdkTlsClient()
            atexit.register(_client.stop)
        return _client


def stop() -> None:
    """Stop the process-wide helper (the next handshake starts a new one)."""
    global _client
    with _client_lock:
        running, _client = _client, None
    if running is not None:
        running.stop()
