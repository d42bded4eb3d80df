"""--wait: follow the rollouts our changes started until `_remote/info` says connected and
every pod runs its StatefulSet's current spec (a pending mount-ca rollout is not done).

Polls (twice a second at first, then every two seconds) until --timeout-wait: both
Elasticsearch resources (phase, pods rolled: enable-rcs rolls the remote's pods, mount-ca the
local ones) and the local `_remote/info` for the alias.
Connected means `connected: true`, open proxy sockets, and `cluster_credentials` present (the
keystore holds the key). Elasticsearch does not retry a failed remote connection on its own: each
poll first asks `_resolve/cluster` (read-only), which makes the local nodes try again, so a
repair on the remote side alone is seen too.
A progress line is redrawn on a TTY; without one, one line per change of state.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubectl_eckrc import eck
from kubectl_eckrc.collect import side
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.output import log

# Quick polls first (a link that only needed a setting connects within seconds), then slower
# ones while pods roll (minutes on a real cluster; each poll opens a port-forward).
FAST_POLL_SECONDS, FAST_POLL_PERIOD, SLOW_POLL_SECONDS = 0.5, 10.0, 2.0


@dataclass(frozen=True)
class Progress:
    phase: str
    rolled: str  # "2/3"
    link: str  # connected | connecting | not registered | unreachable: ...
    connected: bool
    remote: str = ""  # the remote's rollout ("phase Ready, 1/1 pods rolled"); "" when not read

    @property
    def line(self) -> str:
        remote = f"; remote cluster: {self.remote}" if self.remote else ""
        return (
            f"waiting for the local cluster: phase {self.phase or '?'}, {self.rolled} pods rolled"
            f"{remote} ... _remote/info: {self.link}"
        )


def is_connected(entry: dict[str, Any] | None) -> bool:
    if not isinstance(entry, dict):
        return False
    sockets = entry.get("num_proxy_sockets_connected", entry.get("num_nodes_connected", 1))
    return bool(entry.get("connected")) and bool(entry.get("cluster_credentials")) and sockets != 0


def _remote_rollout(options: FixOptions) -> tuple[str, bool]:
    """The remote's rollout (enable-rcs rolls its pods too): (text, done)."""
    if options.scope.remote is None:
        return "", True
    session = side.open_side("remote", options.scope.remote, options.scope.timeout, options.debug)
    try:
        side.read_kube(session)
        phase, rolled = _rollout(session.kube_state)
    except Exception as e:  # noqa: BLE001 - its API briefly unreachable: poll again
        return f"not readable ({str(e)[:60]})", False
    finally:
        session.close()
    done, _, total = rolled.partition("/")
    return f"phase {phase or '?'}, {rolled} pods rolled", phase in ("Ready", "") and done == total


def _observe(options: FixOptions, alias: str) -> Progress:
    remote, remote_done = _remote_rollout(options)
    observed = _observe_local(options, alias)
    connected = observed.connected and remote_done
    return Progress(observed.phase, observed.rolled, observed.link, connected, remote)


def _observe_local(options: FixOptions, alias: str) -> Progress:
    session = side.open_side("local", options.scope.local, options.scope.timeout, options.debug)
    try:
        side.read_kube(session)
        state = session.kube_state
        phase, rolled = _rollout(state)
        side.connect_es(session)
        if session.es_client is None:
            return Progress(phase, rolled, "Elasticsearch not reachable yet", False)
        with contextlib.suppress(Exception):  # best effort: it only makes the nodes try again
            session.es_client.resolve_cluster(alias, options.scope.timeout)
        try:
            info = session.es_client.remote_info()
        except Exception as e:  # noqa: BLE001 - pods restarting: say so and poll again
            return Progress(phase, rolled, f"unreachable ({str(e)[:60]})", False)
        entry = info.get(alias) if isinstance(info, dict) else None
        if entry is None:
            return Progress(phase, rolled, "not registered", False)
        connected = is_connected(entry)
        link = (
            "connected"
            if connected
            else ("connected, no credentials yet" if entry.get("connected") else "connecting")
        )
        return Progress(phase, rolled, link, connected and phase in ("Ready", "") and _all_rolled(rolled))
    finally:
        session.close()


def _all_rolled(rolled: str) -> bool:
    """Every pod rolled ("2/2"); pods that could not be read ("?") hold nothing back."""
    done, _, total = rolled.partition("/")
    return rolled == "?" or done == total


def _rollout(state: Any) -> tuple[str, str]:
    """(phase, "rolled/total"): a pod is rolled when it is ready and not behind its
    StatefulSet (config hash and revision: the rule ECKRC405 reads a pending rollout by)."""
    es = getattr(state, "elasticsearch", None)
    pods = getattr(state, "pods", None)
    phase = str(eck.status(es).get("phase", "")) if isinstance(es, dict) else ""
    if not isinstance(pods, list):
        return phase, "?"
    statefulsets = getattr(state, "statefulsets", None)
    behind = set(eck.pods_behind(pods, statefulsets if isinstance(statefulsets, list) else []))
    # ECK's own list of nodes it must still restart (status.inProgressOperations.upgrade)
    behind |= {n.name for n in eck.upgrading_nodes(es if isinstance(es, dict) else None)}
    rolled = sum(1 for p in pods if eck.is_ready(p) and eck.name_of(p) not in behind)
    return phase, f"{rolled}/{len(pods)}"


def wait_connected(
    options: FixOptions, alias: str, observe: Callable[[FixOptions, str], Progress] = _observe
) -> Progress:
    """Poll until connected or --timeout-wait; returns the last observation."""
    start = time.monotonic()
    deadline = start + options.timeout_wait
    tty = sys.stderr.isatty()
    last = ""
    while True:
        progress = observe(options, alias)
        if tty:
            sys.stderr.write("\r\033[K" + progress.line)
            sys.stderr.flush()
        elif progress.line != last:
            log(progress.line)
        last = progress.line
        if progress.connected or time.monotonic() >= deadline:
            if tty:
                sys.stderr.write("\n")
            return progress
        fast = time.monotonic() - start < FAST_POLL_PERIOD
        time.sleep(FAST_POLL_SECONDS if fast else SLOW_POLL_SECONDS)
