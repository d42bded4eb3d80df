"""The command line: parses flags into options dataclasses and calls one `run(options)`.

Nothing heavy is imported here: each command module (and through it the Kubernetes and
Elasticsearch clients) is imported inside its click callback, so `--help` and `version`
start fast. Every error ends in `main()`'s single handler: one `error: ...` line on stderr.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import math
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from kubectl_eckrc import redact
from kubectl_eckrc.errors import EXIT_UNEVALUATED, EXIT_USAGE, EckrcError, UsageError
from kubectl_eckrc.options import (
    ChecksOptions,
    CollectOptions,
    DoctorOptions,
    FixOptions,
    Scope,
    SideTarget,
)

F = TypeVar("F", bound=Callable[..., Any])

PLUGIN_NAME = "kubectl-eckrc"
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def program_name(argv0: str) -> str:
    """kubectl runs plugins as `kubectl-eckrc`; users type `kubectl eckrc`."""
    base = os.path.basename(argv0 or PLUGIN_NAME)
    if base.endswith(".exe"):
        base = base[: -len(".exe")]
    if base.startswith("kubectl-"):
        return "kubectl " + base[len("kubectl-") :].replace("-", " ").replace("_", "-")
    return "kubectl eckrc"


# --- shared flags ------------------------------------------------------------------------------


def _scope_options(func: F) -> F:
    """Flags that say which clusters and links a command looks at (kubectl style)."""
    options = [
        click.option("--kubeconfig", metavar="PATH", help="Kubeconfig file(s) of the local side."),
        click.option("--context", metavar="NAME", help="Kube context of the local side."),
        click.option("-n", "--namespace", metavar="NS", help="Namespace of the local Elasticsearch."),
        click.option("--es", "es_name", metavar="NAME", help="The local Elasticsearch resource."),
        click.option("--alias", metavar="NAME", help="Only this remote-cluster alias (default: all)."),
        click.option("--remote-kubeconfig", metavar="PATH", multiple=True,
                     help="Kubeconfig of the remote side (with -A: one per --remote-context, in order)."),
        click.option("--remote-context", metavar="NAME", multiple=True,
                     help="Kube context of the remote side (with -A: repeatable)."),
        click.option("--remote-namespace", metavar="NS", help="Namespace of the remote Elasticsearch."),
        click.option("--remote-es", "remote_es_name", metavar="NAME", help="The remote Elasticsearch."),
        click.option("--es-url", metavar="URL", help="Local ES REST URL instead of a port-forward."),
        click.option("--remote-es-url", metavar="URL", help="Remote ES REST URL instead of a port-forward."),
        click.option("--es-url-elastic-user", is_flag=True,
                     help="With --es-url: log in as elastic with the password read from the cluster."),
        click.option("--remote-es-url-elastic-user", is_flag=True,
                     help="With --remote-es-url: the same on the remote side."),
        click.option("--es-api-key-env", metavar="VAR", help="Env var holding a local ES API key."),
        click.option("--es-username-env", metavar="VAR", help="Env var holding a local ES user name."),
        click.option("--es-password-env", metavar="VAR", help="Env var holding that user's password."),
        click.option("--remote-es-api-key-env", metavar="VAR", help="Env var holding a remote ES API key."),
        click.option("--remote-es-username-env", metavar="VAR", help="Env var: remote ES user name."),
        click.option("--remote-es-password-env", metavar="VAR", help="Env var: remote ES password."),
        click.option("--index", "use_indices", multiple=True, metavar="PATTERN",
                     help="Remote index pattern to prove a cross-cluster search on, read-only "
                          "(field_caps, resolve); repeatable."),
        click.option("--follow", "follow_indices", multiple=True, metavar="INDEX",
                     help="Remote leader index to check cross-cluster replication rights for, "
                          "read-only; repeatable."),
        click.option("--as-user", metavar="NAME",
                     help="With --index or --follow: judge this local user (run_as) instead of the "
                          "tool's user."),
        click.option(
            "--timeout",
            type=Seconds(0.1),
            metavar="DURATION",
            default="5s",
            show_default=True,
            help="Time allowed for each network operation (5s, 1m; a bare number is seconds).",
        ),
        _debug_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


class Seconds(click.ParamType):
    """A duration as kubectl writes them (`500ms`, `5s`, `2m`, `1h`, `1m30s`) or a bare number
    of seconds; finite, at least `minimum` and at most a day (nan and inf are not)."""

    name = "duration"

    def __init__(self, minimum: float) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        seconds = parse_duration(value)
        if seconds is None:
            self.fail(f"{value!r} is not a duration (e.g. 5s, 2m, 1m30s) or a number of seconds", param, ctx)
        if not math.isfinite(seconds) or not self.minimum <= seconds <= MAX_SECONDS:
            self.fail(f"{value!r} is not between {self.minimum:g} and {MAX_SECONDS:g} seconds", param, ctx)
        return seconds


MAX_SECONDS = 86400.0
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(value: Any) -> float | None:
    """Seconds from `5`, `2.5`, `5s`, `2m`, `1m30s`, `500ms`; None when it is none of those."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(number) * UNITS[unit] for number, unit in parts)


