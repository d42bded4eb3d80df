"""Bounded work on any input: the bundle, eck-diagnostics and kubeconfig readers end every
input in exit 0, 1, 2 or 3 with at most one error line, within a memory bound.

Property-based (hypothesis), kept cheap: few examples, no deadline (a loaded machine must not
turn slowness into failures); memory is measured (tracemalloc peak in-process, the child's
maximum resident set for the zip bomb), never wall-clock time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_eckrc import cli
from kubectl_eckrc.checks.engine import build_report, run_checks
from kubectl_eckrc.collect import bundle
from kubectl_eckrc.errors import EckrcError
from kubectl_eckrc.kubeconfig import resolve
from kubectl_eckrc.options import SideTarget
from kubectl_eckrc.report import structured
from tests.snapshot_builder import healthy_pair

MEMORY_BOUND = 256 * 1024 * 1024  # bytes a hostile input may make one reader allocate
CHEAP = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                 database=None)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def run_cli(*args: str) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak bytes allocated) of one in-process run."""
    out, err = io.StringIO(), io.StringIO()
    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(list(args))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return code, out.getvalue(), err.getvalue(), peak


def assert_well_behaved(code: int, out: str, err: str, peak: int) -> None:
    assert code in (0, 1, 2, 3), code
    assert peak < MEMORY_BOUND, peak
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) <= 1, err
    assert "internal error" not in err and "Traceback" not in err, err
    if code == 2:
        assert err.count("\n") == 1 and out == "", err


def _zip(files: dict[str, bytes]) -> str:
    handle, path = tempfile.mkstemp(suffix=".zip")
    with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _doctor_on(files: dict[str, bytes], *flags: str) -> None:
    path = _zip(files)
    try:
        assert_well_behaved(*run_cli("doctor", "--bundle", path, *flags))
    finally:
        os.unlink(path)


# --- bundles -------------------------------------------------------------------------------------

_SNAPSHOT = healthy_pair().build()
_REPORT = build_report(_SNAPSHOT, run_checks(_SNAPSHOT))
_MEMBERS = bundle.bundle_members(_SNAPSHOT, {"report.json": structured.render_json(_REPORT)}, {"name": "t"})
_SNAPSHOT_DOC = json.loads(_MEMBERS[bundle.SNAPSHOT])


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _paths(item, (*prefix, i))
    return found


_ALL_PATHS = [p for p in _paths(_SNAPSHOT_DOC) if p]


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    document = json.loads(json.dumps(document))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def _bundle_files(snapshot_doc: Any) -> dict[str, bytes]:
    members = {**_MEMBERS, bundle.SNAPSHOT: json.dumps(snapshot_doc).encode()}
    manifest = bundle.manifest(members, "0.1.0", "2026-06-01T00:00:00Z")  # recomputed: checksums pass
    return {bundle.MANIFEST: json.dumps(manifest).encode(), **members}


