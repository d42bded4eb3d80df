"""Failing findings no fix action repairs, and what a person must do about each.

fix writes nothing while one of these stands: repairing half a link around a cause it cannot
touch (a license, a version, the network between the clusters, a proxy that terminates TLS)
would roll pods for nothing.
"""

from __future__ import annotations

from kubectl_eckrc import eck, links
from kubectl_eckrc.checks.registry import ALL_CHECKS
from kubectl_eckrc.findings import Finding, Severity, Status
from kubectl_eckrc.fix.model import Blocker
from kubectl_eckrc.snapshot import Snapshot

# Causes outside the objects fix may write, with the step a person takes (the catalogue's
# remediation of each check).
TODO = {spec.id: spec.remediation for spec in ALL_CHECKS if spec.remediation}
BROKEN_PATH_TODO = (
    "the remote cluster server is enabled and proxy_address is its exposure, yet the TLS handshake gets "
    "no proper answer: something between the clusters (a firewall dropping traffic, a proxy) breaks the "
    "connection; repair that path"
)
# Only a blocker when its own evidence says the cause is outside our objects.
ADDRESS_CHECK = "ECKRC204"
# A failed handshake is a path problem only when everything fix could change is already right.
PATH_PREREQUISITES = ("ECKRC201", "ECKRC203", "ECKRC204")


def blockers_of(
    snap: Snapshot,
    findings: list[Finding],
    alias: str,
    migrating: bool = False,
    fixes: dict[str, str] | None = None,
) -> list[Blocker]:
    """Failures outside fix's reach. Without any fixable finding, every failure without a fix
    is one too (unless the plan migrates a certificate-model link, which replaces them)."""
    failing = [
        f
        for f in findings
        if f.status is Status.FAIL and f.severity is Severity.ERROR and f.alias in (alias, None, "")
    ]
    found = [_blocker(f) for f in failing if f.id in TODO and not _not_outside(f, findings)]
    fixes = fixes or {}
    attention = (Status.FAIL, Status.WARN, Status.INFO)
    fixable = any(f.fix is not None or f.id in fixes for f in findings if f.status in attention)
    if not fixable and not migrating:
        found += [_blocker(f) for f in failing if f.id not in TODO and f.fix is None and f.id not in fixes]
    return found


def eck_managed_blockers(snap: Snapshot, findings: list[Finding], alias: str) -> list[Blocker] | None:
    """For an alias ECK sets up itself (spec.remoteClusters), fix plans no write: every failure
    is a blocker saying what to change instead. None for a link the user set up."""
    managed = links.eck_remote(snap, alias)
    if managed is None:
        return None
    where = f"{managed.local_namespace}/{managed.local_name}"
    todo = (f"ECK manages alias {alias}: change the spec.remoteClusters entry {alias} of {where} "
            f"(elasticsearchRef {managed.ref}, apiKey.access), {managed.ref}'s spec.remoteClusterServer "
            "or the nodeSet config doctor names; fix writes nothing ECK manages")
    failing = [f for f in findings
               if f.status is Status.FAIL and f.severity is Severity.ERROR and f.alias in (alias, None, "")]
    return [Blocker(f.id, f.message, f"{TODO[f.id]}; {todo}" if f.id in TODO else todo) for f in failing]


def reconcile_blockers(snap: Snapshot) -> list[Blocker]:
    """ECK cannot reconcile an Elasticsearch whose `transport.tls.certificateAuthorities`
    ConfigMap is missing or lacks `ca.crt`: nothing fix changes on it would roll out."""
    found = []
    for role in ("local", "remote"):
        es, kube = eck.resource_of(snap, role), eck.kube_of(snap, role)
        if es is None or kube is None or not isinstance(kube.configmaps, dict):
            continue
        name = eck.transport_ca_configmap(es)
        if not name:
            continue
        cm = kube.configmaps.get(name)
        problem = (
            "does not exist"
            if not isinstance(cm, dict)
            else ("has no key ca.crt" if "ca.crt" not in (cm.get("data") or {}) else "")
        )
        if problem:
            where = f"{eck.namespace(snap, role)}/{eck.es_name(snap, role)}"
            found.append(
                Blocker(
                    "ECKRC601",
                    f"ECK cannot reconcile {role} {where}: ConfigMap {name} {problem}",
                    f"put the other side's transport ca.crt under key ca.crt in ConfigMap {name}, or "
                    "remove spec.transport.tls.certificateAuthorities if the certificate model is no "
                    "longer used; then run fix again",
                )
            )
    return found


def unrepaired(findings: list[Finding], alias: str) -> list[Blocker]:
    """Failures left when no action has anything to change: fix cannot help with them either."""
    return [
        _blocker(f)
        for f in findings
        if f.status is Status.FAIL and f.severity is Severity.ERROR and f.alias in (alias, None, "")
    ]


def _not_outside(f: Finding, findings: list[Finding]) -> bool:
    """True when the failure is a consequence of something fix does change."""
    if f.id == "ECKRC205":  # unreachable because proxy_address is wrong is register-remote's job
        return _status(findings, ADDRESS_CHECK, f.alias) is not Status.PASS
    if f.id == "ECKRC306" and "issuer" not in f.evidence:  # no certificate seen: the handshake broke
        return not all(_status(findings, c, f.alias) is Status.PASS for c in PATH_PREREQUISITES)
    return False


def _status(findings: list[Finding], check_id: str, alias: str | None) -> Status | None:
    for g in findings:
        if g.id == check_id and g.alias in (alias, None):
            return g.status
    return None


def _blocker(f: Finding) -> Blocker:
    todo = TODO.get(f.id) or f.hint or "see doctor's hint for this finding"
    if f.id == "ECKRC306" and "issuer" not in f.evidence:
        todo = BROKEN_PATH_TODO
    return Blocker(f.id, f.message, todo)


def certificate_model_note(snap: Snapshot, findings: list[Finding], alias: str) -> str:
    """A broken certificate-model link: fix does not rebuild that model; the plan migrates the
    link to API keys (RCS on 9443, a cross-cluster key, the remote CA, proxy mode)."""
    if not alias or alias not in links.configured_aliases(snap):
        return ""
    if links.link_for(snap, alias).model != links.CERTIFICATE:
        return ""
    broken = any(
        f.id.startswith("ECKRC60") and f.status is Status.FAIL and f.alias in (alias, None) for f in findings
    )
    if not broken:
        return ""
    return (
        f"alias {alias} uses the deprecated certificate model and is broken; fix does not repair "
        "that model: this plan migrates the link to API keys instead"
    )
