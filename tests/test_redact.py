"""redact.py: secrets become sizes, fingerprints and key ids; certificates stay; nothing leaks."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
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


# --- redaction by content ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kept", "gone"), [
    ("bind_password: Hunter2-Pw ok", "bind_password: [redacted] ok", "Hunter2-Pw"),
    ("plugin says: token=Tok-Value-1 broke", "token=[redacted] broke", "Tok-Value-1"),
    ('{"password": "Js-Value-2"}', '"password": "[redacted]"', "Js-Value-2"),
    ("AWS_SECRET_ACCESS_KEY=Aws/Value+3", "AWS_SECRET_ACCESS_KEY=[redacted]", "Aws/Value+3"),
    ("--es-url https://elastic:Url-Pw-4@es:9200/?token=Q-Value-5&x=1", "https://[redacted]@es:9200/",
     "Url-Pw-4"),
    ("GET https://es:9200/_search?api_key=Q-Value-6", "?api_key=[redacted]", "Q-Value-6"),
    ("Authorization: Bearer Bearer-Value-7xyz", "Bearer [redacted]", "Bearer-Value-7xyz"),
    ("vault.hashicorp.com/agent-inject-token: s.Vault-8", "agent-inject-token: [redacted]", "s.Vault-8"),
])
def test_secret_looking_text_is_redacted_by_content(text: str, kept: str, gone: str) -> None:
    from kubectl_eckrc.redact import redact_content

    assert kept in redact_content(text) and gone not in redact_content(text)


@pytest.mark.parametrize("text", [
    "xpack.security.authc.token.enabled: true",
    "secretName: remote-api-keys",
    "author: someone",
    "cluster.remote.a.credentials: ::es_redacted::",
])
def test_switches_names_and_placeholders_are_not_secrets(text: str) -> None:
    from kubectl_eckrc.redact import redact_content

    assert redact_content(text) == text


def test_a_private_key_block_is_redacted_anywhere_in_text() -> None:
    from kubectl_eckrc.redact import redact_content

    text = "before\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIAbc\n-----END EC PRIVATE KEY-----\nafter"
    assert redact_content(text) == "before\n[redacted private key]\nafter"
    assert "MHcC" not in redact_content("-----BEGIN PRIVATE KEY-----\nMHcCAQEEIAbc")  # truncated too


def test_fingerprints_are_keyed_per_run_not_a_plain_sha256() -> None:
    import hashlib
    import subprocess
    import sys

    from kubectl_eckrc.redact import fingerprint

    value = b"a-guessable-password"
    assert fingerprint(value) == fingerprint(value)  # comparable within a run (and a bundle)
    assert fingerprint(value) != hashlib.sha256(value).hexdigest()[:16]
    code = "from kubectl_eckrc.redact import fingerprint; print(fingerprint(b'a-guessable-password'))"
    other_run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True).stdout.strip()
    assert other_run != fingerprint(value)


def test_every_leaf_of_a_nested_secret_value_is_known() -> None:
    import base64
    import json

    from kubectl_eckrc.redact import known_values, summarize_secret

    nested = {"a": [{"b": {"c": "Deep-Leaf-Value-1"}}, 12345678901]}
    summarize_secret({"metadata": {"name": "s", "namespace": "n"},
                      "data": {"conf.json": base64.b64encode(json.dumps(nested).encode()).decode(),
                               "conf.yml": base64.b64encode(b"x:\n  y: Yaml-Leaf-Value-2\n").decode()}})
    assert {"Deep-Leaf-Value-1", "12345678901", "Yaml-Leaf-Value-2"} <= set(known_values())


def test_a_fix_diff_never_prints_an_env_value_next_to_a_changed_line() -> None:
    from kubectl_eckrc.fix.diff import unified

    def es(mounts: list[str]) -> dict[str, object]:
        return {"kind": "Elasticsearch", "spec": {"podTemplate": {"spec": {"containers": [{
            "args": ["--password=Arg-Value-Next-Door"],
            "env": [{"name": "S3", "value": "Env-Value-Next-Door"}],
            "name": "elasticsearch",
            "volumeMounts": [{"mountPath": f"/{m}", "name": m} for m in mounts]}]}}}}

    text = unified(es([]), es(["remote-ca"]), "Elasticsearch ns/es")
    assert "+          name: remote-ca" in text and "value: <redacted>" in text  # env is context
    assert "Env-Value-Next-Door" not in text and "Arg-Value-Next-Door" not in text
def test_each_run_starts_with_its_own_secret_registry() -> None:
    redact.new_run()
    redact.remember("first-run-secret")
    assert redact.known_values() == ["first-run-secret"]
    assert redact.REDACTED in redact.scrub_known("x first-run-secret x")
    redact.new_run()
    assert redact.known_values() == []
    assert redact.scrub_known("x first-run-secret x") == "x first-run-secret x"
