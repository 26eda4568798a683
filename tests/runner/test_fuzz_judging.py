"""How the ``fuzz`` step judges answers: a refusal with another code is NON_STRICT, accepting
a malformed request is FAIL (a station over loopback websockets, OCPP 1.6)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness.clock import ScaledClock
from harness.results import CaseResult, Manifest, RunStore, Verdict, new_run_id
from harness.runner import AutoOperator, ListenProvider, PlannedCase, RunOptions, run_cases
from harness.scenario import load_case_file, resolve_parameters
from harness.transport import OcppSubprotocol
from harness.versions import OcppVersion
from simulators.station.crash import malformed_request
from tests.runner.helpers import CAPS

CASE = """
id: FZ
title: barrage
suite: robustness
ocpp_versions: ["1.6"]
dut_role: station
requirements: [{id: FZ, level: MUST, text: refuses malformed requests}]
steps:
  - {kind: fuzz, seed: 4, count: 6, mutations: [wrong_type, unknown_action], timeout_s: 2}
"""


async def _station(url: str, malformed_answer: list[Any]) -> None:
    """Answers well-formed CALLs Accepted and malformed ones with ``malformed_answer``
    (``[4, code]`` or ``[3, payload]``)."""
    async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        boot = {"chargePointVendor": "V", "chargePointModel": "M"}
        await ws.send(json.dumps([2, "boot", "BootNotification", boot]))
        try:
            async for text in ws:
                message = json.loads(text)
                if message[0] != 2:
                    continue
                mid = message[1]
                if malformed_request(str(text), OcppVersion.V16) is None:
                    await ws.send(json.dumps([3, mid, {"status": "Accepted"}]))
                elif malformed_answer[0] == 4:
                    await ws.send(json.dumps([4, mid, malformed_answer[1], "", {}]))
                else:
                    await ws.send(json.dumps([3, mid, malformed_answer[1]]))
        except ConnectionClosed:
            return


async def _run(tmp_path: Path, malformed_answer: list[Any], case_text: str = CASE) -> CaseResult:
    path = tmp_path / "case.yaml"
    path.write_text(case_text)
    (case,) = load_case_file(path)
    clock = ScaledClock(speed=1.0)
    provider = ListenProvider(host="127.0.0.1", port=0, clock=clock)
    server = await provider.start()
    task = asyncio.create_task(_station(server.url("FZ-1"), malformed_answer))
    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    try:
        with RunStore.create(tmp_path / "runs", manifest) as writer:
            async with asyncio.timeout(30):
                (result,) = await run_cases(
                    [PlannedCase(case, resolve_parameters(case))],
                    provider=provider,
                    writer=writer,
                    clock=clock,
                    operator=AutoOperator(),
                    capabilities=CAPS,
                    options=RunOptions(connect_timeout_s=10, boot_wait_s=2, reset_timeout_s=5),
                )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return result


async def test_a_refusal_with_another_code_is_non_strict(tmp_path: Path) -> None:
    result = await _run(tmp_path, [4, "GenericError"])
    assert result.verdict is Verdict.NON_STRICT, result.reason
    must, should = result.checks
    assert must.verdict is Verdict.PASS
    assert should.verdict is Verdict.NON_STRICT
    assert "CALLERROR GenericError" in should.actual
    assert should.frames  # the answers with the other code are the evidence


async def test_accepting_a_malformed_request_fails(tmp_path: Path) -> None:
    result = await _run(tmp_path, [3, {"status": "Accepted"}])
    assert result.verdict is Verdict.FAIL
    must = result.checks[0]
    assert must.verdict is Verdict.FAIL
    assert 'CALLRESULT {"status":"Accepted"}' in must.actual
    assert "seed 4" in must.actual


async def test_a_barrage_of_no_requests_is_inconclusive_not_a_pass(tmp_path: Path) -> None:
    empty = CASE.replace("count: 6", "count: 0")
    result = await _run(tmp_path, [4, "GenericError"], empty)
    assert result.verdict is Verdict.INCONCLUSIVE, result.reason
    assert "nothing was checked" in result.checks[0].actual
