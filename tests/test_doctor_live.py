"""doctor, run as users run it (a subprocess), against every twin scenario.

One doctor run per scenario carries several assertions: the exit code, the causal finding,
no earlier check failing for a wrong reason, no planted secret in any output, no mutating
request in either audit log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.collect import servers

ROOT = Path(__file__).resolve().parents[1]
REMOTE_CHECKS_NEEDING_ACCESS = ("ECKRC102", "ECKRC108", "ECKRC201", "ECKRC404")


# A broken link also fails the end-to-end checks; those are consequences, not wrong reasons.
CONSEQUENCES = frozenset({"ECKRC503", "ECKRC504", "ECKRC505"})


@dataclass(frozen=True)
class Expect:
    code: int
    cause: str = ""  # the one finding that names the scenario's cause
    status: str = "fail"  # exactly the status that finding has
    args: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # other failures the scenario legitimately has (it injects two faults)
    passes: tuple[str, ...] = ()  # checks that must pass (evaluated, not merely unfailed)
    says: str = ""  # text the causal finding's message or hint must hold


SCENARIOS = {
    # proof of use: a search on logs-* through the link reaches the remote's logs indices
    "healthy": Expect(0, args=("--index", "logs-*"), passes=("ECKRC508",)),
    "cert-model-healthy": Expect(0),
    "healthy-eck-rcs-service": Expect(0),
    "nodeport-exposure": Expect(0, passes=("ECKRC203", "ECKRC204", "ECKRC205")),
    "lb-hostname": Expect(0, passes=("ECKRC203", "ECKRC204", "ECKRC205")),
    # the credential is found through `entries`: the key checks judge it instead of not evaluating
    "secure-settings-entries": Expect(0, passes=("ECKRC402", "ECKRC403", "ECKRC404", "ECKRC405")),
    # server_name in no SAN, the LB IP a SAN: the JDK fails over to the address host (warning only)
    "server-name-wrong-lb-ip-san": Expect(0),
    # repaired on the remote after the link failed: _remote/info is stale until _resolve/cluster asks
    # doctor reads the attempt its _resolve/cluster starts for up to half of --timeout; loaded
    # cores can make the twin's attempt outlast the default 2.5 s
    "remote-fixed-later": Expect(0, args=("--timeout", "10")),
    "healthy-9x": Expect(0),
    "healthy-mixed-9-8": Expect(0),  # 9.1 talks to 8.19+: a supported pair
    "rcs-disabled": Expect(1, "ECKRC201"),
    # the LB passes the refusal through (MetalLB, kube-proxy): ECKRC205 fails too, after the cause
    "rcs-disabled-refused": Expect(1, "ECKRC201"),
    "lb-no-address": Expect(1, "ECKRC203"),
    "targetport-missing": Expect(1, "ECKRC203"),
    "proxy-to-transport-port": Expect(1, "ECKRC204"),
    "blackhole": Expect(1, "ECKRC205", args=("--timeout", "2")),
    "refused": Expect(1, "ECKRC205"),
    # an internal LB: the local pods reach it, this machine does not; the link's evidence decides
    "pods-only-reachable": Expect(0, "ECKRC205", status="warn", passes=("ECKRC503", "ECKRC504"),
                                  says="not reachable from this machine"),
    # this machine reaches the LB, the pods' egress is dropped: the cause is the path from the pods
    "egress-blocked": Expect(1, "ECKRC503", passes=("ECKRC205", "ECKRC304"), says="path from the pods"),
    "ca-not-mounted": Expect(1, "ECKRC301"),
    "ca-wrong-path": Expect(1, "ECKRC302"),
    "ca-missing-on-one-nodeset": Expect(1, "ECKRC301"),
    "stale-ca": Expect(1, "ECKRC303"),
    "ca-subpath-mount": Expect(1, "ECKRC303", says="subPath"),
    # ECK renewed the remote CA with its key and SKI: the previous issue still anchors the chain
    "remote-ca-renewed": Expect(0, "ECKRC303", status="warn", passes=("ECKRC304", "ECKRC503"),
                                says="keep accepting"),
    "same-es-name": Expect(1, "ECKRC303"),
    "server-name-unset": Expect(1, "ECKRC305"),
    "server-name-ip": Expect(1, "ECKRC305"),
    "tls-terminating-proxy": Expect(1, "ECKRC306", also=("ECKRC304",)),
    "plaintext-proxy": Expect(1, "ECKRC306"),
    "secure-settings-secret-missing": Expect(1, "ECKRC401"),
    "alias-typo": Expect(1, "ECKRC402"),
    "raw-api-key": Expect(1, "ECKRC403"),
    "rest-api-key": Expect(1, "ECKRC404"),
    "expired-api-key": Expect(1, "ECKRC404"),
    "key-unknown-to-remote": Expect(1, "ECKRC404"),
    "invalidated-api-key": Expect(1, "ECKRC404"),
    # ECK's status lists the pod it may not restart (change budget 0): waiting will not do
    "rollout-pending": Expect(1, "ECKRC405", says="changeBudget.maxUnavailable"),
    "basic-license": Expect(1, "ECKRC106"),
    "es-too-old": Expect(1, "ECKRC105"),
    "sniff-mode": Expect(1, "ECKRC502"),
    "skip-unavailable-broken": Expect(1, "ECKRC505", status="warn", also=("ECKRC301",)),
    "cert-expired": Expect(1, "ECKRC307", also=("ECKRC304",)),
    # the local user may not read secrets nor port-forward: the RBAC gate cannot be evaluated
    "rbac-restricted": Expect(3, "ECKRC103", status="not-evaluated"),
    "key-access-too-narrow": Expect(1, "ECKRC508", args=("--index", "metrics-*")),
    "local-role-no-remote-indices": Expect(1, "ECKRC508",
                                           args=("--index", "logs-*", "--as-user", "app-user")),
    "strong-identity-healthy": Expect(0, passes=("ECKRC410", "ECKRC411", "ECKRC412", "ECKRC413")),
    # names both the signer's DN and the key's pattern
    "strong-identity-dn-mismatch": Expect(1, "ECKRC413", says="[CN=local-es-signing,OU=logging] does not "
                                          "match the certificate_identity [CN=local-es-signer,OU=logging]"),
    "strong-identity-unsigned": Expect(1, "ECKRC411", says="no local nodeSet signs for remote-es"),
    "strong-identity-untrusted-signer": Expect(1, "ECKRC412", says="CN=local-es-signing-ca,OU=logging"),
    "cert-model-one-way": Expect(1, "ECKRC601"),
    "cert-model-configmap-wrong-key": Expect(1, "ECKRC601"),
    "cert-model-to-rcs": Expect(1, "ECKRC602"),
    "no-remote-config": Expect(1, "ECKRC501", args=("--alias", "remote-es"), also=("ECKRC201", "ECKRC301")),
}

# Each failure row of domain.md §6 (FAILURE_ROWS): the live scenario that reproduces it and the
# check that must fail (or warn) in that scenario's doctor run. tests/test_catalogue.py holds
# this table to every row; the runs above prove each entry.
ROW_CAUGHT_BY = {
    "F1": ("rcs-disabled", "ECKRC201"),
    "F2": ("refused", "ECKRC205"),
    "F3": ("ca-not-mounted", "ECKRC301"),
    "F4": ("stale-ca", "ECKRC303"),
    "F5": ("server-name-unset", "ECKRC305"),
    "F6": ("server-name-ip", "ECKRC305"),
    "F7": ("tls-terminating-proxy", "ECKRC306"),
    "F8": ("plaintext-proxy", "ECKRC306"),
    "F9": ("alias-typo", "ECKRC402"),
    "F10": ("proxy-to-transport-port", "ECKRC204"),
    "F11": ("rest-api-key", "ECKRC404"),
    "F12": ("raw-api-key", "ECKRC403"),
    "F13": ("basic-license", "ECKRC106"),
    "F14": ("cert-model-configmap-wrong-key", "ECKRC601"),
    "F15": ("secure-settings-secret-missing", "ECKRC401"),
    "F16": ("local-role-no-remote-indices", "ECKRC508"),
    "F17": ("sniff-mode", "ECKRC502"),
    "F18": ("skip-unavailable-broken", "ECKRC505"),
    "F19": ("es-too-old", "ECKRC105"),
    "F20": ("rollout-pending", "ECKRC405"),
    "F21": ("cert-model-one-way", "ECKRC601"),
    "F22": ("cert-model-to-rcs", "ECKRC602"),
    "F23": ("cert-expired", "ECKRC307"),
}
# Rows no twin scenario reproduces, and why.
ROWS_WITHOUT_SCENARIO: dict[str, str] = {}


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.stdout))

    def findings(self) -> list[dict[str, Any]]:
        return list(self.document["findings"])

    def describe(self) -> str:
        """What went wrong, in one readable block for the assertion message."""
        try:
            bad = [f"{f['id']} {f['status']}: {f['message']}" for f in self.findings()
                   if f["status"] in ("fail", "warn", "not-evaluated")]
        except (ValueError, KeyError):
            bad = [self.stdout[:2000]]
        return f"exit {self.code}; stderr={self.stderr.strip()[:500]!r}\n" + "\n".join(bad)


def doctor(kubeconfig: Path | str, *args: str, output: str = "json", remote: bool = True,
           timeout: float = 120) -> Run:
    command = [sys.executable, "-m", "kubectl_eckrc.cli", "doctor", "--kubeconfig", str(kubeconfig),
               "--context", "local", "-o", output, *args]
    if remote:
        command += ["--remote-context", "remote"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return Run(result.returncode, result.stdout, result.stderr)


def finding_of(findings: list[dict[str, Any]], check: str) -> dict[str, Any]:
    """The check's finding for the scenarios' alias (remote-es), or its side finding."""
    return next(f for f in findings if f["id"] == check and f["alias"] in (None, "remote-es"))


def assert_no_canary(running: Any, *texts: str) -> None:
    assert running.canaries(), "the scenario planted no secret value to look for"
    for canary in running.canaries():
        for text in texts:
            assert canary not in text, "a planted secret value reached the output"


def assert_read_only(running: Any) -> None:
    for env in (running.local, running.remote):
        writes = [f"{e.method} {e.path}" for e in env.audit.mutating(include_dry_run=True)]
        assert writes == [], f"doctor wrote to {env.name}: {writes}"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_doctor_names_the_cause_of_each_scenario(twin: Any, scenario: str) -> None:
    expect = SCENARIOS[scenario]
    running = twin(scenario)
    for env in (running.local, running.remote):
        env.audit.clear()
    run = doctor(running.kubeconfig, *expect.args)
    assert run.code == expect.code, run.describe()
    assert "Traceback" not in run.stderr
    findings = run.findings()
    failed = [f for f in findings if f["status"] == "fail" and f["severity"] == "error"]
    if not expect.cause:
        assert failed == [], run.describe()
    else:
        causal = finding_of(findings, expect.cause)
        assert causal["status"] == expect.status, f"{scenario}: expected {expect.cause} {expect.status}\n" \
            f"{run.describe()}"
        assert expect.says in causal["message"] + " " + causal["hint"], run.describe()
        allowed = CONSEQUENCES | set(expect.also)
        earlier = [f["id"] for f in failed if f["id"] < expect.cause and f["id"] not in allowed]
        assert earlier == [], \
            f"{scenario}: {earlier} failed before the cause {expect.cause}\n{run.describe()}"
    for row, (where, check) in ROW_CAUGHT_BY.items():
        if where == scenario:
            assert finding_of(findings, check)["status"] in ("fail", "warn"), \
                f"{row} ({scenario}) not caught by {check}\n{run.describe()}"
    not_passed = [f"{f['id']} {f['status']}" for f in findings if f["id"] in expect.passes
                  and f["status"] != "pass"]
    assert not_passed == [], run.describe()
    assert_no_canary(running, run.stdout, run.stderr)
    assert_read_only(running)


@pytest.mark.parametrize("scenario", ["raw-api-key"])
def test_no_output_format_shows_a_secret_and_all_agree_on_the_exit_code(twin: Any, scenario: str) -> None:
    running = twin(scenario)
    codes = set()
    for output in ("table", "json", "yaml", "junit", "markdown"):
        run = doctor(running.kubeconfig, output=output)
        assert run.stdout.strip(), f"{output}: empty document; {run.stderr}"
        assert_no_canary(running, run.stdout, run.stderr)
        codes.add(run.code)
    assert codes == {1}


def test_without_remote_access_remote_checks_are_not_evaluated(twin: Any) -> None:
    running = twin("healthy")
    run = doctor(running.kubeconfig, remote=False)
    assert run.code == 0, run.describe()
    by_id = {f["id"]: f for f in run.findings()}
    assert by_id["ECKRC102"]["status"] == "not-evaluated"
    remote_passes = [f["id"] for f in run.findings() if f["side"] == "remote" and f["status"] == "pass"]
    assert remote_passes == []
    probe = by_id.get("ECKRC205")
    assert probe is not None and probe["status"] == "pass", "the TLS probe needs only the address"


def test_a_monitoring_user_cannot_use_resolve_cluster_and_doctor_falls_back_on_remote_info(
    twin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cluster `monitor` reads settings and _remote/info but not _resolve/cluster (an index
    action): doctor says it could not use it, judges the link from _remote/info, exits 0."""
    running = twin("healthy")
    local = running.local.es("logging", "local-es")
    local.security.put_role("monitoring", {"cluster": ["monitor"]})
    local.security.add_user("watcher", "watcher-pw-1", ["monitoring"])
    monkeypatch.setenv("ECKRC_TEST_USER", "watcher")
    monkeypatch.setenv("ECKRC_TEST_PASSWORD", "watcher-pw-1")
    run = doctor(running.kubeconfig, "--es-username-env", "ECKRC_TEST_USER",
                 "--es-password-env", "ECKRC_TEST_PASSWORD")
    assert run.code == 0, run.describe()
    by_id = {f["id"]: f for f in run.findings() if f["alias"] in (None, "remote-es")}
    assert by_id["ECKRC504"]["status"] == "not-evaluated", run.describe()
    assert "_remote/info alone" in by_id["ECKRC504"]["message"]
    assert by_id["ECKRC503"]["status"] == "pass", run.describe()


