"""Each planner on snapshot objects: a healthy link needs nothing; one broken piece, one change."""

from __future__ import annotations

import copy
from typing import Any

from kubectl_eckrc.fix.actions import (
    create_api_key,
    enable_rcs,
    expose_rcs,
    fix_server_name,
    mount_ca,
    register_remote,
    sync_ca,
)
from kubectl_eckrc.fix.merge import apply_json_patch, get_setting
from kubectl_eckrc.fix.model import Deferred
from kubectl_eckrc.fix.plan import ACTION_ORDER, planners
from kubectl_eckrc.options import FixOptions
from kubectl_eckrc.snapshot import Unavailable
from tests.snapshot_builder import ALIAS, LB_IP, PROXY, SERVER_NAME, credential_key, healthy_pair, make_ca

CA_SETTING = "xpack.security.remote_cluster_client.ssl.certificate_authorities"


def test_healthy_link_plans_no_change_in_any_action(options: FixOptions) -> None:
    snap = healthy_pair().build()
    for action in ACTION_ORDER:
        assert planners()[action](snap, [], options) == [], action


def test_rcs_disabled_is_enabled_with_a_guarded_json_patch_that_rolls_the_remote(options: FixOptions) -> None:
    pair = healthy_pair()
    pair.remote.es["spec"]["remoteClusterServer"] = {"enabled": False}
    pair.remote.es["metadata"]["resourceVersion"] = "42"
    [change] = enable_rcs.plan(pair.build(), [], options)
    assert change.patch_type == "json" and change.restarts == "remote"
    assert change.body[0] == {"op": "test", "path": "/metadata/resourceVersion", "value": "42"}
    assert apply_json_patch(pair.remote.es, change.body)["spec"]["remoteClusterServer"] == {"enabled": True}


def test_mount_ca_on_a_bare_nodeset_keeps_every_other_container_volume_and_key(options: FixOptions) -> None:
    pair = healthy_pair()
    hot = pair.local.es["spec"]["nodeSets"][0]
    hot["config"] = {"node.roles": ["data"], "xpack": {"security": {"authc": {"anonymous": {"roles": "x"}}}}}
    hot["podTemplate"] = {
        "spec": {
            "volumes": [{"name": "extra", "emptyDir": {}}],
            "containers": [{"name": "sidecar", "image": "busybox"}],
        }
    }
    [change] = mount_ca.plan(pair.build(), [], options)
    after = apply_json_patch(pair.local.es, change.body)
    new_hot = after["spec"]["nodeSets"][0]
    assert new_hot["config"]["node.roles"] == ["data"]
    assert new_hot["config"]["xpack"]["security"]["authc"] == {"anonymous": {"roles": "x"}}
    assert get_setting(new_hot["config"], CA_SETTING) == ["remote-certs/remote-cluster-ca.crt"]
    assert get_setting(new_hot["config"], "xpack.security.remote_cluster_client.ssl.enabled") is True
    names = [c["name"] for c in new_hot["podTemplate"]["spec"]["containers"]]
    assert names == ["sidecar", "elasticsearch"]
    assert [v["name"] for v in new_hot["podTemplate"]["spec"]["volumes"]] == ["extra", "remote-certs"]
    assert after["spec"]["nodeSets"][1] == pair.local.es["spec"]["nodeSets"][1]  # warm was fine
    assert change.restarts == "local"


def test_mount_ca_wrong_path_is_repointed_at_the_mounted_file(options: FixOptions) -> None:
    pair = healthy_pair()
    for node_set in pair.local.es["spec"]["nodeSets"]:
        node_set["config"][CA_SETTING] = ["certs/ca.crt"]
    [change] = mount_ca.plan(pair.build(), [], options)
    after = apply_json_patch(pair.local.es, change.body)
    for node_set in after["spec"]["nodeSets"]:
        # no mount covers certs/ca.crt: it may be a file of the image, so it stays (issue 11)
        assert node_set["config"][CA_SETTING] == ["certs/ca.crt", "remote-certs/remote-cluster-ca.crt"]
        assert len(node_set["podTemplate"]["spec"]["volumes"]) == 1  # the existing mount is reused


def test_stale_ca_is_refreshed_in_the_configmap_already_mounted(options: FixOptions) -> None:
    pair = healthy_pair()
    old = make_ca("remote-es", "old-remote-ca")
    pair.set_configured_ca([old])
    [change] = sync_ca.plan(pair.build(), [], options)
    assert change.target.name == "remote-ca" and change.restarts == ""
    after = apply_json_patch(pair.local.configmaps["remote-ca"], change.body)
    assert after["data"]["remote-cluster-ca.crt"].strip() == pair.remote_ca.pem.strip()


