"""The path a user follows, typed as the tool prints it: doctor's fix hint, fix's "to carry this
out" and "to verify" run as printed, in the same shell (KUBECONFIG from the environment)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from kubectl_eckrc import cli
from tests.test_doctor_live import Run

# What a user types first: the kubeconfig comes from the environment, the namespaces and
# Elasticsearch names are left to the tool to find.
FIRST = ("--context", "local", "--remote-context", "remote", "--timeout", "10")


@pytest.fixture
def typed(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    def run(running: Any, line: str) -> Run:
        monkeypatch.setenv("KUBECONFIG", str(running.kubeconfig))
        words = shlex.split(line)
        assert words[:2] == ["kubectl", "eckrc"], line
        capsys.readouterr()
        code = cli.main(words[2:])
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


def printed(text: str, after: str) -> str:
    """The command a line of output hands the user, after `after`."""
    match = re.search(re.escape(after) + r"\s*(kubectl eckrc .+?)(?:   \(|$)", text, re.MULTILINE)
    assert match, f"no command after {after!r} in:\n{text}"
    return match.group(1)


def test_stale_ca_doctor_fix_doctor_as_printed(twin: Any, typed: Any) -> None:
    running = twin("stale-ca")
    doctor = typed(running, "kubectl eckrc doctor " + " ".join(FIRST))
    assert doctor.code == 1
    hint = printed(doctor.stdout, "fix:")
    assert "--alias remote-es" in hint and "--remote-namespace search" in hint

    plan = typed(running, hint)
    assert plan.code == 1, plan.stderr  # a plan to carry out, nothing written yet
    carry = printed(plan.stdout, "To carry this out:")
    assert carry.endswith("--apply")

    applied = typed(running, carry + " --yes")  # not a terminal: the confirmation is --yes
    assert applied.code == 0, applied.stdout + applied.stderr
    verify = printed(applied.stdout, "To verify every check:")
    final = typed(running, verify)
    assert final.code == 0, final.stdout


def test_without_an_alias_doctor_proposes_the_remotes_name(twin: Any, typed: Any) -> None:
    running = twin("no-remote-config")
    doctor = typed(running, "kubectl eckrc doctor " + " ".join(FIRST))
    hint = printed(doctor.stdout, "fix:")
    assert "--alias remote-es" in hint

    plan = typed(running, hint)
    assert plan.code == 1, plan.stderr
    assert "register-remote" in plan.stdout and "To carry this out:" in plan.stdout


def test_a_wrong_namespace_names_where_elasticsearch_was_found(twin: Any, typed: Any) -> None:
    running = twin("healthy")
    run = typed(running, "kubectl eckrc doctor --context local -n wrong --timeout 10")
    assert run.code == 2
    assert "no Elasticsearch resource in namespace wrong" in run.stderr
    assert "found in this context: logging/local-es" in run.stderr


def test_the_exec_credential_plugin_runs_once_per_context(twin: Any, typed: Any, tmp_path: Path) -> None:
    """fix opens a client per side for the snapshot, for the writes and for every Elasticsearch
    reconnect: the kubeconfig's exec plugin (often a slow cloud CLI) still runs once."""
    import yaml

    from kubectl_eckrc.collect import kube

    running = twin("healthy")
    config = yaml.safe_load(running.kubeconfig.read_text())
    calls = tmp_path / "calls"
    for user in config["users"]:
        token = user["user"].pop("token")
        plugin = tmp_path / f"{user['name']}.sh"
        credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                                 "status": {"token": token}})
        plugin.write_text(f"#!/bin/sh\necho {user['name']} >> {calls}\nprintf '%s' '{credential}'\n")
        plugin.chmod(0o700)
        user["user"]["exec"] = {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                                "interactiveMode": "Never"}
    running.kubeconfig.write_text(yaml.safe_dump(config))
    kube._CONFIGURATIONS.clear()  # a fresh run
    run = typed(running, "kubectl eckrc fix " + " ".join(FIRST))
    assert run.code == 0, run.stderr
    assert sorted(calls.read_text().split()) == ["local-admin", "remote-admin"]


def test_only_skips_the_link_reads_its_checks_do_not_need(twin: Any, typed: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`--only 'ECKRC10*'` on a black-holed link must not wait for its TLS probe or
    `_resolve/cluster`: none of the selected checks reads them."""
    from kubectl_eckrc.collect import live

    probed: list[str] = []
    real_probe, real_resolver = live._probe_link, live._resolver
    monkeypatch.setattr(live, "_probe_link", lambda s, a, t: probed.append(a) or real_probe(s, a, t))
    monkeypatch.setattr(live, "_resolver",
                        lambda c, a, t: probed.append(f"resolve {a}") or real_resolver(c, a, t))
    running = twin("healthy")
    run = typed(running, "kubectl eckrc doctor " + " ".join(FIRST) + " --only 'ECKRC10*' -o json")
    assert run.code == 0, run.stderr
    assert probed == [] and {f["id"][:7] for f in json.loads(run.stdout)["findings"]} == {"ECKRC10"}
    run = typed(running, "kubectl eckrc doctor " + " ".join(FIRST) + " --only ECKRC205 -o json")
    assert sorted(probed) == ["remote-es", "resolve remote-es"]


def test_doctor_wait_runs_again_until_the_link_is_repaired(twin: Any, typed: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor --wait after a repair: the first run still fails, a later one passes (exit 0)."""
    from kubectl_eckrc.commands import doctor

    running = twin("stale-ca")
    runs: list[int] = []
    real = doctor.evaluate

    def evaluate(*args: Any) -> Any:
        result = real(*args)
        runs.append(result[1].exit_code)
        if len(runs) == 1:  # the repair lands while doctor waits
            assert typed(running, "kubectl eckrc fix " + " ".join(FIRST) + " --alias remote-es --apply --yes"
                         ).code == 0
        return result

    monkeypatch.setattr(doctor, "evaluate", evaluate)
    monkeypatch.setattr(doctor, "WAIT_PAUSE", 0.1)
    run = typed(running, "kubectl eckrc doctor " + " ".join(FIRST) + " --wait 5m")
    assert run.code == 0 and runs[0] == 1 and runs[-1] == 0, run.stderr
    assert "waiting: 2 failed" in run.stderr
