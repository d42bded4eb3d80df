"""5xx: the link is registered, in proxy mode, and connected end to end."""

from __future__ import annotations

from typing import Any

from kubectl_eckrc import eck, identity, links
from kubectl_eckrc.checks import reads
from kubectl_eckrc.checks.credentials import key_id, remote_key
from kubectl_eckrc.checks.spec import (
    ERROR,
    LINK,
    LOCAL,
    WARNING,
    CheckSpec,
    NotEvaluated,
    check,
    failed,
    need,
    not_evaluated,
    passed,
    warned,
)
from kubectl_eckrc.findings import Verdict
from kubectl_eckrc.key_access import KeyAccess, names_of, remote_index_grants, replication_names
from kubectl_eckrc.snapshot import Snapshot, Unavailable

# Error texts of a failing link, and what they mean (domain.md section 6).
KNOWN_ERRORS: list[tuple[str, str]] = [
    ("_cross_cluster_access_credentials", "no API key reaches the remote cluster server: the keystore "
     "has no credentials for this alias, or a certificate-model link points at 9443"),
    ("expected api key type of [cross_cluster]", "a REST API key was stored instead of a cross-cluster one"),
    ("unable to find apikey", "the API key does not exist on the remote (another cluster's key?)"),
    ("invalid credentials", "the stored credential is not the key's encoded value, or is damaged"),
    ("unable to authenticate", "the remote refuses the credential: wrong, expired or invalidated key"),
    ("non-compliant", "a cluster lacks an Enterprise or trial license"),
    ("remote_cluster_client] role", "the node that ran the request lacks the remote_cluster_client role"),
    ("remote cluster client role", "the node that ran the request lacks the remote_cluster_client role"),
    ("no remote indices privileges", "local roles grant no remote_indices for this alias"),
    ("towards remote cluster", "the key's access or the local roles do not cover the indices"),
    ("signatures do not match", "the trusted CA is a stale copy or another cluster's"),
    ("failed to establish trust", "the local cluster does not trust the remote's certificate"),
    ("pkix path", "the local cluster does not trust the remote's certificate"),
    ("no subject alternative", "the checked name is not in the certificate: set server_name"),
    ("bad_certificate", "proxy_address reaches the transport port (9300), which wants a client certificate"),
    ("empty client certificate chain", "proxy_address reaches the transport port (9300)"),
    ("_remote_cluster]", "proxy_address reaches the transport port (9300), not the remote cluster server"),
    ("connection closed while ssl/tls handshake", "something at proxy_address closes TLS connections: a "
     "port that does not reach 9443 (targetPort), or a proxy in between"),
    ("connect_exception", "nothing accepts connections at proxy_address (host, port, firewall)"),
    ("connect_timeout", "connections to proxy_address time out (firewall, NetworkPolicy, wrong address)"),
    ("unable to open any proxy connections", "no connection to proxy_address could be opened"),
    ("unknown host", "the proxy_address host does not resolve from the local pods"),
    ("timed out", "the remote did not answer in time"),
]


def diagnose(error: str) -> str:
    lowered = error.lower()
    return next((cause for text, cause in KNOWN_ERRORS if text in lowered), "")


# What doctor's own user needs for `_resolve/cluster` (TransportResolveClusterAction is an index
# action; on an API-key link the caller also needs remote_indices for the alias).
RESOLVE_PERMISSION = ("an index privilege granting indices:admin/resolve/cluster (view_index_metadata, "
                      "read, read_cross_cluster or manage) and, on an API-key link, remote_indices for the "
                      "alias, for doctor's Elasticsearch user (the elastic user has both)")


def caller_denied(error: str) -> bool:
    """A `_resolve/cluster` error that refuses doctor's own request (its user's privileges), not
    the link: Elasticsearch reports security exceptions as `connected: false` wherever they come
    from, so such an answer says nothing about the connection."""
    lowered = error.lower()
    return "[indices:admin/resolve/cluster]" in lowered and "is unauthorized for" in lowered


