"""Writes that cannot go wrong quietly: a created API key is never created twice and never
lost track of, every Secret/ConfigMap patch is conditional, mount-ca keeps what it cannot prove
absent, and the elastic password only goes where it must.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kubectl_eckrc.collect import side
from kubectl_eckrc.collect.es import EsUnavailable
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.fix import apply, session
from kubectl_eckrc.fix.actions import mount_ca
from kubectl_eckrc.fix.model import Change, Operation, PatchType, Target
from kubectl_eckrc.options import FixOptions, Scope, SideTarget
from kubectl_eckrc.snapshot import KubeState, Unavailable
from tests.fix.fakes import StoreKube
from tests.snapshot_builder import healthy_pair
from tests.twin.kube_store import Store


@pytest.fixture
def options() -> FixOptions:
    return FixOptions(scope=Scope(SideTarget(None, "prod-a", "logging", "local-es"), None))


# --- the API key creation ----------------------------------------------------------------------------


class _FlakyClient:
    """An ES client whose request fails as a dropped connection does."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def request(self, method: str, path: str, body: Any, params: Any, what: str) -> Any:
        self.sent.append(f"{method} {path}")
        raise EsUnavailable(Unavailable("connection reset by peer", "unreachable"))

    def close(self) -> None:
        pass


def _flaky_sessions(monkeypatch: pytest.MonkeyPatch) -> _FlakyClient:
    client = _FlakyClient()
    fake = dataclasses.make_dataclass("S", [("es_client", Any), ("es_failure", Any)])

    def open_side(*_: Any) -> Any:
        opened = fake(client, None)
        opened.close = lambda: None
        return opened

    monkeypatch.setattr(side, "open_side", open_side)
    monkeypatch.setattr(side, "read_kube", lambda s: None)
    monkeypatch.setattr(side, "connect_es", lambda s: None)
    monkeypatch.setattr(session, "RETRY_PAUSE", 0.0)
    monkeypatch.setattr(session, "RECONNECT_SECONDS", 0.5)
    return client


def test_creating_an_api_key_is_sent_once_even_when_its_answer_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _flaky_sessions(monkeypatch)
    es = session.ReconnectingEs("remote", SideTarget(None, None, None, None), 1.0, False)
    with pytest.raises(EsUnavailable) as caught:
        es.request("POST", "/_security/cross_cluster/api_key", {"name": "k"})
    assert client.sent == ["POST /_security/cross_cluster/api_key"]
    assert "not retried" in caught.value.unavailable.reason


def test_an_idempotent_settings_update_is_retried_while_pods_roll(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _flaky_sessions(monkeypatch)
    es = session.ReconnectingEs("local", SideTarget(None, None, None, None), 1.0, False)
    with pytest.raises(EsUnavailable):
        es.request("PUT", "/_cluster/settings", {})
    assert len(client.sent) > 1


class _KeyThenFailure:
    """The remote creates the key; the local settings update then fails."""

    def __init__(self) -> None:
        self.calls = 0

    def request(self, method: str, path: str, body: Any = None, params: Any = None, what: str = "") -> Any:
        if path == "/_security/cross_cluster/api_key":
            return {"id": "Key-Id-42", "name": body["name"], "api_key": "raw-Secret-Key-Value",
                    "encoded": "S2V5LUlkLTQyOnJhdy1TZWNyZXQtS2V5LVZhbHVl"}
        raise RuntimeError("503 Service Unavailable")


def test_when_a_later_step_fails_the_new_keys_id_is_named_so_it_can_be_invalidated(
    options: FixOptions,
) -> None:
    failed = _apply_with_key(options, healthy_pair().build(), _KeyThenFailure())
    assert failed.status == "failed"
    assert "Key-Id-42 (eckrc-remote-es)" in failed.message and "invalidate" in failed.message
    assert "raw-Secret-Key-Value" not in failed.message


def _apply_with_key(options: FixOptions, snap: Any, es: Any) -> Any:
    """apply_plan over two steps: create-api-key succeeds (ES request only), register fails."""
    target = Target("remote", "CrossClusterApiKey", "", "eckrc-remote-es")
    key = Change(action="create-api-key", target=target, operation=Operation.ES_REQUEST, summary="",
                 diff="", method="POST", path="/_security/cross_cluster/api_key",
                 body={"name": "eckrc-remote-es"}, produces_api_key=True)
    settings = Change(action="register-remote", target=Target("local", "ClusterSettings", "", "settings"),
                      operation=Operation.ES_REQUEST, summary="", diff="", method="PUT",
                      path="/_cluster/settings", body={})
    from kubectl_eckrc.fix.model import Plan

    plan = Plan("remote-es", "l", "r", ("create-api-key", "register-remote"), ())
    planners = {"create-api-key": _once(key), "register-remote": lambda *a: [settings]}
    outcomes, _ = apply.apply_plan(plan, snap, [], options, apply.Clients(None, None, es, es),  # type: ignore[arg-type]
                                   planners)
    assert outcomes[0].status == "applied", outcomes[0].message
    return outcomes[1]


def _once(change: Change) -> Any:
    done: list[bool] = []

    def planner(*_: Any) -> list[Change]:
        if done:
            return []
        done.append(True)
        return [change]

    return planner


# --- resourceVersion preconditions ----------------------------------------------------------------------


def _store_with_secret() -> tuple[StoreKube, dict[str, Any]]:
    store = Store()
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "logging"}})
    secret = store.create("secrets", {"apiVersion": "v1", "kind": "Secret",
                                      "metadata": {"name": "remote-api-keys", "namespace": "logging"},
                                      "data": {"other": "b3RoZXI="}})
    return StoreKube(store), secret


