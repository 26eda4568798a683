"""Assertion helpers for tests of checks, cases and runners (domain-level, readable failures)."""

from __future__ import annotations

from harness.results.case import CaseResult
from harness.results.verdict import Verdict

__all__ = ["assert_verdict", "describe"]


def describe(result: CaseResult) -> str:
    """A multi-line account of a case: verdict, reason, then each check's verdict and its
    Requirement / Expected / Actual lines."""
    lines = [f"{result.info.case_id} [{result.key}]: {result.verdict.value} -- {result.reason}"]
    for check in result.checks:
        lines.append(f"- {check.verdict.value}")
        lines.extend(f"    {line}" for line in check.explain().splitlines())
    return "\n".join(lines)


def assert_verdict(result: CaseResult, verdict: Verdict, *, requirement: str | None = None) -> None:
    """Assert that ``result`` has ``verdict``; with ``requirement`` (an id such as
    ``K01.FR.31``), also that a check of that requirement has that same verdict.

    The :class:`AssertionError` shows :func:`describe` of the case.
    """
    if result.verdict is not verdict:
        raise AssertionError(f"expected {verdict.value}, got:\n{describe(result)}")
    if requirement is not None and not any(
        c.requirement.id == requirement and c.verdict is verdict for c in result.checks
    ):
        raise AssertionError(
            f"expected a check of {requirement} with verdict {verdict.value}, got:\n"
            f"{describe(result)}"
        )
