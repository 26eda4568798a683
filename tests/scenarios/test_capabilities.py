"""The built-in simulated station's declaration matches the simulator and runs the library."""

from __future__ import annotations

import json

import jsonschema
import yaml

from harness.runner.inputs import sim_capabilities
from harness.runner.simstation import dc_capabilities
from harness.scenario import Case, load_capabilities, load_cases, selects
from harness.smartcharging import RateUnit
from harness.versions import OcppVersion
from simulators.station.config import StationConfig
from tests.scenarios.library import (
    DC_IDS,
    SCENARIOS,
    SCHEMA_DIR,
    SIM_STATION,
    V21_IDS,
    cases_for,
)

# How the case library runs the simulator (the declaration's header says the same).
SIM_CONFIG = StationConfig(ocpp_version=OcppVersion.V16, phase_switching=True)


def test_the_declaration_validates_against_the_published_schema() -> None:
    schema = json.loads((SCHEMA_DIR / "capabilities.schema.json").read_text(encoding="utf-8"))
    document = yaml.safe_load(SIM_STATION.read_text(encoding="utf-8"))
    assert [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)] == []


def test_the_declaration_states_the_simulator_figures() -> None:
    declared = load_capabilities(SIM_STATION)
    assert declared.ocpp_versions == (SIM_CONFIG.ocpp_version.value,)
    assert declared.smart_charging
    assert {unit.value for unit in declared.units} == {u.value for u in SIM_CONFIG.supported_units}
    assert set(SIM_CONFIG.supported_units) == {RateUnit.A, RateUnit.W}
    assert declared.max_stack_level == SIM_CONFIG.max_stack_level
    assert declared.max_periods == SIM_CONFIG.max_periods
    assert SIM_CONFIG.max_profiles is None  # no limit: the declaration's large number stands
    assert declared.max_profiles is not None
    assert declared.max_profiles >= 100
    assert declared.number_of_evses == SIM_CONFIG.evse_count
    assert declared.supply_phases == SIM_CONFIG.phases
    assert declared.max_current_a == SIM_CONFIG.max_current_per_evse_a
    assert declared.phase_switching is SIM_CONFIG.phase_switching
    assert not declared.v2x


def _station_cases(version: str) -> list[Case]:
    """The library's cases of ``version`` for a station DUT (scenarios/csms/ holds the
    CSMS-side ones)."""
    return [c for c in cases_for(version) if c.dut_role == "station"]


def test_the_simulated_station_runs_the_whole_library() -> None:
    declared = load_capabilities(SIM_STATION)
    verdicts = {case.id: selects(case, declared) for case in _station_cases("1.6")}
    # 13 VP, 7 VP second edition, 2 DC, 10 OCA 1.6 smart charging, 9 OCA 1.6 Core (remote
    # start/stop, meter values; TC_026_CS was SC-16-04), 4 SC-16, 3 robustness, SEC-01
    assert len(verdicts) == 49
    # The built-in station is AC: only the DC station's cases are not for it.
    excluded = {case_id: v.reasons for case_id, v in verdicts.items() if not v.runnable}
    assert list(excluded) == list(DC_IDS)
    assert all(any("needs dc" in r for r in reasons) for reasons in excluded.values())


def test_the_dc_station_runs_only_the_dc_programme_cases() -> None:
    declared = dc_capabilities(load_capabilities(SIM_STATION))
    verdicts = {case.id: selects(case, declared) for case in _station_cases("1.6")}
    runnable = {case_id for case_id, v in verdicts.items() if v.runnable}
    programme = {c.id for c in _station_cases("1.6") if c.suite == "vehicle-programme"}
    assert runnable & programme == set(DC_IDS)
    for case_id in programme - set(DC_IDS):
        assert any("needs not dc" in r for r in verdicts[case_id].reasons), case_id


def test_the_21_cases_need_the_built_in_21_declaration() -> None:
    v21 = [c for c in load_cases([SCENARIOS]) if c.id in V21_IDS]
    assert sorted(c.id for c in v21) == sorted(V21_IDS)
    declared_16 = load_capabilities(SIM_STATION)
    assert all(not selects(c, declared_16).runnable for c in v21)
    declared_21 = sim_capabilities(("2.1",))
    reasons = {c.id: selects(c, declared_21).reasons for c in v21}
    assert reasons == dict.fromkeys(V21_IDS, ())


def test_without_phase_switching_vp_10_is_not_applicable_with_a_reason() -> None:
    declared = load_capabilities(SIM_STATION).model_copy(update={"phase_switching": False})
    verdicts = {case.id: selects(case, declared) for case in _station_cases("1.6")}
    assert [case_id for case_id, v in verdicts.items() if not v.runnable] == ["VP-10", *DC_IDS]
    assert any("phase_switching" in reason for reason in verdicts["VP-10"].reasons)


def test_a_station_without_w_or_current_offered_skips_exactly_the_cases_that_need_them() -> None:
    declared = load_capabilities(SIM_STATION)
    narrow = declared.model_copy(
        update={
            "units": tuple(u for u in declared.units if u.value == "A"),
            "measurands": tuple(m for m in declared.measurands if m.value != "Current.Offered"),
        }
    )
    skipped = sorted(c.id for c in _station_cases("1.6") if not selects(c, narrow).runnable)
    # SC-16-01/02 ask a composite in the other unit (W); VP-11 and VP-20 limit in W;
    # VP-13, VP-15 and VP-18 judge Current.Offered (VP-23/24 are for a DC station anyway).
    assert skipped == [
        "SC-16-01", "SC-16-02", "VP-11", "VP-13", "VP-15", "VP-18", "VP-20", *DC_IDS
    ]  # fmt: skip
