"""A zip reader for archives we did not write: nothing touches the disk, everything is capped.

A support bundle or an eck-diagnostics archive arrives from someone else's machine. It may be
truncated, hand-edited, or hostile (`../` entries, a zip bomb, JSON that decodes to far more
memory than it takes on disk). This reader never extracts: it opens the zip once, reads
members into memory, refuses unsafe names, caps each member, the bytes and the members read
in all, and the values a JSON member may decode to, and turns every problem into one
`UsageError` line (exit 2) that names the archive and the member.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from kubectl_eckrc.errors import UsageError

MAX_MEMBER_BYTES = 32 * 1024 * 1024  # uncompressed, per member
MAX_TOTAL_BYTES = 96 * 1024 * 1024  # uncompressed, everything we read from one archive
MAX_MEMBERS = 100_000  # an eck-diagnostics archive of a big operator holds a few thousand
MAX_READS = 20_000  # members read from one archive (each namespace's elasticsearch.json, ...)
# JSON values one member may hold: a value costs 30-100 bytes of memory once decoded, whatever
# it cost on disk (`[{},{},...]` is 3 bytes a value), so this, not the byte cap, bounds memory.
MAX_JSON_VALUES = 2_000_000
_CHUNK = 1024 * 1024
# Kubernetes objects and Elasticsearch answers are a few dozen levels deep at most; every
# later step (sanitizing, checks, rendering) walks values recursively.
MAX_JSON_DEPTH = 100


def too_deep(value: Any, limit: int) -> bool:
    """Iteratively, as a recursive walk is what a deep value would break."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, depth + 1) for v in item]
    return False


class Archive:
    """The validated member list of a zip file; members are read on demand, in memory, and
    the bytes read are counted against MAX_TOTAL_BYTES (only what is read is decompressed, so
    an eck-diagnostics archive with large logs we never open is still usable)."""

    def __init__(self, path: str, sizes: dict[str, int], dates: dict[str, str] | None = None,
                 zf: zipfile.ZipFile | None = None, budget: Budget | None = None) -> None:
        self.path = path
        self.sizes = sizes
        self.dates = dates or {}  # member -> its zip timestamp, ISO 8601 (zip times carry no zone)
        self.names = tuple(sizes)
        self.prefix = ""  # members live under this folder of the zip (see within())
        self._zip = zf  # one open ZipFile for every read (its directory is parsed once)
        self._budget = budget or Budget()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def within(self, directory: str) -> Archive:
        """The members under `directory/`, named relative to it: an archive wrapped in a folder."""
        prefix = directory.rstrip("/") + "/"
        sizes = {n[len(prefix):]: s for n, s in self.sizes.items() if n.startswith(prefix)}
        dates = {n[len(prefix):]: d for n, d in self.dates.items() if n.startswith(prefix)}
        inner = Archive(self.path, sizes, dates, self._zip, self._budget)
        inner.prefix = self.prefix + prefix
        return inner

    def top_directories(self) -> set[str]:
        return {n.split("/", 1)[0] for n in self.names if "/" in n} | {n for n in self.names if "/" not in n}

    def has(self, name: str) -> bool:
        return name in self.sizes

    def read_bytes(self, name: str) -> bytes:
        if name not in self.sizes:
            raise UsageError(f"{self.path}: the archive has no {name}")
        if self.sizes[name] > MAX_MEMBER_BYTES:
            raise UsageError(
                f"{self.path}: member {name} is {self.sizes[name]} bytes uncompressed "
                f"(limit {MAX_MEMBER_BYTES})"
            )
        budget = self._budget
        budget.reads += 1
        if budget.reads > MAX_READS:
            raise UsageError(f"{self.path}: more than {MAX_READS} members read")
        if budget.total + self.sizes[name] > MAX_TOTAL_BYTES:
            raise UsageError(f"{self.path}: more than {MAX_TOTAL_BYTES} bytes uncompressed read in all")
        try:
            if self._zip is None:
                self._zip = zipfile.ZipFile(self.path)
            with self._zip.open(self.prefix + name) as member:
                data = _read_capped(member, self.path, name)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
                RuntimeError, ValueError) as exc:
            raise UsageError(f"{self.path}: cannot read {name}: {_one_line(exc)}") from None
        budget.total += len(data)
        if budget.total > MAX_TOTAL_BYTES:
            raise UsageError(f"{self.path}: more than {MAX_TOTAL_BYTES} bytes uncompressed read in all")
        return data

    def read_text(self, name: str) -> str:
        try:
            return self.read_bytes(name).decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{self.path}: {name} is not UTF-8 text") from None

    def read_json(self, name: str) -> Any:
        return self.parse_json(name, self.read_bytes(name))

    def parse_json(self, name: str, data: bytes) -> Any:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{self.path}: {name} is not UTF-8 text") from None
        values = text.count(",") + text.count("[") + text.count("{") + 1
        if values > MAX_JSON_VALUES:
            raise UsageError(f"{self.path}: {name} holds more than {MAX_JSON_VALUES} JSON values")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{self.path}: {name} is not valid JSON (line {exc.lineno}, column {exc.colno})"
            ) from None
        except RecursionError:
            raise UsageError(f"{self.path}: {name} is nested too deeply to be read") from None
        if too_deep(value, MAX_JSON_DEPTH):
            raise UsageError(f"{self.path}: {name} is nested deeper than {MAX_JSON_DEPTH} levels")
        return value


@dataclass
class Budget:
    """What one archive has cost so far (shared by the views `within` makes)."""

    reads: int = 0
    total: int = 0


def open_archive(path: str) -> Archive:
    """Validate the zip's central directory; raise UsageError on anything unsafe or broken.
    The archive stays open for its reads: close it (or use it as a context manager)."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory, expected a zip file")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as exc:
        raise UsageError(f"{path}: not a readable zip file ({_one_line(exc)})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot open: {_one_line(exc)}") from None
    try:
        infos = zf.infolist()
        dates = {i.filename: "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*i.date_time)
                 for i in infos}
        return Archive(path, _checked_sizes(path, infos), dates, zf)
    except BaseException:
        zf.close()
        raise


def _checked_sizes(path: str, infos: list[zipfile.ZipInfo]) -> dict[str, int]:
    if len(infos) > MAX_MEMBERS:
        raise UsageError(f"{path}: too many members ({len(infos)} > {MAX_MEMBERS})")
    sizes: dict[str, int] = {}
    for info in infos:
        if info.is_dir():
            continue
        _check_name(path, info.filename)
        if info.filename in sizes:
            raise UsageError(f"{path}: member {info.filename!r} appears twice")
        sizes[info.filename] = info.file_size
    return sizes


def _check_name(path: str, name: str) -> None:
    """Refuse names that would escape a directory if anyone ever extracted them."""
    parts = name.replace("\\", "/").split("/")
    unsafe = (
        name.startswith(("/", "\\"))
        or (len(name) > 1 and name[1] == ":")
        or ".." in parts
        or "\x00" in name
    )
    if unsafe:
        raise UsageError(f"{path}: unsafe member name {name!r} (absolute or outside the archive)")


def _read_capped(member: Any, path: str, name: str) -> bytes:
    """Read at most MAX_MEMBER_BYTES: the declared size can lie, the cap cannot."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = member.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_MEMBER_BYTES:
            raise UsageError(f"{path}: member {name} exceeds {MAX_MEMBER_BYTES} bytes uncompressed")
        chunks.append(chunk)


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
