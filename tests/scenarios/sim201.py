"""Run library cases in process against the built-in OCPP 2.0.1 station, in virtual time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness.clock import LoopClock, run_virtual
from harness.results import CaseResult, Manifest, RunStore, new_run_id
from harness.runner.inputs import sim_capabilities
from harness.runner.operator import AutoOperator
from harness.runner.run import PlannedCase, run_cases
from harness.runner.simstation import builtin_factory
from harness.runner.targets import FleetVehicle, SimProvider, SimSpec, StationFactory
from harness.scenario import Capabilities, load_cases, parse_param_options, resolve_parameters
from harness.transport import OcppSubprotocol
from tests.scenarios.library import SCENARIOS

OCPP201 = SCENARIOS / "ocpp201"
VP201 = SCENARIOS / "vehicle-programme-201"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def run_201(
    paths: Sequence[Path],
    *,
    out: Path,
    fault: str | None = None,
    archetype: str = "bev_3ph_16a",
    capabilities: Capabilities | None = None,
    factory: StationFactory | None = None,
    params: Sequence[str] = (),
    version: OcppSubprotocol = OcppSubprotocol.V201,
) -> dict[str, CaseResult]:
    """The results by case id of ``paths`` against one simulated 2.0.1 station (with the
    vehicle ``archetype`` and the station ``fault``), as ``ocpp-harness run --ocpp 2.0.1``
    runs them: the built-in declaration for 2.0.1, virtual time, results in ``out``.
    ``params`` are ``--param`` texts (``[CASE_ID:]NAME=VALUE``); ``version`` another
    station version for cases that list it too (2.1: the built-in 2.1 declaration)."""
    cases = load_cases(list(paths))
    overrides = parse_param_options(list(params))
    planned = [PlannedCase(c, resolve_parameters(c, overrides)) for c in cases]
    number = version.version.value
    caps = capabilities or sim_capabilities((number,))

    async def main() -> list[CaseResult]:
        clock = LoopClock(start=START)
        vehicle = FleetVehicle("ev", archetype)
        spec = SimSpec(f"SIM-{number}", version, clock, vehicle, fault)
        provider = SimProvider(factory or builtin_factory(), spec)
        manifest = Manifest(
            run_id=new_run_id(started_at=clock.now()),
            started_at=clock.now(),
            target="sim",
            ocpp_versions=(version,),
        )
        with RunStore.create(out, manifest) as writer:
            results = await run_cases(
                planned,
                provider=provider,
                writer=writer,
                clock=clock,
                operator=AutoOperator(),
                capabilities=caps,
            )
            writer.finish(finished_at=clock.now())
        return results

    results = run_virtual(main())
    by_id = {r.info.case_id: r for r in results}
    assert len(by_id) == len(results), "one result per case id and station"
    return by_id
