"""The support bundle on hand-built snapshots: round trip, redaction, the leak scan, bad input."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kubectl_eckrc.checks.engine import build_report, run_checks
from kubectl_eckrc.collect import archive as archive_module
from kubectl_eckrc.collect import bundle
from kubectl_eckrc.collect.sanitize import REDACTED, SecretValue, encodings, find_leak
from kubectl_eckrc.errors import EckrcError, UsageError
from kubectl_eckrc.report import markdown, structured
from kubectl_eckrc.snapshot import KubeState, Side, Snapshot, Unavailable, to_dict
from tests.snapshot_builder import healthy_pair

CANARY = "Canary-s3cr3t-V4lue/with+chars=="
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def write(path: Path, snap: Snapshot, secrets: list[SecretValue] | None = None) -> Path:
    report = build_report(snap, run_checks(snap))
    reports = {"report.json": structured.render_json(report), "report.md": markdown.render(report)}
    members = bundle.bundle_members(snap, reports, {"name": "kubectl-eckrc", "command": ["collect"]})
    bundle.write_bundle(str(path), members, bundle.manifest(members, "0.1.0", "2026-06-01T00:00:00Z"),
                        secrets or [])
    return path


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def zip_of(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


# --- round trip ------------------------------------------------------------------------------


def test_healthy_snapshot_round_trips_through_a_bundle_identically(tmp_path: Path) -> None:
    snap = healthy_pair().build()
    loaded = bundle.load_snapshot(str(write(tmp_path / "b.zip", snap)))
    assert loaded.source == "bundle"
    assert to_dict(dataclasses.replace(loaded, source=snap.source)) == to_dict(snap)


def test_doctor_from_a_bundle_gives_the_same_findings_as_the_live_snapshot(tmp_path: Path) -> None:
    pair = healthy_pair()
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    snap = pair.build()
    loaded = bundle.load_snapshot(str(write(tmp_path / "b.zip", snap)))
    live = [(f.id, f.alias, f.status, f.message) for f in run_checks(snap)]
    offline = [(f.id, f.alias, f.status, f.message) for f in run_checks(loaded)]
    assert offline == live


def test_unavailable_reads_survive_the_round_trip_and_are_listed_in_errors_json(tmp_path: Path) -> None:
    pair = healthy_pair()
    denied = Unavailable("403 Forbidden: GET _security/role", "forbidden", "read_security")
    pair.local.overrides["roles"] = denied
    pair.no_remote_access()
    path = write(tmp_path / "b.zip", pair.build())
    loaded = bundle.load_snapshot(str(path))
    assert not isinstance(loaded.local.es, Unavailable)
    assert loaded.local.es.roles == denied
    errors = json.loads(members_of(path)["errors.json"])["unavailable"]
    assert {"path": "local.es.roles", "reason": "403 Forbidden: GET _security/role", "kind": "forbidden",
            "permission": "read_security"} in errors
    assert any(e["path"] == "remote" and e["kind"] == "no-access" for e in errors)


def test_manifest_lists_every_file_with_its_sha256_and_size(tmp_path: Path) -> None:
    files = members_of(write(tmp_path / "b.zip", healthy_pair().build()))
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == bundle.BUNDLE_FORMAT and manifest["schemaVersion"] == 1
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    assert set(listed) == {"snapshot.json", "report.json", "report.md", "tool.json", "errors.json"}
    for name, entry in listed.items():
        assert entry["size"] == len(files[name])
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest()


def test_report_files_hold_the_doctor_report(tmp_path: Path) -> None:
    files = members_of(write(tmp_path / "b.zip", healthy_pair().build()))
    report = json.loads(files["report.json"])
    assert report["schemaVersion"] == 1 and report["exitCode"] == 0
    assert files["report.md"].decode().startswith("## kubectl eckrc doctor")


def test_remote_bundle_collected_separately_supplies_the_remote_side(tmp_path: Path) -> None:
    pair = healthy_pair()
    full = pair.build()
    pair.no_remote_access()
    local_only = write(tmp_path / "local.zip", pair.build())
    assert isinstance(full.remote, Side)
    remote_as_local = dataclasses.replace(full, local=dataclasses.replace(full.remote, role="local"),
                                          remote=Unavailable("no access", "no-access"))
    remote_only = write(tmp_path / "remote.zip", remote_as_local)
    merged = bundle.load_snapshot(str(local_only), str(remote_only))
    assert to_dict(merged)["remote"] == to_dict(full)["remote"]
    assert any("remote.zip" in note for note in merged.notes)


# --- redaction -------------------------------------------------------------------------------


def _with_secret_fields(snap: Snapshot) -> Snapshot:
    es = dict(snap.local.kube.elasticsearch)  # type: ignore[union-attr]
    es["metadata"] = {**es["metadata"], "annotations": {LAST_APPLIED: json.dumps({"kind": "Elasticsearch"}),
                                                        "keep": "me"}}
    nodeset = es["spec"]["nodeSets"][0]
    nodeset["podTemplate"] = {"spec": {"containers": [{"name": "elasticsearch", "env": [
        {"name": "ES_JAVA_OPTS", "value": "-Xms1g"},
        {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]}}
    nodeset["config"] = {**nodeset.get("config", {}), "bootstrap.password": "hunter22",
                         "xpack.security.authc.token.enabled": "true"}
    pods = [dict(p) for p in snap.local.kube.pods]  # type: ignore[union-attr]
    env = [{"name": "PASSWORD", "value": "x" * 9}]
    pods[0]["spec"] = {"containers": [{"name": "elasticsearch", "env": env}]}
    assert isinstance(snap.local.kube, KubeState)
    kube = dataclasses.replace(snap.local.kube, elasticsearch=es, pods=pods)
    return dataclasses.replace(snap, local=dataclasses.replace(snap.local, kube=kube))


def test_last_applied_configuration_and_env_values_are_redacted(tmp_path: Path) -> None:
    path = write(tmp_path / "b.zip", _with_secret_fields(healthy_pair().build()))
    loaded = bundle.load_snapshot(str(path))
    es = loaded.local.kube.elasticsearch  # type: ignore[union-attr]
    assert es["metadata"]["annotations"] == {LAST_APPLIED: REDACTED, "keep": "me"}
    env = es["spec"]["nodeSets"][0]["podTemplate"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "ES_JAVA_OPTS", "value": REDACTED},
                   {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    assert loaded.local.kube.pods[0]["spec"]["containers"][0]["env"] == [  # type: ignore[union-attr]
        {"name": "PASSWORD", "value": REDACTED}]


def test_password_like_fields_are_redacted_but_switches_and_es_markers_stay(tmp_path: Path) -> None:
    path = write(tmp_path / "b.zip", _with_secret_fields(healthy_pair().build()))
    loaded = bundle.load_snapshot(str(path))
    config = loaded.local.kube.elasticsearch["spec"]["nodeSets"][0]["config"]  # type: ignore[union-attr]
    assert config["bootstrap.password"] == REDACTED
    assert config["xpack.security.authc.token.enabled"] == "true"
    remote_info = loaded.local.es.remote_info  # type: ignore[union-attr]
    assert remote_info["remote-es"]["cluster_credentials"] == "::es_redacted::"
    assert b"hunter22" not in members_of(path)["snapshot.json"]


# --- the final scan --------------------------------------------------------------------------


def _encoded_forms(value: str) -> dict[str, str]:
    raw = value.encode()
    return {
        "plain": value,
        "base64": base64.b64encode(raw).decode(),
        "base64 without padding": base64.b64encode(raw).decode().rstrip("="),
        "url-safe base64": base64.urlsafe_b64encode(raw).decode(),
        "JSON-escaped": json.dumps(value + '"\n')[1:-1],
        "inside base64 of id:key": base64.b64encode(b"keyid:" + raw).decode(),
        "inside base64 at offset 2": base64.b64encode(b"ab" + raw + b"z").decode(),
        "hex": raw.hex(),
    }


@pytest.mark.parametrize("form", list(_encoded_forms(CANARY)))
def test_final_scan_refuses_a_planted_secret_in_any_encoding(tmp_path: Path, form: str) -> None:
    pair = healthy_pair()
    pair.local.es["spec"]["nodeSets"][0]["config"]["node.attr.note"] = _encoded_forms(CANARY)[form]
    target = tmp_path / "out" / "b.zip"
    target.parent.mkdir()
    with pytest.raises(EckrcError) as caught:
        write(target, pair.build(), [SecretValue("secret logging/x key y", CANARY.encode())])
    message = str(caught.value)
    assert caught.value.exit_code == bundle.EXIT_LEAK == 3
    assert "snapshot.json" in message and "secret logging/x key y" in message
    assert CANARY not in message and "\n" not in message
    assert list(target.parent.iterdir()) == []  # nothing written, not even a temporary file


def test_final_scan_ignores_public_certificates_and_short_values() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    members = {"snapshot.json": json.dumps({"pem": pem, "word": "true"}).encode()}
    assert find_leak(members, [SecretValue("ca", pem.encode()), SecretValue("flag", b"true")]) is None


def test_private_key_body_lines_are_searched_one_by_one() -> None:
    body = base64.b64encode(os.urandom(96)).decode()
    pem = f"-----BEGIN PRIVATE KEY-----\n{body[:64]}\n{body[64:]}\n-----END PRIVATE KEY-----\n"
    assert ("PEM body line", body[:64].encode()) in encodings(pem.encode())
    leak = find_leak({"report.md": f"evidence: {body[:64]}".encode()}, [SecretValue("tls.key", pem.encode())])
    assert leak is not None and leak.member == "report.md"


def test_a_clean_bundle_passes_the_scan_with_the_secrets_it_was_checked_against(tmp_path: Path) -> None:
    path = write(tmp_path / "b.zip", healthy_pair().build(), [SecretValue("elastic", CANARY.encode())])
    for data in members_of(path).values():
        for _, needle in encodings(CANARY.encode()):
            assert needle not in data


# --- corrupt and hostile input ---------------------------------------------------------------


def _good_bundle(tmp_path: Path) -> dict[str, bytes]:
    return members_of(write(tmp_path / "good.zip", healthy_pair().build()))


def _assert_usage_error(path: Path, *fragments: str) -> None:
    before = set(os.listdir(path.parent))
    with pytest.raises(UsageError) as caught:
        bundle.load_snapshot(str(path))
    message = str(caught.value)
    assert caught.value.exit_code == 2 and "\n" not in message
    for fragment in fragments:
        assert fragment in message
    assert set(os.listdir(path.parent)) == before  # nothing extracted next to it


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    _assert_usage_error(tmp_path / "nope.zip", "no such file")


def test_truncated_zip_is_a_usage_error(tmp_path: Path) -> None:
    data = write(tmp_path / "b.zip", healthy_pair().build()).read_bytes()
    truncated = tmp_path / "t.zip"
    truncated.write_bytes(data[: len(data) // 2])
    _assert_usage_error(truncated, "t.zip")


def test_member_damaged_inside_a_valid_directory_is_a_usage_error(tmp_path: Path) -> None:
    files = _good_bundle(tmp_path)
    path = zip_of(tmp_path / "d.zip", files)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("snapshot.json")
    start = info.header_offset + 30 + len(info.filename) + 10  # inside the compressed data
    raw[start : start + 8] = b"\xff" * 8
    path.write_bytes(bytes(raw))
    _assert_usage_error(path, "d.zip")


def test_path_traversal_entry_is_refused(tmp_path: Path) -> None:
    files = {**_good_bundle(tmp_path), "../evil.txt": b"x"}
    _assert_usage_error(zip_of(tmp_path / "p.zip", files), "unsafe member name", "../evil.txt")
    assert not (tmp_path.parent / "evil.txt").exists()


def test_absolute_path_entry_is_refused(tmp_path: Path) -> None:
    _assert_usage_error(zip_of(tmp_path / "a.zip", {"/etc/evil": b"x"}), "unsafe member name")


def test_zip_bomb_member_is_refused_by_the_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module, "MAX_MEMBER_BYTES", 1024 * 1024)
    files = {**_good_bundle(tmp_path)}
    files["snapshot.json"] = b" " * (4 * 1024 * 1024)  # compresses to a few KiB
    manifest = json.loads(files["manifest.json"])  # listed with its size, as a hostile author would
    for entry in manifest["files"]:
        if entry["name"] == "snapshot.json":
            entry["size"] = len(files["snapshot.json"])
    files["manifest.json"] = json.dumps(manifest).encode()
    path = zip_of(tmp_path / "bomb.zip", files)
    assert path.stat().st_size < 64 * 1024
    _assert_usage_error(path, "snapshot.json", "bytes uncompressed")


def test_bytes_read_from_one_archive_are_capped_in_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_module, "MAX_TOTAL_BYTES", 1000)
    files = _good_bundle(tmp_path)
    _assert_usage_error(zip_of(tmp_path / "big.zip", files), "bytes uncompressed read in all")


def test_wrong_json_is_a_usage_error_naming_the_member(tmp_path: Path) -> None:
    files = {**_good_bundle(tmp_path)}
    manifest = json.loads(files["manifest.json"])
    files["snapshot.json"] = b'{"schema_version": 1,'
    for entry in manifest["files"]:
        if entry["name"] == "snapshot.json":
            data = files["snapshot.json"]
            entry.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    files["manifest.json"] = json.dumps(manifest).encode()
    _assert_usage_error(zip_of(tmp_path / "j.zip", files), "snapshot.json is not valid JSON")


def test_snapshot_with_missing_fields_is_a_usage_error(tmp_path: Path) -> None:
    files = {**_good_bundle(tmp_path)}
    files["snapshot.json"] = b'{"schema_version": 1}'
    files["manifest.json"] = json.dumps({"format": bundle.BUNDLE_FORMAT, "schemaVersion": 1, "files": [
        {"name": "snapshot.json", "size": len(files["snapshot.json"]),
         "sha256": hashlib.sha256(files["snapshot.json"]).hexdigest()}]}).encode()
    _assert_usage_error(zip_of(tmp_path / "m.zip", files), "not a kubectl-eckrc snapshot")


def test_altered_member_fails_the_manifest_checksum(tmp_path: Path) -> None:
    files = {**_good_bundle(tmp_path)}
    files["report.md"] = files["report.md"] + b"edited"
    _assert_usage_error(zip_of(tmp_path / "c.zip", files), "report.md", "checksum")


def test_newer_bundle_schema_asks_for_an_upgrade(tmp_path: Path) -> None:
    files = {**_good_bundle(tmp_path)}
    manifest: dict[str, Any] = json.loads(files["manifest.json"])
    files["manifest.json"] = json.dumps({**manifest, "schemaVersion": 99}).encode()
    _assert_usage_error(zip_of(tmp_path / "n.zip", files), "upgrade kubectl-eckrc")


def test_zip_that_is_neither_a_bundle_nor_eck_diagnostics_is_refused(tmp_path: Path) -> None:
    _assert_usage_error(zip_of(tmp_path / "other.zip", {"readme.txt": b"hello"}),
                        "neither a kubectl-eckrc bundle nor an eck-diagnostics archive")


def test_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "text.zip"
    path.write_text("just text")
    _assert_usage_error(path, "not a readable zip file")


def test_encrypted_member_is_a_usage_error(tmp_path: Path) -> None:
    path = zip_of(tmp_path / "enc.zip", _good_bundle(tmp_path))
    raw = bytearray(path.read_bytes())
    buf = io.BytesIO(raw)
    with zipfile.ZipFile(buf) as zf:
        infos = zf.infolist()
    for info in infos:  # set the "encrypted" flag in local and central headers
        raw[info.header_offset + 6] |= 0x1
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        raw[central + 8] |= 0x1
        central = raw.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(raw))
    _assert_usage_error(path, "enc.zip")


def test_sanitizing_is_idempotent_so_the_report_matches_what_the_bundle_stores() -> None:
    once = bundle.sanitized(_with_secret_fields(healthy_pair().build()))
    assert to_dict(bundle.sanitized(once)) == to_dict(once)
    es = once.local.kube.elasticsearch  # type: ignore[union-attr]
    assert es["metadata"]["annotations"][LAST_APPLIED] == REDACTED


def test_remote_bundle_without_the_local_side_marks_the_unlooked_api_key_offline(tmp_path: Path) -> None:
    pair = healthy_pair()
    pair.remote.api_keys = {}  # the remote collection did not know which key the local side uses
    full = pair.build()
    assert isinstance(full.remote, Side) and isinstance(full.remote.kube, KubeState)
    kube = dataclasses.replace(full.remote.kube, access=[dataclasses.replace(a, side="local")
                                                        for a in full.remote.kube.access])
    alone = dataclasses.replace(full, local=dataclasses.replace(full.remote, role="local", kube=kube),
                                remote=Unavailable("no access", "no-access"))
    pair.no_remote_access()
    merged = bundle.load_snapshot(str(write(tmp_path / "l.zip", pair.build())),
                                  str(write(tmp_path / "r.zip", alone)))
    assert isinstance(merged.remote, Side) and isinstance(merged.remote.kube, KubeState)
    assert {a.side for a in merged.remote.kube.access} == {"remote"}
    key = merged.remote.es.api_keys["VuaCfGcBCdbkQm-e5aOx"]  # type: ignore[union-attr]
    assert isinstance(key, Unavailable) and key.kind == "offline" and "r.zip" in key.reason
    finding = next(f for f in run_checks(merged) if f.id == "ECKRC404")
    assert finding.status.value == "not-evaluated" and "offline" in finding.message


def test_bundle_file_is_private_to_its_owner(tmp_path: Path) -> None:
    path = write(tmp_path / "b.zip", healthy_pair().build())
    assert path.stat().st_mode & 0o777 == 0o600


def test_namespace_flags_must_name_what_the_bundle_holds(tmp_path: Path) -> None:
    from kubectl_eckrc.options import Scope, SideTarget

    path = str(write(tmp_path / "b.zip", healthy_pair().build()))
    same = Scope(SideTarget(None, None, "logging", "local-es"), None, alias="remote-es")
    assert bundle.load_snapshot(path, scope=same).aliases == ["remote-es"]
    with pytest.raises(UsageError, match="holds logging/local-es, not other/local-es"):
        bundle.load_snapshot(path, scope=Scope(SideTarget(None, None, "other", None), None))
    with pytest.raises(UsageError, match="recorded no link 'nope'; it holds: remote-es"):
        bundle.load_snapshot(path, scope=Scope(SideTarget(None, None, None, None), None, alias="nope"))
