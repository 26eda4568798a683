"""The OCA OCPP 1.6 Core cases beside smart charging (issue 18, point 4: remote start/stop
TC_010/011_1/011_2/012/026/027/028_CS, meter values TC_070/071_CS): every one PASSes on the
built-in simulated 1.6 station, and FAILs, naming its requirement, on that station with one
of its messages rewritten where the case looks (a transport between harness and station).
The scripted station of tests/runner/fake_station_core16.py proves them both ways too
(tests/runner/test_scripted_oca_station.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.clock import LoopClock, run_virtual
from harness.results import CaseResult, Manifest, RunStore, Verdict, new_run_id
from harness.runner.inputs import sim_capabilities
from harness.runner.operator import AutoOperator, SimulationControl
from harness.runner.run import PlannedCase, run_cases
from harness.runner.simstation import builtin_factory
from harness.runner.targets import FleetVehicle, SimProvider, SimSpec, SimStation, StationFactory
from harness.scenario import load_cases, resolve_parameters
from harness.transport import DelegatingTransport, OcppSubprotocol, Transport
from tests.scenarios.library import CORE16_IDS, SCENARIOS

START = datetime(2026, 3, 2, 8, 0, 7, tzinfo=UTC)
Payload = dict[str, Any]
Rewrite = Callable[[str, Payload], Payload]
"""Rewrites a CALL the station sends (action, payload) before the harness sees it."""


class _Outgoing(DelegatingTransport):
    def __init__(self, inner: Transport, rewrite: Rewrite) -> None:
        super().__init__(inner)
        self._rewrite = rewrite

    async def send(self, text: str) -> None:
        frame = json.loads(text)
        if isinstance(frame, list) and frame[0] == 2:
            text = json.dumps([2, frame[1], frame[2], self._rewrite(frame[2], frame[3])])
        await self._inner.send(text)


class _Station:
    def __init__(self, inner: SimStation, rewrite: Rewrite) -> None:
        self._inner, self._rewrite = inner, rewrite

    @property
    def control(self) -> SimulationControl:
        return self._inner.control

    async def serve(self, transport: Transport) -> None:
        await self._inner.serve(_Outgoing(transport, self._rewrite))

    async def stop(self) -> None:
        await self._inner.stop()


def rewriting(rewrite: Rewrite) -> StationFactory:
    inner = builtin_factory()
    return lambda spec: _Station(inner(spec), rewrite)


def run_16(case_ids: tuple[str, ...], out: Path, factory: StationFactory) -> dict[str, CaseResult]:
    """The results by id of the library's ``case_ids`` on one simulated 1.6 station, in
    virtual time, as ``ocpp-harness run --ocpp 1.6`` runs them."""
    cases = [c for c in load_cases([SCENARIOS / "ocpp16"]) if c.id in case_ids]
    planned = [PlannedCase(c, resolve_parameters(c)) for c in cases]

    async def main() -> list[CaseResult]:
        clock = LoopClock(start=START)
        spec = SimSpec("SIM-16", OcppSubprotocol.V16, clock, FleetVehicle("ev", "bev_3ph_16a"))
        manifest = Manifest(
            new_run_id(started_at=clock.now()), clock.now(), "sim", (spec.subprotocol,)
        )
        with RunStore.create(out, manifest) as writer:
            results = await run_cases(
                planned,
                provider=SimProvider(factory, spec),
                writer=writer,
                clock=clock,
                operator=AutoOperator(),
                capabilities=sim_capabilities(("1.6",)),
            )
            writer.finish(finished_at=clock.now())
        return results

    return {r.info.case_id: r for r in run_virtual(main())}


def test_every_core_case_passes_on_the_simulated_station(tmp_path: Path) -> None:
    results = run_16(CORE16_IDS, tmp_path, builtin_factory())
    assert sorted(results) == sorted(CORE16_IDS)
    for case_id, result in results.items():
        assert result.verdict is Verdict.PASS, (case_id, [c.actual for c in result.checks])


def _status(wrong: str, instead: str) -> Rewrite:
    def rewrite(action: str, payload: Payload) -> Payload:
        if action == "StatusNotification" and payload.get("status") == wrong:
            return {**payload, "status": instead}
        return payload

    return rewrite


def _stop_reason(action: str, payload: Payload) -> Payload:
    return {**payload, "reason": "Local"} if action == "StopTransaction" else payload


def _context(action: str, payload: Payload) -> Payload:
    if action != "MeterValues":
        return payload
    values = [
        {**v, "sampledValue": [{**s, "context": "Sample.Clock"} for s in v["sampledValue"]]}
        for v in payload["meterValue"]
    ]
    return {**payload, "meterValue": values}


def _interval_energy(action: str, payload: Payload) -> Payload:
    """The register reported as an interval reading (Energy.Active.Import.Interval)."""
    if action != "MeterValues":
        return payload
    register = "Energy.Active.Import.Register"
    values = [
        {
            **v,
            "sampledValue": [
                {**s, "measurand": "Energy.Active.Import.Interval"}
                if s.get("measurand", register) == register
                else s
                for s in v["sampledValue"]
            ],
        }
        for v in payload["meterValue"]
    ]
    return {**payload, "meterValue": values}


@pytest.mark.parametrize(
    ("case_id", "rewrite", "shown"),
    [
        ("TC_010_CS", _status("Charging", "SuspendedEVSE"), "SuspendedEVSE"),
        ("TC_011_1_CS", _status("Preparing", "Available"), "no StatusNotification"),
        ("TC_011_2_CS", _status("Available", "Preparing"), "no StatusNotification"),
        ("TC_012_CS", _stop_reason, '"Local"'),
        ("TC_070_CS", _context, "Sample.Clock, not Sample.Periodic"),
        ("TC_071_CS", _interval_energy, "no sampledValue of the configured Energy.Active.Import"),
    ],
    ids=["TC_010_CS", "TC_011_1_CS", "TC_011_2_CS", "TC_012_CS", "TC_070_CS", "TC_071_CS"],
)
def test_a_station_message_rewritten_where_the_case_looks_fails_it(
    tmp_path: Path, case_id: str, rewrite: Rewrite, shown: str
) -> None:
    (result,) = run_16((case_id,), tmp_path, rewriting(rewrite)).values()
    assert result.verdict is Verdict.FAIL, [c.actual for c in result.checks]
    failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert failed[0].requirement.id == case_id, [c.actual for c in failed]
    assert shown in failed[0].actual, failed[0].actual
