"""ECKRC410-413: strong identity verification, judged from the snapshot alone."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization

from kubectl_eckrc.checks.identity import (
    identity_versions,
    local_signs,
    remote_trusts_signer,
    signer_matches_identity,
)
from kubectl_eckrc.checks.spec import NotEvaluated
from kubectl_eckrc.findings import Status
from kubectl_eckrc.redact import private_key_info
from kubectl_eckrc.snapshot import Unavailable
from tests.checks import identity_setups
from tests.checks.identity_setups import (
    SIGNER_DN,
    key_identity,
    set_signing_secret,
    signing_pair,
    unsigned,
    untrusted,
)
from tests.snapshot_builder import ALIAS, healthy_pair, make_ca, make_leaf

ALL = (identity_versions, local_signs, remote_trusts_signer, signer_matches_identity)


def test_a_complete_setup_passes_every_identity_check() -> None:
    snap = signing_pair().build()
    assert [c(snap, ALIAS).status for c in ALL] == [Status.PASS] * 4


def test_a_link_without_strong_identity_is_not_concerned() -> None:
    snap = healthy_pair().build()
    assert {c(snap, ALIAS).status for c in ALL} == {Status.NOT_APPLICABLE}


def test_a_pattern_the_signer_does_not_match_names_both() -> None:
    pair = signing_pair()
    key_identity(pair, "^cn=local-es-signing,ou=logging$")  # Java regexes are case-sensitive
    verdict = signer_matches_identity(pair.build(), ALIAS)
    assert verdict.status is Status.FAIL
    assert SIGNER_DN in verdict.message and "^cn=local-es-signing,ou=logging$" in verdict.message


def test_a_key_asking_for_an_identity_needs_a_signing_local_side() -> None:
    verdict = local_signs(unsigned(signing_pair()).build(), ALIAS)
    assert verdict.status is Status.FAIL and SIGNER_DN in verdict.message


def test_signing_settings_on_one_nodeset_only() -> None:
    pair = signing_pair()
    warm = pair.local.es["spec"]["nodeSets"][1]
    warm["config"] = {k: v for k, v in warm["config"].items() if ".signing." not in k}
    verdict = local_signs(pair.build(), ALIAS)
    assert verdict.status is Status.FAIL and verdict.evidence["unsigned"] == ["warm"]


def test_a_key_that_is_not_the_certificates_is_caught_offline() -> None:
    pair = signing_pair()
    ca = make_ca("local-es", "signing-ca", subject_cn="local-es-signing-ca")
    other = make_leaf(ca, "local-es-signing", "logging", [], key_name="other-signing")
    set_signing_secret(pair, make_leaf(ca, "local-es-signing", "logging", [], key_name="signing"), other)
    verdict = local_signs(pair.build(), ALIAS)
    assert verdict.status is Status.FAIL and "is not the key of certificate" in verdict.message


def test_a_signing_certificate_close_to_expiry_warns() -> None:
    pair = signing_pair(start=dt.datetime(2025, 6, 20, tzinfo=dt.UTC), days=356)  # taken 2026-06-01
    assert local_signs(pair.build(), ALIAS).status is Status.WARN


def test_an_untrusted_signer_names_its_issuer() -> None:
    verdict = remote_trusts_signer(untrusted(signing_pair()).build(), ALIAS)
    assert verdict.status is Status.FAIL and "CN=local-es-signing-ca,OU=local-es" in verdict.hint


def test_a_remote_trusting_another_ca_fails() -> None:
    pair = signing_pair()
    pair.remote.configmaps["local-es-signing-ca"]["data"]["ca.crt"] = make_ca("x", "other-ca").pem
    assert remote_trusts_signer(pair.build(), ALIAS).status is Status.FAIL


def test_a_remote_older_than_9_3_fails_when_identity_is_used() -> None:
    pair = signing_pair()
    pair.remote.info["version"]["number"] = "9.2.4"
    verdict = identity_versions(pair.build(), ALIAS)
    assert verdict.status is Status.FAIL and "remote 9.2.4" in verdict.message


def test_a_private_key_summary_holds_no_key_material() -> None:
    issued = make_leaf(make_ca("a", "signing-ca"), "s", "o", [], key_name="signing")
    pem = issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    info = private_key_info(pem)
    assert info.parses and info.algorithm == "EC" and len(info.public_sha256) == 64
    assert "PRIVATE" not in repr(info)
    encrypted = issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"pass"))
    assert private_key_info(encrypted).problem.startswith("encrypted")


def test_an_unreadable_signing_secret_is_not_judged() -> None:
    pair = signing_pair()
    pair.local.secrets["local-es-signing"] = Unavailable("403 Forbidden: get secrets", "forbidden")
    with pytest.raises(NotEvaluated, match="cannot read the signing files"):
        local_signs(pair.build(), ALIAS)


def test_a_remote_trusting_signers_for_other_links_does_not_concern_this_one() -> None:
    pair = signing_pair()
    identity_setups.key_identity(pair, None)
    identity_setups.unsigned(pair)
    snap = pair.build()
    assert {c(snap, ALIAS).status for c in ALL} == {Status.NOT_APPLICABLE}
