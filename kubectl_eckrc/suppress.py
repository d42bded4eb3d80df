"""Suppressions: `--ignore ID[:alias][=reason]` and `--ignore-file FILE` (YAML).

A suppressed finding leaves a trace: it keeps its status, every format shows it as suppressed
with its reason, and the JSON document lists it under `suppressed`. It no longer sets the exit
code (that is what suppressing is for), but the summary counts it, and a suppression that
matches nothing is said on stderr so that a stale entry does not hide the next problem.
Only findings that judged something can be suppressed (fail, warn, info): a check that could
not be evaluated says nothing about the link, and suppressing it would turn "could not look"
into "looked, fine".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from kubectl_eckrc.errors import UsageError
from kubectl_eckrc.findings import Finding, Report, Status

SUPPRESSIBLE = (Status.FAIL, Status.WARN, Status.INFO)
MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class Ignore:
    check: str  # a check id or glob, e.g. ECKRC505 or ECKRC50*
    alias: str | None = None  # None: every alias (and side checks)
    reason: str = ""

    def matches(self, finding: Finding) -> bool:
        if not fnmatchcase(finding.id.upper(), self.check.upper()):
            return False
        return self.alias is None or finding.alias == self.alias

    def label(self) -> str:
        return self.check + (f":{self.alias}" if self.alias else "")


def parse(text: str, where: str = "--ignore") -> Ignore:
    """ID[:alias][=reason]."""
    head, _, reason = text.partition("=")
    check, _, alias = head.strip().partition(":")
    if not check.strip():
        raise UsageError(f"{where} {text!r}: expected ID[:alias][=reason], e.g. ECKRC505:remote-es=known")
    return Ignore(check.strip(), alias.strip() or None, reason.strip())


def load_file(path: str) -> list[Ignore]:
    """The YAML file: a list under `ignore:`, each entry `{id, alias, reason}` or a string
    `ID[:alias][=reason]`."""
    import yaml

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--ignore-file {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(f"--ignore-file {path}: larger than 1 MiB")
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())[:120]
        raise UsageError(f"--ignore-file {path}: not valid YAML ({detail})") from None
    entries = document.get("ignore") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"--ignore-file {path}: expected a list under 'ignore:'")
    return [_entry(item, path) for item in entries]


def _entry(item: Any, path: str) -> Ignore:
    where = f"--ignore-file {path}:"
    if isinstance(item, str):
        return parse(item, where)
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
        raise UsageError(f"{where} each entry needs an 'id' (and may have 'alias' and 'reason')")
    unknown = set(item) - {"id", "alias", "reason"}
    if unknown:
        raise UsageError(f"{where} unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    alias, reason = item.get("alias"), item.get("reason", "")
    return Ignore(item["id"].strip(), str(alias) if alias else None, str(reason or "").strip())


def check_ids(ignores: list[Ignore], ids: list[str]) -> None:
    """An id that names no check is a typo, not "suppress nothing"."""
    for ignore in ignores:
        if not any(fnmatchcase(i.upper(), ignore.check.upper()) for i in ids):
            raise UsageError(f"--ignore {ignore.check}: matches no check (see 'kubectl eckrc checks')")


def apply(report: Report, ignores: list[Ignore]) -> tuple[Report, list[Ignore]]:
    """(report with matching findings marked suppressed, the ignores that matched nothing)."""
    used: set[Ignore] = set()
    findings = []
    for finding in report.findings:
        rule = next((i for i in ignores if i.matches(finding)), None)
        if rule is not None and finding.status in SUPPRESSIBLE:
            used.add(rule)
            finding = replace(finding, suppressed=rule.reason)
        findings.append(finding)
    return replace(report, findings=findings), [i for i in ignores if i not in used]
