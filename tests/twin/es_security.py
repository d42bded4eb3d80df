"""Users, roles and authentication of one Elasticsearch twin (API keys: es_api_keys.py)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from tests.twin import es_index_authz as authz
from tests.twin.es_api_keys import (
    HANDSHAKE_ACTION,
    RCS_FEATURE,
    RCS_LICENSES,
    ApiKey,
    ApiKeyStore,
    CrossClusterAuthFailure,
    decode_credential,
    digest,
    encode_credential,
    now_ms,
    parse_time_value,
)
from tests.twin.es_errors import security

__all__ = [
    "HANDSHAKE_ACTION",
    "RCS_FEATURE",
    "RCS_LICENSES",
    "ApiKey",
    "CrossClusterAuthFailure",
    "Principal",
    "SecurityStore",
    "User",
    "encode_credential",
    "now_ms",
    "parse_time_value",
]

ALL_PRIVILEGE = "all"


@dataclass(frozen=True)
class User:
    username: str
    password_digest: bytes
    roles: tuple[str, ...]
    realm: str = "default_native"
    realm_type: str = "native"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """Who a REST request is authenticated as."""

    username: str
    roles: tuple[str, ...]
    realm: str
    realm_type: str
    api_key: ApiKey | None = None


# Which cluster privileges grant each action (the real privilege names).
ACTION_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "monitor": ("monitor", "manage", ALL_PRIVILEGE),
    "manage": ("manage", ALL_PRIVILEGE),
    "manage_security": ("manage_security", ALL_PRIVILEGE),
    "manage_api_key": ("manage_api_key", "manage_security", ALL_PRIVILEGE),
    "read_api_key": (
        "manage_own_api_key",
        "read_security",
        "manage_api_key",
        "manage_security",
        ALL_PRIVILEGE,
    ),
    "create_api_key": ("manage_own_api_key", "manage_api_key", "manage_security", ALL_PRIVILEGE),
    "read_security": ("read_security", "manage_security", ALL_PRIVILEGE),
}

RESOLVE_CLUSTER_ACTION = authz.RESOLVE_CLUSTER

RESERVED_ROLES: dict[str, dict[str, Any]] = {
    "superuser": {
        "cluster": [ALL_PRIVILEGE],
        "indices": [{"names": ["*"], "privileges": [ALL_PRIVILEGE], "allow_restricted_indices": True}],
        "applications": [{"application": "*", "privileges": ["*"], "resources": ["*"]}],
        "run_as": ["*"],
        "metadata": {"_reserved": True},
        "transient_metadata": {"enabled": True},
        "remote_indices": [
            {
                "names": ["*"],
                "privileges": [ALL_PRIVILEGE],
                "clusters": ["*"],
                "allow_restricted_indices": True,
            }
        ],
    },
}


class SecurityStore(ApiKeyStore):
    """Users, roles and API keys of one cluster; thread-safe."""

    def __init__(self, elastic_password: str) -> None:
        super().__init__()
        self.users: dict[str, User] = {}
        self.roles: dict[str, dict[str, Any]] = {}
        self.users["elastic"] = User(
            "elastic", digest(elastic_password), ("superuser",), "reserved", "reserved", {"_reserved": True}
        )

    # ---- users and roles ----------------------------------------------------------------

    def add_user(self, username: str, password: str, roles: Iterable[str]) -> None:
        with self._lock:
            self.users[username] = User(username, digest(password), tuple(roles))

    def put_role(self, name: str, descriptor: dict[str, Any]) -> bool:
        """Store a role; True when it was created (not updated)."""
        with self._lock:
            created = name not in self.roles
            self.roles[name] = descriptor
            return created

    def all_roles(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {**RESERVED_ROLES, **self.roles}

    def cluster_privileges(self, principal: Principal) -> set[str]:
        roles = self.all_roles()
        privileges: set[str] = set()
        for role in principal.roles:
            privileges.update(roles.get(role, {}).get("cluster", []))
        key = principal.api_key
        if key is not None and key.role_descriptors:
            limited: set[str] = set()
            for descriptor in key.role_descriptors.values():
                limited.update(descriptor.get("cluster", []))
            privileges = limited if ALL_PRIVILEGE in privileges else privileges & limited
        return privileges

    def authorize(self, principal: Principal, action: str, privilege: str) -> None:
        """Raise the real 403 unless one of the privileges granting `privilege` is held."""
        granting = ACTION_PRIVILEGES[privilege]
        if self.cluster_privileges(principal) & set(granting):
            return
        raise security(
            403,
            f"action [{action}] is unauthorized for {_describe(principal)}, this action is granted by the "
            f"cluster privileges [{','.join(granting)}]",
        )

    # ---- index actions (RBACEngine.authorizeIndexAction) ----------------------------------

    def _descriptor_sets(self, principal: Principal) -> list[list[dict[str, Any]]]:
        """Role descriptors that must each grant: the user's roles and, for an API key with role
        descriptors of its own, those too (the key is limited by its owner's roles)."""
        roles = self.all_roles()
        sets = [[roles.get(name, {}) for name in principal.roles]]
        key = principal.api_key
        if key is not None and key.role_descriptors:
            sets.append(list(key.role_descriptors.values()))
        return sets

    def grants_index_action(self, principal: Principal, action: str, index: str | None = None) -> bool:
        """Whether some index group grants `action` (on `index`, or on any index when None)."""

        def grants(group: dict[str, Any]) -> bool:
            names = group.get("names") or []
            names = [names] if isinstance(names, str) else names
            if index is not None and not any(fnmatchcase(index, n) for n in names):
                return False
            return any(authz.grants_action(p, action) for p in group.get("privileges") or [])

        return all(
            any(grants(g) for d in descriptors for g in d.get("indices") or [])
            for descriptors in self._descriptor_sets(principal)
        )

    def authorize_index(self, principal: Principal, action: str, explicit: Iterable[str] = ()) -> None:
        """The real 403 for an index action: on named local indices the user may not use, or,
        when the request names only remote (or wildcard) indices, when no index privilege at all
        grants the action (the `-*` placeholder case)."""
        denied = [name for name in explicit if not self.grants_index_action(principal, action, name)]
        if not denied and self.grants_index_action(principal, action):
            return
        context = f" on indices [{','.join(denied)}]" if denied else ""
        granting = ",".join(authz.privileges_granting(action))
        raise security(
            403,
            f"action [{action}] is unauthorized for {_describe(principal)}{context}, this action is granted "
            f"by the index privileges [{granting}]",
        )

    def remote_denial(self, principal: Principal, action: str, alias: str) -> str | None:
        """What the local cross-cluster access interceptor refuses before an API-key-model request
        leaves: no `remote_indices` group whose `clusters` match the alias."""

        def covers(group: dict[str, Any]) -> bool:
            return any(fnmatchcase(alias, c) for c in group.get("clusters") or [])

        if all(
            any(covers(g) for d in descriptors for g in d.get("remote_indices") or [])
            for descriptors in self._descriptor_sets(principal)
        ):
            return None
        return (
            f"action [{action}] towards remote cluster [{alias}] is unauthorized for {_describe(principal)} "
            "because no remote indices privileges apply for the target cluster"
        )

    # ---- REST authentication -------------------------------------------------------------

    def authenticate(self, authorization: str | None, path: str) -> Principal:
        if not authorization:
            raise security(
                401, f"missing authentication credentials for REST request [{path}]", www_authenticate=True
            )
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "basic":
            return self._basic(value.strip(), path)
        if scheme.lower() == "apikey":
            return self._rest_api_key(value.strip())
        raise security(
            401, f"missing authentication credentials for REST request [{path}]", www_authenticate=True
        )

    def _basic(self, value: str, path: str) -> Principal:
        try:
            username, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise security(
                401, f"missing authentication credentials for REST request [{path}]", www_authenticate=True
            ) from None
        user = self.users.get(username)
        if user is None or not hmac.compare_digest(user.password_digest, digest(password)):
            raise security(
                401,
                f"unable to authenticate user [{username}] for REST request [{path}]",
                www_authenticate=True,
            )
        return Principal(user.username, user.roles, user.realm, user.realm_type)

    def _rest_api_key(self, value: str) -> Principal:
        key_id, secret = decode_credential(value) or ("", "")
        key = self.api_keys.get(key_id)
        detail = self._rest_key_problem(key, key_id, secret) if key_id else "invalid ApiKey value"
        if detail:
            raise security(
                401,
                "unable to authenticate with provided credentials and anonymous access "
                "is not allowed for this request",
                www_authenticate=True,
                additional_unsuccessful_credentials=f"API key: {detail}",
            )
        assert key is not None
        owner = self.users.get(key.username)
        return Principal(key.username, owner.roles if owner else (), "_es_api_key", "_es_api_key", key)


def _describe(principal: Principal) -> str:
    """AuthorizationDenialMessages: an API key has no roles to show; a user's are sorted."""
    if principal.api_key is not None:
        return f"API key id [{principal.api_key.id}] of user [{principal.username}]"
    return f"user [{principal.username}] with effective roles [{','.join(sorted(principal.roles))}]"
