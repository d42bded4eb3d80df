"""tests/data/sample-bundle.zip, the bundle the release smoke test hands a fresh binary, still
reads with this version of the bundle format and still gives the result the smoke test wants."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "sample-bundle.zip"


def test_doctor_on_the_sample_bundle_finds_the_one_error_the_smoke_test_expects() -> None:
    smoke = (ROOT / "scripts" / "smoke_binary.py").read_text()
    assert 'SAMPLE_EXIT, SAMPLE_FAILING = 1, "ECKRC503"' in smoke
    command = [sys.executable, "-m", "kubectl_eckrc", "doctor", "--bundle", str(SAMPLE), "-o", "json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr + " (regenerate: python -m tests.packaging.sample_bundle)"
    report = json.loads(result.stdout)
    assert [f["id"] for f in report["findings"] if f["status"] == "fail"] == ["ECKRC503"]
    assert report["source"] == "bundle"
