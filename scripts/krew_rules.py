"""The krew plugin-manifest rules, as krew and the krew-index CI apply them.

Numbers follow the summary of kubernetes-sigs/krew's validation (internal/index/validation,
cmd/validate-krew-manifest, internal/installation and internal/download):
  1-8   structural validation (`ValidatePlugin`), run by krew on every manifest it reads
  9-11  extra checks of `validate-krew-manifest` (file extension, supported and
        non-overlapping platform selectors)
  13-18 what `kubectl krew install` enforces on an archive (license, checksum, archive type,
        entry paths, `files` operations, `bin`)
  P1    this project's own rule: release URIs are https.
  R1-R2 what krew-index reviewers ask of every new plugin (their bot's tips on each pull
        request): a shortDescription of at most 50 characters, a description wrapped at 80
        columns (docs/install.md, "Before submitting to krew-index").

`check_manifest` and `check_archive` return the broken rules; an empty list means valid.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import io
import posixpath
import re
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"
SAFE_NAME = re.compile(r"^[\w-]+$")
WINDOWS_RESERVED = (
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
)
SHA256 = re.compile(r"^[a-f0-9]{64}$")
_IDENT = r"[0-9A-Za-z-]+"
SEMVER = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?(?:\+({_IDENT}(?:\.{_IDENT})*))?$"
)
SUPPORTED_PLATFORMS = (
    ("windows", "386"), ("windows", "amd64"), ("windows", "arm64"),
    ("linux", "386"), ("linux", "amd64"), ("linux", "arm"), ("linux", "arm64"), ("linux", "ppc64le"),
    ("darwin", "386"), ("darwin", "amd64"), ("darwin", "arm64"),
)  # fmt: skip
SELECTOR_KEYS = {"os", "arch"}
SHORT_DESCRIPTION_MAX = 50
DESCRIPTION_WIDTH = 80
LICENSE_NAMES = {
    "license",
    "license.txt",
    "license.md",
    "licenses",
    "licenses.txt",
    "licenses.md",
    "copying",
    "copying.txt",
}


@dataclass(frozen=True)
class Broken:
    """One broken rule: its number and name, and what exactly is wrong."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.message}"


# --- the manifest ------------------------------------------------------------------------------


def check_manifest(doc: Any, file_name: str, expected_name: str) -> list[Broken]:
    """Every rule a manifest can break without downloading anything (1-11, P1, R1-R2)."""
    if not isinstance(doc, dict):
        return [Broken("1 (apiVersion)", "the manifest is not a YAML mapping")]
    spec = _mapping(doc.get("spec"))
    meta = _mapping(doc.get("metadata"))
    broken = _check_header(doc, meta, expected_name) + _check_spec(spec) + _check_review(spec)
    if not file_name.endswith(".yaml"):
        broken.append(Broken("9 (extension)", f"manifest file {file_name!r} must end in .yaml"))
    platforms = spec.get("platforms")
    if isinstance(platforms, list):
        for index, platform in enumerate(platforms):
            broken += [Broken(b.rule, f"platform[{index}]: {b.message}") for b in check_platform(platform)]
        broken += _check_selectors_cover(platforms)
    return broken


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _check_header(doc: dict[str, Any], meta: dict[str, Any], expected_name: str) -> list[Broken]:
    broken = []
    if doc.get("apiVersion") != API_VERSION:
        broken.append(Broken("1 (apiVersion)", f"apiVersion={doc.get('apiVersion')!r}, want {API_VERSION!r}"))
    if doc.get("kind") != "Plugin":
        broken.append(Broken("2 (kind)", f"kind={doc.get('kind')!r}, want 'Plugin'"))
    name = meta.get("name")
    if not isinstance(name, str) or not is_safe_name(name):
        broken.append(
            Broken("3 (name)", f"the plugin name {name!r} is not allowed, must match {SAFE_NAME.pattern}")
        )
    if name != expected_name:
        broken.append(Broken("4 (metadata.name)", f"metadata.name={name!r}, want {expected_name!r}"))
    return broken


