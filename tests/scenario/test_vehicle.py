"""Vehicle facts: vehicle_needs select cases, from_vehicle parameters take the vehicle's values."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.scenario import (
    Capabilities,
    Case,
    ResolvedParameters,
    ScenarioLoadError,
    VehicleFact,
    VehicleFacts,
    VehicleNeed,
    load_capabilities,
    load_cases,
    parse_param_options,
    resolve_parameters,
    selects,
    with_vehicle_facts,
)
from harness.scenario.fleet import load_fleet
from tests.scenario.conftest import MINIMAL

ROOT = Path(__file__).parents[2]

THREE_PHASE = MINIMAL + "vehicle_needs: [{phases: 3}]\n"
WITH_MAX = (
    MINIMAL
    + """\
parameters:
  vehicle_max_a: {type: number, default: 80, min: 6, max: 80, from_vehicle: max_current_a}
  tolerance_a: {type: number, default: 1.0}
"""
)
ONE_PHASE = VehicleFacts(name="car-1ph", phases=1, max_current_a=32)
THREE_PHASE_13A = VehicleFacts(name="car-13a", phases=3, max_current_a=13)


def _station(**claims: object) -> Capabilities:
    return Capabilities.model_validate({"ocpp_versions": ["1.6"], "role": "station", **claims})


def _case(write: Callable[[str, str], Path], text: str) -> Case:
    (case,) = load_cases([write(text, "case.yaml")])
    return case


def test_vehicle_needs_parse_flags_and_minima(write: Callable[[str, str], Path]) -> None:
    case = _case(write, MINIMAL + "vehicle_needs: [bidirectional, {max_current_a: 16}]\n")
    assert case.vehicle_needs == (
        VehicleNeed(VehicleFact.BIDIRECTIONAL),
        VehicleNeed(VehicleFact.MAX_CURRENT_A, minimum=16.0),
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("phases", "'phases' needs a minimum: write {phases: N}"),
        ("bidirectinal", "did you mean 'bidirectional'?"),
        ("{phase: 3}", "did you mean 'phases'?"),
        ("{phases: three}", "expected a number as the minimum phases"),
        ("{bidirectional: 1}", "a minimum is one of: phases, max_current_a"),
    ],
)
def test_bad_vehicle_needs_say_what_was_expected(
    problems: Callable[[str], list[str]], entry: str, message: str
) -> None:
    found = problems(MINIMAL + f"vehicle_needs: [{entry}]\n")
    assert len(found) == 1
    assert "vehicle_needs" in found[0]
    assert message in found[0]


def test_a_known_fact_that_falls_short_makes_the_case_not_applicable_with_a_reason(
    write: Callable[[str, str], Path],
) -> None:
    case = _case(write, THREE_PHASE)
    verdict = selects(case, _station(), vehicle=ONE_PHASE)
    assert not verdict.runnable
    assert verdict.reasons == ("needs a vehicle with phases ≥ 3; car-1ph has phases: 1",)
    assert selects(case, _station(), vehicle=VehicleFacts(phases=3)).runnable


def test_an_unknown_fact_never_excludes_a_case(write: Callable[[str, str], Path]) -> None:
    case = _case(write, THREE_PHASE)
    assert selects(case, _station()).runnable  # no vehicle known at all
    assert selects(case, _station(), vehicle=VehicleFacts(max_current_a=16)).runnable


def test_a_flag_need_is_unmet_by_a_vehicle_without_it(write: Callable[[str, str], Path]) -> None:
    case = _case(write, MINIMAL + "vehicle_needs: [bidirectional]\n")
    verdict = selects(case, _station(), vehicle=VehicleFacts(bidirectional=False))
    assert verdict.reasons == (
        "needs a bidirectional vehicle; the vehicle has bidirectional: false",
    )
    assert selects(case, _station(), vehicle=VehicleFacts(bidirectional=True)).runnable


def test_a_negated_flag_excludes_a_vehicle_with_it(write: Callable[[str, str], Path]) -> None:
    case = _case(write, MINIMAL + "vehicle_needs: [not dc]\n")
    verdict = selects(case, _station(), vehicle=VehicleFacts(name="CCS car", dc=True))
    assert verdict.reasons == ("needs a vehicle that is not dc; CCS car has dc: true",)
    assert selects(case, _station(), vehicle=VehicleFacts(dc=False)).runnable
    assert selects(case, _station(), vehicle=VehicleFacts(phases=3)).runnable  # dc unknown


@pytest.mark.parametrize(
    ("entry", "message"),
    [("not phases", "only a flag can be negated"), ("not dcc", "did you mean 'dc'?")],
)
def test_only_a_known_flag_can_be_negated(
    problems: Callable[[str], list[str]], entry: str, message: str
) -> None:
    found = problems(MINIMAL + f"vehicle_needs: [{entry}]\n")
    assert len(found) == 1
    assert "vehicle_needs" in found[0]
    assert message in found[0]


def test_a_lab_declares_the_plugged_vehicle_in_the_capability_file(
    write: Callable[[str, str], Path],
) -> None:
    dut = load_capabilities(
        write(
            'ocpp_versions: ["1.6"]\nrole: station\n'
            "vehicle: {name: lab car, phases: 1, max_current_a: 16}\n",
            "dut.yaml",
        )
    )
    assert dut.vehicle == VehicleFacts(name="lab car", phases=1, max_current_a=16)
    case = _case(write, THREE_PHASE)
    assert selects(case, dut).reasons == ("needs a vehicle with phases ≥ 3; lab car has phases: 1",)
    # The run's own knowledge of the vehicle (a simulated one) takes precedence.
    assert selects(case, dut, vehicle=VehicleFacts(phases=3)).runnable


def test_a_bad_vehicle_section_is_reported_with_its_field(
    write: Callable[[str, str], Path],
) -> None:
    path = write('ocpp_versions: ["1.6"]\nrole: station\nvehicle: {phases: 2.5}\n', "dut.yaml")
    with pytest.raises(ScenarioLoadError) as caught:
        load_capabilities(path)
    assert "vehicle.phases" in str(caught.value)


def test_from_vehicle_replaces_the_default_but_not_a_given_value(
    write: Callable[[str, str], Path],
) -> None:
    case = _case(write, WITH_MAX)
    values, notes = with_vehicle_facts(case, resolve_parameters(case), THREE_PHASE_13A)
    assert values["vehicle_max_a"] == 13.0
    assert notes == ("vehicle_max_a = 13.0 from the vehicle's max_current_a",)
    given = resolve_parameters(case, parse_param_options(["vehicle_max_a=20"]))
    values, notes = with_vehicle_facts(case, given, THREE_PHASE_13A)
    assert values["vehicle_max_a"] == 20.0
    assert notes == ()


def test_from_vehicle_keeps_the_default_when_the_fact_is_unknown_or_out_of_bounds(
    write: Callable[[str, str], Path],
) -> None:
    case = _case(write, WITH_MAX)
    values, _ = with_vehicle_facts(case, resolve_parameters(case), VehicleFacts(phases=3))
    assert values["vehicle_max_a"] == 80.0
    values, _ = with_vehicle_facts(case, resolve_parameters(case), None)
    assert values["vehicle_max_a"] == 80.0
    values, notes = with_vehicle_facts(
        case, resolve_parameters(case), VehicleFacts(max_current_a=100)
    )
    assert values["vehicle_max_a"] == 80.0
    assert "does not fit" in notes[0]


def test_a_plain_mapping_of_values_counts_as_given(write: Callable[[str, str], Path]) -> None:
    case = _case(write, WITH_MAX)
    values, _ = with_vehicle_facts(case, {"vehicle_max_a": 80.0, "tolerance_a": 1.0}, ONE_PHASE)
    assert values["vehicle_max_a"] == 80.0
    resolved = resolve_parameters(case)
    assert isinstance(resolved, ResolvedParameters)
    assert resolved.explicit == frozenset()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{type: string, default: x, from_vehicle: max_current_a}", "type number, not string"),
        ("{type: number, default: 1, from_vehicle: bidirectional}", "type boolean, not number"),
        ("{type: number, default: 1, from_vehicle: wheels}", "from_vehicle"),
    ],
)
def test_from_vehicle_must_fit_the_parameter_type(
    problems: Callable[[str], list[str]], spec: str, message: str
) -> None:
    found = problems(MINIMAL + f"parameters:\n  p: {spec}\n")
    assert len(found) == 1
    assert message in found[0]


def test_fleet_models_carry_their_resolved_facts() -> None:
    fleet = load_fleet(ROOT / "scenarios" / "fleets" / "synthetic-fleet.yaml")
    hybrid = fleet.model("syn-phev-1ph-3kw-03").facts
    assert (hybrid.phases, hybrid.max_current_a) == (1, 13.0)
    starter = fleet.model("syn-bev-3ph-11kw-10").facts
    assert (starter.min_current_a, starter.start_current_a) == (6.0, 7.2)
    assert fleet.model("syn-bev-v2x-01").facts.bidirectional is True


def test_the_published_schemas_know_vehicle_needs_and_the_vehicle_section() -> None:
    schemas = ROOT / "scenarios" / "schema"
    scenario = json.loads((schemas / "scenario.schema.json").read_text(encoding="utf-8"))
    case = yaml.safe_load(WITH_MAX + "vehicle_needs: [bidirectional, {phases: 3}]\n")
    validator = jsonschema.Draft202012Validator(scenario)
    assert list(validator.iter_errors(case)) == []
    assert list(validator.iter_errors({**case, "vehicle_needs": [{"wheels": 4}]})) != []
    capabilities = json.loads((schemas / "capabilities.schema.json").read_text(encoding="utf-8"))
    dut = {"ocpp_versions": ["1.6"], "role": "station", "vehicle": {"phases": 1}}
    checker = jsonschema.Draft202012Validator(capabilities)
    assert list(checker.iter_errors(dut)) == []
    assert list(checker.iter_errors({**dut, "vehicle": {"phases": 5}})) != []
