"""The in-process pilot link with a real vehicle on a manual clock (no sockets, no sleeping)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from harness.clock import ManualClock
from simulators.iec61851 import PilotState
from simulators.pilot import (
    DischargeRequest,
    InProcessLink,
    LinkClosed,
    LinkStatus,
    PlugCommand,
    PlugEvent,
    run_vehicle,
)
from simulators.pilot.link import StationInbound
from simulators.vehicle import IdleReason, PilotOffer, VehicleReading
from tests.simulators.pilot_helpers import near, offer_a, running, vehicle, within


async def tick(clock: ManualClock, link: InProcessLink, seconds: float = 1.0) -> VehicleReading:
    """Advance the clock and return the reading the runner sends for it."""
    waiting = asyncio.ensure_future(link.station.wait_reading())
    await asyncio.sleep(0)  # register the waiter before the runner can answer
    clock.advance(seconds)
    return await within(waiting, f"a reading after advancing {seconds} s")


async def offer(link: InProcessLink, pilot: PilotOffer) -> VehicleReading:
    """Send ``pilot`` and wait for the reading the runner sends once it has applied it."""
    applied = asyncio.ensure_future(link.station.wait_reading())
    await asyncio.sleep(0)
    await link.station.send_offer(pilot)
    return await within(applied, "the reading after the offer was applied")


async def plug_event(link: InProcessLink) -> PlugEvent:
    """The next plug event from the station end's inbox (readings are skipped)."""
    while True:
        message: StationInbound = await within(link.station.receive(), "a plug event")
        if isinstance(message, PlugEvent):
            return message


async def until_sleeping(clock: ManualClock) -> None:
    """Let other tasks run until one of them sleeps on ``clock``."""
    for _ in range(100):
        if clock.next_deadline() is not None:
            return
        await asyncio.sleep(0)
    raise AssertionError("nobody started sleeping on the clock")


async def test_offer_of_16_a_is_followed_after_the_response_delay() -> None:
    clock, link = ManualClock(), InProcessLink()
    car = vehicle("bev_3ph_16a")  # response delay 2 s, ramps up at 5 A/s
    async with running(car, link.vehicle, clock):
        applied = await offer(link, offer_a(16.0))
        seen = [await tick(clock, link) for _ in range(8)]
    assert applied.time_s == 0.0
    times = [r.time_s for r in seen]
    assert times == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert seen[0].current_a == (0.0, 0.0, 0.0), "drew current before its response delay"
    assert seen[0].pilot_state is PilotState.B
    assert near(16.0)(seen[5]), f"not at 16 A per phase 6 s after the offer: {seen[5]}"
    assert seen[7].pilot_state is PilotState.C
    assert seen[7].power_w == pytest.approx(230 * 16 * 3)
    assert link.station.latest_reading == seen[-1]


async def test_a_changed_offer_is_followed() -> None:
    clock, link = ManualClock(), InProcessLink()
    async with running(vehicle(), link.vehicle, clock):
        await offer(link, offer_a(16.0))
        for _ in range(6):
            await tick(clock, link)
        await offer(link, offer_a(8.0))
        for _ in range(4):
            last = await tick(clock, link)
    assert near(8.0)(last), f"did not follow the lower offer: {last}"
    assert last.allowed_current_a == pytest.approx(8.0)


async def test_a_late_step_yields_one_reading_at_the_current_time() -> None:
    clock, link = ManualClock(), InProcessLink(station_inbox_size=None)
    async with running(vehicle(), link.vehicle, clock):
        first = await within(link.station.receive(), "the plug event")
        start = await within(link.station.receive(), "the start reading")
        reading = await tick(clock, link, 10.0)
        await tick(clock, link, 1.0)
    assert first == PlugEvent(plugged=True, time_s=0.0)
    assert start.time_s == 0.0
    assert reading.time_s == 10.0
    assert link.station.stats.received == 4, "a 10 s jump must not send ten stale readings"


async def test_discharge_request_is_answered_and_exports() -> None:
    clock, link = ManualClock(), InProcessLink()
    async with running(vehicle("bev_bidirectional"), link.vehicle, clock):
        await offer(link, offer_a(16.0))
        await tick(clock, link)
        decision = await within(link.station.request_discharge(power_w=5520.0), "an answer")
        for _ in range(6):
            last = await tick(clock, link)
    assert decision.accepted, decision.reason
    assert last.power_w == pytest.approx(-5520.0)
    assert last.current_a == pytest.approx((-8.0, -8.0, -8.0))


async def test_a_unidirectional_vehicle_refuses_to_discharge_with_a_reason() -> None:
    clock, link = ManualClock(), InProcessLink()
    async with running(vehicle("bev_3ph_16a"), link.vehicle, clock):
        decision = await within(link.station.request_discharge(power_w=3000.0), "an answer")
    assert not decision.accepted
    assert decision.reason == "vehicle is not bidirectional"


