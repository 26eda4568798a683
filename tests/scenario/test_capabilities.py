"""Capability declarations and the selection of cases: NOT_APPLICABLE always says why."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.scenario import (
    Capabilities,
    Case,
    Environment,
    ScenarioLoadError,
    VehicleStep,
    load_capabilities,
    load_cases,
    selects,
)
from harness.scenario.capabilities import FLAGS, MINIMA, SETS, Need, parse_need
from tests.scenario.conftest import MINIMAL

DATA = Path(__file__).parent / "data"


def _station(**claims: object) -> Capabilities:
    return Capabilities.model_validate({"ocpp_versions": ["1.6"], "role": "station", **claims})


def _case(write: Callable[[str, str], Path], extra: str) -> Case:
    (case,) = load_cases([write(MINIMAL + extra, "case.yaml")])
    return case


def test_every_capability_field_is_in_the_need_vocabulary() -> None:
    vocabulary = {*FLAGS, *SETS, *MINIMA}
    # vehicle: the plugged vehicle's facts, judged by vehicle_needs (tests/scenario/test_vehicle.py)
    described = set(Capabilities.model_fields) - {"name", "ocpp_versions", "role", "vehicle"}
    assert vocabulary == described


def test_defaults_claim_nothing() -> None:
    dut = _station()
    assert dut.smart_charging is False
    assert dut.units == ()
    assert dut.max_stack_level is None
    assert dut.number_of_evses == 1


def test_needs_parse_into_a_small_vocabulary() -> None:
    assert parse_need("smart_charging") == Need("smart_charging")
    assert parse_need("units.W") == Need("units", member="W")
    assert parse_need("measurands.Current.Offered") == Need("measurands", member="Current.Offered")
    assert parse_need({"max_stack_level": 1}) == Need("max_stack_level", minimum=1.0)


def test_a_case_needing_nothing_runs(write: Callable[[str, str], Path]) -> None:
    applicability = selects(_case(write, ""), _station())
    assert applicability.runnable
    assert applicability.reasons == ()
    assert str(applicability) == "TC_T: runnable (OCPP 1.6)"


def test_every_missing_capability_is_named(write: Callable[[str, str], Path]) -> None:
    case = _case(
        write,
        "needs: [smart_charging, units.W, phase_switching,"
        " {max_stack_level: 2}, {max_periods: 5}]\n",
    )
    dut = _station(units=["A"], max_stack_level=1)
    applicability = selects(case, dut)
    assert not applicability.runnable
    assert applicability.reasons == (
        "needs smart_charging; the declaration says smart_charging: false (or omits it)",
        "needs units.W; the declaration lists units: [A]",
        "needs phase_switching; the declaration says phase_switching: false (or omits it)",
        "needs max_stack_level ≥ 2; declared max_stack_level: 1",
        "needs max_periods ≥ 5; the declaration does not state max_periods",
    )
    assert str(applicability).startswith("TC_T: NOT_APPLICABLE — needs smart_charging;")


def test_met_needs_give_no_reasons(write: Callable[[str, str], Path]) -> None:
    case = _case(write, "needs: [smart_charging, units.W, v2x_modes.Idle, {max_current_a: 16}]\n")
    dut = _station(smart_charging=True, units=["A", "W"], v2x_modes=["Idle"], max_current_a=32)
    assert selects(case, dut).runnable


def test_version_and_role_mismatch(write: Callable[[str, str], Path]) -> None:
    case = _case(write, "").model_copy(update={"ocpp_versions": ("2.1",)})
    dut = Capabilities.model_validate({"ocpp_versions": ["1.6", "2.0.1"], "role": "csms"})
    assert selects(case, dut).reasons == (
        "applies to OCPP 2.1; the DUT declares 1.6, 2.0.1",
        "is for a DUT that is a station; the declaration says role: csms",
    )
    assert selects(case, dut).versions == ()


def test_versions_are_the_intersection(write: Callable[[str, str], Path]) -> None:
    text = MINIMAL.replace('["1.6"]', '["1.6", "2.0.1", "2.1"]')
    (case,) = load_cases([write(text, "c.yaml")])
    dut = Capabilities.model_validate({"ocpp_versions": ["2.1", "2.0.1"], "role": "station"})
    assert selects(case, dut).versions == ("2.0.1", "2.1")


def test_in_a_lab_set_soc_is_not_applicable_but_plugging_is_a_prompt(
    write: Callable[[str, str], Path],
) -> None:
    case = _case(
        write,
        "  - {kind: vehicle, action: plug_in}\n"
        "  - {kind: vehicle, action: set_soc, soc_percent: 20}\n",
    )
    assert selects(case, _station(), environment=Environment.SIMULATION).runnable
    lab = selects(case, _station(), environment=Environment.LAB)
    assert lab.reasons == (
        "steps[2] (vehicle set_soc) needs a simulated vehicle; this run is in a lab",
    )
    plug_in = case.steps[1]
    assert isinstance(plug_in, VehicleStep)
    assert plug_in.lab_prompt() == "Plug the vehicle in at EVSE 1, then confirm."


def test_example_declaration_loads() -> None:
    dut = load_capabilities(DATA / "capabilities" / "sim-ac-station-16.yaml")
    assert dut.smart_charging
    assert dut.max_stack_level == 8
    assert [str(v) for v in dut.ocpp_versions] == ["1.6"]


def test_bad_declaration_reports_every_problem_with_lines(
    write: Callable[[str, str], Path],
) -> None:
    path = write(
        "ocpp_versions: [1.6]\nrole: station\nsmart_charging: yes please\nunits: [A, VA]\n"
        "max_stack_level: -1\nphase_swiching: true\n",
        "dut.yaml",
    )
    with pytest.raises(ScenarioLoadError) as caught:
        load_capabilities(path)
    problems = [str(p).replace(str(path), "dut.yaml") for p in caught.value.problems]
    assert problems[0] == "dut.yaml:3:17: smart_charging: expected true or false, got 'yes please'"
    assert problems[1] == "dut.yaml:4:12: units[1]: expected 'A' or 'W', got 'VA'"
    assert problems[2].startswith("dut.yaml:5:18: max_stack_level: expected a value greater than")
    assert problems[3].startswith("dut.yaml:6:1: phase_swiching: unknown field 'phase_swiching'")
    assert problems[3].endswith("did you mean 'phase_switching'?")
    assert len(problems) == 4


def test_vehicle_steps_inside_repeats_count_in_a_lab(write: Callable[[str, str], Path]) -> None:
    case = _case(
        write,
        "  - kind: repeat\n"
        "    times: 2\n"
        "    steps: [{kind: vehicle, action: set_soc, soc_percent: 50}]\n",
    )
    assert selects(case, _station(), environment=Environment.LAB).reasons == (
        "steps[1].steps[0] (vehicle set_soc) needs a simulated vehicle; this run is in a lab",
    )
