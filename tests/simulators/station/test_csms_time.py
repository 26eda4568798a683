"""Timestamps translated between a fast station clock and the CSMS's clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from harness.clock import ScaledClock
from harness.transport import OcppSubprotocol, memory_pair
from simulators.station.csms_time import CsmsTimeTransport, TimeMap

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_station_seconds_become_csms_seconds_and_back() -> None:
    time_map = TimeMap(station0=T0, csms0=T0, station_speed=60, csms_speed=1)
    hour_later = T0 + timedelta(hours=1)
    assert time_map.to_csms(hour_later) == T0 + timedelta(minutes=1)
    assert time_map.to_station(T0 + timedelta(minutes=1)) == hour_later
    payload = {
        "meterValue": [{"timestamp": "2026-12-07T13:00:00.000Z", "sampledValue": [{"value": 5}]}],
        "idTag": "04A1B2C3",
        "note": "2026-12-07 13:00",  # not RFC 3339: left alone
    }
    moved = time_map.translate(payload, outgoing=True)
    assert moved["meterValue"][0]["timestamp"] == "2026-12-07T12:01:00.000Z"
    assert moved["idTag"] == "04A1B2C3"
    assert moved["note"] == "2026-12-07 13:00"


def test_frames_without_dates_and_call_errors_pass_unchanged() -> None:
    time_map = TimeMap(station0=T0, csms0=T0, station_speed=60, csms_speed=1)
    heartbeat = '[2,"1","Heartbeat",{}]'
    assert time_map.frame(heartbeat, outgoing=True) == heartbeat
    error = '[4,"1","NotImplemented","2026-12-07T13:00:00Z",{}]'
    assert time_map.frame(error, outgoing=True) == error
    assert time_map.frame("not json", outgoing=False) == "not json"
    answer = '[3,"1",{"currentTime":"2026-12-07T12:01:00Z"}]'
    assert json.loads(time_map.frame(answer, outgoing=False))[2] == {
        "currentTime": "2026-12-07T13:00:00Z"
    }


async def test_the_transport_translates_both_ways() -> None:
    station_end, csms_end = memory_pair("CP-1", OcppSubprotocol.V16)
    station_clock = ScaledClock(speed=60, start=T0)
    csms_clock = ScaledClock(speed=1, start=T0 + timedelta(days=1))
    wrapped = CsmsTimeTransport(station_end, station_clock=station_clock, csms_clock=csms_clock)
    anchor = wrapped.time_map
    later = anchor.station0 + timedelta(minutes=60)
    await wrapped.send(json.dumps([2, "1", "Heartbeat", {"t": later.isoformat()}]))
    sent = json.loads(await csms_end.recv())
    csms_time = datetime.fromisoformat(sent[3]["t"])
    assert abs(csms_time - (anchor.csms0 + timedelta(minutes=1))) < timedelta(seconds=1)
    await csms_end.send(json.dumps([3, "1", {"currentTime": sent[3]["t"]}]))
    back = json.loads(await wrapped.recv())
    assert abs(datetime.fromisoformat(back[2]["currentTime"]) - later) < timedelta(seconds=1)
