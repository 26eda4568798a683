"""Hand-worked composite schedules: each purpose, each kind, units, EVSE 0, 2.1 values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from harness.smartcharging import (
    ChargingProfile,
    CompositeSchedule,
    InstalledProfile,
    Kind,
    OperationMode,
    Purpose,
    RateUnit,
    Recurrency,
    StationContext,
    Transaction,
    UnknownEvse,
    composite_schedule,
)
from tests.smartcharging.helpers import T0, at, profile

D = Decimal
NO_TX = StationContext(evse_ids=(1, 2))


def compose(
    items: list[tuple[int, ChargingProfile]],
    *,
    start: datetime = T0,
    duration_s: int = 400,
    evse_id: int = 1,
    unit: RateUnit = RateUnit.A,
    context: StationContext = NO_TX,
    default_limit: Decimal | None = None,
) -> CompositeSchedule:
    return composite_schedule(
        [InstalledProfile(e, p) for e, p in items],
        evse_id=evse_id, start=start, duration_s=duration_s, unit=unit, context=context,
        default_limit=default_limit,
    )  # fmt: skip


def limits(schedule: CompositeSchedule) -> list[tuple[int, Decimal | None]]:
    return [(p.start_period_s, p.limit) for p in schedule.periods]


def test_nothing_installed_reports_the_default_limit() -> None:
    assert limits(compose([], default_limit=D(32))) == [(0, 32)]
    assert limits(compose([])) == [(0, None)]


def test_station_max_caps_tx_default() -> None:
    items = [(0, profile(1, Purpose.STATION_MAX, [(0, 10)])),
             (1, profile(2, Purpose.TX_DEFAULT, [(0, 16), (100, 6)]))]  # fmt: skip
    assert limits(compose(items)) == [(0, 10), (100, 6)]


def test_tx_profile_overrides_tx_default_only_for_its_transaction() -> None:
    """1.6 §3.13.2 / 2.0.1 K08: a valid TxProfile overrules the TxDefaultProfile for the whole
    transaction, also after its own schedule ended (nothing limits then)."""
    ctx = NO_TX.with_transaction(1, Transaction("a", at(-10)))
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 6)])),
             (1, profile(2, Purpose.TX, [(0, 16)], transaction_id="a", duration=100))]  # fmt: skip
    assert limits(compose(items, context=ctx)) == [(0, 16), (100, None)]
    other = NO_TX.with_transaction(1, Transaction("b", at(-10)))
    assert limits(compose(items, context=other)) == [(0, 6)]


def test_tx_default_returns_when_the_tx_profile_is_no_longer_valid() -> None:
    ctx = NO_TX.with_transaction(1, Transaction("a", at(-10)))
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 6)])),
             (1, profile(2, Purpose.TX, [(0, 16)], transaction_id="a", duration=100,
                         valid_to=at(150)))]  # fmt: skip
    assert limits(compose(items, context=ctx)) == [(0, 16), (100, None), (150, 6)]
    resumes = composite_schedule(
        [InstalledProfile(e, p) for e, p in items], evse_id=1, start=T0, duration_s=600,
        unit=RateUnit.A, context=ctx, tx_default_resumes=True,
    )  # fmt: skip
    assert [(p.start_period_s, p.limit) for p in resumes.periods] == [(0, 16), (100, 6)]


def test_instants_to_the_millisecond() -> None:
    """A profile starting 139 ms after the window: the sliver before it gives way (startPeriod
    cannot show it) and the exact offsets are kept for the judge."""
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 6), (100, 8)],
                         start=T0 + timedelta(milliseconds=139)))]  # fmt: skip
    schedule = composite_schedule(
        [InstalledProfile(e, p) for e, p in items], evse_id=1, start=T0, duration_s=300,
        unit=RateUnit.A, context=NO_TX,
    )  # fmt: skip
    assert [(p.start_period_s, p.limit) for p in schedule.periods] == [(0, 6), (100, 8)]
    assert schedule.start_offsets_ms == (0, 100_139)


def test_external_constraints_on_the_evse_and_on_the_station_cap() -> None:
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 16)])),
             (1, profile(2, Purpose.EXTERNAL_CONSTRAINTS, [(0, 12), (100, 20)])),
             (0, profile(3, Purpose.EXTERNAL_CONSTRAINTS, [(0, 14), (200, 8)]))]  # fmt: skip
    assert limits(compose(items)) == [(0, 12), (100, 14), (200, 8)]


def test_priority_charging_replaces_tx_only_while_active() -> None:
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 6)])),
             (1, profile(2, Purpose.PRIORITY_CHARGING, [(0, 16)], kind=Kind.RELATIVE,
                         start=None))]  # fmt: skip
    assert limits(compose(items)) == [(0, 6)]
    active = StationContext(evse_ids=(1,), priority_charging_evse_ids=frozenset({1}))
    assert limits(compose(items, context=active)) == [(0, 16)]


def test_local_generation_adds_to_the_station_maximum() -> None:
    items = [(0, profile(1, Purpose.STATION_MAX, [(0, 10)])),
             (0, profile(2, Purpose.LOCAL_GENERATION, [(0, 6), (100, 0)])),
             (1, profile(3, Purpose.TX_DEFAULT, [(0, 20)]))]  # fmt: skip
    assert limits(compose(items)) == [(0, 16), (100, 10)]


def test_valid_from_and_valid_to_bound_a_profile() -> None:
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 10)])),
             (1, profile(2, Purpose.TX_DEFAULT, [(0, 6)], stack=1, valid_from=at(100),
                         valid_to=at(200)))]  # fmt: skip
    assert limits(compose(items)) == [(0, 10), (100, 6), (200, 10)]


def test_evse_specific_beats_station_wide_at_the_same_stack_level() -> None:
    items = [(0, profile(1, Purpose.TX_DEFAULT, [(0, 10)])),
             (1, profile(2, Purpose.TX_DEFAULT, [(0, 6)]))]  # fmt: skip
    assert limits(compose(items)) == [(0, 6)]
    assert limits(compose(items, evse_id=2)) == [(0, 10)]


def test_weekly_recurrence_crosses_midnight() -> None:
    # Anchor: Sunday 2024-03-03 22:00; 6 A, 23:00 10 A, Monday 00:00 16 A, for 4 h.
    sunday = datetime(2024, 3, 3, 22, 0, tzinfo=UTC)
    weekly = profile(
        1,
        Purpose.TX_DEFAULT,
        [(0, 6), (3600, 10), (7200, 16)],
        start=sunday,
        duration=4 * 3600,
        kind=Kind.RECURRING,
        recurrency=Recurrency.WEEKLY,
    )
    next_week = sunday + timedelta(days=7, minutes=30)  # Sunday 2024-03-10 22:30
    got = compose([(1, weekly)], start=next_week, duration_s=4 * 3600, default_limit=D(32))
    assert limits(got) == [(0, 6), (1800, 10), (5400, 16), (12600, 32)]
    assert got.periods[-1].start_period_s < got.duration_s == 14400


def test_daily_recurrence_shorter_than_a_day_falls_to_the_lower_stack_level() -> None:
    evening = datetime(2024, 3, 1, 18, 0, tzinfo=UTC)
    base = profile(1, Purpose.TX_DEFAULT, [(0, 8)], start=evening - timedelta(days=1))
    daily = profile(
        2,
        Purpose.TX_DEFAULT,
        [(0, 16)],
        stack=1,
        start=evening,
        duration=3 * 3600,
        kind=Kind.RECURRING,
        recurrency=Recurrency.DAILY,
    )
    start = datetime(2024, 3, 4, 17, 0, tzinfo=UTC)
    got = compose([(1, base), (1, daily)], start=start, duration_s=5 * 3600)
    assert limits(got) == [(0, 8), (3600, 16), (4 * 3600, 8)]


def test_relative_profile_starts_at_the_transaction() -> None:
    ctx = NO_TX.with_transaction(1, Transaction("a", at(-300)))
    rel = profile(
        1, Purpose.TX, [(0, 6), (600, 16)], kind=Kind.RELATIVE, start=None, transaction_id="a"
    )
    assert limits(compose([(1, rel)], context=ctx, duration_s=900)) == [(0, 6), (300, 16)]


def test_relative_profile_without_transaction_starts_at_the_request() -> None:
    rel = profile(1, Purpose.TX_DEFAULT, [(0, 6), (600, 16)], kind=Kind.RELATIVE, start=None)
    assert limits(compose([(1, rel)], duration_s=900)) == [(0, 6), (600, 16)]


@pytest.mark.parametrize(
    ("limit", "unit", "phases", "asked", "expected", "expected_phases"),
    [
        (16, RateUnit.A, None, RateUnit.W, D(11040), None),  # 16 × 230 × 3
        (16, RateUnit.A, 1, RateUnit.W, D(3680), 1),  # 16 × 230 × 1
        (11000, RateUnit.W, None, RateUnit.A, D("15.9"), None),  # 15.942 rounded down
        (2000, RateUnit.W, 1, RateUnit.A, D("8.6"), 1),  # 8.695 rounded down
        (6900, RateUnit.W, 3, RateUnit.A, D(10), 3),
    ],
)
def test_unit_conversion(
    limit: int, unit: RateUnit, phases: int | None, asked: RateUnit, expected: Decimal,
    expected_phases: int | None,
) -> None:  # fmt: skip
    p = profile(1, Purpose.TX_DEFAULT, [(0, limit)], unit=unit, phases=phases)
    got = compose([(1, p)], unit=asked)
    assert limits(got) == [(0, expected)]
    assert got.periods[0].number_phases == expected_phases


def test_mixed_units_take_the_lower_after_conversion() -> None:
    items = [(0, profile(1, Purpose.STATION_MAX, [(0, 6900)], unit=RateUnit.W)),
             (1, profile(2, Purpose.TX_DEFAULT, [(0, 16), (100, 8)]))]  # fmt: skip
    assert limits(compose(items)) == [(0, 10), (100, 8)]
    assert limits(compose(items, unit=RateUnit.W)) == [(0, 6900), (100, 5520)]


def test_evse_zero_sums_the_evses_capped_by_the_station_maximum() -> None:
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 10)])),
             (2, profile(2, Purpose.TX_DEFAULT, [(0, 16)])),
             (0, profile(3, Purpose.STATION_MAX, [(0, 20)], start=at(100)))]  # fmt: skip
    assert limits(compose(items, evse_id=0, duration_s=200)) == [(0, 26), (100, 20)]
    assert limits(compose(items, evse_id=2, duration_s=200)) == [(0, 16)]


def test_evse_zero_without_a_limit_on_one_evse_is_unlimited() -> None:
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 10)]))]
    assert limits(compose(items, evse_id=0, default_limit=D(64))) == [(0, 64)]


def test_unknown_evse_is_refused() -> None:
    with pytest.raises(UnknownEvse):
        compose([], evse_id=7)


def _v21(pid: int, purpose: Purpose, **fields: object) -> ChargingProfile:
    limit = fields.pop("limit", None)
    return profile(pid, purpose, [(0, limit)], unit=RateUnit.W, **fields)  # type: ignore[arg-type]


def test_21_minimum_limit_least_negative_discharge_and_clamped_setpoint() -> None:
    items = [
        (0, _v21(1, Purpose.STATION_MAX, limit=7000, discharge_limit=D(-5000))),
        (1, _v21(2, Purpose.TX_DEFAULT, limit=11000, discharge_limit=D(-10000),
                 setpoint=D(-8000), operation_mode=OperationMode.CENTRAL_SETPOINT)),
    ]  # fmt: skip
    p = compose(items, unit=RateUnit.W).periods[0]
    assert (p.limit, p.discharge_limit, p.setpoint) == (7000, -5000, -5000)
    assert p.operation_mode is OperationMode.CENTRAL_SETPOINT


def test_21_charging_setpoint_is_clamped_to_the_limit() -> None:
    items = [
        (0, _v21(1, Purpose.STATION_MAX, limit=7000)),
        (1, _v21(2, Purpose.TX_DEFAULT, setpoint=D(9000),
                 operation_mode=OperationMode.CENTRAL_SETPOINT)),
    ]  # fmt: skip
    p = compose(items, unit=RateUnit.W).periods[0]
    assert (p.limit, p.setpoint, p.discharge_limit) == (7000, 7000, None)


def test_21_setpoint_within_limits_is_kept_and_converted() -> None:
    items = [(1, _v21(2, Purpose.TX_DEFAULT, limit=11040, setpoint=D(-6900),
                      discharge_limit=D(-11040),
                      operation_mode=OperationMode.CENTRAL_SETPOINT))]  # fmt: skip
    p = compose(items, unit=RateUnit.A).periods[0]
    assert (p.limit, p.setpoint, p.discharge_limit) == (16, -10, -16)


def test_21_per_phase_limits_take_the_minimum_per_phase() -> None:
    items = [
        (0, profile(1, Purpose.STATION_MAX, [(0, 16)])),
        (1, profile(2, Purpose.TX_DEFAULT, [(0, 20)], limit_l2=D(10), limit_l3=D(32))),
    ]  # fmt: skip
    p = compose(items).periods[0]
    assert (p.limit, p.limit_l2, p.limit_l3) == (16, 10, 16)


def test_periods_cover_exactly_the_duration_and_merge_equal_neighbours() -> None:
    items = [(1, profile(1, Purpose.TX_DEFAULT, [(0, 10), (100, 10), (200, 12)]))]
    got = compose(items, duration_s=150)
    assert limits(got) == [(0, 10)]
    assert got.duration_s == 150


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_relative_profile_clipped_by_its_validity() -> None:
    """Plugged in at 10:00, valid 12:00–20:00: nothing, then 6 A (the first hour has passed)."""
    rel = profile(
        1,
        Purpose.TX_DEFAULT,
        [(0, 32), (3600, 6)],
        kind=Kind.RELATIVE,
        start=None,
        valid_from=_utc("2024-01-01T12:00:00Z"),
        valid_to=_utc("2024-01-01T20:00:00Z"),
    )
    ctx = NO_TX.with_transaction(1, Transaction("a", _utc("2024-01-01T10:00:00Z")))
    got = compose(
        [(1, rel)],
        start=_utc("2024-01-01T10:00:00Z"),
        duration_s=12 * 3600,
        context=ctx,
        default_limit=D(0),
    )
    assert limits(got) == [(0, 0), (7200, 6), (36000, 0)]


def test_daily_recurrence_continues_the_previous_day_until_it_repeats() -> None:
    daily = profile(
        1,
        Purpose.TX_DEFAULT,
        [(0, 32), (3600, 6)],
        kind=Kind.RECURRING,
        recurrency=Recurrency.DAILY,
        start=_utc("2024-01-01T12:00:00Z"),
    )
    got = compose([(1, daily)], start=_utc("2024-01-10T11:50:00Z"), duration_s=1200)
    assert limits(got) == [(0, 6), (600, 32)]


def test_daily_recurrence_not_before_valid_from() -> None:
    daily = profile(
        1,
        Purpose.TX_DEFAULT,
        [(0, 32), (3600, 6)],
        kind=Kind.RECURRING,
        recurrency=Recurrency.DAILY,
        start=_utc("2024-01-01T12:00:00Z"),
        duration=18000,
        valid_from=_utc("2024-02-01T12:00:00Z"),
    )
    got = compose(
        [(1, daily)], start=_utc("2024-02-01T11:50:00Z"), duration_s=3600, default_limit=D(0)
    )
    assert limits(got) == [(0, 0), (600, 32)]
    later = compose(
        [(1, daily)], start=_utc("2024-02-10T11:50:00Z"), duration_s=3600, default_limit=D(0)
    )
    assert limits(later) == [(0, 0), (600, 32)]
