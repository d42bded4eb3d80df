"""fix's layers point down: planners and diffs import no client, the writer imports no planner."""

from __future__ import annotations

import subprocess
import sys


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_planning_imports_neither_client() -> None:
    loaded = _modules_after_import("kubectl_eckrc.fix.plan")
    assert "kubectl_eckrc.fix.actions.register_remote" in loaded  # the planners are there
    assert not {m for m in loaded if m.split(".")[0] in ("kubernetes", "elasticsearch")}
    assert not {m for m in loaded if m.startswith("kubectl_eckrc.collect.")} - {
        "kubectl_eckrc.collect", "kubectl_eckrc.collect.failures"}


def test_diffs_import_no_client() -> None:
    loaded = _modules_after_import("kubectl_eckrc.fix.diff")
    assert not {m for m in loaded if m.split(".")[0] in ("kubernetes", "elasticsearch")}


def test_the_writer_imports_no_planner() -> None:
    loaded = _modules_after_import("kubectl_eckrc.fix.apply")
    assert not {m for m in loaded if m.startswith("kubectl_eckrc.fix.actions")}
    assert "kubectl_eckrc.fix.plan" not in loaded
