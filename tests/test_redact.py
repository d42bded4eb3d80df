"""redact.py: secrets become sizes, fingerprints and key ids; certificates stay; nothing leaks."""

from __future__ import annotations

import base64
import datetime as dt
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubectl_eckrc import redact
from kubectl_eckrc.snapshot import SecretSummary

KEY_ID = "VuaCfGcBCdbkQm-e5aOx"
API_KEY = "ui2lp2axTNmsyakw9tvNnw"
ENCODED = base64.b64encode(f"{KEY_ID}:{API_KEY}".encode()).decode()


def _b64(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode()


def self_signed(cn: str = "remote-es-transport") -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("remote.example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def test_encoded_credential_is_well_formed_and_reduced_to_its_key_id() -> None:
    info = redact.credential_info(ENCODED.encode())
    assert info.well_formed and info.key_id == KEY_ID and info.problem == ""
    assert API_KEY not in json.dumps(info.__dict__)


def test_raw_api_key_stored_instead_of_encoded_is_not_an_id_key_pair() -> None:
    info = redact.credential_info(API_KEY.encode())
    assert not info.well_formed and info.key_id == ""
    assert info.problem in ("not base64", "decodes to no 'id:key' pair")


def test_damaged_base64_credential_is_not_base64() -> None:
    assert redact.credential_info(b"%%%not-base64%%%").problem == "not base64"


def test_secret_summary_keeps_certificates_and_no_secret_value() -> None:
    cert_pem, key_pem = self_signed()
    secret = {
        "metadata": {"name": "remote-api-keys", "labels": {"a": "b"}},
        "type": "Opaque",
        "data": {
            "cluster.remote.remote-es.credentials": _b64(ENCODED),
            "ca.crt": _b64(cert_pem),
            "tls.key": _b64(key_pem),
            "elastic": _b64("s3cr3t-password-value"),
        },
    }
    summary = redact.summarize_secret(secret)
    assert isinstance(summary, SecretSummary)
    dumped = json.dumps(summary, default=lambda o: o.__dict__)
    for value in (ENCODED, API_KEY, "s3cr3t-password-value", key_pem.splitlines()[1]):
        assert value not in dumped
    assert summary.keys["ca.crt"].certificates[0].subject == "CN=remote-es-transport"
    assert summary.keys["ca.crt"].certificates[0].dns_names == ["remote.example"]
    assert summary.keys["tls.key"].certificates == []
    assert summary.keys["cluster.remote.remote-es.credentials"].credential is not None
    assert summary.keys["elastic"].size == len("s3cr3t-password-value")


def test_unparseable_pem_is_reported_not_raised() -> None:
    secret = {"metadata": {"name": "ca"}, "data": {"ca.crt": _b64("-----BEGIN CERTIFICATE-----\nAAAA\n")}}
    key = redact.summarize_secret(secret).keys["ca.crt"]
    assert key.pem_error and key.certificates == []


def test_scrub_known_blanks_every_secret_seen() -> None:
    redact.secret_value({"data": {"elastic": _b64("another-secret-pw")}}, "elastic")
    text = "login failed for elastic:another-secret-pw at host"
    assert "another-secret-pw" not in redact.scrub_known(text)
    assert redact.REDACTED in redact.scrub_known(text)


def test_scrub_ignores_short_values_that_would_blank_words() -> None:
    assert redact.scrub("the cat sat", ["cat"]) == "the cat sat"
