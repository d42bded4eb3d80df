"""DiagnosticTrustManager and JDK hostname texts, computed from real certificates."""

from __future__ import annotations

from tests.twin import pki
from tests.twin.tls_diagnostics import hostname_mismatch, java_sans, trust_failure

CTX = "xpack.security.remote_cluster_client.ssl (with trust configuration: PEM-trust{/c/ca.crt})"


def _pair() -> tuple[pki.Issued, pki.Issued]:
    ca = pki.transport_ca("search", key=pki.pooled_key(0))
    leaf = pki.transport_cert(
        ca, "search", "ns", "search-es-default-0", "default", "10.0.0.1", rcs=True, key=pki.pooled_key(1)
    )
    return ca, leaf


def test_leaf_only_chain_against_one_other_issuer_names_it() -> None:
    _, leaf = _pair()
    other = pki.make_ca("Elastic Auto RemoteCluster CA", key=pki.pooled_key(2))
    text = trust_failure(
        "server", "192.168.0.42", [leaf.cert], "TLS_AES_256_GCM_SHA384", "TLSv1.3", CTX, [other.cert]
    )
    assert text.startswith(
        "failed to establish trust with server at [192.168.0.42]; the server provided a "
        "certificate with subject name [CN=search-es-default-0.node.search.ns.es.local,"
        f"OU=search], fingerprint [{pki.fingerprint_sha1(leaf.cert)}], keyUsage "
        "[digitalSignature, keyEncipherment] and extendedKeyUsage [serverAuth, clientAuth]; "
        "the certificate is valid between ["
    )
    assert (
        "certificate dates are valid); the session uses cipher suite [TLS_AES_256_GCM_SHA384] and protocol "
        "[TLSv1.3]; the certificate has subject alternative names [DNS:search-es-default-0.node.search.ns."
        "es.local," in text
    )
    assert text.endswith(
        "the certificate is issued by [CN=search-transport,OU=search] but the server did not provide a copy "
        "of the issuing certificate in the certificate chain; "
        f"this ssl context ([{CTX}]) is not configured to trust that issuer, "
        "it only trusts the issuer [CN=Elastic Auto RemoteCluster CA] with fingerprint "
        f"[{pki.fingerprint_sha1(other.cert)}]"
    )


def test_stale_ca_copy_is_a_signature_mismatch() -> None:
    _, leaf = _pair()
    stale = pki.transport_ca("search", key=pki.pooled_key(3))
    text = trust_failure("server", "h", [leaf.cert], "c", "p", CTX, [stale.cert])
    assert text.endswith(
        f"this ssl context ([{CTX}]) trusts [1] certificate with subject name "
        f"[CN=search-transport,OU=search] and fingerprint [{pki.fingerprint_sha1(stale.cert)}] "
        "but the signatures do not match"
    )


def test_trusted_issuer_and_jdk_default_trust() -> None:
    ca, leaf = _pair()
    trusted = trust_failure("server", "h", [leaf.cert], "c", "p", CTX, [ca.cert])
    assert trusted.endswith(
        f"the issuing certificate with fingerprint [{pki.fingerprint_sha1(ca.cert)}] is "
        f"trusted in this ssl context ([{CTX}])"
    )
    jdk = trust_failure(
        "server",
        "h",
        [leaf.cert],
        "c",
        "p",
        "x (with trust configuration: JDK-trusted-certs)",
        [],
        jdk_default=True,
    )
    assert jdk.endswith("is not configured to trust that issuer but trusts [146] other issuers")


def test_hostname_texts_are_the_jdk_ones() -> None:
    _, leaf = _pair()
    assert (
        hostname_mismatch("203.0.113.7", leaf.cert)
        == "No subject alternative names matching IP address 203.0.113.7 found"
    )
    assert (
        hostname_mismatch("lb.example.com", leaf.cert)
        == "No subject alternative DNS name matching lb.example.com found."
    )
    assert java_sans(leaf.cert)[-2:] == ["IP:10.0.0.1", "IP:127.0.0.1"]
