"""The scenario catalogue: `healthy` and one entry per injectable fault.

Each entry is a `Plan` (what the user did, see scenario_plan.py), the failure rows of
domain.md §6 it reproduces and the product checks expected to catch it. README.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tests.twin.scenario_plan import Plan

HEALTHY = Plan()


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    rows: tuple[str, ...]  # failure rows of domain.md §6 ("" for healthy set-ups)
    checks: tuple[str, ...]  # check ids expected to fail or warn
    plan: Plan


def _s(name: str, title: str, rows: str, checks: str, **changes: object) -> Scenario:
    return Scenario(name, title, tuple(rows.split()), tuple(checks.split()),
                    replace(HEALTHY, **changes))  # type: ignore[arg-type]


_CATALOGUE = [
    _s("healthy", "API-key link of domain.md §2 complete; _remote/info connected", "", ""),
    _s("healthy-eck-rcs-service", "ECK 3.3: 9443 exposed through spec.remoteClusterServer.service", "", "",
       eck_version="3.3.0", expose="eck-service"),
    _s("healthy-lb-ip-san", "no server_name; the LB IP is in the remote's transport subjectAltNames", "",
       "", server_name="lb-ip-san"),
    _s("server-name-wrong-lb-ip-san", "server_name names no SAN, but the LB IP is in the remote's "
       "transport subjectAltNames: the JDK fails over to the address host and connects", "", "ECKRC305",
       server_name="wrong-with-lb-ip-san"),
    _s("lb-hostname", "the LB is published by DNS name (status.loadBalancer.ingress[0].hostname); "
       "proxy_address uses that name", "", "", expose="lb-hostname"),
    _s("nodeport-exposure", "9443 exposed as a NodePort; proxy_address is a node address and the nodePort",
       "", "", expose="nodeport"),
    _s("healthy-9x", "the healthy link between two Elasticsearch 9.1.3 clusters", "", "",
       local_version="9.1.3", remote_version="9.1.3"),
    _s("healthy-mixed-9-8", "the healthy link from a 9.1.3 local cluster to an 8.19.3 remote", "", "",
       local_version="9.1.3", remote_version="8.19.3"),
    _s("no-remote-config", "two healthy clusters, nothing set up", "F1 F9", "ECKRC201 ECKRC501",
       link=False, rcs_enabled=False),
    _s("no-remote-config-rich", "nothing set up; the local ES carries user data a fix must keep",
       "F1 F9", "ECKRC201 ECKRC501", link=False, rcs_enabled=False, rich_local=True),
    _s("rcs-disabled", "remote spec.remoteClusterServer not enabled (LB in place)", "F1",
       "ECKRC201 ECKRC202", rcs_enabled=False),
    _s("rcs-disabled-refused", "as rcs-disabled, behind a MetalLB load balancer that passes the pod's "
       "refusal through (connection refused instead of accept-and-close)", "F1", "ECKRC201 ECKRC205",
       rcs_enabled=False, expose="lb-pass-through"),
    _s("remote-fixed-later", "RCS was off when the link was set up; the remote enabled it afterwards and "
       "nothing reconnected (_remote/info still says not connected)", "", "", rcs_enabled=False,
       remote_fixed_later=True),
    _s("remote-pods-not-ready", "the remote pod mounts a missing ConfigMap: ContainerCreating, no endpoints",
       "F1", "ECKRC202 ECKRC104", remote_missing_mount=True),
    _s("lb-no-address", "LB Service asks for a loadBalancerClass no controller serves: no address",
       "F2", "ECKRC203 ECKRC205", expose="lb-no-class-provider"),
    _s("targetport-missing", "LB port 443 without targetPort: forwards to pod port 443", "F2",
       "ECKRC203 ECKRC205", expose="lb-remapped"),
    _s("proxy-to-transport-port", "proxy_address at an LB of the transport port 9300 with an API key",
       "F10", "ECKRC204", expose="transport-lb"),
    _s("blackhole", "a firewall drops traffic to the LB (accepts, never answers)", "F2", "ECKRC205",
       path="drop"),
    _s("connect-timeout", "a firewall drops SYNs to the LB: TCP connects time out", "F2", "ECKRC205",
       path="drop-syn"),
    _s("refused", "a firewall rejects traffic to the LB (connection refused)", "F2", "ECKRC205",
       path="reject"),
    _s("pods-only-reachable", "the remote LB is internal: the local pods reach it through the peered "
       "networks, this machine does not; the link is connected", "", "ECKRC205", path="pods-only"),
    _s("egress-blocked", "an egress NetworkPolicy drops the local pods' traffic to the LB; this machine "
       "reaches it", "F2", "ECKRC503 ECKRC504", path="egress-blocked"),
    _s("ca-not-mounted", "client SSL enabled but no CA configured or mounted (JDK trust only)", "F3",
       "ECKRC301 ECKRC304", mount="none"),
    _s("ca-wrong-path", "certificate_authorities names remote-certs/ca.crt; the mount has another key",
       "F3", "ECKRC301 ECKRC302", mount="wrong-path"),
    _s("ca-missing-on-one-nodeset", "CA mounted and configured on nodeSet hot only, not warm", "F3",
       "ECKRC301", mount="first-nodeset"),
    _s("stale-ca", "ConfigMap holds the remote's previous, expired transport CA (same subject, other key)",
       "F4 F23", "ECKRC303 ECKRC304", ca="stale"),
    _s("ca-subpath-mount", "the stale CA copy is mounted with subPath: kubelet never refreshes it, so "
       "updating the ConfigMap alone changes nothing in the pods", "F4 F23", "ECKRC303 ECKRC304", ca="stale",
       mount="sub-path"),
    _s("remote-ca-renewed", "the remote's ECK renewed its transport CA (same key and SKI) while the link "
       "was up; the local copy is the previous issue, which the JDK still accepts", "F4", "ECKRC303",
       remote_ca_renewed=True),
    _s("same-es-name", "ConfigMap holds the CA of another cluster also named remote-es", "F4",
       "ECKRC303 ECKRC304", ca="same-name"),
    _s("server-name-unset", "no server_name: the LB IP is checked against the SANs", "F5", "ECKRC305",
       server_name="unset"),
    _s("server-name-ip", "server_name is the LB IP (PUT _cluster/settings takes it), not a SAN", "F6",
       "ECKRC305", server_name="lb-ip"),
    _s("tls-terminating-proxy", "an ingress terminates TLS with its fake certificate", "F7",
       "ECKRC304 ECKRC306", path="tls-proxy"),
    _s("plaintext-proxy", "a proxy terminates TLS (trusted corp CA) and forwards plaintext", "F8",
       "ECKRC306", path="plaintext-proxy", ca="proxy"),
    _s("secure-settings-secret-missing", "spec.secureSettings names a secret that does not exist",
       "F15 F9", "ECKRC401 ECKRC405", secret_created=False),
    _s("alias-typo", "keystore entry cluster.remote.remotes-es.credentials (alias typo)", "F9",
       "ECKRC402", key_alias="remotes-es"),
    _s("secure-settings-entries", "the key is stored as remote-es-api-key, remapped by "
       "spec.secureSettings[].entries to cluster.remote.remote-es.credentials", "", "", key_entries=True),
    _s("raw-api-key", "the raw api_key is stored instead of encoded", "F12", "ECKRC403", credential="raw"),
    _s("key-unknown-to-remote", "a well-formed encoded cross-cluster key whose id the remote does not know",
       "F12", "ECKRC404", credential="unknown"),
    _s("rest-api-key", "a REST API key is stored instead of a cross-cluster key", "F11", "ECKRC404",
       credential="rest"),
    _s("expired-api-key", "the cross-cluster key has expired", "F12", "ECKRC404", credential="expired"),
    _s("invalidated-api-key", "the cross-cluster key was invalidated", "F12", "ECKRC404",
       credential="invalidated"),
    _s("basic-license", "the remote environment has no enterprise license (basic)", "F13", "ECKRC106",
       remote_license=False),
    _s("sniff-mode", "the alias is registered in sniff mode with the LB as seed", "F17", "ECKRC502",
       mode="sniff"),
    _s("skip-unavailable-broken", "skip_unavailable: true while the link is broken (no CA)", "F18 F3",
       "ECKRC505 ECKRC301", skip_unavailable=True, mount="none"),
    _s("rollout-pending", "new key in the secret, old one invalidated, pods cannot restart", "F20 F12",
       "ECKRC405", rollout_pending=True),
    _s("es-too-old", "both clusters run Elasticsearch 8.12.2", "F19", "ECKRC105",
       local_version="8.12.2", remote_version="8.12.2"),
    _s("version-pair-unsupported", "local 9.1.0 and remote 8.18.2: not a supported transport pair", "F19",
       "ECKRC105", local_version="9.1.0", remote_version="8.18.2"),
    _s("cert-expired", "the remote's (user-provided) transport CA and RCS certificates expired", "F23",
       "ECKRC307 ECKRC304", ca="user-ca", remote_user_ca_expired=True),
    _s("rbac-restricted", "the local context's user may not read secrets nor port-forward", "", "ECKRC103",
       restricted_local=True),
    _s("no-remote-cluster-client-role", "local nodeSets list node.roles without remote_cluster_client", "",
       "ECKRC507", client_role=False),
    _s("key-access-too-narrow", "the key grants search on logs-* only; the user searches metrics-* "
       "(doctor --index metrics-*)", "F16", "ECKRC508"),
    _s("local-role-no-remote-indices", "local user app-user, role app-role without remote_indices for the "
       "alias (doctor --index logs-* --as-user app-user)", "F16", "ECKRC508", local_user="no-remote-indices"),
    _s("strong-identity-healthy", "9.3 strong identity: the local side signs for the alias, the remote "
       "trusts the signer's CA, the key's certificate_identity matches the signer's DN", "", "",
       local_version="9.3.0", remote_version="9.3.0", strong_identity="healthy"),
    _s("strong-identity-dn-mismatch", "the key's certificate_identity names another DN than the signer's",
       "", "ECKRC413", local_version="9.3.0", remote_version="9.3.0", strong_identity="dn-mismatch"),
    _s("strong-identity-unsigned", "the key requires a certificate identity; the signing Secret is mounted "
       "but the alias's signing settings were never set", "", "ECKRC411", local_version="9.3.0",
       remote_version="9.3.0", strong_identity="unsigned"),
    _s("strong-identity-untrusted-signer", "the remote does not trust the signer's CA "
       "(no cluster.remote.signing.certificate_authorities)", "", "ECKRC412", local_version="9.3.0",
       remote_version="9.3.0", strong_identity="untrusted-signer"),
    _s("cert-model-healthy", "certificate model: mutual CA trust, transport LB at 9300, connected", "",
       "ECKRC603", cert_model="mutual", rcs_enabled=False, expose="transport-service"),
    _s("cert-model-one-way", "certificate model: only the local side trusts the remote's CA", "F21",
       "ECKRC601", cert_model="one-way", rcs_enabled=False, expose="transport-service"),
    _s("cert-model-configmap-wrong-key", "certificate model: the local trust ConfigMap has no key ca.crt",
       "F14", "ECKRC601", cert_model="wrong-key", rcs_enabled=False, expose="transport-service"),
    _s("cert-model-to-rcs", "certificate model (no API key) pointed at the remote cluster server 9443",
       "F22 F9", "ECKRC602", cert_model="mutual"),
    _s("same-env-healthy", "the healthy link, and local-es linked to peers/peer-es of its own environment "
       "through spec.remoteClusters with an apiKey (ECK's eck-* key, CA copy and seeds)", "", "",
       same_env="api-key"),
    _s("same-env-user-ca-string", "same-env-healthy, but the nodeSets give remote_cluster_client.ssl."
       "certificate_authorities as one string: it replaces ECK's list, peer-es's CA is not trusted", "",
       "ECKRC303", same_env="user-ca-string"),
]

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _CATALOGUE}
