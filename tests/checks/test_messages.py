"""What doctor tells the user, check by check, for a set of broken set-ups: status, message,
hint, evidence and permission, compared with tests/checks/messages.json.

The wording is the product here: a finding that says less, or something else, is a
regression a status assertion does not see. After an intended change of wording, regenerate
the file and review its diff:

    ECKRC_UPDATE_MESSAGES=1 .venv/bin/python -m pytest tests/checks/test_messages.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubectl_eckrc.checks.engine import run_checks
from kubectl_eckrc.snapshot import AccessReview, Unavailable
from tests.checks import identity_setups
from tests.snapshot_builder import (
    ALIAS,
    KEY_ID,
    PairBuilder,
    cert_key,
    certificate_model_pair,
    credential_key,
    healthy_pair,
    make_ca,
    make_leaf,
    secret,
    service,
)

EXPECTED = Path(__file__).with_name("messages.json")
# Certificate and value fingerprints depend on keys made per run: only their place is compared.
FINGERPRINT = re.compile(r"\b[0-9a-f]{16,}\b|\b[0-9A-F]{4}\u2026[0-9A-F]{4}\b")


def _key(pair: PairBuilder, **fields: Any) -> PairBuilder:
    pair.remote.api_keys[KEY_ID]["api_keys"][0].update(fields)
    return pair


def _stale_ca(pair: PairBuilder) -> PairBuilder:
    pair.set_configured_ca([make_ca("third-es", "third-ca")])
    return pair


def _no_rcs(pair: PairBuilder) -> PairBuilder:
    pair.remote.es["spec"]["remoteClusterServer"] = {"enabled": False}
    return pair


def _sniff(pair: PairBuilder) -> PairBuilder:
    pair.local_cluster_setting("mode", None)
    return pair


def _link_down(pair: PairBuilder) -> PairBuilder:
    pair.present([], tcp="timeout", tcp_error="timed out", tls="skipped")
    pair.remote_info(connected=False, num_proxy_sockets_connected=0, skip_unavailable=True)
    pair.local.resolve_cluster[ALIAS][ALIAS] = {"connected": False, "skip_unavailable": True}
    return pair


def _link_down_too(pair: PairBuilder) -> PairBuilder:
    """The local cluster cannot reach the address either (else the probe's failure only warns)."""
    pair.remote_info(connected=False, num_proxy_sockets_connected=0)
    pair.local.resolve_cluster[ALIAS][ALIAS] = {"connected": False, "skip_unavailable": True}
    return pair


def _no_remote(pair: PairBuilder) -> PairBuilder:
    pair.no_remote_access()
    return pair


def _server_name_ip(pair: PairBuilder) -> PairBuilder:
    pair.local_cluster_setting("server_name", "127.0.0.10")
    return pair


def _keystore_older(pair: PairBuilder) -> PairBuilder:
    pair.local.resolve_cluster[ALIAS][ALIAS] = {
        "connected": False, "skip_unavailable": False,
        "error": "unable to authenticate user [old-key-id] for action "
                 "[cluster:internal/remote_cluster/handshake]"}
    return pair


def _no_keystore_entry(pair: PairBuilder) -> PairBuilder:
    pair.remote_info(cluster_credentials=None)
    pair.local.es["status"]["phase"] = "ApplyingChanges"
    return pair


def _missing_secret(pair: PairBuilder) -> PairBuilder:
    pair.local.es["spec"]["secureSettings"] = [{"secretName": "not-there"}]
    return pair


def _no_roles(pair: PairBuilder) -> PairBuilder:
    pair.local.roles = {}
    return pair


def _settings_unreadable(pair: PairBuilder) -> PairBuilder:
    pair.local.settings = Unavailable("403 Forbidden: cluster:monitor/settings", "forbidden",
                                      "monitor on the local cluster")
    return pair


def _ca_from_secret(pair: PairBuilder, keys: dict[str, Any] | None = None,
                    exists: bool = True) -> PairBuilder:
    volume = {"name": "remote-ca", "secret": {"secretName": "ca-secret"}}
    for nodeset in pair.local.es["spec"]["nodeSets"]:
        nodeset["podTemplate"]["spec"]["volumes"] = [volume]
    if exists:
        stored = keys if keys is not None else {"remote-cluster-ca.crt": cert_key([pair.remote_ca])}
        pair.local.secrets["ca-secret"] = secret("ca-secret", stored)
    return pair


def _ca_configmap_problem(pair: PairBuilder, data: dict[str, str] | None) -> PairBuilder:
    if data is None:
        del pair.local.configmaps["remote-ca"]
    else:
        pair.local.configmaps["remote-ca"]["data"] = data
    return pair


def _presents(pair: PairBuilder, chain: list[Any], **fields: Any) -> PairBuilder:
    pair.present(chain, **fields)
    return pair


def _ingress_leaf() -> Any:
    ingress = make_ca("ingress", "other-ca")
    return make_leaf(ingress, "ingress", "ingress", ["ingress.example.com"])


def _proxy_address(pair: PairBuilder, proxy_address: str, **probe: Any) -> PairBuilder:
    pair.local_cluster_setting("proxy_address", proxy_address)
    pair.present(probe.pop("chain", []), **probe)
    return pair


def _transport_lb(pair: PairBuilder, node_port: bool = False, target: Any = None) -> PairBuilder:
    lb = service("remote-es-transport-lb", "search", "remote-es", 9300, "tls-transport", "LoadBalancer",
                 node_port=30300 if node_port else None, lb_ip="127.0.0.11", target=target)
    pair.remote.services.append(lb)
    pair.local_cluster_setting("proxy_address", "127.0.0.11:30300" if node_port else "127.0.0.11:9300")
    return pair


def _trusts(pair: PairBuilder, ca: Any) -> PairBuilder:
    pair.set_configured_ca([ca])
    return pair


def _cert_model_at_rcs(pair: PairBuilder) -> PairBuilder:
    pair.local_cluster_setting("proxy_address", "127.0.0.10:9443")
    return pair


def _kube(pair: PairBuilder, side: str, reason: str, kind: str) -> PairBuilder:
    getattr(pair, side).kube_unavailable = Unavailable(reason, kind, "a context that answers")
    return pair


def _side(pair: PairBuilder, side: str, **overrides: Any) -> PairBuilder:
    getattr(pair, side).overrides.update(overrides)
    return pair


def _status(pair: PairBuilder, side: str, **status: Any) -> PairBuilder:
    getattr(pair, side).es["status"].update(status)
    return pair


def _es_api(pair: PairBuilder, side: str, reason: str, kind: str) -> PairBuilder:
    getattr(pair, side).es_unavailable = Unavailable(reason, kind)
    return pair


def _license(pair: PairBuilder, side: str, **license: Any) -> PairBuilder:
    getattr(pair, side).license = {"license": license}
    return pair


def _denied(pair: PairBuilder) -> PairBuilder:
    crd = "elasticsearches.elasticsearch.k8s.elastic.co"
    pair.local.access[0] = AccessReview("get", crd, "logging", False, "local")
    pair.remote.access[1] = AccessReview("list", "services", "search", False, "remote")
    return pair


def _remote_version(pair: PairBuilder, number: str) -> PairBuilder:
    pair.remote.info["version"]["number"] = number
    return pair


NOT_FOUND = Unavailable("404 Not Found", "not-found")
FORBIDDEN = Unavailable("403 Forbidden", "forbidden", "get on the resource")

SETUPS: dict[str, Callable[[], PairBuilder]] = {
    "healthy": healthy_pair,
    "certificate-model": certificate_model_pair,
    "stale-ca": lambda: _stale_ca(healthy_pair()),
    "rcs-disabled": lambda: _no_rcs(healthy_pair()),
    "sniff-mode": lambda: _sniff(healthy_pair()),
    "link-down": lambda: _link_down(healthy_pair()),
    "no-remote-access": lambda: _no_remote(healthy_pair()),
    "server-name-ip": lambda: _server_name_ip(healthy_pair()),
    "keystore-older-than-secret": lambda: _keystore_older(healthy_pair()),
    "keystore-entry-missing": lambda: _no_keystore_entry(healthy_pair()),
    "secure-settings-secret-missing": lambda: _missing_secret(healthy_pair()),
    "rest-key": lambda: _key(healthy_pair(), type="rest"),
    "invalidated-key": lambda: _key(healthy_pair(), invalidated=True),
    "expiring-key": lambda: _key(healthy_pair(), expiration=1781136000000),
    "no-local-roles": lambda: _no_roles(healthy_pair()),
    "settings-unreadable": lambda: _settings_unreadable(healthy_pair()),
    "certificate-model-at-9443": lambda: _cert_model_at_rcs(certificate_model_pair()),
    "plaintext-at-proxy-address": lambda: _presents(healthy_pair(), [], tls="not-tls",
                                                    tls_error="wrong version number"),
    "handshake-broken": lambda: _presents(healthy_pair(), [], tls="error", tls_error="unexpected eof"),
    "ingress-certificate": lambda: _presents(healthy_pair(), [_ingress_leaf()]),
    "leaf-for-another-name": lambda: (lambda p: _presents(p, [make_leaf(
        p.remote_ca, "remote-es-es-transport", "remote-es", ["other.example.com"])]))(healthy_pair()),
    "proxy-address-at-nothing": lambda: _link_down_too(_proxy_address(
        healthy_pair(), "127.0.0.99:9443", tcp="refused", tcp_error="connection refused", tls="skipped")),
    "proxy-address-at-a-transport-lb": lambda: _transport_lb(healthy_pair()),
    "proxy-address-at-a-transport-node-port": lambda: _transport_lb(healthy_pair(), node_port=True),
    "trusted-ca-same-name-other-key": lambda: _trusts(healthy_pair(), make_ca("remote-es", "other-ca")),
    "trusted-ca-renewed-old-expired": lambda: _trusts(healthy_pair(), make_ca(
        "remote-es", "remote-ca", start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), days=365)),
    "trusted-ca-older-issue-same-key": lambda: _trusts(healthy_pair(), make_ca(
        "remote-es", "remote-ca", start=dt.datetime(2025, 12, 1, tzinfo=dt.UTC), days=400)),
    "proxy-address-at-a-named-transport-target": lambda: _transport_lb(healthy_pair(), target="transport"),
    "proxy-address-at-an-ingress": lambda: (lambda p: _proxy_address(
        p, "127.0.0.50:443", address="127.0.0.50:443", tcp="ok", tls="ok", chain=[_ingress_leaf()]))(
        healthy_pair()),
    "proxy-address-at-a-plaintext-ingress": lambda: _proxy_address(
        healthy_pair(), "127.0.0.50:443", address="127.0.0.50:443", tcp="ok", tls="not-tls"),
    "proxy-address-reaches-the-remote-outside-its-services": lambda: (lambda p: _proxy_address(
        p, "127.0.0.50:443", address="127.0.0.50:443", tcp="ok", tls="ok", chain=[p.leaf]))(
        healthy_pair()),
    "ca-from-secret": lambda: _ca_from_secret(healthy_pair()),
    "ca-secret-missing": lambda: _ca_from_secret(healthy_pair(), exists=False),
    "ca-secret-without-the-key": lambda: _ca_from_secret(healthy_pair(), {"other.crt": credential_key()}),
    "ca-secret-key-not-pem": lambda: _ca_from_secret(healthy_pair(),
                                                     {"remote-cluster-ca.crt": credential_key()}),
    "ca-configmap-missing": lambda: _ca_configmap_problem(healthy_pair(), None),
    "ca-configmap-empty": lambda: _ca_configmap_problem(healthy_pair(), {}),
    "ca-configmap-not-pem": lambda: _ca_configmap_problem(healthy_pair(),
                                                          {"remote-cluster-ca.crt": "nope"}),
    "local-kube-unreachable": lambda: _kube(healthy_pair(), "local", "dial tcp: i/o timeout", "timeout"),
    "remote-kube-error": lambda: _kube(healthy_pair(), "remote", "500 Internal Server Error", "error"),
    "local-crd-missing": lambda: _side(healthy_pair(), "local", crd=NOT_FOUND),
    "remote-crd-unreadable": lambda: _side(healthy_pair(), "remote", crd=FORBIDDEN),
    "local-es-missing-others-there": lambda: _side(healthy_pair(), "local", elasticsearch=NOT_FOUND,
                                                   elasticsearch_names=["logs-es", "audit-es"]),
    "remote-namespace-without-es": lambda: _side(healthy_pair(), "remote", elasticsearch={},
                                                 elasticsearch_names=[]),
    "local-es-unreadable": lambda: _side(healthy_pair(), "local", elasticsearch=FORBIDDEN),
    "remote-red": lambda: _status(healthy_pair(), "remote", health="red"),
    "local-no-nodes": lambda: _status(healthy_pair(), "local", availableNodes=0, phase=None),
    "remote-applying-changes": lambda: _status(healthy_pair(), "remote", phase="ApplyingChanges",
                                               health="yellow"),
    "local-phase-unknown": lambda: _status(healthy_pair(), "local", phase=""),
    "reads-denied": lambda: _denied(healthy_pair()),
    "remote-license-expired": lambda: _license(healthy_pair(), "remote", type="enterprise", status="expired"),
    "local-license-unknown": lambda: _license(healthy_pair(), "local"),
    "remote-license-unreadable": lambda: _side(healthy_pair(), "remote", license=FORBIDDEN),
    "local-rest-refused": lambda: _es_api(healthy_pair(), "local", "401 Unauthorized", "error"),
    "remote-rest-timeout": lambda: _es_api(healthy_pair(), "remote", "read timed out", "timeout"),
    "remote-too-old": lambda: _remote_version(healthy_pair(), "8.13.0"),
    "strong-identity": identity_setups.signing_pair,
    "strong-identity-unsigned": lambda: identity_setups.unsigned(identity_setups.signing_pair()),
    "strong-identity-untrusted": lambda: identity_setups.untrusted(identity_setups.signing_pair()),
}


def _said(name: str) -> list[dict[str, Any]]:
    said = []
    for f in run_checks(SETUPS[name]().build()):
        said.append({"id": f.id, "alias": f.alias, "status": f.status.value, "message": f.message,
                     "hint": f.hint, "evidence": f.evidence, "permission": f.permission,
                     "fix": f.fix.action if f.fix else None})
    text = json.dumps(said, sort_keys=True, default=str, ensure_ascii=False)
    return list(json.loads(FINGERPRINT.sub("<fingerprint>", text)))


def test_every_check_says_what_it_said_for_each_set_up() -> None:
    said = {name: _said(name) for name in SETUPS}
    if os.environ.get("ECKRC_UPDATE_MESSAGES"):
        EXPECTED.write_text(json.dumps(said, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert sorted(expected) == sorted(said)
    for name in SETUPS:
        by_key = {(f["id"], f["alias"]): f for f in expected[name]}
        for finding in said[name]:
            key = (finding["id"], finding["alias"])
            assert finding == by_key.get(key), f"{name} {key}: see the module docstring to regenerate"
        assert len(said[name]) == len(by_key), name