def resolve_unusable(snap: Snapshot, alias: str) -> str:
    """Why doctor's `_resolve/cluster` answer cannot judge the link ("" when it can): its user
    may not call it, or may not reach the alias with it."""
    read = reads.es_api(snap.local).resolve_cluster.get(alias)
    if isinstance(read, Unavailable):
        return read.reason if read.kind == "forbidden" else ""
    entry = read.get(alias) if isinstance(read, dict) else None
    error = str(entry.get("error") or "") if isinstance(entry, dict) else ""
    return error if caller_denied(error) else ""


@check("ECKRC501", severity=ERROR, side=LINK, fix="register-remote")
def registered(snap: Snapshot, alias: str) -> Verdict:
    """The alias is registered on the local cluster

    The local cluster knows a remote by the `cluster.remote.<alias>.*` settings (persistent,
    transient or elasticsearch.yml). The alias must be the same as in the credentials key name,
    in Kibana and in local roles' `remote_indices[].clusters`.

    On a real cluster: cluster settings (persistent and transient) and the nodeSets'
    `config`; settings set in an `elasticsearch.yml` that ECK does not render (a mounted
    file) are not seen.

    Fix by hand: `PUT _cluster/settings` with `cluster.remote.<alias>.mode: proxy`,
    `proxy_address` and `server_name`.
    """
    configured = links.registered_aliases(snap)
    if not alias:
        unreadable = links.settings_readable(snap)
        if unreadable is not None and not configured:
            need(unreadable, "the local cluster settings")
        return failed("no remote cluster is configured on the local cluster",
                      "register the remote: PUT _cluster/settings with cluster.remote.<alias>.mode: proxy "
                      "and proxy_address", aliases=[])
    link = reads.link(snap, alias)
    if link.registered:
        return passed(f"{alias} registered ({', '.join(sorted(set(link.sources.values())))})",
                      sources=link.sources)
    unreadable = links.settings_readable(snap)
    if unreadable is not None:
        need(unreadable, "the local cluster settings")
    others = [a for a in configured if a != alias]
    return failed(f"alias {alias} is not registered on the local cluster",
                  f"configured aliases are {', '.join(others)}: check the spelling" if others else
                  "register it: PUT _cluster/settings with cluster.remote.<alias>.mode: proxy, proxy_address "
                  "and server_name", configured=others)


@check("ECKRC502", severity=ERROR, side=LINK, requires=("ECKRC501",), fix="register-remote", covers=("F17",))
def proxy_mode(snap: Snapshot, alias: str) -> Verdict:
    """The link uses proxy mode

    Sniff mode (the default when `mode` is unset) connects to the publish addresses of the
    remote nodes, which are pod addresses of another Kubernetes cluster: unreachable.
    `_remote/info` then shows `num_nodes_connected: 0`. Across Kubernetes clusters use
    `mode: proxy` with a `proxy_address`.

    On a real cluster: the effective settings doctor reads; a transient setting that shadows
    a persistent one is taken as Elasticsearch takes it.

    An alias ECK sets up itself (`spec.remoteClusters`, same Kubernetes cluster) is the
    exception: ECK registers it in sniff mode with `seeds` on the remote's
    `<es>-es-remote-cluster.<ns>.svc:9443` (`-es-transport` on 9300 without `apiKey`), which
    the pods reach; that is what this check expects there.

    Fix by hand: `PUT _cluster/settings` with `mode: proxy`, `proxy_address`, and `seeds:
    null`.
    """
    link = reads.link(snap, alias)
    managed = links.eck_remote(snap, alias)
    if managed is not None:
        return _eck_seeds(link, managed)
    if link.mode != "proxy":
        entry = links.remote_info_entry(snap, alias) or {}
        return failed(f"{alias} uses {link.mode or 'sniff (the default)'} mode",
                      f"set cluster.remote.{alias}.mode: proxy and proxy_address (and remove seeds): sniff "
                      "mode cannot reach pods of another Kubernetes cluster",
                      mode=link.mode or "sniff", seeds=link.seeds,
                      num_nodes_connected=entry.get("num_nodes_connected"))
    if not link.proxy_address:
        return failed(f"{alias} is in proxy mode without a proxy_address",
                      f"set cluster.remote.{alias}.proxy_address to the remote's exposed host:port")
    return passed(f"proxy mode to {link.proxy_address}", proxy_address=link.proxy_address)


