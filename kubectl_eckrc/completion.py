"""Shell completion for `kubectl eckrc` (kubectl 1.26+ plugin completion).

kubectl completes a plugin's arguments by running `kubectl_complete-eckrc` from PATH with the
words typed after `kubectl eckrc`, the last one being the word to complete ("" for a new one),
and reads one candidate per line followed by `:<directive>` (Cobra's ShellCompDirective).
`kubectl_complete-eckrc` runs `kubectl-eckrc __complete ARGS...`, which prints that.

The candidates come from the click command tree itself, so they follow every flag and choice;
contexts come from the kubeconfig. Nothing here imports a cluster client.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

# Cobra's ShellCompDirective values that kubectl understands.
DEFAULT = 0  # the shell may also complete file names
NO_FILES = 4  # ShellCompDirectiveNoFileComp
# Options whose value is a context of the kubeconfig.
CONTEXT_OPTIONS = ("--context", "--remote-context")
HIDDEN = ("__complete",)


def complete(group: click.Group, words: Sequence[str]) -> tuple[list[str], int]:
    """(candidates, directive) for `kubectl eckrc WORDS...`; the last word is being typed."""
    *done, current = list(words) or [""]
    if not done:
        return _matching([n for n in group.list_commands(click.Context(group)) if n not in HIDDEN],
                         current), NO_FILES
    command = group.get_command(click.Context(group), done[0])
    if command is None:
        return [], NO_FILES
    previous = done[-1] if len(done) > 1 else ""
    option = _option(command, previous)
    if option is not None and not option.is_flag:
        return _values(option, current, done)
    if current.startswith("-"):
        return _matching(_option_names(command), current), NO_FILES
    if done[0] == "checks":
        return _matching(_check_ids(), current.upper()), NO_FILES
    return [], NO_FILES


def _option(command: click.Command, name: str) -> click.Option | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in param.opts + param.secondary_opts:
            return param
    return None


def _option_names(command: click.Command) -> list[str]:
    names: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            names += [o for o in param.opts if o.startswith("--")] or list(param.opts)
    return sorted(set(names))


def _values(option: click.Option, current: str, done: Sequence[str]) -> tuple[list[str], int]:
    if isinstance(option.type, click.Choice):
        return _matching([str(c) for c in option.type.choices], current), NO_FILES
    if isinstance(option.type, click.Path):
        return [], DEFAULT  # a file: the shell completes it
    if any(o in CONTEXT_OPTIONS for o in option.opts):
        return _matching(_contexts(done), current), NO_FILES
    return [], NO_FILES


def _contexts(done: Sequence[str]) -> list[str]:
    """The kubeconfig's context names (--kubeconfig if typed, else KUBECONFIG or ~/.kube/config);
    none when it cannot be read: completion never fails loudly."""
    from kubectl_eckrc.kubeconfig import kubeconfig_paths, merge  # only when a context is completed

    explicit = None
    for i, word in enumerate(done[:-1]):
        if word == "--kubeconfig":
            explicit = done[i + 1]
    try:
        config = merge(kubeconfig_paths(explicit))
    except Exception:  # noqa: BLE001 - an unreadable kubeconfig just offers nothing
        return []
    return sorted(str(c.get("name")) for c in config.get("contexts") or [] if c and c.get("name"))


def _check_ids() -> list[str]:
    from kubectl_eckrc.checks.registry import ALL_CHECKS  # only when `checks ID` is completed

    return [spec.id for spec in ALL_CHECKS]


def _matching(candidates: list[str], prefix: str) -> list[str]:
    return [c for c in candidates if c.startswith(prefix)]


def render(candidates: list[str], directive: int) -> str:
    return "".join(f"{c}\n" for c in candidates) + f":{directive}\n"


def main() -> None:
    """The `kubectl_complete-eckrc` console script (pip/pipx installs)."""
    import sys

    from kubectl_eckrc.cli import main as cli_main

    sys.exit(cli_main(["__complete", *sys.argv[1:]]))
