"""`kubectl eckrc checks [ID]`."""

from __future__ import annotations

import json
import re

import pytest

from kubectl_eckrc.checks.registry import ALL_CHECKS
from kubectl_eckrc.commands import checks
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.options import ChecksOptions


def test_listing_shows_every_check_once_with_its_title(capsys: pytest.CaptureFixture[str]) -> None:
    assert checks.run(ChecksOptions()) == 0
    lines = capsys.readouterr().out.splitlines()
    for spec in ALL_CHECKS:
        matching = [line for line in lines if re.search(rf"\b{spec.id}\b", line)]
        assert len(matching) == 1 and spec.title in matching[0], (spec.id, matching)
    listed = re.findall(r"\bECKRC\d{3}\b", "\n".join(lines))
    assert sorted(listed) == sorted(spec.id for spec in ALL_CHECKS)


def test_one_check_prints_its_doc(capsys: pytest.CaptureFixture[str]) -> None:
    assert checks.run(ChecksOptions(check_id="eckrc303")) == 0
    out = capsys.readouterr().out
    assert out.startswith("ECKRC303  The trusted CA is the remote's current transport CA")
    assert "fix:      sync-ca" in out and "F4" in out and "Fix by hand:" in out


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    checks.run(ChecksOptions(check_id="ECKRC305", output="json"))
    doc = json.loads(capsys.readouterr().out)
    assert doc["id"] == "ECKRC305" and doc["covers"] == ["F5", "F6"] and doc["fix"] == "fix-server-name"


def test_unknown_id_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown check ECKRC999"):
        checks.run(ChecksOptions(check_id="ECKRC999"))
