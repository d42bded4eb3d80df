"""redact.py: secrets become sizes, fingerprints and key ids; certificates stay; nothing leaks."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubectl_eckrc import redact
from kubectl_eckrc.snapshot import CredentialInfo, SecretSummary

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


# --- what a Secret becomes, key by key ---------------------------------------------------------------


def test_a_secret_summary_names_the_secret_its_type_labels_and_owners() -> None:
    secret = {"metadata": {"name": "keys", "namespace": "logging", "labels": {"app": "es"},
                           "ownerReferences": [{"kind": "Elasticsearch"}, {"name": "no-kind"}]},
              "type": "kubernetes.io/tls", "data": {"k": _b64("value-of-k")}}
    summary = redact.summarize_secret(secret)
    assert (summary.name, summary.type, summary.labels, summary.owner_kinds) == (
        "keys", "kubernetes.io/tls", {"app": "es"}, ["Elasticsearch", ""])
    bare = redact.summarize_secret({"data": {}})
    assert (bare.name, bare.type, bare.labels, bare.owner_kinds, bare.keys) == ("", "Opaque", {}, [], {})


def test_each_secret_value_is_remembered_with_where_it_was_read() -> None:
    redact.new_run()
    redact.summarize_secret({"metadata": {"name": "keys", "namespace": "logging"},
                             "data": {"token": _b64("Token-Value-1"),
                                      "conf.json": _b64('{"a": "Nested-Value-2"}')}})
    redact.summarize_secret({"metadata": {"name": "bare"}, "data": {"pw": _b64("Password-Value-3")}})
    assert redact.origin_of("Token-Value-1") == "the value of Secret logging/keys key token"
    assert redact.origin_of("Nested-Value-2") == (
        "a value nested in the value of Secret logging/keys key conf.json")
    assert redact.origin_of("Password-Value-3") == "the value of Secret bare key pw"
    assert redact.origin_of("never-seen") == ""


def test_a_value_keeps_the_first_place_it_was_read_and_short_values_are_not_scrubbed() -> None:
    redact.new_run()
    redact.remember("Shared-Value-1", "first place")
    redact.remember("Shared-Value-1", "second place")
    redact.remember("short")
    redact.remember(b"sixsix")
    assert redact.origin_of("Shared-Value-1") == "first place"
    assert redact.known_values() == ["Shared-Value-1", "sixsix"]
    assert redact.scrub_known("a short sixsix") == f"a short {redact.REDACTED}"


def test_the_base64_form_of_a_value_seen_is_scrubbed_too() -> None:
    redact.new_run()
    redact.remember("Base64-Me-Value")
    assert redact.scrub_known(f"saw {_b64('Base64-Me-Value')} here") == f"saw {redact.REDACTED} here"
    assert redact.known_values() == ["Base64-Me-Value"]


def test_scrub_blanks_the_longest_secret_first() -> None:
    assert redact.scrub("pw=abcdef-ghijkl", ["abcdef", "abcdef-ghijkl"]) == f"pw={redact.REDACTED}"
    assert redact.scrub("six=123456", ["123456"]) == f"six={redact.REDACTED}"


def test_a_credential_that_is_not_an_id_key_pair_says_why() -> None:
    def problem(text: str) -> str:
        return redact.credential_info(text.encode()).problem

    assert problem(_b64("no-separator")) == "decodes to no 'id:key' pair"
    assert problem(_b64(":key-without-id")) == "decodes to no 'id:key' pair"
    assert problem(_b64("id-without-key:")) == "decodes to no 'id:key' pair"
    assert problem(_b64("id\x01:key")) == "decodes to no 'id:key' pair"
    assert problem(_b64("id:key:more")) == "decodes to no 'id:key' pair"
    assert problem("not base64!") == "not base64"
    assert problem(_b64(b"\xff\xfe:key")) == "not base64"  # not UTF-8 once decoded
    info = redact.credential_info(f" {ENCODED}\n".encode())
    assert (info.well_formed, info.problem, info.key_id, info.sha256) == (
        True, "", KEY_ID, redact.fingerprint(f" {ENCODED}\n".encode()))
    bad = redact.credential_info(b"not base64!")
    assert (bad.well_formed, bad.key_id, bad.sha256) == (False, "", redact.fingerprint(b"not base64!"))


def test_a_credential_and_its_api_key_are_remembered_for_scrubbing() -> None:
    redact.new_run()
    redact.credential_info(ENCODED.encode())
    assert redact.known_values() == sorted([ENCODED, API_KEY])
    assert API_KEY not in redact.scrub_known(f"key {API_KEY} refused")


def test_a_key_named_as_a_credential_by_secure_settings_entries_is_a_credential() -> None:
    secret = {"metadata": {"name": "s"}, "data": {"remote-key": _b64(ENCODED), "other": _b64(ENCODED)}}
    summary = redact.summarize_secret(secret, frozenset({"remote-key"}))
    assert summary.keys["remote-key"].credential is not None
    assert summary.keys["remote-key"].credential.key_id == KEY_ID
    assert summary.keys["other"].credential is None
    assert summary.keys["other"].size == len(ENCODED)
    assert summary.keys["other"].sha256 == redact.fingerprint(ENCODED.encode())


def test_a_certificate_with_its_private_key_keeps_the_certificate_and_remembers_the_key() -> None:
    redact.new_run()
    cert_pem, key_pem = self_signed()
    key = redact.summarize_secret({"metadata": {"name": "tls", "namespace": "n"},
                                   "data": {"tls.pem": _b64(cert_pem + key_pem)}}).keys["tls.pem"]
    assert [c.subject for c in key.certificates] == ["CN=remote-es-transport"] and key.pem_error == ""
    assert key_pem.strip() in redact.known_values()
    assert redact.origin_of(cert_pem + key_pem) == "the value of Secret n/tls key tls.pem"
    assert cert_pem not in redact.known_values()  # a certificate alone is public


def test_a_pem_that_does_not_parse_is_reported_with_the_parser_message() -> None:
    secret = {"data": {"ca.crt": _b64("-----BEGIN CERTIFICATE-----\nAAAA\n")}}
    key = redact.summarize_secret(secret).keys["ca.crt"]
    prefix = "PEM does not parse: "
    assert key.pem_error.startswith(prefix) and len(key.pem_error) > len(prefix)
    assert "\n" not in key.pem_error


def test_certificate_details_are_kept_from_pem_and_der_alike() -> None:
    cert_pem, _ = self_signed("Details CA")
    [from_pem] = redact.certs_from_pem(cert_pem.encode())
    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    assert redact.cert_from_der(der) == from_pem
    assert (from_pem.subject, from_pem.issuer, from_pem.is_ca, from_pem.dns_names, from_pem.ip_addresses) == (
        "CN=Details CA", "CN=Details CA", True, ["remote.example"], [])
    assert from_pem.pem == cert_pem and len(from_pem.sha256) == 64
    assert from_pem.not_after.endswith("Z") and from_pem.not_before < from_pem.not_after


def test_a_certificate_without_extensions_is_no_ca_and_names_nothing() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plain")])
    start = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(2).not_valid_before(start).not_valid_after(start + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    info = redact.cert_info(cert)
    assert (info.is_ca, info.dns_names, info.ip_addresses) == (False, [], [])
    assert (info.not_before, info.not_after) == ("2026-01-02T03:04:05Z", "2026-01-03T03:04:05Z")
    assert info.sha256 == cert.fingerprint(hashes.SHA256()).hex()


def test_secret_data_decodes_base64_and_string_data_and_bad_base64_is_empty() -> None:
    assert redact.decode_data({"data": {"a": _b64("A-value"), "bad": "%%%", "none": None, "loose": "YQ"},
                               "stringData": {"s": "plain", "n": 5}}) == {
        "a": b"A-value", "bad": b"", "none": b"", "loose": b"", "s": b"plain", "n": b"5"}


def test_the_one_raw_value_handed_out_is_remembered() -> None:
    redact.new_run()
    assert redact.secret_value({"data": {"elastic": _b64("Elastic-Pw-1")}}, "elastic") == "Elastic-Pw-1"
    assert redact.secret_value({"data": {}}, "elastic") is None
    assert redact.known_values() == ["Elastic-Pw-1"]


# --- nested values, URLs, text --------------------------------------------------------------------


def test_only_leaves_of_json_or_yaml_values_are_remembered_on_their_own() -> None:
    redact.new_run()
    redact.remember_nested(b'  [{"a": "Json-Leaf-1", "b": true, "c": 123456.5, "d": null}]')
    redact.remember_nested(b"key: Yaml-Leaf-2\nlist: [Yaml-Leaf-3]")
    redact.remember_nested(b"  [Flow-List-4, Flow-List-5]")
    redact.remember_nested(b"just some plain text without structure")
    redact.remember_nested(b"key: [unclosed")
    redact.remember_nested(b'{"a": "Bad-\xff-Leaf"}')
    assert redact.known_values() == ["123456.5", "Bad-\ufffd-Leaf", "Flow-List-4", "Flow-List-5",
                                     "Json-Leaf-1", "Yaml-Leaf-2", "Yaml-Leaf-3"]
    assert redact.origin_of("Json-Leaf-1") == ""  # no origin given, none invented


def test_nested_leaves_are_read_to_depth_64_without_losing_siblings() -> None:
    redact.new_run()
    deep = {"shallow": ["Sibling-Leaf-1", {"k": "Dict-Leaf-2"}],
            "list": {"a": "Sibling-Leaf-3", "b": ["List-Leaf-4"]},
            "at64": json.loads("[" * 63 + '"Depth-64-Leaf"' + "]" * 63),  # the map is one level
            "at65": json.loads("[" * 64 + '"Depth-65-Leaf"' + "]" * 64)}
    redact.remember_nested(json.dumps(deep).encode())
    assert redact.known_values() == ["Depth-64-Leaf", "Dict-Leaf-2", "List-Leaf-4", "Sibling-Leaf-1",
                                     "Sibling-Leaf-3"]


def test_url_passwords_and_query_values_are_secrets_of_the_run() -> None:
    redact.new_run()
    redact.remember_url("https://elastic:Url-Password-1@es.example:9200/?token=Query-Value-2&x=Query-Value-3")
    redact.remember_url("https://es.example:9200/")
    assert redact.known_values() == ["Query-Value-2", "Query-Value-3", "Url-Password-1"]
    assert redact.redact_url("https://u:Url-Password-1@es/?a=Query-Value-2") == (
        f"https://{redact.REDACTED}@es/?a={redact.REDACTED}")
    assert redact.scrub_text("saw Query-Value-3 and password=Other-9") == (
        f"saw {redact.REDACTED} and password={redact.REDACTED}")


def test_query_strings_keep_their_names_and_lose_every_value() -> None:
    assert redact.redact_content("GET https://es/_x?a=1&flag&c=x=y done") == (
        f"GET https://es/_x?a={redact.REDACTED}&flag&c={redact.REDACTED} done")


@pytest.mark.parametrize("text", [
    "password: TRUE", "token=null", "secret: False", 'password: "<redacted>"', "password: '::es_redacted::'",
    "xpack.security.authc.password_hashing.algorithm: pbkdf2", "secret/config: plain",
])
def test_booleans_placeholders_and_names_that_merely_contain_a_secret_word_are_kept(text: str) -> None:
    assert redact.redact_content(text) == text


def test_an_unquoted_secret_value_is_blanked_whole() -> None:
    assert redact.redact_content("password: Xenon-Value") == f"password: {redact.REDACTED}"
    assert redact.redact_content("password: 'Quoted Value'") == f"password: '{redact.REDACTED}'"


# --- Kubernetes objects ----------------------------------------------------------------------------


def test_objects_lose_env_values_secret_annotations_and_secret_named_fields() -> None:
    pod = {"metadata": {"annotations": {redact.LAST_APPLIED: '{"kind": "Pod"}', "vault/agent-token": "t-1",
                                        "team": "search", "note": "password=Note-Pw-1"}},
           "spec": {"containers": [{"env": [{"name": "PW", "value": "Env-Value-1"},
                                            {"name": "REF", "valueFrom": {"secretKeyRef": {"name": "s"}}},
                                            "odd-entry"],
                                    "args": ["--token=Arg-Token-1"], "replicas": 3}],
                    "password": "Field-Pw-1", "apiKey": "", "credentials": redact.ES_REDACTED,
                    "passwordEnabled": True, "secretName": "remote-api-keys"}}
    assert redact.redact_object(pod) == {
        "metadata": {"annotations": {redact.LAST_APPLIED: "<redacted>", "vault/agent-token": "<redacted>",
                                     "team": "search", "note": f"password={redact.REDACTED}"}},
        "spec": {"containers": [{"env": [{"name": "PW", "value": "<redacted>"},
                                         {"name": "REF", "valueFrom": {"secretKeyRef": {"name": "s"}}},
                                         "odd-entry"],
                                 "args": [f"--token={redact.REDACTED}"], "replicas": 3}],
                 "password": "<redacted>", "apiKey": "", "credentials": redact.ES_REDACTED,
                 "passwordEnabled": True, "secretName": "remote-api-keys"}}
    assert redact.redact_object({"env": "not a list", "annotations": ["not", "a map"]}) == {
        "env": "not a list", "annotations": ["not", "a map"]}


def test_config_map_binary_data_is_kept_unless_its_text_looks_secret() -> None:
    image = base64.b64encode(bytes([0x89, 0x50, 0x4E, 0x47, 0xFF, 0x00])).decode()
    data = {"binaryData": {"plain": _b64("just text"), "secret": _b64("password=Binary-Pw-1"),
                           "image": image, "not-base64": "%%%"}}
    assert redact.redact_object(data) == {"binaryData": {"plain": _b64("just text"), "secret": "<redacted>",
                                                         "image": image, "not-base64": "%%%"}}


def test_only_the_last_segment_of_a_field_name_decides_whether_it_holds_a_secret() -> None:
    fields = {"xpack.security.authc.password_hashing.algorithm": "pbkdf2", "secret/config": "plain",
              "vault.hashicorp.com/agent-inject-token": "Vault-Token-1"}
    assert redact.redact_object(fields) == {"xpack.security.authc.password_hashing.algorithm": "pbkdf2",
                                            "secret/config": "plain",
                                            "vault.hashicorp.com/agent-inject-token": "<redacted>"}


def test_binary_data_is_judged_by_its_decoded_text_whatever_its_key() -> None:
    damaged = _b64("password=Damaged-Pw-1") + "!"
    data = {"binaryData": {"config.txt": _b64("password=Binary-Pw-2"), "damaged": damaged}}
    assert redact.redact_object(data) == {"binaryData": {"config.txt": "<redacted>", "damaged": damaged}}


def test_a_credential_that_is_not_clean_base64_or_utf8_is_not_base64() -> None:
    assert redact.credential_info(b"\xff\xfe-not-utf8").problem == "not base64"
    assert redact.credential_info((ENCODED[:4] + "!" + ENCODED[4:]).encode()).problem == "not base64"
    pair = _b64("no-separator").encode()
    assert redact.credential_info(pair) == CredentialInfo(False, "decodes to no 'id:key' pair", "",
                                                          redact.fingerprint(pair))


def test_fingerprints_tell_values_apart_in_16_hex_digits() -> None:
    assert redact.fingerprint(b"value-a") != redact.fingerprint(b"value-b")
    assert len(redact.fingerprint(b"value-a")) == 16 and int(redact.fingerprint(b"value-a"), 16) >= 0


def test_scrub_blanks_a_longer_secret_before_a_shorter_one_inside_it() -> None:
    assert redact.scrub("pw=azzzzzzz", ["zzzzzzz", "azzzzzzz"]) == f"pw={redact.REDACTED}"


def test_damaged_base64_in_secret_data_is_empty_and_values_need_not_be_utf8() -> None:
    assert redact.decode_data({"data": {"d": _b64("x-value") + "!"}}) == {"d": b""}
    redact.new_run()
    assert redact.secret_value({"data": {"e": _b64(b"pw-\xff-value")}}, "e") == "pw-\ufffd-value"


def test_a_certificate_keeps_its_ip_addresses_and_a_pem_error_its_parser_line() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ip")])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(3).not_valid_before(start).not_valid_after(start + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("10.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    assert redact.cert_info(cert).ip_addresses == ["10.0.0.1"]
    bad = redact.summarize_secret({"data": {"ca.crt": _b64("-----BEGIN CERTIFICATE-----\nAAAA\n")}})
    assert bad.keys["ca.crt"].pem_error.startswith("PEM does not parse: Unable to load PEM file.")


def test_a_certificate_and_key_value_that_is_not_utf8_still_gives_up_its_key() -> None:
    redact.new_run()
    cert_pem, key_pem = self_signed()
    value = cert_pem.encode() + key_pem.encode() + b"\xff"
    redact.summarize_secret({"metadata": {"namespace": "n"}, "data": {"tls.pem": _b64(value)}})
    assert key_pem.strip() in redact.known_values()
    assert redact.origin_of(value.decode("utf-8", "replace")) == "the value of Secret n/ key tls.pem"
