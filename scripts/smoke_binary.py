"""Smoke-test a freshly built binary on the machine that built it (no cluster needed).

    python scripts/smoke_binary.py dist/kubectl-eckrc[.exe]
    python scripts/smoke_binary.py dist          # the kubectl-eckrc or kubectl-eckrc.exe in it

Runs `version -o json`, `--help`, `doctor --bundle` on the committed sample bundle,
`doctor --bundle` on a missing file and, where kubectl is installed, `kubectl eckrc version`
(kubectl finds the binary on PATH as a plugin, kubectl-eckrc.exe on Windows), and checks each
exit code and what it printed. Prints
one line per check; exits 1 on the first that fails. Standard library only: the release and
CI workflows run it with the runner's Python, and tests/packaging/test_binary.py runs it here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from release import platform_tag

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_BUNDLE = ROOT / "tests" / "data" / "sample-bundle.zip"
# tests/packaging/sample_bundle.py: the link of the sample bundle is not connected
SAMPLE_EXIT, SAMPLE_FAILING = 1, "ECKRC503"
TIMEOUT = 120  # a one-file binary unpacks itself first: seconds on a slow runner


class SmokeFailed(Exception):
    pass


def package_version() -> str:
    text = (ROOT / "kubectl_eckrc" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not found:
        raise SmokeFailed("no __version__ in kubectl_eckrc/__init__.py")
    return found.group(1)


def run(binary: Path, *args: str, want_exit: int, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=TIMEOUT,
                            encoding="utf-8", errors="replace", env=env)
    if result.returncode != want_exit:
        raise SmokeFailed(f"{' '.join(args)}: exit {result.returncode}, want {want_exit}\n"
                          f"{result.stderr[-2000:]}")
    return result.stdout if want_exit != 2 else result.stderr


def check_version(binary: Path) -> str:
    info = json.loads(run(binary, "version", "-o", "json", want_exit=0))
    os_name, arch = platform_tag().split("_")
    want = {"version": package_version(), "os": os_name, "arch": arch, "build": "frozen binary"}
    got = {key: info.get(key) for key in want}
    if got != want:
        raise SmokeFailed(f"version -o json: {got}, want {want}")
    if not re.fullmatch(r"[0-9a-f]{40}", str(info.get("gitCommit"))) or not info.get("buildDate"):
        raise SmokeFailed(f"version -o json: no source commit or build date in {info}")
    return f"{info['version']} {os_name}/{arch} commit {info['gitCommit'][:12]} built {info['buildDate']}"


def check_help(binary: Path) -> str:
    out = run(binary, "--help", want_exit=0)
    if not out.startswith("Usage: kubectl eckrc") or "doctor" not in out:
        raise SmokeFailed(f"--help does not start with 'Usage: kubectl eckrc': {out[:200]!r}")
    return "Usage: kubectl eckrc ..."


def check_doctor_bundle(binary: Path) -> str:
    report = json.loads(run(binary, "doctor", "--bundle", str(SAMPLE_BUNDLE), "-o", "json",
                            want_exit=SAMPLE_EXIT))
    failing = [f["id"] for f in report["findings"] if f["status"] == "fail"]
    if failing != [SAMPLE_FAILING]:
        raise SmokeFailed(f"doctor --bundle: failing checks {failing}, want [{SAMPLE_FAILING}]")
    return f"exit {SAMPLE_EXIT}, {SAMPLE_FAILING} failing, {len(report['findings'])} findings"


def check_bad_input(binary: Path) -> str:
    err = run(binary, "doctor", "--bundle", str(ROOT / "no-such-bundle.zip"), want_exit=2)
    if not err.startswith("error: ") or err.count("\n") != 1 or "Traceback" in err:
        raise SmokeFailed(f"doctor --bundle on a missing file: want one error line, got {err!r}")
    return "exit 2, one error line"


def check_kubectl_plugin(binary: Path) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return "skipped: no kubectl on PATH"
    # the binary's directory first: no other kubectl-eckrc (a virtualenv's) may answer
    env = {**os.environ, "PATH": os.pathsep.join([str(binary.parent), os.environ.get("PATH", "")])}
    out = run(Path(kubectl), "eckrc", "version", want_exit=0, env=env)
    if not out.startswith(f"kubectl-eckrc {package_version()} (") or "frozen binary" not in out:
        raise SmokeFailed(f"kubectl eckrc version ran something else: {out.strip()!r}")
    return out.strip()


CHECKS = (
    ("version -o json", check_version),
    ("--help", check_help),
    ("doctor --bundle tests/data/sample-bundle.zip", check_doctor_bundle),
    ("doctor --bundle <missing file>", check_bad_input),
    ("kubectl eckrc version", check_kubectl_plugin),
)


def find_binary(path: Path) -> Path:
    if not path.is_dir():
        return path
    exe = path / "kubectl-eckrc.exe"
    return exe if exe.is_file() else path / "kubectl-eckrc"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: smoke_binary.py BINARY|DIR", file=sys.stderr)
        return 2
    binary = find_binary(Path(argv[0]).resolve())
    for name, check in CHECKS:
        try:
            print(f"ok   {name}: {check(binary)}", flush=True)
        except (SmokeFailed, ValueError, KeyError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"FAIL {name}: {exc}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
