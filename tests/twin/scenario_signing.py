"""Strong identity verification (Elasticsearch 9.3+) as a user sets it up with ECK: the signing
certificate and key in a Secret mounted on every local nodeSet with the alias's signing
settings in elasticsearch.yml; the signer's CA in a ConfigMap mounted on the remote with
`cluster.remote.signing.certificate_authorities`; the key created with a `certificate_identity`.

`Plan.strong_identity` picks the variant: healthy | dn-mismatch (the key's pattern names another
DN) | unsigned (the Secret is mounted, the signing settings were never set) | untrusted-signer
(the remote was never given the signer's CA).
"""

from __future__ import annotations

from typing import Any

from tests.twin import pki
from tests.twin.scenario_plan import ALIAS

SIGNING_SECRET = "local-es-signing"
SIGNING_DIR = "/usr/share/elasticsearch/config/signing"
SIGNER_CN, SIGNER_OU = "local-es-signing", "logging"
SIGNER_DN = f"CN={SIGNER_CN},OU={SIGNER_OU}"
WRONG_PATTERN = "CN=local-es-signer,OU=logging"  # a typo: matches no signer
TRUST_CONFIGMAP = "local-es-signing-ca"
TRUST_DIR = "/usr/share/elasticsearch/config/signing-ca"
TRUST_SETTING = "cluster.remote.signing.certificate_authorities"


def signing_material() -> dict[str, str]:
    """The Secret's data: a signing leaf of a private CA (the key is a secret, the rest public)."""
    ca = pki.make_ca("local-es-signing-ca", SIGNER_OU)
    leaf = pki.make_leaf(ca.cert, ca.key, SIGNER_CN, SIGNER_OU)
    return {"tls.crt": pki.cert_pem(leaf.cert).decode(), "tls.key": leaf.key_pem.decode(),
            "ca.crt": pki.cert_pem(ca.cert).decode()}


def key_identity(variant: str) -> str:
    return WRONG_PATTERN if variant == "dn-mismatch" else SIGNER_DN


def mount(node_set: dict[str, Any], volume: dict[str, Any], path: str) -> None:
    """Add a volume and its read-only mount in container `elasticsearch` (keeping what is there)."""
    spec = node_set.setdefault("podTemplate", {}).setdefault("spec", {})
    spec.setdefault("volumes", []).append(volume)
    containers = spec.setdefault("containers", [])
    container = next((c for c in containers if c.get("name") == "elasticsearch"), None)
    if container is None:
        container = {"name": "elasticsearch"}
        containers.append(container)
    container.setdefault("volumeMounts", []).append({"name": volume["name"], "mountPath": path,
                                                      "readOnly": True})


def sign_on_local(variant: str, node_sets: list[dict[str, Any]]) -> None:
    for node_set in node_sets:
        mount(node_set, {"name": "signing", "secret": {"secretName": SIGNING_SECRET}}, SIGNING_DIR)
        if variant != "unsigned":
            node_set["config"][f"cluster.remote.{ALIAS}.signing.certificate"] = "signing/tls.crt"
            node_set["config"][f"cluster.remote.{ALIAS}.signing.key"] = "signing/tls.key"


def trust_on_remote(variant: str, es: dict[str, Any]) -> bool:
    """Give the remote's nodeSets the signer's CA; False when the variant leaves it out."""
    if variant == "untrusted-signer":
        return False
    for node_set in es["spec"]["nodeSets"]:
        mount(node_set, {"name": "signing-ca", "configMap": {"name": TRUST_CONFIGMAP}}, TRUST_DIR)
        node_set.setdefault("config", {})[TRUST_SETTING] = ["signing-ca/ca.crt"]
    return True