def _check_spec(spec: dict[str, Any]) -> list[Broken]:
    broken = []
    short = spec.get("shortDescription")
    if not isinstance(short, str) or not short:
        broken.append(Broken("5 (shortDescription)", "spec.shortDescription is required"))
    elif "\r" in short or "\n" in short:
        broken.append(Broken("5 (shortDescription)", "spec.shortDescription must be one line"))
    platforms = spec.get("platforms")
    if not isinstance(platforms, list) or not platforms:
        broken.append(Broken("6 (platforms)", "spec.platforms must be a non-empty list"))
    version = spec.get("version")
    if not isinstance(version, str) or not version:
        broken.append(Broken("7 (version)", "spec.version is required"))
    elif not version.startswith("v"):
        broken.append(Broken("7 (version)", f"version string {version!r} not starting with 'v'"))
    elif not SEMVER.match(version):
        broken.append(Broken("7 (version)", f"version {version!r} is not vMAJOR.MINOR.PATCH[-pre][+build]"))
    return broken


def _check_review(spec: dict[str, Any]) -> list[Broken]:
    broken = []
    short = spec.get("shortDescription")
    if isinstance(short, str) and len(short) > SHORT_DESCRIPTION_MAX:
        broken.append(Broken("R1 (shortDescription length)",
                             f"{len(short)} characters, reviewers ask for at most {SHORT_DESCRIPTION_MAX}"))
    for field in ("description", "caveats"):
        text = spec.get(field)
        lines = str(text or "").splitlines()
        long_lines = [n for n, line in enumerate(lines, 1) if len(line) > DESCRIPTION_WIDTH]
        if long_lines:
            broken.append(Broken("R2 (wrapped at 80)", f"{field} lines {long_lines} are longer than "
                                 f"{DESCRIPTION_WIDTH} characters"))
    return broken


def is_safe_name(name: str) -> bool:
    return bool(SAFE_NAME.match(name)) and name.lower() not in WINDOWS_RESERVED


def check_platform(platform: Any) -> list[Broken]:
    """Rule 8 (a-e) and P1 for one entry of spec.platforms."""
    if not isinstance(platform, dict):
        return [Broken("8 (platform)", "platform is not a mapping")]
    broken = []
    uri, sha, binary = platform.get("uri"), platform.get("sha256"), platform.get("bin")
    if not isinstance(uri, str) or not uri:
        broken.append(Broken("8a (uri)", "uri is required"))
    elif not uri.startswith("https://"):
        broken.append(Broken("P1 (uri https)", f"uri {uri!r} must be an https:// URL"))
    if not isinstance(sha, str) or not sha:
        broken.append(Broken("8b (sha256)", "sha256 is required"))
    elif not SHA256.match(sha):
        broken.append(Broken("8b (sha256)", f"sha256 {sha!r} must match {SHA256.pattern} (lowercase hex)"))
    if not isinstance(binary, str) or not binary:
        broken.append(Broken("8c (bin)", "bin is required"))
    elif not is_clean_relative(binary):
        broken.append(Broken("18 (bin)", f"bin {binary!r} must be a clean path inside the install directory"))
    broken += check_files(platform.get("files", None), "files" in platform)
    broken += check_selector(platform.get("selector"))
    return broken


def check_files(files: Any, present: bool) -> list[Broken]:
    if not present:
        return []
    if not isinstance(files, list) or not files:
        return [Broken("8d (files)", "`files` has to be unspecified or non-empty")]
    broken = []
    for index, entry in enumerate(files):
        source = entry.get("from") if isinstance(entry, dict) else None
        target = entry.get("to") if isinstance(entry, dict) else None
        if not source or not target:
            broken.append(Broken("8d (files)", f"files[{index}] needs non-empty `from` and `to`"))
        elif not is_clean_relative(str(target)):
            clean = posixpath.normpath(str(target))
            broken.append(
                Broken(
                    "17 (files)",
                    f"files[{index}].to: the provided path is not clean, {target!r} "
                    f"should be {clean!r} and stay inside the install directory",
                )
            )
    return broken


def is_clean_relative(path: str) -> bool:
    clean = posixpath.normpath(path)
    return (
        clean == path and not path.startswith(("/", "\\")) and clean != ".." and not clean.startswith("../")
    )


