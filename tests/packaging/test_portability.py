"""The product runs on Windows (kubectl finds kubectl-eckrc.exe) by construction: no module of
kubectl_eckrc/ uses a POSIX-only call. The release and CI workflows run the binary there; this
scan stops the usual suspects from coming back on Linux, where they would work and pass. The
kubeconfig paths, the one place where the user's file names are parsed, are also read here
through Windows' path module.

Paths inside containers (`/usr/share/elasticsearch/config/...`) are POSIX on every OS and are
built with posixpath on purpose; paths on the user's machine go through os.path or pathlib.
"""

from __future__ import annotations

import ast
import ntpath
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubectl_eckrc import kubeconfig

PACKAGE = Path(__file__).resolve().parents[2] / "kubectl_eckrc"

# Modules that do not exist on Windows.
POSIX_MODULES = {"fcntl", "termios", "pwd", "grp", "resource", "pty", "tty", "posix", "crypt",
                 "syslog", "readline", "spwd", "nis"}
# module.attribute that is missing (or raises) on Windows.
POSIX_ATTRIBUTES = {
    "os": {"fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "getgroups", "setsid",
           "setpgrp", "getpgid", "killpg", "mkfifo", "chown", "lchown", "fchown", "uname", "nice",
           "wait3", "wait4", "WNOHANG", "sync", "O_NOFOLLOW", "O_CLOEXEC", "getloadavg", "sysconf"},
    "signal": {"SIGKILL", "SIGALRM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGPIPE", "SIGQUIT",
               "alarm", "setitimer", "pause", "siginterrupt"},
    "socket": {"AF_UNIX"},
    "select": {"poll", "epoll", "kqueue"},
}
# subprocess arguments that do nothing or fail on Windows
POSIX_KEYWORDS = {"preexec_fn", "pass_fds", "start_new_session", "process_group", "user", "group"}
# Hard-coded locations of a POSIX file system on the user's machine.
POSIX_PATH_PREFIXES = ("/tmp", "/dev/", "/proc/", "/etc/", "/var/run", "~/")

# file -> (what is allowed there, why it is safe on Windows)
ALLOWED: dict[str, tuple[set[str], str]] = {
    "frozen.py": (
        {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
         "/etc/pki/tls/cacert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem"},
        "Linux and macOS CA file candidates, only tested with os.path.isfile: none exists on Windows, "
        "where Python reads the system certificate store instead",
    ),
    "fix/diff.py": ({"/dev/null"}, "the `---` label of a unified diff for a new object, never opened"),
}


@dataclass(frozen=True)
class Suspect:
    file: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"kubectl_eckrc/{self.file}:{self.line}: {self.what}"


def suspects_in(source: str, file: str) -> list[Suspect]:
    found: list[Suspect] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Suspect(file, node.lineno, f"import {a.name}") for a in node.names
                      if a.name.split(".")[0] in POSIX_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in POSIX_MODULES:
                found.append(Suspect(file, node.lineno, f"from {node.module} import"))
            for alias in node.names:
                if alias.name in POSIX_ATTRIBUTES.get(node.module, set()):
                    found.append(Suspect(file, node.lineno, f"from {node.module} import {alias.name}"))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.attr in POSIX_ATTRIBUTES.get(node.value.id, set()):
                found.append(Suspect(file, node.lineno, f"{node.value.id}.{node.attr}"))
        elif isinstance(node, ast.Call):
            found += [Suspect(file, node.lineno, f"{k.arg}=") for k in node.keywords
                      if k.arg in POSIX_KEYWORDS and _is_process_call(node)]
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and node.value.startswith(POSIX_PATH_PREFIXES)):
            found.append(Suspect(file, node.lineno, f"path {node.value!r}"))
    allowed = ALLOWED.get(file, (set(), ""))[0]
    return [s for s in found if not (s.what.startswith("path ") and s.what[6:-1] in allowed)]


