"""Vehicle facts in a run: vehicle_needs and from_vehicle parameters through run_cases.

The fake station's provider knows nothing of its vehicle, so these runs take the facts from
the capability declaration's ``vehicle:`` section, as a lab run does (the simulated
vehicle's own facts are covered by tests/runner/test_catalogue_verdicts.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import Verdict
from harness.runner.inputs import RunnerInputError, catalogue_vehicle, load_fleet
from harness.scenario import VehicleFacts
from tests.runner.helpers import CAPS, run_yaml

CASE = """
id: VF
title: vehicle facts
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: station
requirements: [{id: R1, level: MUST, text: the must}]
vehicle_needs: [{phases: 3}]
parameters:
  limit_a: {type: number, default: 80, min: 6, max: 80, from_vehicle: max_current_a}
steps:
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {key: MaxLimit, value: "${limit_a} A"}
    expect: {status: {one_of: [Accepted, Rejected, NotSupported]}}
"""


def _caps(**vehicle: object) -> object:
    return CAPS.model_copy(update={"vehicle": VehicleFacts.model_validate(vehicle)})


async def test_a_declared_one_phase_vehicle_makes_the_case_not_applicable(tmp_path: Path) -> None:
    results, _, stations = await run_yaml(
        tmp_path,
        CASE,
        capabilities=_caps(name="lab car", phases=1),  # type: ignore[arg-type]
    )
    (result,) = results
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert result.reason == "needs a vehicle with phases ≥ 3; lab car has phases: 1"
    assert all(not station.received for station in stations)


async def test_a_parameter_takes_the_declared_vehicle_fact(tmp_path: Path) -> None:
    results, _, _ = await run_yaml(
        tmp_path,
        CASE,
        capabilities=_caps(phases=3, max_current_a=13),  # type: ignore[arg-type]
    )
    (result,) = results
    assert result.verdict is Verdict.PASS
    assert result.info.parameters["limit_a"] == 13.0
    assert any("limit_a = 13.0 from the vehicle's max_current_a" in s.text for s in result.steps)


async def test_without_a_vehicle_declaration_the_case_runs_with_its_defaults(
    tmp_path: Path,
) -> None:
    results, _, _ = await run_yaml(tmp_path, CASE)
    (result,) = results
    assert result.verdict is Verdict.PASS
    assert result.info.parameters["limit_a"] == 80.0


async def test_a_given_value_beats_the_vehicle_fact(tmp_path: Path) -> None:
    results, _, _ = await run_yaml(
        tmp_path,
        CASE,
        capabilities=_caps(phases=3, max_current_a=13),  # type: ignore[arg-type]
        params={"limit_a": 20.0},
    )
    (result,) = results
    assert result.info.parameters["limit_a"] == 20.0


def test_a_catalogue_vehicle_knows_its_facts_and_shows_them_as_device_attributes() -> None:
    vehicle = catalogue_vehicle("phev_1ph_16a", vehicle_id="phev-13a", params={"max_current_a": 13})
    assert vehicle.facts is not None
    assert (vehicle.facts.name, vehicle.facts.phases, vehicle.facts.max_current_a) == (
        "phev-13a",
        1,
        13.0,
    )
    assert vehicle.device().attributes == {
        "archetype": "phev_1ph_16a",
        "phases": 1,
        "max_current_a": 13.0,
        "bidirectional": False,
    }


def test_a_bad_catalogue_vehicle_is_an_input_error() -> None:
    with pytest.raises(RunnerInputError, match="unknown vehicle archetype 'no_such'"):
        catalogue_vehicle("no_such")
    with pytest.raises(RunnerInputError, match="max_current_a"):
        catalogue_vehicle("bev_3ph_16a", params={"max_current_a": 200})


def test_fleet_vehicles_carry_their_facts() -> None:
    root = Path(__file__).parents[2] / "scenarios" / "fleets" / "synthetic-fleet.yaml"
    vehicles = {v.id: v for v in load_fleet(root)}
    sleeper = vehicles["syn-bev-1ph-7kw-03"].facts
    assert sleeper is not None
    assert (sleeper.phases, sleeper.max_current_a) == (1, 32.0)
