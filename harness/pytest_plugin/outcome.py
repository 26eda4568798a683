"""What a ``run_case`` / ``run_suite`` call returns: the verdicts, their explanation, the run
folder, and an assertion that fails a pytest test with the recap of what did not pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.results import CaseResult, CheckResult, Summary, Verdict
from harness.runner.recap import NOT_PASSED, recap_blocks

__all__ = ["OcppRun", "assert_ocpp_passed", "recap_text"]

_NOT_PASSED = NOT_PASSED


def recap_text(results: Sequence[CaseResult], *, strict: bool) -> str:
    """The recap of every case that did not pass (as ``ocpp-harness run`` prints it): per
    case its devices, verdict and reason, then Requirement / Expected / Actual and the
    trace frames of each check that did not pass. Empty when every case passed."""
    return "\n".join(recap_blocks(results, strict=strict))


@dataclass(frozen=True, slots=True)
class OcppRun:
    """The outcome of one harness run started from a test.

    ``results`` holds one :class:`~harness.results.CaseResult` per case and device (a case
    run on two OCPP versions of the simulator gives two); each carries its verdict, its
    checks (requirement, expected, actual, trace frames) and its steps. ``run_dir`` is the
    run folder (``run.json``, ``results.jsonl``, ``traces/``): ``ocpp-harness report
    RUN_DIR`` turns it into HTML, JUnit, JSON, Markdown or CSV.
    """

    results: tuple[CaseResult, ...]
    run_dir: Path
    strict: bool = False

    @property
    def summary(self) -> Summary:
        """Counts per verdict (``summary.line()``: ``N passed, N failed, N inconclusive,
        N skipped, N errors``)."""
        return Summary.of((r.verdict for r in self.results), strict=self.strict)

    @property
    def ok(self) -> bool:
        """No FAIL, ERROR or INCONCLUSIVE (NON_STRICT only fails a ``strict`` run)."""
        return self.summary.ok

    @property
    def judged(self) -> bool:
        """At least one case ran and was judged (not every case NOT_APPLICABLE)."""
        return any(r.verdict is not Verdict.NOT_APPLICABLE for r in self.results)

    @property
    def verdicts(self) -> dict[str, Verdict]:
        """The verdict of each case id (the worst one over the devices it ran on)."""
        out: dict[str, Verdict] = {}
        for result in self.results:
            seen = out.get(result.info.case_id)
            if seen is None or result.verdict.severity > seen.severity:
                out[result.info.case_id] = result.verdict
        return out

    @property
    def failed_checks(self) -> tuple[tuple[CaseResult, CheckResult], ...]:
        """Every check that did not pass (FAIL, ERROR, INCONCLUSIVE; NON_STRICT too when
        ``strict``), with its case: ``check.requirement.id``, ``.expected``, ``.actual``."""
        shown = _NOT_PASSED | ({Verdict.NON_STRICT} if self.strict else set())
        return tuple((r, c) for r in self.results for c in r.checks if c.verdict in shown)

    def result(self, case_id: str) -> CaseResult:
        """The one result of ``case_id``; :class:`KeyError` naming the ids there are, or
        :class:`ValueError` when the case ran on several devices (use :attr:`results`)."""
        found = [r for r in self.results if r.info.case_id == case_id]
        if not found:
            known = ", ".join(sorted({r.info.case_id for r in self.results})) or "none"
            raise KeyError(f"no result for case {case_id!r} (cases of this run: {known})")
        if len(found) > 1:
            raise ValueError(f"case {case_id} ran {len(found)} times; pick one from .results")
        return found[0]

    def recap(self) -> str:
        """The recap of what did not pass, the summary line and the run folder."""
        body = recap_text(self.results, strict=self.strict)
        tail = f"{self.summary.line()}  ({self.summary.breakdown()})\nRun folder: {self.run_dir}"
        return f"{body}\n\n{tail}" if body else tail

    def assert_passed(self, *, allow_not_applicable: bool = False) -> None:
        """Fail the calling pytest test with :meth:`recap` unless every case passed.

        A run in which no case was judged (all NOT_APPLICABLE by the capability
        declaration) fails too, unless ``allow_not_applicable``: a test that checked nothing
        must not read as a pass.
        """
        __tracebackhide__ = True
        assert_ocpp_passed(self, allow_not_applicable=allow_not_applicable)


def assert_ocpp_passed(run: OcppRun, *, allow_not_applicable: bool = False) -> None:
    """:meth:`OcppRun.assert_passed` as a function."""
    __tracebackhide__ = True
    if not run.ok:
        pytest.fail(f"OCPP cases did not pass:\n{run.recap()}", pytrace=False)
    if not run.judged and not allow_not_applicable:
        reasons = "\n".join(f"{r.info.case_id}: {r.reason}" for r in run.results)
        pytest.fail(
            "no OCPP case was judged (every one NOT_APPLICABLE by the capability declaration):"
            f"\n{reasons or 'no case ran'}\nRun folder: {run.run_dir}",
            pytrace=False,
        )
