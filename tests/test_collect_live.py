"""`collect` and `doctor --bundle` through the CLI against every twin scenario.

For each scenario: an independent live `doctor -o json`, then `collect`, then
`doctor --bundle -o json`. The bundle holds everything live doctor read, so offline doctor must
give the live verdict of every check the bundle has evidence for (every check the live run at
collection evaluated), and a check offline doctor cannot evaluate must name the evidence it
misses. No planted secret (canary) may appear in any file of any bundle, in any encoding.
Finally eck-diagnostics archives are built from the twin's objects (real `kubectl get -o json`)
and Elasticsearch answers, and the checks they support give the live verdicts.

One twin at a time: each scenario starts, is read three times in process, and stops.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kubectl_eckrc import cli
from kubectl_eckrc.collect.sanitize import encodings
from tests.collect.eckdiag_layout import NamespaceDump, nodes_answer, write_archive
from tests.twin.faults import SCENARIOS

pytestmark = pytest.mark.slow

# Seconds per network operation. Generous: a loaded 2-core machine (the suite's key pool warms
# in the background) must not turn a slow answer into a timeout; the black hole costs it twice.
TIMEOUT = "5"
# doctor reads the outcome of the connection attempt its _resolve/cluster starts for up to half
# of --timeout: on loaded cores the twin's attempt can outlast 2.5 s.
ATTEMPT_TIMEOUT = {"remote-fixed-later": "10"}
NAMES = sorted(SCENARIOS)


def scope_flags(kubeconfig: Path, scenario: str = "") -> list[str]:
    return ["--kubeconfig", str(kubeconfig), "--context", "local", "-n", "logging",
            "--remote-context", "remote", "--remote-namespace", "search",
            "--timeout", ATTEMPT_TIMEOUT.get(scenario, TIMEOUT)]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def findings_by_key(document: dict[str, Any]) -> dict[tuple[str, Any], dict[str, Any]]:
    return {(f["id"], f.get("alias")): f for f in document["findings"]}


NOT_EVALUATED = "not-evaluated"
# How a not-evaluated finding names the evidence it misses: the read ("cannot read the
# cluster settings: 403 ...") or what is out of reach, with the permission or flag that helps.
NAMES_MISSING_EVIDENCE = re.compile(r"cannot (read|see)|not read|no access|no TLS probe|has no entry|"
                                    r"was not called|not looked up|unreachable|forbidden|timed out|points at",
                                    re.IGNORECASE)


def assert_names_missing_evidence(finding: dict[str, Any], where: str) -> None:
    message = finding["message"]
    assert message and "internal error" not in message, (where, finding["id"], message)
    assert finding.get("permission") or NAMES_MISSING_EVIDENCE.search(message), \
        f"{where}: {finding['id']} is not evaluated without naming the missing evidence: {message!r}"


def assert_agrees_with_live(offline: dict[str, Any], live: dict[str, Any], where: str,
                            evidence: set[tuple[str, Any]]) -> None:
    """Offline doctor gives the live status of every check in `evidence` (the checks the
    offline source holds the reads for), and every other offline not-evaluated names the
    evidence it misses."""
    live_by = findings_by_key(live)
    offline_by = findings_by_key(offline)
    assert set(offline_by) == set(live_by), (where, live.get("links"), offline.get("links"))
    assert evidence, f"{where}: nothing to compare"
    for key in sorted(evidence, key=str):
        finding, expected = offline_by[key], live_by[key]
        assert expected["status"] != NOT_EVALUATED, (where, key, "live run could not evaluate",
                                                     expected["message"])
        assert finding["status"] == expected["status"], (where, key, finding["message"], expected["message"])
    for key, finding in offline_by.items():
        if finding["status"] == NOT_EVALUATED:
            assert key not in evidence, (where, key, finding["message"])
            assert_names_missing_evidence(finding, where)


def evaluated(document: dict[str, Any]) -> set[tuple[str, Any]]:
    return {key for key, f in findings_by_key(document).items() if f["status"] != NOT_EVALUATED}


def needles(canary: str) -> list[tuple[str, bytes]]:
    """Independent of the product's own list: the forms a reviewer would grep for."""
    raw = canary.encode()
    forms = [("plain", raw), ("base64", base64.b64encode(raw)),
             ("url-safe base64", base64.urlsafe_b64encode(raw)),
             ("JSON string", json.dumps(canary)[1:-1].encode())]
    return [(n, v) for n, v in forms if len(v) >= 8] + encodings(raw)


