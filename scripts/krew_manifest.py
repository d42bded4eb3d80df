"""Render and check the krew manifest of kubectl-eckrc (run it as scripts/krew-manifest).

    krew-manifest --render --version v0.1.0 --dist dist/ --base-url URL > plugin.yaml
    krew-manifest --check plugin.yaml [--check-archive dist/kubectl-eckrc_linux_amd64.tar.gz ...]

--render fills every platform's uri and sha256 from the archives scripts/build-binary left in
--dist (kubectl-eckrc_<os>_<arch>.tar.gz, .zip for windows, and .sha256): one platform entry per
archive found, or exactly the --platforms asked for (an archive missing for one of them is an
error).
--check prints each broken rule of scripts/krew_rules.py and exits 1, or prints "ok".
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import yaml
from krew_rules import check_archive, check_manifest
from release import BINARY_NAME as BINARY
from release import COMPLETION_NAME, archive_name, binary_file_name

PLUGIN_NAME = "eckrc"
RELEASE_PLATFORMS = ("linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64")
HOMEPAGE = "https://github.com/kubectl-eckrc/kubectl-eckrc"
# krew-index reviewers ask for at most 50 characters here, and for a description wrapped at
# 80 columns without usage examples (scripts/krew_rules.py, rules R1-R2).
SHORT_DESCRIPTION = "Diagnose and repair ECK remote-cluster links"
DESCRIPTION = """\
Diagnoses and repairs Elasticsearch remote-cluster links (cross-cluster search
and replication) between ECK-managed clusters that live in different
Kubernetes clusters. It reads both sides and the network between them, down to
a TLS handshake with the address the local cluster dials, and names the cause
of a broken link with its evidence and its fix. It shows the repair plan as
diffs and applies it only when asked, and writes redacted support bundles that
it can diagnose offline.
"""
CAVEATS = f"""\
kubectl eckrc needs these permissions. Least-privilege Roles to apply with
`kubectl apply -n <es-namespace> -f`:
  {HOMEPAGE}/blob/main/docs/rbac.yaml
- doctor and collect only read. In the Elasticsearch namespaces: get/list
  elasticsearches; list services, endpoints, pods, statefulsets, events; get
  configmaps and secrets (by name); get/create pods/portforward. Cluster-wide:
  get customresourcedefinitions, create selfsubjectaccessreviews. doctor names
  any missing permission (check ECKRC103).
- fix --apply also patches elasticsearches and creates/patches configmaps,
  secrets and services.
"""


def platform_entry(os_name: str, arch: str, uri: str, sha256: str) -> dict[str, Any]:
    binary = binary_file_name(f"{os_name}_{arch}")
    return {
        "selector": {"matchLabels": {"os": os_name, "arch": arch}},
        "uri": uri,
        "sha256": sha256,
        "bin": binary,
        "files": [{"from": binary, "to": "."}, {"from": "LICENSE", "to": "."}]
        + ([] if os_name == "windows" else [{"from": COMPLETION_NAME, "to": "."}]),
    }


def archive_sha256(archive: Path) -> str:
    """From the .sha256 file build-binary wrote, checked against the archive itself."""
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    recorded_file = archive.with_name(archive.name + ".sha256")
    if recorded_file.exists() and recorded_file.read_text().split()[0] != digest:
        raise SystemExit(f"{recorded_file} does not match {archive.name}: rebuild it")
    return digest


def render(version: str, dist: Path, base_url: str, platforms: tuple[str, ...] | None) -> dict[str, Any]:
    wanted = platforms or tuple(p for p in RELEASE_PLATFORMS if _archive(dist, p).exists())
    if not wanted:
        raise SystemExit(f"no {BINARY}_<os>_<arch> archive in {dist}: run scripts/build-binary first")
    entries = []
    for platform in wanted:
        archive = _archive(dist, platform)
        if not archive.exists():
            raise SystemExit(f"{archive} is missing: build it on {platform}")
        os_name, arch = platform.split("/")
        uri = f"{base_url.rstrip('/')}/{version}/{archive.name}"
        entries.append(platform_entry(os_name, arch, uri, archive_sha256(archive)))
    return {
        "apiVersion": "krew.googlecontainertools.github.com/v1alpha2",
        "kind": "Plugin",
        "metadata": {"name": PLUGIN_NAME},
        "spec": {
            "version": version,
            "homepage": HOMEPAGE,
            "shortDescription": SHORT_DESCRIPTION,
            "description": DESCRIPTION,
            "caveats": CAVEATS,
            "platforms": entries,
        },
    }


def _archive(dist: Path, platform: str) -> Path:
    return dist / archive_name(platform.replace("/", "_"))


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks, so description and caveats read as written."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def to_yaml(doc: dict[str, Any]) -> str:
    header = "# Generated by scripts/krew-manifest --render from the archives of scripts/build-binary.\n"
    return header + yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, width=100, default_flow_style=False)


def check(path: Path, name: str, archives: list[Path]) -> list[str]:
    doc = yaml.safe_load(path.read_text())
    broken = [str(b) for b in check_manifest(doc, path.name, name)]
    if broken:
        return broken
    by_file = {p["uri"].rsplit("/", 1)[-1]: p for p in doc["spec"]["platforms"]}
    for archive in archives:
        platform = by_file.get(archive.name)
        if platform is None:
            broken.append(f"no platform in {path.name} has an uri ending in {archive.name}")
        else:
            broken += [f"{archive.name}: {b}" for b in check_archive(platform, archive)]
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="krew-manifest", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--render", action="store_true", help="print a manifest built from --dist")
    mode.add_argument("--check", type=Path, metavar="FILE", help="validate a manifest")
    parser.add_argument("--version", help="release version, e.g. v0.1.0 (--render)")
    parser.add_argument("--dist", type=Path, default=Path("dist"), help="where the archives are (--render)")
    parser.add_argument(
        "--base-url",
        help=f"release download URL without the version (--render), e.g. {HOMEPAGE}/releases/download",
    )
    parser.add_argument(
        "--platforms", help=f"comma-separated os/arch list, e.g. {','.join(RELEASE_PLATFORMS)}"
    )
    parser.add_argument("--name", default=PLUGIN_NAME, help="expected metadata.name (--check)")
    parser.add_argument(
        "--check-archive",
        type=Path,
        action="append",
        default=[],
        metavar="ARCHIVE",
        help="also verify a local archive against its platform (--check; repeatable)",
    )
    args = parser.parse_args(argv)
    if args.render:
        if not args.version or not args.base_url:
            parser.error("--render needs --version and --base-url")
        platforms = tuple(args.platforms.split(",")) if args.platforms else None
        sys.stdout.write(to_yaml(render(args.version, args.dist, args.base_url, platforms)))
        return 0
    broken = check(args.check, args.name, args.check_archive)
    for line in broken:
        print(line)
    if not broken:
        print("ok")
    return 1 if broken else 0
