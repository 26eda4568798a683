"""Issue #16: the harness as CSMS (``listen``) survives a hostile station.

Built on the three-case harness of :mod:`tests.runner.test_misbehaving_peer`: the scripted
station misbehaves during case B; A and C must stay PASS and B must get the DUT's verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.exceptions import InvalidStatus

from harness.clock import ScaledClock
from harness.results import (
    CaseResult,
    Manifest,
    OutsideTrace,
    RunReader,
    RunStore,
    Verdict,
    new_run_id,
)
from harness.runner import AutoOperator, ListenProvider, PlannedCase, RunOptions, run_cases
from harness.scenario import load_case_file, resolve_parameters
from harness.transport import OcppServer, OcppSubprotocol
from tests.runner.helpers import CAPS
from tests.runner.peer_script import ScriptedPeer
from tests.runner.test_misbehaving_peer import _case, _ok_after, _others_intact, _run


async def test_deeply_nested_frame_is_the_stations_fault_not_a_crash(tmp_path: Path) -> None:
    out = await _run(tmp_path, _ok_after("[" * 1000 + "]" * 1000))
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "nest" in out.b.reason
    replies = [m for m in out.peer.received if m[0] == 4]
    assert replies
    assert replies[0][1] == "-1"
    assert any(str(f["raw"]).startswith("[[[[") for f in out.trace_b)


async def test_a_nan_meter_value_is_the_stations_fail(tmp_path: Path) -> None:
    async def misbehave(peer: ScriptedPeer, mid: str) -> bool:
        meter = {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": "2025-01-01T00:00:00Z",
                    "sampledValue": [{"value": "NaN", "measurand": "Power.Active.Import"}],
                }
            ],
        }
        await peer.send_text(json.dumps([2, "mv-1", "MeterValues", meter]))
        await peer.answer(mid, {"status": "Accepted"})
        return False

    out = await _run(tmp_path, misbehave)
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL, out.b.reason
    assert "NaN" in out.b.reason


# ---------------------------------------------------------------------------- one station


async def _listen(
    tmp_path: Path,
    peers: Callable[[OcppServer], Awaitable[None]],
    *,
    station_id: str | None = None,
    reconnect_timeout_s: float = 10.0,
    server_options: dict[str, Any] | None = None,
    secrets: tuple[str, ...] = (),
) -> tuple[list[CaseResult], RunReader]:
    """Cases A, B, C (as in test_misbehaving_peer) on ``listen``; ``peers`` drives stations."""
    path = tmp_path / "cases.yaml"
    path.write_text(_case("A", "A") + _case("B", "B") + _case("C", "C"))
    cases = load_case_file(path)
    clock = ScaledClock(speed=1.0)
    provider = ListenProvider(
        host="127.0.0.1",
        port=0,
        clock=clock,
        station_id=station_id,
        server_options=server_options,
    )
    server = await provider.start()
    task = asyncio.create_task(peers(server))
    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    try:
        with RunStore.create(tmp_path / "runs", manifest, secrets=secrets) as writer:
            async with asyncio.timeout(60):  # never hangs past its timeouts
                results = await run_cases(
                    [PlannedCase(c, resolve_parameters(c)) for c in cases],
                    provider=provider,
                    writer=writer,
                    clock=clock,
                    operator=AutoOperator(),
                    capabilities=CAPS,
                    options=RunOptions(
                        connect_timeout_s=10,
                        reconnect_timeout_s=reconnect_timeout_s,
                        boot_wait_s=2,
                        reset_timeout_s=5,
                    ),
                    secrets=secrets,
                )
            writer.finish(finished_at=clock.now())
            run_dir = writer.run_dir
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return results, RunReader(run_dir)


def _all_frames(reader: RunReader) -> list[dict[str, Any]]:
    frames = [f for key in reader.trace_keys() for f in reader.trace(key)]
    return frames + reader.outside()


async def _leave_on_b(peer: ScriptedPeer, mid: str) -> bool:
    assert peer.ws is not None
    await peer.ws.close()  # leave without answering
    return True


async def test_another_station_cannot_take_over_a_listen_run(tmp_path: Path) -> None:
    async def peers(server: OcppServer) -> None:
        owner = ScriptedPeer(server.url("CPA"), _leave_on_b, reconnect=False)
        await owner.run()  # A passes, then it leaves during B and never comes back
        intruder = ScriptedPeer(server.url("INTRUDER"), _leave_on_b, reconnect=False)
        with contextlib.suppress(InvalidStatus):
            await intruder.run()
        await asyncio.Event().wait()

    results, reader = await _listen(tmp_path, peers, reconnect_timeout_s=3)
    a, _, c = results
    assert a.verdict is Verdict.PASS
    assert c.verdict is Verdict.INCONCLUSIVE
    assert "did not reconnect" in c.reason
    assert all(f.get("station") in (None, "CPA") for f in _all_frames(reader))
    refused = [e for e in reader.events() if e["event"] == "station_refused"]
    assert refused
    assert refused[0]["station_id"] == "INTRUDER"
    assert refused[0]["status"] == 404


async def test_station_id_option_refuses_every_other_id(tmp_path: Path) -> None:
    async def peers(server: OcppServer) -> None:
        with contextlib.suppress(InvalidStatus):
            await ScriptedPeer(server.url("FIRST"), _leave_on_b).run()
        await ScriptedPeer(server.url("CP-OWN"), _ok_after("[]")).run()

    results, reader = await _listen(tmp_path, peers, station_id="CP-OWN")
    assert [d.id for d in results[0].info.devices] == ["CP-OWN"]
    assert results[0].verdict is Verdict.PASS
    assert [e["station_id"] for e in reader.events()] == ["FIRST"]


async def test_a_station_that_leaves_mid_run_does_not_hold_the_run(tmp_path: Path) -> None:
    async def peers(server: OcppServer) -> None:
        await ScriptedPeer(server.url("CP-GONE"), _leave_on_b, reconnect=False).run()
        await asyncio.Event().wait()

    results, reader = await _listen(tmp_path, peers, reconnect_timeout_s=2)
    assert results[0].verdict is Verdict.PASS
    assert results[2].verdict is Verdict.INCONCLUSIVE
    assert "did not reconnect within 2 s" in results[2].reason
    assert reader.finished
    assert [e["event"] for e in reader.events()] == ["no_connection"]


async def test_frames_outside_cases_and_floods_are_recorded(tmp_path: Path) -> None:
    flood = 300

    async def peers(server: OcppServer) -> None:
        async def heartbeats(peer: ScriptedPeer, mid: str) -> bool:
            for i in range(flood):
                await peer.send_text(json.dumps([2, f"hb-{i}", "Heartbeat", {}]))
            await peer.send_text('{"not json')  # a violation
            await peer.answer(mid, {"status": "Accepted"})
            return False

        peer = ScriptedPeer(server.url("CP-FLOOD"), heartbeats)
        await peer.run()

    results, reader = await _listen(tmp_path, peers)
    assert results[0].verdict is Verdict.PASS
    outside = reader.outside()
    actions = [f.get("action") for f in outside]
    assert "BootNotification" in actions  # the boot came before any case
    summary = outside[-1]["summary"]
    assert summary["in 2 BootNotification"] >= 1
    frames = _all_frames(reader)
    heartbeats = {f["id"] for f in frames if f.get("action") == "Heartbeat" and f["dir"] == "in"}
    assert len(heartbeats) == flood  # every frame of the flood is in some trace


def test_an_outside_trace_counts_a_flood_past_its_bound(tmp_path: Path) -> None:
    trace = OutsideTrace(tmp_path / "outside.jsonl", max_frames=10)
    for i in range(25):
        trace.append({"dir": "in", "type": 2, "action": "Heartbeat", "id": str(i), "raw": "[]"})
    trace.close()
    lines = [json.loads(line) for line in (tmp_path / "outside.jsonl").read_text().splitlines()]
    assert len(lines) == 11
    assert lines[-1] == {"summary": {"in 2 Heartbeat": 25}, "counted_only": 15}


async def test_the_wait_for_a_first_connection_is_bounded_and_counted_down() -> None:
    shown: list[tuple[float, float]] = []
    provider = ListenProvider(
        host="127.0.0.1",
        port=0,
        clock=ScaledClock(speed=1.0),
        on_waiting=lambda left, total: shown.append((left, total)),
    )
    await provider.start()
    try:
        async with asyncio.timeout(10):
            assert await provider.connect(timeout_s=0.5) is None
    finally:
        await provider.close()
    assert shown
    assert shown[0][1] == 0.5
    assert all(0 < left <= total for left, total in shown)
