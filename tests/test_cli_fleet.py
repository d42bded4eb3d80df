"""doctor -A / collect -A flags: the fleet scope, and the flags a fleet run does not take."""

from __future__ import annotations

import pytest

from kubectl_eckrc import cli
from kubectl_eckrc.options import SideTarget
from tests.test_cli import Recorder, recorder  # noqa: F401 - the fixture


def test_all_namespaces_with_several_remote_contexts_is_a_fleet(recorder: Recorder) -> None:  # noqa: F811
    assert cli.main(["doctor", "-A", "--kubeconfig", "k", "--context", "a", "-n", "ignored",
                     "--remote-context", "b", "--remote-context", "c", "--remote-kubeconfig", "kb",
                     "--remote-kubeconfig", "kc"]) == 0
    scope = recorder.options[0][1].scope
    assert scope.fleet and scope.all_namespaces and scope.remote is None
    assert (scope.local.context, scope.local.namespace) == ("a", None)
    assert scope.remotes == (SideTarget("kb", "b", None, None), SideTarget("kc", "c", None, None))


def test_one_remote_kubeconfig_serves_every_remote_context(recorder: Recorder) -> None:  # noqa: F811
    cli.main(["collect", "-A", "-o", "f.zip", "--remote-context", "b", "--remote-context", "c",
              "--remote-kubeconfig", "kr"])
    assert [t.kubeconfig for t in recorder.options[0][1].scope.remotes] == ["kr", "kr"]


def test_several_remote_contexts_without_all_namespaces_is_the_namespace_fleet(
        recorder: Recorder) -> None:  # noqa: F811
    cli.main(["doctor", "-n", "logging", "--remote-context", "b", "--remote-context", "c"])
    scope = recorder.options[0][1].scope
    assert scope.fleet and not scope.all_namespaces and scope.local.namespace == "logging"


@pytest.mark.parametrize(("args", "says"), [
    (["doctor", "-A", "--remote-context", "b", "--remote-namespace", "search"],
     "--remote-namespace: not used with -A or several --remote-context"),
    (["doctor", "-A", "--alias", "x", "--index", "logs-*"], "--alias, --index: not used with -A"),
    (["doctor", "-A", "--remote-context", "b", "--remote-context", "c", "--remote-kubeconfig", "1",
      "--remote-kubeconfig", "2", "--remote-kubeconfig", "3"], "--remote-kubeconfig given 3 times for 2"),
    (["doctor", "--remote-context", "b", "--remote-kubeconfig", "1", "--remote-kubeconfig", "2"],
     "--remote-kubeconfig: give it once"),
    (["fix", "--remote-context", "b", "--remote-context", "c"], "fix repairs one link"),
])
def test_what_a_fleet_run_does_not_take_is_one_line_usage_error(
        recorder: Recorder, capsys: pytest.CaptureFixture[str], args: list[str], says: str) -> None:  # noqa: F811
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and not recorder.options
