"""The command line: flags become options, one error handler, light start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kubectl_eckrc import cli
from kubectl_eckrc.errors import AccessError
from kubectl_eckrc.options import DoctorOptions, FixOptions

ROOT = Path(__file__).resolve().parents[1]
CONSOLE = Path(sys.executable).parent / "kubectl-eckrc"


class Recorder:
    def __init__(self, result: Any = 0) -> None:
        self.options: list[Any] = []
        self.result = result

    def module(self, name: str) -> Any:
        def run(options: Any = None) -> int:
            self.options.append((name, options))
            if isinstance(self.result, BaseException):
                raise self.result
            return int(self.result)

        return SimpleNamespace(run=run)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(cli, "_command", rec.module)
    return rec


def test_doctor_flags_become_doctor_options(recorder: Recorder) -> None:
    code = cli.main(["doctor", "--kubeconfig", "k", "--context", "a", "-n", "logging", "--es", "local-es",
                     "--remote-context", "b", "--remote-namespace", "search", "--alias", "remote-es",
                     "-o", "json", "--only", "ECKRC1*,ECKRC2*", "--only", "ECKRC303", "--skip", "ECKRC505",
                     "--timeout", "2.5"])
    assert code == 0
    name, options = recorder.options[0]
    assert name == "doctor" and isinstance(options, DoctorOptions)
    assert options.output == "json"
    assert options.only == ("ECKRC1*", "ECKRC2*", "ECKRC303") and options.skip == ("ECKRC505",)
    scope = options.scope
    assert scope.timeout == 2.5 and scope.alias == "remote-es"
    assert (scope.local.kubeconfig, scope.local.context, scope.local.namespace, scope.local.es_name) == (
        "k", "a", "logging", "local-es")
    assert scope.remote is not None
    assert (scope.remote.kubeconfig, scope.remote.context, scope.remote.namespace) == ("k", "b", "search")


def test_without_remote_flags_the_remote_is_out_of_reach(recorder: Recorder) -> None:
    cli.main(["doctor", "--context", "a"])
    assert recorder.options[0][1].scope.remote is None


def test_fix_flags_become_fix_options(recorder: Recorder) -> None:
    cli.main(["fix", "--remote-context", "b", "--apply", "--yes", "--wait", "--expose", "nodeport",
              "--indices", "logs-*,metrics-*", "--replication-indices", "leader-*", "--expiration", "90d",
              "--server-name", "remote-es-es-remote-cluster.search.svc", "--proxy-address", "127.0.0.5:9443"])
    options = recorder.options[0][1]
    assert isinstance(options, FixOptions)
    assert options.apply and options.yes and options.wait and options.expose == "nodeport"
    assert options.indices == ("logs-*", "metrics-*") and options.replication_indices == ("leader-*",)
    assert options.expiration == "90d" and options.proxy_address == "127.0.0.5:9443"


def test_index_and_as_user_reach_the_scope_of_every_command(recorder: Recorder) -> None:
    cli.main(["doctor", "--index", "logs-*,metrics-*", "--index", "app-*", "--as-user", "app-user"])
    cli.main(["fix", "--remote-context", "b", "--index", "metrics-*", "--widen-key-access"])
    cli.main(["collect", "-o", "b.zip", "--index", "logs-*"])
    doctor, fix, collect = (options for _, options in recorder.options)
    assert doctor.scope.indices == ("logs-*", "metrics-*", "app-*") and doctor.scope.as_user == "app-user"
    assert fix.scope.indices == ("metrics-*",) and fix.widen_key_access
    assert collect.scope.indices == ("logs-*",) and collect.scope.as_user is None


def test_follow_reaches_the_scope_and_takes_as_user(recorder: Recorder) -> None:
    cli.main(["doctor", "--follow", "leader-a,leader-b", "--follow", "leader-c", "--as-user", "ccr-user"])
    cli.main(["collect", "-o", "b.zip", "--follow", "leader-a"])
    doctor, collect = (options for _, options in recorder.options)
    assert doctor.scope.follows == ("leader-a", "leader-b", "leader-c") and doctor.scope.as_user == "ccr-user"
    assert doctor.scope.indices == () and collect.scope.follows == ("leader-a",)


@pytest.mark.parametrize(("args", "says"), [
    (["doctor", "--as-user", "app-user"], "--as-user goes with --index"),
    (["doctor", "--index", "remote-es:logs-*"], "without an alias"),
    (["fix", "--remote-context", "b", "--widen-key-access"], "--widen-key-access goes with --index"),
    (["doctor", "--bundle", "b.zip", "--index", "logs-*"], "--index: not used with --bundle"),
    (["doctor", "--follow", "remote-es:leader"], "--follow remote-es:leader: give one remote leader index"),
    (["doctor", "--follow", "logs-*"], "without an alias or wildcard"),
    (["doctor", "--bundle", "b.zip", "--follow", "leader"], "--follow: not used with --bundle"),
])
def test_index_flags_misused_are_one_line_usage_errors(recorder: Recorder, capsys: pytest.CaptureFixture[str],
                                                       args: list[str], says: str) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and not recorder.options


def test_collect_requires_an_output_file(recorder: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["collect"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_checks_takes_an_optional_id(recorder: Recorder) -> None:
    cli.main(["checks", "ECKRC303", "-o", "markdown"])
    options = recorder.options[0][1]
    assert options.check_id == "ECKRC303" and options.output == "markdown"


def test_credentials_in_an_es_url_are_refused(recorder: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctor", "--es-url", "https://elastic:pw@127.0.0.1:9200"]) == 2
    err = capsys.readouterr().err
    assert "pw" not in err and err.count("\n") == 1 and not recorder.options


def test_an_unset_api_key_env_var_is_a_usage_error(recorder: Recorder, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECKRC_NO_SUCH_VAR", raising=False)
    assert cli.main(["doctor", "--es-api-key-env", "ECKRC_NO_SUCH_VAR"]) == 2
    assert "ECKRC_NO_SUCH_VAR" in capsys.readouterr().err


def test_an_eckrc_error_is_one_line_with_its_exit_code(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rec = Recorder(AccessError("cannot reach the cluster\nsecond line"))
    monkeypatch.setattr(cli, "_command", rec.module)
    assert cli.main(["doctor"]) == 3
    assert capsys.readouterr().err == "error: cannot reach the cluster second line\n"


def test_an_unexpected_exception_is_one_line_exit_3_without_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    rec = Recorder(RuntimeError("boom"))
    monkeypatch.setattr(cli, "_command", rec.module)
    assert cli.main(["doctor"]) == 3
    err = capsys.readouterr().err
    assert err == "error: internal error: RuntimeError: boom (run with --debug for the traceback)\n"


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    rec = Recorder(RuntimeError("boom"))
    monkeypatch.setattr(cli, "_command", rec.module)
    assert cli.main(["doctor", "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(("argv0", "name"), [
    ("/usr/local/bin/kubectl-eckrc", "kubectl eckrc"),
    ("kubectl-eckrc.exe", "kubectl eckrc"),
    ("/x/cli.py", "kubectl eckrc"),
])
def test_program_name_is_what_users_type(argv0: str, name: str) -> None:
    assert cli.program_name(argv0) == name


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def test_help_invoked_as_plugin_says_kubectl_eckrc() -> None:
    # scripts/test installs the project (pip install -e): a missing script is a broken install
    assert CONSOLE.exists(), f"no console script at {CONSOLE}: run `pip install -e .` in this venv"
    result = _run(str(CONSOLE), "doctor", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: kubectl eckrc doctor")


def test_help_and_version_import_no_cluster_client() -> None:
    probe = (
        "import sys\n"
        "from kubectl_eckrc.cli import main\n"
        "main(['--help']); main(['doctor', '--help']); main(['version'])\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'elasticsearch', 'urllib3')]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    result = _run(sys.executable, "-c", probe)
    assert result.returncode == 0
    assert result.stderr.strip().endswith("HEAVY=")


def test_version_prints_one_line() -> None:
    result = _run(sys.executable, "-m", "kubectl_eckrc.cli", "version")
    assert result.returncode == 0 and result.stdout.startswith("kubectl-eckrc ")
    assert len(result.stdout.splitlines()) == 1


def test_malformed_kubeconfig_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("apiVersion: v1\nclusters: [\n  - {name: a\n")
    result = _run(sys.executable, "-m", "kubectl_eckrc.cli", "doctor", "--kubeconfig", str(config))
    assert result.returncode == 2
    assert result.stderr.startswith("error: kubeconfig") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_unknown_context_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
    )
    result = _run(sys.executable, "-m", "kubectl_eckrc.cli", "doctor", "--kubeconfig", str(config),
                  "--context", "nope")
    assert result.returncode == 2
    assert result.stderr == "error: context 'nope' not found in the kubeconfig (contexts: a)\n"
