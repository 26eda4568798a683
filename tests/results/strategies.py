"""Hypothesis strategies and small builders for result-model tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

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
    Sample,
    Series,
    StepRecord,
    Unit,
    Verdict,
)
from harness.transport.base import OcppSubprotocol

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STATION = DeviceRef(DeviceKind.STATION, "CP-1", "Acme Wallbox")
VEHICLE = DeviceRef(DeviceKind.VEHICLE, "ev-a", "Vehicle A", {"market_share": 0.25})
MUST = Requirement("K01.FR.31", Level.MUST, "apply the limit")
SHOULD = Requirement("VP-02", Level.SHOULD, "draw at least 80 % of what it could")


def info(case_id: str = "VP-04", devices: tuple[DeviceRef, ...] = (STATION, VEHICLE)) -> CaseInfo:
    return CaseInfo(
        case_id,
        "short pause",
        "vehicle-programme",
        "smart-charging",
        OcppSubprotocol.V201,
        devices,
        {"pause_s": 1200},
    )


def check(verdict: Verdict) -> CheckResult:
    """A check with the given verdict, built through the public constructors."""
    if verdict is Verdict.PASS:
        return CheckResult.passed(MUST, expected="≤ 6 A", actual="5.9 A")
    if verdict is Verdict.FAIL:
        return CheckResult.failed(MUST, expected="≤ 6 A", actual="16 A")
    if verdict is Verdict.NON_STRICT:
        return CheckResult.failed(SHOULD, expected="≥ 12.8 A", actual="9 A")
    if verdict is Verdict.INCONCLUSIVE:
        return CheckResult.inconclusive(MUST, expected="≤ 6 A", reason="lab meter silent")
    if verdict is Verdict.NOT_APPLICABLE:
        return CheckResult.not_applicable(MUST, reason="Current.Offered not reported")
    return CheckResult.harness_error(MUST, RuntimeError("bug in check"))


def ran(*verdicts: Verdict, **kwargs: Any) -> CaseResult:
    """A case that ran, with one check per verdict."""
    return CaseResult(
        info(),
        T0,
        T0 + timedelta(seconds=60),
        0.5,
        checks=tuple(check(v) for v in verdicts),
        **kwargs,
    )


def vehicle(i: int) -> DeviceRef:
    return DeviceRef(DeviceKind.VEHICLE, f"ev-{i}", f"Vehicle {i}")


def result_for(i: int, *verdicts: Verdict) -> CaseResult:
    """VP-01 against vehicle ``i``, one check per verdict (PASS if none given)."""
    return CaseResult(
        info("VP-01", (STATION, vehicle(i))),
        T0,
        T0 + timedelta(minutes=5),
        0.2,
        checks=tuple(check(v) for v in verdicts or (Verdict.PASS,)),
    )


# -- hypothesis -------------------------------------------------------------------------------

text = st.text(max_size=20)
ids = st.text(min_size=1, max_size=20).filter(lambda s: s.strip() != "")
times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers() | finite | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3).map(tuple) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
requirements = st.builds(Requirement, ids, st.sampled_from(Level), text)
devices = st.builds(
    DeviceRef,
    st.sampled_from(DeviceKind),
    ids,
    text,
    st.dictionaries(text, scalars, max_size=3),
)
frames = st.lists(st.integers(min_value=0, max_value=10_000), max_size=4).map(tuple)
names = st.lists(text, max_size=3).map(tuple)


@st.composite
def checks(draw: st.DrawFn) -> CheckResult:
    kind = draw(st.sampled_from(["judge", "inconclusive", "na", "error"]))
    req = draw(requirements)
    expected, actual = draw(ids), draw(ids)
    if kind == "judge":
        return CheckResult.judge(
            req,
            ok=draw(st.booleans()),
            expected=expected,
            actual=actual,
            frames=draw(frames),
            series=draw(names),
        )
    if kind == "inconclusive":
        return CheckResult.inconclusive(req, expected=expected, reason=actual, frames=draw(frames))
    if kind == "na":
        return CheckResult.not_applicable(req, reason=actual)
    return CheckResult.harness_error(req, ValueError(actual))


@st.composite
def series_sets(draw: st.DrawFn) -> tuple[Series, ...]:
    keys = draw(
        st.lists(
            st.sampled_from(
                [
                    (Quantity.LIMIT, Unit.W, None),
                    (Quantity.CURRENT_OFFERED, Unit.A, None),
                    (Quantity.CURRENT_IMPORT, Unit.A, Phase.L1),
                    (Quantity.CURRENT_IMPORT, Unit.A, Phase.L3),
                    (Quantity.POWER_EXPORT, Unit.W, None),
                ]
            ),
            unique=True,
            max_size=3,
        )
    )
    out = []
    for quantity, unit, phase in keys:
        stamps = sorted(draw(st.lists(times, max_size=4)))
        values = st.none() | finite if quantity is Quantity.LIMIT else finite
        out.append(Series(quantity, unit, tuple(Sample(t, draw(values)) for t in stamps), phase))
    return tuple(out)


@st.composite
def case_results(draw: st.DrawFn) -> CaseResult:
    devs = draw(st.lists(devices, min_size=1, max_size=3, unique_by=lambda d: (d.kind, d.id)))
    case = CaseInfo(
        draw(ids),
        draw(text),
        draw(text),
        draw(text),
        draw(st.sampled_from(OcppSubprotocol)),
        tuple(devs),
        draw(st.dictionaries(text, json_values, max_size=3)),
    )
    start = draw(times)
    end = start + timedelta(seconds=draw(st.floats(min_value=0, max_value=1e6)))
    wall = draw(st.floats(min_value=0, max_value=1e6))
    if draw(st.booleans()) and draw(st.booleans()):
        return CaseResult.not_applicable(case, reason=draw(ids), at=start)
    stop = draw(
        st.none()
        | st.builds(Interruption.inconclusive, ids)
        | st.builds(lambda m: Interruption.harness_error(KeyError(m)), text)
    )
    steps = tuple(
        StepRecord(t, i, s)
        for i, (t, s) in enumerate(draw(st.lists(st.tuples(times, text), max_size=3)))
    )
    series = draw(series_sets())
    source = draw(st.sampled_from([MeasurementSource.METER_VALUES, MeasurementSource.LAB_METER]))
    return CaseResult(
        case,
        start,
        end,
        wall,
        tuple(draw(st.lists(checks(), max_size=4))),
        steps,
        stop,
        source,
        series,
    )
