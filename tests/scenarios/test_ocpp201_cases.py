"""The OCPP 2.0.1 station cases and the 2.0.1 vehicle programme, run against the built-in
2.0.1 station in virtual time: the well-behaved station passes every case, and each
station fault and vehicle archetype is caught by the case meant for it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.results import Verdict
from harness.runner.inputs import sim_capabilities
from harness.runner.simstation import DC_STATION, builtin_factory, dc_capabilities
from harness.scenario import load_cases, selects
from harness.scenario.fleet import load_fleet
from harness.smartcharging import RateUnit
from tests.scenarios.library import (
    K201_IDS,
    SC201_IDS,
    SCHEMA_DIR,
    V21_VP_IDS,
    VP2_IDS,
    VP_IDS,
)
from tests.scenarios.sim201 import OCPP201, VP201, run_201
from tests.scenarios.test_k201_iso15118 import ISO15118_IDS

FLEETS = Path(__file__).parents[2] / "scenarios" / "fleets"

FILES_201 = sorted([*OCPP201.glob("*.yaml"), *VP201.glob("*.yaml")])
# Shorter pauses and periods where only the archetype's threshold (30 min, 15 min) or count of
# changes matters: the defaults pass too (`ocpp-harness run vehicle-programme-201`), slower.
SHORT = ("VP-05:pause_s=1h", "VP-07:delay_s=1h", "VP-08:period_s=5min", "VP-09:period_s=5min")
# VP-21's 1 h pause is already past the sleeping archetypes' 30 min.


@pytest.mark.parametrize("path", FILES_201, ids=lambda p: p.stem)
def test_file_is_a_2_0_1_case_named_after_its_id_and_fits_the_schema(path: Path) -> None:
    (case,) = load_cases([path])
    assert case.id == path.stem
    # the later editions' programme cases serve 2.1 stations too (tests/scenarios/test_vp_ocpp21)
    also_21 = path.parent == VP201 and case.id in V21_VP_IDS
    assert [str(v) for v in case.ocpp_versions] == ["2.0.1", *(["2.1"] if also_21 else [])]
    schema = json.loads((SCHEMA_DIR / "scenario.schema.json").read_text(encoding="utf-8"))
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)] == []


def test_the_2_0_1_folders_hold_exactly_the_listed_cases() -> None:
    assert sorted(p.stem for p in OCPP201.glob("*.yaml")) == sorted(K201_IDS + SC201_IDS)
    assert sorted(p.stem for p in VP201.glob("*.yaml")) == sorted(
        (*VP_IDS, *VP2_IDS, "VP-22", "VP-23", "VP-24")
    )


def test_every_station_case_passes_on_the_well_behaved_station(tmp_path: Path) -> None:
    # The ISO 15118 cases need an ISO 15118 vehicle: tests/scenarios/test_k201_iso15118.py.
    paths = [p for p in sorted(OCPP201.glob("*.yaml")) if p.stem not in ISO15118_IDS]
    results = run_201(paths, out=tmp_path)
    assert sorted(results) == sorted(set(K201_IDS + SC201_IDS) - set(ISO15118_IDS))
    verdicts = {case_id: r.verdict for case_id, r in results.items()}
    # Cases for a station *without* a feature the simulator has (see the next tests).
    assert verdicts.pop("TC_K_15_CS") is Verdict.NOT_APPLICABLE
    assert verdicts.pop("TC_K_38_CS") is Verdict.NOT_APPLICABLE
    assert verdicts.pop("TC_K_42_CS") is Verdict.NOT_APPLICABLE
    assert verdicts.pop("TC_K_12_CS") is Verdict.NOT_APPLICABLE
    assert "not smart_charging" in results["TC_K_38_CS"].reason
    assert "not units.W" in results["TC_K_42_CS"].reason
    assert verdicts == dict.fromkeys(verdicts, Verdict.PASS)
    judged = [c for r in results.values() for c in r.checks]
    assert sum("→" in c.expected for c in judged) >= 10  # composites were compared


def test_tc_k_42_passes_on_a_station_without_w(tmp_path: Path) -> None:
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"units": ("A",)})
    factory = builtin_factory(station_options={"supported_units": frozenset({RateUnit.A})})
    results = run_201(
        [OCPP201 / "TC_K_42_CS.yaml"], out=tmp_path, capabilities=caps, factory=factory
    )
    assert results["TC_K_42_CS"].verdict is Verdict.PASS


def test_tc_k_42_fails_a_station_that_claims_no_w_but_answers_in_w(tmp_path: Path) -> None:
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"units": ("A",)})
    results = run_201([OCPP201 / "TC_K_42_CS.yaml"], out=tmp_path, capabilities=caps)
    (failed,) = [c for c in results["TC_K_42_CS"].checks if c.verdict is Verdict.FAIL]
    assert failed.requirement.id == "TC_K_42_CS"
    assert "Accepted" in failed.actual


def test_tc_k_38_passes_on_a_station_without_smart_charging(tmp_path: Path) -> None:
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"smart_charging": False})
    factory = builtin_factory(station_options={"smart_charging": False})
    results = run_201(
        [OCPP201 / "TC_K_38_CS.yaml"], out=tmp_path, capabilities=caps, factory=factory
    )
    result = results["TC_K_38_CS"]
    assert result.verdict is Verdict.PASS
    assert {c.requirement.id for c in result.checks} == {"TC_K_38_CS"}


@pytest.mark.parametrize("case_id", [*VP_IDS, *VP2_IDS, "VP-22"])
def test_every_programme_case_passes_with_the_reference_vehicle(
    case_id: str, tmp_path: Path
) -> None:
    # VP-22 is for an ISO 15118 vehicle (NOT_APPLICABLE to the others).
    archetype = "bev_iso15118" if case_id == "VP-22" else "bev_3ph_16a"
    results = run_201([VP201 / f"{case_id}.yaml"], out=tmp_path, params=SHORT, archetype=archetype)
    result = results[case_id]
    assert result.verdict is Verdict.PASS, result.reason
    assert result.info.ocpp_version.value == "ocpp2.0.1"


@pytest.mark.parametrize(
    ("fault", "case_id", "requirement"),
    [
        ("empty_composite", "TC_K_41_CS", "TC_K_41_CS"),
        ("endless_composite", "TC_K_39_CS", "TC_K_39_CS"),
        ("unit_ignored", "TC_K_01_CS", "TC_K_01_CS"),
        ("redundant_periods", "TC_K_41_CS", "TC_K_41_CS"),
        # TC_K_40_CS with the document's figures hides no boundary under stack level 1, so
        # redundant periods do not show there; TC_K_41_CS catches them.
        ("endless_composite", "TC_K_40_CS", "TC_K_40_CS"),
        ("accepts_unknown_transaction", "TC_K_16_CS", "K01.FR.33"),
        ("late_apply", "TC_K_52_CS", "TC_K_52_CS"),
        ("accepts_but_ignores", "VP-01", "VP-01"),
        ("late_apply", "VP-13", "VP-13"),
        ("ignores_phase_switch", "VP-10", "VP-10"),
        ("accepts_but_ignores", "VP-06", "VP-06.hold"),
        ("unit_ignored", "VP-11", "VP-11.composite"),
        ("too_many_decimals", "VP-11", "VP-11.composite"),
        # our own cases (SC-201-xx): the coverage holes of issue 14
        ("unit_ignored", "SC-201-01", "SC-201-01"),
        ("unit_ignored", "SC-201-02", "SC-201-02"),
        ("too_many_decimals", "SC-201-02", "SC-201-02"),
        ("endless_composite", "SC-201-03", "SC-201-03"),
        ("clear_always_accepted", "SC-201-04", "SC-201-04"),
        ("accepts_start_when_busy", "SC-201-05", "SC-201-05"),
        # The second edition (VP-15…VP-21).
        ("ignores_below_minimum", "VP-15", "VP-15"),
        ("accepts_but_ignores", "VP-16", "VP-16"),
        ("reports_suspended_evse_for_ev", "VP-17", "VP-17"),
        ("rounds_limit", "VP-18", "VP-18"),
        ("late_apply", "VP-19", "VP-19"),
        ("accepts_but_ignores", "VP-20", "VP-20"),
        ("no_schedule_renegotiation", "VP-22", "VP-22"),
    ],
)
def test_station_fault_is_caught_by_its_case(
    fault: str, case_id: str, requirement: str, tmp_path: Path
) -> None:
    folder = VP201 if case_id.startswith("VP-") else OCPP201
    archetype = "bev_iso15118" if case_id == "VP-22" else "bev_3ph_16a"
    path = folder / f"{case_id}.yaml"
    result = run_201([path], out=tmp_path, fault=fault, archetype=archetype)[case_id]
    assert result.verdict is Verdict.FAIL
    failed = {c.requirement.id for c in result.checks if c.verdict is Verdict.FAIL}
    assert requirement in failed


@pytest.mark.parametrize(
    ("archetype", "case_id", "verdict", "requirement"),
    [
        ("needs_7_2a_to_start", "VP-03", Verdict.FAIL, "VP-03"),
        ("sleeps_after_short_pause", "VP-04", Verdict.FAIL, "VP-04"),
        ("sleeps_after_long_pause", "VP-05", Verdict.FAIL, "VP-05"),
        ("delayed_start_fails", "VP-06", Verdict.FAIL, "VP-06"),
        ("slow_ramp", "VP-08", Verdict.NON_STRICT, "VP-08.under-draw"),
        ("gives_up_after_changes", "VP-09", Verdict.FAIL, "VP-09"),
        ("stays_on_one_phase", "VP-10", Verdict.FAIL, "VP-10.return"),
        ("never_wakes_without_unplug", "VP-21", Verdict.FAIL, "VP-21"),
        ("needs_pilot_toggle_to_wake", "VP-21", Verdict.NON_STRICT, "VP-21.unaided"),
    ],
)
def test_vehicle_archetype_is_caught_by_its_programme_case(
    archetype: str, case_id: str, verdict: Verdict, requirement: str, tmp_path: Path
) -> None:
    result = run_201([VP201 / f"{case_id}.yaml"], out=tmp_path, archetype=archetype, params=SHORT)[
        case_id
    ]
    assert result.verdict is verdict
    flagged = {c.requirement.id for c in result.checks if c.verdict is verdict}
    assert requirement in flagged


DC_CATCHES = [
    # (case, station fault, verdict, the failing requirement and a pattern of its Actual)
    ("VP-23", None, Verdict.PASS, None),
    ("VP-24", None, Verdict.PASS, None),
    # The station's maximum, 32 kW, under a 20 kW limit / through the 0 W pause.
    ("VP-23", "accepts_but_ignores", Verdict.FAIL, ("VP-23", r"last 32000 W")),
    ("VP-24", "accepts_but_ignores", Verdict.FAIL, ("VP-24.pause", r"last 32000 W")),
    ("VP-24", "late_apply", Verdict.FAIL, ("VP-24.pause", r"not settled within 15 s")),
]


@pytest.mark.parametrize(("case_id", "fault", "verdict", "failing"), DC_CATCHES)
def test_a_dc_case_on_a_dc_station(
    case_id: str,
    fault: str | None,
    verdict: Verdict,
    failing: tuple[str, str] | None,
    tmp_path: Path,
) -> None:
    result = run_201(
        [VP201 / f"{case_id}.yaml"],
        out=tmp_path,
        fault=fault,
        archetype="bev_dc_32kw",
        capabilities=dc_capabilities(sim_capabilities(("2.0.1",))),
        factory=builtin_factory(station_options=DC_STATION),
    )[case_id]
    assert result.verdict is verdict, result.reason
    if failing is not None:
        requirement, actual = failing
        failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
        assert any(c.requirement.id == requirement and re.search(actual, c.actual) for c in failed)


@pytest.mark.parametrize("case_id", ["VP-01", "VP-15", "VP-21", "VP-22"])
def test_an_ac_case_does_not_apply_to_the_dc_station(case_id: str, tmp_path: Path) -> None:
    result = run_201(
        [VP201 / f"{case_id}.yaml"],
        out=tmp_path,
        archetype="bev_dc_32kw",
        capabilities=dc_capabilities(sim_capabilities(("2.0.1",))),
        factory=builtin_factory(station_options=DC_STATION),
    )[case_id]
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert "needs not dc" in result.reason


@pytest.mark.parametrize("case_id", ["VP-23", "VP-24"])
def test_a_dc_case_does_not_apply_to_the_built_in_ac_station(case_id: str, tmp_path: Path) -> None:
    result = run_201([VP201 / f"{case_id}.yaml"], out=tmp_path)[case_id]
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert "needs dc" in result.reason


def test_the_pause_status_case_does_not_apply_to_an_iso15118_vehicle() -> None:
    # The station offers no current to an ISO 15118 vehicle before a schedule is agreed, so
    # VP-17's "the station offers current" never holds there (it FAILed a conforming pair in
    # the whole-library run); the fleet's other vehicles still run it.
    (case,) = load_cases([VP201 / "VP-17.yaml"])
    declared = sim_capabilities(("2.0.1",))
    fleet = load_fleet(FLEETS / "synthetic-fleet.yaml")
    verdicts = {model.id: selects(case, declared, vehicle=model.facts) for model in fleet.models}
    assert not verdicts["syn-bev-iso15118-01"].runnable
    assert any("not iso15118" in r for r in verdicts["syn-bev-iso15118-01"].reasons)
    assert verdicts["syn-bev-3ph-11kw-01"].runnable