def _eck_seeds(link: links.Link, managed: links.EckRemote) -> Verdict:
    """Inside one Kubernetes cluster sniff mode works: ECK registers the alias with seeds."""
    seed = links.eck_seed(managed)
    if link.mode in ("", "sniff") and link.seeds == [seed]:
        return passed(f"sniff mode to {seed} (set by ECK, same Kubernetes cluster)", mode="sniff",
                      seeds=link.seeds)
    return failed(f"{link.alias} is registered as {link.mode or 'sniff'} "
                  f"{link.proxy_address or ','.join(link.seeds)}, not ECK's seeds {seed}",
                  f"remove the cluster.remote.{link.alias}.* settings someone set over ECK's "
                  "(PUT _cluster/settings with null values); ECK writes them again",
                  mode=link.mode or "sniff", seeds=link.seeds, expected=[seed])


def _info(snap: Snapshot, alias: str) -> dict[str, Any]:
    info = need(reads.es_api(snap.local).remote_info, "_remote/info")
    entry = info.get(alias)
    if not isinstance(entry, dict):
        raise NotEvaluated(f"_remote/info has no entry for {alias}")
    return entry


@check("ECKRC503", severity=ERROR, side=LINK,
       requires=("ECKRC502", "ECKRC204", "ECKRC205", "ECKRC304", "ECKRC305", "ECKRC306", "ECKRC307",
                 "ECKRC402", "ECKRC403", "ECKRC404", "ECKRC405", "ECKRC507", "ECKRC601", "ECKRC602"))
def connected(snap: Snapshot, alias: str) -> Verdict:
    """The local cluster is connected to the remote (`_remote/info`)

    `connected: true` with `num_proxy_sockets_connected` above 0. Fewer sockets than
    `max_proxy_socket_connections` (default 18) means some backends fail: a warning.
    Elasticsearch does not retry a failed connection on its own and `_remote/info` never
    makes an attempt, so after a repair it can say `connected: false` for ever: doctor asks
    `_resolve/cluster` first (which makes or triggers an attempt) and reads `_remote/info`
    after it; when `_resolve/cluster` connected, a stale `_remote/info` is not a failure.
    When every check above passed and doctor's own probe reached the remote's certificate, what
    is left is the path from the local pods (an egress NetworkPolicy, a firewall): doctor's
    probe does not take it.

    On a real cluster: `_remote/info` is read from the node doctor reaches; other nodes can
    differ (a nodeSet without the CA). doctor asks `_resolve/cluster` again for up to half of
    `--timeout` (2.5 s by default), so a remote that takes longer to accept a connection
    still reads as not connected: give a slow link a larger `--timeout`.

    Fix by hand: fix the failures reported above, then make the local cluster try again:
    Elasticsearch does not retry on its own; `GET _resolve/cluster/<alias>:*` or any
    cross-cluster request does.
    """
    entry = _info(snap, alias)
    sockets, most = entry.get("num_proxy_sockets_connected", 0), entry.get("max_proxy_socket_connections", 18)
    if entry.get("mode") == "sniff":  # ECK's same-cluster links: nodes, not proxy sockets
        sockets, most = entry.get("num_nodes_connected", 0), entry.get("max_connections_per_cluster", 3)
    evidence = {"connected": entry.get("connected"), "sockets": f"{sockets}/{most}"}
    if not entry.get("connected") or not sockets:
        if _resolved(snap, alias):
            return passed(f"{alias} connected (_resolve/cluster); _remote/info still said not connected: it "
                          "only shows the last attempt", **evidence)
        if resolve_unusable(snap, alias):
            return failed(f"{alias} is not connected ({sockets}/{most} sockets)",
                          "_remote/info shows the last attempt only, and doctor's user may not use "
                          f"_resolve/cluster to make a fresh one: run GET _resolve/cluster/{alias}:* as a "
                          "user who may, then doctor again; the checks above name a cause", **evidence)
        # every check above passed, this machine got the remote's certificate, and a fresh
        # attempt failed without the remote refusing anything: the path from the pods is left
        reached = reads.probe_reached(snap, alias) if _unreached(snap, alias) else ""
        if reached:
            return failed(f"{alias} is not connected ({sockets}/{most} sockets), though this machine "
                          f"reaches {reached}", pods_path_hint(snap, reached, alias), **evidence)
        return failed(f"{alias} is not connected ({sockets}/{most} sockets)",
                      "_resolve/cluster made a fresh attempt and did not connect either: see ECKRC504 and "
                      "the checks above for the cause", **evidence)
    if sockets < most and entry.get("mode") != "sniff":
        return warned(f"{alias} connected with {sockets}/{most} sockets",
                      "some connections fail: a backend behind the load balancer may be unhealthy",
                      **evidence)
    return passed(f"{alias} connected, {sockets}/{most} sockets", **evidence)


