"""1xx: can doctor see both environments, and are they fit for API-key remote clusters."""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck, links
from kubectl_eckrc.checks.spec import (
    API_KEY_SIDE,
    ERROR,
    LOCAL,
    REMOTE,
    CheckSpec,
    check,
    failed,
    need,
    not_evaluated,
    passed,
    warned,
)
from kubectl_eckrc.findings import Status, Verdict
from kubectl_eckrc.snapshot import AccessReview, KubeState, Side, Snapshot, Unavailable

# A read failing for these reasons means "could not look", not "found a problem".
UNREACHABLE_KINDS = frozenset({"timeout", "unreachable", "forbidden", "no-access", "offline"})


def _where(side: Side) -> str:
    return f"{side.namespace}/{side.es_name}" if side.es_name else side.namespace


def _kube_found(side: Side) -> Verdict:
    label = f"{side.role} context {side.context or '(current)'}"
    if isinstance(side.kube, Unavailable):
        if side.kube.kind in UNREACHABLE_KINDS:
            return not_evaluated(f"cannot reach the {side.role} Kubernetes API: {side.kube.reason}",
                                 side.kube.permission, side.kube.reason)
        return failed(f"the {side.role} Kubernetes API failed: {side.kube.reason}",
                      f"check {label}: the API server answered with an error", context=side.context)
    kube = side.kube
    if isinstance(kube.crd, Unavailable):
        if kube.crd.kind == "not-found":
            return failed(f"the Elasticsearch CRD is not installed in {label}",
                          "install ECK (CRD elasticsearches.elasticsearch.k8s.elastic.co) in this "
                          "cluster, or pass the context where ECK runs", context=side.context)
        need(kube.crd, "the Elasticsearch CRD")
    return _es_found(side, kube, label)


def _es_found(side: Side, kube: KubeState, label: str) -> Verdict:
    if isinstance(kube.elasticsearch, Unavailable) or not kube.elasticsearch:
        if isinstance(kube.elasticsearch, Unavailable) and kube.elasticsearch.kind != "not-found":
            need(kube.elasticsearch, f"Elasticsearch {_where(side)}")
        names = kube.elasticsearch_names if isinstance(kube.elasticsearch_names, list) else []
        flag = "--es" if side.role == "local" else "--remote-es"
        return failed(f"no Elasticsearch {_where(side)} in {label}",
                      f"pass {flag} with one of the Elasticsearch resources in namespace {side.namespace}"
                      if names else f"namespace {side.namespace} holds no Elasticsearch resource: "
                      "pass the namespace where it runs",
                      namespace=side.namespace, found=names)
    return passed(f"{label}, Elasticsearch CRD and {_where(side)} found",
                  context=side.context, namespace=side.namespace, elasticsearch=side.es_name)


@check("ECKRC101", severity=ERROR, side=LOCAL, covers=(),
       remediation="make the local Elasticsearch reachable through its Kubernetes API (context, -n, --es)")
def local_found(snap: Snapshot) -> Verdict:
    """Local context, Elasticsearch CRD and Elasticsearch resource found

    The local kube context answers, the `Elasticsearch` CRD of ECK is installed, and the local
    Elasticsearch resource (`--es`, or the only one in the namespace) exists. Every other local
    check reads objects through this context.

    On a real cluster: the kubeconfig context, its credentials (exec plugins included) and
    the CRD list are read as kubectl reads them; it cannot tell a wrong namespace from a
    missing resource, so a typo in `-n` reads as "not found".

    Fix by hand: check `kubectl --context <ctx> get elasticsearch -n <ns>`; install ECK if the
    CRD is missing; pass `--context`, `-n` and `--es` to name the right cluster.
    """
    return _kube_found(snap.local)


@check("ECKRC102", severity=ERROR, side=REMOTE,
       remediation="give fix the remote environment (--remote-context, --remote-namespace, --remote-es)")
