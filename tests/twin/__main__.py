"""`python -m tests.twin scenarios` / `python -m tests.twin up --scenario NAME --kubeconfig PATH`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

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
        return _up_fleet(name, kubeconfig, stop)
    from tests.twin.scenarios import start_scenario

    running = start_scenario(name, kubeconfig.resolve())
    try:
        path = running.kubeconfig
        print(f"ready scenario={name} kubeconfig={path}", flush=True)
        print(f"  kubectl --kubeconfig {path} --context local get elasticsearches -n logging")
        print(f"  kubectl eckrc doctor --kubeconfig {path} --context local -n logging --es local-es "
              "--remote-context remote --remote-namespace search --remote-es remote-es", flush=True)
        print(f"  proxy_address of the link: {running.proxy_address or '(none)'}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()
        print("stopped", flush=True)
    return 0


def _up_fleet(name: str, kubeconfig: Path, stop: threading.Event) -> int:
    from tests.twin.fleet_scenarios import start_fleet

    running = start_fleet(name, kubeconfig.resolve())
    try:
        path = running.kubeconfig
        print(f"ready scenario={name} kubeconfig={path}", flush=True)
        print(f"  kubectl eckrc doctor -A --kubeconfig {path} --context local --remote-context remote "
              "--remote-context remote2", flush=True)
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
