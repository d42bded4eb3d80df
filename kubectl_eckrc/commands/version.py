"""`kubectl eckrc version`: what is running, without importing any cluster client."""

from __future__ import annotations

import platform
import sys

from kubectl_eckrc import __version__
from kubectl_eckrc.output import write_document


def build_info() -> dict[str, str]:
    frozen = bool(getattr(sys, "frozen", False))
    return {
        "version": __version__,
        "python": platform.python_version(),
        "platform": f"{platform.system().lower()}/{platform.machine().lower()}",
        "build": "frozen binary" if frozen else "python package",
    }


def run() -> int:
    info = build_info()
    write_document(
        f"kubectl-eckrc {info['version']} (python {info['python']}, {info['platform']}, {info['build']})"
    )
    return 0