def remote_found(snap: Snapshot) -> Verdict:
    """Remote context and Elasticsearch resource found

    The remote kube context (`--remote-context`, `--remote-namespace`, `--remote-es`) answers and
    holds the remote Elasticsearch. Without remote access, doctor still runs every check it can
    from the local side and the network, and marks the rest "not evaluated".

    On a real cluster: only what the remote context shows; with a context that reaches the
    wrong cluster (same names, another environment) every remote check judges that cluster.

    Fix by hand: pass `--remote-context`, `--remote-namespace` (and `--remote-es`) so that
    doctor can read the remote environment; check `kubectl --context <remote> get
    elasticsearch -n <ns>`.
    """
    remote = need(snap.remote, "the remote environment")
    return _kube_found(remote)


def _rbac_rule(review: AccessReview) -> str:
    resource, _, group = review.resource.partition(".")
    return (f"apiGroups: [\"{group}\"], resources: [\"{resource}\"], verbs: [\"{review.verb}\"] "
            f"in namespace {review.namespace}")


@check("ECKRC103", severity=ERROR, side=LOCAL,
       remediation="grant the missing RBAC permissions listed by doctor, then run fix again")
def rbac(snap: Snapshot) -> Verdict:
    """Every read doctor needs is allowed (RBAC)

    doctor asks each API server (SelfSubjectAccessReview) whether it may read what the checks
    need: the Elasticsearch resource, services, endpoints, pods, statefulsets, configmaps,
    secrets and events. A denied read makes the checks that need it "not evaluated"; this check
    lists the Role rules that would let them run. Denied reads make this check "not evaluated"
    (exit code 3: could not evaluate), not failed.

    On a real cluster: the API server's own answer to a SelfSubjectAccessReview, per
    resource and namespace; admission webhooks, and policies that deny a request after
    authorization, are not seen.

    Fix by hand: add the Role rules the finding lists (get/list on the named resources in the
    ES namespace) to a Role bound to your user, on the side named.
    """
    reviews = list(need(snap.local.kube, "the local Kubernetes API").access)
    if not isinstance(snap.remote, Unavailable) and not isinstance(snap.remote.kube, Unavailable):
        reviews += snap.remote.kube.access
    if not reviews:
        return not_evaluated("no access review was recorded (offline snapshot or reviews not allowed)")
    denied = [r for r in reviews if not r.allowed]
    if denied:
        # Forbidden reads mean "could not evaluate" (exit code 3), not a finding about the link.
        missing = [f"{r.side}: {r.verb} {r.resource} in {r.namespace}" for r in denied]
        rules = sorted({f"{r.side}: {_rbac_rule(r)}" for r in denied})
        return Verdict(Status.NOT_EVALUATED,
                       f"{len(denied)} of {len(reviews)} reads are denied: " + "; ".join(missing),
                       {"missing": missing, "rules": rules},
                       "the checks that need these reads are not evaluated",
                       "add to a Role bound to your user: " + "; ".join(rules))
    return passed(f"all {len(reviews)} reads allowed", reviewed=len(reviews))


def _health(side: Side) -> Verdict:
    es = eck.resource(side)
    if es is None:
        need(side.kube, f"the {side.role} Kubernetes API")
        return failed(f"no {side.role} Elasticsearch resource to inspect", "see ECKRC10x above")
    state = eck.status(es)
    phase, health = state.get("phase", ""), state.get("health", "unknown")
    nodes = state.get("availableNodes", 0)
    evidence: dict[str, Any] = {"phase": phase, "health": health, "availableNodes": nodes}
    where = f"{side.role} {_where(side)}"
    if health == "red" or not nodes:
        return failed(f"{where} is not serving: phase {phase or 'unknown'}, health {health}, {nodes} nodes",
                      f"fix the {side.role} cluster first: `kubectl describe elasticsearch {side.es_name} "
                      f"-n {side.namespace}` and its pods' events", **evidence)
    if phase != "Ready":
        return warned(f"{where} is {phase or 'not reconciled'} (health {health}, {nodes} nodes)",
                      "ECK is still applying changes; results may change once the rollout completes",
                      **evidence)
    return passed(f"{where} Ready, health {health}, {nodes} nodes", **evidence)


