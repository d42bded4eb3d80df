"""Release helpers for scripts/build-binary and the packaging tests: the platform tag, the
deterministic krew archive, and the hash of everything a binary is built from.

Standard library only, so it runs before (and without) the project being installed.

    python scripts/release.py platform                 -> linux_amd64
    python scripts/release.py source-hash              -> sha256 of the build inputs
    python scripts/release.py source-date-epoch        -> time of the last commit changing them
    python scripts/release.py build-info --out F       -> F: that commit and time, as JSON
    python scripts/release.py archive --binary B --license L --out-dir D --mtime N
                                                       -> D/kubectl-eckrc_<os>_<arch>.tar.gz + .sha256
                                                          (.zip with kubectl-eckrc.exe on Windows)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import io
import json
import platform
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY_NAME = "kubectl-eckrc"
# kubectl (1.26+) runs it from PATH to complete `kubectl eckrc ...` (a POSIX sh script: the
# tar.gz archives carry it, the Windows zip does not).
COMPLETION_NAME = "kubectl_complete-eckrc"
COMPLETION_SCRIPT = ROOT / "packaging" / COMPLETION_NAME
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
# What a binary is built from, besides the installed distributions (relative to ROOT).
BUILD_INPUTS = (
    "pyproject.toml",
    "LICENSE",
    "packaging",
    "kubectl_eckrc",
    "scripts/build-binary",
    "scripts/release.py",
)


def platform_tag(system: str | None = None, machine: str | None = None) -> str:
    """krew's <os>_<arch> for this machine, e.g. linux_amd64, darwin_arm64."""
    os_name = (system or platform.system()).lower()
    raw = (machine or platform.machine()).lower()
    if raw not in ARCHES:
        raise SystemExit(f"unsupported machine architecture {raw!r}")
    return f"{os_name}_{ARCHES[raw]}"


def is_windows(tag: str) -> bool:
    return tag.startswith("windows_")


def binary_file_name(tag: str) -> str:
    """kubectl finds plugins on Windows only with an .exe (or other PATHEXT) suffix."""
    return f"{BINARY_NAME}.exe" if is_windows(tag) else BINARY_NAME


def archive_name(tag: str) -> str:
    """A zip for Windows, where it is what users open; krew reads both kinds."""
    return f"{BINARY_NAME}_{tag}.zip" if is_windows(tag) else f"{BINARY_NAME}_{tag}.tar.gz"


def source_hash(root: Path = ROOT) -> str:
    """Changes whenever a rebuild could give a different binary: the sources, the spec, the
    build scripts, the Python version and every installed distribution's version."""
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()):
        digest.update(dist.encode() + b"\n")
    for path in _input_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def source_date_epoch(root: Path = ROOT) -> int:
    """The time of the last commit that changed a build input: committing anything else (such
    as a regenerated plugin.yaml) leaves the archive's bytes, and so its sha256, unchanged."""
    return int(_last_input_commit("%ct", root))


def source_commit(root: Path = ROOT) -> str:
    """The last commit that changed a build input (not HEAD, for the same reason as above)."""
    return _last_input_commit("%H", root)


def _last_input_commit(field: str, root: Path) -> str:
    out = subprocess.run(
        ["git", "log", "-1", f"--format={field}", "--", *BUILD_INPUTS],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    if not out:
        raise SystemExit("no commit touches the build inputs: set SOURCE_DATE_EPOCH")
    return out


def build_info(commit: str, epoch: int) -> str:
    """What `kubectl eckrc version` of a binary reports (kubectl_eckrc/commands/version.py)."""
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    return json.dumps({"gitCommit": commit, "buildDate": date}, sort_keys=True) + "\n"


def _input_files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in BUILD_INPUTS:
        path = root / name
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            files.append(path)
    return sorted(files)


def tar_entry(name: str, data: bytes, mode: int, mtime: int) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""  # no owner names: the builder's account must not show
    return info, io.BytesIO(data)


def archive_bytes(binary: Path, license_file: Path, mtime: int) -> bytes:
    """The tar.gz as bytes: sorted entries, fixed mtime, uid/gid 0, gzip header without a
    name or a time, so the same inputs always give the same bytes."""
    entries = {
        BINARY_NAME: (binary.read_bytes(), 0o755),
        COMPLETION_NAME: (COMPLETION_SCRIPT.read_bytes(), 0o755),
        "LICENSE": (license_file.read_bytes(), 0o644),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(entries):
            data, mode = entries[name]
            tar.addfile(*tar_entry(name, data, mode, mtime))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def zip_archive_bytes(binary: Path, license_file: Path, mtime: int) -> bytes:
    """The Windows zip, as fixed as the tar.gz: sorted entries, one date, fixed attributes."""
    entries = {f"{BINARY_NAME}.exe": binary.read_bytes(), "LICENSE": license_file.read_bytes()}
    # zip dates have no time zone and start in 1980
    date_time = time.gmtime(max(mtime, 315532800))[:6]
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # MS-DOS: no Unix mode bits from the build machine
            archive.writestr(info, entries[name])
    return packed.getvalue()


def write_archive(binary: Path, license_file: Path, out_dir: Path, mtime: int, tag: str) -> Path:
    """Write the archive and its `sha256sum`-format checksum file; return the archive path."""
    if is_windows(tag):
        data = zip_archive_bytes(binary, license_file, mtime)
    else:
        data = archive_bytes(binary, license_file, mtime)
    path = out_dir / archive_name(tag)
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    # LF on every OS: `sha256sum -c` reads a CRLF line as a file name ending in \r
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n", newline="\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("platform", help="print <os>_<arch>")
    sub.add_parser("source-hash", help="print the hash of the build inputs")
    sub.add_parser("source-date-epoch", help="print the time of the last commit changing a build input")
    info = sub.add_parser("build-info", help="write that commit and time as the binary's build info")
    info.add_argument("--out", type=Path, required=True)
    info.add_argument("--mtime", type=int, required=True, help="the build date (SOURCE_DATE_EPOCH)")
    arch = sub.add_parser("archive", help="write the krew archive and its .sha256")
    arch.add_argument("--binary", type=Path, required=True)
    arch.add_argument("--license", type=Path, required=True)
    arch.add_argument("--out-dir", type=Path, required=True)
    arch.add_argument("--mtime", type=int, required=True, help="entry mtime (SOURCE_DATE_EPOCH)")
    arch.add_argument("--platform", default=None, help="<os>_<arch> (default: this machine)")
    args = parser.parse_args(argv)
    if args.command == "platform":
        print(platform_tag())
    elif args.command == "source-hash":
        print(source_hash())
    elif args.command == "source-date-epoch":
        print(source_date_epoch())
    elif args.command == "build-info":
        args.out.write_text(build_info(source_commit(), args.mtime), encoding="utf-8", newline="\n")
    else:
        tag = args.platform or platform_tag()
        print(write_archive(args.binary, args.license, args.out_dir, args.mtime, tag))
    return 0


if __name__ == "__main__":
    sys.exit(main())
