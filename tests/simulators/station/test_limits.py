"""The limit the station applies at every instant: the oracle's, converted for the pilot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import smartcharging as judge
from harness.smartcharging import ProfileStore
from simulators.station import StationConfig, StationCore, StationTransaction
from simulators.station.limits import share
from simulators.station.smartcharging import Accepted, ChargingProfile, Purpose, RateUnit
from tests.simulators.station.helpers import (
    T0,
    Session,
    as_oracle,
    at,
    oracle_context,
    profile,
    tx_profile,
)


def tc066_like(core: StationCore, tx: StationTransaction) -> list[tuple[int, object]]:
    """The OCA TC_066 data (station max, TxDefault, TxProfile), starting 4 s before T0."""
    s = at(-4)
    return [
        (0, profile(1, Purpose.STATION_MAX, [(0, 10)], start=s, duration=86404)),
        (1, profile(2, Purpose.TX_DEFAULT, [(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)],
                    start=s, duration=304)),
        (1, profile(3, Purpose.TX, [(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)],
                    start=s, duration=264, transaction_id=tx.transaction_id)),
    ]  # fmt: skip


@pytest.mark.parametrize("delay_s", [0, 1, 3])
def test_applied_limit_is_the_oracles_at_every_instant(delay_s: int) -> None:
    core = StationCore(StationConfig(apply_delay_s=delay_s), now=T0)
    core.plug_in(1, T0)
    tx = core.start_transaction(1, id_token="A", now=T0)
    assert isinstance(tx, StationTransaction)
    oracle = ProfileStore(core.config.ocpp_version)
    for evse, p in tc066_like(core, tx):
        assert isinstance(core.set_charging_profile(evse, p, now=T0), Accepted)
        assert isinstance(oracle.install(evse, as_oracle(p), oracle_context(core)), judge.Accepted)
    seen = []
    for second in range(1, 400):
        core.tick(at(second))
        limit = core.applied_limit(1)
        assert limit is not None
        if second < delay_s:  # the profiles set at T0 reach the pilot at T0 + delay
            assert limit.limit_a == 32.0
            continue
        expected = oracle.limit_at(evse_id=1, at=at(second - delay_s), context=oracle_context(core))
        assert expected.current_a is not None
        assert limit.limit_a == pytest.approx(min(32.0, float(expected.current_a))), second
        seen.append(limit.limit_a)
    assert set(seen) == {6.0, 8.0, 10.0}  # the schedule really moved


def test_w_profile_converts_with_voltage_and_phases() -> None:
    s = Session.start(archetype="bev_3ph_32a")
    s.core.set_charging_profile(1, tx_profile(s.tx, 11040, unit=RateUnit.W), now=s.now)
    s.run(30)
    assert s.core.applied_limit(1).limit_a == pytest.approx(16.0)  # type: ignore[union-attr]
    assert s.current_a() == pytest.approx((16.0, 16.0, 16.0))
    assert s.core.meter(1).power_import_w == pytest.approx(11040.0)


def test_number_phases_1_energizes_one_phase_when_the_station_can_switch() -> None:
    s = Session.start(StationConfig(phase_switching=True), archetype="bev_3ph_32a")
    s.run(20)
    assert s.current_a() == pytest.approx((32.0, 32.0, 32.0))
    s.core.set_charging_profile(1, tx_profile(s.tx, 7360, unit=RateUnit.W, phases=1), now=s.now)
    s.run(30)
    assert s.core.pilot_offer(1).energized_phases == 1
    assert s.current_a() == pytest.approx((32.0, 0.0, 0.0))
    assert s.core.meter(1).phases_in_use == 1
    assert s.core.meter(1).power_import_w == pytest.approx(7360.0)


def test_without_phase_switching_a_w_limit_is_shared_over_three_phases() -> None:
    s = Session.start(StationConfig(phase_switching=False), archetype="bev_3ph_32a")
    s.core.set_charging_profile(1, tx_profile(s.tx, 7360, unit=RateUnit.W, phases=1), now=s.now)
    s.run(30)
    assert s.core.pilot_offer(1).energized_phases == 3
    assert s.current_a() == pytest.approx((7360 / 690,) * 3)
    assert s.core.meter(1).power_import_w == pytest.approx(7360.0)


def test_below_6_a_pauses() -> None:
    s = Session.start()
    s.core.set_charging_profile(1, tx_profile(s.tx, 5.9), now=s.now)
    s.run(20)
    assert s.core.pilot_offer(1).duty_percent == 100.0
    assert s.current_a() == (0.0, 0.0, 0.0)


def test_station_maximum_is_shared_between_evses() -> None:
    config = StationConfig(evse_count=2, station_max_current_a=40)
    core = StationCore(config, now=T0)
    for evse in (1, 2):
        core.plug_in(evse, T0)
    core.start_transaction(1, id_token="A", now=T0)
    assert core.applied_limit(1).limit_a == 32.0  # type: ignore[union-attr]
    tx2 = core.start_transaction(2, id_token="B", now=T0)
    assert isinstance(tx2, StationTransaction)
    core.tick(at(2))
    assert [core.applied_limit(e).limit_a for e in (1, 2)] == [20.0, 20.0]  # type: ignore[union-attr]
    core.set_charging_profile(2, tx_profile(tx2, 10), now=at(3))
    core.tick(at(5))
    assert [core.applied_limit(e).limit_a for e in (1, 2)] == [30.0, 10.0]  # type: ignore[union-attr]


def test_station_max_profile_caps_the_sum_of_evses() -> None:
    core = StationCore(StationConfig(evse_count=2), now=T0)
    for evse in (1, 2):
        core.plug_in(evse, T0)
        core.start_transaction(evse, id_token="A", now=T0)
    cap = profile(1, Purpose.STATION_MAX, [(0, 24)], start=T0)
    assert isinstance(core.set_charging_profile(0, cap, now=T0), Accepted)
    core.tick(T0 + timedelta(seconds=2))
    assert [core.applied_limit(e).limit_a for e in (1, 2)] == [12.0, 12.0]  # type: ignore[union-attr]


@given(
    asks=st.dictionaries(st.integers(1, 6), st.floats(0, 80), min_size=1, max_size=6),
    total=st.floats(0, 200),
)
def test_share_never_exceeds_asks_or_total_and_wastes_nothing(
    asks: dict[int, float], total: float
) -> None:
    got = share(asks, total)
    assert set(got) == set(asks)
    assert all(0 <= got[e] <= asks[e] + 1e-9 for e in asks)
    assert sum(got.values()) <= total + 1e-6
    if sum(asks.values()) <= total:
        assert got == pytest.approx(asks)
    else:
        assert sum(got.values()) == pytest.approx(total)


_periods = st.lists(
    st.tuples(st.integers(1, 600), st.sampled_from([0, 4, 6, 7.5, 10, 13, 16, 20, 40])),
    min_size=1,
    max_size=4,
)


@st.composite
def _profiles(draw: st.DrawFn) -> list[tuple[int, ChargingProfile]]:
    """A few profiles of every kind that limits an EVSE with a transaction."""
    out: list[tuple[int, ChargingProfile]] = []
    specs = [
        (0, Purpose.STATION_MAX, False),
        (1, Purpose.TX_DEFAULT, False),
        (1, Purpose.TX_DEFAULT, True),
        (1, Purpose.TX, True),
    ]
    for pid, (evse, purpose, relative) in enumerate(specs, start=1):
        if not draw(st.booleans()):
            continue
        steps = draw(_periods)
        starts = [0, *sorted({s for s, _ in steps[1:]})]
        rows = list(zip(starts, [v for _, v in steps], strict=False))
        start = None if relative else at(draw(st.integers(-300, 300)))
        duration = draw(st.none() | st.integers(60, 900))
        unit = draw(st.sampled_from([RateUnit.A, RateUnit.W]))
        scale = 690 if unit is RateUnit.W else 1
        out.append((evse, profile(
            pid, purpose, [(s, v * scale) for s, v in rows], unit=unit, start=start,
            duration=duration, stack=pid, transaction_id="1" if purpose is Purpose.TX else None,
        )))  # fmt: skip
    return out


@settings(max_examples=40, deadline=None)
@given(installed=_profiles(), gaps=st.lists(st.integers(1, 120), min_size=5, max_size=25))
def test_cached_targets_never_differ_from_the_oracle(
    installed: list[tuple[int, ChargingProfile]], gaps: list[int]
) -> None:
    """The core reuses the oracle's limit until the next profile boundary: at every tick the
    limit it applies (no apply delay) is the oracle's, whatever the tick times."""
    core = StationCore(StationConfig(apply_delay_s=0), now=at(-400))
    core.plug_in(1, at(-400))
    tx = core.start_transaction(1, id_token="A", now=at(-400))
    assert isinstance(tx, StationTransaction)
    assert tx.transaction_id == "1"
    oracle = ProfileStore(core.config.ocpp_version)
    for evse, p in installed:
        if isinstance(oracle.install(evse, as_oracle(p), oracle_context(core)), judge.Accepted):
            assert isinstance(core.set_charging_profile(evse, p, now=at(-400)), Accepted)
    t = -400
    for gap in gaps:
        t += gap
        core.tick(at(t))
        exact = oracle.limit_at(evse_id=1, at=at(t), context=oracle_context(core)).current_a
        expected = 32.0 if exact is None else min(32.0, float(exact))
        limit = core.applied_limit(1)
        assert limit is not None
        assert limit.limit_a == pytest.approx(expected), t


def test_positive_21_setpoint_caps_the_charging_current() -> None:
    from decimal import Decimal

    from harness.versions import OcppVersion
    from simulators.station.smartcharging import OperationMode

    s = Session.start(StationConfig(ocpp_version=OcppVersion.V21), archetype="bev_3ph_32a")
    setpoint = profile(
        10, Purpose.TX, [(0, 11040)], unit=RateUnit.W, transaction_id=s.tx.transaction_id,
        operation_mode=OperationMode.CENTRAL_SETPOINT, setpoint=Decimal(6900),
    )  # fmt: skip
    assert isinstance(s.core.set_charging_profile(1, setpoint, now=s.now), Accepted)
    s.run(30)
    assert s.core.discharge_request(1) == 0.0
    assert s.current_a() == pytest.approx((10.0,) * 3)
