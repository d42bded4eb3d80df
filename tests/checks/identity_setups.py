"""Strong identity set-ups (9.3+) on the snapshot builder's healthy pair: the signing Secret
mounted on every local nodeSet, the signer's CA trusted on the remote, the key's identity."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives import serialization

from kubectl_eckrc.redact import private_key_info
from kubectl_eckrc.snapshot import SecretKey
from tests.snapshot_builder import (
    ALIAS,
    KEY_ID,
    Issued,
    PairBuilder,
    cert_key,
    healthy_pair,
    make_ca,
    make_leaf,
    secret,
)

SIGNER_DN = "CN=local-es-signing,OU=logging"
SIGNING = f"cluster.remote.{ALIAS}.signing"
TRUST = "cluster.remote.signing.certificate_authorities"


def signing_pair(start: dt.datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), days: int = 365) -> PairBuilder:
    pair = healthy_pair()
    for side in (pair.local, pair.remote):
        side.es["spec"]["version"] = side.es["status"]["version"] = "9.3.0"
        side.info["version"]["number"] = "9.3.0"
    ca = make_ca("local-es", "signing-ca", subject_cn="local-es-signing-ca")
    leaf = make_leaf(ca, "local-es-signing", "logging", [], start=start, days=days, key_name="signing")
    set_signing_secret(pair, leaf, leaf, ca)
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        _mount(nodeset, {"name": "signing", "secret": {"secretName": "local-es-signing"}},
               "/usr/share/elasticsearch/config/signing")
        nodeset["config"][f"{SIGNING}.certificate"] = "signing/tls.crt"
        nodeset["config"][f"{SIGNING}.key"] = "signing/tls.key"
    pair.remote.configmaps["local-es-signing-ca"] = {"metadata": {"name": "local-es-signing-ca"},
                                                     "data": {"ca.crt": ca.pem}}
    for nodeset in pair.remote.es["spec"]["nodeSets"]:
        nodeset["podTemplate"] = {"spec": {}}
        _mount(nodeset, {"name": "signing-ca", "configMap": {"name": "local-es-signing-ca"}},
               "/usr/share/elasticsearch/config/signing-ca")
        nodeset["config"][TRUST] = ["signing-ca/ca.crt"]
    key_identity(pair, SIGNER_DN)
    return pair


def private_key(issued: Issued) -> SecretKey:
    pem = issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return SecretKey(size=len(pem), sha256="0" * 16, private_key=private_key_info(pem))


def set_signing_secret(pair: PairBuilder, cert: Issued, key: Issued, ca: Issued | None = None) -> None:
    keys = {"tls.crt": cert_key([cert]), "tls.key": private_key(key)}
    if ca is not None:
        keys["ca.crt"] = cert_key([ca])

    pair.local.secrets["local-es-signing"] = secret("local-es-signing", keys)


def key_identity(pair: PairBuilder, pattern: str | None) -> None:
    entry = pair.remote.api_keys[KEY_ID]["api_keys"][0]
    entry.pop("certificate_identity", None)
    if pattern is not None:
        entry["certificate_identity"] = pattern


def unsigned(pair: PairBuilder) -> PairBuilder:
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        nodeset["config"] = {k: v for k, v in nodeset["config"].items() if not k.startswith(SIGNING)}
    return pair


def untrusted(pair: PairBuilder) -> PairBuilder:
    for nodeset in pair.remote.es["spec"]["nodeSets"]:
        nodeset["config"].pop(TRUST, None)
    return pair


def _mount(nodeset: dict[str, Any], volume: dict[str, Any], path: str) -> None:
    spec = nodeset.setdefault("podTemplate", {}).setdefault("spec", {})
    spec.setdefault("volumes", []).append(volume)
    containers = spec.setdefault("containers", [{"name": "elasticsearch"}])
    containers[0].setdefault("volumeMounts", []).append({"name": volume["name"], "mountPath": path})
