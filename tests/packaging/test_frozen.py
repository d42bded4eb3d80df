"""frozen.py, run from source: what restore_environment changes, on plain dicts."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest

from kubectl_eckrc import frozen

BUNDLE = "/tmp/_MEIabc123"


def defaults(cafile: str, capath: str) -> ssl.DefaultVerifyPaths:
    return ssl.DefaultVerifyPaths(None, None, "SSL_CERT_FILE", cafile, "SSL_CERT_DIR", capath)  # type: ignore[arg-type]


def test_users_library_path_comes_back_from_the_saved_copy() -> None:
    environ = {"LD_LIBRARY_PATH": f"{BUNDLE}:/opt/lib", "LD_LIBRARY_PATH_ORIG": "/opt/lib"}
    frozen.restore_library_path(environ)
    assert environ == {"LD_LIBRARY_PATH": "/opt/lib"}


def test_library_path_is_unset_when_the_user_had_none() -> None:
    environ = {"LD_LIBRARY_PATH": BUNDLE, "HOME": "/root"}
    frozen.restore_library_path(environ)
    assert environ == {"HOME": "/root"}


def test_bootloader_variables_are_dropped_and_nothing_else() -> None:
    environ = {"_PYI_ARCHIVE_FILE": "/usr/local/bin/kubectl-eckrc", "_PYI_APPLICATION_HOME_DIR": BUNDLE,
               "PYI_USER_SETTING": "kept", "PATH": "/usr/bin"}
    frozen.drop_bootloader_variables(environ)
    assert environ == {"PYI_USER_SETTING": "kept", "PATH": "/usr/bin"}


def test_ca_defaults_that_exist_are_left_alone(tmp_path: Path) -> None:
    cafile = tmp_path / "cert.pem"
    cafile.write_text("pem")
    environ: dict[str, str] = {}
    frozen.ensure_ca_defaults(environ, defaults(str(cafile), str(tmp_path / "none")), (str(cafile),))
    assert environ == {}


def test_missing_ca_defaults_point_openssl_at_the_first_system_ca_file(tmp_path: Path) -> None:
    system = tmp_path / "ca-bundle.crt"
    system.write_text("pem")
    environ: dict[str, str] = {}
    candidates = (str(tmp_path / "absent.crt"), str(system))
    frozen.ensure_ca_defaults(environ, defaults(str(tmp_path / "no.pem"), str(tmp_path / "no")), candidates)
    assert environ == {"SSL_CERT_FILE": str(system)}


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_a_users_ssl_setting_always_wins(tmp_path: Path, variable: str) -> None:
    system = tmp_path / "ca-bundle.crt"
    system.write_text("pem")
    environ = {variable: "/etc/my-ca"}
    missing = defaults(str(tmp_path / "no.pem"), str(tmp_path / "no"))
    frozen.ensure_ca_defaults(environ, missing, (str(system),))
    assert environ == {variable: "/etc/my-ca"}


def test_from_source_restore_environment_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/lib")
    monkeypatch.setenv("_PYI_ARCHIVE_FILE", "x")
    before = dict(os.environ)
    frozen.restore_environment()
    assert dict(os.environ) == before
