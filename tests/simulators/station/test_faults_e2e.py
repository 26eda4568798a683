"""Each station fault that shows on the wire, seen by a CSMS (the harness's own connection
over the in-memory pair, OCPP 1.6): the faulty station's frames differ from a well-behaved
station's in exactly the way the fault says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.clock import Clock, LoopClock, run_virtual
from harness.connection import OcppConnection
from harness.session import CallReceived, Event, ProtocolViolation, RemoteProtocolError, Role
from harness.transport import OcppSubprotocol, memory_pair
from harness.versions import OcppVersion
from simulators.station import StationConfig, StationFault, StationTransaction
from simulators.station.adapters.common import iso
from simulators.station.runtime import SimulatedStation
from tests.simulators.station import requests as rq


@dataclass
class Csms:
    """The CSMS end: answers the station, records its CALLs, asks it things."""

    conn: OcppConnection
    clock: Clock
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)  # message id → raw answer

    def on_event(self, event: Event) -> None:
        if isinstance(event, ProtocolViolation) and event.call is not None:
            self.answers[event.call.message_id] = event.raw

    async def ask(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The station's answer as sent, even when it breaks the schema."""
        try:
            result = await self.conn.call(action, payload, timeout_s=60)
        except RemoteProtocolError:
            raw = list(self.answers.values())[-1]
            answer: dict[str, Any] = json.loads(raw)[2]
            return answer
        return dict(result.payload)

    def meter_currents(self) -> list[float]:
        """Per-phase Current.Import of the latest MeterValues."""
        latest = [p for a, p in self.calls if a == "MeterValues"][-1]
        found = rq.readings(latest["meterValue"][0], "Current.Import")
        return [found.get(p, 0.0) for p in ("L1", "L2", "L3")]


def _answers(clock: Clock, csms: list[Csms]) -> dict[str, Any]:
    async def record(event: CallReceived) -> dict[str, Any]:
        csms[0].calls.append((event.action, event.payload))
        now = iso(clock.now())
        return {
            "BootNotification": {"currentTime": now, "interval": 60, "status": "Accepted"},
            "Heartbeat": {"currentTime": now},
            "Authorize": {"idTagInfo": {"status": "Accepted"}},
            "StartTransaction": {"transactionId": 101, "idTagInfo": {"status": "Accepted"}},
        }.get(event.action, {})

    actions = ["BootNotification", "Heartbeat", "Authorize", "StartTransaction",
               "StopTransaction", "StatusNotification", "MeterValues"]  # fmt: skip
    return dict.fromkeys(actions, record)


@asynccontextmanager
async def charging(*faults: StationFault, **config: Any) -> AsyncIterator[tuple[Csms, str]]:
    """A booted 1.6 station charging a 16 A vehicle; yields the CSMS and the transaction id.

    On the running loop's time: the tests run on a virtual-time loop (``run_virtual``), so
    "15 clock seconds after the profile" is exact whatever the load of the machine."""
    clock = LoopClock()
    station_end, csms_end = memory_pair("CP1", OcppSubprotocol.V16)
    settings = {"meter_interval_s": 5, **config}
    station = SimulatedStation(
        StationConfig(station_id="CP1", ocpp_version=OcppVersion.V16, faults=faults, **settings),
        clock=clock,
    )
    holder: list[Csms] = []
    conn = OcppConnection.open(
        csms_end, role=Role.CSMS, clock=clock, handlers=_answers(clock, holder),
        on_event=lambda e: holder[0].on_event(e),
    )  # fmt: skip
    csms = Csms(conn, clock)
    holder.append(csms)
    async with conn:
        task = asyncio.create_task(station.run(station_end))
        await station.wait_booted(timeout_s=60)
        await station.plug_in(1)
        assert isinstance(await station.present_token(1, "TAG"), StationTransaction)
        await clock.wait_for(_renamed(station), 60)
        await clock.sleep(10)
        try:
            yield csms, "101"
        finally:
            await station.stop()
            await task


async def _renamed(station: SimulatedStation) -> None:
    """Until the station took the CSMS's transaction id (from the StartTransaction answer)."""
    for _ in range(10_000):
        tx = station.core.transaction(1)
        if tx is not None and tx.transaction_id == "101":
            return
        await asyncio.sleep(0.001)


def set_tx(tx_id: str, periods: list[tuple[int, float]], unit: str = "A", **extra: Any) -> Any:
    return {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 9, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative", "transactionId": int(tx_id),
            "chargingSchedule": {
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [
                    {"startPeriod": s, "limit": v, **extra} for s, v in periods
                ],
            },
        },
    }  # fmt: skip


