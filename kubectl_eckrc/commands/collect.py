"""`kubectl eckrc collect -o FILE.zip`: everything doctor reads, plus its report, redacted.

Reads both sides like doctor, runs the same checks, and writes the bundle described in
docs/bundle.md. The bundle is refused (exit 3, nothing written) when the final scan finds a
secret value the collection read anywhere in it. Exit 0 once the bundle is written, whatever
the findings say: the bundle is the product here, its report.json carries doctor's verdict.
"""

from __future__ import annotations

import base64
import binascii
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from typing import Any

from kubectl_eckrc import __version__
from kubectl_eckrc.commandline import command, scope_args
from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.options import CollectOptions, Scope
from kubectl_eckrc.snapshot import KubeState, SecretSummary, Side, Snapshot


def run(options: CollectOptions) -> int:
    from kubectl_eckrc.checks.engine import build_report, run_checks
    from kubectl_eckrc.collect import bundle
    from kubectl_eckrc.collect.live import collect_live
    from kubectl_eckrc.report import markdown, structured

    check_output_path(options.output_file)
    if options.scope.fleet:
        return run_fleet(options)
    progress = _progress_printer(sys.stderr.isatty())
    started = _now()
    progress("reading the clusters")
    snapshot = bundle.sanitized(collect_live(options.scope, debug=options.debug))
    progress("running the checks")
    report = build_report(snapshot, run_checks(snapshot))
    tool = tool_info(options, started, _now(), snapshot.taken_at)
    reports = {"report.json": structured.render_json(report), "report.md": markdown.render(report)}
    members = bundle.bundle_members(snapshot, reports, tool)
    manifest = bundle.manifest(members, __version__, _now())
    progress("scanning the bundle for secret values")
    secrets = collected_secrets(options.scope, snapshot)
    bundle.write_bundle(options.output_file, members, manifest, secrets)
    summary = report.summary
    sys.stdout.write(
        f"wrote {options.output_file} ({len(members) + 1} files): {summary.passed} passed, "
        f"{summary.failed} failed, {summary.warnings} warnings, {summary.skipped} skipped, "
        f"{summary.not_evaluated} not evaluated; analyse it with: {analyse_command(options)}\n"
    )
    return 0


def run_fleet(options: CollectOptions) -> int:
    """collect -A: one bundle for the fleet (fleet.json: every link's snapshot), its report
    made as doctor -A makes it from that bundle."""
    from kubectl_eckrc.collect import bundle
    from kubectl_eckrc.collect.fleet import collect_fleet
    from kubectl_eckrc.commands import fleet as fleet_command
    from kubectl_eckrc.options import DoctorOptions
    from kubectl_eckrc.report import fleet as fleet_report

    progress = _progress_printer(sys.stderr.isatty())
    started = _now()
    progress("reading the clusters")
    fleet = fleet_command.sanitized_fleet(collect_fleet(options.scope, debug=options.debug))
    progress("running the checks")
    report, _ = fleet_command.diagnose(DoctorOptions(scope=options.scope), fleet, [])
    tool = tool_info(options, started, _now(), fleet.taken_at)
    reports = {"report.json": fleet_report.render_json(report),
               "report.md": fleet_report.render_markdown(report)}
    members = bundle.fleet_bundle_members(fleet, reports, tool)
    manifest = bundle.manifest(members, __version__, _now())
    progress("scanning the bundle for secret values")
    secrets = collected_secrets(options.scope, fleet.links[0].snapshot if fleet.links else None)
    bundle.write_bundle(options.output_file, members, manifest, secrets)
    sys.stdout.write(f"wrote {options.output_file} ({len(members) + 1} files): "
                     f"{fleet_report.fleet_line(report)}; analyse it with: {analyse_command(options)}\n")
    return 0


def analyse_command(options: CollectOptions) -> str:
    """doctor on the bundle just written, for the same link(s)."""
    alias = ["--alias", options.scope.alias] if options.scope.alias else []
    return command("doctor", ["--bundle", options.output_file, *alias])


