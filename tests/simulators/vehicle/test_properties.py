"""Properties of the vehicle model over random pilot plans and tick sizes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.vehicle import Vehicle, VehicleParams, VehicleReading
from tests.simulators.vehicle.drive import offer

PARAMS = [
    VehicleParams(phases=3, max_current_a=16.0),
    VehicleParams(phases=1, max_current_a=32.0, battery_capacity_wh=10_000.0),
    VehicleParams(phases=3, max_current_a=32.0, response_delay_s=5.0, ramp_up_a_per_s=0.25),
    VehicleParams(phases=3, min_start_current_a=7.2, sleep_after_pause_s=900.0),
]

plans = st.lists(
    st.tuples(
        st.one_of(st.none(), st.floats(min_value=6.0, max_value=40.0)),
        st.sampled_from([1, 3]),
        st.integers(min_value=1, max_value=20).map(lambda minutes: minutes * 60.0),
    ),
    min_size=1,
    max_size=5,
)

Plan = list[tuple[float | None, int, float]]


def _replay(params: VehicleParams, plan: Plan, tick_s: float) -> list[VehicleReading]:
    """Apply each step of the plan at its start time, ticking ``tick_s`` in between."""
    vehicle = Vehicle(params, soc_percent=50.0)
    vehicle.plug_in()
    readings = []
    end = 0.0
    for limit, phases, duration in plan:
        vehicle.set_pilot(offer(limit, phases=phases))
        end += duration
        while vehicle.now_s < end:
            readings.append(vehicle.step(min(vehicle.now_s + tick_s, end)))
    return readings


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(PARAMS),
    plans,
    st.floats(min_value=2.0, max_value=900.0),
)
def test_tick_size_does_not_change_the_outcome(
    params: VehicleParams, plan: Plan, coarse_s: float
) -> None:
    fine = _replay(params, plan, 5.0)[-1]
    coarse = _replay(params, plan, coarse_s)[-1]
    assert abs(coarse.energy_imported_wh - fine.energy_imported_wh) <= max(
        1.0, 0.01 * fine.energy_imported_wh
    )
    assert abs(coarse.soc_percent - fine.soc_percent) <= 0.05
    assert coarse.awake == fine.awake
    assert coarse.idle_reason == fine.idle_reason
    assert (
        coarse.current_a == fine.current_a
        or max(abs(a - b) for a, b in zip(coarse.current_a, fine.current_a, strict=True)) <= 0.1
    )


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(PARAMS), plans, st.floats(min_value=5.0, max_value=600.0))
def test_readings_stay_physical(params: VehicleParams, plan: Plan, tick_s: float) -> None:
    previous: VehicleReading | None = None
    for reading in _replay(params, plan, tick_s):
        assert 0.0 <= reading.soc_percent <= 100.0
        assert all(0.0 <= c <= params.max_current_a + 1e-9 for c in reading.current_a)
        assert sum(1 for c in reading.current_a if c) <= params.phases
        assert reading.power_w == pytest.approx(sum(reading.current_a) * params.voltage_v)
        if previous is not None:
            assert reading.energy_imported_wh >= previous.energy_imported_wh
            assert reading.time_s > previous.time_s
        previous = reading