def _merge(body: dict[str, Any]) -> Change:
    return Change(action="create-api-key", target=Target("local", "Secret", "logging", "remote-api-keys"),
                  operation=Operation.PATCH, summary="", diff="", patch_type=PatchType.MERGE, body=body)


def test_a_secret_merge_patch_carries_the_resource_version_it_was_read_at() -> None:
    kube, secret = _store_with_secret()
    sent: list[Any] = []
    real_patch = kube.patch

    def recording(path: str, body: Any, content_type: str, dry_run: bool = False, **kw: Any) -> Any:
        sent.append(body)
        return real_patch(path, body, content_type, dry_run, **kw)

    kube.patch = recording  # type: ignore[method-assign]
    apply._send(_merge({"data": {"k": "dg=="}}), kube, dry=False, credential="")
    assert sent[0]["metadata"]["resourceVersion"] == secret["metadata"]["resourceVersion"]


def test_a_concurrent_edit_of_the_secret_makes_the_patch_conflict_not_overwrite() -> None:
    kube, secret = _store_with_secret()
    read_at = secret["metadata"]["resourceVersion"]
    stale = _merge({"data": {"k": "dg=="}, "metadata": {"resourceVersion": read_at}})
    edited = {**secret, "data": {"other": "ZWRpdGVk"}}
    kube.store.update("secrets", edited)
    with pytest.raises(apply._Stale):
        apply._send(stale, kube, dry=False, credential="", on_stale=True)


def test_a_json_patch_of_a_secret_gets_a_resource_version_test_when_it_has_none() -> None:
    kube, secret = _store_with_secret()
    unguarded = dataclasses.replace(_merge({}), patch_type=PatchType.JSON,
                                    body=[{"op": "move", "from": "/data/other", "path": "/data/k"}])
    path = "/api/v1/namespaces/logging/secrets/remote-api-keys"
    body = apply._with_precondition(unguarded, unguarded.body, kube, path)
    assert body[0] == {"op": "test", "path": "/metadata/resourceVersion",
                       "value": secret["metadata"]["resourceVersion"]}
    assert body[1:] == unguarded.body


# --- mount-ca keeps what it cannot prove absent ---------------------------------------------------------


def _node_set(volume: dict[str, Any] | None = None, mount: str = "") -> dict[str, Any]:
    mounts = [{"name": "v", "mountPath": mount}]
    containers = [{"name": "elasticsearch", "volumeMounts": mounts}] if volume else []
    return {"name": "default", "podTemplate": {"spec": {"volumes": [volume] if volume else [],
                                                        "containers": containers}}}


@pytest.mark.parametrize(("node_set", "path"), [
    (_node_set(), "/etc/pki/tls/certs/corporate-ca.pem"),  # an absolute path no mount covers
    (_node_set(), "custom/image-ca.pem"),  # a file of the image under the config dir
    (_node_set({"name": "v", "emptyDir": {}}, "/usr/share/elasticsearch/config/x"), "x/ca.pem"),
    (_node_set({"name": "v", "secret": {"secretName": "unreadable"}}, "/usr/share/elasticsearch/config/s"),
     "s/ca.crt"),
])
def test_mount_ca_keeps_a_ca_path_it_cannot_prove_absent(node_set: dict[str, Any], path: str) -> None:
    snap = healthy_pair().build()
    kube = snap.local.kube
    assert isinstance(kube, KubeState) and isinstance(kube.secrets, dict)
    secrets = {**kube.secrets, "unreadable": Unavailable("403 Forbidden: get secrets", "forbidden")}
    snap = dataclasses.replace(snap, local=dataclasses.replace(snap.local, kube=dataclasses.replace(
        kube, secrets=secrets)))
    assert mount_ca._resolves(snap, node_set, path)


def test_mount_ca_drops_a_path_whose_configmap_was_read_without_that_key() -> None:
    snap = healthy_pair().build()
    kube = snap.local.kube
    assert isinstance(kube, KubeState) and isinstance(kube.configmaps, dict)
    name = next(iter(kube.configmaps))
    node_set = _node_set({"name": "v", "configMap": {"name": name}}, "/usr/share/elasticsearch/config/c")
    assert not mount_ca._resolves(snap, node_set, "c/no-such-key.crt")


# --- where the elastic password may go ------------------------------------------------------------------


@pytest.mark.parametrize(("url", "asked", "refused"), [
    ("https://es.example:9200", False, "--es-url-elastic-user"),
    ("http://es.example:9200", True, "never sent over plain http://"),
    ("http://10.1.2.3:9200", True, "never sent over plain http://"),
    ("https://es.example:9200", True, ""),
    ("http://127.0.0.1:9200", True, ""),
    ("http://[::1]:9200", True, ""),
    ("http://localhost:9200", True, ""),
])
def test_the_elastic_password_goes_to_a_given_url_only_when_asked_and_never_in_clear_text(
    url: str, asked: bool, refused: str
) -> None:
    target = SideTarget(None, None, None, None, es_url=url, es_url_elastic_user=asked)
    if refused:
        with pytest.raises(UsageError, match=refused.replace("+", r"\+")):
            side._check_password_destination("local", target)
    else:
        side._check_password_destination("local", target)
