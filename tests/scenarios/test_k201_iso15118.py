"""The OCPP 2.0.1 block K station cases that need more of the simulators (issue 18): the
ISO 15118 cases (TC_K_53/54/56/57/58_CS) with the ISO 15118 vehicle, TC_K_15_CS on the
simulated station built without smart charging, and TC_K_13_CS across a reboot. Each PASSes
on the well-behaved simulated station and FAILs, naming the rule it checks, on the station
fault that breaks that rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import Verdict
from harness.runner.inputs import sim_capabilities
from harness.runner.simstation import builtin_factory
from tests.scenarios.sim201 import OCPP201, run_201

ISO15118_IDS = ("TC_K_53_CS", "TC_K_54_CS", "TC_K_56_CS", "TC_K_57_CS", "TC_K_58_CS")
"""The cases for an ISO 15118 vehicle (``vehicle_needs: [iso15118]``)."""
ISO = "bev_iso15118"


def test_the_iso15118_cases_pass_with_the_iso15118_vehicle(tmp_path: Path) -> None:
    paths = [OCPP201 / f"{case_id}.yaml" for case_id in ISO15118_IDS]
    results = run_201(paths, out=tmp_path, archetype=ISO)
    shown = {c: f"{r.verdict.value}: {r.reason}" for c, r in results.items()}
    assert {c: r.verdict for c, r in results.items()} == dict.fromkeys(
        ISO15118_IDS, Verdict.PASS
    ), shown
    for case_id, result in results.items():
        judged = {c.requirement.id for c in result.checks}
        assert case_id in judged or {"K16", "K17"} & judged, case_id


@pytest.mark.parametrize(
    ("case_id", "fault", "requirement", "actual"),
    [
        # the schedule the station agrees ignores the TxProfile: 32 A against 6 A
        ("TC_K_53_CS", "accepts_but_ignores", "TC_K_53_CS", "expected ≤ 6, got 32"),
        # the CSMS rejects the needs; the station keeps the vehicle waiting, nothing flows
        ("TC_K_54_CS", "no_charging_without_schedule", "TC_K_54_CS", "no TransactionEvent"),
        # the vehicle asks to renegotiate; the station does not report its new needs
        ("TC_K_57_CS", "ignores_ev_renegotiation", "K17", "no NotifyEVChargingNeeds"),
        # the CSMS sends a new TxProfile; the station keeps the first schedule
        ("TC_K_58_CS", "no_schedule_renegotiation", "K16", "no NotifyEVChargingSchedule"),
    ],
)
def test_a_station_fault_fails_the_iso15118_case(
    case_id: str, fault: str, requirement: str, actual: str, tmp_path: Path
) -> None:
    result = run_201([OCPP201 / f"{case_id}.yaml"], out=tmp_path, fault=fault, archetype=ISO)[
        case_id
    ]
    assert result.verdict is Verdict.FAIL, f"{result.verdict.value}: {result.reason}"
    failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert [c.requirement.id for c in failed] == [requirement], [c.actual for c in failed]
    assert actual in failed[0].actual, failed[0].actual


def test_tc_k_56_passes_offline_with_the_queued_messages_once_back(tmp_path: Path) -> None:
    # the station goes offline, starts charging on its TxDefaultProfile, comes back
    path = OCPP201 / "TC_K_56_CS.yaml"
    result = run_201([path], out=tmp_path, archetype=ISO)["TC_K_56_CS"]
    assert result.verdict is Verdict.PASS, result.reason
    actual = " ".join(c.actual for c in result.checks)
    assert "offline for 60 s" in actual
    assert '"offline":true' in actual.replace(" ", "")
    assert {c.requirement.id for c in result.checks} == {"TC_K_56_CS", "E04"}


@pytest.mark.parametrize("fault", ["drops_offline_events", "no_offline_flag"])
def test_tc_k_56_fails_a_station_that_loses_or_unmarks_its_offline_events(
    fault: str, tmp_path: Path
) -> None:
    path = OCPP201 / "TC_K_56_CS.yaml"
    result = run_201([path], out=tmp_path, fault=fault, archetype=ISO)["TC_K_56_CS"]
    assert result.verdict is Verdict.FAIL, f"{result.verdict.value}: {result.reason}"
    failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
    # the authorization's event marked offline (E04), the start of charging marked offline
    assert [c.requirement.id for c in failed] == ["E04", "TC_K_56_CS"], [c.actual for c in failed]
    assert all("no TransactionEvent" in c.actual for c in failed)


def test_the_iso15118_cases_do_not_apply_to_a_vehicle_without_it(tmp_path: Path) -> None:
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"iso15118": False})
    paths = [OCPP201 / f"{case_id}.yaml" for case_id in ISO15118_IDS]
    results = run_201(paths, out=tmp_path, capabilities=caps)
    assert {r.verdict for r in results.values()} == {Verdict.NOT_APPLICABLE}
    assert all("iso15118" in r.reason for r in results.values())


def test_tc_k_15_passes_on_a_station_without_smart_charging(tmp_path: Path) -> None:
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"smart_charging": False})
    factory = builtin_factory(station_options={"smart_charging": False})
    path = OCPP201 / "TC_K_15_CS.yaml"
    result = run_201([path], out=tmp_path, capabilities=caps, factory=factory)["TC_K_15_CS"]
    assert result.verdict is Verdict.PASS, result.reason
    (check,) = result.checks
    assert check.requirement.id == "TC_K_15_CS"
    assert "CALLERROR NotSupported" in check.actual


@pytest.mark.parametrize(
    ("fault", "station_options", "actual"),
    [
        # a firmware without the handler: NotImplemented is not NotSupported
        ("smart_charging_not_implemented", {"smart_charging": False}, "NotImplemented"),
        # declared without smart charging, but it accepts the profile
        (None, {}, "Accepted"),
    ],
    ids=["not-implemented", "accepts"],
)
def test_tc_k_15_fails_a_station_that_does_not_answer_not_supported(
    fault: str | None, station_options: dict[str, object], actual: str, tmp_path: Path
) -> None:
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"smart_charging": False})
    factory = builtin_factory(station_options=station_options)
    path = OCPP201 / "TC_K_15_CS.yaml"
    result = run_201([path], out=tmp_path, capabilities=caps, factory=factory, fault=fault)[
        "TC_K_15_CS"
    ]
    assert result.verdict is Verdict.FAIL, result.reason
    (check,) = result.checks
    assert check.requirement.id == "TC_K_15_CS"
    assert actual in check.actual, check.actual


def test_tc_k_13_passes_across_the_reboot_and_the_run_goes_on(tmp_path: Path) -> None:
    # TC_K_13_CS reboots the station mid-case; the next case runs on the new connection.
    paths = [OCPP201 / "TC_K_13_CS.yaml", OCPP201 / "TC_K_01_CS.yaml"]
    results = run_201(paths, out=tmp_path)
    assert {c: r.verdict for c, r in results.items()} == {
        "TC_K_13_CS": Verdict.PASS,
        "TC_K_01_CS": Verdict.PASS,
    }, {c: r.reason for c, r in results.items()}
    notes = " ".join(s.text for s in results["TC_K_13_CS"].steps)
    assert "close code 1012" in notes
    assert "connected again and booted" in notes


def test_tc_k_13_fails_a_station_that_forgets_its_profiles_on_reset(tmp_path: Path) -> None:
    path = OCPP201 / "TC_K_13_CS.yaml"
    result = run_201([path], out=tmp_path, fault="forgets_profiles_on_reset")["TC_K_13_CS"]
    assert result.verdict is Verdict.FAIL, result.reason
    failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert {c.requirement.id for c in failed} == {"TC_K_13_CS"}
    assert any("NoProfiles" in c.actual for c in failed)
    assert any("expected 6, got 32" in c.actual for c in failed)  # the composite too
