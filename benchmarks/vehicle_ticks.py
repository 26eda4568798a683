"""How fast the simulated vehicle runs, and how much coarse ticks change its energy.

Runs a 6-hour session (limit changes and a pause every 45 min) for every catalogue archetype
with ticks of 1 s (the baseline), 10 s and 60 s; repeats each three times and prints the
median wall time, simulated seconds per wall second, and the energy deviation from 1 s ticks.

    python benchmarks/vehicle_ticks.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout first

from simulators.iec61851 import current_to_duty
from simulators.vehicle import PilotOffer, Vehicle, load_catalogue

PLAN = [32.0, 8.0, None, 16.0, 6.0, 12.0, None, 32.0]  # A per phase, 45 min each
STEP_S = 45 * 60.0
REPEATS = 3


def session(vehicle: Vehicle, tick_s: float) -> float:
    vehicle.plug_in()
    for limit in PLAN:
        duty = 100.0 if limit is None else current_to_duty(limit)
        vehicle.set_pilot(PilotOffer(duty_percent=duty))
        end = vehicle.now_s + STEP_S
        while vehicle.now_s < end:
            vehicle.step(min(vehicle.now_s + tick_s, end))
    return vehicle.reading().energy_imported_wh


def main() -> None:
    catalogue = load_catalogue()
    header = ("archetype", "tick", "wall ms", "sim s/s", "energy Wh", "Δ vs 1 s")
    print("{:<26}{:>6}{:>10}{:>12}{:>12}{:>10}".format(*header))
    for name in catalogue.names():
        params = catalogue.get(name).params
        baseline: float | None = None
        for tick_s in (1.0, 10.0, 60.0):
            walls = []
            energy = 0.0
            for _ in range(REPEATS):
                vehicle = Vehicle(params, soc_percent=20.0, rng=random.Random(0))
                started = time.perf_counter()
                energy = session(vehicle, tick_s)
                walls.append(time.perf_counter() - started)
            wall = statistics.median(walls)
            baseline = energy if baseline is None else baseline
            deviation = 0.0 if baseline == 0 else (energy - baseline) / baseline
            simulated = STEP_S * len(PLAN)
            print(
                f"{name:<26}{tick_s:>6.0f}{wall * 1000:>10.1f}{simulated / wall:>12.0f}"
                f"{energy:>12.1f}{deviation:>10.3%}"
            )


if __name__ == "__main__":
    main()
