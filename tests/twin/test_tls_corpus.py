"""Differential test: doctor's TLS verdicts (ECKRC302-307) against the real JDK's handshake.

For every generated case (cert_corpus.py) a loopback TLS server presents the chain and the JDK
helper connects the way a local Elasticsearch node does (trusted CAs, `verification_mode:
full`, SNI `server_name`, endpoint identification against the `proxy_address` host). The
product judges the same certificates from a snapshot. A handshake the JDK accepts must not
be a doctor failure; one it refuses must fail a 3xx check whose evidence carries the JDK's
words.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_eckrc.checks.engine import run_checks
from kubectl_eckrc.findings import Finding, Status
from tests import snapshot_builder as sb
from tests.twin import jdk_tls
from tests.twin.cert_corpus import Case, cases

TLS_CHECKS = ("ECKRC302", "ECKRC303", "ECKRC304", "ECKRC305", "ECKRC306", "ECKRC307")
CASES = cases()


class ChainServer:
    """A loopback TLS server presenting one case's chain, completing handshakes only."""

    def __init__(self, case: Case) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
            chain, key = Path(tmp, "chain.pem"), Path(tmp, "key.pem")
            chain.write_text("".join(c.pem for c in case.chain))
            key.write_text(case.leaf.key_pem)
            ctx.load_cert_chain(chain, key)
        self._ctx = ctx
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(5)
                    with self._ctx.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)
                except (OSError, ssl.SSLError):
                    pass

    def close(self) -> None:
        self._sock.close()


@pytest.fixture(scope="module")
def jdk_verdicts() -> Iterator[dict[str, jdk_tls.Handshake]]:
    verdicts: dict[str, jdk_tls.Handshake] = {}
    helper = jdk_tls.client()
    for case in CASES:
        server = ChainServer(case)
        try:
            config = jdk_tls.ClientConfig(trust=tuple(c.pem for c in case.trusted))
            verdicts[case.name] = helper.handshake(
                "127.0.0.1", server.port, case.peer_host, case.server_name or None, config, 5.0
            )
        finally:
            server.close()
    yield verdicts


def product_findings(case: Case) -> dict[str, Finding]:
    pair = sb.healthy_pair()
    proxy = f"{case.peer_host}:9443"
    pair.set_configured_ca(list(case.trusted))  # type: ignore[arg-type]
    public = f"{sb.REMOTE_ES}-es-transport-certs-public"
    pair.remote.secrets[public] = sb.secret(public, {"ca.crt": sb.cert_key(list(case.remote_cas))})  # type: ignore[arg-type]
    pair.local_cluster_setting("proxy_address", proxy)
    pair.local_cluster_setting("server_name", case.server_name or None)
    pair.present(list(case.chain), address=proxy, server_name=case.server_name)  # type: ignore[arg-type]
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    snap = dataclasses.replace(pair.build(), taken_at=now)
    return {f.id: f for f in run_checks(snap) if f.id in TLS_CHECKS}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_doctor_agrees_with_the_jdk(case: Case, jdk_verdicts: dict[str, jdk_tls.Handshake]) -> None:
    jdk = jdk_verdicts[case.name]
    findings = product_findings(case)
    failures = {i: f for i, f in findings.items() if f.status is Status.FAIL}
    if jdk.connected:
        assert not failures, f"the JDK connects, doctor fails {sorted(failures)}: {_summary(failures)}"
        return
    assert failures, f"the JDK refuses ({jdk.message}), doctor passes"
    evidence = list(_strings([f.evidence for f in failures.values()]))
    assert jdk.message in evidence, f"the JDK says {jdk.message!r}; doctor: {_summary(failures)}"


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _summary(failures: dict[str, Finding]) -> str:
    return "; ".join(f"{i}: {f.message} {f.evidence}" for i, f in failures.items())