def _is_process_call(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in {"run", "Popen", "call", "check_call", "check_output"}


def test_no_module_of_the_product_uses_a_posix_only_call() -> None:
    found = [
        str(s)
        for path in sorted(PACKAGE.rglob("*.py"))
        for s in suspects_in(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())
    ]
    assert found == []


def test_every_allowed_exception_is_still_there_and_explained() -> None:
    for file, (allowed, reason) in ALLOWED.items():
        source = (PACKAGE / file).read_text(encoding="utf-8")
        assert reason
        assert all(repr(value)[1:-1] in source for value in allowed), file


@pytest.mark.parametrize("code, what", [
    ("import fcntl", "import fcntl"),
    ("from pwd import getpwuid", "from pwd import"),
    ("import os\nos.fork()", "os.fork"),
    ("import os\nuid = os.getuid()", "os.getuid"),
    ("import signal\nsignal.signal(signal.SIGALRM, print)", "signal.SIGALRM"),
    ("import os, signal\nos.kill(1, signal.SIGKILL)", "signal.SIGKILL"),
    ("from signal import SIGKILL", "from signal import SIGKILL"),
    ("import subprocess\nsubprocess.run(['x'], preexec_fn=print)", "preexec_fn="),
    ("import subprocess\nsubprocess.Popen(['x'], start_new_session=True)", "start_new_session="),
    ("import socket\nsocket.socket(socket.AF_UNIX)", "socket.AF_UNIX"),
    ("work = '/tmp/eckrc'", "path '/tmp/eckrc'"),
    ("home = '~/.kube/config'", "path '~/.kube/config'"),
])
def test_the_scan_catches_each_kind_of_posix_only_code(code: str, what: str) -> None:
    assert [s.what for s in suspects_in(code, "example.py")] == [what]


def test_the_scan_leaves_portable_code_alone() -> None:
    code = (
        "import os, posixpath, signal, subprocess, tempfile\n"
        "config = posixpath.join('/usr/share/elasticsearch/config', 'remote-certs')\n"
        "kubeconfig = os.path.join(os.path.expanduser('~'), '.kube', 'config')\n"
        "work = tempfile.mkdtemp()\n"
        "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "subprocess.run(['kubectl', 'version'], timeout=5, check=False)\n"
    )
    assert suspects_in(code, "example.py") == []


class WindowsOs:
    """`os` as kubeconfig.py sees it on Windows: ntpath for paths, `;` between KUBECONFIG paths."""

    path = ntpath
    pathsep = ";"
    environ = {"KUBECONFIG": r"C:\Users\me\.kube\config;D:\clusters\prod.yaml"}


@pytest.fixture
def windows_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kubeconfig, "os", WindowsOs)
    monkeypatch.setenv("USERPROFILE", r"C:\Users\me")  # what ntpath.expanduser reads


def test_kubeconfig_list_splits_on_semicolons_and_keeps_drive_letters(windows_paths: None) -> None:
    assert kubeconfig.kubeconfig_paths(None) == [r"C:\Users\me\.kube\config", r"D:\clusters\prod.yaml"]
    assert kubeconfig.kubeconfig_paths(r"~\.kube\other") == [r"C:\Users\me\.kube\other"]


def test_kubeconfig_relative_certificate_paths_resolve_against_its_windows_folder(
    windows_paths: None,
) -> None:
    cluster = {"name": "prod", "cluster": {"certificate-authority": r"certs\ca.crt", "server": "https://k"}}
    user = {"name": "me", "user": {"client-key": r"D:\keys\me.key"}}
    base = r"C:\Users\me\.kube"
    assert kubeconfig._absolutize(cluster, "cluster", base)["cluster"]["certificate-authority"] == (
        r"C:\Users\me\.kube\certs\ca.crt")
    assert kubeconfig._absolutize(user, "user", base)["user"]["client-key"] == r"D:\keys\me.key"
