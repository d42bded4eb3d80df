"""3xx: trust of the remote cluster server's certificate."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from kubectl_eckrc.checks.engine import run_checks
from kubectl_eckrc.findings import Status
from kubectl_eckrc.snapshot import Unavailable
from tests.checks.helpers import first_failure, outcome
from tests.snapshot_builder import (
    ALIAS,
    LB_IP,
    Issued,
    PairBuilder,
    cert_key,
    eck_leaf,
    healthy_pair,
    make_ca,
    make_leaf,
    secret,
)

UTC = dt.UTC


def test_healthy_pair_trusts_the_remote_certificate() -> None:
    pair = healthy_pair()
    for check_id in ("ECKRC301", "ECKRC302", "ECKRC303", "ECKRC304", "ECKRC305", "ECKRC306", "ECKRC307"):
        assert outcome(pair, check_id).status is Status.PASS, check_id


def test_nodeset_without_client_ca_is_eckrc301_naming_it() -> None:
    pair = healthy_pair()
    config = pair.local.es["spec"]["nodeSets"][1]["config"]
    del config["xpack.security.remote_cluster_client.ssl.certificate_authorities"]
    finding = outcome(pair, "ECKRC301")
    assert finding.status is Status.FAIL
    assert finding.evidence["missing"] == ["warm"]
    assert finding.fix is not None and finding.fix.action == "mount-ca"
    assert outcome(pair, "ECKRC302").message == "skipped: ECKRC301 failed"


def test_nested_yaml_nodeset_config_is_understood_like_dotted_keys() -> None:
    pair = healthy_pair()
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        nodeset["config"] = {"xpack": {"security": {"remote_cluster_client": {"ssl": {
            "enabled": "true", "certificate_authorities": ["remote-certs/remote-cluster-ca.crt"]}}}}}
    assert outcome(pair, "ECKRC301").status is Status.PASS


def test_ssl_disabled_on_a_nodeset_is_eckrc301() -> None:
    pair = healthy_pair()
    pair.local.es["spec"]["nodeSets"][0]["config"]["xpack.security.remote_cluster_client.ssl.enabled"] = False
    assert outcome(pair, "ECKRC301").evidence["missing"] == ["hot"]


def test_ca_path_outside_every_mount_is_eckrc301() -> None:
    pair = healthy_pair()
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        config = nodeset["config"]
        config["xpack.security.remote_cluster_client.ssl.certificate_authorities"] = ["other/ca.crt"]
    finding = outcome(pair, "ECKRC301")
    assert finding.status is Status.FAIL
    assert finding.evidence["path"] == "/usr/share/elasticsearch/config/other/ca.crt"


def test_missing_ca_configmap_is_eckrc302() -> None:
    pair = healthy_pair()
    del pair.local.configmaps["remote-ca"]
    finding = outcome(pair, "ECKRC302")
    assert finding.status is Status.FAIL
    assert "configMap logging/remote-ca does not exist" in finding.message
    assert outcome(pair, "ECKRC303").status is Status.SKIPPED


def test_wrong_key_in_ca_configmap_is_eckrc302_listing_keys() -> None:
    pair = healthy_pair()
    data = pair.local.configmaps["remote-ca"]["data"]
    data["ca.crt"] = data.pop("remote-cluster-ca.crt")
    finding = outcome(pair, "ECKRC302")
    assert finding.status is Status.FAIL
    assert "no key remote-cluster-ca.crt (keys: ca.crt)" in finding.message


def test_garbage_in_ca_configmap_is_eckrc302() -> None:
    pair = healthy_pair()
    pair.local.configmaps["remote-ca"]["data"]["remote-cluster-ca.crt"] = "not a certificate"
    assert "no PEM certificate" in outcome(pair, "ECKRC302").message


def test_expired_copy_of_the_renewed_ca_is_an_eckrc303_warning_while_the_jdk_connects() -> None:
    # Same key: the presented leaf validates, and the JDK never checks a trust anchor's dates.
    pair = healthy_pair()
    old = make_ca("remote-es", "remote-ca", start=dt.datetime(2025, 1, 1, tzinfo=UTC))  # same key, expired
    pair.set_configured_ca([old])
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.WARN
    assert "renewed" in finding.hint and "configMap logging/remote-ca" in finding.hint
    assert finding.evidence["trusted"][0]["notAfter"] == "2026-01-01T00:00:00Z"
    assert outcome(pair, "ECKRC304").status is Status.PASS


def test_stale_ca_after_rotation_with_a_new_key_is_eckrc303_fixed_by_sync_ca() -> None:
    pair = healthy_pair()
    old = make_ca("remote-es", "old-remote-ca", start=dt.datetime(2025, 1, 1, tzinfo=UTC))  # expired
    pair.set_configured_ca([old])
    finding = first_failure(pair)
    assert finding.id == "ECKRC303"
    assert finding.fix is not None and finding.fix.action == "sync-ca"
    assert finding.fix.command == "kubectl eckrc fix --alias remote-es"
    assert finding.evidence["handshake"].startswith("PKIX path validation failed")
    assert outcome(pair, "ECKRC304").message == "skipped: ECKRC303 failed"


def test_previous_issue_of_the_ca_still_valid_is_an_eckrc303_warning() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("remote-es", "remote-ca", start=dt.datetime(2025, 8, 1, tzinfo=UTC))])
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.WARN
    assert outcome(pair, "ECKRC304").status is Status.PASS  # same key: still validates


def test_ca_of_a_recreated_cluster_with_the_same_name_is_eckrc303() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("remote-es", "another-remote-ca")])
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.FAIL
    assert "another key" in finding.hint and "same name" in finding.hint


def test_ca_of_another_cluster_is_eckrc303() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    finding = outcome(pair, "ECKRC303")
    assert "CN=third-es-transport,OU=third-es" in finding.hint


def test_without_remote_access_the_live_handshake_still_judges_trust() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    assert outcome(pair, "ECKRC303").status is Status.NOT_EVALUATED
    assert "--remote-context" in outcome(pair, "ECKRC303").permission
    assert outcome(pair, "ECKRC304").status is Status.PASS
    assert outcome(pair, "ECKRC306").status is Status.PASS  # ECK issuer pattern


def test_untrusted_chain_without_remote_access_is_eckrc304() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    finding = outcome(pair, "ECKRC304")
    assert finding.status is Status.FAIL
    assert "another ECK cluster's CA" in finding.hint


def test_tls_terminating_ingress_is_eckrc304_and_eckrc306() -> None:
    pair = healthy_pair()
    ingress_ca = make_ca("ingress", "ingress-ca", subject_cn="ingress-nginx-ca")
    fake = make_leaf(ingress_ca, "Kubernetes Ingress Controller Fake Certificate", "ingress",
                     ["ingress.local"], key_name="ingress-leaf")
    pair.present([fake])
    chain = outcome(pair, "ECKRC304")
    assert chain.status is Status.FAIL
    assert "terminates TLS" in chain.hint
    proxy = outcome(pair, "ECKRC306")
    assert proxy.status is Status.FAIL and "passthrough" in proxy.hint
    assert outcome(pair, "ECKRC305").status is Status.SKIPPED


def test_plaintext_listener_is_eckrc304() -> None:
    pair = healthy_pair()
    pair.present([], tls="not-tls", tls_error="wrong version number")
    finding = outcome(pair, "ECKRC304")
    assert finding.status is Status.FAIL
    assert "does not answer with TLS" in finding.message


def test_lb_ip_checked_without_server_name_is_eckrc305() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", None)
    pair.remote_info(server_name="")
    finding = outcome(pair, "ECKRC305")
    assert finding.status is Status.FAIL
    assert finding.evidence["checked"] == LB_IP
    assert "remote-es-es-remote-cluster.search.svc" in finding.hint
    assert finding.fix is not None and finding.fix.action == "fix-server-name"


def test_lb_ip_listed_in_subject_alt_names_passes_eckrc305() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", None)
    dns = ["remote-es-es-remote-cluster.search.svc"]
    pair.present([make_leaf(pair.remote_ca, "remote-es-es-default-0", "remote-es", dns, [LB_IP],
                            key_name="leaf-with-ip")])
    assert outcome(pair, "ECKRC305").status is Status.PASS


def test_ip_as_server_name_not_in_the_certificate_is_eckrc305() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", LB_IP)
    finding = outcome(pair, "ECKRC305")
    assert finding.status is Status.FAIL
    assert finding.evidence["error"] == f"No subject alternative names matching IP address {LB_IP} found"


def test_ip_as_server_name_that_is_an_ip_san_passes_as_the_jdk_connects() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", "127.0.1.1")  # the leaf's IP SAN: SNIHostName takes it
    assert outcome(pair, "ECKRC305").status is Status.PASS


def test_server_name_the_jdk_refuses_as_sni_is_eckrc305() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", "remote-es-es-remote-cluster.search.svc.")
    finding = outcome(pair, "ECKRC305")
    assert finding.status is Status.FAIL
    assert finding.evidence["error"] == "Server name value of host_name cannot have the trailing dot"


def test_wrong_server_name_with_the_address_host_a_san_is_an_eckrc305_warning() -> None:
    # The JDK fails over from the SNI name to the peer host (the proxy_address host).
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", "wrong-name.example.com")
    dns = ["remote-es-es-remote-cluster.search.svc"]
    pair.present([make_leaf(pair.remote_ca, "remote-es-es-default-0", "remote-es", dns, [LB_IP],
                            key_name="leaf-with-ip")])
    finding = outcome(pair, "ECKRC305")
    assert finding.status is Status.WARN
    assert "is not in the certificate" in finding.message and LB_IP in finding.message


def test_wrong_server_name_is_eckrc305() -> None:
    pair = healthy_pair()
    pair.local_cluster_setting("server_name", "remote-es-es-http.search.svc")
    finding = outcome(pair, "ECKRC305")
    assert finding.status is Status.FAIL and "nor the address host" in finding.hint
    assert finding.evidence["error"] == f"No subject alternative names matching IP address {LB_IP} found"


def test_leaf_expiring_soon_is_an_eckrc307_warning() -> None:
    pair = healthy_pair()
    pair.present([eck_leaf(pair.remote_ca, start=dt.datetime(2025, 6, 11, tzinfo=UTC))])
    finding = outcome(pair, "ECKRC307")
    assert finding.status is Status.WARN
    assert "expires in 10 days" in finding.message


def test_expired_remote_ca_is_an_eckrc307_warning_while_the_presented_chain_validates() -> None:
    # The JDK never checks a trust anchor's dates: the nodes still connect.
    pair = healthy_pair()
    old = make_ca("remote-es", "remote-ca", start=dt.datetime(2025, 1, 1, tzinfo=UTC))
    pair.remote.secrets["remote-es-es-transport-certs-public"] = secret(
        "remote-es-es-transport-certs-public", {"ca.crt": _cert_key(old)})
    pair.set_configured_ca([old])
    finding = outcome(pair, "ECKRC307")
    assert finding.status is Status.WARN and "expired on 2026-01-01" in finding.message
    assert "trust anchor" in finding.message


def _cert_key(ca):  # type: ignore[no-untyped-def]
    from tests.snapshot_builder import cert_key

    return cert_key([ca])


def test_trusting_the_ca_of_a_tls_terminating_proxy_warns_in_eckrc303_and_fails_eckrc306() -> None:
    pair = healthy_pair()
    corp = make_ca("corp", "corp-ca", subject_cn="Corp Proxy CA")
    proxy_leaf = make_leaf(corp, "proxy.example", "corp", ["remote-es-es-remote-cluster.search.svc"],
                           key_name="proxy-leaf")
    pair.set_configured_ca([corp])
    pair.present([proxy_leaf])
    stale = outcome(pair, "ECKRC303")
    assert stale.status is Status.WARN and "ECKRC306" in stale.hint
    assert outcome(pair, "ECKRC304").status is Status.PASS
    assert first_failure(pair).id == "ECKRC306"


def test_expired_remote_ca_still_counts_as_the_issuer_for_eckrc306() -> None:
    pair = healthy_pair()
    old = make_ca("remote-es", "remote-ca", start=dt.datetime(2025, 1, 1, tzinfo=UTC))
    pair.remote.secrets["remote-es-es-transport-certs-public"] = secret(
        "remote-es-es-transport-certs-public", {"ca.crt": _cert_key(old)})
    pair.set_configured_ca([old])
    pair.present([eck_leaf(old, start=dt.datetime(2025, 1, 1, tzinfo=UTC))])
    assert outcome(pair, "ECKRC306").status is Status.PASS
    expiry = outcome(pair, "ECKRC307")
    assert expiry.status is Status.FAIL and expiry.message.startswith("presented certificate")
    assert expiry.evidence["handshake"].endswith("validity check failed")


def test_expired_stale_copy_is_reported_once_by_eckrc303_not_again_by_eckrc307() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("remote-es", "remote-ca", start=dt.datetime(2025, 1, 1, tzinfo=UTC))])
    assert outcome(pair, "ECKRC303").status is Status.WARN  # same key: the JDK still connects
    assert outcome(pair, "ECKRC307").status is Status.PASS


# --- what ECKRC303/304 say for less common chains -------------------------------------------------

TAKEN = dt.datetime(2026, 6, 1, tzinfo=UTC)  # the builder's snapshot time


def _custom(subject_of: Issued, signer: Issued, *, ca: bool, server_auth: bool = True,
            key_cert_sign: bool | None = None) -> Issued:
    """A certificate with `subject_of`'s name and key, signed by `signer`: to make an anchor
    that is not a CA, or a server certificate not meant for TLS servers."""
    cert = subject_of.cert
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False,
                          key_cert_sign=ca if key_cert_sign is None else key_cert_sign, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    eku = [ExtendedKeyUsageOID.SERVER_AUTH] if server_auth else [ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(signer.cert.subject)
               .public_key(subject_of.key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(cert.not_valid_before_utc).not_valid_after(cert.not_valid_after_utc)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(usage, critical=True)
               .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_of.key.public_key()),
                              critical=False))
    for extension in cert.extensions:
        if isinstance(extension.value, x509.SubjectAlternativeName):
            builder = builder.add_extension(extension.value, critical=False)
    return Issued(builder.sign(signer.key, hashes.SHA256()), subject_of.key)


def _chain_hint(pair: PairBuilder) -> str:
    finding = outcome(pair, "ECKRC304")
    assert finding.status is Status.FAIL, finding.message
    return finding.hint


def test_eckrc304_names_an_expired_server_certificate() -> None:
    pair = healthy_pair()
    pair.present([eck_leaf(pair.remote_ca, start=dt.datetime(2025, 1, 1, tzinfo=UTC))])
    assert _chain_hint(pair) == "a certificate of the chain is expired or not yet valid (see ECKRC307)"


def test_eckrc304_names_a_server_certificate_not_meant_for_tls_servers() -> None:
    pair = healthy_pair()
    pair.present([_custom(pair.leaf, pair.remote_ca, ca=False, server_auth=False)])
    assert _chain_hint(pair) == ("the server's certificate may not be used by a TLS server (keyUsage "
                                 "digitalSignature, extendedKeyUsage serverAuth): reissue it")


def test_eckrc304_names_a_trusted_anchor_that_is_not_a_ca() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    pair.set_configured_ca([_custom(pair.remote_ca, pair.remote_ca, ca=False)])
    finding = outcome(pair, "ECKRC304")
    assert finding.evidence["error"].startswith("PKIX path validation failed: sun.security.validator."
                                                "ValidatorException: TrustAnchor with subject")
    assert finding.hint == ("a CA of the chain is not a CA certificate (basicConstraints cA, keyUsage "
                            "keyCertSign): reissue it")


def test_eckrc304_names_a_presented_intermediate_that_is_not_a_ca() -> None:
    pair = healthy_pair()
    intermediate = make_ca("remote-es", "intermediate", subject_cn="remote-es-intermediate")
    not_a_ca = _custom(intermediate, pair.remote_ca, ca=False, key_cert_sign=True)
    leaf = make_leaf(not_a_ca, "remote-es-es-default-0", "remote-es",
                     ["remote-es-es-remote-cluster.search.svc"], key_name="leaf-under-intermediate")
    pair.present([leaf, not_a_ca])
    pair.no_remote_access()
    finding = outcome(pair, "ECKRC304")
    assert finding.evidence["error"].endswith("basic constraints check failed: this is not a CA certificate")
    assert finding.hint.startswith("a CA of the chain is not a CA certificate")


def test_eckrc304_names_a_certificate_from_outside_eck_as_a_tls_terminating_proxy() -> None:
    pair = healthy_pair()
    corp = make_ca("corp", "corp-ca", subject_cn="Corp Proxy CA")
    pair.present([make_leaf(corp, "proxy.example", "corp", ["proxy.example"], key_name="proxy-leaf")])
    assert _chain_hint(pair) == ("the server's certificate is issued by CN=Corp Proxy CA,OU=corp, not an ECK "
                                 "transport CA: something in front of the remote cluster server terminates "
                                 "TLS (see ECKRC306)")


def test_eckrc304_names_a_trusted_ca_with_the_right_name_and_another_key() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    pair.set_configured_ca([make_ca("remote-es", "other-ca")])
    assert _chain_hint(pair) == ("the trusted CA has the right name but did not sign this certificate: a "
                                 "stale copy or another cluster with the same name")


def test_eckrc304_is_not_evaluated_without_a_tcp_connection_and_fails_a_broken_handshake() -> None:
    pair = healthy_pair()
    pair.present([], tcp="refused", tcp_error="connection refused", tls="skipped")
    [finding] = run_checks(pair.build(), only=["ECKRC304"])
    assert (finding.status, finding.message) == (
        Status.NOT_EVALUATED, "127.0.0.10:9443 is unreachable from this machine (refused): the probe could "
        "not look at the certificate presented there")
    pair = healthy_pair()
    pair.present([pair.leaf], tls="error", tls_error="bad_certificate")
    [finding] = run_checks(pair.build(), only=["ECKRC304"])
    assert (finding.status, finding.message) == (
        Status.FAIL, "TLS handshake with 127.0.0.10:9443 failed: error bad_certificate")


def test_eckrc305_without_remote_access_suggests_the_server_name_pattern() -> None:
    pair = healthy_pair()
    pair.no_remote_access()
    pair.local_cluster_setting("server_name", "wrong.example.com")
    finding = outcome(pair, "ECKRC305")
    assert finding.status is Status.FAIL
    assert finding.hint.endswith("set server_name to <remote-es>-es-remote-cluster.<remote-namespace>.svc")


def test_eckrc303_with_another_clusters_ca_and_no_chain_seen_fails_naming_both() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("third-es", "third-ca"), make_ca("fourth-es", "fourth-ca")])
    pair.probe = Unavailable("timed out after 5s", "timeout")
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.FAIL
    assert finding.hint == ("configMap logging/remote-ca holds CN=fourth-es-transport,OU=fourth-es, "
                            "CN=third-es-transport,OU=third-es, a CA of another cluster; the remote's is "
                            "CN=remote-es-transport,OU=remote-es")
    assert "handshake" not in finding.evidence


def test_eckrc303_with_another_clusters_ca_and_an_ingress_answering_is_no_proxy_copy() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    corp = make_ca("corp", "corp-ca", subject_cn="Corp Proxy CA")
    pair.present([make_leaf(corp, "proxy.example", "corp", ["proxy.example"], key_name="proxy-leaf")])
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.FAIL
    assert finding.message == "the CA the local cluster trusts is not the remote's current CA"


def test_eckrc303_with_a_remote_ca_file_holding_no_certificate_names_it_unknown() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    name = "remote-es-es-transport-certs-public"
    pair.remote.secrets[name] = secret(name, {"ca.crt": cert_key([])})
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.FAIL and finding.hint.endswith("the remote's is unknown")


def test_eckrc303_checked_alone_without_a_configured_ca_names_the_local_copy_generically() -> None:
    pair = healthy_pair()
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        del nodeset["config"]["xpack.security.remote_cluster_client.ssl.certificate_authorities"]
    [finding] = run_checks(pair.build(), only=["ECKRC303"])
    assert finding.status is Status.FAIL
    assert finding.hint.startswith("the local CA copy holds nothing")


def test_eckrc303_an_older_issue_is_usable_until_the_very_end_of_its_validity() -> None:
    for left in (dt.timedelta(0), dt.timedelta(hours=12)):
        pair = healthy_pair()
        start = TAKEN + left - dt.timedelta(days=365)
        pair.set_configured_ca([make_ca("remote-es", "remote-ca", start=start)])
        finding = outcome(pair, "ECKRC303")
        assert (finding.status, finding.message) == (
            Status.WARN, "the trusted CA is an older issue of the remote CA (same key)"), left


def test_eckrc303_an_expired_older_issue_with_no_chain_seen_still_anchors_and_warns() -> None:
    # Same key and key identifier: the JDK finds the anchor and ignores its dates (the real JDK
    # agrees: tests/twin/test_tls_corpus.py, renewed-ca-same-key-copy-is-old; scenario remote-ca-renewed).
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("remote-es", "remote-ca", start=dt.datetime(2025, 1, 1, tzinfo=UTC))])
    pair.probe = Unavailable("timed out after 5s", "timeout")
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.WARN
    assert finding.hint == (
        "the remote CA was renewed; configMap logging/remote-ca still holds the previous issue (expired "
        "2026-01-01T00:00:00Z), which the local nodes keep accepting (the JDK does not check a trust "
        "anchor's dates), until a renewal with a new key breaks the link: copy the current one")
    assert [c["notAfter"] for c in finding.evidence["trusted"]] == ["2026-01-01T00:00:00Z"]
    assert [c["notAfter"] for c in finding.evidence["current"]] == ["2027-01-01T00:00:00Z"]


def test_eckrc307_of_an_alias_pointing_elsewhere_dates_the_trusted_copy_not_the_remote_ca() -> None:
    pair = healthy_pair()
    pair.aliases = [ALIAS, "other"]
    pair.present([eck_leaf(make_ca("third-es", "third-ca"))])
    finding = outcome(pair, "ECKRC307")
    assert sorted(finding.evidence) == ["presented", "trustedCa"]


def _pin_hot_with_sub_path(pair: PairBuilder) -> None:
    hot = pair.local.es["spec"]["nodeSets"][0]
    [mount] = hot["podTemplate"]["spec"]["containers"][0]["volumeMounts"]
    mount.update(mountPath=f"{mount['mountPath']}/remote-cluster-ca.crt", subPath="remote-cluster-ca.crt")


def test_a_stale_copy_mounted_with_sub_path_says_the_pods_must_restart() -> None:
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("remote-es", "old-remote-ca")])
    _pin_hot_with_sub_path(pair)
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.FAIL and "nodeSets hot mount it with subPath" in finding.hint


def test_a_current_copy_mounted_with_sub_path_warns_while_the_link_is_down() -> None:
    # The ConfigMap was fixed, the pods keep the copy they started with (scenario ca-subpath-mount
    # after a ConfigMap-only repair): doctor cannot read the pods' file, the link being down tells.
    pair = healthy_pair()
    _pin_hot_with_sub_path(pair)
    assert outcome(pair, "ECKRC303").status is Status.PASS  # connected: nothing to say
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    pair.local.resolve_cluster[ALIAS][ALIAS] = {"connected": False, "skip_unavailable": True}
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.WARN and "may still see the copy they started with" in finding.message
    assert finding.evidence["pinned"] == ["hot"]


def test_eckrc303_an_older_issue_with_another_key_identifier_fails() -> None:
    # A renewal that kept the key but not the SKI (ECK before elastic/cloud-on-k8s#9198 on a Go that
    # derives identifiers differently): the leaves' AKI no longer names the copy.
    pair = healthy_pair()
    pair.set_configured_ca([make_ca("remote-es", "remote-ca", start=dt.datetime(2025, 1, 1, tzinfo=UTC),
                                    ski=b"\x01" * 20)])
    pair.probe = Unavailable("timed out after 5s", "timeout")
    finding = outcome(pair, "ECKRC303")
    assert finding.status is Status.FAIL
    assert finding.message == ("the trusted CA is an older issue of the remote CA (same key, another key "
                               "identifier)")
    assert "no longer picks as the anchor" in finding.hint
