"""checks/spec.py and checks/registry.py: how a check declares its catalogue entry, and the
catalogue's lookups."""

from __future__ import annotations

from kubectl_eckrc.checks import registry
from kubectl_eckrc.checks.spec import (
    API_KEY_LINK,
    LINK,
    WARNING,
    NotEvaluated,
    check,
    not_evaluated,
    passed,
)
from kubectl_eckrc.findings import Status, Verdict


def test_a_check_takes_its_title_from_the_first_docstring_line_and_its_doc_from_the_rest() -> None:
    def probe_twice(snap: object, alias: str) -> Verdict:
        """The link answers twice

        First paragraph.

        Fix by hand: ask again.
        """
        return passed(f"{alias} answered")

    spec = check("ECKRC999", severity=WARNING, side=LINK, requires=("ECKRC501",), fix="register-remote",
                 covers=("F2",), applies_to=API_KEY_LINK, remediation="call someone")(probe_twice)
    assert (spec.id, spec.title, spec.doc) == (
        "ECKRC999", "The link answers twice", "First paragraph.\n\nFix by hand: ask again.")
    assert (spec.severity, spec.side, spec.requires, spec.fix, spec.covers) == (
        WARNING, LINK, ("ECKRC501",), "register-remote", ("F2",))
    assert (spec.applies_to, spec.remediation, spec.anchor) == (API_KEY_LINK, "call someone", "eckrc999")
    assert spec(None, "remote-es") == Verdict(Status.PASS, "remote-es answered", {})


def test_a_check_without_docstring_or_options_has_empty_catalogue_text() -> None:
    def bare(snap: object) -> Verdict:
        return passed("ok")

    spec = check("ECKRC998", severity=WARNING, side=LINK)(bare)
    assert (spec.title, spec.doc) == ("", "")
    assert (spec.requires, spec.fix, spec.covers) == ((), None, ())
    assert (spec.applies_to, spec.remediation) == (None, "")


def test_not_evaluated_without_a_failed_read_names_no_permission_and_no_cause() -> None:
    missing = NotEvaluated("no entry for remote-es")
    assert (str(missing), missing.reason, missing.permission, missing.cause) == (
        "no entry for remote-es", "no entry for remote-es", "", "")
    verdict = not_evaluated("not called")
    assert (verdict.status, verdict.message, verdict.permission, verdict.cause) == (
        Status.NOT_EVALUATED, "not called", "", "")


def test_check_areas_come_from_the_first_digit_and_unknown_ones_are_other() -> None:
    assert [registry.area_of(i) for i in ("ECKRC101", "ECKRC205", "ECKRC507", "ECKRC603")] == [
        "Access", "Remote cluster server", "Connection", "Certificate model"]
    assert registry.area_of("ECKRC901") == "Other"
    assert registry.get("eckrc303") is registry.BY_ID["ECKRC303"]
    assert registry.get("ECKRC999") is None