def test_a_ca_mounted_with_sub_path_is_refreshed_and_its_pods_restarted(options: FixOptions) -> None:
    # kubelet never refreshes a subPath mount: the new ConfigMap content reaches those pods only
    # through a restart (a podTemplate annotation: a new StatefulSet revision that ECK rolls).
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("remote-es", "old-remote-ca")])
    hot = pair.local.es["spec"]["nodeSets"][0]
    [mount] = hot["podTemplate"]["spec"]["containers"][0]["volumeMounts"]
    mount.update(mountPath=f"{mount['mountPath']}/remote-cluster-ca.crt", subPath="remote-cluster-ca.crt")
    refresh, restart = sync_ca.plan(pair.build(), [], options)
    assert refresh.target.name == "remote-ca" and refresh.restarts == ""
    assert restart.target.kind == "Elasticsearch" and restart.restarts == "local"
    assert "nodeSets hot: restart the pods" in restart.summary
    es = apply_json_patch(pair.local.es, restart.body)
    hot_after, warm_after = es["spec"]["nodeSets"]
    assert hot_after["podTemplate"]["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/restartedAt": pair.build().taken_at}
    assert "metadata" not in warm_after["podTemplate"]


def test_sync_ca_keeps_other_issuers_in_the_same_file(options: FixOptions) -> None:
    pair = healthy_pair()
    other = make_ca("third-es", "third-ca")
    pair.set_configured_ca([other])
    [change] = sync_ca.plan(pair.build(), [], options)
    text = apply_json_patch(pair.local.configmaps["remote-ca"], change.body)["data"]["remote-cluster-ca.crt"]
    assert other.pem.strip() in text and pair.remote_ca.pem.strip() in text


def test_sniff_mode_is_switched_to_proxy_with_seeds_nulled_in_the_same_request(options: FixOptions) -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("mode", "sniff")
    pair.local_cluster_setting("seeds", ["10.0.0.1:9300"])
    [change] = register_remote.plan(pair.build(), [], options)
    persistent = change.body["persistent"]
    assert persistent[f"cluster.remote.{ALIAS}.mode"] == "proxy"
    assert persistent[f"cluster.remote.{ALIAS}.seeds"] is None
    assert persistent[f"cluster.remote.{ALIAS}.proxy_address"] == PROXY
    assert persistent[f"cluster.remote.{ALIAS}.server_name"] == SERVER_NAME


def test_a_load_balancer_published_by_hostname_is_registered_by_its_name(options: FixOptions) -> None:
    # Cloud LBs (AWS ELB/NLB) publish status.loadBalancer.ingress[0].hostname, not an ip.
    pair = healthy_pair()
    lb = pair.remote.services[3]
    lb["status"] = {"loadBalancer": {"ingress": [{"hostname": "rcs-123.elb.eu-west-1.amazonaws.com"}]}}
    pair.local_cluster_setting("proxy_address", "127.0.0.99:9443")
    [change] = register_remote.plan(pair.build(), [], options)
    address = change.body["persistent"][f"cluster.remote.{ALIAS}.proxy_address"]
    assert address == "rcs-123.elb.eu-west-1.amazonaws.com:9443"


def test_proxy_address_at_the_transport_port_is_replaced_by_the_rcs_exposure(options: FixOptions) -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("proxy_address", f"{LB_IP}:9300")
    [change] = register_remote.plan(pair.build(), [], options)
    assert change.body["persistent"][f"cluster.remote.{ALIAS}.proxy_address"] == PROXY


def test_server_name_ip_is_replaced_by_the_rcs_service_name(options: FixOptions) -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", LB_IP)
    [change] = fix_server_name.plan(pair.build(), [], options)
    assert change.body == {"persistent": {f"cluster.remote.{ALIAS}.server_name": SERVER_NAME}}


def test_raw_api_key_is_replaced_by_a_new_cross_cluster_key_in_the_same_secret(options: FixOptions) -> None:
    pair = healthy_pair()
    pair.local.secrets["remote-api-keys"] = copy.deepcopy(pair.local.secrets["remote-api-keys"])
    pair.local.secrets["remote-api-keys"].keys[f"cluster.remote.{ALIAS}.credentials"] = credential_key(
        well_formed=False, problem="decodes to no 'id:key' pair"
    )
    changes = create_api_key.plan(pair.build(), [], options)
    assert [c.operation for c in changes] == ["es-request", "patch"]
    post, store = changes
    assert post.produces_api_key and post.body["name"] == "local-es-to-remote-es-remote-es"
    assert not post.body["name"].startswith("eck-")
    assert post.body["access"] == {"search": [{"names": ["*"]}]}
    assert store.target.name == "remote-api-keys" and store.patch_type == "merge"
    assert store.credential_key == f"cluster.remote.{ALIAS}.credentials"


