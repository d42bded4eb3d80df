"""List- and key-preserving edits: settings where they live, mounts appended, pointers escaped."""

from __future__ import annotations

from typing import Any

from kubectl_eckrc.fix.merge import (
    add_secure_setting_ops,
    apply_json_patch,
    free_name,
    get_setting,
    mount_ops,
    pointer,
    rv_guard,
    secure_setting_names,
    set_setting,
    source_path,
)

VOLUME = {"name": "remote-certs", "configMap": {"name": "remote-ca"}}
MOUNT = {"name": "remote-certs", "mountPath": "/usr/share/elasticsearch/config/remote-certs"}


def test_a_nested_setting_is_replaced_in_place_and_no_flat_duplicate_appears() -> None:
    config = {"xpack": {"security": {"remote_cluster_client.ssl": {"enabled": False}}}, "node.roles": []}
    new = set_setting(config, "xpack.security.remote_cluster_client.ssl.enabled", True)
    assert new == {"xpack": {"security": {"remote_cluster_client.ssl": {"enabled": True}}}, "node.roles": []}
    assert config["xpack"]["security"]["remote_cluster_client.ssl"]["enabled"] is False  # input untouched


def test_a_new_setting_goes_inside_the_deepest_existing_parent() -> None:
    new = set_setting(
        {"xpack": {"security": {"enabled": True}}}, "xpack.security.remote_cluster_client.ssl.enabled", True
    )
    assert new == {"xpack": {"security": {"enabled": True, "remote_cluster_client.ssl.enabled": True}}}
    assert get_setting(new, "xpack.security.remote_cluster_client.ssl.enabled") is True


def test_mount_on_a_nodeset_without_pod_template_creates_the_elasticsearch_container() -> None:
    es = {"spec": {"nodeSets": [{"name": "a", "count": 1}]}}
    after = apply_json_patch(es, mount_ops(0, es["spec"]["nodeSets"][0], VOLUME, MOUNT))
    spec = after["spec"]["nodeSets"][0]["podTemplate"]["spec"]
    assert spec == {"volumes": [VOLUME], "containers": [{"name": "elasticsearch", "volumeMounts": [MOUNT]}]}


def test_mount_appends_to_existing_lists_and_keeps_other_entries() -> None:
    node_set = {
        "name": "a",
        "podTemplate": {
            "spec": {
                "volumes": [{"name": "x", "emptyDir": {}}],
                "containers": [
                    {"name": "sidecar"},
                    {"name": "elasticsearch", "volumeMounts": [{"name": "x", "mountPath": "/x"}]},
                ],
            }
        },
    }
    es = {"spec": {"nodeSets": [node_set]}}
    after = apply_json_patch(es, mount_ops(0, node_set, VOLUME, MOUNT))["spec"]["nodeSets"][0]["podTemplate"][
        "spec"
    ]
    assert [v["name"] for v in after["volumes"]] == ["x", "remote-certs"]
    assert after["containers"][0] == {"name": "sidecar"}
    assert [m["name"] for m in after["containers"][1]["volumeMounts"]] == ["x", "remote-certs"]


def test_paths_resolve_through_items_and_sub_paths() -> None:
    node_set = {
        "podTemplate": {
            "spec": {
                "volumes": [
                    {"name": "v", "configMap": {"name": "cm", "items": [{"key": "k", "path": "ca.pem"}]}},
                    {"name": "s", "secret": {"secretName": "sec"}},
                ],
                "containers": [
                    {
                        "name": "elasticsearch",
                        "volumeMounts": [
                            {"name": "v", "mountPath": "/usr/share/elasticsearch/config/certs"},
                            {
                                "name": "s",
                                "mountPath": "/usr/share/elasticsearch/config/one.crt",
                                "subPath": "tls.crt",
                            },
                        ],
                    }
                ],
            }
        }
    }
    assert source_path(node_set, "ConfigMap", "cm", "k") == "certs/ca.pem"
    assert source_path(node_set, "Secret", "sec", "tls.crt") == "one.crt"
    assert source_path(node_set, "Secret", "sec", "ca.crt") is None  # the subPath mounts tls.crt only
    assert source_path(node_set, "ConfigMap", "other", "k") is None


def test_secure_settings_are_appended_never_replaced() -> None:
    es = {"spec": {"secureSettings": [{"secretName": "gcs"}]}}
    ops = add_secure_setting_ops(es, "remote-api-keys")
    assert apply_json_patch(es, ops)["spec"]["secureSettings"] == [
        {"secretName": "gcs"},
        {"secretName": "remote-api-keys"},
    ]
    assert add_secure_setting_ops(apply_json_patch(es, ops), "remote-api-keys") == []


