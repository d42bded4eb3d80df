"""Remote-cluster links of one local pod: `_remote/info` and `_resolve/cluster` are computed here.

Each configured alias gets a background thread that really connects (see remote_client.py),
keeps the connection open while it lives and logs what Elasticsearch logs when it fails. As in
Elasticsearch's RemoteConnectionStrategy there is no periodic retry: an attempt is made when the
settings change, when the node starts, when an open connection drops, and when a request needs
the remote (`_resolve/cluster`). `_remote/info` reads the current state, never waits and never
triggers an attempt, so after a remote-only repair it can say `connected: false` for ever.
In proxy mode the twin opens PROXY_PROBES real connections per attempt and scales
`num_proxy_sockets_connected` to `max_proxy_socket_connections` from how many succeeded (all:
max, as with a healthy remote).
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.twin.es_logs import PodLog
from tests.twin.es_node import minimum_wire_version, version_tuple
from tests.twin.es_settings import RemoteConfig, remote_configs, skip_unavailable_default
from tests.twin.es_signing import signer_for
from tests.twin.network import close_quietly
from tests.twin.remote_client import (
    Connection,
    LinkFailure,
    LinkTimeouts,
    LocalNode,
    credential_for,
    handshake,
)

PROXY_STRATEGY = "org.elasticsearch.transport.ProxyConnectionStrategy"
SNIFF_STRATEGY = "org.elasticsearch.transport.SniffConnectionStrategy"
CONNECTION_MANAGER = "org.elasticsearch.transport.ClusterConnectionManager"
SIGNING_RELOADER = "org.elasticsearch.xpack.security.transport.CrossClusterApiKeySigningConfigReloader"
REQUEST_TIMED_OUT = "Request timed out before receiving a response from the remote cluster"
REDACTED = "::es_redacted::"
# Real sockets opened per proxy-mode attempt: partial failures (some LB backends broken) then
# show as num_proxy_sockets_connected below max_proxy_socket_connections, as in Elasticsearch.
PROXY_PROBES = 6
QUIET = PodLog("quiet-probes")  # where the extra, uncounted probes' TLS noise goes


@dataclass(frozen=True)
class LinkState:
    connected: bool
    sockets: int
    last_error: str | None


class AliasLink:
    """The connection of one local pod to one remote alias, kept up by a daemon thread."""

    def __init__(self, node: LocalNode, config: RemoteConfig, timeouts: LinkTimeouts, log: PodLog) -> None:
        self.node = node
        self.config = config
        self.credential = credential_for(node, config.alias)
        self.signer = signer_for(node.view, dict(config.signing), config.alias)
        if self.signer is None and {"certificate", "key"} <= dict(config.signing).keys():
            # the reloader logs the refused material and the alias signs nothing (es_signing.py)
            log.log("ERROR", SIGNING_RELOADER, f"Failed to load signing config for cluster [{config.alias}]")
        self._timeouts = timeouts
        self._log = log
        self._lock = threading.Lock()
        self._state = LinkState(False, 0, None)
        self._conns: list[Connection] = []
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self.settled = threading.Event()  # set once the first attempt has finished either way
        self._thread = threading.Thread(
            target=self._run, daemon=True, name=f"link-{node.view.pod}-{config.alias}"
        )
        self._thread.start()

    @property
    def state(self) -> LinkState:
        with self._lock:
            return self._state

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self.settled.set()
        self._wake.set()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            close_quietly(conn.sock)

    def attempt(self, pattern: str | None = None, probes: int = 1) -> list[Connection]:
        """One connection attempt; raises LinkFailure with what the first socket hit.

        In proxy mode `probes - 1` more sockets are tried in parallel (quietly: Elasticsearch only
        logs when every socket fails) to count how many of the proxy's backends work.
        """
        cfg = self.config
        if cfg.mode != "proxy":
            return self._sniff(pattern)
        try:
            first = self._probe(pattern, diagnose=True)
        except LinkFailure:
            others = self._parallel_probes(pattern, probes - 1) if probes > 1 else []
            if not others:
                raise
            return others  # some of the proxy's backends work: connected, below max sockets
        return [first, *self._parallel_probes(pattern, probes - 1)]

    def _probe(self, pattern: str | None, diagnose: bool) -> Connection:
        cfg = self.config
        return handshake(
            self.node,
            cfg.alias,
            cfg.proxy_address,
            cfg.server_name,
            self.credential,
            self._timeouts,
            self._log if diagnose else QUIET,
            pattern=pattern,
            diagnose=diagnose,
            signer=self.signer,
        )

    def _parallel_probes(self, pattern: str | None, count: int) -> list[Connection]:
        results: list[Connection] = []
        lock = threading.Lock()

        def one() -> None:
            try:
                conn = self._probe(pattern, diagnose=False)
            except LinkFailure:
                return
            with lock:
                results.append(conn)

        workers = [threading.Thread(target=one, daemon=True) for _ in range(count)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return results

    def _sniff(self, pattern: str | None) -> list[Connection]:
        cfg = self.config
        failure: LinkFailure | None = None
        for seed in cfg.seeds:
            try:
                seed_conn = handshake(
                    self.node,
                    cfg.alias,
                    seed,
                    "",
                    self.credential,
                    self._timeouts,
                    self._log,
                    sniff=True,
                    pattern=pattern,
                    signer=self.signer,
                )
                break
            except LinkFailure as err:
                failure = err
        else:
            raise failure or LinkFailure(f"no seed node left for cluster: [{cfg.alias}]", ())
        close_quietly(seed_conn.sock)
        # Sniffing hands back the remote nodes' publish addresses: pod IPs, reachable from a pod
        # of the same Kubernetes cluster (spec.remoteClusters), never from another one.
        for remote in seed_conn.answer.get("nodes") or []:
            address = str(remote.get("address", ""))
            if not self.node.in_network(address.rsplit(":", 1)[0]):
                continue
            try:
                return [handshake(self.node, cfg.alias, address, "", self.credential, self._timeouts,
                                  self._log, pattern=pattern)]
            except LinkFailure as err:
                failure = err
        reason = f"Unable to open any connections to remote cluster [{cfg.alias}]"
        raise LinkFailure(reason, (f"java.lang.IllegalStateException: {reason}",))

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.clear()
            try:
                conns = self.attempt(probes=PROXY_PROBES)
            except LinkFailure as failure:
                self._fail(failure)
                self.settled.set()
                self._wake.wait()  # no periodic retry: only a request (wake) tries again
                continue
            kept = self._up(conns)
            self.settled.set()
            if kept is None:
                return
            self._watch([kept])
            self._down([kept])

    def _fail(self, failure: LinkFailure) -> None:
        with self._lock:
            self._state = LinkState(False, 0, failure.reason)
        if self._stopped.is_set():
            return
        if self.config.mode == "proxy":
            self._log.log(
                "WARN",
                PROXY_STRATEGY,
                f"failed to open any proxy connections to cluster [{self.config.alias}]",
                failure.exception,
            )
        else:
            self._log.log(
                "WARN",
                SNIFF_STRATEGY,
                f"fetching nodes from external cluster [{self.config.alias}] failed",
                failure.exception,
            )

    def _up(self, conns: list[Connection]) -> Connection | None:
        """Publish the connected state; keeps one socket open (the others only counted)."""
        sockets = len(conns)
        if self.config.mode == "proxy":
            # Each probe stands for max/PROXY_PROBES of Elasticsearch's proxy sockets.
            sockets = max(1, round(self.config.proxy_socket_connections * len(conns) / PROXY_PROBES))
        for extra in conns[1:]:
            close_quietly(extra.sock)
        with self._lock:
            if self._stopped.is_set():
                close_quietly(conns[0].sock)
                return None
            self._conns = conns[:1]
            self._state = LinkState(True, sockets, None)
        return conns[0]

    def _watch(self, conns: list[Connection]) -> None:
        socks = [c.sock for c in conns]
        try:
            for sock in socks:
                sock.setblocking(False)
        except OSError:
            return  # stop() closed it between _up and here: the link is going away anyway
        while not self._stopped.is_set():
            try:
                readable, _, _ = select.select(socks, [], [], 0.5)
                if any(_closed(s) for s in readable):
                    return
            except (OSError, ValueError):
                return

    def _down(self, conns: list[Connection]) -> None:
        with self._lock:
            self._conns = []
            self._state = LinkState(False, 0, "connection closed")
        for conn in conns:
            close_quietly(conn.sock)
        if not self._stopped.is_set():
            remote = conns[0].answer.get("node", {}) if conns else {}
            self._log.log(
                "INFO",
                CONNECTION_MANAGER,
                f"transport connection to [{{{self.config.alias}#{remote.get('address', '')}}}"
                f"{{{remote.get('id', '')}}}] closed by remote",
            )


def _closed(sock: socket.socket) -> bool:
    try:
        return not sock.recv(1)
    except (ssl.SSLWantReadError, BlockingIOError):
        return False  # only TLS records without application data (e.g. session tickets)


def _reload_signing(link: AliasLink) -> None:
    """The node reloaded its files (es_server.SslReload; for signing material Elasticsearch's
    CrossClusterApiKeySigningConfigReloader): new requests sign with what they hold now."""
    link.signer = signer_for(link.node.view, dict(link.config.signing), link.config.alias)


class PodLinks:
    """All remote-cluster links of one local pod, following the effective settings."""

    def __init__(
        self, node: LocalNode, settings: Callable[[], dict[str, Any]], timeouts: LinkTimeouts, log: PodLog
    ) -> None:
        self._node = node
        self._settings = settings
        self._timeouts = timeouts
        self._log = log
        self._links: dict[str, AliasLink] = {}
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Start, restart or stop alias links after a settings change."""
        skip_default = skip_unavailable_default(version_tuple(self._node.cluster.version))
        configs = remote_configs(self._settings(), skip_default) if self._node.view.remote_client else {}
        with self._lock:
            for alias in [a for a, link in self._links.items() if configs.get(a) != link.config]:
                self._links.pop(alias).stop()
            for alias, config in configs.items():
                if alias not in self._links:
                    self._links[alias] = AliasLink(self._node, config, self._timeouts, self._log)

    def stop(self) -> None:
        with self._lock:
            links, self._links = list(self._links.values()), {}
        for link in links:
            link.stop()

    def links(self) -> dict[str, AliasLink]:
        with self._lock:
            return dict(self._links)

    def reload_signing(self) -> None:
        for link in self.links().values():
            _reload_signing(link)

    def wait_settled(self, deadline: float) -> bool:
        """True once every alias link finished its first attempt (before `deadline`, monotonic)."""
        links = self.links().values()
        return all(link.settled.wait(max(0.0, deadline - time.monotonic())) for link in links)

    def remote_info(self) -> dict[str, Any]:
        return {alias: _info(link) for alias, link in sorted(self.links().items())}

    def resolve(
        self, alias: str, pattern: str, timeout: float | None, denial: str | None = None
    ) -> dict[str, Any]:
        """`_resolve/cluster` for one alias, as TransportResolveClusterAction answers it.

        8.14-8.17 use FAIL_IF_DISCONNECTED: a disconnected alias is reported at once and the
        request triggers an attempt for the next call. Other versions make the attempt and wait.
        A remote that cannot be reached (connect, TLS or handshake failure) is `connected: false`
        without `error`; only a refusal of the request itself carries its message. `denial` is the
        local security exception for a caller without `remote_indices` for the alias: it is thrown
        when the request is sent, so only once there is a connection to send it on.
        """
        link = self.links()[alias]
        entry: dict[str, Any] = {"connected": False, "skip_unavailable": link.config.skip_unavailable}
        was_connected = link.state.connected
        if not was_connected and _fails_if_disconnected(self._node.cluster.version):
            link.wake()
            return entry
        outcome: list[Any] = []

        def run() -> None:
            try:
                outcome.append(link.attempt(pattern))
            except LinkFailure as failure:
                outcome.append(failure)

        worker = threading.Thread(target=run, daemon=True, name=f"resolve-{alias}")
        worker.start()
        worker.join(timeout if timeout is not None else self._default_bound())
        if not outcome:
            entry["error"] = REQUEST_TIMED_OUT
            return entry
        result = outcome[0]
        if isinstance(result, LinkFailure):
            if was_connected and result.refused:
                entry["error"] = result.request_error()  # the request itself was refused by the remote
            if not was_connected:
                link.wake()
            return entry
        answer = result[0].answer
        for conn in result:
            close_quietly(conn.sock)
        if not link.state.connected:
            link.wake()
        if denial is not None:
            entry["error"] = denial
            return entry
        entry.update(
            connected=True,
            matching_indices=bool(answer.get("matching_indices")),
            version=_version(str(answer.get("version", ""))),
        )
        return entry

    def _default_bound(self) -> float:
        t = self._timeouts
        return 2 * (t.connect + t.tls + t.handshake) + 1.0


def _fails_if_disconnected(version: str) -> bool:
    return (8, 14, 0) <= version_tuple(version) < (8, 18, 0)


def _version(number: str) -> dict[str, str]:
    return {
        "number": number,
        "build_flavor": "default",
        "minimum_wire_compatibility_version": minimum_wire_version(number),
        "minimum_index_compatibility_version": "7.0.0" if number.startswith("8.") else "8.0.0",
    }


def _info(link: AliasLink) -> dict[str, Any]:
    cfg, state = link.config, link.state
    info: dict[str, Any] = {"connected": state.connected, "mode": cfg.mode}
    if cfg.mode == "proxy":
        info.update(
            proxy_address=cfg.proxy_address,
            server_name=cfg.server_name,
            num_proxy_sockets_connected=state.sockets,
            max_proxy_socket_connections=cfg.proxy_socket_connections,
        )
    else:
        info.update(
            seeds=list(cfg.seeds),
            num_nodes_connected=state.sockets,
            max_connections_per_cluster=cfg.node_connections,
        )
    info.update(initial_connect_timeout=cfg.initial_connect_timeout, skip_unavailable=cfg.skip_unavailable)
    if link.node.view.credential(cfg.alias) is not None:
        info["cluster_credentials"] = REDACTED
    return info