async def test_an_unanswered_request_is_bounded_by_the_callers_clock() -> None:
    clock, link = ManualClock(), InProcessLink()  # no runner: nobody answers
    asking = asyncio.ensure_future(
        clock.wait_for(link.station.request_discharge(power_w=1000.0), timeout_s=10)
    )
    await until_sleeping(clock)
    clock.advance(10)
    with pytest.raises(TimeoutError, match="10 s of clock time"):
        await within(asking, "the clock's timeout")
    request = await within(link.vehicle.receive(), "the request")
    assert request == DischargeRequest(request_id=request.request_id, power_w=1000.0)


async def test_plug_commands_move_the_cable_and_report_plug_events() -> None:
    clock, link = ManualClock(), InProcessLink()
    async with running(vehicle(plugged=False), link.vehicle, clock):
        start = await plug_event(link)
        await link.station.send_plug(PlugCommand(plugged=True))
        plugged = await plug_event(link)
        await link.station.send_plug(PlugCommand(plugged=True))  # already in: no change
        again = await plug_event(link)
        await until_sleeping(clock)
        clock.advance(3)
        await link.station.send_plug(PlugCommand(plugged=False))
        pulled = await within(
            link.station.wait_reading(lambda r: r.pilot_state is PilotState.A), "state A"
        )
    assert start == PlugEvent(plugged=False, time_s=0.0)
    assert plugged == PlugEvent(plugged=True, time_s=0.0)
    assert again == PlugEvent(plugged=True, time_s=0.0)
    assert pulled.idle_reason is IdleReason.UNPLUGGED
    assert pulled.time_s == 3.0
    assert link.station.plugged is False


async def test_the_runner_stops_cleanly_when_cancelled() -> None:
    clock, link = ManualClock(), InProcessLink()
    before = asyncio.all_tasks()
    task = asyncio.create_task(run_vehicle(vehicle(), link.vehicle, clock=clock))
    await within(link.station.wait_reading(), "the runner's first reading")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before, "the runner left tasks behind"
    assert clock.next_deadline() is None, "the runner left a sleeper on the clock"


async def test_closing_the_station_end_ends_the_runner_and_pending_requests() -> None:
    clock, link = ManualClock(), InProcessLink()
    task = asyncio.create_task(run_vehicle(vehicle(), link.vehicle, clock=clock))
    await within(link.station.wait_reading(), "the runner's first reading")
    asking = asyncio.ensure_future(link.station.request_discharge(power_w=0.0))
    await link.station.aclose()
    with pytest.raises(LinkClosed):
        await within(task, "the runner to end")
    with pytest.raises(LinkClosed):
        await within(asking, "the request to fail")
    with pytest.raises(LinkClosed, match="closed"):
        await link.station.send_offer(offer_a(6.0))


async def test_an_unread_station_inbox_keeps_the_newest_and_counts_the_dropped() -> None:
    clock, link = ManualClock(), InProcessLink(station_inbox_size=2)
    car = vehicle()
    for _ in range(5):
        car.advance(1.0)
        await link.vehicle.send_reading(car.reading())
    kept = [await within(link.station.receive(), "a kept reading") for _ in range(2)]
    assert [r.time_s for r in kept if isinstance(r, VehicleReading)] == [4.0, 5.0]
    assert link.station.stats.dropped == 3
    assert link.station.latest_reading == kept[-1]
    assert clock.monotonic() == 0.0


async def test_the_runner_refuses_a_bad_step() -> None:
    with pytest.raises(ValueError, match="step_s must be a finite duration > 0 s"):
        await run_vehicle(vehicle(), InProcessLink().vehicle, clock=ManualClock(), step_s=0)


async def test_wait_reading_can_match_the_latest_reading_at_once() -> None:
    link = InProcessLink()
    car = vehicle()
    await link.vehicle.send_reading(car.reading())
    latest = await within(
        link.station.wait_reading(lambda r: r.time_s == 0.0, include_latest=True), "latest"
    )
    assert latest == car.reading()
    later = asyncio.ensure_future(link.station.wait_reading(lambda r: r.time_s == 0.0))
    await asyncio.sleep(0)
    assert not later.done(), "without include_latest only new readings count"
    await link.vehicle.send_reading(car.advance(1.0))
    assert not later.done(), "a reading that does not match must not count"
    replayed = dataclasses.replace(car.reading(), time_s=0.0)
    await link.vehicle.send_reading(replayed)
    assert await within(later, "a new matching reading") is replayed


async def test_closing_the_vehicle_end_marks_the_vehicle_offline() -> None:
    link = InProcessLink()
    assert link.station.vehicle_online is True
    await link.vehicle.aclose()
    assert link.station.vehicle_online is False
    assert await within(link.station.receive(), "the status") == LinkStatus(online=False)