def assert_no_canary(bundle: Path, canaries: list[str], where: str) -> None:
    with zipfile.ZipFile(bundle) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    for canary in canaries:
        if len(canary) < 8:
            continue
        for form, needle in needles(canary):
            for name, data in files.items():
                assert needle not in data, f"{where}: a canary ({form}) is in {name}"


@pytest.fixture(scope="module", autouse=True)
def warm_process() -> None:
    """Finish the session key pool and the client imports before the first timed read: on two
    busy cores they can hold the interpreter long enough to turn a first read into a timeout."""
    from tests.twin import pki

    pki.pooled_key(pki.POOL_SIZE - 1)
    import kubectl_eckrc.collect.live  # noqa: F401


@pytest.mark.parametrize("name", NAMES)
def test_each_scenario_bundle_gives_the_live_verdicts_and_holds_no_canary(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], twin: Any
) -> None:
    scenario = twin(name)
    if name == "expired-api-key":
        # The key expires 1 ms after creation but the snapshot clock has second precision:
        # let a full second pass so that every run sees it expired, not "expires in 0 days".
        time.sleep(1.1)
    flags = scope_flags(scenario.kubeconfig, name)
    code, out, _ = run_cli(capsys, "doctor", "-o", "json", *flags)
    live = json.loads(out)
    assert code == live["exitCode"], name
    bundle = tmp_path / f"{name}.zip"
    code, out, err = run_cli(capsys, "collect", "-o", str(bundle), *flags)
    assert code == 0, (name, err)
    code, out, _ = run_cli(capsys, "doctor", "--bundle", str(bundle), "-o", "json")
    offline = json.loads(out)
    with zipfile.ZipFile(bundle) as zf:
        recorded = json.loads(zf.read("report.json"))  # live doctor's verdict at collection
    assert recorded["source"] == "live" and offline["source"] == "bundle", name
    assert code == offline["exitCode"] == live["exitCode"], name
    # the bundle holds everything live doctor reads: every check either run evaluated
    assert_agrees_with_live(offline, live, name, evaluated(live) | evaluated(recorded))
    assert_no_canary(bundle, scenario.canaries(), name)
    if name == "sniff-mode":
        assert_ticket_ready_markdown(capsys, bundle, "ECKRC502")


def assert_ticket_ready_markdown(capsys: pytest.CaptureFixture[str], bundle: Path, failing: str) -> None:
    """doctor -o markdown from a bundle: verdict title, failures first with cause and fix."""
    code, out, _ = run_cli(capsys, "doctor", "--bundle", str(bundle), "-o", "markdown")
    assert code == 1 and out.startswith("## kubectl eckrc doctor")
    first_failure, rest = out.index(failing), out.index("<details>")
    assert first_failure < rest and "fix" in out[first_failure:rest] and "cause" in out[first_failure:rest]


# --- eck-diagnostics archives built from the twin -------------------------------------------

KINDS = {"Elasticsearch": "elasticsearch", "Service": "services", "Endpoints": "endpoints",
         "Pod": "pods", "StatefulSet": "statefulsets", "ConfigMap": "configmaps", "Event": "events"}
# Faults whose evidence an eck-diagnostics archive holds: the check must fail offline too.
ECK_DIAGNOSTICS_CATCHES = {"sniff-mode": {"ECKRC502"}, "rcs-disabled": {"ECKRC201"}}
# Checks whose reads an eck-diagnostics archive holds (objects, settings, _remote/info): at
# least these are evaluated offline. No TLS handshake and no API keys: the checks that need
# them must say what they miss.
ECK_DIAGNOSTICS_EVIDENCE = {"ECKRC101", "ECKRC102", "ECKRC104"}
ES_FILES = {"version.json": "/", "cluster_health.json": "/_cluster/health", "licenses.json": "/_license",
            "cluster_settings.json": "/_cluster/settings?flat_settings=true",
            "remote_cluster_info.json": "/_remote/info", "commercial/security_roles.json": "/_security/role"}


