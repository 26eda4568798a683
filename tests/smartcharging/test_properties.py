"""Algebra of the composite schedule, checked over random profile sets (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.smartcharging import (
    ChargingProfile,
    CompositeSchedule,
    InstalledProfile,
    ProfileStore,
    Purpose,
    RateUnit,
    StationContext,
    Transaction,
    composite_schedule,
    convert,
)
from harness.smartcharging.units import round_toward_zero
from harness.versions import OcppVersion
from tests.smartcharging.helpers import at, profile

D = Decimal
CTX = StationContext(evse_ids=(1, 2), transactions=((1, Transaction("t", at(-30))),))
limits_a = st.integers(min_value=0, max_value=640).map(lambda x: D(x) / 10)


@st.composite
def periods(draw: st.DrawFn) -> list[tuple[int, Decimal]]:
    starts = draw(st.lists(st.integers(1, 500), max_size=4, unique=True))
    return [(s, draw(limits_a)) for s in [0, *sorted(starts)]]


@st.composite
def a_profile(draw: st.DrawFn, pid: int, purpose: Purpose) -> ChargingProfile:
    unit = draw(st.sampled_from(list(RateUnit)))
    rows = draw(periods())
    if unit is RateUnit.W:
        rows = [(s, v * 690) for s, v in rows]
    return profile(
        pid, purpose, rows, unit=unit,  # type: ignore[arg-type]
        stack=draw(st.integers(0, 3)) if purpose is not Purpose.STATION_MAX else 0,
        start=at(draw(st.integers(-300, 300))),
        duration=draw(st.none() | st.integers(1, 700)),
        phases=draw(st.none() | st.integers(1, 3)),
        transaction_id="t" if purpose is Purpose.TX else None,
    )  # fmt: skip


@st.composite
def profile_sets(draw: st.DrawFn) -> list[InstalledProfile]:
    items: list[InstalledProfile] = []
    pid = 0
    for purpose, evses, count in (
        (Purpose.STATION_MAX, (0,), draw(st.integers(0, 1))),
        (Purpose.EXTERNAL_CONSTRAINTS, (0, 1), draw(st.integers(0, 1))),
        (Purpose.TX_DEFAULT, (0, 1, 2), draw(st.integers(0, 3))),
        (Purpose.TX, (1,), draw(st.integers(0, 2))),
    ):
        for _ in range(count):
            pid += 1
            evse = draw(st.sampled_from(evses))
            items.append(InstalledProfile(evse, draw(a_profile(pid, purpose))))
    return items


def compose(
    items: list[InstalledProfile], *, evse_id: int, duration_s: int, unit: RateUnit
) -> CompositeSchedule:
    return composite_schedule(items, evse_id=evse_id, start=at(0), duration_s=duration_s,
                              unit=unit, context=CTX, default_limit=D(80))  # fmt: skip


def cap_at(item: InstalledProfile, t_s: int) -> tuple[Decimal, RateUnit] | None:
    """The cap's own limit and unit at t (an independent, naive reading)."""
    p = item.profile
    schedule = p.schedule
    assert schedule.start_schedule is not None
    offset = t_s - int((schedule.start_schedule - at(0)).total_seconds())
    if offset < 0 or (schedule.duration_s is not None and offset >= schedule.duration_s):
        return None
    period = [x for x in schedule.periods if x.start_period_s <= offset][-1]
    assert period.limit is not None
    return period.limit, schedule.unit


settings_ = settings(max_examples=75, deadline=None)
evse_ids = st.sampled_from([0, 1, 2])
durations = st.integers(1, 800)


@settings_
@given(profile_sets(), evse_ids, durations)
def test_never_above_an_applicable_maximum(
    items: list[InstalledProfile], evse_id: int, duration_s: int
) -> None:
    """An A cap bounds the current of each phase, a W cap the power (rule 7): the answer in
    the cap's unit never exceeds it."""
    got = {u: compose(items, evse_id=evse_id, duration_s=duration_s, unit=u) for u in RateUnit}
    caps = [
        i for i in items
        if i.profile.purpose is Purpose.STATION_MAX
        or (i.profile.purpose is Purpose.EXTERNAL_CONSTRAINTS and i.evse_id in (0, evse_id))
    ]  # fmt: skip
    for t_s in range(0, duration_s, 7):
        for cap in caps:
            reading = cap_at(cap, t_s)
            # At EVSE 0 an EVSE's own external constraint caps only that EVSE's share.
            evse_share = evse_id == 0 and cap.evse_id != 0
            if reading is not None and not evse_share:
                limit, unit = reading
                period = got[unit].period_at(at(t_s))
                assert period.limit is not None
                assert period.limit <= limit, (t_s, period, cap)


@settings(max_examples=150, deadline=None)
@given(profile_sets(), evse_ids, durations, st.randoms(use_true_random=False))
def test_installation_order_does_not_matter(
    items: list[InstalledProfile], evse_id: int, duration_s: int, rnd: Random
) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    for unit in RateUnit:
        reference = compose(items, evse_id=evse_id, duration_s=duration_s, unit=unit)
        for other in (shuffled, items[::-1]):
            assert compose(other, evse_id=evse_id, duration_s=duration_s, unit=unit) == reference


