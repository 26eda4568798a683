"""The simulated station offline (``SimulatedStation.go_offline``): it keeps simulating, agrees
an ISO 15118 schedule from its TxDefaultProfile, queues its TransactionEvents (offline true)
and sends them once a new connection comes, without a new BootNotification (OCA TC_K_56_CS)."""

from __future__ import annotations

import asyncio
from typing import Any

from harness.clock import ScaledClock
from harness.connection import OcppConnection
from harness.session import Call, CallReceived, Role
from harness.transport import OcppSubprotocol, memory_pair
from harness.versions import OcppVersion
from simulators.station import StationConfig, StationFault
from simulators.station.adapters.common import iso
from simulators.station.runtime import SimulatedStation
from tests.simulators.station.helpers import vehicle

SPEED = 100.0
LIMIT_A = 8.0

Seen = list[tuple[str, dict[str, Any]]]


def _tx_default(limit_a: float) -> dict[str, Any]:
    return {
        "id": 56,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {
                "id": 56,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_a}],
            }
        ],
    }


async def _connected(
    station: SimulatedStation, clock: ScaledClock, seen: Seen, charging: asyncio.Event
) -> tuple[OcppConnection, asyncio.Task[None]]:
    """A test CSMS answering the station over a new in-memory connection (records in
    ``seen``; sets ``charging`` at a TransactionEvent reporting Charging)."""
    station_end, csms_end = memory_pair("CP1", OcppSubprotocol.V201)

    async def answer(event: CallReceived) -> dict[str, Any]:
        seen.append((event.action, event.payload))
        info = event.payload.get("transactionInfo", {})
        if event.action == "TransactionEvent" and info.get("chargingState") == "Charging":
            charging.set()
        now = iso(clock.now())
        if event.action == "BootNotification":
            return {"currentTime": now, "interval": 300, "status": "Accepted"}
        if event.action == "Heartbeat":
            return {"currentTime": now}
        if event.action in ("NotifyEVChargingNeeds", "NotifyEVChargingSchedule"):
            return {"status": "Accepted"}
        return {}

    actions = [
        "BootNotification", "Heartbeat", "StatusNotification", "TransactionEvent",
        "MeterValues", "NotifyEVChargingNeeds", "NotifyEVChargingSchedule",
    ]  # fmt: skip
    conn = OcppConnection.open(
        csms_end, role=Role.CSMS, clock=clock, handlers=dict.fromkeys(actions, answer)
    )
    return conn, asyncio.create_task(station.run(station_end))


async def _offline_session(fault: StationFault | None) -> tuple[Seen, Seen]:
    """What the CSMS sees before and after a time offline in which an ISO 15118 vehicle
    starts charging (authorized locally), with a TxDefaultProfile of 8 A installed before."""
    clock = ScaledClock(speed=SPEED)
    faults = frozenset({fault}) if fault else frozenset()
    config = StationConfig(station_id="CP1", ocpp_version=OcppVersion.V201, faults=faults)
    station = SimulatedStation(config, clock=clock)
    payload = {"evseId": 1, "chargingProfile": _tx_default(LIMIT_A)}
    call = CallReceived(Call("1", "SetChargingProfile", payload), "", clock.now(), OcppVersion.V201)
    assert await station.adapter.handlers["SetChargingProfile"](call) == {"status": "Accepted"}
    before: Seen = []
    conn, task = await _connected(station, clock, before, asyncio.Event())
    async with conn:
        await station.wait_booted(timeout_s=60)
        await station.plug_in(1, vehicle("bev_iso15118"))
        await clock.sleep(2)
        await station.go_offline()
        await clock.wait_for(task, 30)
    assert station.offline
    await station.present_token(1, "LOCAL1")  # no CSMS to ask: authorized locally
    await clock.sleep(60)
    after: Seen = []
    charging = asyncio.Event()
    conn, task = await _connected(station, clock, after, charging)
    try:
        async with conn:
            if fault is None:
                await clock.wait_for(charging.wait(), 120)
            else:
                await clock.sleep(60)
            await station.stop()
            await clock.wait_for(task, 30)
    finally:
        await station.stop()
    return before, after


async def test_offline_events_are_queued_marked_and_sent_once_back() -> None:
    before, after = await _offline_session(None)
    assert [a for a, _ in before].count("BootNotification") == 1
    assert "BootNotification" not in [a for a, _ in after]  # no reboot: it only reconnected
    events = [p for a, p in after if a == "TransactionEvent"]
    started = [e for e in events if e["eventType"] == "Started"]
    assert started
    assert started[0]["offline"] is True
    charging = [
        e
        for e in events
        if e["triggerReason"] == "ChargingStateChanged"
        and e["transactionInfo"]["chargingState"] == "Charging"
    ]
    assert charging
    assert charging[0]["offline"] is True  # it started charging offline
    # K15 offline: the schedule agreed with the vehicle came from the TxDefaultProfile
    schedules = [p for a, p in after if a == "NotifyEVChargingSchedule"]
    assert schedules
    periods = schedules[0]["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods[0]["startPeriod"] == 0
    assert all(float(p["limit"]) <= LIMIT_A for p in periods)
    assert "NotifyEVChargingNeeds" not in [a for a, _ in after]  # nobody to ask offline
    # in order: the queued events keep their sequence numbers
    seq = [e["seqNo"] for e in events]
    assert seq == sorted(seq)


async def test_drops_offline_events_sends_no_transaction_event_of_the_offline_time() -> None:
    _, after = await _offline_session(StationFault.DROPS_OFFLINE_EVENTS)
    offline_started = [
        p for a, p in after if a == "TransactionEvent" and p["eventType"] == "Started"
    ]
    assert offline_started == []


async def test_no_offline_flag_sends_them_unmarked() -> None:
    _, after = await _offline_session(StationFault.NO_OFFLINE_FLAG)
    events = [p for a, p in after if a == "TransactionEvent"]
    assert events
    assert all("offline" not in e for e in events)


async def test_a_station_stopped_while_offline_stops_simulating_and_sends_nothing_later() -> None:
    clock = ScaledClock(speed=SPEED)
    config = StationConfig(station_id="CP1", ocpp_version=OcppVersion.V201)
    station = SimulatedStation(config, clock=clock)
    conn, task = await _connected(station, clock, [], asyncio.Event())
    async with conn:
        await station.wait_booted(timeout_s=60)
        await station.go_offline()
        await clock.wait_for(task, 30)
    assert station.offline
    pending = asyncio.ensure_future(station.call("Heartbeat", {}))
    await asyncio.sleep(0)
    await station.stop()
    assert not station.offline
    assert await clock.wait_for(pending, 5) is None  # failed, not left waiting
