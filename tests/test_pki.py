"""PEM parsing, name matching and chain validation."""

from __future__ import annotations

import datetime as dt

import pytest

from kubectl_eckrc import pki
from tests.snapshot_builder import eck_leaf, make_ca, make_leaf

CA = make_ca("remote-es", "remote-ca")
LEAF = eck_leaf(CA)


def test_parse_pem_reads_every_certificate_of_a_bundle() -> None:
    other = make_ca("other-es", "other-ca")
    infos = pki.parse_pem("junk before\n" + CA.pem + other.pem)
    assert [i.subject for i in infos] == ["CN=remote-es-transport,OU=remote-es",
                                          "CN=other-es-transport,OU=other-es"]
    assert infos[0].is_ca and len(infos[0].sha256) == 64
    assert infos[0].not_after == "2027-01-01T00:00:00Z"


def test_parse_pem_refuses_text_without_certificates() -> None:
    with pytest.raises(pki.PemError, match="no PEM certificate"):
        pki.parse_pem("hello")
    with pytest.raises(pki.PemError, match="does not parse"):
        pki.parse_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


def test_leaf_sans_are_extracted_including_ips() -> None:
    info = LEAF.info
    assert "remote-es-es-remote-cluster.search.svc" in info.dns_names
    assert info.ip_addresses == ["127.0.1.1"]


def test_name_matching_handles_wildcards_and_ips() -> None:
    leaf = make_leaf(CA, "w", "remote-es", ["*.search.example.com"], ["127.0.0.10"], key_name="wild").info
    assert pki.matches_name(leaf, "rcs.search.example.com")
    assert not pki.matches_name(leaf, "a.b.search.example.com")
    assert pki.matches_name(leaf, "127.0.0.10")
    assert not pki.matches_name(leaf, "127.0.0.11")


def test_dns_name_validation() -> None:
    assert pki.valid_dns_name("remote-es-es-remote-cluster.search.svc")
    assert not pki.valid_dns_name("127.0.0.10")
    assert not pki.valid_dns_name("bad_name.example")
    assert not pki.valid_dns_name("-lead.example")
    assert pki.is_ip("::1") and pki.is_ip("[::1]")


def test_short_fingerprint() -> None:
    assert pki.short("4f1a" + "0" * 56 + "009b") == "4F1A…009B"


def test_short_fingerprints_keep_four_hex_digits_at_each_end_in_upper_case() -> None:
    assert pki.short("0123456789abcdef") == "0123\u2026CDEF"
    assert pki.short("0123456789") == "0123\u20266789"
    assert pki.short("abcdef01") == "ABCDEF01"  # eight digits or fewer are shown whole


def test_times_are_utc_and_a_naive_time_is_read_as_utc() -> None:
    moment = pki.parse_time("2026-06-01T02:00:00+02:00")
    assert pki.iso(moment) == "2026-06-01T00:00:00Z"
    assert pki.parse_time("2026-06-01T00:00:00") == dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert pki.parse_time("2026-06-01T00:00:00Z").tzinfo is not None


def test_cert_info_carries_both_validity_dates() -> None:
    info = make_ca("remote-es", "remote-ca").info
    assert info.not_before == "2026-01-01T00:00:00Z" and info.not_after > info.not_before


def test_dns_names_are_judged_label_by_label() -> None:
    assert pki.valid_dns_name("remote.example.com.")  # a trailing dot is the root
    assert not pki.valid_dns_name("remote.example.123")  # a numeric top-level label is no host name
    assert pki.valid_dns_name("123.example.com")
    assert not pki.valid_dns_name("." + "a" * 60)
    assert pki.valid_dns_name(".".join(["a" * 63] * 3) + "." + "a" * 61)  # 253 characters
    assert not pki.valid_dns_name(".".join(["a" * 63] * 3) + "." + "a" * 62)  # 254
    assert not pki.valid_dns_name("[::1]") and not pki.valid_dns_name("")


def test_names_match_sans_ignoring_case_and_a_trailing_dot_and_ips_in_brackets() -> None:
    ca = make_ca("remote-es", "remote-ca")
    leaf = make_leaf(ca, "n", "remote-es", ["Remote.Example.com.", "*.lb.example.com"], ["::1"]).info
    assert pki.matches_name(leaf, "remote.example.com")
    assert pki.matches_name(leaf, "REMOTE.example.com.")
    assert pki.matches_name(leaf, "a.lb.example.com") and not pki.matches_name(leaf, "a.b.lb.example.com")
    assert pki.matches_name(leaf, "[::1]") and not pki.matches_name(leaf, "::2")


def test_a_chain_through_an_intermediate_leads_to_the_root() -> None:
    root = make_ca("remote-es", "remote-ca")
    intermediate = make_ca("remote-es-int", "other-ca")  # not signed by root: no path
    leaf = eck_leaf(root)
    assert pki.issued_by(leaf.info, [intermediate.info, root.info]) == root.info
    assert pki.chain_from([intermediate.info, leaf.info], [root.info])
    assert not pki.chain_from([intermediate.info], [root.info])


def test_the_issuer_is_found_among_cas_of_the_same_name_by_signature() -> None:
    old, current = make_ca("remote-es", "old-key"), make_ca("remote-es", "remote-ca")
    other = make_ca("other-es", "other-ca")
    leaf = eck_leaf(current)
    assert old.info.subject == current.info.subject
    assert pki.issued_by(leaf.info, [other.info, old.info, current.info]) == current.info
    assert pki.issued_by(leaf.info, [other.info, old.info]) is None
