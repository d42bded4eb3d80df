"""docs/rbac.yaml grants exactly what the tool asks for: every read doctor reviews
(collect/kube_side.py) and every write fix --apply sends (fix/apply.py), and no more verbs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_eckrc.collect.kube_side import CLUSTER_READS, NAMESPACED_READS
from kubectl_eckrc.fix.apply import PATHS

ROOT = Path(__file__).resolve().parents[2]
READ_ONLY_VERBS = {"get", "list"}


def roles() -> dict[str, list[dict[str, Any]]]:
    docs = [d for d in yaml.safe_load_all((ROOT / "docs" / "rbac.yaml").read_text()) if d]
    return {d["metadata"]["name"]: d["rules"] for d in docs if d["kind"] in ("Role", "ClusterRole")}


def allows(rules: list[dict[str, Any]], verb: str, group: str, resource: str, subresource: str = "") -> bool:
    """RBAC rule matching for a request that names no object (as an access review does)."""
    wanted = f"{resource}/{subresource}" if subresource else resource
    return any(group in r["apiGroups"] and wanted in r["resources"] and verb in r["verbs"]
               and not r.get("resourceNames") for r in rules)


def test_doctor_roles_allow_every_read_doctor_reviews() -> None:
    namespaced, cluster = roles()["eckrc-doctor"], roles()["eckrc-doctor-cluster"]
    missing = [read for read in NAMESPACED_READS if not allows(namespaced, *_request(read))]
    missing += [read for read in CLUSTER_READS if not allows(cluster, *_request(read))]
    assert missing == []
    assert allows(cluster, "create", "authorization.k8s.io", "selfsubjectaccessreviews")


def _request(read: tuple[str, str, str, str]) -> tuple[str, str, str, str]:
    verb, resource, group, subresource = read
    return verb, group, resource, subresource


def test_doctor_roles_only_read() -> None:
    for name in ("eckrc-doctor", "eckrc-doctor-cluster"):
        for rule in roles()[name]:
            writes = set(rule["verbs"]) - READ_ONLY_VERBS
            # the only creates: a port-forward stream and an access review, neither writes an object
            assert not writes or rule["resources"] in (["pods/portforward"], ["selfsubjectaccessreviews"])


@pytest.mark.parametrize(("kind", "role"), [
    ("Elasticsearch", "eckrc-fix-local"), ("ConfigMap", "eckrc-fix-local"), ("Secret", "eckrc-fix-local"),
    ("Elasticsearch", "eckrc-fix-remote"), ("Service", "eckrc-fix-remote"),
])
def test_fix_roles_allow_the_writes_fix_sends(kind: str, role: str) -> None:
    parts = PATHS[kind].strip("/").split("/")
    group = "" if parts[0] == "api" else parts[1]
    resource = parts[-1]
    rules = roles()[role]
    assert allows(rules, "patch", group, resource)
    if kind != "Elasticsearch":  # fix only patches the Elasticsearch resource, never creates one
        assert allows(rules, "create", group, resource)
    assert not allows(rules, "delete", group, resource) and not allows(rules, "update", group, resource)


def test_every_kind_fix_writes_has_a_fix_role() -> None:
    fix_rules = roles()["eckrc-fix-local"] + roles()["eckrc-fix-remote"]
    for path in PATHS.values():
        parts = path.strip("/").split("/")
        group = "" if parts[0] == "api" else parts[1]
        assert allows(fix_rules, "patch", group, parts[-1]), path
