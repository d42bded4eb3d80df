"""doctor --index: what a cross-cluster search would get, read through each link.

Per alias and pattern, on the local cluster as the tool's user or as `--as-user` (run_as):
`GET <alias>:<pattern>/_field_caps?fields=*` (the indices a search would cover, and the
refusal a search would meet) and `GET _resolve/index/<alias>:<pattern>`; on the remote, as
doctor's remote user, `GET _resolve/index/<pattern>`: what exists there, so the check can name
what the link hides. All read-only, all at once, each within --timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kubectl_eckrc.collect.failures import parallel
from kubectl_eckrc.options import Scope
from kubectl_eckrc.snapshot import FollowProbe, Read, Unavailable, UseProbe

if TYPE_CHECKING:
    from kubectl_eckrc.collect.es import EsClient

NO_REMOTE = Unavailable("no access to the remote environment", "no-access",
                        "pass --remote-context (and --remote-namespace) to see what exists on the remote")


def read_uses(local: EsClient | Unavailable, remote: EsClient | Unavailable, aliases: list[str],
              scope: Scope) -> list[UseProbe]:
    """One UseProbe per alias and --index pattern (none without --index). `remote` is the
    remote's client, or why there is none."""
    if not scope.indices or not aliases:
        return []
    who = scope.as_user or ""
    if isinstance(local, Unavailable):
        return [UseProbe(a, p, who, local, local, local) for a in aliases for p in scope.indices]
    client = local.widened(min(16, 2 * len(aliases) * len(scope.indices) + 1))
    try:
        results = parallel(_calls(client, remote, aliases, scope), thread_name="eckrc-use")
    finally:
        client.close()
    user: Read[Any] | None = results.get("user")
    return [UseProbe(alias, pattern, who, results[f"caps {alias} {pattern}"],
                     results[f"resolve {alias} {pattern}"], results[f"remote {pattern}"], user)
            for alias in aliases for pattern in scope.indices]


def _calls(local: EsClient, remote: EsClient | Unavailable, aliases: list[str],
           scope: Scope) -> dict[str, Callable[[], Any]]:
    run_as = scope.as_user
    calls: dict[str, Callable[[], Any]] = {}
    for pattern in scope.indices:
        if isinstance(remote, Unavailable):
            calls[f"remote {pattern}"] = partial(_failed, remote)
        else:
            calls[f"remote {pattern}"] = partial(remote.use, f"/_resolve/index/{quote(pattern, safe='*,-')}")
        for alias in aliases:
            linked = quote(f"{alias}:{pattern}", safe="*,-:")
            calls[f"caps {alias} {pattern}"] = partial(local.use, f"/{linked}/_field_caps", {"fields": "*"},
                                                       run_as)
            calls[f"resolve {alias} {pattern}"] = partial(local.use, f"/_resolve/index/{linked}", None,
                                                          run_as)
    if run_as:
        calls["user"] = partial(local.user, run_as)
    return calls


def _failed(why: Unavailable) -> Unavailable:
    return why


def read_follow(local: EsClient | Unavailable, scope: Scope) -> FollowProbe | None:
    """doctor --follow: the leaders and, with --as-user, that user's roles (GET _security/user);
    the role definitions and the key's access are read with the sides."""
    if not scope.follows:
        return None
    who = scope.as_user or ""
    if not who:
        return FollowProbe(list(scope.follows), who)
    if isinstance(local, Unavailable):
        return FollowProbe(list(scope.follows), who, local)
    return FollowProbe(list(scope.follows), who, parallel({"user": partial(local.user, who)},
                                                           thread_name="eckrc-follow")["user"])