def composite(duration_s: int = 300, unit: str = "A") -> dict[str, Any]:
    return {"connectorId": 1, "duration": duration_s, "chargingRateUnit": unit}


async def limit_after(csms: Csms, tx: str, wait_s: float) -> list[float]:
    answer = await csms.ask("SetChargingProfile", set_tx(tx, [(0, 10)]))
    assert answer["status"] == "Accepted"
    await csms.clock.sleep(wait_s)
    return csms.meter_currents()


async def ignores(csms: Csms, tx: str) -> Any:
    return await limit_after(csms, tx, 15)


async def late(csms: Csms, tx: str) -> Any:
    soon = await limit_after(csms, tx, 15)
    await csms.clock.sleep(45)
    return soon, csms.meter_currents()


async def periods_of(csms: Csms, tx: str, periods: list[tuple[int, float]], **ask: Any) -> Any:
    assert (await csms.ask("SetChargingProfile", set_tx(tx, periods)))["status"] == "Accepted"
    answer = await csms.ask("GetCompositeSchedule", composite(**ask))
    return answer["status"], answer["chargingSchedule"]


async def empty(csms: Csms, tx: str) -> Any:
    status, schedule = await periods_of(csms, tx, [(0, 10)])
    return status, schedule["chargingSchedulePeriod"]


async def endless(csms: Csms, tx: str) -> Any:
    _, schedule = await periods_of(csms, tx, [(0, 10)])
    return schedule["duration"]


async def unit(csms: Csms, tx: str) -> Any:
    _, schedule = await periods_of(csms, tx, [(0, 10)])
    return schedule["chargingRateUnit"]


async def redundant(csms: Csms, tx: str) -> Any:
    _, schedule = await periods_of(csms, tx, [(0, 10), (60, 10), (120, 12)])
    return [float(p["limit"]) for p in schedule["chargingSchedulePeriod"]]


async def unknown_tx(csms: Csms, tx: str) -> Any:
    return (await csms.ask("SetChargingProfile", set_tx("999", [(0, 10)])))["status"]


async def decimals(csms: Csms, tx: str) -> Any:
    profile = set_tx(tx, [(0, 5000)], unit="W")
    assert (await csms.ask("SetChargingProfile", profile))["status"] == "Accepted"
    answer = await csms.ask("GetCompositeSchedule", composite(unit="A"))
    return float(answer["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"])


async def phase_switch(csms: Csms, tx: str) -> Any:
    profile = set_tx(tx, [(0, 16)], numberPhases=1)
    assert (await csms.ask("SetChargingProfile", profile))["status"] == "Accepted"
    await csms.clock.sleep(15)
    return csms.meter_currents()


Probe = Callable[[Csms, str], Awaitable[Any]]
F = StationFault
CASES: list[tuple[StationFault, Probe, Any, Any, dict[str, Any]]] = [
    # fault, probe, what a well-behaved station shows, what the faulty one shows, config
    (F.ACCEPTS_BUT_IGNORES, ignores, [10.0] * 3, [16.0] * 3, {}),
    (F.LATE_APPLY, late, ([10.0] * 3, [10.0] * 3), ([16.0] * 3, [10.0] * 3), {}),
    (
        F.EMPTY_COMPOSITE,
        empty,
        ("Accepted", [{"startPeriod": 0, "limit": 10}]),
        ("Accepted", []),
        {},
    ),
    (F.ENDLESS_COMPOSITE, endless, 300, 86_400, {}),
    (F.UNIT_IGNORED, unit, "A", "W", {}),
    (F.REDUNDANT_PERIODS, redundant, [10, 12], [10, 10, 12], {}),
    (F.ACCEPTS_UNKNOWN_TRANSACTION, unknown_tx, "Rejected", "Accepted", {}),
    (F.TOO_MANY_DECIMALS, decimals, 7.2, 5000 / 690, {}),
    (F.IGNORES_PHASE_SWITCH, phase_switch, [16.0, 0.0, 0.0], [16.0] * 3, {"phase_switching": True}),
]


@pytest.mark.parametrize(
    ("fault", "probe", "good", "bad", "config"), CASES, ids=[str(c[0]) for c in CASES]
)
def test_fault_is_visible_to_the_csms(
    fault: StationFault, probe: Probe, good: Any, bad: Any, config: dict[str, Any]
) -> None:
    run_virtual(_fault_is_visible(probe, fault, good, bad, config))


async def _fault_is_visible(
    probe: Probe, fault: StationFault, good: Any, bad: Any, config: dict[str, Any]
) -> None:
    async with charging(**config) as (csms, tx):
        assert await probe(csms, tx) == good
    async with charging(fault, **config) as (csms, tx):
        assert await probe(csms, tx) == bad
