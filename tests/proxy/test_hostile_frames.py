"""Issue #16: the proxy bounds frame sizes and records frames it cannot parse safely."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from harness.clock import ScaledClock
from harness.proxy import load_recording
from harness.proxy.server import RecordingProxy
from harness.results import RunStore
from harness.transport import DEFAULT_MAX_FRAME_BYTES, connect_ocpp
from tests.proxy.helpers import WAIT_S, new_writer, proxied, recv_any
from tests.transport.helpers import running_server


def _run_dir(root: Path) -> Path:
    (run_dir,) = [p for p in root.iterdir() if p.is_dir()]
    return run_dir


async def test_a_deeply_nested_frame_is_forwarded_and_recorded(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    async with (
        proxied(tmp_path) as (proxy, _server, accepted),
        connect_ocpp(proxy.url("CP1"), subprotocols=["ocpp1.6"]) as station,
    ):
        csms = await accepted.next()
        await station.send(deep)
        assert await recv_any(csms) == deep
        await station.send('[2,"1","Heartbeat",{}]')
        assert await recv_any(csms) == '[2,"1","Heartbeat",{}]'
    assert proxy.stats.frames_not_recorded == 0
    run = RunStore.open(_run_dir(tmp_path))
    (key,) = run.trace_keys()
    assert [line["raw"] for line in run.trace(key)] == [deep, '[2,"1","Heartbeat",{}]']


async def test_a_frame_over_the_limit_closes_both_sides_with_1009_and_the_proxy_goes_on(
    tmp_path: Path,
) -> None:
    async with running_server(max_frame_bytes=None) as (server, accepted):
        upstream = server.url("x").rpartition("/")[0]
        proxy = RecordingProxy(
            upstream_url=upstream,
            writer=new_writer(tmp_path, f"proxy {upstream}"),
            clock=ScaledClock(),
            max_frame_bytes=64 * 1024,
        )
        async with proxy:
            station = await connect_ocpp(proxy.url("CP1"), subprotocols=["ocpp1.6"])
            csms = await accepted.next()
            await station.send('[2,"1","DataTransfer",{"vendorId":"' + "x" * 200_000 + '"}]')
            async with asyncio.timeout(WAIT_S):
                await csms.wait_closed()
                await station.wait_closed()
            assert csms.close_code == 1009
            assert station.close_code == 1009
            assert proxy.stats.frames_too_big == 1
            assert proxy.stats.frames_forwarded == 0
            # the proxy still serves another station
            async with connect_ocpp(proxy.url("CP2"), subprotocols=["ocpp1.6"]) as other:
                csms2 = await accepted.next()
                await other.send('[2,"1","Heartbeat",{}]')
                assert await recv_any(csms2) == '[2,"1","Heartbeat",{}]'


def test_the_proxy_has_a_frame_size_limit_by_default() -> None:
    proxy = RecordingProxy(upstream_url="ws://127.0.0.1:1", writer=None, clock=ScaledClock())
    assert proxy.max_frame_bytes == DEFAULT_MAX_FRAME_BYTES


def test_a_recording_with_a_deeply_nested_frame_loads(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    boot = '[2,"1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
    lines = [
        {"t": f"2026-01-01T00:00:0{i}Z", "dir": "in", "raw": raw, "station": "CP",
         "type": None, "id": None, "action": None, "from": "station"}
        for i, raw in enumerate([deep, boot])
    ]  # fmt: skip
    path = tmp_path / "recording.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    recording = load_recording(path)
    assert [f.message() is None for f in recording.frames] == [True, False]
