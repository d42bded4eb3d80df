"""Shell completion: what `kubectl eckrc <TAB>` offers, and real kubectl asking for it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from kubectl_eckrc.cli import cli
from kubectl_eckrc.completion import NO_FILES, complete, render

ROOT = Path(__file__).resolve().parents[1]


def test_commands_then_flags_then_choices() -> None:
    assert complete(cli, [""]) == (["checks", "collect", "doctor", "fix", "version"], NO_FILES)
    flags, _ = complete(cli, ["fix", "--ex"])
    assert flags == ["--expiration", "--expose"]
    assert complete(cli, ["doctor", "-o", "j"]) == (["json", "junit"], NO_FILES)
    assert complete(cli, ["checks", "eckrc40"])[0][:2] == ["ECKRC401", "ECKRC402"]


def test_a_file_option_lets_the_shell_complete_paths() -> None:
    assert complete(cli, ["doctor", "--bundle", ""]) == ([], 0)


def test_contexts_come_from_the_kubeconfig(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("apiVersion: v1\nkind: Config\ncontexts:\n- name: prod-a\n  context: {cluster: a}\n"
                      "- name: prod-b\n  context: {cluster: b}\nclusters: []\nusers: []\n")
    words = ["doctor", "--kubeconfig", str(config), "--remote-context", "prod"]
    assert complete(cli, words) == (["prod-a", "prod-b"], NO_FILES)


def test_output_is_cobra_shaped() -> None:
    assert render(["a", "b"], NO_FILES) == "a\nb\n:4\n"


def test_kubectl_completes_the_plugin_through_kubectl_complete_eckrc(tmp_path: Path) -> None:
    plugin = tmp_path / "kubectl-eckrc"
    plugin.write_text(f"#!/bin/sh\nexec {sys.executable} -m kubectl_eckrc.cli \"$@\"\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    shutil.copy(ROOT / "packaging" / "kubectl_complete-eckrc", tmp_path)
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([kubectl, "__complete", "eckrc", "doctor", "-o", ""], capture_output=True,
                            text=True, env=env, timeout=60, check=True)
    lines = result.stdout.splitlines()
    assert lines[:5] == ["table", "json", "yaml", "junit", "markdown"] and lines[-1] == ":4", result.stdout
