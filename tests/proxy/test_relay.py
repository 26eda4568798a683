"""The proxy relays every frame unchanged and in order, records them, and survives closes."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from harness.proxy import load_recording
from harness.proxy.importers import Sender
from harness.results import RunStore
from harness.transport import HandshakeRefused, OcppSubprotocol, TransportClosed, connect_ocpp
from tests.proxy.helpers import WAIT_S, new_writer, proxied, recv_any

FROM_STATION: list[str | bytes] = [
    '[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]',
    '[2, "2" ,"Heartbeat",  {}]',  # odd spacing must survive byte for byte
    "not json at all",
    '[7,"x"]',
    '{"an": "object"}',
    b"\x00\x01binary\xff",
    '[2,"3","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Åvailable"}]',
]
FROM_CSMS: list[str | bytes] = [
    '[3,"1",{"status":"Accepted","currentTime":"2026-01-01T00:00:00Z","interval":300}]',
    "[3,",
    b"\xde\xad\xbe\xef",
    '[4,"2","NotImplemented","",{}]',
]


async def send_any(transport: object, message: str | bytes) -> None:
    if isinstance(message, bytes):
        await transport.send_binary(message)  # type: ignore[attr-defined]
    else:
        await transport.send(message)  # type: ignore[attr-defined]


async def test_every_frame_arrives_unchanged_in_order_and_is_recorded(tmp_path: Path) -> None:
    async with proxied(tmp_path) as (proxy, _server, accepted):
        async with connect_ocpp(proxy.url("CP%201"), subprotocols=["ocpp1.6"]) as station:
            csms = await accepted.next()
            assert csms.station_id == "CP 1"
            assert station.subprotocol is OcppSubprotocol.V16
            for message in FROM_STATION:
                await send_any(station, message)
            got_csms = [await recv_any(csms) for _ in FROM_STATION]
            for message in FROM_CSMS:
                await send_any(csms, message)
            got_station = [await recv_any(station) for _ in FROM_CSMS]
        assert got_csms == FROM_STATION
        assert got_station == FROM_CSMS
        async with asyncio.timeout(WAIT_S):
            await csms.wait_closed()
        assert proxy.stats.frames_forwarded == len(FROM_STATION) + len(FROM_CSMS)
    run = RunStore.open(proxy_run_dir(tmp_path))
    (key,) = run.trace_keys()
    lines = run.trace(key)
    assert len(lines) == len(FROM_STATION) + len(FROM_CSMS)
    recorded = [
        base64.b64decode(line["binary"]) if "binary" in line else line["raw"] for line in lines
    ]
    assert recorded == FROM_STATION + FROM_CSMS
    assert [line["from"] for line in lines] == ["station"] * 7 + ["csms"] * 4
    assert [line["dir"] for line in lines] == ["in"] * 7 + ["out"] * 4
    assert all(line["station"] == "CP 1" for line in lines)
    assert lines[0]["action"] == "BootNotification"
    assert lines[0]["type"] == 2
    assert lines[2]["type"] is None  # not JSON: recorded as is, summary empty
    stamps = [line["t"] for line in lines]
    assert stamps == sorted(stamps)
    assert all(s.endswith("Z") for s in stamps)
    # The trace reads back as a recording with the right senders.
    recording = load_recording(proxy_run_dir(tmp_path) / "traces" / f"{key}.jsonl")
    assert [f.sender for f in recording.frames][:7] == [Sender.STATION] * 7
    assert recording.frames[5].binary == b"\x00\x01binary\xff"


def proxy_run_dir(root: Path) -> Path:
    (run_dir,) = [p for p in root.iterdir() if p.is_dir()]
    return run_dir


@pytest.mark.parametrize("closer", ["station", "csms"])
async def test_either_side_closing_closes_the_other_with_its_code_and_reason(
    tmp_path: Path, closer: str
) -> None:
    async with proxied(tmp_path) as (proxy, _server, accepted):
        station = await connect_ocpp(proxy.url("CP1"), subprotocols=["ocpp1.6"])
        csms = await accepted.next()
        first, second = (station, csms) if closer == "station" else (csms, station)
        await first.close(code=4001, reason=f"{closer} says bye")
        async with asyncio.timeout(WAIT_S):
            await second.wait_closed()
        assert second.close_code == 4001
        assert second.close_reason == f"{closer} says bye"
        with pytest.raises(TransportClosed):
            await second.recv()
        # The proxy still serves a new connection.
        async with connect_ocpp(proxy.url("CP2"), subprotocols=["ocpp1.6"]) as again:
            csms2 = await accepted.next()
            await again.send('[2,"9","Heartbeat",{}]')
            assert await recv_any(csms2) == '[2,"9","Heartbeat",{}]'
        assert proxy.stats.connections == 2


async def test_a_dropped_station_closes_the_csms_side_with_going_away(tmp_path: Path) -> None:
    async with proxied(tmp_path) as (proxy, _server, accepted):
        station = await connect_ocpp(proxy.url("CP1"), subprotocols=["ocpp1.6"])
        csms = await accepted.next()
        station._ws.transport.abort()  # TCP reset: no close frame
        async with asyncio.timeout(WAIT_S):
            await csms.wait_closed()
        assert csms.close_code == 1001
        assert "1006" in (csms.close_reason or "")


async def test_subprotocol_is_the_upstreams_choice_among_the_stations_offer(
    tmp_path: Path,
) -> None:
    async with proxied(tmp_path, subprotocols=[OcppSubprotocol.V201, OcppSubprotocol.V16]) as (
        proxy,
        _server,
        accepted,
    ):
        async with connect_ocpp(proxy.url("CP1"), subprotocols=["ocpp2.0.1"]) as station:
            csms = await accepted.next()
            assert station.subprotocol is OcppSubprotocol.V201
            assert csms.subprotocol is OcppSubprotocol.V201
        # The upstream's preference wins when the station offers several.
        async with connect_ocpp(proxy.url("CP2"), subprotocols=["ocpp1.6", "ocpp2.0.1"]) as st2:
            assert st2.subprotocol is OcppSubprotocol.V201


async def test_upstream_refusing_the_subprotocol_refuses_the_station(tmp_path: Path) -> None:
    async with proxied(tmp_path, subprotocols=[OcppSubprotocol.V16]) as (proxy, _s, accepted):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(proxy.url("CP1"), subprotocols=["ocpp2.0.1"], close_timeout_s=2)
        assert refused.value.status_code == 101
        assert "upstream refused" in refused.value.reason
        assert "ocpp2.0.1" in refused.value.reason
        assert accepted.calls == 0


async def test_upstream_http_refusal_is_passed_to_the_station(tmp_path: Path) -> None:
    async def deny(station_id: str, headers: object) -> str | None:
        return f"unknown station {station_id}"

    async with proxied(tmp_path, authorize=deny) as (proxy, _s, _accepted):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(proxy.url("CP9"), subprotocols=["ocpp1.6"])
        assert refused.value.status_code == 401
        assert "upstream refused" in refused.value.reason
        assert "unknown station CP9" in refused.value.reason


async def test_basic_auth_goes_upstream_unchanged_and_is_not_recorded(tmp_path: Path) -> None:
    seen: list[str | None] = []

    def check(station_id: str, headers: object) -> str | None:
        seen.append(headers.get("Authorization"))  # type: ignore[attr-defined]
        return None

    secret = "Basic Q1AxOnMzY3JldC1wYXNzd29yZA=="
    async with (
        proxied(tmp_path, authorize=check) as (proxy, _s, accepted),
        connect_ocpp(
            proxy.url("CP1"), subprotocols=["ocpp1.6"], extra_headers={"Authorization": secret}
        ) as station,
    ):
        csms = await accepted.next()
        await station.send('[2,"1","Heartbeat",{}]')
        await recv_any(csms)
    assert seen == [secret]
    assert_not_on_disk(tmp_path, "Q1AxOnMzY3JldC1wYXNzd29yZA")


def assert_not_on_disk(root: Path, secret: str) -> None:
    files = [f for f in root.rglob("*") if f.is_file()]
    assert files
    for file in files:
        assert secret not in file.read_text(encoding="utf-8")


async def test_recording_failure_keeps_forwarding_warns_once_and_counts(
    tmp_path: Path,
) -> None:
    writer = new_writer(tmp_path, "proxy test")
    shutil.rmtree(writer.run_dir)  # the store's folder disappears under the proxy
    with capture_logs() as events:
        async with proxied(None, writer=writer) as (proxy, _s, accepted):
            for station_id in ("CP1", "CP2"):
                async with connect_ocpp(proxy.url(station_id), subprotocols=["ocpp1.6"]) as st:
                    csms = await accepted.next()
                    for n in range(3):
                        await st.send(f'[2,"{n}","Heartbeat",{{}}]')
                        assert await recv_any(csms) == f'[2,"{n}","Heartbeat",{{}}]'
                    await csms.send('[3,"0",{}]')
                    assert await recv_any(st) == '[3,"0",{}]'
                async with asyncio.timeout(WAIT_S):
                    await csms.wait_closed()
            await asyncio.sleep(0)
    assert proxy.stats.frames_forwarded == 8
    assert proxy.stats.frames_not_recorded == 8
    assert proxy.stats.frames_recorded == 0
    assert proxy.stats.first_failure is not None
    warnings = [e for e in events if e["event"] == "recording_failed"]
    assert len(warnings) == 1


def test_trace_lines_are_json_objects(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from harness.proxy.recorder import FrameSource, trace_line

    line = trace_line(
        t=datetime(2026, 1, 1, tzinfo=UTC), source=FrameSource.CSMS, frame="[3,", station="X"
    )
    assert json.loads(json.dumps(line))["raw"] == "[3,"
    assert line["t"] == "2026-01-01T00:00:00.000000Z"


async def test_a_failed_station_upgrade_closes_the_upstream_it_opened(tmp_path: Path) -> None:
    async with proxied(tmp_path) as (proxy, _server, accepted):
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(
            b"GET /CP1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: not-a-key\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n"
        )
        async with asyncio.timeout(WAIT_S):
            status = await reader.readline()
        writer.close()
        assert status.startswith(b"HTTP/1.1 400")
        csms = await accepted.next()  # the upstream was opened during the handshake ...
        async with asyncio.timeout(WAIT_S):
            await csms.wait_closed()  # ... and closed again
        assert csms.close_code == 1001
        assert proxy.stats.connections == 0


async def test_an_unreachable_upstream_refuses_the_station_with_502(tmp_path: Path) -> None:
    from harness.clock import ScaledClock
    from harness.proxy import RecordingProxy
    from tests.conftest import free_port

    upstream = f"ws://127.0.0.1:{free_port()}/ocpp"
    async with RecordingProxy(upstream_url=upstream, writer=None, clock=ScaledClock()) as proxy:
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(proxy.url("CP1"), subprotocols=["ocpp1.6"])
    assert refused.value.status_code == 502
    assert f"upstream {upstream}/CP1 unreachable" in refused.value.reason
