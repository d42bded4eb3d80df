"""Kubeconfig loading as kubectl does it, without the Kubernetes client.

`KUBECONFIG` may list several files (':' separated): the first file that defines a cluster,
user or context wins, and `current-context` comes from the first file that sets one. Relative
file references are resolved against the file that holds them, so the merged document can be
handed to the client library as one dict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml

from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.options import SideTarget

DEFAULT_PATH = os.path.join("~", ".kube", "config")
SECTIONS = ("clusters", "users", "contexts")
# Fields holding file paths, per section entry kind, that kubectl resolves relative to the file.
PATH_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


@dataclass(frozen=True)
class ResolvedContext:
    """One side's kube connection: which context, which namespace, and the merged config."""

    context: str
    namespace: str  # the --namespace, else the context's, else "default"
    cluster_server: str
    config: dict[str, Any]  # merged kubeconfig document (paths absolute)
    paths: tuple[str, ...]


def kubeconfig_paths(explicit: str | None) -> list[str]:
    raw = explicit if explicit is not None else os.environ.get("KUBECONFIG", "")
    paths = [os.path.expanduser(p) for p in raw.split(os.pathsep) if p.strip()]
    if explicit is not None and not paths:
        raise UsageError("--kubeconfig is empty")
    return paths or [os.path.expanduser(DEFAULT_PATH)]


MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64  # a kubeconfig is a few levels deep; deeper is damage or an attack
MAX_NODES = 1_000_000  # YAML aliases can make a small file a huge document


def _load_file(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as e:
        raise UsageError(f"kubeconfig {path}: file not found") from e
    except OSError as e:
        raise UsageError(f"kubeconfig {path}: {e.strerror or type(e).__name__}") from e
    if len(raw) > MAX_FILE_BYTES:
        raise UsageError(f"kubeconfig {path}: larger than {MAX_FILE_BYTES} bytes")
    try:
        document = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise UsageError(f"kubeconfig {path}: not UTF-8 text (byte {e.start})") from None
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise UsageError(f"kubeconfig {path}: not valid YAML{line}") from None
    except RecursionError:
        raise UsageError(f"kubeconfig {path}: nested too deeply") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise UsageError(f"kubeconfig {path}: not a kubeconfig (expected a mapping)")
    _check_bounds(path, document)
    return document


def _check_bounds(path: str, document: Any) -> None:
    """Iteratively: a recursive walk is what a deeply nested document would break."""
    stack = [(document, 0)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH:
            raise UsageError(f"kubeconfig {path}: nested deeper than {MAX_DEPTH} levels")
        if seen > MAX_NODES:
            raise UsageError(f"kubeconfig {path}: more than {MAX_NODES} values (YAML aliases?)")
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]


def _entries(path: str, document: dict[str, Any], section: str) -> list[dict[str, Any]]:
    entries = document.get(section) or []
    if not isinstance(entries, list):
        raise UsageError(f"kubeconfig {path}: {section} must be a list")
    kind = section[:-1]
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise UsageError(f"kubeconfig {path}: an entry of {section} has no name")
        if not isinstance(entry.get(kind) or {}, dict):
            raise UsageError(f"kubeconfig {path}: {section} entry {entry['name']!r}: "
                             f"{kind} must be a mapping")
    return entries


def _absolutize(entry: dict[str, Any], kind: str, base: str) -> dict[str, Any]:
    body = dict(entry.get(kind) or {})
    for name in PATH_FIELDS.get(kind, ()):
        value = body.get(name)
        if isinstance(value, str) and value and not os.path.isabs(value):
            body[name] = os.path.join(base, os.path.expanduser(value))
    return {**entry, kind: body}


def merge(paths: list[str]) -> dict[str, Any]:
    """Merge kubeconfig files with kubectl's rules. A missing file in a KUBECONFIG list is
    skipped as kubectl does, unless no file exists at all."""
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    seen: dict[str, set[str]] = {s: set() for s in SECTIONS}
    existing = [p for p in paths if os.path.exists(p)] if len(paths) > 1 else paths
    if not existing:
        raise UsageError(f"kubeconfig not found: {', '.join(paths)}")
    for path in existing:
        document = _load_file(path)
        base = os.path.dirname(os.path.abspath(path))
        current = document.get("current-context")
        if current is not None and not isinstance(current, str):
            raise UsageError(f"kubeconfig {path}: current-context must be a string")
        if "current-context" not in merged and current:
            merged["current-context"] = current
        for section in SECTIONS:
            for entry in _entries(path, document, section):
                if entry["name"] in seen[section]:
                    continue
                seen[section].add(entry["name"])
                merged[section].append(_absolutize(entry, section[:-1], base))
    return merged


def _named(config: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    for entry in config.get(section, []):
        if entry.get("name") == name:
            return dict(entry.get(section[:-1]) or {})
    return None


def resolve(target: SideTarget, flag_prefix: str = "") -> ResolvedContext:
    """The context, namespace and merged config for one side; one-line UsageError otherwise."""
    paths = kubeconfig_paths(target.kubeconfig)
    config = merge(paths)
    name = target.context or config.get("current-context")
    if not name:
        raise UsageError(f"no current context in the kubeconfig; pass --{flag_prefix}context")
    context = _named(config, "contexts", name)
    if context is None:
        known = ", ".join(c["name"] for c in config["contexts"]) or "none"
        raise UsageError(f"context {name!r} not found in the kubeconfig (contexts: {known})")
    cluster = _named(config, "clusters", str(context.get("cluster", "")))
    if cluster is None or not cluster.get("server"):
        raise UsageError(f"context {name!r}: its cluster {context.get('cluster')!r} is not defined")
    if context.get("user") and _named(config, "users", str(context["user"])) is None:
        raise UsageError(f"context {name!r}: its user {context.get('user')!r} is not defined")
    for field in ("cluster", "user", "namespace"):
        if context.get(field) is not None and not isinstance(context[field], str):
            raise UsageError(f"context {name!r}: {field} must be a string")
    if not isinstance(cluster.get("server"), str):
        raise UsageError(f"context {name!r}: the server of cluster {context.get('cluster')!r} "
                         "must be a string")
    namespace = target.namespace or context.get("namespace") or "default"
    return ResolvedContext(
        context=name,
        namespace=str(namespace),
        cluster_server=str(cluster["server"]),
        config=config,
        paths=tuple(paths),
    )
