"""fix through the CLI against the twin: it repairs what it can, explains what it cannot, and
never writes what it must not.

The CLI runs in-process (`kubectl_eckrc.cli.main`), as fast as a subprocess is slow, and so
that a test can hook the writer (a concurrent edit, an injected failure). One scenario run
carries several assertions: dry run writes nothing, apply repairs, doctor then passes, no
secret in any output, no write to an ECK-owned object.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_eckrc import cli
from kubectl_eckrc.collect import kube_side
from kubectl_eckrc.collect.kube import KubeClient
from kubectl_eckrc.fix import apply
from kubectl_eckrc.fix.model import Change
from kubectl_eckrc.kubeconfig import resolve
from kubectl_eckrc.options import SideTarget
from kubectl_eckrc.snapshot import KubeState, Unavailable
from tests.test_doctor_live import Run
from tests.twin import pki as twin_pki
from tests.twin.eck_config import decode_secret_data
from tests.twin.es_api import es_call

LOCAL_NS, LOCAL_ES, REMOTE_NS, REMOTE_ES, ALIAS = "logging", "local-es", "search", "remote-es", "remote-es"
SCOPE = (
    "--context",
    "local",
    "-n",
    LOCAL_NS,
    "--es",
    LOCAL_ES,
    "--remote-context",
    "remote",
    "--remote-namespace",
    REMOTE_NS,
    "--remote-es",
    REMOTE_ES,
)
# Generous bounds: they cost nothing when the twin is quick and keep a loaded machine from
# turning slowness into failures (the wait ends as soon as the link is connected).
WAIT = ("--wait", "--timeout-wait", "180")
TIMEOUT = ("--timeout", "10")

REPAIRABLE = [
    "no-remote-config",
    "rcs-disabled",
    "lb-no-address",
    "targetport-missing",
    "proxy-to-transport-port",
    "ca-not-mounted",
    "ca-wrong-path",
    "ca-missing-on-one-nodeset",
    "stale-ca",
    "ca-subpath-mount",
    "same-es-name",
    "key-unknown-to-remote",
    "server-name-unset",
    "server-name-ip",
    "secure-settings-secret-missing",
    "alias-typo",
    "raw-api-key",
    "rest-api-key",
    "expired-api-key",
    "invalidated-api-key",
    "sniff-mode",
    "strong-identity-unsigned",
    "strong-identity-untrusted-signer",
]
# Repaired without --alias: the second alias is only a mistyped credential key, not a link.
WITHOUT_ALIAS = {"alias-typo"}
UNREPAIRABLE = {  # scenario -> the finding(s) that may carry the explanation
    "basic-license": ("ECKRC106",),
    "es-too-old": ("ECKRC105",),
    "tls-terminating-proxy": ("ECKRC306",),
    "blackhole": ("ECKRC205", "ECKRC306"),  # accepts TCP, then silence
}


@pytest.fixture
def eckrc(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    def run(running: Any, command: str, *args: str) -> Run:
        capsys.readouterr()
        timeout = () if "--timeout" in args else TIMEOUT
        code = cli.main([command, "--kubeconfig", str(running.kubeconfig), *SCOPE, *timeout, *args])
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    yield run
    apply.before_write = None


def _clear(running: Any) -> None:
    for env in (running.local, running.remote):
        env.audit.clear()


def _writes(running: Any, include_dry_run: bool = False) -> list[str]:
    return [
        f"{env.name}: {e.method} {e.path}?{e.query}"
        for env in (running.local, running.remote)
        for e in env.audit.mutating(include_dry_run=include_dry_run)
    ]


def _eck_owned_writes(running: Any) -> list[str]:
    """Writes to anything ECK names `<es>-es-*` (the Elasticsearch resources are the user's)."""
    owned = []
    for env in (running.local, running.remote):
        for e in env.audit.mutating(include_dry_run=True):
            if e.plural != "elasticsearches" and any(
                f"/{es}-es-" in e.path or e.name.startswith(f"{es}-es-") for es in (LOCAL_ES, REMOTE_ES)
            ):
                owned.append(f"{e.method} {e.path}")
    return owned


def _no_canary(running: Any, *runs: Run) -> None:
    for canary in running.canaries():
        for run in runs:
            assert canary not in run.stdout and canary not in run.stderr, "a secret value reached the output"


def _doctor_ok(eckrc: Any, running: Any) -> Run:
    doctor = eckrc(running, "doctor", "-o", "json")
    bad = [
        f"{f['id']} {f['status']}: {f['message']}"
        for f in doctor.document["findings"]
        if f["status"] in ("fail", "not-evaluated")
    ]
    assert doctor.code == 0, "\n".join(bad)
    return doctor


@pytest.mark.parametrize("scenario", REPAIRABLE)
def test_fix_apply_wait_repairs_the_link_and_doctor_passes(twin: Any, eckrc: Any, scenario: str) -> None:
    running = twin(scenario)
    _clear(running)
    alias = () if scenario in WITHOUT_ALIAS else ("--alias", ALIAS)
    plan = eckrc(running, "fix", *alias)
    assert plan.code == 1, plan.stdout + plan.stderr
    assert "Nothing was changed" in plan.stdout and "--apply" in plan.stdout
    assert _writes(running) == [], "the dry run wrote"
    fixed = eckrc(running, "fix", *alias, "--apply", "--yes", *WAIT, "-o", "json")
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert fixed.document["connected"] is True
    assert _eck_owned_writes(running) == []
    # What the twin itself computes by connecting, not what the product reports.
    local_es = running.local.es(LOCAL_NS, LOCAL_ES)
    entry = local_es.remote_info(running.local.first_pod(LOCAL_NS, LOCAL_ES))[ALIAS]
    assert entry["connected"] is True and entry.get("cluster_credentials"), entry
    doctor = _doctor_ok(eckrc, running)
    _no_canary(running, plan, fixed, doctor)


@pytest.mark.parametrize("scenario", sorted(UNREPAIRABLE))
def test_fix_explains_what_it_cannot_repair_and_writes_nothing(twin: Any, eckrc: Any, scenario: str) -> None:
    running = twin(scenario)
    _clear(running)
    args = ("--timeout", "2") if scenario == "blackhole" else ()
    run = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", *args)
    assert run.code == 1, run.stdout + run.stderr
    assert any(f"  {cause}  " in run.stdout for cause in UNREPAIRABLE[scenario]), run.stdout
    assert "todo:" in run.stdout
    assert _writes(running, include_dry_run=True) == []
    _no_canary(running, run)


def test_healthy_link_needs_nothing_and_apply_writes_nothing(twin: Any, eckrc: Any) -> None:
    running = twin("healthy-eck-rcs-service")
    _clear(running)
    run = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes")
    assert run.code == 0, run.stdout + run.stderr
    assert "Nothing to change" in run.stdout
    assert _writes(running, include_dry_run=True) == []


def _local_es(running: Any) -> dict[str, Any]:
    return dict(running.local.store.get("elasticsearches", LOCAL_NS, LOCAL_ES))


def _user_data(running: Any) -> dict[str, Any]:
    store = running.local.store
    return {
        "gcs": store.get("secrets", LOCAL_NS, "local-es-gcs")["data"],
        "synonyms": store.get("configmaps", LOCAL_NS, "local-es-synonyms")["data"],
    }


def _contains(after: Any, before: Any) -> bool:
    """Everything in `before` is still in `after` (lists: every old item still present)."""
    if isinstance(before, dict):
        return isinstance(after, dict) and all(
            k in after and _contains(after[k], v) for k, v in before.items()
        )
    if isinstance(before, list):
        return isinstance(after, list) and all(any(_contains(a, b) for a in after) for b in before)
    return bool(after == before)


def test_rich_local_user_data_survives_the_repair_and_a_second_fix_writes_nothing(
    twin: Any, eckrc: Any
) -> None:
    running = twin("no-remote-config-rich")
    cluster = running.local.es(LOCAL_NS, LOCAL_ES)
    cluster.settings.update({"persistent": {"cluster.routing.allocation.enable": "primaries"}})
    cluster.security.put_role(
        "logs-reader", {"cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read"]}]}
    )
    es_before, data_before = copy.deepcopy(_local_es(running)), _user_data(running)
    roles_before = copy.deepcopy(cluster.security.all_roles())
    fixed = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", *WAIT)
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    es_after = _local_es(running)
    assert _contains(es_after["spec"], es_before["spec"])
    for old, new in zip(es_before["spec"]["nodeSets"], es_after["spec"]["nodeSets"], strict=True):
        for key, value in old["config"].items():
            assert new["config"][key] == value
        old_containers = {c["name"]: c for c in old["podTemplate"]["spec"]["containers"]}
        new_containers = {c["name"]: c for c in new["podTemplate"]["spec"]["containers"]}
        assert new_containers["log-shipper"] == old_containers["log-shipper"]
        assert new_containers["elasticsearch"]["resources"] == old_containers["elasticsearch"]["resources"]
    assert {"secretName": "local-es-gcs"} in es_after["spec"]["secureSettings"]
    assert _user_data(running) == data_before
    assert cluster.settings.persistent["cluster.routing.allocation.enable"] == "primaries"
    assert cluster.security.all_roles() == roles_before
    _doctor_ok(eckrc, running)
    _clear(running)
    again = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", "-o", "json")
    assert again.code == 0, again.stdout + again.stderr
    assert all(a["changed"] is False for a in again.document["actions"])
    assert _writes(running, include_dry_run=True) == [], "a second fix after a successful one wrote"


