"""Diffs show what changes and never a secret value."""

from __future__ import annotations

import base64

from kubectl_eckrc.fix.diff import PENDING_API_KEY, unified
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
