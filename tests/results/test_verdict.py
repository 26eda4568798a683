"""Verdict combination, strict counting and the summary line."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.exitcodes import ExitCode
from harness.results import Summary, Verdict, combine, worst

P, F, NS, NA, INC, ERR = (
    Verdict.PASS,
    Verdict.FAIL,
    Verdict.NON_STRICT,
    Verdict.NOT_APPLICABLE,
    Verdict.INCONCLUSIVE,
    Verdict.ERROR,
)

# The whole table, written out by hand (row combined with column).
TABLE = {
    P: {P: P, F: F, NS: NS, NA: P, INC: INC, ERR: ERR},
    F: {P: F, F: F, NS: F, NA: F, INC: F, ERR: ERR},
    NS: {P: NS, F: F, NS: NS, NA: NS, INC: INC, ERR: ERR},
    NA: {P: P, F: F, NS: NS, NA: NA, INC: INC, ERR: ERR},
    INC: {P: INC, F: F, NS: INC, NA: INC, INC: INC, ERR: ERR},
    ERR: {P: ERR, F: ERR, NS: ERR, NA: ERR, INC: ERR, ERR: ERR},
}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(Verdict, repeat=2)))
def test_combination_table_every_pair(a: Verdict, b: Verdict) -> None:
    assert combine(a, b) is TABLE[a][b]


def test_table_covers_every_verdict() -> None:
    assert set(TABLE) == set(Verdict)
    assert all(set(row) == set(Verdict) for row in TABLE.values())


verdicts = st.sampled_from(Verdict)


@given(verdicts, verdicts, verdicts)
def test_combine_is_associative_and_commutative(a: Verdict, b: Verdict, c: Verdict) -> None:
    assert combine(a, b) is combine(b, a)
    assert combine(combine(a, b), c) is combine(a, combine(b, c))
    assert combine(a, Verdict.NOT_APPLICABLE) is a


@given(st.lists(verdicts))
def test_worst_is_a_fold_of_combine(items: list[Verdict]) -> None:
    expected = Verdict.NOT_APPLICABLE
    for v in items:
        expected = combine(expected, v)
    assert worst(items) is expected
    assert worst(reversed(items)) is expected


@pytest.mark.parametrize(
    ("verdict", "lenient", "strict"),
    [
        (P, P, P),
        (NS, P, F),
        (F, F, F),
        (NA, NA, NA),
        (INC, INC, INC),
        (ERR, ERR, ERR),
    ],
)
def test_effective_verdict(verdict: Verdict, lenient: Verdict, strict: Verdict) -> None:
    assert verdict.effective(strict=False) is lenient
    assert verdict.effective(strict=True) is strict


def sample_run() -> list[Verdict]:
    return [P, P, P, NS, NS, F, NA, NA, NA, NA, INC, ERR]


def test_summary_counts_non_strict_as_passed_unless_strict() -> None:
    lenient = Summary.of(sample_run(), strict=False)
    figures = (lenient.passed, lenient.failed, lenient.inconclusive, lenient.skipped)
    assert (*figures, lenient.errors) == (5, 1, 1, 4, 1)
    strict = Summary.of(sample_run(), strict=True)
    figures = (strict.passed, strict.failed, strict.inconclusive, strict.skipped)
    assert (*figures, strict.errors) == (3, 3, 1, 4, 1)
    assert lenient.total == strict.total == 12
    assert lenient.counts[Verdict.NON_STRICT] == 2


def test_summary_line_wording() -> None:
    assert Summary.of(sample_run(), strict=False).line() == (
        "5 passed, 1 failed, 1 inconclusive, 4 skipped, 1 errors"
    )
    empty = "0 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors"
    assert Summary.of([], strict=False).line() == empty
    one = "1 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors"
    assert Summary.of([P], strict=False).line() == one


def test_summary_breakdown_lists_non_zero_verdicts_in_severity_order() -> None:
    assert Summary.of([ERR, P, NS, P], strict=False).breakdown() == "PASS 2, NON_STRICT 1, ERROR 1"
    assert Summary.of([], strict=True).breakdown() == "no cases"


@pytest.mark.parametrize(
    ("items", "strict", "ok"),
    [
        ([P, NA], False, True),
        ([P, NS], False, True),
        ([P, NS], True, False),
        ([P, F], False, False),
        ([P, INC], False, False),  # an unjudged case is never green
        ([ERR], False, False),
        ([NA], False, True),
    ],
)
def test_summary_ok(items: list[Verdict], strict: bool, ok: bool) -> None:
    assert Summary.of(items, strict=strict).ok is ok


@given(st.lists(verdicts), st.booleans())
def test_summary_five_figures_partition_the_cases(items: list[Verdict], strict: bool) -> None:
    s = Summary.of(items, strict=strict)
    assert s.passed + s.failed + s.inconclusive + s.skipped + s.errors == len(items) == s.total


@pytest.mark.parametrize(
    ("items", "strict", "code"),
    [
        ([P, NA, NS], False, ExitCode.OK),
        ([P, NS], True, ExitCode.FAILED),
        ([P, INC], False, ExitCode.INCONCLUSIVE),
        ([INC, F], False, ExitCode.FAILED),  # a FAIL does not hide behind an INCONCLUSIVE
        ([F, ERR, INC], False, ExitCode.HARNESS_ERROR),
        ([], False, ExitCode.OK),
    ],
)
def test_summary_exit_code(items: list[Verdict], strict: bool, code: ExitCode) -> None:
    assert Summary.of(items, strict=strict).exit_code is code


def test_summary_rejects_negative_counts() -> None:
    with pytest.raises(ValueError, match="negative"):
        Summary(counts={Verdict.PASS: -1})