def test_pointers_escape_slashes_and_tildes() -> None:
    assert pointer("data", "a/b~c") == "/data/a~1b~0c"


# --- the exact patches: what the API server receives --------------------------------------------

ES_MOUNT_ONLY = {"name": "elasticsearch", "volumeMounts": [MOUNT]}
SPEC = "/spec/nodeSets/1/podTemplate/spec"


def _node_set(spec: dict[str, Any] | None) -> dict[str, Any]:
    return {"name": "b", "podTemplate": {"spec": spec} if spec is not None else {"metadata": {}}}


def test_mount_ops_create_only_what_is_absent_and_append_to_what_exists() -> None:
    assert mount_ops(1, {"name": "b"}, VOLUME, MOUNT) == [
        {"op": "add", "path": "/spec/nodeSets/1/podTemplate",
         "value": {"spec": {"volumes": [VOLUME], "containers": [ES_MOUNT_ONLY]}}}]
    assert mount_ops(1, _node_set(None), VOLUME, MOUNT) == [
        {"op": "add", "path": SPEC, "value": {"volumes": [VOLUME], "containers": [ES_MOUNT_ONLY]}}]
    assert mount_ops(1, _node_set({}), VOLUME, MOUNT) == [
        {"op": "add", "path": f"{SPEC}/volumes", "value": [VOLUME]},
        {"op": "add", "path": f"{SPEC}/containers", "value": [ES_MOUNT_ONLY]}]
    sidecar_only = _node_set({"volumes": [], "containers": [{"name": "sidecar"}]})
    assert mount_ops(1, sidecar_only, VOLUME, MOUNT) == [
        {"op": "add", "path": f"{SPEC}/volumes/-", "value": VOLUME},
        {"op": "add", "path": f"{SPEC}/containers/-", "value": ES_MOUNT_ONLY}]
    es_without_mounts = _node_set({"volumes": [],
                                   "containers": [{"name": "sidecar"}, {"name": "elasticsearch"}]})
    assert mount_ops(1, es_without_mounts, VOLUME, MOUNT)[1:] == [
        {"op": "add", "path": f"{SPEC}/containers/1/volumeMounts", "value": [MOUNT]}]
    es_with_mounts = _node_set({"volumes": [], "containers": [{"name": "elasticsearch", "volumeMounts": []}]})
    assert mount_ops(1, es_with_mounts, VOLUME, MOUNT)[1:] == [
        {"op": "add", "path": f"{SPEC}/containers/0/volumeMounts/-", "value": MOUNT}]


def test_a_json_patch_applies_like_the_api_server_and_leaves_the_input_alone() -> None:
    obj = {"metadata": {"resourceVersion": "7"},
           "spec": {"a/b": 1, "a~b": 2, "list": ["x", "z"], "keep": True}}
    ops = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "6"},  # the server's business
        {"op": "add", "path": "/spec/list/1", "value": "y"},
        {"op": "add", "path": "/spec/list/-", "value": "end"},
        {"op": "replace", "path": "/spec/a~1b", "value": 10},
        {"op": "remove", "path": "/spec/a~0b"},
        {"op": "remove", "path": "/spec/list/0"},
        {"op": "move", "from": "/spec/keep", "path": "/spec/moved"},
        {"op": "move", "from": "/spec/list/2", "path": "/spec/list/0"},
    ]
    assert apply_json_patch(obj, ops) == {"metadata": {"resourceVersion": "7"},
                                          "spec": {"a/b": 10, "list": ["end", "y", "z"], "moved": True}}
    assert obj == {"metadata": {"resourceVersion": "7"}, "spec": {"a/b": 1, "a~b": 2, "list": ["x", "z"],
                                                                  "keep": True}}


def test_the_patched_object_shares_nothing_with_the_patch() -> None:
    ops = [{"op": "add", "path": "/spec/volume", "value": {"configMap": {"name": "remote-ca"}}}]
    after = apply_json_patch({"spec": {}}, ops)
    after["spec"]["volume"]["configMap"]["name"] = "changed"
    assert ops[0]["value"] == {"configMap": {"name": "remote-ca"}}


def test_every_patch_is_guarded_by_the_resource_version_it_was_planned_on() -> None:
    assert rv_guard({"metadata": {"resourceVersion": "12345"}}) == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "12345"}]
    assert rv_guard({}) == [{"op": "test", "path": "/metadata/resourceVersion", "value": ""}]


