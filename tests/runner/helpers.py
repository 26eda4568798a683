"""Helpers: run YAML cases against the fake station through the public run API."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.clock import Clock, ManualClock, ScaledClock
from harness.results import CaseResult, Manifest, RunStore, Verdict, new_run_id
from harness.runner import (
    AutoOperator,
    FleetVehicle,
    PlannedCase,
    RunOptions,
    SimProvider,
    SimSpec,
    run_cases,
)
from harness.scenario import (
    Capabilities,
    ResolvedParameters,
    load_case_file,
    resolve_parameters,
)
from harness.transport import OcppSubprotocol
from tests.runner.fake_station import FakeBehaviour, FakeStation

CAPS = Capabilities.model_validate(
    {
        "ocpp_versions": ["1.6"],
        "role": "station",
        "smart_charging": True,
        "purposes": ["station_max", "tx_default", "tx"],
        "profile_kinds": ["absolute", "recurring", "relative"],
        "units": ["A"],
        "max_stack_level": 8,
        "max_periods": 24,
        "number_of_evses": 1,
        "max_current_a": 32.0,
        "measurands": ["Current.Import", "Power.Active.Import"],
    }
)


def write_cases(tmp_path: Path, text: str, name: str = "cases.yaml") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_text(text)
    return path


async def run_yaml(
    tmp_path: Path,
    text: str,
    *,
    behaviours: list[FakeBehaviour] | None = None,
    capabilities: Capabilities = CAPS,
    speed: float | None = None,
    params: Mapping[str, Any] | None = None,
    operator: Any = None,
    clock: Clock | None = None,
    lab_meter: Any = None,
    subprotocol: OcppSubprotocol = OcppSubprotocol.V16,
    station_class: type[FakeStation] = FakeStation,
) -> tuple[list[CaseResult], Path, list[FakeStation]]:
    """Run every case in ``text`` on fake stations (a new one per (re)connection).

    With ``speed=None`` the clock is a :class:`ManualClock` that moves only when every task
    waits on it (discrete-event time: deterministic, no sleeping); ``clock`` overrides it
    (e.g. the clock a started ``lab_meter`` shares)."""
    cases = load_case_file(write_cases(tmp_path, text))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    if clock is None:
        clock = ManualClock(start=start) if speed is None else ScaledClock(speed=speed, start=start)
    queue = list(behaviours or [FakeBehaviour()])
    stations: list[FakeStation] = []

    def factory(spec: SimSpec) -> FakeStation:
        behaviour = queue.pop(0) if len(queue) > 1 else queue[0]
        station = station_class(spec.clock, behaviour)
        stations.append(station)
        return station

    vehicle = FleetVehicle("ev-1", "bev_3ph_16a")
    provider = SimProvider(factory, SimSpec("CP1", subprotocol, clock, vehicle))
    manifest = Manifest(new_run_id(started_at=clock.now()), clock.now(), "sim", (subprotocol,))
    given = dict(params or {})
    planned = [
        PlannedCase(c, ResolvedParameters({**resolve_parameters(c), **given}, explicit=given))
        for c in cases
    ]
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        job = run_cases(
            planned,
            provider=provider,
            writer=writer,
            clock=clock,
            operator=operator or AutoOperator(),
            capabilities=capabilities,
            options=RunOptions(connect_timeout_s=30, boot_wait_s=5),
            lab_meter=lab_meter,
        )
        results = await drive(clock, job) if isinstance(clock, ManualClock) else await job
        writer.finish(finished_at=clock.now())
    return results, writer.run_dir, stations


def verdicts(results: list[CaseResult]) -> dict[str, Verdict]:
    return {r.info.case_id: r.verdict for r in results}


async def drive(clock: ManualClock, job: Any) -> Any:
    """Run ``job``, moving ``clock`` to the next sleeper's deadline whenever all is idle."""
    task = asyncio.ensure_future(job)
    while not task.done():
        for _ in range(300):
            await asyncio.sleep(0)
            if task.done():
                break
        else:
            deadline = clock.next_deadline()
            if deadline is not None:
                clock.advance_to(deadline)
    return task.result()
