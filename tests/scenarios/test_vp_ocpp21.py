"""The vehicle programme's second and third editions (VP-15…VP-24) on the built-in OCPP 2.1
station: the 2.0.1 files list 2.1 too (the messages these cases use are the same in 2.1), so
a 2.1 station runs them. Each passes with its well-behaved vehicle and fails on the station
fault or vehicle archetype that breaks it, exactly as over 2.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import CaseResult, Verdict
from harness.runner.inputs import sim_capabilities
from harness.runner.simstation import DC_STATION, builtin_factory, dc_capabilities
from harness.scenario import load_cases
from harness.transport import OcppSubprotocol
from tests.scenarios.library import DC_IDS, V21_VP_IDS
from tests.scenarios.sim201 import VP201, run_201

WELL_BEHAVED = {"VP-22": "bev_iso15118", "VP-23": "bev_dc_32kw", "VP-24": "bev_dc_32kw"}
"""The vehicle each case is for (default: bev_3ph_16a)."""

CATCHES: dict[str, tuple[str | None, str | None, Verdict, str]] = {
    # case id: (station fault, vehicle archetype, verdict, failing requirement)
    "VP-15": ("ignores_below_minimum", None, Verdict.FAIL, "VP-15"),
    "VP-16": ("accepts_but_ignores", None, Verdict.FAIL, "VP-16"),
    "VP-17": ("reports_suspended_evse_for_ev", None, Verdict.FAIL, "VP-17"),
    "VP-18": ("rounds_limit", None, Verdict.FAIL, "VP-18"),
    "VP-19": ("late_apply", None, Verdict.FAIL, "VP-19"),
    "VP-20": ("accepts_but_ignores", None, Verdict.FAIL, "VP-20"),
    "VP-21": (None, "never_wakes_without_unplug", Verdict.FAIL, "VP-21"),
    "VP-22": ("no_schedule_renegotiation", None, Verdict.FAIL, "VP-22"),
    "VP-23": ("accepts_but_ignores", None, Verdict.FAIL, "VP-23"),
    "VP-24": ("late_apply", None, Verdict.FAIL, "VP-24.pause"),
}


def _run_21(case_id: str, tmp_path: Path, *, fault: str | None, archetype: str) -> CaseResult:
    dc = case_id in DC_IDS
    result = run_201(
        [VP201 / f"{case_id}.yaml"],
        out=tmp_path,
        fault=fault,
        archetype=archetype,
        version=OcppSubprotocol.V21,
        capabilities=dc_capabilities(sim_capabilities(("2.1",))) if dc else None,
        factory=builtin_factory(station_options=DC_STATION) if dc else None,
    )[case_id]
    assert result.info.ocpp_version is OcppSubprotocol.V21
    return result


def test_the_listed_cases_are_the_ones_for_2_1() -> None:
    cases = load_cases([VP201])
    for_21 = sorted(c.id for c in cases if "2.1" in {str(v) for v in c.ocpp_versions})
    assert for_21 == sorted(V21_VP_IDS)
    assert set(CATCHES) == set(V21_VP_IDS)


@pytest.mark.parametrize("case_id", V21_VP_IDS)
def test_a_case_passes_on_the_2_1_station(case_id: str, tmp_path: Path) -> None:
    archetype = WELL_BEHAVED.get(case_id, "bev_3ph_16a")
    result = _run_21(case_id, tmp_path, fault=None, archetype=archetype)
    assert result.verdict is Verdict.PASS, result.reason


@pytest.mark.parametrize("case_id", V21_VP_IDS)
def test_a_case_fails_on_the_2_1_station_that_breaks_it(case_id: str, tmp_path: Path) -> None:
    fault, archetype, verdict, requirement = CATCHES[case_id]
    vehicle = archetype or WELL_BEHAVED.get(case_id, "bev_3ph_16a")
    result = _run_21(case_id, tmp_path, fault=fault, archetype=vehicle)
    assert result.verdict is verdict, result.reason
    assert requirement in {c.requirement.id for c in result.checks if c.verdict is verdict}