@check("ECKRC104", severity=ERROR, side=LOCAL, requires=("ECKRC101",))
def healthy(snap: Snapshot) -> Verdict:
    """Both Elasticsearch resources are healthy enough (phase, health, nodes)

    Reads `status.phase`, `status.health` and `status.availableNodes` of the local and the remote
    Elasticsearch resource. A red cluster or one without available nodes cannot serve a remote
    connection; a phase other than Ready (e.g. ApplyingChanges) is a warning: a rollout is
    under way and other findings may be transient.

    On a real cluster: the status ECK last wrote on the resources, which lags the pods by a
    reconcile; a cluster green in status can still refuse requests that doctor's REST reads
    then report.

    Fix by hand: `kubectl describe elasticsearch <es> -n <ns>` and the events of its pods;
    wait for a rollout in progress to finish.
    """
    local = _health(snap.local)
    if local.status.value != "pass" or isinstance(snap.remote, Unavailable):
        if isinstance(snap.remote, Unavailable) and local.status.value == "pass":
            need(snap.remote, "the remote environment")
        return local
    return _worst(local, _health(snap.remote))


def _worst(a: Verdict, b: Verdict) -> Verdict:
    rank = {"fail": 3, "not-evaluated": 2, "warn": 1, "pass": 0, "skipped": 0}
    if rank[a.status.value] == rank[b.status.value] == 0:
        return passed(f"{a.message}; {b.message}", local=a.evidence, remote=b.evidence)
    return a if rank[a.status.value] >= rank[b.status.value] else b


def _version_of(side: Side) -> tuple[str, tuple[int, int, int] | None]:
    text = eck.es_version(side)
    return text, eck.parse_version(text)


