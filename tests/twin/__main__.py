"""`python -m tests.twin scenarios` / `python -m tests.twin up --scenario NAME --kubeconfig PATH`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from tests.twin.faults import SCENARIOS
from tests.twin.fleet_scenarios import FLEET_SCENARIOS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.twin",
                                     description="Two simulated ECK environments on loopback.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("scenarios", help="list the scenario names, one per line")
    up = commands.add_parser("up", help="start a scenario in the foreground until SIGTERM/SIGINT")
    up.add_argument("--scenario", default="healthy", metavar="NAME",
                    help="a name of `scenarios`, or fleet-synthetic-N (N clusters over three contexts)")
    up.add_argument("--kubeconfig", type=Path, default=Path("twin-kubeconfig.yaml"))
    return parser


def _up(name: str, kubeconfig: Path) -> int:
    from tests.twin.fleet_scenarios import plan_of

    if name not in SCENARIOS and plan_of(name) is None:
        known = ", ".join([*SCENARIOS, *FLEET_SCENARIOS, "fleet-synthetic-N"])
        print(f"unknown scenario {name!r}; known: {known}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if plan_of(name) is not None:
        from tests.twin.fleet_scenarios import start_fleet

        fleet = start_fleet(name, kubeconfig.resolve())
        doctor = (f"kubectl eckrc doctor -A --kubeconfig {fleet.kubeconfig} --context local "
                  "--remote-context remote --remote-context remote2")
        return _serve(name, fleet, [doctor], stop)
    from tests.twin.scenarios import start_scenario

    running = start_scenario(name, kubeconfig.resolve())
    path = running.kubeconfig
    return _serve(name, running, [
        f"kubectl --kubeconfig {path} --context local get elasticsearches -n logging",
        f"kubectl eckrc doctor --kubeconfig {path} --context local -n logging --es local-es "
        "--remote-context remote --remote-namespace search --remote-es remote-es",
        f"proxy_address of the link: {running.proxy_address or '(none)'}",
    ], stop)


def _serve(name: str, running: Any, lines: list[str], stop: threading.Event) -> int:
    """Print where the started scenario is and how to use it; keep it up until a signal."""
    try:
        print(f"ready scenario={name} kubeconfig={running.kubeconfig}", flush=True)
        for line in lines:
            print(f"  {line}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()
        print("stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "scenarios":
        for name in [*SCENARIOS, *FLEET_SCENARIOS]:
            print(name)
        return 0
    return _up(args.scenario, args.kubeconfig)


if __name__ == "__main__":
    sys.exit(main())
