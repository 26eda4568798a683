"""The domain assertion helper."""

from __future__ import annotations

import pytest

from harness.results import Verdict
from harness.results.assertions import assert_verdict, describe

from .strategies import ran


def test_assert_verdict_accepts_the_right_verdict_and_requirement() -> None:
    result = ran(Verdict.PASS, Verdict.FAIL)
    assert_verdict(result, Verdict.FAIL, requirement="K01.FR.31")
    assert_verdict(ran(Verdict.NON_STRICT), Verdict.NON_STRICT, requirement="VP-02")


def test_assert_verdict_explains_a_mismatch() -> None:
    with pytest.raises(AssertionError, match=r"expected PASS, got:\nVP-04 .*: FAIL") as info:
        assert_verdict(ran(Verdict.FAIL), Verdict.PASS)
    assert "Expected: ≤ 6 A" in str(info.value)
    assert "Actual: 16 A" in str(info.value)
    with pytest.raises(AssertionError, match="a check of VP-99 with verdict FAIL"):
        assert_verdict(ran(Verdict.FAIL), Verdict.FAIL, requirement="VP-99")


def test_describe_lists_every_check() -> None:
    text = describe(ran(Verdict.PASS, Verdict.NON_STRICT))
    assert text.splitlines()[0].endswith(
        "NON_STRICT -- VP-02 (SHOULD): expected ≥ 12.8 A; actual 9 A"
    )
    assert text.count("Requirement:") == 2
