"""Check and case results: construction rules, derived verdicts and reasons, JSON."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings

from harness.results import (
    CaseInfo,
    CaseResult,
    CheckResult,
    DeviceKind,
    DeviceRef,
    Interruption,
    Level,
    MeasurementSource,
    Phase,
    Quantity,
    Requirement,
    ResultFormatError,
    Series,
    StepRecord,
    Unit,
    Verdict,
    case_key,
)
from harness.transport.base import OcppSubprotocol

from .strategies import (
    MUST,
    SHOULD,
    STATION,
    T0,
    VEHICLE,
    case_results,
    check,
    devices,
    ids,
    info,
    ran,
)

# -- checks -----------------------------------------------------------------------------------


def test_failed_must_is_fail_and_failed_should_is_non_strict() -> None:
    assert CheckResult.failed(MUST, expected="a", actual="b").verdict is Verdict.FAIL
    assert CheckResult.failed(SHOULD, expected="a", actual="b").verdict is Verdict.NON_STRICT
    assert CheckResult.judge(MUST, ok=True, expected="a", actual="a").verdict is Verdict.PASS
    assert CheckResult.judge(SHOULD, ok=False, expected="a", actual="b").verdict is (
        Verdict.NON_STRICT
    )


def test_direct_construction_cannot_mislabel_the_level() -> None:
    with pytest.raises(ValueError, match="NON_STRICT"):
        CheckResult(SHOULD, Verdict.FAIL, "a", "b")
    with pytest.raises(ValueError, match="FAIL"):
        CheckResult(MUST, Verdict.NON_STRICT, "a", "b")


def test_a_judged_check_must_say_what_was_expected_and_seen() -> None:
    with pytest.raises(ValueError, match="expected and seen"):
        CheckResult.failed(MUST, expected="", actual="16 A")
    with pytest.raises(ValueError, match="expected and seen"):
        CheckResult.passed(MUST, expected="≤ 6 A", actual=" ")


def test_frame_references_are_non_negative_indices() -> None:
    with pytest.raises(ValueError, match="indices"):
        CheckResult.passed(MUST, expected="a", actual="a", frames=(-1,))


def test_harness_error_check_is_error_with_traceback() -> None:
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as exc:
        result = CheckResult.harness_error(MUST, exc)
    assert result.verdict is Verdict.ERROR
    assert result.actual == "harness error: ZeroDivisionError: division by zero"
    assert result.detail is not None
    assert "Traceback" in result.detail
    assert "raise ZeroDivisionError" in result.detail


def test_explain_gives_requirement_expected_actual() -> None:
    text = CheckResult.failed(MUST, expected="≤ 6 A (or stopped)", actual="16 A").explain()
    assert text.splitlines() == [
        "Requirement: K01.FR.31 (MUST) apply the limit",
        "Expected: ≤ 6 A (or stopped)",
        "Actual: 16 A",
    ]


def test_requirement_needs_an_id() -> None:
    with pytest.raises(ValueError, match="id"):
        Requirement(" ", Level.MUST, "x")


# -- interruptions: a device fault is never an interruption ------------------------------------


@pytest.mark.parametrize("verdict", [Verdict.PASS, Verdict.FAIL, Verdict.NON_STRICT])
def test_an_interruption_cannot_carry_a_judgement(verdict: Verdict) -> None:
    with pytest.raises(ValueError, match="failed check"):
        Interruption(verdict, "station disconnected")


# -- case verdicts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ((Verdict.PASS, Verdict.PASS), Verdict.PASS),
        ((Verdict.PASS, Verdict.NOT_APPLICABLE), Verdict.PASS),
        ((Verdict.PASS, Verdict.NON_STRICT), Verdict.NON_STRICT),
        ((Verdict.NON_STRICT, Verdict.INCONCLUSIVE), Verdict.INCONCLUSIVE),
        ((Verdict.INCONCLUSIVE, Verdict.FAIL), Verdict.FAIL),
        ((Verdict.FAIL, Verdict.ERROR), Verdict.ERROR),
        ((), Verdict.INCONCLUSIVE),
        ((Verdict.NOT_APPLICABLE,), Verdict.INCONCLUSIVE),
    ],
)
def test_case_verdict_combines_checks(checks: tuple[Verdict, ...], expected: Verdict) -> None:
    assert ran(*checks).verdict is expected


def test_interruption_combines_with_checks() -> None:
    stopped = ran(Verdict.PASS, interruption=Interruption.inconclusive("meter silent"))
    assert stopped.verdict is Verdict.INCONCLUSIVE
    assert stopped.reason == "meter silent"
    failed_first = ran(Verdict.FAIL, interruption=Interruption.inconclusive("meter silent"))
    assert failed_first.verdict is Verdict.FAIL
    assert failed_first.reason.startswith("K01.FR.31 (MUST): expected ≤ 6 A; actual 16 A")


def test_case_harness_error_keeps_the_checks_judged_so_far() -> None:
    result = CaseResult.harness_error(
        info(),
        KeyError("x"),
        started_at=T0,
        finished_at=T0,
        wall_duration_s=0.1,
        checks=(check(Verdict.FAIL),),
    )
    assert result.verdict is Verdict.ERROR
    assert result.reason == "harness error: KeyError: 'x'"
    assert [c.verdict for c in result.checks] == [Verdict.FAIL]


def test_not_applicable_case_did_not_run() -> None:
    result = CaseResult.not_applicable(info(), reason="declaration: no phase switching", at=T0)
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert result.did_not_run
    assert result.reason == "declaration: no phase switching"
    with pytest.raises(ValueError, match="did not run"):
        CaseResult(
            info(),
            T0,
            T0,
            0.0,
            checks=(check(Verdict.PASS),),
            interruption=Interruption.not_applicable("excluded"),
        )


def test_reason_line_of_a_check_that_raised() -> None:
    assert ran(Verdict.PASS, Verdict.ERROR).reason == (
        "K01.FR.31 (MUST): harness error: RuntimeError: bug in check"
    )


@pytest.mark.parametrize(
    ("checks", "reason"),
    [
        ((Verdict.PASS, Verdict.PASS, Verdict.NOT_APPLICABLE), "all 2 judged checks passed"),
        ((Verdict.NOT_APPLICABLE,), "no check was judged (1 not applicable)"),
        ((), "the case recorded no checks"),
        ((Verdict.PASS, Verdict.NON_STRICT), "VP-02 (SHOULD): expected ≥ 12.8 A; actual 9 A"),
        (
            (Verdict.PASS, Verdict.INCONCLUSIVE),
            "K01.FR.31 (MUST): expected ≤ 6 A; actual lab meter silent",
        ),
    ],
)
def test_reason_line(checks: tuple[Verdict, ...], reason: str) -> None:
    assert ran(*checks).reason == reason


@pytest.mark.parametrize(
    ("verdict", "strict", "effective"),
    [
        (Verdict.NON_STRICT, False, Verdict.PASS),
        (Verdict.NON_STRICT, True, Verdict.FAIL),
        (Verdict.FAIL, False, Verdict.FAIL),
        (Verdict.PASS, True, Verdict.PASS),
    ],
)
def test_case_effective_verdict(verdict: Verdict, strict: bool, effective: Verdict) -> None:
    assert ran(verdict).effective_verdict(strict=strict) is effective


def test_times_must_be_aware_and_ordered() -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        CaseResult(info(), naive, naive, 0.0)
    with pytest.raises(ValueError, match="before started_at"):
        CaseResult(info(), T0, T0 - timedelta(seconds=1), 0.0)
    with pytest.raises(ValueError, match="wall_duration_s"):
        CaseResult(info(), T0, T0, -1.0)
    with pytest.raises(ValueError, match="timezone-aware"):
        StepRecord(naive, 0, "x")


def test_durations() -> None:
    result = CaseResult(info(), T0, T0 + timedelta(hours=6), 6.5)
    assert result.clock_duration_s == 21600.0
    assert result.wall_duration_s == 6.5


def test_measured_series_need_a_source_and_unique_names() -> None:
    current = Series.of(Quantity.CURRENT_IMPORT, unit=Unit.A, points=[(T0, 6.0)], phase=Phase.L1)
    with pytest.raises(ValueError, match="measurement_source"):
        ran(Verdict.PASS, series=(current,))
    with pytest.raises(ValueError, match="unique"):
        ran(Verdict.PASS, series=(current, current), measurement_source=MeasurementSource.LAB_METER)
    limit = Series.of(Quantity.LIMIT, unit=Unit.A, points=[(T0, None), (T0, 6.0)])
    assert ran(Verdict.PASS, series=(limit,)).series[0].name == "limit"


def test_series_rules() -> None:
    assert Series.of(Quantity.CURRENT_IMPORT, unit=Unit.A, points=[], phase=Phase.L2).name == (
        "current_import.L2"
    )
    with pytest.raises(ValueError, match="unit must be W"):
        Series.of(Quantity.POWER_EXPORT, unit=Unit.A, points=[])
    with pytest.raises(ValueError, match="earlier"):
        Series.of(Quantity.LIMIT, unit=Unit.A, points=[(T0, 1.0), (T0 - timedelta(1), 2.0)])
    with pytest.raises(ValueError, match="only a limit"):
        Series.of(Quantity.CURRENT_OFFERED, unit=Unit.A, points=[(T0, None)])
    with pytest.raises(ValueError, match="finite"):
        Series.of(Quantity.LIMIT, unit=Unit.A, points=[(T0, float("nan"))])


def test_case_info_needs_devices_once_each() -> None:
    with pytest.raises(ValueError, match="at least one device"):
        CaseInfo("VP-01", "t", "s", "c", OcppSubprotocol.V16, ())
    with pytest.raises(ValueError, match="twice"):
        CaseInfo("VP-01", "t", "s", "c", OcppSubprotocol.V16, (STATION, STATION))
    with pytest.raises(ValueError, match="finite"):
        CaseInfo("VP-01", "t", "s", "c", OcppSubprotocol.V16, (STATION,), {"x": float("inf")})


def test_device_attributes_are_scalars_and_read_only() -> None:
    with pytest.raises(ValueError, match="attribute"):
        DeviceRef(DeviceKind.VEHICLE, "ev", attributes={"x": [1]})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        VEHICLE.attributes["market_share"] = 1.0  # type: ignore[index]
    assert {VEHICLE: 1}[DeviceRef(DeviceKind.VEHICLE, "ev-a", "Vehicle A", {"market_share": 0.25})]


# -- case keys ---------------------------------------------------------------------------------

SAFE = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9._+-]*")


@given(ids, ids, devices, devices)
def test_case_keys_are_safe_and_unique(a: str, b: str, d1: DeviceRef, d2: DeviceRef) -> None:
    key = case_key(a, [d1, d2])
    assert SAFE.fullmatch(key)
    assert len(key) < 200
    assert key == case_key(a, [d2, d1])  # order of devices does not matter
    if a != b:
        assert case_key(b, [d1, d2]) != key
    if (d1.kind, d1.id) != (d2.kind, d2.id):
        assert case_key(a, [d1]) != case_key(a, [d2])


def test_case_key_is_readable() -> None:
    assert case_key("TC_066_CS", [STATION]).startswith("TC_066_CS__CP-1__")
    assert case_key("../etc/passwd", [STATION]).startswith("etc-passwd__CP-1__")
    # slugs that collide still get different keys
    assert case_key("a/b", [STATION]) != case_key("a b", [STATION])


# -- JSON --------------------------------------------------------------------------------------


@settings(max_examples=150)
@given(case_results())
def test_json_round_trip(result: CaseResult) -> None:
    text = result.to_json()
    assert "\n" not in text
    assert CaseResult.from_json(text) == result


def test_json_timestamps_are_iso_utc() -> None:
    value = json.loads(ran(Verdict.PASS).to_json())
    assert value["started_at"] == "2026-01-01T00:00:00Z"
    assert value["finished_at"] == "2026-01-01T00:01:00Z"
    assert value["verdict"] == "PASS"
    assert value["case"]["ocpp_version"] == "ocpp2.0.1"


def test_from_json_names_the_bad_field() -> None:
    value = json.loads(ran(Verdict.FAIL, Verdict.PASS).to_json())
    value["checks"][1]["verdict"] = "OK"
    with pytest.raises(ResultFormatError, match=r"checks\[1\]\.verdict: expected one of PASS"):
        CaseResult.from_dict(value)
    del value["case"]["devices"][0]["id"]
    with pytest.raises(ResultFormatError, match=r"case\.devices\[0\]\.id: missing"):
        CaseResult.from_dict(value)
    with pytest.raises(ResultFormatError, match="not valid JSON"):
        CaseResult.from_json("{")


def test_from_json_detects_a_stored_verdict_that_disagrees() -> None:
    value = json.loads(ran(Verdict.FAIL).to_json())
    value["verdict"] = "PASS"
    with pytest.raises(ResultFormatError, match=r"verdict: stored 'PASS'.*'FAIL'"):
        CaseResult.from_dict(value)


def test_from_json_rejects_a_mislabelled_check() -> None:
    value = json.loads(ran(Verdict.FAIL).to_json())
    value["checks"][0]["requirement"]["level"] = "SHOULD"
    with pytest.raises(ResultFormatError, match=r"checks\[0\]: check K01.FR.31: FAIL needs a MUST"):
        CaseResult.from_dict(value)
