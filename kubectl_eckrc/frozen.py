"""Undo what the PyInstaller bootloader does to the process environment of a frozen build.

The one-file bootloader unpacks the bundle into a temporary `_MEIxxxxxx` directory, prepends
it to `LD_LIBRARY_PATH` (saving the user's value in `LD_LIBRARY_PATH_ORIG`) and exports
`_PYI_*` variables for its own child. The kubernetes client runs kubeconfig `exec` credential
plugins (aws, gke-gcloud-auth-plugin, kubelogin, ...) with a copy of `os.environ`: left alone,
they would load the bundle's libssl/libz instead of their own, and a PyInstaller-built plugin
would take our `_PYI_*` variables for its own. So the first thing `cli.main` does is give the
environment back to the user.

CA certificates, checked inside a one-file bundle (docs/install.md, "Certificate authorities"):
- elasticsearch (elastic_transport) uses `certifi.where()` when no CA is given: PyInstaller's
  certifi hook bundles `cacert.pem` and `where()` resolves inside `_MEIPASS`, so it works as is.
- kubernetes >= 29 never uses certifi: without a kubeconfig CA, urllib3 loads OpenSSL's default
  verify paths, which are compiled into the *bundled* libssl (e.g. Debian's /usr/lib/ssl).
  Where that directory does not exist (Fedora, Alpine, macOS without the builder's Python), the
  process would trust nothing; only then do we point OpenSSL at the system's CA file.
"""

from __future__ import annotations

import os
import ssl
import sys
from collections.abc import MutableMapping

# Where distributions keep their CA bundle; the order Go's crypto/x509 uses on Linux, then macOS.
SYSTEM_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/pki/tls/cacert.pem",  # OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # CentOS, RHEL 7
    "/etc/ssl/cert.pem",  # Alpine, macOS
)


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def restore_environment() -> None:
    """In a frozen build, give `os.environ` back to the user; a no-op when run from source."""
    if not is_frozen():
        return
    restore_library_path(os.environ)
    drop_bootloader_variables(os.environ)
    ensure_ca_defaults(os.environ, ssl.get_default_verify_paths(), SYSTEM_CA_FILES)


def restore_library_path(environ: MutableMapping[str, str]) -> None:
    """LD_LIBRARY_PATH as the user had it: their saved value, or unset if they had none."""
    original = environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is None:
        environ.pop("LD_LIBRARY_PATH", None)
    else:
        environ["LD_LIBRARY_PATH"] = original


def drop_bootloader_variables(environ: MutableMapping[str, str]) -> None:
    """Remove `_PYI_*`: they tell a PyInstaller bootloader it is our own child process, which
    would confuse a PyInstaller-built exec plugin; nothing in this process reads them after
    start-up."""
    for name in [name for name in environ if name.startswith("_PYI_")]:
        del environ[name]


def ensure_ca_defaults(
    environ: MutableMapping[str, str],
    defaults: ssl.DefaultVerifyPaths,
    candidates: tuple[str, ...],
) -> None:
    """Only when the bundled OpenSSL's compiled-in CA locations are missing on this machine and
    the user set neither SSL_CERT_FILE nor SSL_CERT_DIR: use the system's CA file. A system
    path (not the bundle's certifi) keeps corporate CAs and is what exec plugins would pick
    themselves, since they inherit the variable."""
    if "SSL_CERT_FILE" in environ or "SSL_CERT_DIR" in environ:
        return
    if _exists(defaults.openssl_cafile) or _has_entries(defaults.openssl_capath):
        return
    for path in candidates:
        if os.path.isfile(path):
            environ["SSL_CERT_FILE"] = path
            return


def _exists(path: str | None) -> bool:
    return bool(path) and os.path.isfile(str(path))


def _has_entries(path: str | None) -> bool:
    return bool(path) and os.path.isdir(str(path)) and bool(os.listdir(str(path)))
