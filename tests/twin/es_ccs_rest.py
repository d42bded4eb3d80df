"""REST side of cross-cluster reads on the local cluster: `GET <alias>:<pattern>/_field_caps`,
`GET _resolve/index/<alias>:<pattern>`, `GET|POST <alias>:<pattern>/_search` (size 0), plus the
small user and document APIs scenarios use to set up what a user would have.

The caller may run as another user (`es-security-runas-user`). Before anything is sent to a
remote, the local node computes the role descriptors intersection of the effective user's
`remote_indices` / `remote_cluster` for that alias; an empty one is refused here with
`... because no remote indices privileges apply for the target cluster`. The request then goes
through the link (a real handshake, then one request frame) and the remote authorizes it
(es_ccs.py). How failures surface differs per API, as in Elasticsearch: field_caps lists them
(or throws the first when nothing answered), resolve/index leaves a failed remote out, search
skips it when `skip_unavailable` is true. Sources: FIDELITY.md, "Cross-cluster requests".
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from tests.twin import es_ccs
from tests.twin import es_index_authz as authz
from tests.twin.es_errors import EsError, illegal_argument, security
from tests.twin.network import close_quietly
from tests.twin.remote_client import LinkFailure
from tests.twin.remote_server import FrameError, recv_frame, send_frame

if TYPE_CHECKING:
    from tests.twin.es_routes import Context

RUN_AS_HEADER = "es-security-runas-user"
REQUEST_TIMEOUT = 5.0


@dataclass(frozen=True)
class Caller:
    """The authenticated user and, under run_as, the user the request runs as."""

    authenticated: str
    user: str
    roles: tuple[str, ...]
    api_key_id: str = ""

    def description(self, defined: dict[str, Any]) -> str:
        """successfulAuthenticationDescription with authorization info: effective roles, and
        the assigned roles that do not exist."""
        who = f"user [{self.authenticated}]"
        if self.api_key_id:
            who = f"API key id [{self.api_key_id}] of {who}"
        if self.user != self.authenticated:
            who += f" run as [{self.user}]"
        found = sorted(r for r in self.roles if r in defined)
        text = f"{who} with effective roles [{','.join(found)}]"
        missing = sorted(r for r in self.roles if r not in defined)
        return text + (f" (assigned roles [{','.join(missing)}] were not found)" if missing else "")


def caller(ctx: Context, action: str) -> Caller:
    """The effective user: `es-security-runas-user` needs the authenticating user's `run_as`
    to cover the name and the user to exist (otherwise the same run-as denial, to avoid
    telling which users exist)."""
    principal = ctx.principal
    key_id = principal.api_key.id if principal.api_key is not None else ""
    target = ctx.request.header(RUN_AS_HEADER)
    if target is None:
        return Caller(principal.username, principal.username, principal.roles, key_id)
    security_store = ctx.cluster.security
    defined = security_store.all_roles()
    patterns = [p for r in principal.roles for p in (defined.get(r) or {}).get("run_as") or []]
    user = security_store.users.get(target)
    if key_id or user is None or not any(fnmatchcase(target, p) for p in patterns):
        found = ",".join(sorted(r for r in principal.roles if r in defined))
        raise security(403, f"action [{action}] is unauthorized for user [{principal.username}] with "
                            f"effective roles [{found}], because user [{principal.username}] is "
                            f"unauthorized to run as [{target}]")
    return Caller(principal.username, target, user.roles)


def split_targets(ctx: Context, target: str) -> tuple[list[str], dict[str, list[str]]]:
    """Local expressions and alias -> expressions (RemoteClusterService.groupIndices)."""
    view = ctx.cluster.node_view(ctx.pod)
    aliases = sorted(ctx.cluster.links(ctx.pod).links())
    local: list[str] = []
    remote: dict[str, list[str]] = {}
    for part in [p for p in target.split(",") if p]:
        cluster_pattern, sep, expression = part.partition(":")
        if not sep:
            local.append(part)
            continue
        if view is not None and not view.remote_client:
            raise illegal_argument(f"node [{ctx.pod}] does not have the [remote_cluster_client] role")
        matched = [a for a in aliases if fnmatchcase(a, cluster_pattern)]
        if not matched and not authz.is_pattern(cluster_pattern):
            raise EsError(404, "no_such_remote_cluster_exception",
                          f"no such remote cluster: [{cluster_pattern}]")
        for alias in matched:
            remote.setdefault(alias, []).append(expression)
    return local, remote


def subject_for(ctx: Context, who: Caller, alias: str, action: str) -> es_ccs.Subject:
    """The role descriptors intersection for `alias`; refused when it is empty."""
    defined = ctx.cluster.security.all_roles()
    indices: list[dict[str, Any]] = []
    cluster: list[str] = []
    for role in who.roles:
        descriptor = defined.get(role) or {}
        for entry in descriptor.get("remote_indices") or []:
            if any(fnmatchcase(alias, c) for c in entry.get("clusters") or []):
                indices.append({k: v for k, v in entry.items() if k != "clusters"})
        for entry in descriptor.get("remote_cluster") or []:
            if any(fnmatchcase(alias, c) for c in entry.get("clusters") or []):
                cluster += list(entry.get("privileges") or [])
    if not indices and not cluster:
        raise security(403, f"action [{action}] towards remote cluster [{alias}] is unauthorized for "
                            f"{who.description(defined)} because no remote indices privileges apply for "
                            "the target cluster")
    return es_ccs.Subject(who.user, who.authenticated, who.roles, tuple(indices), tuple(cluster))


def ask_remote(ctx: Context, who: Caller, alias: str, action: str, expressions: list[str],
               **extra: Any) -> dict[str, Any]:
    """One request through the link; the remote's answer, or its error as an EsError."""
    subject = subject_for(ctx, who, alias, action)
    link = ctx.cluster.links(ctx.pod).links()[alias]
    try:
        conn = link.attempt()[0]
    except LinkFailure as failed:
        if failed.refused:
            raise security(401, failed.reason) from None
        raise EsError(500, "connect_transport_exception", f"Unable to connect to [{alias}]") from None
    try:
        conn.sock.settimeout(REQUEST_TIMEOUT)
        send_frame(conn.sock, es_ccs.request_frame(action, link.credential, subject, expressions,
                                                   link.signer, **extra))
        answer = recv_frame(conn.sock)
    except (OSError, FrameError, ValueError):
        answer = None
    finally:
        close_quietly(conn.sock)
    if answer is None:
        raise EsError(500, "node_disconnected_exception", f"[{alias}][{action}] disconnected")
    if not answer.get("ok"):
        raise _RemoteError(int(answer.get("status", 500)), answer["error"])
    result: dict[str, Any] = answer["result"]
    return result


class _RemoteError(EsError):
    """The remote's error, passed on with its own body."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        error = payload.get("error") or {}
        super().__init__(status, str(error.get("type", "")), str(error.get("reason", "")))
        self.payload = payload

    def body(self) -> dict[str, Any]:
        return self.payload


def local_indices(ctx: Context, who: Caller, action: str, expressions: list[str]) -> list[str]:
    """Local expressions of a mixed request, authorized with the user's `indices`."""
    if not expressions:
        return []
    defined = ctx.cluster.security.all_roles()
    role = [authz.grant_of(e) for r in who.roles for e in (defined.get(r) or {}).get("indices") or []]
    text = who.description(defined)
    return es_ccs.resolve_for(ctx.cluster, action, [role], text, expressions)
