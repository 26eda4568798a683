"""SimulatedStation's own behaviour over the in-memory pair: boot retries, heartbeats,
ordering, stop.

Every test runs on a virtual-time loop (``run_virtual`` and ``LoopClock``): the station and
the CSMS share the loop, so clock time moves only when both wait, and intervals and
waits are exact whatever the load of the machine."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from typing import Any

import pytest

from harness.clock import LoopClock, run_virtual
from harness.connection import OcppConnection
from harness.session import CallReceived, Role
from harness.transport import OcppSubprotocol, memory_pair
from harness.versions import OcppVersion
from simulators.station import StationConfig
from simulators.station.adapters.common import iso
from simulators.station.link import DirectVehicle
from simulators.station.runtime import SimulatedStation, subprotocol_for
from simulators.vehicle import PilotOffer, Vehicle, VehicleParams


def test_boot_retries_after_pending_and_rejected_then_heartbeats() -> None:
    run_virtual(_boot_retries_after_pending_and_rejected_then_heartbeats())


async def _boot_retries_after_pending_and_rejected_then_heartbeats() -> None:
    clock = LoopClock()
    station_end, csms_end = memory_pair("CP1", OcppSubprotocol.V201)
    boots = iter([("Pending", 10), ("Rejected", 5), ("Accepted", 30)])
    seen: list[tuple[str, datetime]] = []

    async def answer(event: CallReceived) -> dict[str, Any]:
        seen.append((event.action, clock.now()))
        if event.action == "BootNotification":
            status, interval = next(boots)
            return {"currentTime": iso(clock.now()), "interval": interval, "status": status}
        if event.action == "Heartbeat":
            return {"currentTime": iso(clock.now())}
        return {}

    handlers = dict.fromkeys(["BootNotification", "Heartbeat", "StatusNotification"], answer)
    station = SimulatedStation(StationConfig(station_id="CP1"), clock=clock)
    async with OcppConnection.open(csms_end, role=Role.CSMS, clock=clock, handlers=handlers):
        task = asyncio.create_task(station.run(station_end))
        await station.wait_booted(timeout_s=120)
        await clock.sleep(100)
        await station.stop(code=1000)
        await task
    assert csms_end.close_code == 1000
    actions = [a for a, _ in seen]
    assert actions[:4] == ["BootNotification"] * 3 + ["StatusNotification"]
    times = [t for _, t in seen]
    # not before the interval (give or take the reception jitter); a slow first schema
    # compilation may add a little
    assert 9.5 <= (times[1] - times[0]).total_seconds() < 15
    assert 4.5 <= (times[2] - times[1]).total_seconds() < 10
    beats = [t for a, t in seen if a == "Heartbeat"]
    assert len(beats) == 3  # every 30 s for 100 s
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(beats)]
    assert gaps == pytest.approx([30, 30], abs=1.5)


@pytest.mark.parametrize("version", list(OcppVersion))
def test_messages_before_boot_wait_and_keep_their_order(version: OcppVersion) -> None:
    run_virtual(_messages_before_boot_wait_and_keep_their_order(version))


async def _messages_before_boot_wait_and_keep_their_order(version: OcppVersion) -> None:
    clock = LoopClock()
    station_end, csms_end = memory_pair("CP1", subprotocol_for(version))
    seen: list[str] = []

    async def answer(event: CallReceived) -> dict[str, Any]:
        seen.append(event.action)
        now = iso(clock.now())
        return {"currentTime": now, "interval": 300, "status": "Accepted"}

    async def empty(event: CallReceived) -> dict[str, Any]:
        seen.append(event.action)
        return {}

    handlers = {"BootNotification": answer, "StatusNotification": empty}
    station = SimulatedStation(StationConfig(station_id="CP1", ocpp_version=version), clock=clock)
    await station.plug_in(1)  # before any connection: its status waits for the boot
    async with OcppConnection.open(csms_end, role=Role.CSMS, clock=clock, handlers=handlers):
        task = asyncio.create_task(station.run(station_end))
        await station.wait_booted(timeout_s=60)
        await clock.sleep(5)
        await station.stop()
        await task
    assert seen[0] == "BootNotification"
    assert seen.count("BootNotification") == 1
    assert "StatusNotification" in seen[1:]
    assert csms_end.close_code == 1001


def test_16_start_not_authorized_by_the_csms_is_stopped_deauthorized() -> None:
    run_virtual(_16_start_not_authorized_by_the_csms_is_stopped_deauthorized())


async def _16_start_not_authorized_by_the_csms_is_stopped_deauthorized() -> None:
    clock = LoopClock()
    station_end, csms_end = memory_pair("CP1", OcppSubprotocol.V16)
    seen: list[tuple[str, dict[str, Any]]] = []

    async def answer(event: CallReceived) -> dict[str, Any]:
        seen.append((event.action, event.payload))
        now = iso(clock.now())
        return {
            "BootNotification": {"currentTime": now, "interval": 300, "status": "Accepted"},
            "Authorize": {"idTagInfo": {"status": "Accepted"}},
            "StartTransaction": {"transactionId": 7, "idTagInfo": {"status": "Blocked"}},
        }.get(event.action, {})

    actions = ["BootNotification", "Authorize", "StartTransaction", "StopTransaction",
               "StatusNotification", "MeterValues"]  # fmt: skip
    handlers = dict.fromkeys(actions, answer)
    config = StationConfig(station_id="CP1", ocpp_version=OcppVersion.V16)
    station = SimulatedStation(config, clock=clock)
    async with OcppConnection.open(csms_end, role=Role.CSMS, clock=clock, handlers=handlers):
        task = asyncio.create_task(station.run(station_end))
        await station.wait_booted(timeout_s=60)
        await station.plug_in(1)
        await station.present_token(1, "TAG")
        await clock.sleep(10)
        await station.stop()
        await task
    stops = [p for a, p in seen if a == "StopTransaction"]
    assert len(stops) == 1
    assert stops[0]["reason"] == "DeAuthorized"
    assert stops[0]["transactionId"] == 7
    assert station.core.transaction(1) is None


class RecordingLink(DirectVehicle):
    """A vehicle link that remembers every pilot the station drove."""

    def __init__(self, vehicle: Vehicle, *, now: datetime) -> None:
        super().__init__(vehicle, now=now)
        self.offers: list[PilotOffer] = []

    def set_pilot(self, offer: PilotOffer) -> None:
        self.offers.append(offer)
        super().set_pilot(offer)


def test_any_vehicle_link_can_be_plugged_in() -> None:
    run_virtual(_any_vehicle_link_can_be_plugged_in())


async def _any_vehicle_link_can_be_plugged_in() -> None:
    clock = LoopClock()
    station_end, csms_end = memory_pair("CP1", OcppSubprotocol.V201)

    async def answer(event: CallReceived) -> dict[str, Any]:
        now = iso(clock.now())
        return {
            "BootNotification": {"currentTime": now, "interval": 300, "status": "Accepted"},
            "Authorize": {"idTokenInfo": {"status": "Accepted"}},
        }.get(event.action, {})

    actions = ["BootNotification", "Authorize", "TransactionEvent", "StatusNotification"]
    station = SimulatedStation(
        StationConfig(station_id="CP1", max_current_per_evse_a=20), clock=clock
    )
    async with OcppConnection.open(
        csms_end, role=Role.CSMS, clock=clock, handlers=dict.fromkeys(actions, answer)
    ):
        task = asyncio.create_task(station.run(station_end))
        await station.wait_booted(timeout_s=60)
        link = RecordingLink(Vehicle(VehicleParams()), now=clock.now())
        assert await station.plug_in(1, link) is link
        assert station.vehicle(1) is link
        await station.present_token(1, "TAG")
        await clock.sleep(10)
        await station.stop()
        await task
    assert link.offers[-1].allowed_current_a == pytest.approx(20)
    assert link.latest is not None
    assert link.latest.current_a == pytest.approx((16.0, 16.0, 16.0))
    assert station.core.meter(1).energy_import_wh > 0
