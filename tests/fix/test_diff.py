"""Diffs show what changes and never a secret value."""

from __future__ import annotations

import base64

from kubectl_eckrc import redact
from kubectl_eckrc.fix.diff import PENDING_API_KEY, mask_secret, render, unified
from tests.snapshot_builder import make_ca


def test_secret_diff_shows_key_names_and_fingerprints_not_values() -> None:
    value = base64.b64encode(b"id:super-secret-key-material").decode()
    before = {"kind": "Secret", "data": {"other": value}}
    after = {"kind": "Secret", "data": {"other": value, "cluster.remote.a.credentials": PENDING_API_KEY}}
    text = unified(before, after, "Secret ns/s", secret=True)
    assert "super-secret" not in text and value not in text
    assert "+  cluster.remote.a.credentials: <new cross-cluster API key>" in text
    assert "sha256" in text


def test_ca_bundle_diff_names_subjects_and_fingerprints_instead_of_pem_lines() -> None:
    old, new = make_ca("remote-es", "old"), make_ca("remote-es", "new")
    text = unified({"data": {"ca.crt": old.pem}}, {"data": {"ca.crt": new.pem}}, "ConfigMap ns/remote-ca")
    assert "BEGIN CERTIFICATE" not in text
    assert text.count("CN=remote-es-transport") == 2


def test_unchanged_object_gives_an_empty_diff() -> None:
    obj = {"metadata": {"name": "x", "resourceVersion": "1"}, "spec": {"a": [1, 2]}}
    assert unified(obj, {**obj, "metadata": {"name": "x", "resourceVersion": "2"}}, "x") == ""


def test_a_new_object_is_a_diff_from_dev_null_without_noise_or_status() -> None:
    created = {"kind": "ConfigMap", "status": {"x": 1}, "data": {"a": "1"},
               "metadata": {"name": "c", "uid": "u", "generation": 3, "managedFields": [],
                            "creationTimestamp": "t", "resourceVersion": "9"}}
    assert unified(None, created, "ConfigMap ns/c") == (
        "--- /dev/null\n+++ ConfigMap ns/c\n@@ -0,0 +1,5 @@\n"
        "+data:\n+  a: '1'\n+kind: ConfigMap\n+metadata:\n+  name: c\n")
    assert render(None) == "" and mask_secret(None) is None


def test_a_change_shows_two_lines_of_context_in_key_order() -> None:
    obj = {"f": 6, "e": 5, "d": 4, "c": 3, "b": 2, "a": 1}
    assert unified(obj, {**obj, "f": 7}, "x") == "--- x\n+++ x\n@@ -4,3 +4,3 @@\n d: 4\n e: 5\n-f: 6\n+f: 7\n"


def test_secret_values_are_sized_after_base64_decoding_and_fingerprinted_per_run() -> None:
    encoded = base64.b64encode(b"0123456789abcdef").decode()  # 16 bytes once decoded
    masked = mask_secret({"kind": "Secret", "data": {"k": encoded, "new": PENDING_API_KEY},
                          "stringData": {"p": "plain text"}, "type": "Opaque"})
    assert masked == {"kind": "Secret", "type": "Opaque",
                      "data": {"k": f"<16 bytes, sha256 {redact.fingerprint(b'0123456789abcdef')}>",
                               "new": PENDING_API_KEY},
                      "stringData": {"p": f"<10 bytes, sha256 {redact.fingerprint(b'plain text')}>"}}
    assert mask_secret({"data": "not a map"}) == {"data": "not a map"}


def test_a_masked_secret_keeps_its_fingerprints_and_other_fields_are_still_redacted() -> None:
    masked = {"kind": "Secret", "data": {"k": "<3 bytes, sha256 abc>"},
              "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "x"}}}
    text = render(masked, masked=True)
    assert "k: <3 bytes, sha256 abc>" in text and "last-applied-configuration: <redacted>" in text


def test_every_certificate_of_a_bundle_is_summarised_wherever_it_sits() -> None:
    one, two = make_ca("remote-es", "one"), make_ca("other", "two")
    text = render({"data": {"ca.crt": one.pem + two.pem, "list": [one.pem],
                            "bad": "-----BEGIN CERTIFICATE-----\nxx"}})
    assert "bad: <unparseable PEM>" in text
    assert f"<certificate {one.info.subject} sha256 {one.info.sha256[:16]}>;" in text
    assert f"<certificate {two.info.subject} sha256 {two.info.sha256[:16]}>" in text
    assert text.count(one.info.sha256[:16]) == 2  # the list entry too


def test_a_value_that_is_not_strict_base64_is_sized_as_it_is() -> None:
    masked = mask_secret({"data": {"k": "ab-cd"}})  # lenient decoding would drop "-" and decode
    assert masked == {"data": {"k": f"<5 bytes, sha256 {redact.fingerprint(b'ab-cd')}>"}}
