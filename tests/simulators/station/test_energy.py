"""Metering does not depend on the step size: a six-hour session, coarse and fine."""

from __future__ import annotations

import pytest

from simulators.station import TransactionEnded
from simulators.station.smartcharging import Purpose
from tests.simulators.station.helpers import Session, profile

SIX_HOURS_S = 6 * 3600


def six_hour_session(dt_s: float) -> tuple[float, float]:
    """(energy metered by the station, energy the vehicle drew) over six hours in ``dt_s`` steps.

    The TxProfile changes the limit at instants that are not multiples of the coarse step,
    pauses for 40 minutes and resumes, so the coarse run sees every change late.
    """
    s = Session.start(archetype="bev_3ph_16a", soc_percent=10.0)
    steps = [(0, 16), (3630, 10), (7255, 0), (9650, 13), (14421, 7), (18007, 16)]
    s.core.set_charging_profile(
        1, profile(10, Purpose.TX, steps, transaction_id=s.tx.transaction_id), now=s.now
    )
    s.run(SIX_HOURS_S, dt_s=dt_s)
    ended = s.core.stop_transaction(1, now=s.now)
    assert isinstance(ended, TransactionEnded)
    return ended.energy_wh, s.car.reading().energy_imported_wh


def test_coarse_and_fine_steps_meter_the_same_energy_within_1_percent() -> None:
    fine, fine_vehicle = six_hour_session(1.0)
    coarse, coarse_vehicle = six_hour_session(60.0)
    assert fine == pytest.approx(fine_vehicle)  # the meter follows the vehicle's counters
    assert coarse == pytest.approx(coarse_vehicle)
    assert fine > 30_000  # a real session: tens of kWh
    assert coarse == pytest.approx(fine, rel=0.01)
