"""A check and the action meant to repair it read the same facts, so they agree: the check
fails exactly when the action has something to write, on the same objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from kubectl_eckrc.checks.engine import run_checks
from kubectl_eckrc.findings import Status
from kubectl_eckrc.fix.actions import expose_rcs, setup_signing, sync_ca
from kubectl_eckrc.options import FixOptions
from tests.checks import identity_setups
from tests.snapshot_builder import LB_IP, REMOTE_ES, REMOTE_NS, PairBuilder, healthy_pair, make_ca, service

RCS_LB = f"{REMOTE_ES}-rcs"


def _status(pair: PairBuilder, check_id: str) -> Status:
    return next(f.status for f in run_checks(pair.build()) if f.id == check_id)


def _replace_lb(pair: PairBuilder, **fields: object) -> None:
    pair.remote.services = [s for s in pair.remote.services if s["metadata"]["name"] != RCS_LB]
    if fields:
        pair.remote.services.append(service(RCS_LB, REMOTE_NS, REMOTE_ES, **fields))  # type: ignore[arg-type]


EXPOSURES: dict[str, Callable[[PairBuilder], None]] = {
    "load balancer with address": lambda pair: None,
    "node port": lambda pair: _replace_lb(pair, port=9443, port_name="rcs", svc_type="NodePort",
                                         node_port=31443),
    "load balancer without address": lambda pair: _replace_lb(pair, port=9443, port_name="rcs",
                                                              svc_type="LoadBalancer"),
    "port remapped without targetPort 9443": lambda pair: _replace_lb(
        pair, port=443, port_name="rcs", svc_type="LoadBalancer", target=443, lb_ip=LB_IP),
}


@pytest.mark.parametrize("shape", sorted(EXPOSURES))
def test_eckrc203_fails_exactly_when_expose_rcs_writes(shape: str, options: FixOptions) -> None:
    pair = healthy_pair()
    EXPOSURES[shape](pair)
    failing = _status(pair, "ECKRC203") is Status.FAIL
    assert failing == bool(expose_rcs.plan(pair.build(), [], options)), shape


CAS: dict[str, Callable[[PairBuilder], None]] = {
    "the remote's current CA": lambda pair: None,
    "an older CA of the remote": lambda pair: pair.set_configured_ca([make_ca(REMOTE_ES, "old-remote-ca")]),
    "another cluster's CA only": lambda pair: pair.set_configured_ca([make_ca("third-es", "third-ca")]),
}


@pytest.mark.parametrize("held", sorted(CAS))
def test_eckrc303_fails_exactly_when_sync_ca_writes_the_file_it_read(held: str, options: FixOptions) -> None:
    pair = healthy_pair()
    CAS[held](pair)
    failing = _status(pair, "ECKRC303") is Status.FAIL
    changes = sync_ca.plan(pair.build(), [], options)
    assert failing == bool(changes), held
    assert all(c.target.name == "remote-ca" for c in changes)  # the ConfigMap ECKRC302 read


SIGNING_SETUPS: dict[str, Callable[[PairBuilder], PairBuilder]] = {
    "complete": lambda pair: pair,
    "the local side does not sign": identity_setups.unsigned,
    "the remote does not trust the signer": identity_setups.untrusted,
}


@pytest.mark.parametrize("setup", sorted(SIGNING_SETUPS))
def test_eckrc411_412_fail_exactly_when_setup_signing_writes(setup: str, options: FixOptions) -> None:
    pair = SIGNING_SETUPS[setup](identity_setups.signing_pair())
    failing = {"ECKRC411", "ECKRC412"} & {f.id for f in run_checks(pair.build()) if f.status is Status.FAIL}
    changes = setup_signing.plan(pair.build(), [], options)
    assert bool(failing) == bool(changes), setup
    sides = {c.target.side for c in changes}
    assert sides == ({"local"} if "ECKRC411" in failing else {"remote"} if failing else set())


def test_eckrc413_is_repaired_only_when_the_key_change_is_asked_for(options: FixOptions) -> None:
    pair = identity_setups.signing_pair()
    identity_setups.key_identity(pair, "CN=another-signer")
    assert _status(pair, "ECKRC413") is Status.FAIL
    assert setup_signing.plan(pair.build(), [], options) == []
    [change] = setup_signing.plan(pair.build(), [], replace(options, set_certificate_identity=True))
    assert change.method == "PUT" and change.path.startswith("/_security/cross_cluster/api_key/")
    assert change.body == {"certificate_identity": "^CN=local-es-signing,OU=logging$"}