def test_unknown_es_name_is_one_line_exit_2(twin: Any) -> None:
    running = twin("healthy")
    run = doctor(running.kubeconfig, "--es", "nope")
    assert run.code == 2 and run.stdout == ""
    assert run.stderr.startswith("error: Elasticsearch 'nope' not found in namespace logging")
    assert run.stderr.count("\n") == 1


def test_es_url_that_is_not_elasticsearch_is_one_line_exit_2(twin: Any) -> None:
    running = twin("healthy")
    with servers.http_server() as port:
        run = doctor(running.kubeconfig, "--es-url", f"http://127.0.0.1:{port}", "--es-url-elastic-user")
    assert run.code == 2, run.describe()
    assert run.stderr == (f"error: --es-url http://127.0.0.1:{port}: not Elasticsearch "
                          "(no X-Elastic-Product header)\n")


def test_plaintext_where_tls_was_expected_is_one_line_exit_2(twin: Any) -> None:
    running = twin("healthy")
    with servers.http_server() as port:
        run = doctor(running.kubeconfig, "--es-url", f"https://127.0.0.1:{port}", "--es-url-elastic-user")
    assert run.code == 2, run.describe()
    assert "plaintext where TLS was expected" in run.stderr and run.stderr.count("\n") == 1


def test_kubeconfig_env_with_one_file_per_cluster_works_as_in_kubectl(twin: Any, tmp_path: Path) -> None:
    running = twin("healthy")
    merged = yaml.safe_load(Path(running.kubeconfig).read_text())
    paths = []
    for name in ("local", "remote"):
        context = next(c for c in merged["contexts"] if c["name"] == name)
        part = {
            "apiVersion": "v1", "kind": "Config", "current-context": name,
            "contexts": [context],
            "clusters": [c for c in merged["clusters"] if c["name"] == context["context"]["cluster"]],
            "users": [u for u in merged["users"] if u["name"] == context["context"]["user"]],
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(part))
        paths.append(str(path))
    command = [sys.executable, "-m", "kubectl_eckrc.cli", "doctor", "--remote-context", "remote",
               "-o", "json"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "KUBECONFIG": os.pathsep.join(paths)})
    run = Run(result.returncode, result.stdout, result.stderr)
    assert run.code == 0, run.describe()
    assert run.document["local"]["context"] == "local"  # current-context of the first file


def test_remote_es_url_is_verified_against_the_clusters_http_ca(twin: Any) -> None:
    running = twin("healthy")
    host, port = running.remote.pod_target("search", running.remote.first_pod("search", "remote-es"), 9200)
    run = doctor(running.kubeconfig, "--remote-es-url", f"https://{host}:{port}",
                 "--remote-es-url-elastic-user")
    by_id = {f["id"]: f for f in run.findings()}
    reached = by_id["ECKRC108"]
    # The ECK HTTP certificate names the service, not the pod address: verification must refuse it.
    assert reached["status"] == "not-evaluated", run.describe()
    assert "certificate verify failed" in reached["message"]
