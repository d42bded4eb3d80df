"""The GitHub workflows do what docs/install.md promises: every krew platform built on its own
runner and smoke-tested there, the five-platform manifest rendered from what was built, and the
supply-chain rules (actions pinned by commit, least permissions, no expression expanded inside
a shell script). scripts/test also runs actionlint and zizmor on them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FIVE_PLATFORMS = ["linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"]
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def workflow(name: str) -> dict[str, Any]:
    doc: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean true; GitHub reads it as "on"
    doc["on"] = doc.pop(True)
    return doc


def steps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_name, step) for job_name, job in doc["jobs"].items() for step in job["steps"]]


def run_text(doc: dict[str, Any], job: str) -> str:
    return "\n".join(step.get("run", "") for step in doc["jobs"][job]["steps"])


@pytest.mark.parametrize("name", ["release.yml", "ci.yml"])
def test_every_action_is_pinned_by_commit_with_its_version_in_a_comment(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for action, comment in uses:
        assert PINNED.match(action), action
        assert re.match(r"\s+# v\d+\.\d+\.\d+$", comment), (action, comment)


@pytest.mark.parametrize("name", ["release.yml", "ci.yml"])
def test_permissions_are_none_by_default_and_granted_per_job(name: str) -> None:
    doc = workflow(name)
    assert doc["permissions"] == {}
    for job_name, job in doc["jobs"].items():
        assert job["permissions"] in ({"contents": "read"}, {"contents": "write"}), job_name
        for _, step in steps({"jobs": {job_name: job}}):
            if "actions/checkout" in step.get("uses", ""):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", ["release.yml", "ci.yml"])
def test_no_expression_is_expanded_inside_a_shell_script(name: str) -> None:
    for job_name, step in steps(workflow(name)):
        assert "${{" not in step.get("run", ""), (job_name, step.get("name"))


def test_only_the_publishing_job_may_write_and_only_it_sees_the_token() -> None:
    doc = workflow("release.yml")
    writers = [name for name, job in doc["jobs"].items() if job["permissions"].get("contents") == "write"]
    assert writers == ["publish"]
    token_steps = [step.get("name") for _, step in steps(doc) if "github.token" in str(step.get("env", ""))]
    assert token_steps == ["Upload to the release"]


def test_release_builds_each_krew_platform_on_its_own_runner() -> None:
    doc = workflow("release.yml")
    assert doc["on"] == {"push": {"tags": ["v*.*.*"]}}
    build = doc["jobs"]["build"]
    platforms = [f"{p['os']}/{p['arch']}" for p in build["strategy"]["matrix"]["include"]]
    assert platforms == FIVE_PLATFORMS
    assert len({p["runner"] for p in build["strategy"]["matrix"]["include"]}) == 5
    assert build["defaults"]["run"]["shell"] == "bash"
    script = run_text(doc, "build")
    assert "scripts/build-binary --dist dist" in script
    assert "python scripts/smoke_binary.py dist" in script
    assert "python scripts/release.py platform" in script  # a runner of the wrong kind fails
    uploaded = next(s for _, s in steps(doc) if "upload-artifact" in s.get("uses", ""))["with"]["path"]
    for pattern in ("dist/kubectl-eckrc_*.tar.gz", "dist/kubectl-eckrc_*.zip", "dist/kubectl-eckrc_*.sha256"):
        assert pattern in uploaded


def test_release_publishes_archives_checksums_and_the_five_platform_manifest() -> None:
    doc = workflow("release.yml")
    assert doc["jobs"]["publish"]["needs"] == ["build", "python"]
    script = run_text(doc, "publish")
    assert "sha256sum --strict -c" in script
    assert f"--platforms {','.join(FIVE_PLATFORMS)}" in script
    assert "scripts/krew-manifest --check dist/plugin.yaml" in script
    assert "--check-archive" in script
    for asset in ("dist/kubectl-eckrc_*.tar.gz", "dist/kubectl-eckrc_*.zip", "dist/kubectl-eckrc_*.sha256",
                  "dist/plugin.yaml", "dist/python/*"):
        assert asset in script


def test_release_builds_the_pipx_wheel_without_write_access_and_runs_it() -> None:
    doc = workflow("release.yml")
    assert doc["jobs"]["python"]["permissions"] == {"contents": "read"}
    script = run_text(doc, "python")
    assert "python -m build --outdir dist/python" in script
    assert "/tmp/fresh/bin/kubectl-eckrc version -o json" in script


def test_ci_runs_the_suite_on_linux_and_builds_and_smoke_tests_on_macos_and_windows() -> None:
    doc = workflow("ci.yml")
    assert set(doc["on"]) == {"pull_request", "push"}
    assert "scripts/test" in run_text(doc, "test")
    binary = doc["jobs"]["binary"]
    runners = binary["strategy"]["matrix"]["runner"]
    assert [r.split("-")[0] for r in runners] == ["macos", "windows"]
    script = run_text(doc, "binary")
    assert "scripts/build-binary --dist dist" in script and "python scripts/smoke_binary.py dist" in script