def pods_path_hint(snap: Snapshot, address: str, alias: str = "") -> str:
    """The path from the local pods is what differs from doctor's own (which succeeded); with
    strong identity in use, the remote refusing the signature looks the same from here."""
    signed = ("the remote may refuse the link's signature or certificate identity (strong identity: "
              "ECKRC411-413; the refusal shows in the local pods' log); otherwise " if alias and
              identity.in_use(snap, alias) else "")
    return signed + (
        f"doctor's probe from this machine reached {address} and the remote's certificate, but the local "
        "pods do not connect: the path from the pods is blocked (an egress NetworkPolicy of namespace "
        f"{snap.local.namespace}, a firewall or security group between the local nodes and the address)")


def _unreached(snap: Snapshot, alias: str) -> bool:
    """_resolve/cluster made an attempt that did not connect, and names no refusal."""
    answer = reads.es_api(snap.local).resolve_cluster.get(alias)
    entry = answer.get(alias) if isinstance(answer, dict) else None
    return isinstance(entry, dict) and not entry.get("connected") and not entry.get("error")


def _resolved(snap: Snapshot, alias: str) -> bool:
    answer = reads.es_api(snap.local).resolve_cluster.get(alias)
    entry = answer.get(alias) if isinstance(answer, dict) else None
    return isinstance(entry, dict) and bool(entry.get("connected")) and not entry.get("error")