class Format(click.Choice):
    """An output format, also written kubectl's ways: `-o json`, `-ojson`, `-o=json`."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value.startswith("="):
            value = value[1:]
        return super().convert(value, param, ctx)

_debug_option = click.option("--debug", is_flag=True, help="Phase timings and tracebacks on stderr.")


def _check_url(flag: str, url: str | None) -> str | None:
    if url is None:
        return None
    from kubectl_eckrc.redact import redact_url, remember_url

    remember_url(url)  # its password or query values must not show in any later message
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        _ = parts.port
    except ValueError:
        raise UsageError(f"{flag} is not a valid URL: {redact_url(url)!r}") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise UsageError(f"{flag} must be an http(s) URL, got {redact_url(url)!r}")
    if parts.username or parts.password:
        raise UsageError(
            f"{flag} must not carry credentials; use --es-username-env/--es-password-env or --es-api-key-env"
        )
    return url


def _check_env(flag: str, var: str | None) -> str | None:
    if var is not None and var not in os.environ:
        raise UsageError(f"{flag} {var}: the environment variable {var} is not set")
    return var


def _side(kw: dict[str, Any], prefix: str, kubeconfig: str | None) -> SideTarget:
    flag = "--" + prefix.replace("_", "-")
    user_env = _check_env(flag + "es-username-env", kw[prefix + "es_username_env"])
    password_env = _check_env(flag + "es-password-env", kw[prefix + "es_password_env"])
    if (user_env is None) != (password_env is None):
        raise UsageError(f"{flag}es-username-env and {flag}es-password-env go together")
    return SideTarget(
        kubeconfig=kubeconfig,
        context=kw[prefix + "context"],
        namespace=kw[prefix + "namespace"],
        es_name=kw[prefix + "es_name"],
        es_url=_check_url(flag + "es-url", kw[prefix + "es_url"]),
        es_api_key_env=_check_env(flag + "es-api-key-env", kw[prefix + "es_api_key_env"]),
        es_username_env=user_env,
        es_password_env=password_env,
        es_url_elastic_user=bool(kw[prefix + "es_url_elastic_user"]),
    )


REMOTE_KEYS = (
    "remote_kubeconfig",
    "remote_context",
    "remote_namespace",
    "remote_es_name",
    "remote_es_url",
    "remote_es_api_key_env",
    "remote_es_username_env",
    "remote_es_password_env",
)


def build_scope(kw: dict[str, Any]) -> Scope:
    """Scope from the shared flags. Any remote flag means "I have access to the remote"; the
    remote kubeconfig defaults to the local one (one file often holds both contexts)."""
    contexts, kubeconfigs = tuple(kw["remote_context"] or ()), tuple(kw["remote_kubeconfig"] or ())
    if kw.get("all_namespaces") or len(contexts) > 1:
        return _fleet_scope(kw, contexts, kubeconfigs)
    if len(kubeconfigs) > 1:
        raise UsageError("--remote-kubeconfig: give it once (one per --remote-context goes with -A)")
    kw = {**kw, "remote_context": contexts[0] if contexts else None,
          "remote_kubeconfig": kubeconfigs[0] if kubeconfigs else None}
    local = _side(kw, "", kw["kubeconfig"])
    remote = None
    if any(kw[k] is not None for k in REMOTE_KEYS):
        remote = _side(kw, "remote_", kw["remote_kubeconfig"] or kw["kubeconfig"])
    return Scope(local=local, remote=remote, alias=kw["alias"], timeout=float(kw["timeout"]),
                 indices=_index_patterns(kw["use_indices"]), as_user=_as_user(kw),
                 follows=_leader_indices(kw["follow_indices"]))


# Flags a fleet run does not take: it finds each remote itself, and reaches every cluster the
# same way (port-forward, elastic user).
NOT_WITH_FLEET = ("remote_namespace", "remote_es_name", "es_url", "remote_es_url", "es_url_elastic_user",
                  "remote_es_url_elastic_user", "es_api_key_env", "es_username_env", "es_password_env",
                  "remote_es_api_key_env", "remote_es_username_env", "remote_es_password_env", "alias",
                  "use_indices", "follow_indices", "as_user")


def _fleet_scope(kw: dict[str, Any], contexts: tuple[str, ...], kubeconfigs: tuple[str, ...]) -> Scope:
    """-A, or several --remote-context: every Elasticsearch of the local context (or namespace)
    and every link it configures, each alias matched to its remote among the contexts given."""
    renamed = {"use_indices": "index", "follow_indices": "follow", "remote_es_name": "remote-es"}
    given = [name for name in NOT_WITH_FLEET if kw.get(name)]
    if given:
        flags = ", ".join("--" + renamed.get(n, n).replace("_", "-") for n in given)
        raise UsageError(f"{flags}: not used with -A or several --remote-context (each alias is "
                         "matched to its remote); leave it out")
    if len(kubeconfigs) > 1 and len(kubeconfigs) != len(contexts):
        raise UsageError(f"--remote-kubeconfig given {len(kubeconfigs)} times for {len(contexts)} "
                         "--remote-context: give one per context, in the same order, or one for all")
    if not contexts and kubeconfigs:
        raise UsageError("--remote-kubeconfig goes with --remote-context")
    local = _side({**kw, "remote_context": None}, "", kw["kubeconfig"])
    remotes = tuple(SideTarget(kubeconfig=(kubeconfigs[i] if len(kubeconfigs) > 1 else
                                           kubeconfigs[0] if kubeconfigs else None) or kw["kubeconfig"],
                               context=context, namespace=None, es_name=None)
                    for i, context in enumerate(contexts))
    if kw.get("all_namespaces"):
        local = replace(local, namespace=None)
    return Scope(local=local, remote=None, timeout=float(kw["timeout"]),
                 all_namespaces=bool(kw.get("all_namespaces")), remotes=remotes)


def _index_patterns(values: Sequence[str]) -> tuple[str, ...]:
    """--index takes the remote's own pattern: doctor puts `<alias>:` in front for each link."""
    patterns = split_list(values)
    for pattern in patterns:
        if ":" in pattern:
            raise UsageError(f"--index {pattern}: give the remote index pattern without an alias "
                             "(doctor reads <alias>:PATTERN for each link in scope)")
    return patterns


