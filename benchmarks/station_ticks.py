"""How fast the station core runs a session with a vehicle, and what coarse ticks change.

A six-hour session on one EVSE (TxProfile changing every 45 min 7 s, with pauses), stepped the
way a simulation loop does (tick, pilot to the vehicle, reading back) with 1 s, 10 s and 60 s
ticks. Baseline side by side: the vehicle alone driven with the same pilot plan. Repeats
three times; prints median wall time, simulated seconds per wall second, the core's share
of the time, and the metered energy's deviation from 1 s ticks.

    python benchmarks/station_ticks.py
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout first

from simulators.iec61851 import current_to_duty
from simulators.station import StationConfig, StationCore, StationTransaction
from simulators.station.smartcharging.model import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    RateUnit,
)
from simulators.station.smartcharging.model import SchedulePeriod as P
from simulators.vehicle import PilotOffer, Vehicle, load_catalogue

T0 = datetime(2024, 3, 4, 12, tzinfo=UTC)
PLAN = [32.0, 8.0, 0.0, 16.0, 6.0, 12.0, 0.0, 32.0]  # A per phase, 45 min each
STEP_S = 45 * 60 + 7  # not a multiple of the coarse ticks: changes are seen late
SESSION_S = STEP_S * len(PLAN)
REPEATS = 3


def with_core(tick_s: float) -> tuple[float, float]:
    """(wall seconds, metered Wh) of a session through the station core."""
    params = load_catalogue().get("bev_3ph_32a").vehicle_params()
    car = Vehicle(params, soc_percent=5.0)
    core = StationCore(StationConfig(), now=T0)
    core.plug_in(1, T0)
    car.plug_in()
    core.on_vehicle_reading(1, car.reading())
    tx = core.start_transaction(1, id_token="B", now=T0)
    assert isinstance(tx, StationTransaction)
    periods = tuple(P(k * STEP_S, Decimal(str(a))) for k, a in enumerate(PLAN))
    schedule = ChargingSchedule(unit=RateUnit.A, periods=periods)
    profile = ChargingProfile(
        1, 0, Purpose.TX, Kind.RELATIVE, (schedule,), transaction_id=tx.transaction_id
    )
    core.set_charging_profile(1, profile, now=T0)
    began = time.perf_counter()
    t = 0.0
    while t < SESSION_S:
        core.tick(T0 + timedelta(seconds=t))
        car.set_pilot(core.pilot_offer(1))
        core.on_vehicle_reading(1, car.advance(tick_s))
        t += tick_s
    wall = time.perf_counter() - began
    return wall, core.meter(1).energy_import_wh


def vehicle_alone(tick_s: float) -> float:
    """Wall seconds of the same pilot plan driven straight into the vehicle."""
    car = Vehicle(load_catalogue().get("bev_3ph_32a").vehicle_params(), soc_percent=5.0)
    car.plug_in()
    began = time.perf_counter()
    t = 0.0
    while t < SESSION_S:
        limit = PLAN[int(t // STEP_S)]
        duty = 100.0 if limit < 6 else current_to_duty(limit)
        car.set_pilot(PilotOffer(duty_percent=duty))
        car.advance(tick_s)
        t += tick_s
    return time.perf_counter() - began


def main() -> None:
    header = ("tick", "wall ms", "sim s/s", "vehicle ms", "core share", "energy Wh", "Δ vs 1 s")
    print("{:>6}{:>10}{:>12}{:>12}{:>12}{:>12}{:>10}".format(*header))
    reference: float | None = None
    for tick_s in (1.0, 10.0, 60.0):
        runs = [with_core(tick_s) for _ in range(REPEATS)]
        wall = statistics.median(r[0] for r in runs)
        energy = runs[0][1]
        alone = statistics.median(vehicle_alone(tick_s) for _ in range(REPEATS))
        reference = energy if reference is None else reference
        share = (wall - alone) / wall if wall > 0 else 0.0
        print(
            f"{tick_s:>5.0f}s{wall * 1000:>10.0f}{SESSION_S / wall:>12.0f}{alone * 1000:>12.0f}"
            f"{share:>11.0%}{energy:>12.0f}{(energy - reference) / reference:>+10.3%}"
        )


if __name__ == "__main__":
    main()