@check("ECKRC504", severity=ERROR, side=LINK, requires=("ECKRC502",))
def resolves(snap: Snapshot, alias: str) -> Verdict:
    """`_resolve/cluster/<alias>:*` succeeds: the end-to-end proof

    `_resolve/cluster` (8.13+) makes a connection attempt (8.14-8.17 answer at once for a
    disconnected remote and start the attempt; doctor asks again to read its outcome). A
    remote that cannot be reached (connect, TLS or handshake failure) is only `connected:
    false`, without an error: the cause then comes from the other checks and doctor's own TLS
    probe. An error is reported for a request the remote refused (security exceptions with
    their message, others as `<java class>: <message>`); doctor explains the known texts.

    `_resolve/cluster` is an index action: doctor's own user needs an index privilege that
    grants `indices:admin/resolve/cluster` (`view_index_metadata`, `read`,
    `read_cross_cluster` or `manage`, on any index; cluster `monitor` is not enough) and, on an
    API-key link, `remote_indices` for the alias. Without them Elasticsearch answers 403, or
    `connected: false` with the security message: that says nothing about the link, so this
    check is not evaluated and the connection is judged from `_remote/info` alone (ECKRC503).

    On a real cluster: the answer comes from the node that served doctor's request; it cannot
    tell which of several causes broke a connection that was never made (that is what the
    other checks and the TLS probe are for).

    Fix by hand: read the error: doctor maps the known texts to their cause; `GET
    _resolve/cluster/<alias>:*` retries.
    """
    es = reads.es_api(snap.local)
    if alias not in es.resolve_cluster:
        return not_evaluated(f"_resolve/cluster was not called for {alias}")
    unusable = resolve_unusable(snap, alias)
    if unusable:
        # the refusal itself is the finding's cause, shown once beside the message
        return not_evaluated(f"doctor's Elasticsearch user may not use _resolve/cluster on {alias}: the "
                             "connection is judged from _remote/info alone (ECKRC503)",
                             RESOLVE_PERMISSION, unusable)
    answer = need(es.resolve_cluster[alias], f"_resolve/cluster/{alias}:*")
    entry = answer.get(alias) if isinstance(answer, dict) else None
    if not isinstance(entry, dict):
        return failed(f"_resolve/cluster did not report {alias}", "the alias is unknown to the local cluster",
                      answer=sorted(answer) if isinstance(answer, dict) else [])
    error = str(entry.get("error") or "")
    if entry.get("connected") and not error:
        version = (entry.get("version") or {}).get("number", "")
        return passed(f"{alias} resolves" + (f" (remote {version})" if version else ""), connected=True)
    reached = "" if error else reads.probe_reached(snap, alias)
    unreached = "the remote cannot be reached; the checks above name the cause"
    if reached:
        unreached += "; if none does, " + pods_path_hint(snap, reached, alias)
    return failed(f"{alias} does not resolve: {error or 'not connected'}", diagnose(error) or unreached,
                  connected=bool(entry.get("connected")), error=error)


def is_broken(snap: Snapshot, alias: str) -> tuple[bool, str]:
    """Whether _remote/info or _resolve/cluster show the link down, and what shows it."""
    entry = links.remote_info_entry(snap, alias)
    if entry is not None and (not entry.get("connected") or entry.get("num_proxy_sockets_connected") == 0):
        return True, "_remote/info: not connected"
    es = reads.es_api(snap.local)
    answer = es.resolve_cluster.get(alias)
    if isinstance(answer, dict) and isinstance(answer.get(alias), dict) and not resolve_unusable(snap, alias):
        resolved = answer[alias]
        if not resolved.get("connected") or resolved.get("error"):
            return True, f"_resolve/cluster: {resolved.get('error') or 'not connected'}"
    return False, ""


@check("ECKRC505", severity=WARNING, side=LINK, requires=("ECKRC501",), covers=("F18",))
def skip_unavailable_hides(snap: Snapshot, alias: str) -> Verdict:
    """skip_unavailable does not hide a broken link

    With `skip_unavailable: true` (the default since 8.15) searches silently leave out a remote
    they cannot reach: results are missing and nothing fails. This warning shows up beside the
    failure it would hide.

    On a real cluster: the effective `skip_unavailable` (the version's default when unset)
    and the link state doctor saw; whether searches actually target this alias is not known.

    Fix by hand: fix the link; set `cluster.remote.<alias>.skip_unavailable: false` where
    missing results must fail the search.
    """
    link = reads.link(snap, alias)
    skip = link.skip_unavailable
    if skip is None:
        version = eck.parse_version(eck.es_version(snap.local)) or (0, 0, 0)
        skip = version >= (8, 15, 0)
    broken, why = is_broken(snap, alias)
    if broken and skip:
        return warned(f"{alias} is down and skip_unavailable is true: searches drop it silently",
                      "skip_unavailable: true makes searches leave out a remote they cannot reach, "
                      "without an error",
                      skip_unavailable=True, seen=why)
    state = "down" if broken else "up"
    return passed(f"skip_unavailable {str(skip).lower()}, link {state}", skip_unavailable=skip)