def _leader_indices(values: Sequence[str]) -> tuple[str, ...]:
    """--follow takes the leader's own name: a follower index follows one concrete index."""
    leaders = split_list(values)
    for leader in leaders:
        if ":" in leader or any(c in leader for c in "*?"):
            raise UsageError(f"--follow {leader}: give one remote leader index name, without an alias or "
                             "wildcard (doctor checks <alias>:INDEX for each link in scope)")
    return leaders


def _widen_key_access(kw: dict[str, Any]) -> bool:
    if kw["widen_key_access"] and not kw["use_indices"]:
        raise UsageError("--widen-key-access goes with --index (the patterns to add to the key's access)")
    return bool(kw["widen_key_access"])


def _as_user(kw: dict[str, Any]) -> str | None:
    name = kw["as_user"]
    if name is not None and not kw["use_indices"] and not kw["follow_indices"]:
        raise UsageError("--as-user goes with --index or --follow (the user they judge)")
    if name is not None and not name.strip():
        raise UsageError("--as-user: a user name is required")
    return name.strip() if name else None


def split_list(values: Sequence[str]) -> tuple[str, ...]:
    """Repeatable flags that also accept comma lists: --only A,B --only C."""
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def _command(name: str) -> Any:
    """Import a command module only when it runs: the cluster clients stay out of --help."""
    return importlib.import_module(f"kubectl_eckrc.commands.{name}")


