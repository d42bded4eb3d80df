"""Scenarios: two environments (local `logging/local-es`, remote `search/remote-es`) built the
way a user would build them, step by step through Kubernetes objects and Elasticsearch APIs.

`Plan` says what the user did; `build(plan)` does it with the steps of scenario_steps.py.
`healthy` is the complete API-key link of domain.md §2; every fault of `faults.SCENARIOS` is
a change of plan (what the user got wrong) or a step done afterwards. `start_scenario(name)`
returns a `RunningScenario`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.twin.environment import Environment
from tests.twin.faults import SCENARIOS
from tests.twin.kubeconfig import ContextEntry, write_kubeconfig
from tests.twin.scenario_plan import Plan
from tests.twin.scenario_steps import (
    ALIAS,
    ALLOCATOR,
    LOCAL_ES,
    LOCAL_NS,
    RCS_DNS,
    REMOTE_ES,
    REMOTE_NS,
    Build,
    age_remote_ca,
    build_api_key_link,
    build_cert_model,
    es_resource,
    local_node_sets,
    local_spec,
    node_set,
    remote_spec,
    settle,
)

LINK_SETTLE = 1.0  # seconds a start waits for first link attempts (a black hole takes longer)

__all__ = ["ALIAS", "LOCAL_ES", "LOCAL_NS", "RCS_DNS", "REMOTE_ES", "REMOTE_NS", "SCENARIOS", "Plan",
           "RunningScenario", "build", "start_scenario"]


class RunningScenario:
    def __init__(self, name: str, build_state: Build, kubeconfig: Path) -> None:
        self.name = name
        self.build = build_state
        self.kubeconfig = kubeconfig
        self.local = build_state.local
        self.remote = build_state.remote
        self.proxy_address = build_state.proxy_address

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until both operators and networks are idle and every remote link of the local
        pods finished its first attempt (False on timeout, e.g. a link into a black hole)."""
        return self.local.settle(timeout) and self.remote.settle(timeout) and self.wait_for_links(timeout)

    def wait_for_links(self, timeout: float) -> bool:
        return all(es.wait_for_links(timeout) for es in list(self.local.clusters.values()))

    def canaries(self) -> list[str]:
        """Every secret value planted in the scenario; none may appear in any product output."""
        return sorted(set(self.build.planted) | self.local.secret_values() | self.remote.secret_values())

    def stop(self) -> None:
        for extra in self.build.extras:
            extra.stop()
        self.local.stop()
        self.remote.stop()
        shutil.rmtree(self.build.workdir, ignore_errors=True)


def build(plan: Plan) -> Build:
    local = Environment("local", ALLOCATOR, plan.eck_version, plan.local_license)
    remote = Environment("remote", ALLOCATOR, plan.eck_version, plan.remote_license)
    state = Build(plan, local, remote, Path(tempfile.mkdtemp(prefix="eckrc-twin-")))
    try:
        local.start()
        remote.start()
        local.ensure_namespace(LOCAL_NS)
        remote.ensure_namespace(REMOTE_NS)
        if plan.remote_ca_renewed:
            age_remote_ca(remote)
        remote.store.create("elasticsearches", es_resource(
            REMOTE_NS, REMOTE_ES, plan.remote_version, [node_set("default")], **remote_spec(plan, state)))
        settle(remote)
        local_sets = local_node_sets(plan)
        if plan.cert_model:
            build_cert_model(state, local_sets)
        elif plan.link:
            build_api_key_link(state, local_sets)
        else:
            spec = local_spec(state, local_sets)
            local.store.create("elasticsearches", es_resource(LOCAL_NS, LOCAL_ES, plan.local_version,
                                                              local_sets, **spec))
            settle(local)
    except BaseException:
        for extra in state.extras:
            extra.stop()
        local.stop()
        remote.stop()
        shutil.rmtree(state.workdir, ignore_errors=True)
        raise
    return state


def _contexts(state: Build) -> list[ContextEntry]:
    entries = []
    for role, env, namespace in (("local", state.local, LOCAL_NS), ("remote", state.remote, REMOTE_NS)):
        creds = env.credentials
        admin_token = creds.admin_token
        if role == "local" and state.plan.restricted_local:
            admin_token = creds.restricted_token
        entries.append(ContextEntry(role, f"{role}-cluster", creds.url, creds.ca_pem, f"{role}-admin",
                                    admin_token, namespace))
        entries.append(ContextEntry(f"{role}-restricted", f"{role}-cluster", creds.url, creds.ca_pem,
                                    f"{role}-restricted", creds.restricted_token, namespace))
    return entries


def start_scenario(name: str, kubeconfig: Path | None = None) -> RunningScenario:
    """Build scenario `name` of `SCENARIOS`; the caller must `stop()` it."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    state = build(SCENARIOS[name].plan)
    path = write_kubeconfig(kubeconfig or state.workdir / "kubeconfig", _contexts(state))
    running = RunningScenario(name, state, path)
    # so that `_remote/info` already tells the outcome of a first connection attempt
    running.wait_for_links(LINK_SETTLE)
    return running
