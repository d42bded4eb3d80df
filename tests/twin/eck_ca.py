"""ECK's CA lifecycle (`pkg/controller/common/certificates/ca_reconcile.go`), for the transport CA.

ECK keeps each CA in `<es>-es-<type>-ca-internal` (`tls.crt`, `tls.key`) and, at every reconcile:
- creates one (new RSA key) when the Secret is missing or does not parse;
- reuses it while its key matches its certificate, it is valid now and it does not expire within
  `--ca-cert-rotate-before` (default 24 h; `CanReuseCA`);
- when it expires within that margin and has a private key: issues a new certificate with the
  same key, subject and Subject Key Identifier (`renewCAFromExisting`), valid for
  `--ca-cert-validity` (default 365 days) from 10 minutes ago (`NewSelfSignedCA`);
- otherwise (key mismatch, not yet valid): a new CA with a new key.
Leaves are reissued only when no longer signed by the current CA (signature and AKI = SKI,
`CertIsSignedByCA`) or near their own expiry: a same-key renewal leaves them as they are.

`clock` is the operator's: a scenario may start it in the past ("the CA was issued a year ago").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.twin import pki

DEFAULT_VALIDITY = dt.timedelta(days=365)  # certificates.DefaultCertValidity
DEFAULT_ROTATE_BEFORE = dt.timedelta(hours=24)  # certificates.DefaultRotateBefore
BACKDATE = dt.timedelta(minutes=10)  # NewSelfSignedCA: NotBefore = now - 10 minutes


@dataclass(frozen=True)
class CaRotation:
    """The operator's `--ca-cert-validity` and `--ca-cert-rotate-before`."""

    validity: dt.timedelta = DEFAULT_VALIDITY
    rotate_before: dt.timedelta = DEFAULT_ROTATE_BEFORE

    def __post_init__(self) -> None:
        if self.rotate_before > self.validity:  # cmd/manager/validation.go refuses to start
            raise ValueError("--ca-cert-validity must be larger than --ca-cert-rotate-before")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CaOutcome:
    ca: pki.Issued
    action: str  # kept | created | renewed-same-key | recreated


def reconcile_ca(existing: pki.Issued | None, cn: str, ou: str, rotation: CaRotation,
                 clock: Callable[[], dt.datetime] = utc_now) -> CaOutcome:
    """ECK's `ReconcileCAForOwner` decision for one CA."""
    now = clock()
    if existing is None:
        return CaOutcome(_issue(cn, ou, rotation, now), "created")
    if _can_reuse(existing, rotation, now):
        return CaOutcome(existing, "kept")
    if isinstance(existing.key, rsa.RSAPrivateKey) and _expiring(existing.cert, rotation, now):
        return CaOutcome(_issue(cn, ou, rotation, now, existing.key, subject_key_id(existing.cert)),
                         "renewed-same-key")
    return CaOutcome(_issue(cn, ou, rotation, now), "recreated")


def subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _can_reuse(ca: pki.Issued, rotation: CaRotation, now: dt.datetime) -> bool:
    key_matches = ca.cert.public_key().public_numbers() == ca.key.public_key().public_numbers()
    valid_now = now >= ca.cert.not_valid_before_utc
    return key_matches and valid_now and not _expiring(ca.cert, rotation, now)


def _expiring(cert: x509.Certificate, rotation: CaRotation, now: dt.datetime) -> bool:
    return now > cert.not_valid_after_utc - rotation.rotate_before


def _issue(cn: str, ou: str, rotation: CaRotation, now: dt.datetime, key: rsa.RSAPrivateKey | None = None,
           ski: bytes | None = None) -> pki.Issued:
    return pki.make_ca(cn, ou, not_before=now - BACKDATE, not_after=now + rotation.validity, key=key,
                       subject_key_id=ski)
