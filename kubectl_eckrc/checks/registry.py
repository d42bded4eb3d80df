"""The check catalogue: every check of the six area modules, in id order.

Ids are forever: never renumbered, never reused. Retired ids stay listed in RETIRED with the
reason, so that a reader of an old report can still find what a code meant.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_eckrc.checks import (
    access,
    cert_model,
    connection,
    credentials,
    exposure,
    follow,
    identity,
    trust,
    use,
)
from kubectl_eckrc.checks.spec import CheckSpec

ALL_CHECKS: list[CheckSpec] = sorted(
    [
        *access.CHECKS,
        *exposure.CHECKS,
        *trust.CHECKS,
        *credentials.CHECKS,
        *identity.CHECKS,
        *connection.CHECKS,
        *use.CHECKS,
        *follow.CHECKS,
        *cert_model.CHECKS,
    ],
    key=lambda spec: spec.id,
)

BY_ID: dict[str, CheckSpec] = {spec.id: spec for spec in ALL_CHECKS}

RETIRED: dict[str, str] = {}  # id -> why it was retired

AREAS: dict[str, str] = {
    "1": "Access",
    "2": "Remote cluster server",
    "3": "TLS trust",
    "4": "API key",
    "5": "Connection",
    "6": "Certificate model",
}


def area_of(check_id: str) -> str:
    return AREAS.get(check_id.removeprefix("ECKRC")[:1], "Other")


def get(check_id: str) -> CheckSpec | None:
    return BY_ID.get(check_id.upper())


# The failure modes of domain.md section 6, each covered by at least one check.
FAILURE_ROWS: dict[str, str] = {
    "F1": "no remote cluster service or no endpoints: remote cluster server not enabled, or pods not ready",
    "F2": "connection refused or timing out at proxy_address: wrong host or port, load balancer without "
          "address, firewall, port remapped without targetPort 9443",
    "F3": "`is not configured to trust that issuer`: the local cluster lacks the remote CA",
    "F4": "trust fails although a CA is configured: stale CA copy, or two clusters with the same name",
    "F5": "`No subject alternative names matching ...`: server_name unset or wrong",
    "F6": "`invalid ... server_name`: server_name is an IP or not a host name",
    "F7": "trust failure on an unexpected issuer: a load balancer or ingress terminates TLS",
    "F8": "`received plaintext traffic on an encrypted channel`: a proxy forwards plaintext",
    "F9": "`require transport header [_cross_cluster_access_credentials]`: keystore lacks the credentials",
    "F10": "`bad_certificate` / `Empty client certificate chain`: proxy_address points at 9300 with an "
           "API key",
    "F11": "`expected API key type of [cross_cluster]`: a REST API key was stored",
    "F12": "`unable to authenticate`: api_key stored instead of encoded, damaged, foreign, expired or "
           "invalidated key",
    "F13": "403 `non-compliant for [advanced-remote-cluster-security]`: no Enterprise or trial license",
    "F14": "certificate model ConfigMap missing or without key ca.crt",
    "F15": "`Secure settings secret not found`: secureSettings names a missing secret",
    "F16": "`no remote indices privileges apply`: key access or local remote_indices too narrow",
    "F17": "sniff mode across Kubernetes clusters, num_nodes_connected 0",
    "F18": "remote silently missing from results: skip_unavailable hides a broken remote",
    "F19": "version or handshake errors: unsupported version pair",
    "F20": "new key not used after the secret changed: rollout pending or stuck",
    "F21": "certificate model: one-way trust",
    "F22": "certificate model against 9443: the remote cluster server always requires an API key",
    "F23": "CA or remote cluster server certificate expired or expiring",
}

@dataclass(frozen=True)
class FixAction:
    """A repair action of `kubectl eckrc fix` (product.md): checks name it in `fix=`, and fix's
    planner of the same name builds its changes."""

    name: str
    does: str  # what it changes, as the docs and `checks ID` say it
    implies: tuple[str, ...] = ()  # doing it makes these necessary even while their checks are skipped


# In the order fix carries them out: the remote must serve before anything points at it; the
# CA must exist before pods mount it; the key is in the keystore only after the local rollout;
# registration last.
ACTIONS: tuple[FixAction, ...] = (
    FixAction("enable-rcs", "sets spec.remoteClusterServer.enabled: true on the remote Elasticsearch "
              "(rolling restart)", implies=("expose-rcs", "register-remote")),
    FixAction("expose-rcs", "exposes 9443 with spec.remoteClusterServer.service (ECK >= 3.3) or a "
              "LoadBalancer/NodePort Service with targetPort 9443", implies=("register-remote",)),
    FixAction("sync-ca", "creates or refreshes the local ConfigMap with the remote's current transport CA "
              "(no restart)", implies=("mount-ca",)),
    FixAction("mount-ca", "adds the client SSL settings, the CA volume and its mount to every local nodeSet "
              "(rolls pods)", implies=("sync-ca",)),
    FixAction("create-api-key", "creates a cross-cluster API key on the remote and stores its encoded value "
              "in a local secureSettings secret", implies=("register-remote",)),
    FixAction("widen-key-access", "PUT /_security/cross_cluster/api_key/<id> on the remote: a search entry "
              "for the --index patterns the key's access hides (only with fix --widen-key-access)"),
    FixAction("setup-signing", "completes strong identity (9.3+): mounts the local signing Secret and sets "
              "the alias's signing settings on every nodeSet; puts the signer's CA in the remote's signing "
              "trust; the key's certificate_identity only with fix --set-certificate-identity (rolls pods)"),
    FixAction("register-remote", "PUT _cluster/settings with mode proxy, proxy_address and server_name"),
    FixAction("fix-server-name", "PUT _cluster/settings with the remote cluster service's DNS name as "
              "server_name"),
)

FIX_ACTIONS: dict[str, str] = {a.name: a.does for a in ACTIONS}
