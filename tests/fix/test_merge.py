"""List- and key-preserving edits: settings where they live, mounts appended, pointers escaped."""

from __future__ import annotations

from kubectl_eckrc.fix.merge import (
    add_secure_setting_ops,
    apply_json_patch,
    get_setting,
    mount_ops,
    path_source,
    pointer,
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
    assert path_source(node_set, "certs/ca.pem") == ("ConfigMap", "cm", "k")
    assert path_source(node_set, "one.crt") == ("Secret", "sec", "tls.crt")
    assert path_source(node_set, "elsewhere/ca.pem") is None
    assert source_path(node_set, "ConfigMap", "cm", "k") == "certs/ca.pem"


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