# Flags that only mean something when reading live clusters: with --bundle they would be
# silently ignored, so they are refused. -n/--es (and the remote ones) and --alias still
# apply: they pick the Elasticsearch and the link inside a bundle or eck-diagnostics archive.
LIVE_ONLY = ("kubeconfig", "context", "remote_kubeconfig", "remote_context", "es_url", "remote_es_url",
             "es_url_elastic_user", "remote_es_url_elastic_user", "es_api_key_env", "es_username_env",
             "es_password_env", "remote_es_api_key_env", "remote_es_username_env",
             "remote_es_password_env", "timeout", "use_indices", "follow_indices", "as_user")


def refuse_live_flags(kw: dict[str, Any]) -> None:
    if not kw["bundle"]:
        if kw["remote_bundle"]:
            raise UsageError("--remote-bundle goes with --bundle (the local side's bundle)")
        return
    ctx = click.get_current_context()
    given = [name for name in LIVE_ONLY
             if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE]
    if given:
        renamed = {"use_indices": "index", "follow_indices": "follow"}
        flags = ", ".join("--" + renamed.get(name, name).replace("_", "-") for name in given)
        raise UsageError(f"{flags}: not used with --bundle (the bundle is read offline); leave it out")


# --- commands ----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT_SETTINGS)
def cli() -> None:
    """Diagnose and repair Elasticsearch remote-cluster links between two ECK environments."""


@cli.command(short_help="Diagnose every remote-cluster link (read-only).")
@_scope_options
@click.option(
    "-o",
    "--output",
    type=Format(["table", "json", "yaml", "junit", "markdown"]),
    default="table",
    show_default=True,
    help="Output format; json and yaml are one document on stdout.",
)
@click.option("-A", "--all-namespaces", is_flag=True,
              help="Every Elasticsearch of the local context, each alias matched to its remote among "
                   "the --remote-context given (repeatable).")
@click.option("--only", multiple=True, metavar="IDS", help="Run only these check ids or globs.")
@click.option("--skip", multiple=True, metavar="IDS", help="Skip these check ids or globs.")
@click.option("--bundle", type=click.Path(dir_okay=False), help="Diagnose this support bundle offline.")
@click.option("--remote-bundle", type=click.Path(dir_okay=False), help="The remote side's bundle.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True,
              help="Lowest severity that makes the run exit 1.")
@click.option("--ignore", multiple=True, metavar="ID[:ALIAS][=REASON]",
              help="Suppress a finding (shown as suppressed, does not set the exit code); repeatable.")
@click.option("--ignore-file", type=click.Path(dir_okay=False), metavar="FILE",
              help="YAML list of suppressions under 'ignore:' (see docs/ci.md).")
@click.option("--wait", type=Seconds(1), metavar="DURATION",
              help="Re-run until nothing fails (exit 0) or DURATION has passed, e.g. after fix --apply.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour in the table (auto: on a terminal, unless NO_COLOR or TERM=dumb; FORCE_COLOR).")
def doctor(**kw: Any) -> int:
    """Read-only diagnosis of every remote-cluster link, both sides, down to a TLS handshake.

    \b
    Examples:
      kubectl eckrc doctor --context prod-a -n logging --remote-context prod-b --remote-namespace search
      kubectl eckrc doctor --context prod-a --alias remote-es -o json
      kubectl eckrc doctor --bundle eckrc-bundle.zip

    Exit code: 0 no error found, 1 errors found (or warnings, with --fail-on warning),
    2 usage or configuration error, 3 could not evaluate (unreachable or forbidden).
    """
    refuse_live_flags(kw)
    options = DoctorOptions(
        scope=build_scope(kw),
        output=kw["output"],
        only=split_list(kw["only"]),
        skip=split_list(kw["skip"]),
        bundle=kw["bundle"],
        remote_bundle=kw["remote_bundle"],
        fail_on=kw["fail_on"],
        ignore=tuple(kw["ignore"]),
        ignore_file=kw["ignore_file"],
        color={"always": True, "never": False}.get(kw["color"]),
        wait=kw["wait"],
        debug=kw["debug"],
    )
    return _command("doctor").run(options)