def _local_grants(snap: Snapshot, alias: str) -> list[str]:
    roles = need(reads.es_api(snap.local).roles, "local roles (GET _security/role)")
    return [n for g in remote_index_grants((roles or {}).values(), alias) for n in names_of(g.get("names"))]


@check("ECKRC506", severity=WARNING, side=LINK, requires=("ECKRC403",), covers=("F16",))
def access_covers(snap: Snapshot, alias: str) -> Verdict:
    """The key's access and local roles' remote_indices cover the alias

    Effective rights across clusters are the API key's `access` intersected with the local
    user's role: local roles need `remote_indices` whose `clusters` match the alias. Too
    narrow, searches fail with `no remote indices privileges apply for the target cluster`.

    On a real cluster: the local roles doctor's user may read (`read_security`) and the
    key's `access`; roles from realms other than the native one (file, LDAP role mappings)
    are not read.

    Fix by hand: add `remote_indices` with `clusters: [<alias>]` to the local roles, and make
    the key's `access` name the indices.
    """
    if reads.link(snap, alias).model != links.API_KEY:
        return passed("certificate model: remote roles apply", applicable=False)
    local = _local_grants(snap, alias)
    key_names = _key_access(snap, alias)
    evidence: dict[str, Any] = {"roleIndices": local,
                                "keyAccess": key_names if key_names is not None else "not read"}
    if not local:
        return warned(f"no local role grants remote_indices on {alias}",
                      f"add remote_indices with clusters: [{alias}] to the roles of the users who search",
                      **evidence)
    if key_names is not None and not key_names:
        return warned("the API key grants no search or replication access",
                      "create the key with access.search / access.replication naming the indices", **evidence)
    return passed(f"local roles grant {', '.join(local)} on {alias}", **evidence)


def _key_access(snap: Snapshot, alias: str) -> list[str] | None:
    try:
        key = key_id(snap, alias)
        entry = remote_key(snap, alias, key)
    except NotEvaluated:
        return None
    access = KeyAccess(key, "", dict((entry or {}).get("access") or {}))
    return access.search_names + replication_names(access)


@check("ECKRC507", severity=ERROR, side=LOCAL, requires=("ECKRC101",), fix="mount-ca")
def client_role(snap: Snapshot) -> Verdict:
    """Local nodes have the remote_cluster_client role

    Only nodes with the `remote_cluster_client` role open remote connections and run
    cross-cluster requests. The role is on by default, but a nodeSet that lists `node.roles`
    explicitly drops it unless it is listed: requests landing there fail with `node [...] does
    not have the [remote_cluster_client] role`.

    On a real cluster: `node.roles` in the nodeSets' `config`; requests routed to
    coordinating nodes outside ECK's resource (another Deployment) are not seen.

    Fix by hand: add `remote_cluster_client` to `node.roles` of the nodeSets that serve
    cross-cluster requests (or remove the explicit list).
    """
    es = reads.resource(snap.local)
    without = []
    for nodeset in eck.nodesets(es):
        roles = eck.nodeset_config(nodeset).get("node.roles")
        if isinstance(roles, str):
            roles = [r.strip() for r in roles.strip("[]").split(",") if r.strip()]
        if isinstance(roles, list) and "remote_cluster_client" not in roles:
            without.append(str(nodeset.get("name", "")))
    names = [str(n.get("name", "")) for n in eck.nodesets(es)]
    if without and len(without) == len(names):
        return failed(f"no nodeSet has the remote_cluster_client role ({', '.join(without)} list node.roles "
                      "without it)", "add remote_cluster_client to node.roles", nodeSets=without)
    if without:
        return warned(f"nodeSets {', '.join(without)} lack the remote_cluster_client role",
                      "cross-cluster requests sent to those nodes fail: add the role, or send requests "
                      "to the other nodes", nodeSets=without)
    return passed(f"nodeSets {', '.join(names)} have the remote_cluster_client role")


CHECKS: list[CheckSpec] = [
    registered, proxy_mode, connected, resolves, skip_unavailable_hides, access_covers, client_role,
]