def test_concurrent_edit_between_plan_and_apply_is_neither_lost_nor_overwritten(
    twin: Any, eckrc: Any
) -> None:
    running = twin("ca-missing-on-one-nodeset")
    edits: list[str] = []

    def someone_else_edits(change: Change) -> None:
        if change.target.kind == "Elasticsearch" and not edits:
            edits.append(change.action)
            es = _local_es(running)
            es["metadata"].setdefault("labels", {})["team"] = "search"
            es["spec"]["nodeSets"][0]["config"]["node.attr.rack"] = "r1"
            running.local.store.update("elasticsearches", es)

    apply.before_write = someone_else_edits
    fixed = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", *WAIT)
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert edits, "the hook never ran"
    es = _local_es(running)
    assert es["metadata"]["labels"]["team"] == "search"
    assert es["spec"]["nodeSets"][0]["config"]["node.attr.rack"] == "r1"
    ca_setting = "xpack.security.remote_cluster_client.ssl.certificate_authorities"
    assert all(ca_setting in ns["config"] for ns in es["spec"]["nodeSets"])
    _no_canary(running, fixed, _doctor_ok(eckrc, running))


def test_failure_mid_plan_reports_done_and_not_done_and_a_rerun_completes(twin: Any, eckrc: Any) -> None:
    running = twin("no-remote-config")

    def fail_on_key(change: Change) -> None:
        if change.action == "create-api-key":
            raise apply.WriteError("injected: the remote refused the request")

    apply.before_write = fail_on_key
    broken = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", "-o", "json")
    assert broken.code == 1
    outcomes = {a["action"]: a["outcome"] for a in broken.document["actions"]}
    assert outcomes["mount-ca"] == "applied" and outcomes["create-api-key"] == "failed"
    assert outcomes["register-remote"] == "not run"
    # the resume command carries the run's whole scope (its --timeout too) and runs as printed
    assert "--alias remote-es" in broken.document["resume"]
    assert broken.document["resume"].endswith("--timeout 10 --apply")
    apply.before_write = None
    table = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", *WAIT)
    assert table.code == 0, table.stdout + table.stderr
    assert "create-api-key" in table.stderr  # one progress line per action
    _no_canary(running, broken, table, _doctor_ok(eckrc, running))


