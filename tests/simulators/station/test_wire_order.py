"""The simulated station handles the CSMS's frames in wire order, and takes the CSMS's time.

A CSMS may answer StartTransaction and at once send a SetChargingProfile for the transaction
id it just assigned. Over a real socket the station's send loop may still be inside its
``send`` (draining) when both frames arrive; the id must be taken before the CALL after it is
handled, or a correct TxProfile is Rejected (seen with ``run --target listen`` against
``ocpp-harness simulate``).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.clock import AdjustableClock, ScaledClock, utc
from harness.transport import OcppSubprotocol
from harness.versions import OcppVersion
from simulators.station.config import StationConfig
from simulators.station.runtime import SimulatedStation
from tests.fake_transport import FakeTransport, fake_pair

CSMS_TIME = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


class SlowDrain(FakeTransport):
    """A station end whose ``send`` returns only after a few turns of the event loop, as a
    WebSocket's does while it drains."""

    async def send(self, text: str) -> None:
        await super().send(text)
        for _ in range(20):
            await asyncio.sleep(0)


def _tx_profile(tx_id: int) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 9,
            "transactionId": tx_id,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
            },
        },
    }


async def _csms(csms: FakeTransport, boot_times: list[str]) -> dict[str, Any]:
    """Answer everything; after StartTransaction send its result and a SetChargingProfile in
    one burst. Returns the station's answer to that SetChargingProfile."""
    while True:
        frame = json.loads(await csms.recv())
        if frame[0] == 3 and frame[1] == "csms-1":
            return dict(frame[2])
        if frame[0] != 2:
            continue
        _, mid, action, _payload = frame
        if action == "BootNotification":
            now = CSMS_TIME.isoformat().replace("+00:00", "Z")
            boot_times.append(now)
            answer: dict[str, Any] = {"status": "Accepted", "currentTime": now, "interval": 300}
        elif action == "Authorize":
            answer = {"idTagInfo": {"status": "Accepted"}}
        elif action == "StartTransaction":
            burst = [[3, mid, {"idTagInfo": {"status": "Accepted"}, "transactionId": 57}]]
            burst.append([2, "csms-1", "SetChargingProfile", _tx_profile(57)])
            for item in burst:  # no await between the two: they arrive together
                assert csms.peer is not None
                csms.peer.inbox.put_nowait(json.dumps(item))
            continue
        else:
            answer = {}
        await csms.send(json.dumps([3, mid, answer]))


async def test_transaction_id_is_taken_before_the_next_csms_call_is_handled() -> None:
    station_end = SlowDrain(OcppSubprotocol.V16, "CP1")
    _, csms_end = fake_pair()
    station_end.peer, csms_end.peer = csms_end, station_end
    clock = AdjustableClock(ScaledClock(speed=1.0))
    station = SimulatedStation(StationConfig(ocpp_version=OcppVersion.V16), clock=clock)
    boot_times: list[str] = []
    csms = asyncio.create_task(_csms(csms_end, boot_times))
    running = asyncio.create_task(station.run(station_end))
    try:
        await station.wait_booted(timeout_s=10)
        await station.plug_in(1)
        await station.present_token(1, "TAG")
        answer = await asyncio.wait_for(csms, 10)
    finally:
        await station.stop()
        await asyncio.wait_for(running, 10)
    assert answer == {"status": "Accepted"}
    tx = station.core.transaction(1)
    assert tx is not None
    assert tx.transaction_id == "57"
    # ... and the station took the CSMS's time of day from the BootNotification response
    assert boot_times == ["2030-06-01T12:00:00Z"]
    assert abs((station.now() - utc(boot_times[0])).total_seconds()) < 5
    assert clock.offset_s > timedelta(days=365).total_seconds()
