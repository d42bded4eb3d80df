"""Accessors on ECK objects."""

from __future__ import annotations

from kubectl_eckrc import eck
from tests.snapshot_builder import nodeset


def test_flatten_mixes_nested_and_dotted_keys() -> None:
    config = {"xpack.security": {"remote_cluster_client": {"ssl.enabled": True}}, "node.roles": ["data"]}
    assert eck.flatten(config) == {"xpack.security.remote_cluster_client.ssl.enabled": True,
                                   "node.roles": ["data"]}


def test_mounted_file_resolves_relative_paths_and_configmap_items() -> None:
    spec = nodeset("hot")
    found = eck.mounted_file(spec, "remote-certs/remote-cluster-ca.crt")
    assert found == eck.MountedFile("/usr/share/elasticsearch/config/remote-certs/remote-cluster-ca.crt",
                                    "remote-ca", "configMap", "remote-ca", "remote-cluster-ca.crt")
    spec["podTemplate"]["spec"]["volumes"][0]["configMap"]["items"] = [{"key": "ca.pem",
                                                                         "path": "remote-cluster-ca.crt"}]
    found = eck.mounted_file(spec, "/usr/share/elasticsearch/config/remote-certs/remote-cluster-ca.crt")
    assert found is not None and found.key == "ca.pem"
    assert eck.mounted_file(spec, "elsewhere/ca.crt") is None


def test_secure_settings_entries() -> None:
    es = {"spec": {"secureSettings": [{"secretName": "a"},
                                      {"secretName": "b", "entries": [{"key": "k", "path": "p"}]}]}}
    assert eck.secure_settings(es) == [eck.SecureSetting("a", {}), eck.SecureSetting("b", {"k": "p"})]


def test_target_port_resolution() -> None:
    assert eck.targets_rcs({"port": 9443})
    assert eck.targets_rcs({"port": 443, "targetPort": "rcs"})
    assert not eck.targets_rcs({"port": 443})


def test_versions_and_names() -> None:
    assert eck.parse_version("8.17.1") == (8, 17, 1)
    assert eck.parse_version("9.0") == (9, 0, 0)
    assert eck.parse_version("garbage") is None
    assert eck.rcs_server_name("remote-es", "search") == "remote-es-es-remote-cluster.search.svc"
    assert eck.eck_owned_secret_names("es") == ("es-es-remote-api-keys", "es-es-remote-ca")
