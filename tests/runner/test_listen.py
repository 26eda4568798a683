"""The ``listen`` target: a station connects over loopback WebSocket; the run judges it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from harness.clock import ScaledClock
from harness.results import CaseResult, Manifest, RunStore, Verdict, new_run_id
from harness.runner import (
    AutoOperator,
    ListenProvider,
    NoOperator,
    PlannedCase,
    RunOptions,
    VehiclesStayPluggedIn,
    run_cases,
)
from harness.scenario import load_case_file, resolve_parameters
from harness.transport import OcppSubprotocol, connect_ocpp
from tests.runner.fake_station import FakeStation
from tests.runner.helpers import CAPS

CASES = """
- id: L1
  title: configuration accepted
  suite: listen
  ocpp_versions: ["1.6"]
  dut_role: station
  steps:
    - kind: vehicle
      action: plug_in
    - {kind: send, action: ChangeConfiguration, payload: {key: K, value: "1"},
       expect: {status: Accepted}}
- id: L2
  title: a 2.0.1 case on a 1.6 connection
  suite: listen
  ocpp_versions: ["2.0.1"]
  dut_role: station
  steps:
    - {kind: wait, duration_s: 1}
"""


async def test_a_station_connecting_over_websocket_is_judged(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES)
    cases = load_case_file(path)
    clock = ScaledClock(speed=1.0)
    provider = ListenProvider(host="127.0.0.1", port=0, clock=clock)
    server = await provider.start()
    station = FakeStation(clock)

    async def station_side() -> None:
        transport = await connect_ocpp(server.url("CP-LAB-1"), subprotocols=[OcppSubprotocol.V16])
        await station.serve(transport)

    task = asyncio.create_task(station_side())
    operator = AutoOperator()
    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    caps = CAPS.model_copy(update={"ocpp_versions": ("1.6", "2.0.1")})
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        results = await run_cases(
            [PlannedCase(c, resolve_parameters(c)) for c in cases],
            provider=provider,
            writer=writer,
            clock=clock,
            operator=operator,
            capabilities=caps,
            options=RunOptions(connect_timeout_s=10, boot_wait_s=2),
        )
    await station.stop()
    task.cancel()
    first, second = results
    assert first.verdict is Verdict.PASS
    assert [d.id for d in first.info.devices] == ["CP-LAB-1"]
    # in a lab the vehicle step is an operator prompt
    assert operator.asked == ["Plug the vehicle in at EVSE 1, then confirm."]
    assert second.verdict is Verdict.NOT_APPLICABLE
    assert "connected with OCPP 1.6" in second.reason


async def test_a_dut_that_does_not_come_back_leaves_the_rest_inconclusive(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cases.yaml"
    one = CASES.split("- id: L2")[0]
    path.write_text(one + one.replace("id: L1", "id: L1b") + one.replace("id: L1", "id: L1c"))
    cases = load_case_file(path)
    clock = ScaledClock(speed=20.0)
    provider = ListenProvider(host="127.0.0.1", port=0, clock=clock)
    server = await provider.start()
    station = FakeStation(clock)
    station.b.disconnect_on = "ChangeConfiguration"

    async def station_side() -> None:  # connects once, never again
        transport = await connect_ocpp(server.url("CP-LAB-2"), subprotocols=[OcppSubprotocol.V16])
        await station.serve(transport)

    task = asyncio.create_task(station_side())
    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        results = await run_cases(
            [PlannedCase(c, resolve_parameters(c)) for c in cases],
            provider=provider,
            writer=writer,
            clock=clock,
            operator=AutoOperator(),
            capabilities=CAPS,
            options=RunOptions(connect_timeout_s=10, reconnect_timeout_s=20, boot_wait_s=2),
        )
    await station.stop()
    task.cancel()
    assert [r.verdict for r in results] == [
        Verdict.FAIL,
        Verdict.INCONCLUSIVE,
        Verdict.INCONCLUSIVE,
    ]
    assert "closed" in results[0].reason
    assert "did not reconnect within 20 s" in results[1].reason
    assert "did not reconnect within 20 s" in results[2].reason  # not held a second time


PARAM_CASE = """
- id: L3
  title: the plug-in prompt names the EVSE the parameter gives
  suite: listen
  ocpp_versions: ["1.6"]
  dut_role: station
  parameters:
    connector_id: {type: integer, default: 2, min: 1, description: connector under test}
  steps:
    - {kind: vehicle, action: plug_in, evse: "${connector_id}"}
    - {kind: send, action: ChangeConfiguration, payload: {key: K, value: "1"},
       expect: {status: Accepted}}
    - {kind: vehicle, action: unplug, evse: "${connector_id}"}
"""


async def _listen_run(
    tmp_path: Path, provider: ListenProvider, operator: Any, clock: ScaledClock
) -> list[CaseResult]:
    path = tmp_path / "cases.yaml"
    path.write_text(PARAM_CASE)
    cases = load_case_file(path)
    server = await provider.start()
    station = FakeStation(clock)

    async def station_side() -> None:
        transport = await connect_ocpp(server.url("CP-LAB-3"), subprotocols=[OcppSubprotocol.V16])
        await station.serve(transport)

    task = asyncio.create_task(station_side())
    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        results = await run_cases(
            [PlannedCase(c, resolve_parameters(c)) for c in cases],
            provider=provider,
            writer=writer,
            clock=clock,
            operator=operator,
            capabilities=CAPS,
            options=RunOptions(connect_timeout_s=10, boot_wait_s=2),
        )
    await station.stop()
    task.cancel()
    return results


async def test_lab_prompt_names_the_resolved_evse(tmp_path: Path) -> None:
    clock = ScaledClock(speed=1.0)
    operator = AutoOperator()
    provider = ListenProvider(host="127.0.0.1", port=0, clock=clock)
    (result,) = await _listen_run(tmp_path, provider, operator, clock)
    assert result.verdict is Verdict.PASS
    assert operator.asked == [
        "Plug the vehicle in at EVSE 2, then confirm.",
        "Unplug the vehicle from EVSE 2, then confirm.",
    ]


async def test_unattended_run_asks_nobody_and_leaves_the_vehicle_plugged_in(
    tmp_path: Path,
) -> None:
    clock = ScaledClock(speed=1.0)
    operator = NoOperator()
    vehicles = VehiclesStayPluggedIn()
    provider = ListenProvider(host="127.0.0.1", port=0, clock=clock, control=vehicles)
    (result,) = await _listen_run(tmp_path, provider, operator, clock)
    assert result.verdict is Verdict.PASS
    assert operator.asked == []
    # the reset before the case "unplugs" too (the run's reset does that in simulation)
    assert vehicles.skipped[-2:] == ["plug_in at EVSE 2", "unplug at EVSE 2"]
    notes = [s.text for s in result.steps]
    assert notes.count("unattended run: the vehicle stays plugged in, nothing done") == 2