def check_selector(selector: Any) -> list[Broken]:
    """Rule 8e: present, not empty, only the keys os and arch."""
    if not isinstance(selector, dict):
        return [Broken("8e (selector)", "selector is required")]
    labels, expressions = selector.get("matchLabels"), selector.get("matchExpressions")
    if "matchLabels" in selector and not labels:
        return [Broken("8e (selector)", "matchLabels is present but empty")]
    if "matchExpressions" in selector and not expressions:
        return [Broken("8e (selector)", "matchExpressions is present but empty")]
    if not labels and not expressions:
        return [Broken("8e (selector)", "selector is empty")]
    keys = list((labels or {}).keys()) + [e.get("key") for e in (expressions or []) if isinstance(e, dict)]
    return [Broken("8e (selector)", f"key {key!r} not supported") for key in keys if key not in SELECTOR_KEYS]


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels AND every matchExpression)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _check_selectors_cover(platforms: list[Any]) -> list[Broken]:
    """Rules 10 and 11: every selector picks a supported platform; none is picked twice."""
    broken = []
    selected: dict[tuple[str, str], list[int]] = {}
    for index, platform in enumerate(platforms):
        selector = platform.get("selector") if isinstance(platform, dict) else None
        if not isinstance(selector, dict) or check_selector(selector):
            continue  # already reported under 8e
        matched = [
            pair
            for pair in SUPPORTED_PLATFORMS
            if selector_matches(selector, {"os": pair[0], "arch": pair[1]})
        ]
        if not matched:
            broken.append(
                Broken(
                    "10 (selector)",
                    f"spec.platform[{index}]'s selector ({selector}) doesn't match any supported platforms",
                )
            )
        for pair in matched:
            selected.setdefault(pair, []).append(index)
    for (os_name, arch), indexes in selected.items():
        if len(indexes) > 1:
            broken.append(
                Broken(
                    "11 (overlapping selectors)",
                    f"multiple spec.platforms (at indexes {indexes}) "
                    f"have overlapping selectors that select {os_name}/{arch}",
                )
            )
    return broken


# --- an archive --------------------------------------------------------------------------------


def check_archive(platform: dict[str, Any], archive: Path) -> list[Broken]:
    """Rules 13-18 for one platform against a local archive, as `krew install --archive` would."""
    data = archive.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != platform.get("sha256"):
        return [
            Broken("14 (checksum)", f"checksum does not match, want: {platform.get('sha256')}, got {digest}")
        ]
    names = archive_entries(data)
    if names is None:
        return [Broken("15 (archive type)", f"{archive.name} is neither a tar.gz nor a zip archive")]
    broken = [
        Broken("16 (archive paths)", f"suspicious entry {n!r}")
        for n in names
        if ".." in n or n.startswith(("/", "\\"))
    ]
    installed = installed_files(platform.get("files"), names)
    if isinstance(installed, Broken):
        return broken + [installed]
    if platform.get("bin") not in installed:
        broken.append(
            Broken("18 (bin)", f"source binary {platform.get('bin')!r} cannot be found in the archive")
        )
    if not any(posixpath.basename(n).lower() in LICENSE_NAMES for n in installed):
        broken.append(Broken("13 (license)", f"could not find license file among {sorted(installed)}"))
    return broken


def archive_entries(data: bytes) -> list[str] | None:
    """File names in a tar.gz or zip, sniffed by content as krew does; None for anything else."""
    if data[:2] == b"\x1f\x8b":
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
            return [m.name for m in tar.getmembers() if m.isfile()]
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [n for n in archive.namelist() if not n.endswith("/")]
    return None


def installed_files(files: Any, names: list[str]) -> set[str] | Broken:
    """What lands in the install directory: everything without `files`, else each glob's match."""
    if not files:
        return set(names)
    installed: set[str] = set()
    for entry in files:
        matched = [n for n in names if fnmatch.fnmatchcase(n, entry["from"])]
        if not matched:
            return Broken(
                "17 (files)", f"no files in the plugin archive matched the glob pattern={entry['from']}"
            )
        target = entry["to"]
        for name in matched:
            installed.add(posixpath.normpath(posixpath.join(target, posixpath.basename(name))))
    return installed
