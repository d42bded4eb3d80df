"""jdk_trust.py, the rules ECKRC304 and ECKRC305 judge by: the JDK's verdict on a presented chain and
on the names it is checked against. The differential test (tests/twin/test_tls_corpus.py) holds
these rules to a real JDK; these unit tests state them one by one, so a change fails fast."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubectl_eckrc import jdk_trust, pki
from kubectl_eckrc.snapshot import CertInfo
from tests.snapshot_builder import Issued, key, make_ca, make_leaf

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _cert(cn: str, signer: Issued | None = None, *, ca: bool = False, key_name: str = "",
          dns: list[str] | None = None, ips: list[str] | None = None, san: bool = True,
          eku: list[x509.ObjectIdentifier] | None = None, digital_signature: bool = True,
          days: int = 365) -> Issued:
    """A certificate with exactly the extensions a rule looks at."""
    private = key(key_name or cn)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer = signer.cert.subject if signer else name
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
               .public_key(private.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=digital_signature, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=ca, crl_sign=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(private.public_key()),
                              critical=False))
    if signer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()), critical=False)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns or []]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips or []]
    if san and names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(builder.sign(signer.key if signer else private, hashes.SHA256()), private)


def _info(issued: Issued) -> CertInfo:
    return pki.cert_info(issued.cert)


# --- server_name and host names -------------------------------------------------------------------


def test_server_name_must_be_a_host_name_the_jdk_accepts_as_sni() -> None:
    assert jdk_trust.server_name_error("") == "Server name value of host_name cannot be empty"
    assert jdk_trust.server_name_error("es.example.") == (
        "Server name value of host_name cannot have the trailing dot")
    assert jdk_trust.server_name_error("es_1.example") == "Contains non-LDH ASCII characters"
    assert jdk_trust.server_name_error("es..example") == "Contains non-LDH ASCII characters"
    assert jdk_trust.server_name_error("Es-1.example.COM") == ""
    assert jdk_trust.server_name_error("10.0.0.1") == ""


def test_dns_names_match_with_a_wildcard_in_the_left_most_label_only() -> None:
    templates = ["*.wild.example", "a*c.mid.example", "pre*.pre.example", "*suf.suf.example",
                 "Exact.Example", "*", "*.", "bad*", "x*.", "a*b*c.two.example", "in_valid.example"]
    leaf = _info(_cert("leaf", dns=templates))

    def accepted(name: str) -> bool:
        return jdk_trust.name_error(leaf, name) == ""

    assert accepted("one.wild.example") and accepted("ONE.Wild.Example")
    assert not accepted("two.one.wild.example") and not accepted("wild.example")
    assert accepted("abc.mid.example") and accepted("ac.mid.example") and not accepted("ab.mid.example")
    assert accepted("prefix.pre.example") and not accepted("xpre.pre.example")
    assert accepted("thesuf.suf.example") and not accepted("sufx.suf.example")
    assert accepted("exact.example")
    assert accepted("axbyc.two.example") and accepted("abc.two.example") and not accepted("acb.two.example")
    for name in ("anything", "bad1", "x1"):
        assert jdk_trust.name_error(leaf, name) == f"No subject alternative DNS name matching {name} found."
    assert jdk_trust.name_error(leaf, "in_valid.example") == "Illegal given domain name: in_valid.example"


def test_ip_names_need_an_ip_san() -> None:
    with_ip = _info(_cert("ip", dns=["10.0.0.1.example"], ips=["10.0.0.1", "fd00::1"]))
    assert jdk_trust.name_error(with_ip, "10.0.0.1") == ""
    assert jdk_trust.name_error(with_ip, "[fd00::1]") == ""
    assert jdk_trust.name_error(with_ip, "fd00:0:0::1") == ""
    assert jdk_trust.name_error(with_ip, "10.0.0.2") == (
        "No subject alternative names matching IP address 10.0.0.2 found")
    no_san = _info(_cert("10.0.0.1", san=False))
    assert jdk_trust.name_error(no_san, "10.0.0.1") == "No subject alternative names present"
    other_san = _info(make_leaf(make_ca("es", "ca-other-san"), "10.0.0.1", "es", []))  # only an otherName SAN
    assert jdk_trust.name_error(other_san, "10.0.0.1") == (
        "No subject alternative names matching IP address 10.0.0.1 found")
    dns_only = _info(_cert("dns", dns=["es.example"]))
    assert jdk_trust.name_error(dns_only, "10.0.0.1") == (
        "No subject alternative names matching IP address 10.0.0.1 found")


def test_without_dns_sans_the_common_name_is_checked() -> None:
    ip_only = _info(_cert("node.example", ips=["10.0.0.1"]))
    assert jdk_trust.name_error(ip_only, "NODE.example") == ""
    assert jdk_trust.name_error(ip_only, "other.example") == "No name matching other.example found"
    wildcard_cn = _info(_cert("*.cn.example", san=False))
    assert jdk_trust.name_error(wildcard_cn, "a.cn.example") == ""


def test_the_sni_name_is_checked_first_then_the_address_host() -> None:
    leaf = _info(_cert("leaf", dns=["es.example"], ips=["10.0.0.1"]))
    assert jdk_trust.identity_error(leaf, "es.example", "10.0.0.9") == ""
    assert jdk_trust.identity_error(leaf, "other.example", "10.0.0.1") == ""
    assert jdk_trust.identity_error(leaf, "other.example", "10.0.0.9") == (
        "No subject alternative names matching IP address 10.0.0.9 found")
    assert jdk_trust.identity_error(leaf, "other.example", "OTHER.example") == (
        "No subject alternative DNS name matching other.example found.")
    assert jdk_trust.identity_error(leaf, "", "10.0.0.1") == ""
    assert jdk_trust.identity_error(leaf, "", "10.0.0.9") == (
        "No subject alternative names matching IP address 10.0.0.9 found")


def test_a_server_certificate_must_allow_signatures_and_tls_server_use() -> None:
    no_signature = _info(_cert("no-sign", digital_signature=False))
    assert jdk_trust.end_entity_error(no_signature) == jdk_trust.EE_KEY_USAGE
    client = _info(_cert("client", eku=[ExtendedKeyUsageOID.CLIENT_AUTH]))
    assert jdk_trust.end_entity_error(client) == jdk_trust.EE_EKU
    any_use = _info(_cert("any", eku=[ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]))
    assert jdk_trust.end_entity_error(any_use) == ""
    assert jdk_trust.end_entity_error(_info(_cert("server", eku=[ExtendedKeyUsageOID.SERVER_AUTH]))) == ""
    assert jdk_trust.end_entity_error(_info(_cert("no-eku"))) == ""


# --- path validation ----------------------------------------------------------------------------


def test_a_chain_validates_to_an_anchor_through_presented_intermediates() -> None:
    root = _cert("root", ca=True)
    inter = _cert("inter", root, ca=True)
    leaf = _cert("leaf", inter)
    path = [_info(leaf), _info(inter)]
    assert jdk_trust.path_error(path, [_info(root)], AT) == ""
    assert jdk_trust.path_error(path, [_info(inter)], AT) == ""  # an intermediate may be the anchor
    assert jdk_trust.path_error([_info(leaf)], [_info(leaf)], AT) == ""  # the leaf itself is trusted
    assert jdk_trust.path_error([], [_info(root)], AT) == "null or zero-length certificate chain"
    assert jdk_trust.path_error(path, [_info(_cert("stranger", ca=True))], AT) == jdk_trust.PKIX_BUILD


def test_a_chain_out_of_order_is_built_from_the_presented_certificates() -> None:
    root = _cert("root", ca=True)
    inter = _cert("inter", root, ca=True)
    leaf = _cert("leaf", inter)
    noise = _cert("noise", ca=True)
    chain = [_info(leaf), _info(noise), _info(inter)]
    assert jdk_trust.path_error(chain, [_info(root)], AT) == ""
    assert jdk_trust.path_error(chain, [_info(_cert("stranger", ca=True))], AT) == jdk_trust.PKIX_BUILD
    other_root = _cert("root", ca=True, key_name="another root key")  # same name, another key
    assert jdk_trust.path_error(chain, [_info(other_root), _info(root)], AT) == ""
    assert jdk_trust.path_error(chain, [_info(other_root)], AT) == jdk_trust.PKIX_BUILD


def test_a_chain_out_of_order_with_an_expired_intermediate_finds_no_valid_path() -> None:
    root = _cert("root", ca=True)
    inter = _cert("inter", root, ca=True, days=30)
    leaf = _cert("leaf", inter)
    chain = [_info(leaf), _info(_cert("noise", ca=True)), _info(inter)]
    assert jdk_trust.path_error(chain, [_info(root)], AT) == jdk_trust.PKIX_BUILD
    assert jdk_trust.path_error([_info(leaf), _info(inter)], [_info(root)], AT) == jdk_trust.VALIDITY


def test_a_built_path_ends_at_an_anchor_that_must_be_a_ca() -> None:
    root = _cert("root", ca=True)
    inter = _cert("inter", root, ca=True)
    leaf = _cert("leaf", inter)
    not_a_ca_root = Issued(_cert("root", ca=False).cert, root.key)
    chain = [_info(leaf), _info(_cert("noise", ca=True)), _info(inter)]
    anchor_error = jdk_trust.path_error(chain, [_info(not_a_ca_root)], AT)
    assert anchor_error.startswith("PKIX path validation failed: sun.security.validator.ValidatorException: "
                                   'TrustAnchor with subject "CN=root"')
