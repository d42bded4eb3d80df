"""API keys of one Elasticsearch twin (REST and cross-cluster) and the RCS credential check.

Secrets are kept only as SHA-256 digests so no secret value can leak through a log or a
debugging dump of the store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from tests.twin.es_errors import EsError, illegal_argument, license_non_compliant

RCS_FEATURE = "advanced-remote-cluster-security"
RCS_LICENSES = ("enterprise", "trial")
HANDSHAKE_ACTION = "cluster:internal/remote_cluster/handshake"

_UNITS_MS = {"nanos": 1e-6, "micros": 1e-3, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_SEARCH_PRIVILEGES = ["read", "read_cross_cluster", "view_index_metadata"]
_REPLICATION_PRIVILEGES = ["cross_cluster_replication", "cross_cluster_replication_internal"]


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_time_value(value: str, setting: str) -> int:
    """Milliseconds of an Elasticsearch time value such as `90d`, with the real error text."""
    match = re.fullmatch(r"(\d+)\s*(nanos|micros|ms|s|m|h|d)", value.strip())
    if not match:
        raise illegal_argument(
            f"failed to parse setting [{setting}] with value [{value}] as a time "
            "value: unit is missing or unrecognized"
        )
    return int(int(match.group(1)) * _UNITS_MS[match.group(2)])


def random_id() -> str:
    """A 20-character URL-safe id, like Elasticsearch's base64 UUIDs."""
    return base64.urlsafe_b64encode(secrets.token_bytes(15)).decode()


