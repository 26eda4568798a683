"""Coarse steps while a vehicle is quiescent give the same readings as 1 s steps.

The station steps a quiescent vehicle (idle, no pilot change pending) only at its own
deadlines; that is only right if nothing observable happens in between, and if sending the
same pilot again is a no-op.
"""

from __future__ import annotations

import math
import random

import pytest

from simulators.vehicle import PilotOffer, Vehicle, VehicleReading, load_catalogue
from tests.simulators.vehicle.drive import offer

CATALOGUE = load_catalogue()
# (seconds from the start, pilot): charge, a 40-minute pause (longer than any archetype's
# sleep_after_pause_s), resume, then a 5-minute pause, resume at a lower limit
PLAN: list[tuple[float, PilotOffer]] = [
    (0.0, offer(16.0)),
    (300.0, offer(None)),
    (2700.0, offer(16.0)),
    (3000.0, offer(None)),
    (3300.0, offer(10.0)),
]
END_S = 3600.0


def _vehicle(name: str) -> Vehicle:
    vehicle = Vehicle(CATALOGUE.get(name).params, rng=random.Random(7))
    vehicle.plug_in()
    return vehicle


def _fine(name: str) -> list[VehicleReading]:
    """1 s steps, the pilot set again at every step (as a station does)."""
    vehicle, readings, plan = _vehicle(name), [], list(PLAN)
    current = plan[0][1]
    for t in range(int(END_S) + 1):
        while plan and plan[0][0] <= t:
            current = plan.pop(0)[1]
        readings.append(vehicle.step(float(t)))
        vehicle.set_pilot(current)
    return readings


def _coarse(name: str) -> dict[float, VehicleReading]:
    """Steps as long as ``steady_s`` allows (whole seconds, at most 60 s, never past the next
    pilot change); 1 s steps when it is shorter."""
    vehicle, readings, plan = _vehicle(name), {}, list(PLAN)
    t = 0.0
    while t <= END_S:
        readings[t] = vehicle.step(t)
        while plan and plan[0][0] <= t:
            vehicle.set_pilot(plan.pop(0)[1])
        step = max(1.0, math.floor(min(60.0, vehicle.steady_s)))
        t = min(plan[0][0] if plan else END_S + 1, t + step)
    return readings


@pytest.mark.parametrize("name", CATALOGUE.names())
def test_coarse_steps_while_quiescent_match_fine_steps(name: str) -> None:
    fine = _fine(name)
    coarse = _coarse(name)
    assert len(coarse) < len(fine) / 2  # the pauses were skipped
    for t, reading in coarse.items():
        expected = fine[int(t)]
        assert reading.current_a == pytest.approx(expected.current_a), t
        assert reading.pilot_state is expected.pilot_state, t
        assert reading.energy_imported_wh == pytest.approx(expected.energy_imported_wh), t
        assert reading.awake == expected.awake, t


def test_idle_vehicle_is_quiescent_and_a_pending_pilot_is_not() -> None:
    vehicle = _vehicle("bev_3ph_16a")
    vehicle.set_pilot(offer(16.0))
    assert not vehicle.quiescent  # perceived only after the response delay
    vehicle.advance(30.0)
    assert not vehicle.quiescent  # drawing
    vehicle.set_pilot(offer(None))
    vehicle.advance(60.0)
    assert vehicle.quiescent
    vehicle.set_pilot(offer(None))  # the same pilot again: nothing new
    assert vehicle.quiescent


def test_steady_while_drawing_lasts_until_the_taper_or_full_battery() -> None:
    base = CATALOGUE.get("bev_3ph_16a").params
    vehicle = Vehicle(base, soc_percent=50.0)
    vehicle.plug_in()
    vehicle.set_pilot(offer(16.0))
    assert vehicle.steady_s == pytest.approx(base.response_delay_s)  # until perceived
    vehicle.advance(60.0)
    assert vehicle.reading().current_a[0] == pytest.approx(16.0)
    steady = vehicle.steady_s
    assert 0 < steady < float("inf")
    vehicle.advance(steady - 1.0)
    assert vehicle.reading().current_a[0] == pytest.approx(16.0)  # still the same current
    vehicle.advance(600.0)
    assert vehicle.reading().current_a[0] < 16.0  # the taper (or a full battery) lowered it
