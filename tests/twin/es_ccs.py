"""Cross-cluster read requests on the remote side: what the fulfilling cluster answers to a
field_caps, resolve/index or search request that arrives through the link.

After the remote-cluster handshake the local node sends one frame per request (see
remote_server.py) carrying the cross-cluster API key (`credentials`, checked again for every
request as Elasticsearch does) and the subject: the local user and the role descriptors
intersection of its `remote_indices` / `remote_cluster` for this alias. The remote authorizes
with the key's role limited by that intersection: wildcards expand over indices both allow,
explicit names either pass or fail with the real `security_exception` text. A certificate-model
link (no credentials, transport port) is authorized with the remote's own roles of that name.
Sources: FIDELITY.md, "Cross-cluster requests".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Protocol

from tests.twin import es_index_authz as authz
from tests.twin.es_errors import EsError, security
from tests.twin.es_security import CrossClusterAuthFailure, SecurityStore
from tests.twin.es_signing import Signer, payload

ACTIONS = (authz.FIELD_CAPS, authz.RESOLVE_INDEX, authz.SEARCH)
RCS_PROFILE = "_remote_cluster"


class IndexedCluster(Protocol):
    name: str
    license_type: str
    security: SecurityStore
    documents: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Subject:
    """The local user a cross-cluster request runs for, as the local node describes it."""

    user: str  # the effective user
    authenticated_by: str  # the user who authenticated (differs under run_as)
    roles: tuple[str, ...]
    indices: tuple[Mapping[str, Any], ...]  # the remote_indices entries that apply to the alias
    cluster: tuple[str, ...]  # the remote_cluster privileges that apply to the alias

    def as_frame(self) -> dict[str, Any]:
        return {"user": self.user, "authenticated_by": self.authenticated_by, "roles": list(self.roles),
                "descriptors": {"indices": list(self.indices), "cluster": list(self.cluster)}}

    @classmethod
    def from_frame(cls, data: Mapping[str, Any]) -> Subject:
        descriptors = data.get("descriptors") or {}
        return cls(str(data.get("user", "")), str(data.get("authenticated_by", data.get("user", ""))),
                   tuple(data.get("roles") or ()), tuple(descriptors.get("indices") or ()),
                   tuple(descriptors.get("cluster") or ()))

    def description(self) -> str:
        """successfulAuthenticationDescription without authorization info: assigned roles."""
        run_as = f" run as [{self.user}]" if self.authenticated_by != self.user else ""
        return f"user [{self.authenticated_by}]{run_as} with assigned roles [{','.join(self.roles)}]"


def request_frame(action: str, credential: str | None, subject: Subject, indices: list[str],
                  signer: Signer | None = None, **extra: Any) -> dict[str, Any]:
    frame = {"action": action, "subject": subject.as_frame(), "indices": indices, **extra}
    if credential is not None:
        frame["credentials"] = credential
        if signer is not None:
            frame["signature"] = signer.sign(payload(credential, action))
    return frame


def failure(error: EsError) -> dict[str, Any]:
    return {"ok": False, "status": error.status, "error": error.body()}


def serve_remote(cluster: IndexedCluster, frame: Mapping[str, Any], profile: str,
                 signer_dn: str | None = None) -> dict[str, Any]:
    """Answer one cross-cluster request frame; every refusal carries the real error body."""
    action = str(frame.get("action"))
    if action not in ACTIONS:
        return failure(EsError(400, "illegal_argument_exception",
                               f"action [{action}] is not allowed as a cross cluster operation on the "
                               "dedicated remote cluster server port"))
    subject = Subject.from_frame(frame.get("subject") or {})
    try:
        roles, who = _roles(cluster, frame, subject, profile, signer_dn)
        answer = _answer(cluster, action, roles, who, frame)
    except EsError as error:
        return failure(error)
    return {"ok": True, "result": answer}


def _roles(cluster: IndexedCluster, frame: Mapping[str, Any], subject: Subject,
           profile: str, signer_dn: str | None = None) -> tuple[list[authz.Role], str]:
    """The roles that must all allow an index, and how a denial names the caller."""
    if profile != RCS_PROFILE:  # certificate model: the remote's own roles of the same names
        defined = cluster.security.all_roles()
        grants = [authz.grant_of(e) for r in subject.roles
                  for e in (defined.get(r) or {}).get("indices") or []]
        return [grants], f"user [{subject.user}] with effective roles [{','.join(subject.roles)}]"
    try:
        key = cluster.security.authenticate_cross_cluster(frame.get("credentials"), cluster.license_type,
                                                          signer_dn)
    except CrossClusterAuthFailure as refused:
        raise EsError(refused.status, "security_exception", refused.reason) from None
    user_role = [authz.grant_of(e) for e in subject.indices]
    who = (f"{subject.description()} authenticated by API key id [{key.id}] of user [{key.username}]")
    return [authz.key_role(key.access or {}), user_role], f"towards remote cluster is unauthorized for {who}"


def denied(action: str, who: str, indices: list[str]) -> EsError:
    """The real 403: `action [..] <who> on indices [..], this action is granted by the index
    privileges [..]` (`who` starts with "towards remote cluster is unauthorized for" on RCS)."""
    if not who.startswith("towards"):
        who = f"is unauthorized for {who}"
    return security(403, f"action [{action}] {who} on indices [{','.join(indices)}], this action is "
                         f"granted by the index privileges [{','.join(authz.privileges_granting(action))}]")


def not_found(index: str) -> EsError:
    return EsError(404, "index_not_found_exception", f"no such index [{index}]",
                   extra={"resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_",
                          "index": index})


def resolve_for(cluster: IndexedCluster, action: str, roles: list[authz.Role], who: str,
                expressions: Iterable[str]) -> list[str]:
    resolution = authz.resolve(expressions, cluster.documents, roles, action)
    if resolution.denied:
        raise denied(action, who, resolution.denied)
    if resolution.missing and action != authz.RESOLVE_INDEX:
        raise not_found(resolution.missing[0])
    return resolution.indices


def _answer(cluster: IndexedCluster, action: str, roles: list[authz.Role], who: str,
            frame: Mapping[str, Any]) -> dict[str, Any]:
    indices = resolve_for(cluster, action, roles, who, [str(i) for i in frame.get("indices") or []])
    if action == authz.RESOLVE_INDEX:
        return {"indices": [{"name": i, "attributes": ["open"]} for i in indices], "aliases": [],
                "data_streams": []}
    if action == authz.FIELD_CAPS:
        patterns = frame.get("fields") or ["*"]
        return {"indices": {i: field_caps_of(cluster, roles, i, patterns) for i in indices}}
    query = frame.get("query") or {}
    return {"indices": indices, "count": sum(
        1 for i in indices for d in authz.visible_documents(roles, i, cluster.documents.get(i, []), action)
        if authz.matches(query, d))}


def field_caps_of(cluster: IndexedCluster, roles: list[authz.Role], index: str,
                  patterns: Iterable[str]) -> dict[str, str]:
    """field -> type of one index, as field level security leaves it."""
    types = authz.field_types(cluster.documents.get(index, []))
    wanted = [f for f in types if any(fnmatchcase(f, p) for p in patterns)]
    return {f: types[f] for f in authz.visible_fields(roles, index, wanted, authz.FIELD_CAPS)}