def random_secret() -> str:
    """A 22-character API key secret."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    type: str  # "rest" or "cross_cluster"
    secret_digest: bytes
    creation: int
    expiration: int | None
    username: str
    realm: str
    metadata: dict[str, Any]
    role_descriptors: dict[str, Any]
    access: dict[str, Any] | None = None
    invalidated: bool = False
    invalidation: int | None = None
    certificate_identity: str | None = None  # 9.3+: a Java regex the signer's DN must match

    def expired(self, at_ms: int) -> bool:
        return self.expiration is not None and self.expiration <= at_ms

    def public(self) -> dict[str, Any]:
        """The `GET /_security/api_key` entry."""
        entry: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "creation": self.creation,
            "invalidated": self.invalidated,
            "username": self.username,
            "realm": self.realm,
            "realm_type": "reserved" if self.realm == "reserved" else "native",
            "metadata": self.metadata,
            "role_descriptors": self.role_descriptors,
        }
        if self.expiration is not None:
            entry["expiration"] = self.expiration
        if self.invalidation is not None:
            entry["invalidation"] = self.invalidation
        if self.access is not None:
            entry["access"] = self.access
        if self.certificate_identity is not None:
            entry["certificate_identity"] = self.certificate_identity
        return entry


@dataclass
class CrossClusterAuthFailure(Exception):
    """A failed cross-cluster credential check: what the caller sees and what the remote logs."""

    exception: str
    reason: str
    remote_log: str | None = None
    status: int = 401


class ApiKeyStore:
    """REST and cross-cluster API keys; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.api_keys: dict[str, ApiKey] = {}

    def _rest_key_problem(self, key: ApiKey | None, key_id: str, secret: str) -> str | None:
        if key is None:
            return f"unable to find apikey with id {key_id}"
        if key.invalidated:
            return f"api key [{key_id}] has been invalidated"
        if not hmac.compare_digest(key.secret_digest, digest(secret)):
            return f"invalid credentials for API key [{key_id}]"
        if key.expired(now_ms()):
            return "api key is expired"
        if key.type != "rest":
            return (
                f"authentication expected API key type of [rest], but API key [{key_id}] has type "
                f"[{key.type}]"
            )
        return None

    # ---- API keys --------------------------------------------------------------------------

    def create_api_key(self, principal: Any, body: dict[str, Any], cross_cluster: bool) -> dict[str, Any]:
        name = body.get("name")
        if not name or not isinstance(name, str):
            raise EsError(
                400, "action_request_validation_exception", "Validation Failed: 1: api key name is required;"
            )
        expiration = body.get("expiration")
        created = now_ms()
        expires = created + parse_time_value(str(expiration), "expiration") if expiration else None
        key_id, secret = random_id(), random_secret()
        key = ApiKey(
            key_id,
            name,
            "cross_cluster" if cross_cluster else "rest",
            digest(secret),
            created,
            expires,
            principal.username,
            principal.realm,
            dict(body.get("metadata") or {}),
            {},
            None,
        )
        if cross_cluster:
            access = _normalise_access(body.get("access"))
            key = replace(key, access=access, role_descriptors=_cross_cluster_descriptors(access),
                          certificate_identity=_certificate_identity(body.get("certificate_identity")))
        else:
            key = replace(key, role_descriptors=dict(body.get("role_descriptors") or {}))
        with self._lock:
            self.api_keys[key_id] = key
        response: dict[str, Any] = {
            "id": key_id,
            "name": name,
            "api_key": secret,
            "encoded": encode_credential(key_id, secret),
        }
        if expires is not None:
            response["expiration"] = expires
        return response

    def update_cross_cluster_key(self, key_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            key = self.api_keys.get(key_id)
            if key is None or key.type != "cross_cluster":
                raise EsError(
                    404,
                    "resource_not_found_exception",
                    f"no API key owned by requesting user found for ID [{key_id}]",
                )
            if key.invalidated or key.expired(now_ms()):
                raise illegal_argument(f"cannot update invalidated or expired API key [{key_id}]")
            updated = key
            if "access" in body:
                access = _normalise_access(body["access"])
                updated = replace(updated, access=access, role_descriptors=_cross_cluster_descriptors(access))
            if "metadata" in body:
                updated = replace(updated, metadata=dict(body["metadata"] or {}))
            if "certificate_identity" in body:
                identity = _certificate_identity(body["certificate_identity"])
                updated = replace(updated, certificate_identity=identity)
            if "expiration" in body:
                exp = body["expiration"]
                updated = replace(
                    updated, expiration=now_ms() + parse_time_value(str(exp), "expiration") if exp else None
                )
            self.api_keys[key_id] = updated
        return {"updated": updated != key}

    def get_api_keys(
        self, ids: Iterable[str] = (), name: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        wanted = {i for i in ids if i}
        with self._lock:
            keys = [
                k
                for k in self.api_keys.values()
                if (not wanted or k.id in wanted)
                and _name_matches(name, k.name)
                and (username is None or k.username == username)
            ]
        if (wanted or name) and not keys:
            return {"api_keys": []}
        return {"api_keys": [k.public() for k in sorted(keys, key=lambda k: k.creation)]}

    def invalidate(self, ids: Iterable[str] = (), name: str | None = None) -> dict[str, Any]:
        wanted = {i for i in ids if i}
        done: list[str] = []
        previously: list[str] = []
        with self._lock:
            for key in list(self.api_keys.values()):
                if (wanted and key.id not in wanted) or not _name_matches(name, key.name):
                    continue
                if key.invalidated:
                    previously.append(key.id)
                else:
                    self.api_keys[key.id] = replace(key, invalidated=True, invalidation=now_ms())
                    done.append(key.id)
        return {"invalidated_api_keys": done, "previously_invalidated_api_keys": previously, "error_count": 0}

    def set_expiration(self, key_id: str, expiration_ms: int | None) -> None:
        """Test hook: move a key's expiration (e.g. into the past)."""
        with self._lock:
            self.api_keys[key_id] = replace(self.api_keys[key_id], expiration=expiration_ms)

    # ---- cross-cluster (RCS) authentication ---------------------------------------------

    def authenticate_cross_cluster(self, credential: str | None, license_type: str,
                                   signer_dn: str | None = None) -> ApiKey:
        """Check the credential a remote client presented on the RCS port, like ES does;
        `signer_dn`: the DN of the verified signature the request carried (es_signing.py)."""
        if credential is None:
            raise CrossClusterAuthFailure(
                "java.lang.IllegalArgumentException",
                "Cross cluster requests through the dedicated remote cluster server port require transport "
                "header [_cross_cluster_access_credentials] but none found. Please ensure you have "
                "configured remote cluster credentials on the cluster originating the request.",
            )
        if license_type not in RCS_LICENSES:
            error = license_non_compliant(RCS_FEATURE)
            raise CrossClusterAuthFailure(
                "org.elasticsearch.ElasticsearchSecurityException", error.reason, status=403
            )
        decoded = decode_credential(credential)
        if decoded is None or len(decoded[1]) != 22:
            raise CrossClusterAuthFailure(
                "org.elasticsearch.ElasticsearchSecurityException", "invalid cross-cluster API key value"
            )
        key_id, secret = decoded
        key = self.api_keys.get(key_id)
        problem = self._cross_cluster_problem(key, key_id, secret)
        if problem is not None:
            raise problem
        assert key is not None
        mismatch = identity_problem(key.id, key.certificate_identity, signer_dn)
        if mismatch is not None:
            raise CrossClusterAuthFailure("org.elasticsearch.ElasticsearchSecurityException", mismatch,
                                          f"Authentication using apikey failed - {mismatch}")
        return key

    def _cross_cluster_problem(
        self, key: ApiKey | None, key_id: str, secret: str
    ) -> CrossClusterAuthFailure | None:
        unable = f"unable to authenticate user [{key_id}] for action [{HANDSHAKE_ACTION}]"
        prefix = "Authentication using apikey failed - "
        sec = "org.elasticsearch.ElasticsearchSecurityException"
        # ApiKeyService.validateApiKeyCredentials: invalidated before the hash, then
        # validateApiKeyTypeAndExpiration: the type, then the expiry.
        if key is None:
            return CrossClusterAuthFailure(sec, unable, f"{prefix}unable to find apikey with id {key_id}")
        if key.invalidated:
            return CrossClusterAuthFailure(sec, unable, f"{prefix}api key [{key_id}] has been invalidated")
        if not hmac.compare_digest(key.secret_digest, digest(secret)):
            return CrossClusterAuthFailure(sec, unable, f"{prefix}invalid credentials for API key [{key_id}]")
        if key.type != "cross_cluster":
            return CrossClusterAuthFailure(
                sec,
                f"authentication expected API key type of [cross_cluster], but API key [{key_id}] "
                f"has type [{key.type}]",
            )
        if key.expired(now_ms()):
            return CrossClusterAuthFailure(sec, unable, f"{prefix}api key is expired")
        return None


def identity_problem(key_id: str, pattern: str | None, dn: str | None) -> str | None:
    """The key's `certificate_identity` against the signer's DN (a Java regex, whole match)."""
    if pattern is None:
        return None
    if dn is None:
        return (f"API key (type:[cross_cluster], id:[{key_id}]) requires certificate identity matching "
                f"[{pattern}], but no certificate was provided")
    if re.fullmatch(pattern, dn) is None:
        return (f"DN from provided certificate [{dn}] does not match API Key certificate identity pattern "
                f"[{pattern}]")
    return None


def _certificate_identity(value: Any) -> str | None:
    """CertificateIdentity: null, or a string that compiles as a regex."""
    if value is None:
        return None
    try:
        re.compile(str(value))
    except re.error:
        raise illegal_argument(
            f"Invalid certificate_identity format: [{value}]. Must be a valid regex.") from None
    return str(value)


def encode_credential(key_id: str, secret: str) -> str:
    return base64.b64encode(f"{key_id}:{secret}".encode()).decode()


def decode_credential(value: str) -> tuple[str, str] | None:
    """(id, secret) of a base64 `id:secret` credential, None when malformed."""
    try:
        text = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    key_id, sep, secret = text.partition(":")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


def _name_matches(pattern: str | None, name: str) -> bool:
    if not pattern or pattern == "*":
        return True
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def _normalise_access(access: Any) -> dict[str, Any]:
    if not isinstance(access, dict) or not (access.get("search") or access.get("replication")):
        raise illegal_argument("must specify non-empty access for either [search] or [replication]")
    result: dict[str, Any] = {}
    for kind in ("search", "replication"):
        entries = access.get(kind) or []
        if entries:
            result[kind] = [
                {**e, "allow_restricted_indices": bool(e.get("allow_restricted_indices", False))}
                for e in entries
            ]
    return result


def _cross_cluster_descriptors(access: dict[str, Any]) -> dict[str, Any]:
    cluster: list[str] = []
    indices: list[dict[str, Any]] = []
    for kind, privileges in (("search", _SEARCH_PRIVILEGES), ("replication", _REPLICATION_PRIVILEGES)):
        if access.get(kind):
            cluster.append(f"cross_cluster_{kind}")
            indices += [
                {
                    "names": e["names"],
                    "privileges": privileges,
                    "allow_restricted_indices": e["allow_restricted_indices"],
                }
                for e in access[kind]
            ]
    return {
        "cross_cluster": {
            "cluster": cluster,
            "indices": indices,
            "applications": [],
            "run_as": [],
            "metadata": {},
            "transient_metadata": {"enabled": True},
        }
    }
