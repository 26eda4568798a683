"""Helpers for the pilot-link tests: vehicles from the catalogue, bounded waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from harness.clock import Clock
from simulators.iec61851 import current_to_duty
from simulators.pilot import StationEnd, VehicleEnd, run_vehicle
from simulators.vehicle import PilotOffer, Vehicle, VehicleReading, load_catalogue

T = TypeVar("T")

WAIT_S = 5.0  # wall-time bound for any single wait; a passing test never gets near it


def vehicle(archetype: str = "bev_3ph_16a", *, plugged: bool = True) -> Vehicle:
    """A vehicle of a built-in archetype, plugged in unless told otherwise."""
    made = Vehicle(load_catalogue().get(archetype).vehicle_params())
    if plugged:
        made.plug_in()
    return made


def offer_a(limit_a: float, *, phases: int = 3) -> PilotOffer:
    """The pilot for ``limit_a`` per phase."""
    return PilotOffer(duty_percent=current_to_duty(limit_a), energized_phases=phases)


async def within(awaitable: Awaitable[T], what: str, *, timeout_s: float = WAIT_S) -> T:
    """Await ``awaitable`` for at most ``timeout_s`` wall seconds; fail saying ``what``."""
    deadline = asyncio.timeout(timeout_s)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError:
        if deadline.expired():
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}") from None
        raise  # the awaitable's own TimeoutError


def near(limit_a: float, *, tolerance_a: float = 0.1) -> Callable[[VehicleReading], bool]:
    """Predicate: every phase draws ``limit_a`` ± ``tolerance_a``."""
    return lambda r: all(abs(i - limit_a) <= tolerance_a for i in r.current_a)


@asynccontextmanager
async def running(
    vehicle: Vehicle, end: VehicleEnd, clock: Clock, *, step_s: float = 1.0
) -> AsyncIterator[asyncio.Task[None]]:
    """A vehicle runner task for the block; cancelled (and awaited) at its end."""
    task = asyncio.create_task(run_vehicle(vehicle, end, clock=clock, step_s=step_s))
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def reading_where(
    station: StationEnd, predicate: Callable[[VehicleReading], bool], what: str
) -> VehicleReading:
    """The first reading (the latest one, or one to come) satisfying ``predicate``."""
    return await within(station.wait_reading(predicate, include_latest=True), what)