def supported_pair(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    """Same major, or the bridges Elastic supports between 8.x and 9.x."""
    old, new = sorted((a, b))
    if old[0] == new[0]:
        return True
    if (old[0], new[0]) != (8, 9):
        return False
    return (old[1] == 18 and new[1] == 0) or old[1] >= 19


@check("ECKRC105", severity=ERROR, side=LOCAL, covers=("F19",),
       remediation="upgrade both clusters to Elasticsearch >= 8.14 in a supported pair; fix never upgrades")
def versions(snap: Snapshot) -> Verdict:
    """Both versions support API-key remote clusters and form a supported pair

    API-key remote clusters need Elasticsearch 8.14 or later on both sides. Across majors only
    8.18 <-> 9.0 and 8.19 <-> 9.x are supported; any other 8.x <-> 9.x pair fails the
    handshake.

    On a real cluster: the version the REST API reports (else the resource's status or
    spec); during a rolling upgrade nodes of both versions answer, and doctor sees only the
    node it reached.

    Fix by hand: upgrade the older side: 8.14 or later for API keys; 8.18 with 9.0, 8.19 with
    any 9.x across majors.
    """
    local_text, local = _version_of(snap.local)
    if local is None:
        return not_evaluated("the local Elasticsearch version is unknown")
    minimum = (8, 14, 0) if links.uses_api_keys(snap) else (0, 0, 0)
    if local < minimum:
        return failed(f"local Elasticsearch {local_text} is older than 8.14",
                      f"upgrade local {_where(snap.local)} to 8.14 or later", local=local_text)
    remote_side = need(snap.remote, "the remote environment")
    remote_text, remote = _version_of(remote_side)
    if remote is None:
        return not_evaluated("the remote Elasticsearch version is unknown")
    evidence = {"local": local_text, "remote": remote_text}
    if remote < minimum:
        return failed(f"remote Elasticsearch {remote_text} is older than 8.14",
                      f"upgrade remote {_where(remote_side)} to 8.14 or later", **evidence)
    if not supported_pair(local, remote):
        return failed(f"{local_text} <-> {remote_text} is not a supported remote-cluster pair",
                      "upgrade the 8.x side to 8.18 (with 9.0) or 8.19 (with any 9.x)", **evidence)
    return passed(f"local {local_text}, remote {remote_text}: supported", **evidence)


def _license(side: Side) -> tuple[str, str]:
    es = need(side.es, f"the {side.role} Elasticsearch API")
    data = need(es.license, f"the {side.role} license")
    lic = data.get("license") or {}
    return str(lic.get("type", "")), str(lic.get("status", ""))


@check("ECKRC106", severity=ERROR, side=LOCAL, requires=("ECKRC107",), covers=("F13",),
       applies_to=API_KEY_SIDE,
       remediation=("install an Enterprise licence or start a trial on the cluster doctor names "
                    "(POST _license/start_trial?acknowledge=true); fix never changes licences"))
def license_allows(snap: Snapshot) -> Verdict:
    """Both licenses allow API-key remote clusters (enterprise or trial)

    Remote clusters secured with API keys are a feature of the Enterprise license (or a trial).
    With a lower license the remote answers 403 `current license is non-compliant for
    [advanced-remote-cluster-security]`.

    On a real cluster: `GET _license` of each side as doctor's user sees it; a licence that
    expires between the run and the next connection is not foreseen.

    Fix by hand: install an Enterprise license or start a trial (`POST
    _license/start_trial?acknowledge=true`) on the side that lacks it.
    """
    found = {}
    for side in (snap.local, need(snap.remote, "the remote environment")):
        kind, state = _license(side)
        found[side.role] = kind
        if kind not in ("enterprise", "trial") or state not in ("active", ""):
            return failed(f"the {side.role} license is {kind or 'unknown'} ({state or 'unknown status'})",
                          f"install an Enterprise license (or start a trial) on {side.role} "
                          f"{_where(side)}: API-key remote clusters need it on both sides", **found)
    return passed(f"local {found['local']}, remote {found['remote']}", **found)


def _rest_reachable(side: Side) -> Verdict:
    if isinstance(side.es, Unavailable) or isinstance(side.es.info, Unavailable):
        gone = side.es if isinstance(side.es, Unavailable) else side.es.info
        assert isinstance(gone, Unavailable)
        if gone.kind in UNREACHABLE_KINDS:
            return not_evaluated(f"cannot reach the {side.role} Elasticsearch API: {gone.reason}",
                                 gone.permission, gone.reason)
        return failed(f"the {side.role} Elasticsearch API failed: {gone.reason}",
                      f"check the credentials and address used for {side.role} Elasticsearch "
                      "(the elastic user secret, or --es-url / --es-api-key-env)", reason=gone.reason)
    version = (side.es.info.get("version") or {}).get("number", "")
    return passed(f"{side.role} Elasticsearch {version} answers via {side.es.endpoint}",
                  endpoint=side.es.endpoint, version=version)


@check("ECKRC107", severity=ERROR, side=LOCAL,
       remediation="make the local Elasticsearch REST API reachable (--es-url, credentials)")
def local_rest(snap: Snapshot) -> Verdict:
    """Local Elasticsearch REST API reachable

    doctor reads cluster settings, `_remote/info` and `_resolve/cluster` from the local
    Elasticsearch, through a port-forward to a ready pod (or `--es-url`), with the `elastic`
    user by default.

    On a real cluster: the API through doctor's port-forward (or `--es-url`) with doctor's
    credentials: a pass says nothing about the network between the clusters, and a user with
    fewer privileges than `elastic` makes later reads not evaluated.

    Fix by hand: check that a local Elasticsearch pod is ready and that the
    `<es>-es-elastic-user` secret is readable, or pass `--es-url` with `--es-api-key-env`.
    """
    return _rest_reachable(snap.local)


@check("ECKRC108", severity=ERROR, side=REMOTE,
       remediation="make the remote Elasticsearch REST API reachable (--remote-es-url, credentials)")
def remote_rest(snap: Snapshot) -> Verdict:
    """Remote Elasticsearch REST API reachable

    doctor reads the remote node settings and the cross-cluster API key from the remote
    Elasticsearch. Without remote access this is not evaluated.

    On a real cluster: the same as ECKRC107 through the remote context; without remote
    access the remote key and node settings cannot be read.

    Fix by hand: as ECKRC107, on the remote side (`--remote-es-url`).
    """
    remote = need(snap.remote, "the remote environment")
    return _rest_reachable(remote)


CHECKS: list[CheckSpec] = [
    local_found, remote_found, rbac, healthy, versions, license_allows, local_rest, remote_rest,
]
