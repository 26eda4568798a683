"""Replay against a station that connects over loopback WebSocket (``--target listen``).

The scenario generated from the recorded smart-charging session (see
``test_record_replay_e2e``) is run with the listen provider; a simulated station connects to
it. The recorded plug-in is an operator prompt in a lab; here the operator plugs the
simulated vehicle in.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.cli import main
from harness.clock import ScaledClock
from harness.results import Manifest, RunStore, Verdict, new_run_id
from harness.runner import ListenProvider, PlannedCase, RunOptions, run_cases
from harness.scenario import load_case_file, resolve_parameters
from harness.transport import OcppSubprotocol
from harness.versions import OcppVersion
from simulators.station import StationConfig
from simulators.station.runtime import SimulatedStation
from simulators.vehicle import load_catalogue
from tests.proxy.test_record_replay_e2e import SPEED, record
from tests.runner.helpers import CAPS


class PluggingOperator:
    """Answers every prompt; a plug-in prompt plugs the simulated vehicle in."""

    def __init__(self, station: SimulatedStation) -> None:
        self.station = station
        self.asked: list[str] = []

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        self.asked.append(message)
        if message.startswith("Plug the vehicle in at EVSE 1"):
            await self.station.plug_in(1)
        return True


async def test_replay_against_a_listening_run(tmp_path: Path) -> None:
    trace = await record(tmp_path / "recorded")
    out = tmp_path / "replay.yaml"
    args = ["scenario", "from-trace", str(trace), "--role", "station", "--out", str(out)]
    assert main(args) == 0
    (case,) = load_case_file(out)
    clock = ScaledClock(speed=SPEED)
    provider = ListenProvider(host="127.0.0.1", port=0, clock=clock)
    server = await provider.start()
    station = SimulatedStation(
        StationConfig(ocpp_version=OcppVersion.V16, station_id="CP-LAB", meter_interval_s=5),
        clock=clock,
        vehicle_params=load_catalogue().get("bev_3ph_16a").vehicle_params(),
    )
    task = asyncio.create_task(station.connect(server.url("CP-LAB")))
    operator = PluggingOperator(station)
    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        (result,) = await run_cases(
            [PlannedCase(case, resolve_parameters(case))],
            provider=provider,
            writer=writer,
            clock=clock,
            operator=operator,
            capabilities=CAPS,
            options=RunOptions(connect_timeout_s=10 * SPEED, boot_wait_s=10 * SPEED),
        )
    await station.stop()
    await task
    assert result.verdict is Verdict.PASS, result.reason
    assert operator.asked == ["Plug the vehicle in at EVSE 1, then confirm."]
    assert [c.verdict for c in result.checks] == [Verdict.PASS] * len(result.checks)
    assert any("GetCompositeSchedule" in c.expected for c in result.checks)
