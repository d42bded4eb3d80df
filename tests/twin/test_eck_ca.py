"""The twin's CA lifecycle against ECK's ca_reconcile.go rules (FIDELITY.md, ECK section)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.twin import eck_ca, pki

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
ROTATION = eck_ca.CaRotation()


def _clock() -> dt.datetime:
    return NOW


def _ca(ends_in: dt.timedelta, key_index: int = 0) -> pki.Issued:
    end = NOW + ends_in
    return pki.make_ca("remote-es-transport", "remote-es", not_before=end - dt.timedelta(days=365),
                       not_after=end, key=pki.pooled_key(key_index))


def test_a_ca_far_from_its_end_is_kept() -> None:
    ca = _ca(dt.timedelta(days=200))
    assert eck_ca.reconcile_ca(ca, "remote-es-transport", "remote-es", ROTATION, _clock).ca is ca


def test_a_ca_within_rotate_before_is_renewed_with_its_key_subject_and_key_identifier() -> None:
    old = _ca(dt.timedelta(hours=12))
    outcome = eck_ca.reconcile_ca(old, "remote-es-transport", "remote-es", ROTATION, _clock)
    new = outcome.ca.cert
    assert outcome.action == "renewed-same-key"
    assert new.public_key().public_numbers() == old.cert.public_key().public_numbers()
    assert new.subject == old.cert.subject
    assert eck_ca.subject_key_id(new) == eck_ca.subject_key_id(old.cert)
    assert new.not_valid_before_utc == NOW - dt.timedelta(minutes=10)
    assert new.not_valid_after_utc == NOW + dt.timedelta(days=365)
    assert new.serial_number != old.cert.serial_number


def test_an_expired_ca_with_its_key_is_renewed_too() -> None:
    outcome = eck_ca.reconcile_ca(_ca(-dt.timedelta(days=3)), "remote-es-transport", "remote-es", ROTATION,
                                  _clock)
    assert outcome.action == "renewed-same-key"


def test_a_ca_whose_key_does_not_match_or_not_yet_valid_is_replaced_with_a_new_key() -> None:
    good = _ca(dt.timedelta(days=200))
    mismatched = pki.Issued(good.cert, pki.pooled_key(1))
    outcome = eck_ca.reconcile_ca(mismatched, "remote-es-transport", "remote-es", ROTATION, _clock)
    assert outcome.action == "recreated"
    assert outcome.ca.cert.public_key().public_numbers() == outcome.ca.key.public_key().public_numbers()
    future = pki.make_ca("remote-es-transport", "remote-es", not_before=NOW + dt.timedelta(days=1),
                         not_after=NOW + dt.timedelta(days=300), key=pki.pooled_key(0))
    outcome = eck_ca.reconcile_ca(future, "remote-es-transport", "remote-es", ROTATION, _clock)
    assert outcome.action == "recreated"


def test_the_operator_refuses_a_rotate_before_longer_than_the_validity() -> None:
    with pytest.raises(ValueError, match="must be larger than"):
        eck_ca.CaRotation(validity=dt.timedelta(hours=1), rotate_before=dt.timedelta(hours=2))
