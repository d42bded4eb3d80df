"""doctor -A and collect -A, run as users run them (subprocesses), against three twin
environments: `fleet` (every link healthy) and `fleet-one-broken` (a stale CA on one link).

One twin per module serves every test of its scenario; doctor is read-only, so the tests do not
disturb each other.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.twin.fleet_scenarios import RunningFleet, start_fleet

ROOT = Path(__file__).resolve().parents[1]
ALL = ("--remote-context", "remote", "--remote-context", "remote2")
LINKS = {
    ("local/logging/local-es", "archive"): "remote2/archive/archive-es",
    ("local/logging/local-es", "remote-es"): "remote/search/remote-es",
    ("local/metrics/metrics-es", "search"): "remote/search/remote-es",
    # ECK's own link in the local environment (spec.remoteClusters)
    ("local/metrics/metrics-es", "logging"): "local/logging/local-es",
}


@pytest.fixture(scope="module")
def fleet_twin() -> Iterator[RunningFleet]:
    running = start_fleet("fleet")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def broken_twin() -> Iterator[RunningFleet]:
    running = start_fleet("fleet-one-broken")
    yield running
    running.stop()


def eckrc(running: RunningFleet, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "kubectl_eckrc.cli", *args, "--kubeconfig", str(running.kubeconfig),
               "--context", "local"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def doctor_json(running: RunningFleet, *args: str) -> tuple[int, dict[str, Any]]:
    run = eckrc(running, "doctor", "-A", *args, "-o", "json")
    assert all(line.startswith("note: ") for line in run.stderr.splitlines()), run.stderr
    return run.returncode, json.loads(run.stdout)


def links_of(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for link in document["links"]:
        local = link["local"]
        found[(f"{local['context']}/{local['namespace']}/{local['elasticsearch']}", link["alias"])] = link
    return found


def label(ref: dict[str, str] | None) -> str | None:
    return None if ref is None else f"{ref['context']}/{ref['namespace']}/{ref['elasticsearch']}"


def test_every_link_of_the_fleet_is_matched_to_its_remote_and_healthy(fleet_twin: RunningFleet) -> None:
    for env in fleet_twin.envs.values():
        env.audit.clear()
    code, document = doctor_json(fleet_twin, *ALL)
    links = links_of(document)
    assert {key: label(link["remote"]) for key, link in links.items()} == LINKS
    assert code == 0, [(k, link["rootCause"]) for k, link in links.items() if link["exitCode"]]
    assert {link["state"] for link in links.values()} == {"healthy"}
    assert all(link["matchedBy"] for link in links.values())
    # every finding says which link it belongs to
    assert {(label(f["local"]), f["alias"]) for f in document["findings"]} == set(LINKS)
    text = json.dumps(document)
    assert fleet_twin.canaries()
    assert not [c for c in fleet_twin.canaries() if c in text]
    for env in fleet_twin.envs.values():
        assert [f"{e.method} {e.path}" for e in env.audit.mutating(include_dry_run=True)] == []
        # the reads are shared: one list per resource kind per context, whatever the clusters
        lists = Counter(e.plural for e in env.audit.entries() if e.verb == "list")
        assert lists and set(lists.values()) == {1}, (env.name, lists)


def test_kubectl_sees_the_clusters_doctor_reached_in_each_context(fleet_twin: RunningFleet) -> None:
    kubectl = shutil.which("kubectl") or shutil.which("kubectl", path=str(Path(sys.executable).parent))
    assert kubectl is not None
    names = set()
    for context in ("local", "remote", "remote2"):
        command = [kubectl, "--kubeconfig", str(fleet_twin.kubeconfig), "--context", context, "get",
                   "elasticsearches", "-A", "-o", "json"]
        listed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
        names |= {f"{context}/{i['metadata']['namespace']}/{i['metadata']['name']}"
                  for i in json.loads(listed.stdout)["items"]}
    assert names == {local for local, _ in LINKS} | set(LINKS.values())
    eck_link = links_of(doctor_json(fleet_twin, *ALL)[1])[("local/metrics/metrics-es", "logging")]
    assert eck_link["matchedBy"] == ["spec.remoteClusters elasticsearchRef"]


def test_the_table_leads_with_one_line_per_link(fleet_twin: RunningFleet) -> None:
    run = eckrc(fleet_twin, "doctor", "-A", *ALL)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "fleet   context local, remote contexts: remote, remote2"
    table = lines[2:7]
    assert table[0].split() == ["LINK", "STATE", "REMOTE", "ROOT", "CAUSE"]
    assert [row.split()[:5] for row in table[1:]] == [
        [local, "->", alias, "healthy", remote] for (local, alias), remote in sorted(LINKS.items())]
    assert lines[-1] == "4 links: 4 healthy   (exit 0)"


def test_an_alias_no_given_context_owns_is_judged_from_the_local_side(fleet_twin: RunningFleet) -> None:
    code, document = doctor_json(fleet_twin, "--remote-context", "remote")
    archive = links_of(document)[("local/logging/local-es", "archive")]
    assert code == 0
    assert (archive["remote"], archive["state"]) == (None, "local side ok")
    assert archive["unmatched"].startswith("no given context runs the cluster behind alias archive")
    assert "server_name names Elasticsearch archive/archive-es" in archive["unmatched"]
    findings = [f for f in document["findings"] if f["alias"] == "archive"]
    assert {f["status"] for f in findings} == {"pass", "not-applicable", "not-evaluated"}
    # what needs the remote waits for the context that would complete the link, and says which
    waiting = {f["permission"] for f in findings if f["status"] == "not-evaluated"}
    assert waiting == {"pass --remote-context for the context that runs it; contexts of the kubeconfig "
                       "not given: remote2"}
    assert [f["id"] for f in findings if f["status"] == "pass"][:3] == ["ECKRC101", "ECKRC103", "ECKRC107"]


def test_junit_and_markdown_carry_every_link(fleet_twin: RunningFleet) -> None:
    junit = eckrc(fleet_twin, "doctor", "-A", *ALL, "-o", "junit")
    suites = ET.fromstring(junit.stdout.split("\n", 1)[1])
    assert sorted(s.get("name") for s in suites) == sorted(f"{local} -> {alias}" for local, alias in LINKS)
    markdown = eckrc(fleet_twin, "doctor", "-A", *ALL, "-o", "markdown")
    assert markdown.stdout.startswith("## kubectl eckrc doctor -A: 4 links: 4 healthy   (exit 0)\n")
    assert markdown.stdout.count("| healthy |") == 4


def test_collect_writes_one_bundle_for_the_fleet_that_doctor_reads(fleet_twin: RunningFleet,
                                                                   tmp_path: Path) -> None:
    bundle = tmp_path / "fleet.zip"
    run = eckrc(fleet_twin, "collect", "-A", *ALL, "-o", str(bundle))
    assert run.returncode == 0, run.stderr
    assert "4 links: 4 healthy" in run.stdout
    offline = subprocess.run([sys.executable, "-m", "kubectl_eckrc.cli", "doctor", "--bundle", str(bundle),
                              "-o", "json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    document = json.loads(offline.stdout)
    assert (offline.returncode, document["source"]) == (0, "bundle")
    assert {key: label(link["remote"]) for key, link in links_of(document).items()} == LINKS
    assert fleet_twin.canaries()
    assert not [c for c in fleet_twin.canaries() if c.encode() in bundle.read_bytes()]
    one = subprocess.run([sys.executable, "-m", "kubectl_eckrc.cli", "doctor", "--bundle", str(bundle),
                          "-n", "logging", "--alias", "archive"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert one.stdout.splitlines()[-1] == "1 link: 1 healthy   (exit 0)"


def test_one_broken_link_fails_the_fleet_and_only_that_link(broken_twin: RunningFleet) -> None:
    code, document = doctor_json(broken_twin, *ALL)
    links = links_of(document)
    assert code == 1
    states = {key: link["state"] for key, link in links.items()}
    assert states == {key: "broken" if key[1] == "archive" else "healthy" for key in LINKS}
    assert links[("local/logging/local-es", "archive")]["rootCause"]["id"] == "ECKRC303"
    table = eckrc(broken_twin, "doctor", "-A", *ALL)
    assert table.returncode == 1
    details = table.stdout.split("\n── ")[1:]
    assert [d.splitlines()[0] for d in details] == ["local/logging/local-es -> archive (broken) ──"]