def kubectl_dump(kubeconfig: Path, context: str, namespace: str) -> tuple[dict[str, list[Any]], list[Any]]:
    """What eck-diagnostics runs: `kubectl get -o json` of the namespace's resources."""
    resources = ("elasticsearches.elasticsearch.k8s.elastic.co,services,endpoints,pods,statefulsets,"
                 "configmaps,events")
    lists: dict[str, list[Any]] = {name: [] for name in KINDS.values()}
    for kind_list, kinds in ((lists, resources), (None, "secrets")):
        result = subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "--context", context, "-n", namespace,
             "get", kinds, "-o", "json", "--request-timeout", "10s"],
            capture_output=True, text=True, timeout=60, check=True)
        items = json.loads(result.stdout)["items"]
        if kind_list is None:
            return lists, items
        for item in items:
            if item.get("kind") in KINDS:
                lists[KINDS[item["kind"]]].append(item)
    raise AssertionError("unreachable")


def es_dump(env: Any, namespace: str, es: str) -> dict[str, Any]:
    from tests.twin.es_api import es_call

    answers = {}
    for file, path in ES_FILES.items():
        _, answers[file] = es_call(env, namespace, es, "GET", path, expect_ok=False)
    _, node_settings = es_call(env, namespace, es, "GET", "/_nodes/settings?flat_settings=true")
    answers["nodes.json"] = nodes_answer(node_settings)
    return answers


def eck_diagnostics_of(scenario: Any, tmp_path: Path, role: str) -> Path:
    namespace, es, env = (("logging", "local-es", scenario.local) if role == "local"
                          else ("search", "remote-es", scenario.remote))
    lists, secrets = kubectl_dump(scenario.kubeconfig, role, namespace)
    dump = NamespaceDump(namespace, lists, secrets, es, es_dump(env, namespace, es))
    return write_archive(tmp_path / f"eck-diagnostics-{role}.zip", [dump])


@pytest.mark.parametrize("name", sorted(ECK_DIAGNOSTICS_CATCHES))
def test_eck_diagnostics_archives_of_the_twin_give_the_live_verdicts_they_support(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], twin: Any
) -> None:
    scenario = twin(name)
    code, out, _ = run_cli(capsys, "doctor", "-o", "json", *scope_flags(scenario.kubeconfig, name))
    live = json.loads(out)
    local = eck_diagnostics_of(scenario, tmp_path, "local")
    remote = eck_diagnostics_of(scenario, tmp_path, "remote")
    code, out, err = run_cli(capsys, "doctor", "--bundle", str(local), "--remote-bundle", str(remote),
                             "-o", "json")
    offline = json.loads(out)
    assert offline["exitCode"] == code, err
    by_key = findings_by_key(offline)
    assert {key[0] for key in evaluated(offline)} >= ECK_DIAGNOSTICS_EVIDENCE
    assert_agrees_with_live(offline, live, name, evaluated(offline))
    for key, finding in by_key.items():
        if key[0] in ("ECKRC304", "ECKRC404"):  # no TLS handshake, no API keys in such archives
            assert finding["status"] in ("not-evaluated", "skipped"), (key, finding["message"])
    failing = {k[0] for k, f in by_key.items() if f["status"] == "fail"}
    assert ECK_DIAGNOSTICS_CATCHES[name] <= failing
    with zipfile.ZipFile(local) as zf:
        archive_secrets = json.loads(zf.read("logging/secrets.json"))["items"]
    assert all("data" not in s for s in archive_secrets)


# --- redaction and refusal end to end -------------------------------------------------------