def test_missing_secure_settings_secret_is_created_under_the_listed_name(
    options: FixOptions,
) -> None:
    pair = healthy_pair()
    del pair.local.secrets["remote-api-keys"]
    changes = create_api_key.plan(pair.build(), [], options)
    assert [c.operation for c in changes] == ["es-request", "create"]
    assert changes[1].target.name == "remote-api-keys"


def test_alias_typo_key_is_renamed_without_reading_its_value(options: FixOptions) -> None:
    pair = healthy_pair()
    keys = pair.local.secrets["remote-api-keys"].keys
    keys["cluster.remote.remote-ess.credentials"] = keys.pop(f"cluster.remote.{ALIAS}.credentials")
    [move] = create_api_key.plan(pair.build(), [], options)
    assert move.body == [
        {
            "op": "move",
            "from": "/data/cluster.remote.remote-ess.credentials",
            "path": f"/data/cluster.remote.{ALIAS}.credentials",
        }
    ]


def test_no_link_at_all_gets_secret_key_secure_settings_and_registration(options: FixOptions) -> None:
    pair = healthy_pair()
    pair.local.es["spec"].pop("secureSettings")
    del pair.local.secrets["remote-api-keys"]
    for name in ("mode", "proxy_address", "server_name"):
        pair.local_cluster_setting(name, None)
    snap = pair.build()
    changes = create_api_key.plan(snap, [], options)
    assert [c.target.kind for c in changes] == ["CrossClusterApiKey", "Secret", "Elasticsearch"]
    assert changes[2].body[1] == {
        "op": "add",
        "path": "/spec/secureSettings",
        "value": [{"secretName": "remote-api-keys"}],
    }
    [register] = register_remote.plan(snap, [], options)
    assert register.body["persistent"][f"cluster.remote.{ALIAS}.mode"] == "proxy"


def test_service_with_remapped_port_gets_target_port_9443(options: FixOptions) -> None:
    pair = healthy_pair()
    lb = pair.remote.services[3]
    lb["spec"]["ports"][0]["port"] = 443
    lb["spec"]["ports"][0]["targetPort"] = 443
    [change] = expose_rcs.plan(pair.build(), [], options)
    assert change.target.name == "remote-es-rcs"
    assert apply_json_patch(lb, change.body)["spec"]["ports"][0]["targetPort"] == 9443


def test_no_exposure_creates_a_load_balancer_outside_the_eck_name_prefix(options: FixOptions) -> None:
    pair = healthy_pair()
    del pair.remote.services[3]
    [change] = expose_rcs.plan(pair.build(), [], options)
    assert change.operation == "create" and change.target.name == "remote-es-rcs-external"
    assert not change.target.name.startswith("remote-es-es-")
    assert change.body["spec"]["ports"] == [
        {"name": "rcs", "protocol": "TCP", "port": 9443, "targetPort": 9443}
    ]


def test_eck_3_3_exposes_through_the_remote_cluster_server_service_template(options: FixOptions) -> None:
    pair = healthy_pair()
    del pair.remote.services[3]
    pair.remote.crd = {"served_versions": ["v1"], "has_rcs_service": True}
    [change] = expose_rcs.plan(pair.build(), [], options)
    after = apply_json_patch(pair.remote.es, change.body)
    assert after["spec"]["remoteClusterServer"] == {
        "enabled": True,
        "service": {"spec": {"type": "LoadBalancer"}},
    }


def test_rest_key_is_replaced_and_the_old_id_is_named_for_manual_invalidation(options: FixOptions) -> None:
    from tests.snapshot_builder import KEY_ID

    pair = healthy_pair()
    pair.remote.api_keys[KEY_ID]["api_keys"][0]["type"] = "rest"
    post, store = create_api_key.plan(pair.build(), [], options)
    assert post.produces_api_key and f"replaces key {KEY_ID}" in post.summary
    assert store.target.name == "remote-api-keys"


