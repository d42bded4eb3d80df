"""Printed commands: the run's scope, quoted for a shell, and what is missing named."""

from __future__ import annotations

import shlex

from kubectl_eckrc.commandline import REMOTE_PLACEHOLDER, command, scope_args
from kubectl_eckrc.options import Scope, SideTarget


def test_a_command_carries_the_scope_and_quotes_what_needs_it() -> None:
    local = SideTarget("/home/me/my configs/kube.yaml", "prod a", "logging", "local-es")
    remote = SideTarget("/home/me/my configs/kube.yaml", "prod-b", "search", "remote-es")
    line = command("fix", scope_args(Scope(local, remote, alias="remote-es", timeout=10)))
    words = shlex.split(line)
    assert words[:3] == ["kubectl", "eckrc", "fix"]
    assert words[3:5] == ["--kubeconfig", "/home/me/my configs/kube.yaml"]
    assert "--remote-kubeconfig" not in words  # the same file as the local side's
    assert words[5:7] == ["--context", "prod a"] and words[-4:] == ["--alias", "remote-es", "--timeout", "10"]


def test_without_the_remote_side_the_fix_command_names_what_it_needs() -> None:
    scope = Scope(SideTarget(None, "prod-a", "logging", "local-es"), None)
    assert scope_args(scope, "remote-es", need_remote=True)[-4:] == [
        "--remote-context", REMOTE_PLACEHOLDER, "--alias", "remote-es"]
    assert "--remote-context" not in scope_args(scope)
