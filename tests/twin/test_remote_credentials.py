"""Credentials across the link: the remote really checks the key (type, state, licence, model)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.twin import es_testkit as kit
from tests.twin import pki
from tests.twin.es_security import now_ms
from tests.twin.es_testkit import (
    HANDSHAKE,
    assert_unavailable,
    cross_cluster_key,
    eventually,
    info,
    make_local,
    rcs,
    register,
    resolve,
    wait_for_log,
)


def test_rest_key_in_the_keystore_is_rejected_by_type(remote: kit.Side, cleanup: list[Any]) -> None:
    principal = remote.cluster.security.authenticate(
        "Basic " + base64.b64encode(f"elastic:{kit.PASSWORD}".encode()).decode(), "/"
    )
    rest = remote.cluster.security.create_api_key(principal, {"name": "rest"}, cross_cluster=False)
    local = make_local(cleanup, remote, rest["encoded"])
    register(local, rcs(remote))
    reason = (
        f"authentication expected API key type of [cross_cluster], but API key [{rest['id']}] has type [rest]"
    )
    logs = wait_for_log(local, reason)
    assert (
        "org.elasticsearch.transport.RemoteTransportException: [search-es-default-0][10.0.0.10:9443]"
        f"[{HANDSHAKE}]" in logs
    )
    assert f"Caused by: org.elasticsearch.ElasticsearchSecurityException: {reason}" in logs
    assert_unavailable(resolve(local))


@pytest.mark.parametrize(
    ("damage", "remote_log"),
    [
        ("invalidate", "Authentication using apikey failed - api key [{id}] has been invalidated"),
        ("expire", "Authentication using apikey failed - api key is expired"),
        ("secret", "Authentication using apikey failed - invalid credentials for API key [{id}]"),
        ("unknown", "Authentication using apikey failed - unable to find apikey with id {id}"),
    ],
)
def test_unusable_keys_fail_the_handshake(
    remote: kit.Side, cleanup: list[Any], damage: str, remote_log: str
) -> None:
    key = cross_cluster_key(remote)
    encoded = key["encoded"]
    if damage == "invalidate":
        remote.cluster.security.invalidate([key["id"]])
    elif damage == "expire":
        remote.cluster.security.set_expiration(key["id"], now_ms() - 1000)
    elif damage == "secret":
        encoded = base64.b64encode(f"{key['id']}:{'x' * 22}".encode()).decode()
    else:
        encoded = base64.b64encode(f"{'u' * 20}:{key['api_key']}".encode()).decode()
    key_id = base64.b64decode(encoded).decode().split(":")[0]
    local = make_local(cleanup, remote, encoded)
    register(local, rcs(remote))
    reason = f"unable to authenticate user [{key_id}] for action [{HANDSHAKE}]"
    wait_for_log(local, reason)
    assert remote_log.format(id=key_id) in wait_for_log(remote, "ApiKeyAuthenticator")
    assert_unavailable(resolve(local))


def test_raw_api_key_instead_of_encoded_is_a_malformed_value(remote: kit.Side, cleanup: list[Any]) -> None:
    local = make_local(cleanup, remote, cross_cluster_key(remote)["api_key"])
    register(local, rcs(remote))
    wait_for_log(local, "invalid cross-cluster API key value")


def test_invalidating_a_key_breaks_resolve_and_the_next_connection(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    key = cross_cluster_key(remote)
    local = make_local(cleanup, remote, key["encoded"])
    register(local, rcs(remote))
    eventually(lambda: info(local)["connected"])
    remote.cluster.security.invalidate([key["id"]])
    assert "unable to authenticate user" in resolve(local)["error"]


def test_basic_license_on_the_remote_is_non_compliant(remote: kit.Side, cleanup: list[Any]) -> None:
    remote.cluster.set_license("basic")
    local = make_local(cleanup, remote, cross_cluster_key(remote)["encoded"])
    register(local, rcs(remote))
    wait_for_log(local, "current license is non-compliant for [advanced-remote-cluster-security]")


def test_no_credential_uses_the_certificate_model_and_the_rcs_demands_a_key(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(cleanup, remote, None)
    pod = local.pod()
    both = local.views[pod].transport_trusted_ca_pems + pki.cert_pem(remote.transport_ca.cert)
    local.restart(pod, transport_trusted_ca_pems=both)
    register(local, rcs(remote))
    logs = wait_for_log(local, "require transport header [_cross_cluster_access_credentials] but none found")
    assert (
        "Caused by: java.lang.IllegalArgumentException: Cross cluster requests through the dedicated remote "
        "cluster server port require transport header" in logs
    )
    assert "cluster_credentials" not in info(local)


def test_no_credential_without_mutual_trust_fails_in_the_transport_context(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(cleanup, remote, None)
    register(local, rcs(remote))
    logs = wait_for_log(local, "failed to establish trust")
    assert "xpack.security.transport.ssl (with trust configuration: PEM-trust{" in logs


def test_certificate_model_on_the_transport_port_connects_without_credentials(
    remote: kit.Side, cleanup: list[Any]
) -> None:
    local = make_local(cleanup, remote, None)
    pod = local.pod()
    local.restart(
        pod,
        transport_trusted_ca_pems=local.views[pod].transport_trusted_ca_pems
        + pki.cert_pem(remote.transport_ca.cert),
    )
    remote.restart(
        remote.pod(),
        transport_trusted_ca_pems=remote.views[remote.pod()].transport_trusted_ca_pems
        + pki.cert_pem(local.transport_ca.cert),
    )
    address = remote.cluster.transport_address(remote.pod())
    assert address is not None
    register(local, f"{address[0]}:{address[1]}", server_name=None)
    eventually(lambda: info(local)["connected"])
    assert "cluster_credentials" not in info(local)