def test_client_role_is_added_only_when_no_nodeset_has_it(options: FixOptions) -> None:
    pair = healthy_pair()
    for node_set, roles in zip(
        pair.local.es["spec"]["nodeSets"], (["master", "data_hot"], ["data_warm"]), strict=True
    ):
        node_set["config"]["node.roles"] = roles
    [change] = mount_ca.plan(pair.build(), [], options)
    after = apply_json_patch(pair.local.es, change.body)
    assert [n["config"]["node.roles"] for n in after["spec"]["nodeSets"]] == [
        ["master", "data_hot", "remote_cluster_client"],
        ["data_warm", "remote_cluster_client"],
    ]
    pair.local.es["spec"]["nodeSets"][0]["config"]["node.roles"] = ["master", "remote_cluster_client"]
    assert mount_ca.plan(pair.build(), [], options) == []  # one nodeSet has it: a design choice, kept


def test_eck_own_remote_ca_path_is_kept_beside_ours(options: FixOptions) -> None:
    pair = healthy_pair()
    for node_set in pair.local.es["spec"]["nodeSets"]:
        node_set["config"][CA_SETTING] = ["transport-remote-certs/ca.crt"]
    [change] = mount_ca.plan(pair.build(), [], options)
    after = apply_json_patch(pair.local.es, change.body)
    for node_set in after["spec"]["nodeSets"]:
        assert node_set["config"][CA_SETTING] == [
            "transport-remote-certs/ca.crt",
            "remote-certs/remote-cluster-ca.crt",
        ]


def test_a_ca_configured_by_absolute_path_is_refreshed_in_its_own_configmap(options: FixOptions) -> None:
    pair = healthy_pair()
    absolute = "/usr/share/elasticsearch/config/remote-certs/remote-cluster-ca.crt"
    for node_set in pair.local.es["spec"]["nodeSets"]:
        node_set["config"][CA_SETTING] = [absolute]
        node_set["podTemplate"]["spec"]["volumes"][0]["configMap"]["name"] = "corp-remote-ca"
    old = make_ca("remote-es", "old-remote-ca")
    pair.local.configmaps["corp-remote-ca"] = pair.local.configmaps.pop("remote-ca")
    pair.local.configmaps["corp-remote-ca"]["data"]["remote-cluster-ca.crt"] = old.pem
    snap = pair.build()
    [change] = sync_ca.plan(snap, [], options)
    assert (change.operation, change.target.name) == ("patch", "corp-remote-ca")
    after = apply_json_patch(pair.local.configmaps["corp-remote-ca"], change.body)
    assert after["data"]["remote-cluster-ca.crt"].strip() == pair.remote_ca.pem.strip()
    assert mount_ca.plan(snap, [], options) == []  # the absolute path stays: no pod rolls


def test_a_key_remapped_by_secure_settings_entries_is_the_alias_key(options: FixOptions) -> None:
    pair = healthy_pair()
    keys = pair.local.secrets["remote-api-keys"].keys
    keys["remote-es-api-key"] = keys.pop(f"cluster.remote.{ALIAS}.credentials")
    pair.local.es["spec"]["secureSettings"] = [{"secretName": "remote-api-keys", "entries": [
        {"key": "remote-es-api-key", "path": f"cluster.remote.{ALIAS}.credentials"}]}]
    assert create_api_key.plan(pair.build(), [], options) == []


def _node_port_only(pair: Any) -> None:
    lb = pair.remote.services[3]
    lb["spec"]["type"] = "NodePort"
    lb["status"] = {}


def test_a_node_port_is_registered_at_a_node_address_and_the_node_port(options: FixOptions) -> None:
    pair = healthy_pair()
    _node_port_only(pair)
    pair.remote.nodes = [{"metadata": {"name": "n1"}, "status": {
        "addresses": [{"type": "InternalIP", "address": "10.0.0.7"},
                      {"type": "ExternalIP", "address": "34.1.2.3"}],
        "conditions": [{"type": "Ready", "status": "True"}]}}]
    pair.local_cluster_setting("proxy_address", "127.0.0.99:9443")
    [change] = register_remote.plan(pair.build(), [], options)
    assert change.body["persistent"][f"cluster.remote.{ALIAS}.proxy_address"] == "34.1.2.3:31443"


def test_a_node_port_whose_nodes_could_not_be_read_waits_for_an_address(options: FixOptions) -> None:
    pair = healthy_pair()
    _node_port_only(pair)
    pair.remote.nodes = Unavailable("403 Forbidden: list nodes", "forbidden", "list nodes (cluster-wide)")
    pair.local_cluster_setting("proxy_address", "127.0.0.99:9443")
    [change] = register_remote.plan(pair.build(), [], options)
    assert change.deferred is Deferred.PROXY_ADDRESS