def kubectl(scenario: Any, *args: str, stdin: str | None = None) -> str:
    command = ["kubectl", "--kubeconfig", str(scenario.kubeconfig), "--context", "local", "-n", "logging",
               *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60, check=True).stdout


def test_kubectl_applied_env_values_and_last_applied_configuration_stay_out_of_the_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], twin: Any
) -> None:
    scenario = twin("healthy")
    planted = "planted-env-value-7f3c1b9a"
    es = json.loads(kubectl(scenario, "get", "elasticsearch", "local-es", "-o", "json"))
    for key in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        es["metadata"].pop(key, None)
    es.pop("status", None)
    pod_spec = es["spec"]["nodeSets"][0].setdefault("podTemplate", {}).setdefault("spec", {})
    pod_spec["containers"] = [{"name": "elasticsearch", "env": [
        {"name": "PLANTED", "value": planted},
        {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "remote-api-keys", "key": "x"}}}]}]
    kubectl(scenario, "apply", "-f", "-", stdin=json.dumps(es))  # writes last-applied-configuration
    bundle = tmp_path / "b.zip"
    code, _, err = run_cli(capsys, "collect", "-o", str(bundle), *scope_flags(scenario.kubeconfig))
    assert code == 0, err
    with zipfile.ZipFile(bundle) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    for name, data in files.items():
        for form, needle in needles(planted):
            assert needle not in data, (name, form)
    snapshot = json.loads(files["snapshot.json"])
    es_stored = snapshot["local"]["kube"]["elasticsearch"]
    annotations = es_stored["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/last-applied-configuration"] == "<redacted>"
    env = es_stored["spec"]["nodeSets"][0]["podTemplate"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "PLANTED", "value": "<redacted>"}
    assert env[1]["valueFrom"] == {"secretKeyRef": {"name": "remote-api-keys", "key": "x"}}


def test_a_secret_value_copied_into_a_configmap_makes_collect_refuse_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], twin: Any
) -> None:
    from tests.twin.eck_config import decode_secret_data

    scenario = twin("healthy")
    store = scenario.local.store
    password = decode_secret_data(store.get("secrets", "logging", "local-es-es-elastic-user"))["elastic"]
    configmap = store.get("configmaps", "logging", "remote-ca")
    configmap["data"]["notes.txt"] = f"temporary admin login, for now: {password}\n"  # no key name
    store.update("configmaps", configmap)
    target = tmp_path / "out"
    target.mkdir()
    flags = scope_flags(scenario.kubeconfig)
    code, out, err = run_cli(capsys, "collect", "-o", str(target / "b.zip"), *flags)
    assert code == 3 and out == ""
    assert err.startswith("error: refusing to write") and err.count("\n") == 1
    assert "snapshot.json" in err and password not in err
    assert list(target.iterdir()) == []


def test_bundles_collected_separately_in_each_environment_combine_with_remote_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], twin: Any
) -> None:
    scenario = twin("healthy")
    kubeconfig = str(scenario.kubeconfig)
    code, out, _ = run_cli(capsys, "doctor", "-o", "json", *scope_flags(scenario.kubeconfig))
    live = json.loads(out)
    local, remote = tmp_path / "local.zip", tmp_path / "remote.zip"
    for target, context, namespace in ((local, "local", "logging"), (remote, "remote", "search")):
        code, _, err = run_cli(capsys, "collect", "-o", str(target), "--kubeconfig", kubeconfig,
                               "--context", context, "-n", namespace, "--timeout", TIMEOUT)
        assert code == 0, err
    code, out, _ = run_cli(capsys, "doctor", "--bundle", str(local), "--remote-bundle", str(remote),
                           "-o", "json")
    offline = json.loads(out)
    assert offline["remote"]["namespace"] == "search" and offline["remote"]["elasticsearch"] == "remote-es"
    # each bundle holds its own side's reads: everything but the remote API key lookup
    # (ECKRC404 needs the local credential and the remote key list in one run)
    assert_agrees_with_live(offline, live, "healthy, two bundles",
                            {key for key in evaluated(live) if key[0] != "ECKRC404"})
