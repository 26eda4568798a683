"""PilotLinkVehicle: a station's VehicleLink over the in-process pilot link, with a running
vehicle runner on a ManualClock (no sleeping)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from harness.clock import ManualClock
from simulators.pilot import InProcessLink
from simulators.station.pilot_vehicle import PENDING_DISCHARGE, PilotLinkVehicle
from simulators.vehicle import VehicleParams, load_catalogue
from tests.simulators.pilot_helpers import near, offer_a, running, vehicle


async def until(condition: Callable[[], bool], what: str) -> None:
    """Let the other tasks run until ``condition()`` holds (at most 1000 event-loop turns)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


def caught_up(ev: PilotLinkVehicle, clock: ManualClock) -> bool:
    """The link holds a reading of the clock's current time."""
    return ev.latest is not None and ev.latest.time_s >= clock.monotonic()


def params(archetype: str = "bev_3ph_16a") -> VehicleParams:
    return load_catalogue().get(archetype).vehicle_params()


async def test_offers_are_sent_once_in_order_and_readings_come_back_once() -> None:
    clock, link = ManualClock(), InProcessLink()
    car = vehicle("bev_3ph_16a", plugged=False)
    async with running(car, link.vehicle, clock):
        ev = PilotLinkVehicle(link.station, params=params(), clock=clock)
        assert ev.params == params()
        await ev.drain()
        await until(lambda: car.plugged, "the plug-in command to reach the vehicle")
        await until(lambda: link.station.plugged is True, "the vehicle's plug event")

        sent_before = link.station.stats.sent
        for _ in range(3):  # the station re-asserts its pilot at every step
            ev.set_pilot(offer_a(10.0))
        ev.set_pilot(offer_a(16.0))
        await ev.drain()
        assert link.station.stats.sent == sent_before + 2, "equal offers must be sent once"
        await until(lambda: link.vehicle.latest_offer == offer_a(16.0), "the newest offer")

        first = ev.advance_to(clock.now())
        assert first is not None
        assert first is link.station.latest_reading
        assert ev.advance_to(clock.now()) is None, "the same reading was returned twice"

        for second in range(1, 11):
            clock.advance(1.0)
            await until(lambda: caught_up(ev, clock), f"the reading of second {second}")
        reading = ev.advance_to(clock.now())
        assert reading is not None
        assert near(16.0)(reading), f"not at 16 A: {reading}"
        assert ev.send_failures == 0
        assert ev.last_error is None

        ev.unplug()
        await ev.drain()
        await until(lambda: link.station.plugged is False, "the vehicle to report unplugged")
        assert not car.plugged
        await ev.aclose()


async def test_discharge_answers_pending_then_keeps_the_vehicles_answer() -> None:
    clock, link = ManualClock(), InProcessLink()
    car = vehicle("bev_3ph_16a")  # not bidirectional: it refuses
    async with running(car, link.vehicle, clock):
        ev = PilotLinkVehicle(link.station, params=params(), clock=clock)
        assert ev.set_discharge(power_w=3000.0) == PENDING_DISCHARGE
        await until(lambda: ev.last_discharge_answer is not None, "the discharge answer")
        answer = ev.last_discharge_answer
        assert answer is not None
        assert not answer.accepted, answer
        assert answer.reason == "vehicle is not bidirectional"
        await ev.aclose()


async def test_an_accepted_discharge_shows_in_the_readings() -> None:
    clock, link = ManualClock(), InProcessLink()
    async with running(vehicle("bev_bidirectional"), link.vehicle, clock):
        ev = PilotLinkVehicle(link.station, params=params("bev_bidirectional"), clock=clock)
        ev.set_pilot(offer_a(16.0))
        await ev.drain()
        assert ev.set_discharge(power_w=5520.0) == PENDING_DISCHARGE
        await until(lambda: ev.last_discharge_answer is not None, "the discharge answer")
        answer = ev.last_discharge_answer
        assert answer is not None
        assert answer.accepted, answer.reason
        for second in range(1, 7):
            clock.advance(1.0)
            await until(lambda: caught_up(ev, clock), f"the reading of second {second}")
        reading = ev.advance_to(clock.now())
        assert reading is not None
        assert reading.power_w == pytest.approx(-5520.0)
        assert ev.send_failures == 0
        await ev.aclose()


async def test_send_failures_are_counted_and_kept() -> None:
    clock, link = ManualClock(), InProcessLink()
    ev = PilotLinkVehicle(link.station, params=params(), clock=clock)
    await ev.drain()
    await link.station.aclose()
    ev.set_pilot(offer_a(16.0))
    ev.unplug()
    await ev.drain()
    assert ev.send_failures == 2
    assert ev.last_error is not None
    assert ev.last_error.startswith("plug:"), ev.last_error
    assert ev.pending == 0
    await ev.aclose()