@cli.command(short_help="Plan the repair; --apply carries it out.")
@_scope_options
@click.option("--apply", is_flag=True, help="Carry the plan out (default: only show it).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before restarts.")
@click.option("--wait", is_flag=True, help="After applying, follow the rollout until connected.")
@click.option("--timeout-wait", type=Seconds(1), default="10m", show_default=True, metavar="DURATION",
              help="How long --wait follows the rollout (10m, 600s; a bare number is seconds).")
@click.option(
    "--expose", type=click.Choice(["loadbalancer", "nodeport", "none"]), default="loadbalancer",
    show_default=True, help="How expose-rcs publishes port 9443.",
)
@click.option("--indices", multiple=True, metavar="PATTERNS", help="Search access of a new API key.")
@click.option("--replication-indices", multiple=True, metavar="PATTERNS", help="Replication access.")
@click.option("--expiration", metavar="DURATION", help="Expiry of a new API key, e.g. 90d.")
@click.option("--server-name", metavar="NAME", help="server_name to register (a DNS name).")
@click.option("--proxy-address", metavar="HOST:PORT", help="proxy_address to register.")
@click.option("--widen-key-access", is_flag=True,
              help="With --index: add the patterns the key's access hides to its search access.")
@click.option("--set-certificate-identity", is_flag=True,
              help="Set the key's certificate_identity to the signer's DN when it does not match.")
@click.option("-o", "--output", type=Format(["table", "json"]), default="table", show_default=True)
def fix(**kw: Any) -> int:
    """Plan the repair from doctor's findings; --apply carries it out.

    Without --apply nothing is written: the plan shows each action with its diff, and every
    Kubernetes write is checked by a server-side dry run.

    \b
    Examples:
      kubectl eckrc fix --context prod-a --remote-context prod-b --alias remote-es
      kubectl eckrc fix --context prod-a --remote-context prod-b --alias remote-es --apply --wait
      kubectl eckrc fix --context prod-a --remote-context prod-b --alias remote-es -o json

    Exit code: 0 nothing to do, or applied (and connected with --wait); 1 a plan still to carry
    out (without --apply), a finding no action covers, a rejected dry run or a failed step;
    2 usage or configuration error; 3 could not evaluate (unreachable or forbidden).
    """
    scope = build_scope(kw)
    if scope.fleet:
        raise UsageError("--remote-context: fix repairs one link; give one --remote-context and --alias")
    options = FixOptions(
        scope=scope,
        apply=kw["apply"],
        yes=kw["yes"],
        wait=kw["wait"],
        timeout_wait=float(kw["timeout_wait"]),
        expose=kw["expose"],
        indices=split_list(kw["indices"]) or ("*",),
        replication_indices=split_list(kw["replication_indices"]),
        expiration=kw["expiration"],
        server_name=kw["server_name"],
        proxy_address=kw["proxy_address"],
        widen_key_access=_widen_key_access(kw),
        set_certificate_identity=kw["set_certificate_identity"],
        output=kw["output"],
        debug=kw["debug"],
    )
    return _command("fix").run(options)


@cli.command(short_help="Write a redacted support bundle (zip).")
@_scope_options
@click.option("--output-file", "-o", "output_file", required=True, metavar="FILE.zip",
              help="Bundle to write (-o FILE.zip works too).")
@click.option("-A", "--all-namespaces", is_flag=True,
              help="One bundle for the fleet: every Elasticsearch of the local context and its links.")
def collect(**kw: Any) -> int:
    """Write a redacted support bundle of everything doctor reads, plus its report.

    \b
    Examples:
      kubectl eckrc collect --context prod-a --remote-context prod-b --output-file eckrc-bundle.zip
      kubectl eckrc collect --context prod-a -n logging -o eckrc-local.zip
      kubectl eckrc doctor --bundle eckrc-bundle.zip

    Exit code: 0 the bundle was written, whatever the findings (its report carries doctor's
    verdict); 2 usage or configuration error; 3 nothing written (a secret value was found in
    the bundle, or an internal error).
    """
    options = CollectOptions(scope=build_scope(kw), output_file=kw["output_file"], debug=kw["debug"])
    return _command("collect").run(options)


