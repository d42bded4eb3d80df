"""Kubeconfig merging follows kubectl: first file wins, current-context from the first that sets it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.kubeconfig import resolve
from kubectl_eckrc.options import SideTarget


def _write(path: Path, server: str, context: str, current: str | None, namespace: str | None = None) -> None:
    ns = f", namespace: {namespace}" if namespace else ""
    current_line = f"current-context: {current}\n" if current else ""
    path.write_text(
        "apiVersion: v1\nkind: Config\n" + current_line
        + f"clusters: [{{name: c, cluster: {{server: '{server}', certificate-authority: ca.pem}}}}]\n"
        + "users: [{name: u, user: {token: t}}]\n"
        + f"contexts: [{{name: {context}, context: {{cluster: c, user: u{ns}}}}}]\n"
    )


def _target(kubeconfig: str | None = None, context: str | None = None,
            namespace: str | None = None) -> SideTarget:
    return SideTarget(kubeconfig=kubeconfig, context=context, namespace=namespace, es_name=None)


def test_several_kubeconfig_paths_merge_first_file_wins(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    _write(first, "https://127.0.0.1:1", "local", None)
    _write(second, "https://127.0.0.2:2", "remote", "remote", "search")
    monkeypatch.setenv("KUBECONFIG", f"{first}{os.pathsep}{tmp_path / 'missing'}{os.pathsep}{second}")
    resolved = resolve(_target())
    assert resolved.context == "remote" and resolved.namespace == "search"
    assert resolved.cluster_server == "https://127.0.0.1:1"  # cluster "c" from the first file
    assert resolved.config["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "ca.pem")
    assert resolve(_target(context="local")).namespace == "default"


def test_namespace_flag_wins_over_the_context(tmp_path: Path) -> None:
    _write(tmp_path / "k", "https://127.0.0.1:1", "local", "local", "logging")
    assert resolve(_target(str(tmp_path / "k"), namespace="other")).namespace == "other"


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="file not found"):
        resolve(_target(str(tmp_path / "nope")))


def test_no_current_context_asks_for_one(tmp_path: Path) -> None:
    _write(tmp_path / "k", "https://127.0.0.1:1", "local", None)
    with pytest.raises(UsageError, match="--context"):
        resolve(_target(str(tmp_path / "k")))


def test_not_a_mapping_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "k").write_text("- just\n- a list\n")
    with pytest.raises(UsageError, match="not a kubeconfig"):
        resolve(_target(str(tmp_path / "k")))
