"""The support bundle: a Snapshot plus its report in a zip, and the way back to a Snapshot.

Layout (docs/bundle.md): snapshot.json (exactly `snapshot.to_dict`, sanitized), report.json,
report.md, tool.json, errors.json, and manifest.json listing every other file with its sha256
and size. A bundle is written only after the final leak scan passed, through a temporary file
renamed into place, so a refused or failed write leaves nothing behind.

`load_snapshot` reads our bundles and, through `eck_diagnostics`, eck-diagnostics archives.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable
from typing import Any

from kubectl_eckrc import links
from kubectl_eckrc.collect.archive import Archive, open_archive
from kubectl_eckrc.collect.sanitize import SecretValue, find_leak, sanitize_snapshot_dict
from kubectl_eckrc.errors import EXIT_UNEVALUATED, EckrcError, FleetBundle, UsageError
from kubectl_eckrc.fleet import EsRef, FleetSnapshot, LinkSnapshot
from kubectl_eckrc.options import Scope, SideTarget
from kubectl_eckrc.snapshot import (
    SCHEMA_VERSION,
    EsState,
    KubeState,
    Side,
    Snapshot,
    Unavailable,
    from_dict,
    to_dict,
)

BUNDLE_FORMAT = "kubectl-eckrc-bundle"
BUNDLE_SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
SNAPSHOT = "snapshot.json"
EXIT_LEAK = EXIT_UNEVALUATED  # 3: the bundle could not be produced safely; see docs/bundle.md


class LeakError(EckrcError):
    """A secret value was found in a file about to be written: nothing is written."""

    exit_code = EXIT_LEAK


# --- writing ------------------------------------------------------------------------------------


def sanitized(snapshot: Snapshot) -> Snapshot:
    """The snapshot as the bundle will store it. collect builds its report from this one, so
    report.json is exactly what `doctor --bundle` recomputes from snapshot.json."""
    return from_dict(sanitize_snapshot_dict(to_dict(snapshot)))


def bundle_members(snapshot: Snapshot, reports: dict[str, str], tool: dict[str, Any]) -> dict[str, bytes]:
    """Every file of the bundle except the manifest, as bytes. `reports` are the rendered
    reports by file name (report.json, report.md): the renderers come after the collector,
    and commands/collect.py hands their output down."""
    snap_dict = sanitize_snapshot_dict(to_dict(snapshot))
    return {
        SNAPSHOT: _json_bytes(snap_dict),
        **{name: _text_bytes(text) for name, text in reports.items()},
        "tool.json": _json_bytes(tool),
        "errors.json": _json_bytes({"unavailable": unavailable_reads(snap_dict)}),
    }


def unavailable_reads(snap_dict: dict[str, Any]) -> list[dict[str, str]]:
    """Every read that produced no data, with where it sits in the snapshot and why."""
    found: list[dict[str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if set(value) == {"unavailable"} and isinstance(value["unavailable"], dict):
                found.append({"path": path, **{k: str(v) for k, v in value["unavailable"].items()}})
                return
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")

    walk(snap_dict, "")
    return found


def manifest(members: dict[str, bytes], tool_version: str, created_at: str) -> dict[str, Any]:
    return {
        "format": BUNDLE_FORMAT,
        "schemaVersion": BUNDLE_SCHEMA_VERSION,
        "snapshotSchemaVersion": SCHEMA_VERSION,
        "toolVersion": tool_version,
        "createdAt": created_at,
        "files": [
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in sorted(members.items())
        ],
    }


def write_bundle(path: str, members: dict[str, bytes], manifest_doc: dict[str, Any],
                 secrets: Iterable[SecretValue]) -> None:
    """Scan, then write atomically. Raises LeakError (nothing written) on a secret value."""
    everything = {**members, MANIFEST: _json_bytes(manifest_doc)}
    leak = find_leak(everything, secrets)
    if leak:
        raise LeakError(
            f"refusing to write {path}: {leak.member} would contain {leak.origin} ({leak.encoding}); "
            "nothing was written. Move that secret out of the object that copies it, or report a bug"
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"cannot write {path}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".eckrc-bundle-", suffix=".zip.tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in [MANIFEST, *sorted(members)]:
                zf.writestr(name, everything[name])
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False) + "\n").encode("utf-8")


def _text_bytes(text: str) -> bytes:
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


# --- reading ------------------------------------------------------------------------------------


def load_snapshot(path: str, remote_path: str | None = None, scope: Scope | None = None) -> Snapshot:
    """The Snapshot of a bundle (source "bundle") or eck-diagnostics archive (source
    "eck-diagnostics"). With `remote_path`, the remote side comes from that second archive,
    collected separately in the remote environment. `scope` picks the Elasticsearch in an
    eck-diagnostics archive (-n/--es, --remote-namespace/--remote-es) and narrows the links
    (--alias). Every problem is one UsageError line (exit 2)."""
    local = scope.local if scope else None
    remote = scope.remote if scope else None
    alias = scope.alias if scope else None
    snap = _load_one(path, local, None if remote_path else remote, alias)
    if remote_path is not None:
        snap = merge_remote(snap, _load_one(remote_path, remote, None, None), remote_path)
    return snap


def _checked(path: str, snap: Snapshot) -> Snapshot:
    """A snapshot the checks can read, or one UsageError line naming the field that is not."""
    from kubectl_eckrc.collect.shape import ShapeError, check_snapshot

    try:
        check_snapshot(snap)
    except ShapeError as exc:
        raise UsageError(f"{path}: {exc}") from None
    return snap


def _load_one(path: str, target: SideTarget | None, remote: SideTarget | None, alias: str | None) -> Snapshot:
    with open_archive(path) as opened:  # one open zip for every read of this file
        archive, kind = recognise(opened)
        if kind == "bundle" and archive.has(FLEET) and not archive.has(SNAPSHOT):
            raise FleetBundle(_read_fleet(archive, path))
        if kind == "eck-diagnostics":
            return _checked(path, _read_eck_diagnostics(archive, target, remote, alias))
        snap = _checked(path, read_bundle(archive))
    _check_target(path, snap.local, target)
    return only_alias(snap, alias, path) if alias else snap


def _read_eck_diagnostics(archive: Archive, target: SideTarget | None, remote: SideTarget | None,
                          alias: str | None) -> Snapshot:
    from kubectl_eckrc.collect import eck_diagnostics

    try:
        return eck_diagnostics.read_snapshot(archive, target, remote, alias)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # kubectl and the support-diagnostics write objects and lists where these are not
        raise UsageError(f"{archive.path}: an eck-diagnostics file is not shaped as kubectl writes it "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:120]})") from None


def _check_target(path: str, side: Side, target: SideTarget | None) -> None:
    """-n/--es given with one of our bundles must name what it holds, not silently differ."""
    if target is None:
        return
    if (target.namespace and target.namespace != side.namespace) or (
        target.es_name and target.es_name != side.es_name
    ):
        raise UsageError(f"{path}: the bundle holds {side.namespace}/{side.es_name}, not "
                         f"{target.namespace or side.namespace}/{target.es_name or side.es_name}")


def only_alias(snap: Snapshot, alias: str, path: str) -> Snapshot:
    """--alias with a bundle: the links it recorded (and probed) are all there is."""
    if alias not in snap.aliases:
        held = ", ".join(snap.aliases) or "none"
        raise UsageError(f"{path}: the bundle recorded no link {alias!r}; it holds: {held}")
    probes = {a: p for a, p in snap.probes.items() if a == alias}
    return dataclasses.replace(snap, aliases=[alias], probes=probes)


def recognise(archive: Archive) -> tuple[Archive, str]:
    """The archive (unwrapped from a single top folder, as some zip tools add one) and its kind."""
    tops = archive.top_directories()
    if len(tops) == 1 and not archive.has(MANIFEST) and not archive.has(SNAPSHOT):
        inner = archive.within(next(iter(tops)))
        if inner.names:
            return inner, detect(inner)
    return archive, detect(archive)


def detect(archive: Archive) -> str:
    """'bundle' or 'eck-diagnostics'; UsageError for anything else."""
    if archive.has(MANIFEST):
        doc = archive.read_json(MANIFEST)
        if isinstance(doc, dict) and doc.get("format") == BUNDLE_FORMAT:
            return "bundle"
        if isinstance(doc, dict) and doc.get("diagType") == "eck-diagnostics":
            return "eck-diagnostics"
    if archive.has(SNAPSHOT):
        raise UsageError(f"{archive.path}: a kubectl-eckrc bundle without a valid {MANIFEST}")
    if any(_is_eck_resource_file(name) for name in archive.names):
        return "eck-diagnostics"
    raise UsageError(f"{archive.path}: neither a kubectl-eckrc bundle nor an eck-diagnostics archive")


def _is_eck_resource_file(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[1] == "elasticsearch.json"


def read_bundle(archive: Archive) -> Snapshot:
    doc = archive.read_json(MANIFEST)
    _check_version(archive.path, "bundle", doc.get("schemaVersion"), BUNDLE_SCHEMA_VERSION)
    files = doc.get("files")
    if not isinstance(files, list) or not any(isinstance(f, dict) and f.get("name") == SNAPSHOT
                                              for f in files):
        raise UsageError(f"{archive.path}: {MANIFEST} does not list {SNAPSHOT}")
    verified = {}
    for entry in files:
        name, data = _verify_member(archive, entry)
        verified[name] = data
    data = archive.parse_json(SNAPSHOT, verified[SNAPSHOT])  # the bytes verified, read once
    if not isinstance(data, dict):
        raise UsageError(f"{archive.path}: {SNAPSHOT} is not a JSON object")
    _check_version(archive.path, "snapshot", data.get("schema_version"), SCHEMA_VERSION)
    try:
        snap = from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{archive.path}: {SNAPSHOT} is not a kubectl-eckrc snapshot "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    return dataclasses.replace(snap, source="bundle")


def _verify_member(archive: Archive, entry: Any) -> tuple[str, bytes]:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise UsageError(f"{archive.path}: {MANIFEST} has a malformed file entry")
    name = entry["name"]
    if not archive.has(name):
        raise UsageError(f"{archive.path}: {name} is listed in {MANIFEST} but missing")
    if archive.sizes[name] != entry.get("size"):  # before decompressing anything
        raise UsageError(f"{archive.path}: {name} does not match its {MANIFEST} checksum (size "
                         f"{entry.get('size')!r} listed, {archive.sizes[name]} in the zip: "
                         "altered or damaged)")
    data = archive.read_bytes(name)
    if len(data) != entry.get("size") or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise UsageError(f"{archive.path}: {name} does not match its {MANIFEST} checksum "
                         "(altered or damaged)")
    return name, data


def _check_version(path: str, what: str, found: Any, supported: int) -> None:
    if not isinstance(found, int):
        raise UsageError(f"{path}: the {what} has no schema version")
    if found > supported:
        raise UsageError(f"{path}: {what} schema version {found} is newer than this kubectl-eckrc "
                         f"reads ({supported}); upgrade kubectl-eckrc")


def merge_remote(first: Snapshot, other: Snapshot, other_path: str) -> Snapshot:
    """The first snapshot with its remote side taken from a second one collected in the remote
    environment: that collection saw the remote Elasticsearch as its own local side."""
    remote: Side | Unavailable = as_remote(other.local, first, os.path.basename(other_path))
    if isinstance(other.remote, Side) and _same_side(other.local, first.local):
        remote = other.remote  # the second bundle was collected from the local side too
    note = (f"remote side read from {os.path.basename(other_path)} "
            f"(taken {other.taken_at}, source {other.source})")
    return dataclasses.replace(first, remote=remote, notes=[*first.notes, note])


def as_remote(side: Side, first: Snapshot, name: str) -> Side:
    """A side collected as `local` in its own environment, relabelled as the remote one. The
    API keys the local credentials name were not looked up there (that collection did not see
    the local secrets): they become offline reads, so ECKRC404 says why it cannot evaluate."""
    kube = side.kube
    if isinstance(kube, KubeState):
        kube = dataclasses.replace(kube, access=[dataclasses.replace(a, side="remote") for a in kube.access])
    es = side.es
    if isinstance(es, EsState):
        missing = {key_id: Unavailable(f"offline: {name} was collected without the local side, so API key "
                                       f"{key_id} was not looked up; collect once with both contexts",
                                       "offline", "kubectl eckrc collect with --remote-context")
                   for key_id in _credential_key_ids(first) if key_id not in es.api_keys}
        es = dataclasses.replace(es, api_keys={**es.api_keys, **missing})
    return dataclasses.replace(side, role="remote", kube=kube, es=es)


def _credential_key_ids(snap: Snapshot) -> list[str]:
    return sorted({r.info.key_id for r in links.credential_refs(snap) if r.info and r.info.key_id})


def _same_side(a: Side, b: Side) -> bool:
    return (a.context, a.namespace, a.es_name) == (b.context, b.namespace, b.es_name)


# --- the fleet bundle (collect -A) ----------------------------------------------------------------
# Same manifest and checks; fleet.json in place of snapshot.json: the contexts, and per link its
# Elasticsearch, alias, matched remote and single-link snapshot (sanitized as snapshot.json is).

FLEET = "fleet.json"


def _ref_dict(ref: EsRef | None) -> dict[str, str] | None:
    return None if ref is None else {"context": ref.context, "namespace": ref.namespace, "name": ref.name}


def _ref(data: Any) -> EsRef | None:
    return None if data is None else EsRef(str(data["context"]), str(data["namespace"]), str(data["name"]))


def fleet_to_dict(fleet: FleetSnapshot) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "taken_at": fleet.taken_at,
        "source": fleet.source,
        "tool_version": fleet.tool_version,
        "contexts": list(fleet.contexts),
        "unlinked": [_ref_dict(r) for r in fleet.unlinked],
        "notes": list(fleet.notes),
        "links": [{"local": _ref_dict(link.local), "alias": link.alias, "remote": _ref_dict(link.remote),
                   "clues": list(link.clues), "unmatched": link.unmatched,
                   "snapshot": sanitize_snapshot_dict(to_dict(link.snapshot))} for link in fleet.links],
    }


def fleet_from_dict(data: dict[str, Any], path: str) -> FleetSnapshot:
    links = []
    for entry in data["links"]:
        local = _ref(entry["local"])
        assert local is not None
        snap = _checked(path, dataclasses.replace(from_dict(entry["snapshot"]), source="bundle"))
        links.append(LinkSnapshot(local, str(entry["alias"]), _ref(entry.get("remote")),
                                  tuple(str(c) for c in entry.get("clues") or []), snap,
                                  str(entry.get("unmatched") or "")))
    unlinked = [r for r in (_ref(d) for d in data.get("unlinked") or []) if r is not None]
    return FleetSnapshot(str(data["taken_at"]), "bundle", str(data["tool_version"]),
                         tuple(str(c) for c in data["contexts"]), links, unlinked,
                         [str(n) for n in data.get("notes") or []])


def fleet_bundle_members(fleet: FleetSnapshot, reports: dict[str, str],
                         tool: dict[str, Any]) -> dict[str, bytes]:
    doc = fleet_to_dict(fleet)
    return {
        FLEET: _json_bytes(doc),
        **{name: _text_bytes(text) for name, text in reports.items()},
        "tool.json": _json_bytes(tool),
        "errors.json": _json_bytes({"unavailable": unavailable_reads(doc)}),
    }


def load_fleet(path: str) -> FleetSnapshot:
    """The fleet of a bundle written by `collect -A`; one UsageError line for anything else."""
    with open_archive(path) as opened:
        archive, kind = recognise(opened)
        if kind != "bundle" or not archive.has(FLEET):
            raise UsageError(f"{path}: not a fleet bundle (written by collect -A)")
        return _read_fleet(archive, path)


def _read_fleet(archive: Archive, path: str) -> FleetSnapshot:
    doc = archive.read_json(MANIFEST)
    _check_version(archive.path, "bundle", doc.get("schemaVersion"), BUNDLE_SCHEMA_VERSION)
    files = doc.get("files")
    if not isinstance(files, list) or not any(isinstance(f, dict) and f.get("name") == FLEET for f in files):
        raise UsageError(f"{path}: {MANIFEST} does not list {FLEET}")
    verified = dict(_verify_member(archive, entry) for entry in files)
    data = archive.parse_json(FLEET, verified[FLEET])
    if not isinstance(data, dict):
        raise UsageError(f"{path}: {FLEET} is not a JSON object")
    _check_version(path, "snapshot", data.get("schema_version"), SCHEMA_VERSION)
    try:
        return fleet_from_dict(data, path)
    except (KeyError, TypeError, ValueError, AttributeError, AssertionError) as exc:
        raise UsageError(f"{path}: {FLEET} is not a kubectl-eckrc fleet "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
