"""What the user did when linking the two clusters: the knobs a scenario turns.

Every field describes a user action on Kubernetes objects or Elasticsearch APIs (which CA was
copied, which key was stored, how 9443 was exposed...). Nothing here is read by the
Elasticsearch twin: `scenarios.build` turns a plan into real objects and API calls.
"""

from __future__ import annotations

from dataclasses import dataclass

ALIAS = "remote-es"
DEFAULT_VERSION = "8.15.3"


@dataclass(frozen=True)
class Plan:
    """What the user did. Defaults = the healthy API-key link."""

    eck_version: str = "3.2.0"
    local_version: str = DEFAULT_VERSION
    remote_version: str = DEFAULT_VERSION
    local_license: bool = True
    remote_license: bool = True
    link: bool = True  # False: two clusters, nothing set up
    rich_local: bool = False  # local ES carries user data a fix must keep
    client_role: bool = True  # False: hot/warm nodeSets whose node.roles lack remote_cluster_client
    rcs_enabled: bool = True
    # lb | lb-no-class-provider | lb-remapped | eck-service | transport-lb | transport-service | nodeport |
    # lb-hostname (an LB published as ingress[0].hostname) | lb-pass-through (MetalLB: refusals pass)
    expose: str = "lb"
    # direct | drop | drop-syn | reject | tls-proxy | plaintext-proxy; pods-only (an internal LB only
    # the local pods reach) | egress-blocked (the local pods' egress to the LB is dropped)
    path: str = "direct"
    ca: str = "current"  # current | stale | same-name | proxy | user-ca
    mount: str = "all"  # all | none | wrong-path | first-nodeset | sub-path (the CA file through subPath)
    # dns | unset | lb-ip (through the API) | ip-in-config (in elasticsearch.yml) | lb-ip-san (unset,
    # LB IP added to the remote SANs) | wrong-with-lb-ip-san (a name in no SAN, LB IP added to the SANs)
    server_name: str = "dns"
    mode: str = "proxy"  # proxy | sniff
    skip_unavailable: bool | None = None
    credential: str = "encoded"  # encoded | raw | rest | expired | invalidated | unknown (id not on remote)
    key_alias: str = ALIAS  # the alias in the keystore entry name
    key_entries: bool = False  # the key is stored as `remote-es-api-key`, remapped by secureSettings entries
    secret_created: bool = True
    remote_user_ca_expired: bool = False
    rollout_pending: bool = False
    remote_missing_mount: bool = False  # afterwards, the remote mounts a ConfigMap that does not exist
    remote_fixed_later: bool = False  # after the local links failed, the remote enables RCS
    # the remote's ECK CA was issued a year ago; once the link is up, ECK renews it (same key)
    remote_ca_renewed: bool = False
    restricted_local: bool = False
    cert_model: str = ""  # "" | mutual | one-way | wrong-key (local ConfigMap key is not ca.crt)
    # "" | no-remote-indices: local user app-user whose role app-role has no remote_indices
    local_user: str = ""
    # "" | healthy | dn-mismatch | unsigned | untrusted-signer: strong identity (9.3+, scenario_signing.py)
    strong_identity: str = ""
    # "" | api-key | cert | user-ca-string: local-es also links to peers/peer-es in its own
    # environment through spec.remoteClusters (ECK sets it up); user-ca-string: the nodeSets give
    # remote_cluster_client.ssl.certificate_authorities as one string, which replaces ECK's list
    same_env: str = ""
