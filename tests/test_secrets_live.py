"""Secrets outside Secrets: planted in the twin where users really put them, none reaches any
output, log or bundle, in any format.

One twin (`ca-not-mounted`, so that fix has an Elasticsearch diff to show) is changed as a user
would change it: a PEM private key in a ConfigMap the Elasticsearch mounts (`data` and
`binaryData`), a Vault token annotation, container env values, args and command, an event
message, and a Secret whose JSON value nests a password. Then every command runs in every
format, with --debug, and collect's bundle is read file by file in every encoding.
"""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kubectl_eckrc import cli
from kubectl_eckrc.collect.sanitize import encodings
from tests.test_doctor_live import Run

NS, ES = "logging", "local-es"
SCOPE = ("--context", "local", "-n", NS, "--es", ES, "--remote-context", "remote",
         "--remote-namespace", "search", "--remote-es", "remote-es", "--alias", "remote-es",
         "--timeout", "10")
ENV_VALUE = "Planted-Env-Value-9x3"
ARG_SECRET = "Planted-Arg-Secret-7x3"
CMD_TOKEN = "Planted-Cmd-Token-5x3"
VAULT_TOKEN = "s.Planted-Vault-Token-1x3"
BIND_PASSWORD = "Planted-Bind-Pw-1x3"
EVENT_PASSWORD = "Planted-Event-Pw-3x3"
NESTED_LEAF = "Planted-Nested-Leaf-4x3"


def _private_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def plant(running: Any) -> list[str]:
    """Plant every kind in the local environment; returns the values that must never show."""
    store = running.local.store
    pem = _private_key_pem()
    store.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "es-extra", "namespace": NS},
                                "data": {"client.key": pem, "ldap.yml": f"bind_password: {BIND_PASSWORD}\n"},
                                "binaryData": {"client-key.pem": _b64(pem)}})
    nested = json.dumps({"ldap": {"auth": {"password": NESTED_LEAF}}})
    store.create("secrets", {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                             "metadata": {"name": "ldap-bind", "namespace": NS},
                             "data": {"bind.json": _b64(nested)}})
    es = store.get("elasticsearches", NS, ES)
    es["metadata"].setdefault("annotations", {})["vault.hashicorp.com/agent-inject-token"] = VAULT_TOKEN
    pod_spec = es["spec"]["nodeSets"][0].setdefault("podTemplate", {}).setdefault("spec", {})
    pod_spec.setdefault("volumes", []).extend([
        {"name": "es-extra", "configMap": {"name": "es-extra"}},
        {"name": "ldap-bind", "secret": {"secretName": "ldap-bind"}}])
    pod_spec["containers"] = [{
        "name": "elasticsearch",
        "env": [{"name": "S3_KEY", "value": ENV_VALUE}],
        "args": [f"--s3.client.default.secret_key={ARG_SECRET}"],
        "command": ["sh", "-c", f"TOKEN={CMD_TOKEN} exec /usr/local/bin/docker-entrypoint.sh"],
        "volumeMounts": [{"name": "es-extra", "mountPath": "/usr/share/elasticsearch/config/extra"}],
    }]
    store.update("elasticsearches", es)
    store.create("events", {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{ES}.planted", "namespace": NS},
        "involvedObject": {"apiVersion": "elasticsearch.k8s.elastic.co/v1", "kind": "Elasticsearch",
                           "name": ES, "namespace": NS},
        "type": "Warning", "reason": "Unexpected", "message": f"login failed: password={EVENT_PASSWORD}",
        "count": 1})
    assert running.local.settle()
    key_body = [line for line in pem.splitlines() if not line.startswith("-----")]
    return [ENV_VALUE, ARG_SECRET, CMD_TOKEN, VAULT_TOKEN, BIND_PASSWORD, EVENT_PASSWORD, NESTED_LEAF,
            *key_body, *running.canaries()]


@pytest.fixture
def eckrc(capsys: pytest.CaptureFixture[str]) -> Any:
    def run(running: Any, command: str, *args: str) -> Run:
        capsys.readouterr()
        code = cli.main([command, "--kubeconfig", str(running.kubeconfig), *SCOPE, *args])
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


def _bundle_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_no_planted_secret_reaches_any_output_log_or_bundle(
    twin: Any, eckrc: Any, tmp_path: Path
) -> None:
    running = twin("ca-not-mounted")
    canaries = plant(running)
    runs = {fmt: eckrc(running, "doctor", "-o", fmt) for fmt in ("json", "yaml", "junit", "markdown")}
    runs["table --debug"] = eckrc(running, "doctor", "--debug")
    runs["fix"] = eckrc(running, "fix", "--debug")
    runs["fix json"] = eckrc(running, "fix", "-o", "json")
    assert runs["json"].code == 1 and json.loads(runs["json"].stdout)
    assert "mount-ca" in runs["fix"].stdout and "--- " in runs["fix"].stdout  # there is a diff to show
    bundle = tmp_path / "b.zip"
    runs["collect"] = eckrc(running, "collect", "-o", str(bundle), "--debug")
    assert runs["collect"].code == 0, runs["collect"].stderr
    runs["doctor --bundle"] = eckrc(running, "doctor", "--bundle", str(bundle), "-o", "json")
    for name, run in runs.items():
        for canary in canaries:
            assert canary not in run.stdout + run.stderr, f"{name}: a planted secret reached the output"
    files = _bundle_files(bundle)
    for canary in canaries:
        for form, needle in encodings(canary.encode()):
            for member, data in files.items():
                assert needle not in data, f"{member} holds a planted secret ({form})"
    snapshot = json.loads(files["snapshot.json"])
    configmap = snapshot["local"]["kube"]["configmaps"]["es-extra"]
    assert configmap["data"]["client.key"].strip() == "[redacted private key]"
    assert configmap["data"]["ldap.yml"] == "bind_password: [redacted]\n"
    assert configmap["binaryData"]["client-key.pem"] == "<redacted>"


def test_a_nested_secret_value_copied_elsewhere_makes_collect_refuse(
    twin: Any, eckrc: Any, tmp_path: Path
) -> None:
    """Every value read from a Secret, at every nesting level, is known to the final scan."""
    running = twin("healthy")
    store = running.local.store
    store.create("secrets", {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                             "metadata": {"name": "ldap-bind", "namespace": NS},
                             "data": {"bind.json": _b64(json.dumps({"a": [{"b": {"c": NESTED_LEAF}}]}))}})
    store.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "notes", "namespace": NS},
                                "data": {"README": f"ldap bind, for now: {NESTED_LEAF}\n"}})
    es = store.get("elasticsearches", NS, ES)
    pod_spec = es["spec"]["nodeSets"][0].setdefault("podTemplate", {}).setdefault("spec", {})
    pod_spec.setdefault("volumes", []).extend([
        {"name": "notes", "configMap": {"name": "notes"}},
        {"name": "ldap-bind", "secret": {"secretName": "ldap-bind"}}])
    store.update("elasticsearches", es)
    assert running.local.settle()
    refused = eckrc(running, "collect", "-o", str(tmp_path / "b.zip"))
    assert refused.code == 3 and "refusing to write" in refused.stderr
    assert "ldap-bind" in refused.stderr and NESTED_LEAF not in refused.stderr
    assert list(tmp_path.iterdir()) == []
    doctor = eckrc(running, "doctor", "-o", "json")
    assert NESTED_LEAF not in doctor.stdout + doctor.stderr