def test_apply_asks_on_a_terminal_and_refuses_without_one(
    twin: Any, eckrc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = twin("ca-not-mounted")
    _clear(running)
    run = eckrc(running, "fix", "--alias", ALIAS, "--apply")
    assert run.code == 2
    assert "--yes" in run.stderr
    questions: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("click.confirm", lambda text, **kw: questions.append(text) or False)
    declined = eckrc(running, "fix", "--alias", ALIAS, "--apply")
    assert declined.code == 1
    assert questions and "restarts the local pods of local logging/local-es" in questions[0]
    assert _writes(running) == []


def _restart_later(store: Any, pod: dict[str, Any], seconds: float) -> threading.Timer:
    """The pod comes back (a new uid, as a StatefulSet re-creates it) after `seconds`."""
    fresh = copy.deepcopy(pod)
    for field in ("uid", "resourceVersion", "creationTimestamp"):
        fresh["metadata"].pop(field, None)
    timer = threading.Timer(seconds, lambda: store.create("pods", fresh))
    timer.start()
    return timer


def test_a_run_during_a_pod_restart_waits_for_the_pod_or_says_a_rollout_is_in_progress(
    twin: Any, eckrc: Any
) -> None:
    """What a fix rerun meets right after mount-ca: the pod it would port-forward to is gone."""
    running = twin("healthy")
    store = running.local.store
    [pod] = store.list("pods", LOCAL_NS, f"elasticsearch.k8s.elastic.co/cluster-name={LOCAL_ES}")
    store.delete("pods", LOCAL_NS, pod["metadata"]["name"])
    restart = _restart_later(store, pod, 1.0)
    waited = eckrc(running, "doctor", "-o", "json")
    restart.join()
    assert waited.code == 0, waited.stdout + waited.stderr

    current = store.get("pods", LOCAL_NS, pod["metadata"]["name"])
    current["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    store.update("pods", current, subresource="status")
    stuck = eckrc(running, "doctor", "--timeout", "1", "-o", "json")
    assert stuck.code == 3
    reach = next(f for f in stuck.document["findings"] if f["id"] == "ECKRC107")
    assert "a rollout is in progress (0 of 1 Elasticsearch pods ready after 1s)" in reach["message"]


def test_fix_wait_converges_after_a_remote_only_repair(twin: Any, eckrc: Any) -> None:
    # Elasticsearch does not retry on its own: --wait's read-only _resolve/cluster makes it try.
    running = twin("remote-fixed-later")
    local_es = running.local.es(LOCAL_NS, LOCAL_ES)
    assert local_es.remote_info(running.local.first_pod(LOCAL_NS, LOCAL_ES))[ALIAS]["connected"] is False
    _clear(running)
    fixed = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", *WAIT, "-o", "json")
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert _writes(running) == []
    entry = local_es.remote_info(running.local.first_pod(LOCAL_NS, LOCAL_ES))[ALIAS]
    assert entry["connected"] is True, entry


def _key_search_names(running: Any) -> list[str]:
    """The search names of the link's key, as the remote twin holds it."""
    keys = running.remote.es(REMOTE_NS, REMOTE_ES).security.api_keys.values()
    key = next(k for k in keys if k.name == "local-es-to-remote-es")
    return [n for entry in key.access["search"] for n in entry["names"]]


def test_fix_widens_the_keys_access_only_when_asked_and_the_search_then_reaches_it(
        twin: Any, eckrc: Any) -> None:
    running = twin("key-access-too-narrow")
    metrics = ("--alias", ALIAS, "--index", "metrics-*")
    refused = eckrc(running, "fix", *metrics, "--apply", "--yes")
    assert refused.code == 1 and "--widen-key-access" in refused.stdout, refused.stdout + refused.stderr
    assert _key_search_names(running) == ["logs-*"]
    plan = eckrc(running, "fix", *metrics, "--widen-key-access")
    assert plan.code == 1, plan.stdout + plan.stderr
    assert "PUT /_security/cross_cluster/api_key/" in plan.stdout and "+    - metrics-*" in plan.stdout
    assert "--index 'metrics-*' --widen-key-access --apply" in plan.stdout  # the command to carry it out
    assert _key_search_names(running) == ["logs-*"]
    fixed = eckrc(running, "fix", *metrics, "--widen-key-access", "--apply", "--yes")
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert _key_search_names(running) == ["logs-*", "metrics-*"]
    doctor = eckrc(running, "doctor", *metrics, "-o", "json")
    proof = next(f for f in doctor.document["findings"] if f["id"] == "ECKRC508")
    assert doctor.code == 0 and proof["status"] == "pass", proof["message"]
    _no_canary(running, refused, plan, fixed, doctor)


def _key_identity(running: Any) -> str | None:
    keys = running.remote.es(REMOTE_NS, REMOTE_ES).security.api_keys.values()
    return next(k for k in keys if k.name == "local-es-to-remote-es").certificate_identity


def test_fix_sets_the_keys_certificate_identity_only_when_asked(twin: Any, eckrc: Any) -> None:
    running = twin("strong-identity-dn-mismatch")
    refused = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes")
    assert refused.code == 1, refused.stdout + refused.stderr
    assert "--set-certificate-identity" in refused.stdout, refused.stdout
    assert _key_identity(running) == "CN=local-es-signer,OU=logging"
    fixed = eckrc(running, "fix", "--alias", ALIAS, "--set-certificate-identity", "--apply", "--yes", *WAIT)
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert _key_identity(running) == "^CN=local-es-signing,OU=logging$"
    doctor = _doctor_ok(eckrc, running)
    _no_canary(running, refused, fixed, doctor)


def _registered_address(running: Any) -> str:
    _, settings = es_call(running.local, LOCAL_NS, LOCAL_ES, "GET", "/_cluster/settings?flat_settings=true")
    return str(settings["persistent"].get(f"cluster.remote.{ALIAS}.proxy_address", ""))


def test_fix_exposes_9443_as_a_node_port_and_registers_the_nodes_external_ip(twin: Any, eckrc: Any) -> None:
    # The twin's node has an ExternalIP where kube-proxy answers and an InternalIP nothing answers
    # on from elsewhere: only the ExternalIP-first choice connects.
    running = twin("no-remote-config")
    fixed = eckrc(running, "fix", "--alias", ALIAS, "--expose", "nodeport", "--apply", "--yes", *WAIT,
                  "-o", "json")
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    service = running.remote.store.get("services", REMOTE_NS, f"{REMOTE_ES}-rcs-external")
    assert service["spec"]["type"] == "NodePort"
    node_port = service["spec"]["ports"][0]["nodePort"]
    assert _registered_address(running) == f"{running.remote.node_address}:{node_port}"
    local_es = running.local.es(LOCAL_NS, LOCAL_ES)
    entry = local_es.remote_info(running.local.first_pod(LOCAL_NS, LOCAL_ES))[ALIAS]
    assert entry["connected"] is True, entry
    _no_canary(running, fixed)


@pytest.mark.parametrize("scenario", ["nodeport-exposure", "lb-hostname"])
def test_fix_registers_an_existing_exposure_when_the_alias_lost_its_address(
        twin: Any, eckrc: Any, scenario: str) -> None:
    running = twin(scenario)
    assert eckrc(running, "fix", "--alias", ALIAS).code == 0  # the address is an exposure: nothing to do
    if scenario == "nodeport-exposure":
        _node_addresses_forbidden_are_named(running)
    es_call(running.local, LOCAL_NS, LOCAL_ES, "PUT", "/_cluster/settings",
            {"persistent": {f"cluster.remote.{ALIAS}.proxy_address": None}})
    fixed = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", *WAIT, "-o", "json")
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    assert _registered_address(running) == running.proxy_address
    _doctor_ok(eckrc, running)


def _node_addresses_forbidden_are_named(running: Any) -> None:
    """A namespaced Role cannot list Nodes: the read is Unavailable with its rule, nothing fails."""
    resolved = resolve(SideTarget(str(running.kubeconfig), "remote-restricted", REMOTE_NS, REMOTE_ES))
    kube = KubeClient(resolved, 5.0)
    try:
        state, _ = kube_side.read_core(kube, "remote", "remote-restricted", REMOTE_NS, REMOTE_ES)
    finally:
        kube.close()
    assert isinstance(state, KubeState) and isinstance(state.nodes, Unavailable)
    assert state.nodes.kind == "forbidden"
    assert state.nodes.permission == "list nodes (cluster-wide, for NodePort addresses)"


def _finding(run: Run, check: str) -> dict[str, Any]:
    return next(f for f in run.document["findings"] if f["id"] == check)


def _remote_ca_and_local_copy(running: Any) -> tuple[Any, Any]:
    public = decode_secret_data(
        running.remote.store.get("secrets", REMOTE_NS, f"{REMOTE_ES}-es-transport-certs-public"))
    copy_pem = running.local.store.get("configmaps", LOCAL_NS, "remote-ca")["data"]["remote-cluster-ca.crt"]
    return twin_pki.load_certs(public["ca.crt"].encode())[0], twin_pki.load_certs(copy_pem.encode())[-1]


def test_a_remote_ca_renewed_while_the_link_is_up_warns_and_sync_ca_brings_the_copy_current(
        twin: Any, eckrc: Any) -> None:
    running = twin("remote-ca-renewed")
    current, copy_ = _remote_ca_and_local_copy(running)
    assert current.serial_number != copy_.serial_number and current.public_key() == copy_.public_key()
    # --index reads through a fresh connection: the local node's real JDK judges the renewed
    # chain against the previous issue (ECKRC508 passes only if that handshake succeeded).
    doctor = eckrc(running, "doctor", "--index", "logs-*", "-o", "json")
    assert doctor.code == 0, doctor.stdout + doctor.stderr
    assert _finding(doctor, "ECKRC508")["status"] == "pass"
    stale = _finding(doctor, "ECKRC303")
    assert stale["status"] == "warn"
    assert stale["message"] == "the trusted CA is an older issue of the remote CA (same key)"
    assert "keep accepting" in stale["hint"]
    assert _finding(doctor, "ECKRC304")["status"] == "pass"
    fixed = eckrc(running, "fix", "--alias", ALIAS, "--apply", "--yes", *WAIT, "-o", "json")
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    current, copy_ = _remote_ca_and_local_copy(running)
    assert copy_.serial_number == current.serial_number
    assert _finding(_doctor_ok(eckrc, running), "ECKRC303")["status"] == "pass"