@cli.command(short_help="Show the check catalogue.")
@click.argument("check_id", required=False)
@click.option(
    "-o", "--output", type=Format(["table", "json", "markdown"]), default="table", show_default=True
)
@_debug_option
def checks(check_id: str | None, output: str, debug: bool) -> int:
    """The check catalogue: what each check verifies, its causes and fix."""
    return _command("checks").run(ChecksOptions(check_id=check_id, output=output))


@cli.command(short_help="Show version and build information.")
@click.option(
    "-o", "--output", type=Format(["text", "json", "yaml"]), default="text", show_default=True
)
@_debug_option
def version(output: str, debug: bool) -> int:
    """Version and build information: the source commit and build date of a binary, and the
    os/arch as krew names them."""
    return _command("version").run(output)


@cli.command(name="__complete", hidden=True, add_help_option=False,
             context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("words", nargs=-1, type=click.UNPROCESSED)
def complete_words(words: tuple[str, ...]) -> int:
    """Shell completion candidates for kubectl (kubectl_complete-eckrc runs this)."""
    from kubectl_eckrc import completion  # only when completing: --help stays as light as it is

    sys.stdout.write(completion.render(*completion.complete(cli, words)))
    return 0


# --- the one error handler ---------------------------------------------------------------------


def _restore_frozen_environment() -> None:
    try:
        from kubectl_eckrc.frozen import restore_environment
    except ImportError:
        return
    restore_environment()


def _quiet_thread_errors(debug: bool) -> None:
    """A failing worker thread (e.g. a port-forward pump) must not print a traceback."""

    def hook(args: threading.ExceptHookArgs) -> None:
        if debug:
            traceback.print_exception(args.exc_type, args.exc_value, args.exc_traceback)

    threading.excepthook = hook


def _quiet_library_logging(debug: bool) -> None:
    """Client libraries log through the root logger (the Kubernetes client logs a failing exec
    plugin's output there); a bare root logger would print it. Errors reach the user once, as
    the one `error:` line, and with --debug as debug lines."""
    root = logging.getLogger()
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())


def _fail(message: str) -> None:
    from kubectl_eckrc.report.text import printable

    sys.stderr.write("error: " + printable(" ".join(message.split()), newlines=False) + "\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    _restore_frozen_environment()
    redact.new_run()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _quiet_thread_errors(debug)
    _quiet_library_logging(debug)
    try:
        result = cli.main(args=args, prog_name=program_name(sys.argv[0]), standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted")
        code = 130
    except click.exceptions.UsageError as e:
        code = _usage_error(e)
    except click.exceptions.ClickException as e:
        _fail(e.format_message())
        code = e.exit_code if e.exit_code else EXIT_USAGE
    except click.exceptions.Exit as e:
        code = e.exit_code
    except EckrcError as e:
        if debug:
            traceback.print_exc()
        _fail(_known_scrubbed(str(e)))
        code = e.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        code = 130
    except Exception as e:  # noqa: BLE001 - the last line of defence: one line, no traceback
        if debug:
            traceback.print_exc()
        _fail(f"internal error: {type(e).__name__}: {_scrubbed(str(e))} (run with --debug for the traceback)")
        code = EXIT_UNEVALUATED
    else:
        code = result if isinstance(result, int) else 0
    if argv is None:  # the real process (console script, python -m, frozen binary)
        _exit_now(code)
    sys.stdout.flush()
    return code


def _exit_now(code: int) -> None:
    """Leave without tearing the interpreter down: after a run, module and object finalization
    of the cluster clients costs a few hundred ms of CPU for nothing. Streams are flushed and
    atexit handlers (the Kubernetes client's temporary CA files) still run."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # e.g. `| head` closed the pipe
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def _usage_error(e: click.exceptions.UsageError) -> int:
    if type(e).__name__ == "NoArgsIsHelpError":  # bare `kubectl eckrc`: help is the answer
        click.echo(e.ctx.get_help() if e.ctx else "", err=False)
        return 0
    where = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
    _fail(e.format_message() + where)
    return EXIT_USAGE


def _known_scrubbed(text: str) -> str:
    """Our own messages: only the values this run has seen as secrets are blanked."""
    return redact.scrub_known(text)


def _scrubbed(text: str) -> str:
    return redact.scrub_text(text)


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