@settings_
@given(profile_sets(), evse_ids, durations, st.sampled_from(list(RateUnit)))
def test_periods_cover_the_duration_and_neighbours_differ(
    items: list[InstalledProfile], evse_id: int, duration_s: int, unit: RateUnit
) -> None:
    got = compose(items, evse_id=evse_id, duration_s=duration_s, unit=unit)
    starts = [p.start_period_s for p in got.periods]
    assert got.duration_s == duration_s
    assert starts[0] == 0
    assert starts == sorted(set(starts))
    assert starts[-1] < duration_s
    for a, b in zip(got.periods, got.periods[1:], strict=False):
        assert replace(a, start_period_s=0) != replace(b, start_period_s=0)
    for p in got.periods:
        assert p.limit is not None
        assert p.limit == round_toward_zero(p.limit, D("0.1"))


@settings_
@given(limits_a, st.integers(1, 3))
def test_a_to_w_to_a_round_trips(limit: Decimal, phases: int) -> None:
    watts = convert(limit, from_unit=RateUnit.A, to_unit=RateUnit.W, number_phases=phases)
    back = convert(watts, from_unit=RateUnit.W, to_unit=RateUnit.A, number_phases=phases)
    assert abs(back - limit) < D("1e-20")
    reported = round_toward_zero(
        convert(round_toward_zero(watts, D("0.1")), from_unit=RateUnit.W, to_unit=RateUnit.A,
                number_phases=phases),
        D("0.1"),
    )  # fmt: skip
    assert limit - D("0.1") <= reported <= limit


@settings_
@given(profile_sets(), durations)
def test_watt_and_ampere_composites_agree_within_precision(
    items: list[InstalledProfile], duration_s: int
) -> None:
    """With every profile on three phases, the W composite is the A one × 690 (to 0.1 A)."""
    three = [
        replace(i, profile=replace(i.profile, schedules=(replace(
            i.profile.schedule,
            periods=tuple(replace(p, number_phases=None) for p in i.profile.schedule.periods),
        ),)))
        for i in items
    ]  # fmt: skip
    in_a = compose(three, evse_id=1, duration_s=duration_s, unit=RateUnit.A)
    in_w = compose(three, evse_id=1, duration_s=duration_s, unit=RateUnit.W)
    for t_s in range(0, duration_s, 11):
        a = in_a.period_at(at(t_s)).limit
        w = in_w.period_at(at(t_s)).limit
        assert a is not None
        assert w is not None
        if w == 80:  # the default limit is the same number in either unit
            continue
        assert abs(w / 690 - a) < D("0.1")


@settings(max_examples=60, deadline=None)
@given(profile_sets(), evse_ids, st.lists(st.integers(0, 799), min_size=1, max_size=8))
def test_limit_at_never_exceeds_the_composite_in_either_unit(
    items: list[InstalledProfile], evse_id: int, instants: list[int]
) -> None:
    store = ProfileStore(OcppVersion.V16)
    for item in items:
        store.install(item.evse_id, item.profile, CTX, from_csms=False)
    exact = {
        unit: composite_schedule(store.installed, evse_id=evse_id, start=at(0), duration_s=800,
                                 unit=unit, context=CTX, precision=None)
        for unit in RateUnit
    }  # fmt: skip
    for t_s in sorted(instants):
        limit = store.limit_at(evse_id=evse_id, at=at(t_s), context=CTX)
        amps = exact[RateUnit.A].period_at(at(t_s)).limit
        watts = exact[RateUnit.W].period_at(at(t_s)).limit
        if amps is None:
            assert watts is None
            assert limit.current_a is None
            continue
        assert limit.current_a is not None
        assert limit.power_w is not None
        assert limit.current_a <= amps
        assert watts is not None
        assert limit.power_w <= watts
        assert limit.current_a >= min(amps, watts / (230 * limit.number_phases)) - D("0.001")


@settings_
@given(profile_sets(), st.sampled_from([1, 2]), durations)
def test_the_a_and_the_w_answer_describe_the_same_state(
    items: list[InstalledProfile], evse_id: int, duration_s: int
) -> None:
    """Rule 7: for one EVSE, the W answer is the A answer × voltage × its numberPhases (3
    when absent), period by period, with the same numberPhases (issue #15: the A answer used
    to contradict the W answer under a cap with fewer phases)."""

    def exact(unit: RateUnit) -> CompositeSchedule:
        return composite_schedule(items, evse_id=evse_id, start=at(0), duration_s=duration_s,
                                  unit=unit, context=CTX, precision=None)  # fmt: skip

    in_a, in_w = exact(RateUnit.A), exact(RateUnit.W)
    assert [p.start_period_s for p in in_a.periods] == [p.start_period_s for p in in_w.periods]
    for a, w in zip(in_a.periods, in_w.periods, strict=True):
        assert a.number_phases == w.number_phases
        assert (a.limit is None) == (w.limit is None), (a, w)
        if a.limit is None or w.limit is None:
            continue
        as_w = a.limit * 230 * (a.number_phases or 3)
        assert abs(as_w - w.limit) <= D("1e-6") * max(D(1), w.limit), (a, w)
