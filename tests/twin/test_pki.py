"""The twin's certificates look like ECK's: names, SAN layout, CA extensions, validity."""

from __future__ import annotations

import ipaddress

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.twin import pki


def _sans(cert: x509.Certificate) -> x509.SubjectAlternativeName:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def test_pool_reuses_keys_and_gives_distinct_indices_distinct_keys() -> None:
    assert pki.pooled_key(0) is pki.pooled_key(0)
    assert pki.pooled_key(0).public_key().public_numbers() != pki.pooled_key(1).public_key().public_numbers()
    assert pki.pooled_key(0).key_size == 2048


def test_transport_ca_is_named_and_constrained_like_ecks() -> None:
    ca = pki.transport_ca("search", key=pki.pooled_key(0))
    assert ca.cert.subject.rfc4514_string() == "CN=search-transport,OU=search"
    assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    eku = list(ca.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    assert eku == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    assert pki.http_ca("search").cert.subject.rfc4514_string() == "CN=search-http,OU=search"


def test_transport_cert_has_the_eck_san_layout_with_rcs_names() -> None:
    # elastic/cloud-on-k8s pkg/controller/elasticsearch/certificates/transport/csr.go
    # @ 7b93383d8ec1569ba99bdf9e59ad70a813fe99f8 (buildGeneralNames)
    ca = pki.transport_ca("search", key=pki.pooled_key(0))
    leaf = pki.transport_cert(
        ca,
        "search",
        "prod",
        "search-es-hot-0",
        "hot",
        "10.1.2.3",
        rcs=True,
        extra_sans=["rcs.example.com", "203.0.113.9"],
        key=pki.pooled_key(1),
    )
    sans = _sans(leaf.cert)
    node = "search-es-hot-0.node.search.prod.es.local"
    assert sans.get_values_for_type(x509.DNSName) == [
        node,
        "search-es-transport.prod.svc",
        "search-es-hot-0.search-es-hot",
        "search-es-remote-cluster.prod.svc",
        "search-es-hot-0.search-es-hot.prod.svc",
        "rcs.example.com",
    ]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address(ip) for ip in ("10.1.2.3", "127.0.0.1", "203.0.113.9")
    ]
    other = sans.get_values_for_type(x509.OtherName)
    assert (
        other[0].type_id == pki.OTHER_NAME_OID
        and other[0].value == b"\x0c" + bytes([len(node)]) + node.encode()
    )
    assert leaf.cert.subject.rfc4514_string() == f"CN={node},OU=search"
    leaf.cert.verify_directly_issued_by(ca.cert)
    assert pki.load_certs(leaf.chain_pem) == [leaf.cert, ca.cert]


def test_transport_cert_without_rcs_has_no_remote_cluster_names() -> None:
    ca = pki.transport_ca("search", key=pki.pooled_key(0))
    leaf = pki.transport_cert(
        ca, "search", "prod", "search-es-hot-0", "hot", "10.1.2.3", key=pki.pooled_key(1)
    )
    assert not any("remote-cluster" in n for n in _sans(leaf.cert).get_values_for_type(x509.DNSName))


def test_other_name_suffix_replaces_the_node_name_suffix() -> None:
    ca = pki.transport_ca("search", key=pki.pooled_key(0))
    leaf = pki.transport_cert(ca, "search", "prod", "search-es-hot-0", "hot", "10.1.2.3",
                              key=pki.pooled_key(1), other_name_suffix="search.example.internal")
    assert _sans(leaf.cert).get_values_for_type(x509.DNSName)[0] == "search-es-hot-0.search.example.internal"
    assert leaf.cert.subject.rfc4514_string() == "CN=search-es-hot-0.search.example.internal,OU=search"


def test_http_cert_names_the_http_service() -> None:
    ca = pki.http_ca("search", key=pki.pooled_key(2))
    leaf = pki.http_cert(ca, "search", "prod", ips=["127.0.0.1", "127.9.9.9"], key=pki.pooled_key(3))
    assert _sans(leaf.cert).get_values_for_type(x509.DNSName) == [
        "search-es-http.prod.svc",
        "search-es-http.prod",
        "search-es-http.prod.svc.cluster.local",
        "search-es-http",
    ]
    assert ipaddress.ip_address("127.9.9.9") in _sans(leaf.cert).get_values_for_type(x509.IPAddress)


def test_expired_validity_makes_expired_certificates() -> None:
    begin, end = pki.expired_validity(days_ago=2)
    ca = pki.make_ca("old", not_before=begin, not_after=end, key=pki.pooled_key(0))
    assert ca.cert.not_valid_after_utc < pki.now()


def test_fingerprint_is_sha1_of_der() -> None:
    ca = pki.transport_ca("search", key=pki.pooled_key(0))
    assert len(pki.fingerprint_sha1(ca.cert)) == 40
    assert pki.load_certs(b"garbage") == []


def test_ingress_fake_certificate_is_self_signed() -> None:
    fake = pki.ingress_fake_cert(key=pki.pooled_key(4))
    assert "Kubernetes Ingress Controller Fake Certificate" in fake.cert.subject.rfc4514_string()
    assert fake.cert.issuer == fake.cert.subject
