"""Issue #16.1 on ``--target connect``: a CSMS's deeply nested frame is the CSMS's FAIL (and
answered with CALLERROR "-1"), never a harness ERROR."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from websockets.asyncio.server import ServerConnection, serve

from harness.clock import ScaledClock
from harness.results import Manifest, RunStore, Verdict, new_run_id
from harness.runner.connect import csms_capabilities, run_cases_connect
from harness.runner.operator import NoOperator
from harness.runner.run import PlannedCase
from harness.scenario import load_case_file, resolve_parameters
from harness.transport import OcppSubprotocol

CASE = """
id: DEEP
title: the CSMS answers BootNotification
suite: hostile-csms
ocpp_versions: ["1.6"]
dut_role: csms
requirements: [{id: R1, level: MUST, text: BootNotification is accepted}]
steps:
  - kind: send
    action: BootNotification
    payload: {chargePointVendor: ocpp-harness, chargePointModel: simulated-station}
    expect: {status: Accepted}
"""


async def test_a_deeply_nested_frame_from_the_csms_fails_the_csms(tmp_path: Path) -> None:
    seen: list[list[object]] = []

    async def csms(ws: ServerConnection) -> None:
        async for text in ws:
            message = json.loads(text)
            seen.append(message)
            if message[0] == 2 and message[2] == "BootNotification":
                await ws.send("[" * 5000 + "]" * 5000)
                answer = {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z"}
                await ws.send(json.dumps([3, message[1], {**answer, "interval": 300}]))

    path = tmp_path / "case.yaml"
    path.write_text(CASE)
    [case] = load_case_file(path)
    clock = ScaledClock(speed=1.0, start=datetime.now(UTC))
    async with serve(csms, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}/CP-1"
        manifest = Manifest(
            new_run_id(started_at=clock.now()), clock.now(), f"connect {url}",
            (OcppSubprotocol.V16,),
        )  # fmt: skip
        with RunStore.create(tmp_path / "runs", manifest) as writer:
            [result] = await run_cases_connect(
                [PlannedCase(case, resolve_parameters(case))],
                url=url,
                writer=writer,
                clock=clock,
                operator=NoOperator(),
                capabilities=csms_capabilities(["1.6"]),
            )
    assert result.verdict is Verdict.FAIL, result.reason
    assert "nest" in result.reason
    assert [m[:2] for m in seen if m[0] == 4] == [[4, "-1"]]  # answered per OCPP-J