@CHEAP
@given(st.lists(st.tuples(st.sampled_from(_ALL_PATHS), json_values), min_size=1, max_size=3))
def test_any_change_to_a_bundles_snapshot_ends_cleanly(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    document: Any = _SNAPSHOT_DOC
    for path, value in changes:
        try:
            document = _replaced(document, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed that path
    _doctor_on(_bundle_files(document))


@CHEAP
@given(st.dictionaries(st.sampled_from(["manifest.json", "snapshot.json", "report.json", "a/b.json",
                                        "x/elasticsearch.json"]), st.binary(max_size=200), max_size=4))
def test_any_member_bytes_end_cleanly(files: dict[str, bytes]) -> None:
    _doctor_on(files)


@CHEAP
@given(st.binary(max_size=300))
def test_any_file_bytes_end_cleanly(data: bytes) -> None:
    handle, path = tempfile.mkstemp(suffix=".zip")
    with os.fdopen(handle, "wb") as raw:
        raw.write(data)
    try:
        assert_well_behaved(*run_cli("doctor", "--bundle", path))
    finally:
        os.unlink(path)


# --- eck-diagnostics -------------------------------------------------------------------------------

_ECK_FILES = ["elasticsearch.json", "pods.json", "services.json", "endpoints.json", "statefulsets.json",
              "configmaps.json", "secrets.json", "events.json",
              "elasticsearch/es/cluster_settings.json", "elasticsearch/es/nodes.json",
              "elasticsearch/es/version.json", "elasticsearch/es/licenses.json"]
_item = st.fixed_dictionaries({"metadata": st.one_of(json_values, st.fixed_dictionaries(
    {"name": st.one_of(st.just("es"), json_values), "namespace": st.just("ns"),
     "labels": json_values}))}, optional={"spec": json_values, "status": json_values})
_listing = st.one_of(json_values, st.fixed_dictionaries({"items": st.lists(_item, max_size=3)}))


@CHEAP
@given(st.dictionaries(st.sampled_from(_ECK_FILES), _listing, min_size=1, max_size=6),
       st.sampled_from([(), ("-n", "ns"), ("-n", "ns", "--es", "es")]))
def test_any_eck_diagnostics_archive_ends_cleanly(files: dict[str, Any], flags: tuple[str, ...]) -> None:
    members = {f"ns/{name}": json.dumps(value).encode() for name, value in files.items()}
    members.setdefault("ns/elasticsearch.json",
                       json.dumps({"items": [{"metadata": {"name": "es", "namespace": "ns"}}]}).encode())
    members["manifest.json"] = json.dumps({"diagType": "eck-diagnostics"}).encode()
    _doctor_on(members, *flags)


def test_an_eck_diagnostics_archive_with_thousands_of_namespaces_is_read_in_one_pass(tmp_path: Path) -> None:
    """Each `<ns>/elasticsearch.json` is one read of an archive opened once (it was one zip
    directory parse per read: quadratic). Counted, not timed."""
    members = {f"ns-{i}/elasticsearch.json": json.dumps({"items": [
        {"metadata": {"name": f"es-{i}", "namespace": f"ns-{i}"}, "spec": {"version": "8.17.0"}}]}).encode()
        for i in range(3000)}
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    opened: list[str] = []
    real = zipfile.ZipFile.__init__

    def counting(self: zipfile.ZipFile, file: Any, *args: Any, **kw: Any) -> None:
        opened.append(str(file))
        real(self, file, *args, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zipfile.ZipFile, "__init__", counting)
        code, out, err, peak = run_cli("doctor", "--bundle", str(path), "-n", "ns-7", "-o", "json")
    assert code in (1, 3), err
    assert json.loads(out)["local"]["elasticsearch"] == "es-7"
    assert opened.count(str(path)) == 1
    assert peak < MEMORY_BOUND


# --- a zip bomb --------------------------------------------------------------------------------------


def test_a_small_bundle_cannot_make_the_reader_use_much_memory(tmp_path: Path) -> None:
    """`[{},{},...]` costs 3 bytes a value on disk, ~70 in memory, and deflates ~1000:1."""
    bomb = b"[" + b"{}," * (10 * 1024 * 1024) + b"{}]"
    files = {**{k: v for k, v in _bundle_files(_SNAPSHOT_DOC).items()}, "snapshot.json": bomb}
    manifest = bundle.manifest({k: v for k, v in files.items() if k != bundle.MANIFEST}, "0.1.0", "x")
    files[bundle.MANIFEST] = json.dumps(manifest).encode()
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    assert path.stat().st_size < 100 * 1024
    # The reader runs under a small Python parent that reports its peak: ru_maxrss of a process
    # forked from pytest itself would count pytest's own pages, which grow with the suite.
    measure = ("import resource, subprocess, sys; "
               "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
               "sys.stderr.write(r.stderr); "
               "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "kubectl_eckrc", "doctor",
                             "--bundle", str(path)], capture_output=True, text=True, timeout=120)
    code, maxrss_kib = (int(v) for v in result.stdout.split())
    err = result.stderr
    assert code == 2, err
    assert "JSON values" in err and err.count("\n") == 1
    assert maxrss_kib * 1024 < MEMORY_BOUND  # ru_maxrss is in KiB on Linux


# --- kubeconfig ----------------------------------------------------------------------------------


_SECTIONS = st.sampled_from(["clusters", "users", "contexts", "current-context", "apiVersion"])
_entry = st.fixed_dictionaries({"name": st.one_of(st.just("x"), json_values)},
                               optional={"cluster": json_values, "user": json_values, "context": json_values})
_kubeconfig = st.dictionaries(_SECTIONS, st.one_of(json_values, st.lists(_entry, max_size=3)), max_size=5)


@CHEAP
@given(st.one_of(_kubeconfig.map(lambda d: json.dumps(d).encode()), st.binary(max_size=200)))
def test_any_kubeconfig_is_read_or_refused_in_one_line(content: bytes) -> None:
    from kubectl_eckrc.collect.kube import KubeClient

    handle, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(handle, "wb") as raw:
        raw.write(content)
    tracemalloc.start()
    try:
        resolved = resolve(SideTarget(kubeconfig=path, context=None, namespace=None, es_name=None))
        KubeClient(resolved, 1.0).close()  # the client library's loader, as doctor uses it
    except EckrcError as e:
        assert e.exit_code in (2, 3) and "\n" not in str(e)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        os.unlink(path)
    assert peak < MEMORY_BOUND
