"""Helpers that drive a vehicle the way a station would, with ticks (no sleeping, no sockets)."""

from __future__ import annotations

from collections.abc import Callable

from simulators.iec61851 import current_to_duty
from simulators.vehicle import PilotLine, PilotOffer, Vehicle, VehicleReading

PAUSE: None = None


def offer(
    limit_a: float | None, *, phases: int = 3, line: PilotLine = PilotLine.NORMAL
) -> PilotOffer:
    """The pilot for a limit per phase (``None``: pause with a steady +12 V, duty 100 %)."""
    duty = 100.0 if limit_a is None else current_to_duty(limit_a)
    return PilotOffer(duty_percent=duty, energized_phases=phases, line=line)


def run(vehicle: Vehicle, seconds: float, *, dt_s: float = 1.0) -> VehicleReading:
    """Advance in ticks of ``dt_s`` for ``seconds``; the last reading."""
    reading = vehicle.reading()
    steps = round(seconds / dt_s)
    for _ in range(steps):
        reading = vehicle.advance(dt_s)
    return reading


def seconds_until(
    vehicle: Vehicle,
    condition: Callable[[VehicleReading], bool],
    *,
    within_s: float,
    hold_s: float = 0.0,
) -> float | None:
    """Seconds (1 s ticks) until ``condition`` holds on a reading and keeps holding for
    ``hold_s``; ``None`` if it does not start to hold within ``within_s``."""
    start = vehicle.now_s
    reading = vehicle.reading()
    since: float | None = None
    while True:
        if condition(reading):
            since = vehicle.now_s if since is None else since
            if vehicle.now_s - since >= hold_s:
                return since - start
        else:
            since = None
            if vehicle.now_s - start >= within_s:
                return None
        reading = vehicle.advance(1.0)


def draws_at(
    expected_a: float, *, phases: int, tolerance_a: float = 1.0
) -> Callable[[VehicleReading], bool]:
    """Condition: the first ``phases`` phases within tolerance of ``expected_a``, the rest 0."""

    def check(reading: VehicleReading) -> bool:
        active = reading.current_a[:phases]
        idle = reading.current_a[phases:]
        return all(abs(c - expected_a) <= tolerance_a for c in active) and all(c == 0 for c in idle)

    return check


def drawing(reading: VehicleReading) -> bool:
    """Condition: at least 5 A imported on some phase (VP-03/VP-04 threshold)."""
    return reading.max_phase_current_a >= 5.0


def interrupt(vehicle: Vehicle, *, seconds: float, then: PilotOffer) -> None:
    """Hold the pilot in state F for ``seconds`` (a wake-up), then offer ``then``."""
    vehicle.set_pilot(PilotOffer(line=PilotLine.F))
    run(vehicle, seconds)
    vehicle.set_pilot(then)