def test_a_taken_name_gets_the_first_free_numbered_suffix() -> None:
    assert free_name("remote-certs", {"other"}) == "remote-certs"
    assert free_name("remote-certs", {"remote-certs"}) == "remote-certs-2"
    assert free_name("remote-certs", {"remote-certs", "remote-certs-2"}) == "remote-certs-3"
    assert free_name("remote-certs", {"remote-certs", "remote-certs-2", "remote-certs-3"}) == "remote-certs-4"


def test_secure_settings_are_created_when_absent_and_named_in_order() -> None:
    assert add_secure_setting_ops({"spec": {}}, "keys") == [
        {"op": "add", "path": "/spec/secureSettings", "value": [{"secretName": "keys"}]}]
    assert add_secure_setting_ops({}, "keys") == [
        {"op": "add", "path": "/spec/secureSettings", "value": [{"secretName": "keys"}]}]
    assert add_secure_setting_ops({"spec": {"secureSettings": [{"secretName": "a"}]}}, "keys") == [
        {"op": "add", "path": "/spec/secureSettings/-", "value": {"secretName": "keys"}}]
    assert secure_setting_names({"spec": {"secureSettings": [{"secretName": "a"}, {"secretName": "b"}]}}) == [
        "a", "b"]
    assert secure_setting_names({"spec": {"secureSettings": None}}) == []
    assert secure_setting_names({}) == []


def _mounted(mount_path: str, volume: dict[str, Any], sub_path: str = "") -> dict[str, Any]:
    mount = {"name": volume["name"], "mountPath": mount_path, **({"subPath": sub_path} if sub_path else {})}
    return {"podTemplate": {"spec": {"volumes": [volume],
                                     "containers": [{"name": "elasticsearch", "volumeMounts": [mount]}]}}}


def test_source_path_is_relative_to_the_config_directory_wherever_the_mount_is() -> None:
    def seen_at(mount_path: str) -> str | None:
        cm = {"name": "v", "configMap": {"name": "cm"}}
        return source_path(_mounted(mount_path, cm), "ConfigMap", "cm", "ca.crt")

    assert seen_at("/usr/share/elasticsearch/config") == "ca.crt"
    assert seen_at("/usr/share/elasticsearch/config/") == "ca.crt"
    assert seen_at("/usr/share/elasticsearch/config/certs/") == "certs/ca.crt"
    assert seen_at("/etc/certs") is None
    assert seen_at("/usr/share/elasticsearch/configs") is None


def test_source_path_follows_the_items_of_a_secret_volume() -> None:
    sec = {"name": "s", "secret": {"secretName": "sec", "items": [{"key": "tls.crt", "path": "ca.pem"}]}}
    node_set = _mounted("/usr/share/elasticsearch/config/certs", sec)
    assert source_path(node_set, "Secret", "sec", "tls.crt") == "certs/ca.pem"
    assert source_path(node_set, "Secret", "sec", "ca.pem") is None  # not projected
    assert source_path(node_set, "ConfigMap", "sec", "tls.crt") is None


def test_source_path_finds_the_key_among_several_projected_files() -> None:
    items = [{"key": "other", "path": "other.pem"}, {"key": "k", "path": "a.pem"},
             {"key": "k", "path": "b.pem"}]
    cm = {"name": "v", "configMap": {"name": "cm", "items": items}}
    assert source_path(_mounted("/usr/share/elasticsearch/config/certs", cm), "ConfigMap", "cm", "k") == (
        "certs/a.pem")
    one_file = _mounted("/usr/share/elasticsearch/config/ca.pem", cm, sub_path="b.pem")
    assert source_path(one_file, "ConfigMap", "cm", "k") == "ca.pem"


def test_source_path_needs_an_elasticsearch_container_mount_backed_by_a_pod_volume() -> None:
    cm = {"name": "v", "configMap": {"name": "cm"}}
    node_set = _mounted("/usr/share/elasticsearch/config/certs", cm)
    node_set["podTemplate"]["spec"]["containers"][0]["name"] = "sidecar"
    assert source_path(node_set, "ConfigMap", "cm", "ca.crt") is None
    orphan = _mounted("/usr/share/elasticsearch/config/certs", cm)
    orphan["podTemplate"]["spec"]["volumes"] = [{"name": "other", "configMap": {"name": "cm"}}]
    assert source_path(orphan, "ConfigMap", "cm", "ca.crt") is None
    assert source_path({"podTemplate": {"spec": None}}, "ConfigMap", "cm", "ca.crt") is None
    assert source_path({}, "ConfigMap", "cm", "ca.crt") is None
