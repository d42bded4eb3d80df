"""Strong identity verification in the twin (9.3+): settings, signatures, the key's identity."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from tests.twin import es_signing, pki
from tests.twin import es_testkit as kit
from tests.twin.es_api_keys import CrossClusterAuthFailure, identity_problem
from tests.twin.es_errors import EsError
from tests.twin.es_routes import Request, dispatch
from tests.twin.es_security import Principal, SecurityStore
from tests.twin.es_settings import ClusterSettings

SIGNING = "cluster.remote.remote-es.signing"
NOW = dt.datetime.now(dt.UTC)


def test_signing_settings_are_dynamic_secure_ones_are_not() -> None:
    settings = ClusterSettings(signing=True)
    settings.update({"persistent": {f"{SIGNING}.certificate": "signing/tls.crt",
                                    f"{SIGNING}.key": "signing/tls.key",
                                    es_signing.TRUST_CAS: ["signing-ca/ca.crt"]}})
    with pytest.raises(EsError, match=r"persistent setting \[cluster.remote.remote-es.signing.secure_key_"
                                      r"passphrase\], not dynamically updateable"):
        settings.update({"persistent": {f"{SIGNING}.secure_key_passphrase": "x"}})
    with pytest.raises(EsError, match="not recognized"):  # before 9.3 the settings do not exist
        ClusterSettings().update({"persistent": {f"{SIGNING}.certificate": "signing/tls.crt"}})


def test_cluster_settings_hide_the_signing_settings() -> None:
    flat = {f"{SIGNING}.certificate": "a", es_signing.TRUST_CAS: ["b"],
            "cluster.remote.remote-es.mode": "proxy"}
    assert es_signing.unfiltered(flat) == {"cluster.remote.remote-es.mode": "proxy"}
    # and through the REST API, as a reader of GET _cluster/settings sees it
    es = kit.make_side("search", "search", version="9.3.0", pods=0).cluster
    auth = {"Authorization": "Basic " + base64.b64encode(f"elastic:{kit.PASSWORD}".encode()).decode(),
            "Content-Type": "application/json"}
    body = {"persistent": {f"{SIGNING}.certificate": "signing/tls.crt", es_signing.TRUST_CAS: ["ca.crt"],
                           "cluster.remote.remote-es.mode": "proxy",
                           "cluster.remote.remote-es.proxy_address": "h:9443"}}
    pod = "search-es-default-0"
    put = Request("PUT", "/_cluster/settings", auth, json.dumps(body).encode())
    assert dispatch(es, pod, put).status == 200
    got = dispatch(es, pod, Request("GET", "/_cluster/settings?flat_settings=true", auth, b""))
    assert set(got.body["persistent"]) == {"cluster.remote.remote-es.mode",
                                           "cluster.remote.remote-es.proxy_address"}


def test_a_signature_verifies_only_with_the_signers_ca() -> None:
    ca, other = pki.make_ca("signing-ca"), pki.make_ca("other-ca")
    leaf = pki.make_leaf(ca.cert, ca.key, "local-es-signing", "logging")
    signer = es_signing.Signer((leaf.cert,), leaf.key, "SHA256withRSA")
    signed = es_signing.payload("credential", "action")
    assert es_signing.verify(signer.sign(signed), signed, [ca.cert], NOW) == "CN=local-es-signing,OU=logging"
    assert es_signing.verify(None, signed, [ca.cert], NOW) is None
    with pytest.raises(CrossClusterAuthFailure) as untrusted:
        es_signing.verify(signer.sign(signed), signed, [other.cert], NOW)
    assert untrusted.value.reason.startswith(
        "Failed to verify cross cluster api key signature certificate from "
        "[(CN=local-es-signing, OU=logging;X.509;SHA1:")
    with pytest.raises(CrossClusterAuthFailure, match="Invalid cross cluster api key signature from"):
        es_signing.verify(signer.sign(b"other bytes"), signed, [ca.cert], NOW)


def test_identity_rules() -> None:
    for pattern in ("CN=instance", "^CN=instance$", "(?i)^CN=instance$", "^CN=[A-Za-z0-9_]+$"):
        assert identity_problem("k", pattern, "CN=instance") is None
    for pattern in ("", "no-match", "^CN= instance$", "^CN=instance.$", "^cn=instance$"):
        assert identity_problem("k", pattern, "CN=instance") == (
            "DN from provided certificate [CN=instance] does not match API Key certificate identity pattern "
            f"[{pattern}]")
    assert identity_problem("k", "CN=x", None) == (
        "API key (type:[cross_cluster], id:[k]) requires certificate identity matching [CN=x], "
        "but no certificate was provided")
    assert identity_problem("k", None, None) is None


def test_key_apis_carry_certificate_identity() -> None:
    store = SecurityStore("pw")
    owner = Principal("elastic", ("superuser",), "reserved", "reserved")
    access = {"search": [{"names": ["logs-*"]}]}
    body = {"name": "k", "access": access, "certificate_identity": "CN=a"}
    created = store.create_api_key(owner, body, True)
    assert store.get_api_keys([created["id"]])["api_keys"][0]["certificate_identity"] == "CN=a"
    store.update_cross_cluster_key(created["id"], {"certificate_identity": None})
    assert "certificate_identity" not in store.get_api_keys([created["id"]])["api_keys"][0]
    with pytest.raises(EsError, match=r"Invalid certificate_identity format: \[CN=\(\]. Must be a valid"):
        store.update_cross_cluster_key(created["id"], {"certificate_identity": "CN=("})


def test_an_encrypted_signing_key_loads_with_its_keystore_passphrase() -> None:
    from cryptography.hazmat.primitives import serialization

    from tests.twin.es_node import NodeView

    ca = pki.make_ca("signing-ca")
    leaf = pki.make_leaf(ca.cert, ca.key, "local-es-signing", "logging")
    encrypted = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(b"s3cret"))
    files = {"signing/tls.crt": pki.cert_pem(leaf.cert), "signing/tls.key": encrypted}
    signing = {"certificate": "signing/tls.crt", "key": "signing/tls.key"}

    def view(keystore: dict[str, str]) -> NodeView:
        return NodeView("p", "default", {}, files, keystore, b"", b"", b"")

    assert es_signing.signer_for(view({}), signing, "remote-es") is None
    passphrase = {f"{SIGNING}.secure_key_passphrase": "s3cret"}
    assert es_signing.signer_for(view(passphrase), signing, "remote-es") is not None
