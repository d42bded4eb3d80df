"""Live collection pieces against a fake Kubernetes client: what is read, what is derived."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubectl_eckrc import redact
from kubectl_eckrc.collect import kube_side, live
from kubectl_eckrc.collect.kube import KubeUnavailable
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.kubeconfig import ResolvedContext
from kubectl_eckrc.options import SideTarget
from kubectl_eckrc.snapshot import KubeState, Unavailable

ENCODED = base64.b64encode(b"key-id-1:the-api-key-value").decode()


def local_es() -> dict[str, Any]:
    return {
        "metadata": {"name": "local-es", "namespace": "logging"},
        "spec": {
            "version": "8.17.1",
            "secureSettings": [{"secretName": "remote-api-keys"}, {"secretName": "missing-secret"}],
            "nodeSets": [{
                "name": "default",
                "config": {"xpack.security.remote_cluster_client.ssl.enabled": True,
                           "cluster": {"remote": {"from-config": {"mode": "proxy"}}}},
                "podTemplate": {"spec": {"volumes": [
                    {"name": "remote-certs", "configMap": {"name": "remote-ca"}},
                    {"name": "other", "secret": {"secretName": "extra"}},
                ]}},
            }],
        },
    }


def pod(name: str, ready: bool) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True" if ready else "False"}]}}


class FakeKube:
    def __init__(self, names: list[str] | Unavailable, forbidden_secrets: bool = False) -> None:
        self.names = names
        self.forbidden_secrets = forbidden_secrets
        self.secret_reads: list[str] = []

    def server_version(self) -> dict[str, Any]:
        return {"gitVersion": "v1.30.0"}

    def elasticsearch_names(self, namespace: str) -> list[str]:
        if isinstance(self.names, Unavailable):
            raise KubeUnavailable(self.names)
        return self.names

    def crd_summary(self) -> dict[str, Any]:
        return {"served_versions": ["v1"], "has_rcs_service": False, "eck_version": "3.2.0"}

    def elasticsearch(self, namespace: str, name: str) -> dict[str, Any]:
        return local_es()

    def core_list(self, resource: str, namespace: str, label_selector: str | None = None,
                  group_path: str = "/api/v1") -> list[dict[str, Any]]:
        if resource == "pods":
            return [pod("local-es-es-default-1", True), pod("local-es-es-default-0", False)]
        if resource == "events":
            return [{"involvedObject": {"kind": "Elasticsearch", "name": "local-es"}, "reason": "x"},
                    {"involvedObject": {"kind": "Elasticsearch", "name": "other"}, "reason": "y"}]
        return []

    def configmap(self, namespace: str, name: str) -> dict[str, Any]:
        return {"metadata": {"name": name}, "data": {"ca.crt": "x"}}

    def secret_summary(self, namespace: str, name: str, credential_keys: frozenset[str] = frozenset()) -> Any:
        self.secret_reads.append(name)
        if self.forbidden_secrets:
            rule = "get secrets in namespace logging"
            raise KubeUnavailable(Unavailable("403 Forbidden", "forbidden", rule))
        if name == "remote-api-keys":
            data = {"cluster.remote.remote-es.credentials": ENCODED}
            return redact.summarize_secret({"metadata": {"name": name}, "data": {
                k: base64.b64encode(v.encode()).decode() for k, v in data.items()}})
        raise KubeUnavailable(Unavailable(f"404 Not Found: Secret {namespace}/{name}", "not-found"))

    def can_i(self, verb: str, resource: str, namespace: str, group: str = "", subresource: str = "") -> bool:
        return resource != "secrets"


def _state(kube: FakeKube, wanted: str | None = None) -> tuple[KubeState | Unavailable, str]:
    return kube_side.read_state(kube, "local", "ctx", "logging", wanted)  # type: ignore[arg-type]


def test_the_only_elasticsearch_of_the_namespace_is_picked_and_its_references_read() -> None:
    kube = FakeKube(["local-es"])
    state, name = _state(kube)
    assert name == "local-es" and isinstance(state, KubeState)
    assert set(state.configmaps) == {"remote-ca"}
    assert {"remote-api-keys", "missing-secret", "extra", "local-es-es-http-certs-public",
            "local-es-es-transport-certs-public"} <= set(state.secrets)
    assert isinstance(state.secrets["missing-secret"], Unavailable)
    assert state.secrets["missing-secret"].kind == "not-found"
    assert [e["reason"] for e in state.events] == ["x"]
    denied = [a for a in state.access if not a.allowed]
    assert [(a.verb, a.resource, a.namespace) for a in denied] == [("get", "secrets", "logging")]


def test_forbidden_secrets_are_unavailable_with_the_rbac_rule() -> None:
    state, _ = _state(FakeKube(["local-es"], forbidden_secrets=True))
    assert isinstance(state, KubeState)
    secret = state.secrets["remote-api-keys"]
    assert isinstance(secret, Unavailable) and secret.permission == "get secrets in namespace logging"


def test_an_unknown_es_name_is_a_usage_error_naming_what_exists() -> None:
    expected = r"'nope' not found in namespace logging of context ctx \(found: local-es\)"
    with pytest.raises(UsageError, match=expected):
        _state(FakeKube(["local-es"]), "nope")


def test_several_elasticsearches_need_es_flag() -> None:
    with pytest.raises(UsageError, match="--es NAME"):
        _state(FakeKube(["a", "b"]))


def test_a_forbidden_list_with_an_explicit_name_still_reads() -> None:
    state, name = _state(FakeKube(Unavailable("403", "forbidden")), "local-es")
    assert name == "local-es" and isinstance(state, KubeState)


def test_ready_pod_is_the_first_ready_one() -> None:
    assert kube_side.ready_pod([pod("b", True), pod("a", False), pod("c", True)]) == "b"
    assert isinstance(kube_side.ready_pod([pod("a", False)]), Unavailable)


def _session(state: KubeState, settings: dict[str, Any]) -> live.SideSession:
    resolved = ResolvedContext("ctx", "logging", "https://127.0.0.1:1", {}, ())
    target = SideTarget(None, None, None, None)
    session = live.SideSession("local", target, resolved, 1.0, False, kube_state=state, es_name="local-es")
    session.es_basics = {"settings": settings}
    return session


def test_aliases_come_from_settings_nodeset_config_and_credentials() -> None:
    state, _ = _state(FakeKube(["local-es"]))
    assert isinstance(state, KubeState)
    settings = {"persistent": {"cluster.remote.from-settings.mode": "proxy",
                               "cluster.remote.from-settings.proxy_address": "127.0.0.9:9443"},
                "transient": {"cluster.remote.from-settings.server_name": "x.svc"}}
    session = _session(state, settings)
    assert live.configured_aliases(session) == ["from-config", "from-settings", "remote-es"]
    assert live.link_settings(session, "from-settings") == {
        "mode": "proxy", "proxy_address": "127.0.0.9:9443", "server_name": "x.svc"}
    assert live.credential_key_ids(session, ["remote-es", "from-settings"]) == {"remote-es": "key-id-1"}


def test_an_alias_without_proxy_address_is_not_probed() -> None:
    state, _ = _state(FakeKube(["local-es"]))
    assert isinstance(state, KubeState)
    session = _session(state, {"persistent": {"cluster.remote.s.seeds": ["10.0.0.1:9300"]}})
    result = live._probe_link(session, "s", 1.0)
    assert isinstance(result, Unavailable) and "sniff" in result.reason


def _kubeconfig_for(tmp_path: Any, port: int) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
        f"clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{port}',\n"
        "  insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: not-a-real-token}}]\n"
        "contexts: [{name: local, context: {cluster: c, user: u, namespace: logging}}]\n"
    )
    return str(path)


def test_a_black_holed_api_server_costs_one_timeout_and_is_unavailable(tmp_path: Any) -> None:
    from kubectl_eckrc.options import Scope
    from tests.collect import servers

    with servers.black_hole() as port:
        target = SideTarget(_kubeconfig_for(tmp_path, port), None, None, None)
        snapshot = live.collect_live(Scope(local=target, remote=None, timeout=0.5))
    kube = snapshot.local.kube
    assert isinstance(kube, Unavailable) and kube.kind == "timeout"
    assert isinstance(snapshot.local.es, Unavailable)
    assert isinstance(snapshot.remote, Unavailable) and snapshot.remote.kind == "no-access"
    assert snapshot.aliases == [] and snapshot.probes == {}


def test_a_refusing_api_server_is_unreachable(tmp_path: Any) -> None:
    from kubectl_eckrc.options import Scope
    from tests.collect import servers

    target = SideTarget(_kubeconfig_for(tmp_path, servers.free_port()), None, None, None)
    snapshot = live.collect_live(Scope(local=target, remote=None, timeout=1))
    kube = snapshot.local.kube
    assert isinstance(kube, Unavailable) and kube.kind == "unreachable"
    assert "connection refused" in kube.reason


def test_a_failed_port_forward_is_the_reason_es_is_unavailable() -> None:
    from kubectl_eckrc.collect import side
    from kubectl_eckrc.collect.es import EsUnavailable

    class Client:
        def settings(self) -> Any:
            raise EsUnavailable(Unavailable("GET /_cluster/settings: cannot connect: closed", "unreachable"))

    class Listener:
        last_failure = KubeUnavailable(Unavailable(
            "port-forward to pod logging/local-es-es-default-0:9200 failed: 403 Forbidden", "forbidden",
            "create pods/portforward in namespace logging"))

    state, _ = _state(FakeKube(["local-es"]))
    assert isinstance(state, KubeState)
    session = _session(state, {})
    session.es_client, session.listener = Client(), Listener()  # type: ignore[assignment]
    side.read_settings(session)
    assert session.es_failure is not None
    assert session.es_failure.permission == "create pods/portforward in namespace logging"


def test_aliases_eck_manages_in_the_same_cluster_are_diagnosed_too() -> None:
    state, _ = _state(FakeKube(["local-es"]))
    assert isinstance(state, KubeState)
    es = dict(state.elasticsearch)
    es["spec"] = {**es["spec"], "remoteClusters": [{"name": "same-env", "elasticsearchRef": {"name": "x"}}]}
    settings = {"persistent": {"cluster.remote.same-env.mode": "proxy",
                               "cluster.remote.same-env.proxy_address": "x-es-remote-cluster.ns.svc:9443"}}
    from dataclasses import replace

    session = _session(replace(state, elasticsearch=es), settings)
    assert "same-env" in live.configured_aliases(session)
    assert live.eck_managed_aliases(session) == ["same-env"]
    assert live.eck_aliases_elsewhere(session, None) == []  # no remote side: judged from the local one
