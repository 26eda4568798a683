"""The lab server in process: which stations it serves, what a "no" does, a station that
comes back after its run."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from harness.clock import ScaledClock
from harness.lab import LabPlan, LabServer, StationState
from harness.results import RunStore, Verdict
from harness.runner import PlannedCase, RunOptions
from harness.scenario import load_capabilities, load_case_file, resolve_parameters
from harness.transport import (
    OcppSubprotocol,
    TransportClosed,
    WebSocketTransport,
    connect_ocpp,
)
from harness.versions import OcppVersion
from simulators.station.config import StationConfig
from simulators.station.runtime import SimulatedStation

HERE = Path(__file__).parent


class Answers:
    """An operator that acknowledges and answers every question with ``yes``."""

    def __init__(self, *, yes: bool) -> None:
        self.yes = yes
        self.asked: list[str] = []

    async def ask(self, message: str, *, yes_no: bool) -> bool:
        self.asked.append(message)
        return self.yes or not yes_no


def _server(
    tmp_path: Path,
    operator: Answers,
    lines: list[str],
    *,
    limit: int,
    pause_s: float = 0,
    speed: float = 1.0,
) -> LabServer:
    [case] = load_case_file(HERE / "scenarios" / "LAB_01.yaml")
    caps = load_capabilities(HERE / "sim-station.yaml")
    return LabServer(
        LabPlan(
            [PlannedCase(case, {**resolve_parameters(case), "pause_s": pause_s})],
            capabilities=lambda sid: caps if sid.startswith("CP-") else None,
            out=tmp_path / "runs",
            options=RunOptions(connect_timeout_s=None, boot_wait_s=5),
            station_limit=limit,
        ),
        clock=ScaledClock(speed=speed),
        operators=lambda sid: operator,
        echo=lines.append,
    )


def _station(station_id: str) -> SimulatedStation:
    return SimulatedStation(
        StationConfig(station_id=station_id, ocpp_version=OcppVersion.V16), clock=ScaledClock()
    )


async def test_operator_no_fails_and_a_station_without_declaration_is_closed(
    tmp_path: Path,
) -> None:
    operator, lines = Answers(yes=False), []
    server = _server(tmp_path, operator, lines, limit=1)
    await server.start()
    try:
        stranger = await connect_ocpp(f"{server.url}/XX-1", subprotocols=(OcppSubprotocol.V16,))
        with pytest.raises(TransportClosed) as closed:
            await asyncio.wait_for(stranger.recv(), 10)
        assert closed.value.code == 1008
        known = _station("CP-1")
        task = asyncio.create_task(known.connect(f"{server.url}/CP-1"))
        await asyncio.wait_for(server.wait_done(), 20)
        await asyncio.wait_for(task, 10)  # the run's end closes the connection
    finally:
        await server.close()
    assert "[XX-1] refused: no capability declaration for this station" in lines
    assert "XX-1" not in server.runs
    assert operator.asked == [
        "Plug the vehicle in at EVSE 1",
        "Does the station show that it is charging?",
    ]
    run_dir = server.runs["CP-1"].run_dir
    assert run_dir is not None
    [result] = RunStore.open(run_dir).results()
    assert result.verdict is Verdict.FAIL
    assert "[CP-1] LAB_01: FAIL" in "\n".join(lines)
    assert server.summaries()["CP-1"].ok is False
    # The run's end as `run` prints it (harness.runner.output), each line naming the station:
    # the recap with the question answered "no", the summary, the run folder, its reports.
    assert "[CP-1] Recap of cases that did not pass:" in lines
    assert any(line.startswith("[CP-1] ") and "charging" in line for line in lines), lines
    assert any(line.startswith("[CP-1] 0 passed, 1 failed, 0 inconclusive") for line in lines), (
        lines
    )
    assert f"[CP-1] Run folder: {run_dir}" in lines
    reports = [line.split(": ", 1)[1] for line in lines if line.startswith("[CP-1] Report: ")]
    assert reports == [str(run_dir / "report" / "index.html")]
    assert await asyncio.to_thread(os.path.isfile, reports[0])
    end = lines[lines.index("[CP-1] Recap of cases that did not pass:") :]
    end = end[: next(i for i, line in enumerate(end) if line.startswith("[CP-1] Report: "))]
    assert all(line == "" or line.startswith("[CP-1] ") for line in end), end


async def test_a_station_back_after_its_run_is_served_idly(tmp_path: Path) -> None:
    lines: list[str] = []
    server = _server(tmp_path, Answers(yes=True), lines, limit=1)
    await server.start()
    try:
        first = _station("CP-2")
        task = asyncio.create_task(first.connect(f"{server.url}/CP-2"))
        await asyncio.wait_for(server.wait_done(), 20)
        await asyncio.wait_for(task, 10)
        again = _station("CP-2")
        task = asyncio.create_task(again.connect(f"{server.url}/CP-2"))
        await asyncio.wait_for(again.wait_booted(), 10)  # BootNotification answered
        await again.stop()
        await asyncio.wait_for(task, 10)
    finally:
        await server.close()
    assert "[CP-2] connected again after its run: served idly" in lines
    status = server.board.stations["CP-2"]
    assert status.state is StationState.DONE
    assert status.verdicts == {Verdict.PASS: 1}
    assert len([p for p in (tmp_path / "runs").iterdir() if p.is_dir()]) == 1  # no second run
    # issue #16: what the station sent after its run is recorded too
    (idle,) = (tmp_path / "runs").glob("serve-*-idle.jsonl")
    frames = [json.loads(line) for line in idle.read_text().splitlines()]
    assert "BootNotification" in [f.get("action") for f in frames if f.get("dir") == "in"]


async def test_a_long_wait_shows_a_countdown(tmp_path: Path) -> None:
    """A ten-minute pause (on a clock 1000 times faster than real time, for the test)."""
    lines: list[str] = []
    server = _server(tmp_path, Answers(yes=True), lines, limit=1, pause_s=600, speed=1000)
    await server.start()
    try:
        station = _station("CP-3")
        task = asyncio.create_task(station.connect(f"{server.url}/CP-3"))
        await asyncio.wait_for(server.wait_done(), 20)
        await asyncio.wait_for(task, 10)
    finally:
        await server.close()
    countdown = [line for line in lines if " wait " in line]
    assert countdown[0] == "[CP-3] LAB_01: wait 10m 00s left of 10m 00s"
    assert countdown[-1] == "[CP-3] LAB_01: wait 0s left of 10m 00s"
    assert len(countdown) == 37
    assert server.summaries()["CP-3"].ok


BOOT = '[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'


async def _answer_to(transport: WebSocketTransport, message_id: str) -> str:
    """The first frame carrying ``message_id`` (20 s at most)."""
    async with asyncio.timeout(20):
        while True:
            text = await transport.recv()
            if f'"{message_id}"' in text:
                return text


async def test_a_duplicate_connection_replaces_the_old_one_as_in_listen(tmp_path: Path) -> None:
    """Issue #16.8: the second connection of an id is served (not left unanswered), the first
    is closed with 1008, and the board follows the newest connection."""
    lines: list[str] = []
    server = _server(tmp_path, Answers(yes=True), lines, limit=1, pause_s=600)
    await server.start()
    try:
        first = await connect_ocpp(f"{server.url}/CP-D", subprotocols=(OcppSubprotocol.V16,))
        await first.send(BOOT)
        await _answer_to(first, "b1")  # the run has taken the first connection
        second = await connect_ocpp(f"{server.url}/CP-D", subprotocols=(OcppSubprotocol.V16,))
        with pytest.raises(TransportClosed) as closed:
            await _answer_to(first, "never")
        assert closed.value.code == 1008
        await second.send(BOOT)
        answer = await _answer_to(second, "b1")  # the duplicate is answered
        assert answer.startswith("[3,")
        status = server.board.station("CP-D")
        assert status.connected
        assert status.state is not StationState.WAITING
        await second.close()
    finally:
        await server.close()
    assert any("replaced by a new connection" in line for line in lines)
    run_dir = server.runs["CP-D"].run_dir
    assert run_dir is not None
    events = RunStore.open(run_dir).events()
    assert [e["event"] for e in events][:1] == ["connection_replaced"]
