"""The judge treats time as the OCA documents do, names its rules, and names the TxDefault
reading the specification does not take."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from harness.smartcharging import (
    InstalledProfile,
    ProfileStore,
    Purpose,
    RateUnit,
    StationContext,
    Transaction,
    compare_composite,
    composite_schedule,
    parse_set_charging_profile,
)
from harness.smartcharging.judge import (
    RULE_DURATION,
    RULE_SCHEDULE,
    RULE_START,
    RULE_TX_OVERRULES,
)
from harness.versions import OcppVersion
from tests.smartcharging.helpers import (
    T0,
    TC066_EXPECTED,
    TC066_TX_DEFAULT_RESUMES,
    at,
    iso,
    oca_tc066_16,
    profile,
)

CTX = StationContext(evse_ids=(1,))
ANSWER_START = T0 + timedelta(milliseconds=139)


def tc056_oracle() -> Any:
    """A TxDefault of 6 A for 300 s from T0; the station is asked 139 ms later for 300 s."""
    items = [InstalledProfile(1, profile(1, Purpose.TX_DEFAULT, [(0, 6)], duration=300))]
    return composite_schedule(
        items, evse_id=1, start=ANSWER_START, duration_s=300, unit=RateUnit.A, context=CTX
    )


def answer16(start: str, duration: int, periods: list[tuple[int, float]]) -> dict[str, Any]:
    return {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": start,
        "chargingSchedule": {
            "duration": duration,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods],
        },
    }


def test_sub_second_offsets_and_duration_299_pass() -> None:
    """The issue's station: profile started 139 ms before the window, answer duration 299."""
    verdict = compare_composite(
        tc056_oracle(),
        answer16("2024-03-04T12:00:00.139Z", 299, [(0, 6)]),
        version=OcppVersion.V16,
        time_tolerance_s=1,
    )
    assert verdict.ok, verdict.describe()
    # the station's whole-second scheduleStart is as good
    verdict = compare_composite(
        tc056_oracle(), answer16(iso(T0), 300, [(0, 6)]), version=OcppVersion.V16,
        time_tolerance_s=1,
    )  # fmt: skip
    assert verdict.ok, verdict.describe()


@pytest.mark.parametrize(
    ("start", "duration", "rule"),
    [
        ("2024-03-04T12:00:00.139Z", 297, RULE_DURATION),
        ("2024-03-04T12:00:02.000Z", 300, RULE_START),
    ],
)
def test_beyond_the_deviation_fails_naming_the_rule(start: str, duration: int, rule: str) -> None:
    verdict = compare_composite(
        tc056_oracle(), answer16(start, duration, [(0, 6)]), version=OcppVersion.V16,
        time_tolerance_s=1,
    )  # fmt: skip
    assert not verdict.ok
    assert f"[{rule}]" in verdict.describe()


def test_a_period_start_beyond_the_deviation_fails() -> None:
    items = [InstalledProfile(1, profile(1, Purpose.TX_DEFAULT, [(0, 6), (100, 8)]))]
    expected = composite_schedule(
        items, evse_id=1, start=ANSWER_START, duration_s=300, unit=RateUnit.A, context=CTX
    )
    near = answer16(iso(T0), 300, [(0, 6), (100, 8)])
    assert compare_composite(expected, near, version=OcppVersion.V16, time_tolerance_s=1).ok
    # the deviation (1 s) plus startPeriod's 1 s resolution: 102 s (1.86 s off) still matches
    assert compare_composite(
        expected, answer16(iso(T0), 300, [(0, 6), (102, 8)]), version=OcppVersion.V16,
        time_tolerance_s=1,
    ).ok  # fmt: skip
    far = answer16(iso(T0), 300, [(0, 6), (103, 8)])
    verdict = compare_composite(expected, far, version=OcppVersion.V16, time_tolerance_s=1)
    assert [d.where for d in verdict.differences] == ["period 1 startPeriod"]


def test_accepted_without_a_schedule_names_the_rule() -> None:
    verdict = compare_composite(
        tc056_oracle(), {"status": "Accepted"}, version=OcppVersion.V16, time_tolerance_s=1
    )
    assert not verdict.ok
    text = verdict.describe()
    assert "expected Accepted with a schedule, got Accepted without a schedule" in text
    assert f"[{RULE_SCHEDULE}]" in text


def _tc066() -> tuple[Any, Any]:
    context = StationContext(evse_ids=(1,), transactions=((1, Transaction("7", at(-60))),))
    store = ProfileStore(OcppVersion.V16)
    for payload in oca_tc066_16():
        evse, p = parse_set_charging_profile(payload, version=OcppVersion.V16)
        store.install(evse, p, context)
    args: dict[str, Any] = {
        "evse_id": 1, "start": T0, "duration_s": 400, "unit": RateUnit.A, "context": context,
    }  # fmt: skip
    return store.composite(**args), store.composite(**args, tx_default_resumes=True)


def test_the_tx_default_resuming_reading_fails_and_says_so() -> None:
    expected, alternative = _tc066()
    resumed = answer16(iso(T0), 400, [(s, float(v)) for s, v in TC066_TX_DEFAULT_RESUMES])
    verdict = compare_composite(
        expected, resumed, version=OcppVersion.V16, time_tolerance_s=1, alternative=alternative
    )
    assert not verdict.ok
    assert verdict.reading is not None
    assert RULE_TX_OVERRULES in verdict.describe()
    good = answer16(iso(T0), 400, [(s, float(v)) for s, v in TC066_EXPECTED])
    verdict = compare_composite(
        expected, good, version=OcppVersion.V16, time_tolerance_s=1, alternative=alternative
    )
    assert verdict.ok
    assert verdict.reading is None


def test_another_wrong_answer_is_not_called_the_alternative_reading() -> None:
    expected, alternative = _tc066()
    wrong = answer16(iso(T0), 400, [(0, 8), (46, 10)])
    verdict = compare_composite(
        expected, wrong, version=OcppVersion.V16, time_tolerance_s=1, alternative=alternative
    )
    assert not verdict.ok
    assert verdict.reading is None
    assert Decimal(8) == expected.periods[0].limit


@pytest.mark.parametrize(
    "periods", [[(0, 6), (150, 32)], [(0, 6)], [(0, 6), (150, 16)]], ids=["32A", "merged", "16A"]
)
def test_any_limit_where_nothing_limits(periods: list[tuple[int, float]]) -> None:
    """Our own cases: where no profile limits, the station's own limit (unknown to the
    harness) is accepted, merged with its neighbour too."""
    items = [InstalledProfile(1, profile(1, Purpose.TX_DEFAULT, [(0, 6)], duration=150))]
    expected = composite_schedule(
        items, evse_id=1, start=T0, duration_s=300, unit=RateUnit.A, context=CTX
    )
    assert [p.limit for p in expected.periods] == [Decimal(6), None]
    answer = answer16(iso(T0), 300, periods)
    strict = compare_composite(expected, answer, version=OcppVersion.V16, time_tolerance_s=1)
    assert not strict.ok
    verdict = compare_composite(
        expected, answer, version=OcppVersion.V16, time_tolerance_s=1,
        any_limit_where_unlimited=True,
    )  # fmt: skip
    assert verdict.ok, verdict.describe()
    wrong = answer16(iso(T0), 300, [(0, 8), *periods[1:]])
    verdict = compare_composite(
        expected, wrong, version=OcppVersion.V16, time_tolerance_s=1,
        any_limit_where_unlimited=True,
    )  # fmt: skip
    assert not verdict.ok
