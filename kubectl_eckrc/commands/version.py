"""`kubectl eckrc version`: what is running, without importing any cluster client."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import yaml

from kubectl_eckrc import __version__
from kubectl_eckrc.output import write_document

# scripts/build-binary bundles this file next to the package: the commit and time of the
# sources the binary was built from. A package installed with pip or pipx has none.
BUILD_INFO_FILE = Path(__file__).resolve().parent.parent / "_build_info.json"
# krew's names for the machine architectures (platform.machine() says x86_64, AMD64, aarch64 ...)
KREW_ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def krew_platform(system: str | None = None, machine: str | None = None) -> tuple[str, str]:
    """(os, arch) as krew's selectors name them: linux/darwin/windows, amd64/arm64."""
    raw = (machine or platform.machine()).lower()
    return (system or platform.system()).lower(), KREW_ARCHES.get(raw, raw)


def bundled_build_info(path: Path | None = None) -> dict[str, Any]:
    try:
        data = json.loads((path or BUILD_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def build_info() -> dict[str, Any]:
    frozen = bool(getattr(sys, "frozen", False))
    os_name, arch = krew_platform()
    stamped = bundled_build_info()
    return {
        "version": __version__,
        "gitCommit": stamped.get("gitCommit"),
        "buildDate": stamped.get("buildDate"),
        "os": os_name,
        "arch": arch,
        "python": platform.python_version(),
        "build": "frozen binary" if frozen else "python package",
    }


def render(info: dict[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(info, indent=2)
    if output == "yaml":
        return yaml.safe_dump(info, sort_keys=False)
    commit = f", commit {info['gitCommit'][:12]}" if info["gitCommit"] else ""
    return (
        f"kubectl-eckrc {info['version']} (python {info['python']}, {info['os']}/{info['arch']}, "
        f"{info['build']}{commit})"
    )


def run(output: str = "text") -> int:
    write_document(render(build_info(), output))
    return 0
