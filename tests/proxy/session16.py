"""A recorded OCPP 1.6 smart-charging session, made by driving both sides through the proxy.

Boot, remote start, StartTransaction, SetChargingProfile, MeterValues, GetCompositeSchedule,
ChangeConfiguration(AuthorizationKey); the proxy's clock is a ManualClock advanced between
exchanges, so the recorded gaps are exact and nothing sleeps.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from harness.clock import ManualClock, utc
from harness.proxy import RecordingProxy
from harness.transport import WebSocketTransport, connect_ocpp
from tests.proxy.helpers import new_writer, recv_any
from tests.transport.helpers import running_server

ID_TAG = "TAG-SECRET-7788"
AUTH_KEY = "PW-SECRET-0001"
SERIAL = "SN-SECRET-42"
START = utc("2026-11-28T03:00:00Z")

# (seconds to advance before, sender, frame); {t} is the clock time, {t-4} 4 s before it.
EXCHANGES: list[tuple[float, str, object]] = [
    (0, "station", [2, "b1", "BootNotification", {
        "chargePointVendor": "Acme", "chargePointModel": "W22",
        "chargePointSerialNumber": SERIAL}]),
    (0.2, "csms", [3, "b1", {"status": "Accepted", "currentTime": "{t}", "interval": 300}]),
    (5, "csms", [2, "c1", "RemoteStartTransaction", {"connectorId": 1, "idTag": ID_TAG}]),
    (0.1, "station", [3, "c1", {"status": "Accepted"}]),
    (2, "station", [2, "s1", "StartTransaction", {
        "connectorId": 1, "idTag": ID_TAG, "meterStart": 0, "timestamp": "{t}"}]),
    (0.1, "csms", [3, "s1", {"idTagInfo": {"status": "Accepted"}, "transactionId": 4711}]),
    (1, "station", "[2,\"bad\" this is not json"),
    (3, "csms", [2, "c2", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 7, "transactionId": 4711, "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": {"startSchedule": "{t-4}", "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}}}]),
    (0.3, "station", [3, "c2", {"status": "Accepted"}]),
    (10, "station", [2, "m1", "MeterValues", {"connectorId": 1, "transactionId": 4711,
        "meterValue": [{"timestamp": "{t}", "sampledValue": [
            {"value": "1234.5", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "15.9", "measurand": "Current.Import", "unit": "A"}]}]}]),
    (0.1, "csms", [3, "m1", {}]),
    (4, "csms", [2, "c3", "GetCompositeSchedule",
                 {"connectorId": 1, "duration": 400, "chargingRateUnit": "A"}]),
    (0.2, "station", [3, "c3", {"status": "Accepted", "connectorId": 1, "scheduleStart": "{t}",
        "chargingSchedule": {"duration": 400, "startSchedule": "{t}", "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}}]),
    (6, "csms", [2, "c4", "ChangeConfiguration", {"key": "AuthorizationKey", "value": AUTH_KEY}]),
    (0.1, "station", [3, "c4", {"status": "Accepted"}]),
]  # fmt: skip


def _text(frame: object, clock: ManualClock) -> str:
    if isinstance(frame, str):
        return frame
    now = clock.now()
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    before = (now - timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(frame).replace('"{t}"', f'"{stamp}"').replace('"{t-4}"', f'"{before}"')


async def record_session(root: Path) -> Path:
    """Run the session through a recording proxy; return the trace file."""
    clock = ManualClock(start=START)
    async with running_server() as (server, accepted):
        upstream = server.url("x").rpartition("/")[0]
        writer = new_writer(root, f"proxy {upstream}", clock)
        async with (
            RecordingProxy(upstream_url=upstream, writer=writer, clock=clock) as proxy,
            connect_ocpp(proxy.url("CP1"), subprotocols=["ocpp1.6"]) as station,
        ):
            csms: WebSocketTransport = await accepted.next()
            for advance_s, sender, frame in EXCHANGES:
                clock.advance(advance_s)
                text = _text(frame, clock)
                source, target = (station, csms) if sender == "station" else (csms, station)
                await source.send(text)
                assert await recv_any(target) == text
        writer.finish(finished_at=clock.now())
    (trace,) = (writer.run_dir / "traces").iterdir()
    return trace