def check_output_path(path: str) -> None:
    """Fail before collecting, not after: the target must be a writable file path."""
    if not path or path == "-":
        raise UsageError("collect writes a zip file: pass -o FILE.zip")
    if os.path.isdir(path):
        raise UsageError(f"-o {path}: is a directory, expected a file name such as bundle.zip")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"-o {path}: directory {directory} does not exist")
    if os.path.lexists(path) and not os.path.isfile(path):
        raise UsageError(f"-o {path}: exists and is not a regular file")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"-o {path}: directory {directory} is not writable")
    try:  # root passes os.access everywhere: a read-only file system only shows on a real write
        fd, probe = tempfile.mkstemp(prefix=".eckrc-probe-", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(f"-o {path}: cannot write in {directory}: {exc.strerror or exc}") from None


def collected_secrets(scope: Scope, snapshot: Snapshot | None = None) -> list[Any]:
    """Every secret value this process saw: what redact.py remembered while summarizing
    Secrets and credentials, plus the ES credentials taken from the environment. Each is named
    by the Secret key whose fingerprint it matches, so a refusal says where it came from."""
    from kubectl_eckrc import redact
    from kubectl_eckrc.collect.sanitize import SecretValue

    origins = secret_origins(snapshot) if snapshot else {}
    read = "a secret value read during collection"
    values = [SecretValue(redact.origin_of(v) or origins.get(redact.fingerprint(v.encode()), read),
                          v.encode()) for v in redact.known_values()]
    for var in _credential_env_vars(scope):
        if os.environ.get(var):
            values.append(SecretValue(f"the value of ${var}", os.environ[var].encode()))
    values += [SecretValue("a kubeconfig credential", v) for v in kubeconfig_credentials(scope)]
    return values


def secret_origins(snapshot: Snapshot) -> dict[str, str]:
    """Fingerprint (redact.fingerprint) -> "the value of Secret ns/name key K"."""
    origins: dict[str, str] = {}
    for side in (snapshot.local, snapshot.remote):
        if not isinstance(side, Side) or not isinstance(side.kube, KubeState):
            continue
        secrets = side.kube.secrets if isinstance(side.kube.secrets, dict) else {}
        for summary in secrets.values():
            if isinstance(summary, SecretSummary):
                for key, entry in summary.keys.items():
                    origins[entry.sha256] = f"the value of Secret {side.namespace}/{summary.name} key {key}"
    return origins


def kubeconfig_credentials(scope: Scope) -> list[bytes]:
    """Tokens, passwords and client keys of the kubeconfig users: the collection held them too."""
    from kubectl_eckrc.kubeconfig import kubeconfig_paths, merge

    found: list[bytes] = []
    for target in (t for t in (scope.local, scope.remote, *scope.remotes) if t is not None):
        try:
            config = merge(kubeconfig_paths(target.kubeconfig))
        except UsageError:
            continue  # collection already succeeded with it; nothing more to learn here
        for entry in config.get("users") or []:
            found += _user_secrets((entry or {}).get("user") or {})
    return found


def _user_secrets(user: dict[str, Any]) -> list[bytes]:
    values = [str(user[k]).encode() for k in ("token", "password") if user.get(k)]
    if user.get("client-key-data"):
        try:
            values.append(base64.b64decode(str(user["client-key-data"])))
        except (binascii.Error, ValueError):
            values.append(str(user["client-key-data"]).encode())
    provider = (user.get("auth-provider") or {}).get("config") or {}
    values += [str(v).encode() for k, v in provider.items() if "token" in k or "secret" in k]
    return values


def _credential_env_vars(scope: Scope) -> list[str]:
    sides = [s for s in (scope.local, scope.remote) if s is not None]
    return [v for s in sides for v in (s.es_api_key_env, s.es_password_env) if v]


# --- tool.json -------------------------------------------------------------------------------


def tool_info(options: CollectOptions, started: str, finished: str, taken_at: str) -> dict[str, Any]:
    return {
        "name": "kubectl-eckrc",
        "version": __version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "command": command_line(options),
        "startedAt": started,
        "finishedAt": finished,
        "snapshotTakenAt": taken_at,
    }


def command_line(options: CollectOptions) -> list[str]:
    """The command rebuilt from the parsed options: flags carry names (contexts, env var
    names), never secret values, and nothing the shell added can slip in."""
    args = scope_args(options.scope)
    if options.scope.fleet:
        args += ["-A"] if options.scope.all_namespaces else []
        for target in options.scope.remotes:
            args += ["--remote-context", target.context or ""]
    if "--timeout" not in args:
        args += ["--timeout", f"{options.scope.timeout:g}"]
    return ["kubectl", "eckrc", "collect", "--output-file", os.path.basename(options.output_file), *args]


# --- progress --------------------------------------------------------------------------------


def _progress_printer(enabled: bool) -> Any:
    def progress(message: str) -> None:
        if enabled:
            sys.stderr.write(f"collect: {message} ...\n")
            sys.stderr.flush()

    return progress


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
