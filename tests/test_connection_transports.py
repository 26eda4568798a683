"""Two OcppConnections talking over the in-memory pair and over real WebSockets on loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from harness.clock import ManualClock, ScaledClock
from harness.connection import OcppConnection
from harness.session import CallReceived, Malformation, Role
from harness.transport import OcppSubprotocol, connect_ocpp, memory_pair, serve_ocpp
from harness.versions import OcppVersion

NOW = "2025-01-01T00:00:00Z"
BOOT = {
    OcppVersion.V16: {"chargePointVendor": "V", "chargePointModel": "M"},
    OcppVersion.V201: {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"},
    OcppVersion.V21: {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"},
}


async def _boot(_: CallReceived) -> dict[str, Any]:
    return {"status": "Accepted", "currentTime": NOW, "interval": 300}


async def _heartbeat(_: CallReceived) -> dict[str, Any]:
    return {"currentTime": NOW}


HANDLERS = {"BootNotification": _boot, "Heartbeat": _heartbeat}


async def _exchange(station: OcppConnection, version: OcppVersion) -> None:
    boot = await station.call("BootNotification", BOOT[version], timeout_s=5)
    assert boot.payload["status"] == "Accepted"
    assert boot.typed().value.interval == 300
    beat = await station.call("Heartbeat", {}, timeout_s=5)
    assert beat.payload == {"currentTime": NOW}


@pytest.mark.parametrize("subprotocol", list(OcppSubprotocol))
async def test_sessions_talk_over_the_memory_pair(subprotocol: OcppSubprotocol) -> None:
    version = subprotocol.version
    clock = ManualClock()
    station_end, csms_end = memory_pair("CS-MEM", subprotocol)
    csms = OcppConnection.open(csms_end, role=Role.CSMS, clock=clock, handlers=HANDLERS)
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    async with csms, station:
        await _exchange(station, version)
    assert csms.session.version is version
    assert [r.raw for r in csms.session.trace] == [r.raw for r in station.session.trace]
    assert csms.violations == []


@pytest.mark.parametrize("subprotocol", list(OcppSubprotocol))
async def test_sessions_talk_over_websockets_on_loopback(subprotocol: OcppSubprotocol) -> None:
    version = subprotocol.version
    clock = ScaledClock()
    accepted: list[OcppConnection] = []

    async def accept(transport: Any) -> None:
        conn = OcppConnection.open(transport, role=Role.CSMS, clock=clock, handlers=HANDLERS)
        accepted.append(conn)
        conn.start()
        await conn.wait_closed()

    async with serve_ocpp(accept, host="127.0.0.1", port=0) as server:
        transport = await connect_ocpp(server.url("CS 1"), subprotocols=[subprotocol])
        async with OcppConnection.open(
            transport, role=Role.CHARGING_STATION, clock=clock
        ) as station:
            await _exchange(station, version)
            await station.send_raw("[2,")
            for _ in range(200):
                if accepted and accepted[0].violations:
                    break
                await asyncio.sleep(0.01)
    (csms,) = accepted
    assert csms.session.station_id == "CS 1"
    assert [v.violation.kind for v in csms.violations] == [Malformation.NOT_JSON]
    sent = [r.raw for r in station.session.trace if r.direction.value == "out"]
    got = [r.raw for r in csms.session.trace if r.direction.value == "in"]
    assert sent == got  # exactly the same text, malformed frame included


async def test_binary_frame_becomes_a_recorded_violation() -> None:
    clock = ManualClock()
    station_end, csms_end = memory_pair("CS-BIN", OcppSubprotocol.V201)
    csms = OcppConnection.open(csms_end, role=Role.CSMS, clock=clock, handlers=HANDLERS)
    async with csms:
        await station_end.send_binary(b"\x01\x02")
        for _ in range(20):
            await asyncio.sleep(0)
        assert [v.violation.kind for v in csms.violations] == [Malformation.BINARY_FRAME]
        await station_end.close()
    assert csms.session.trace[0].raw == "<binary:0102>"


@pytest.mark.parametrize(("expected", "level"), [(False, "warning"), (True, "debug")])
async def test_a_violation_is_a_warning_unless_the_harness_sent_it_on_purpose(
    expected: bool, level: str
) -> None:
    """A peer's violation is a warning; on a simulated device under test that the harness
    fuzzes on purpose (``violations_expected``) it is logged at debug level, and still
    recorded."""
    # An earlier test may have configured logging at WARNING (a filtering logger drops debug
    # events before capture_logs sees them): start from structlog's defaults, restore after.
    saved = structlog.get_config()
    structlog.reset_defaults()
    try:
        await _violation_logged_at(expected, level)
    finally:
        structlog.configure(**saved)


async def _violation_logged_at(expected: bool, level: str) -> None:
    clock = ManualClock()
    station_end, csms_end = memory_pair("CS-FUZZ", OcppSubprotocol.V16)
    station = OcppConnection.open(
        station_end, role=Role.CHARGING_STATION, clock=clock, violations_expected=expected
    )
    with capture_logs() as events:
        async with station:
            await csms_end.send('[2, "f-1", "ChangeConfiguration", {"key": 7, "value": "1"}]')
            async with asyncio.timeout(10):
                while not station.violations:  # noqa: ASYNC110 (no event to wait on)
                    await asyncio.sleep(0.01)
            await csms_end.close()
    logged = [e for e in events if e["event"] == "protocol_violation"]
    assert [e["log_level"] for e in logged] == [level]
    assert [v.violation.kind for v in station.violations] == [Malformation.TYPE]
