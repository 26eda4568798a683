"""The OCPP 2.0.1 block K station cases added from the catalogue (issue 18): each PASSes on
the built-in simulated station and FAILs, naming the rule it checks, on a scripted station
that breaks exactly that rule (:mod:`tests.scenarios.misbehaving201`). TC_K_12_CS is for a
station without W: it passes on the simulated station built without W and fails on one
that declares no W but accepts it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from harness.results import Verdict
from harness.runner.inputs import sim_capabilities
from harness.runner.simstation import builtin_factory
from harness.smartcharging import RateUnit
from tests.scenarios.misbehaving201 import Misbehaviour, Payload, misbehaving_factory
from tests.scenarios.sim201 import OCPP201, run_201

NEW_IDS = (
    "TC_K_03_CS",
    "TC_K_04_CS",
    "TC_K_10_CS",
    "TC_K_11_CS",
    "TC_K_14_CS",
    "TC_K_19_CS",
    "TC_K_21_CS",
    "TC_K_22_CS",
    "TC_K_23_CS",
    "TC_K_28_CS",
    "TC_K_60_CS",
)


def _profile(payload: Payload) -> Payload:
    profile: Payload = payload["chargingProfile"]
    return profile


def _purpose(purpose: str, *, evse: int | None = None) -> Callable[[Payload], bool]:
    def when(payload: Payload) -> bool:
        return _profile(payload)["chargingProfilePurpose"] == purpose and (
            evse is None or payload["evseId"] == evse
        )

    return when


def _answer(status: str) -> Callable[[Payload, Payload], Payload]:
    return lambda _request, _answer: {"status": status}


def _edit(change: Callable[[Payload], None]) -> Callable[[Payload], Payload]:
    def rewrite(payload: Payload) -> Payload:
        change(_profile(payload))
        return payload

    return rewrite


def _keep_both(profile: Payload) -> None:
    # The replacement is stored beside the original instead of replacing it.
    profile["id"], profile["stackLevel"] = 42, 1


def _recurring_as_absolute(profile: Payload) -> None:
    profile["chargingProfileKind"] = "Absolute"
    del profile["recurrencyKind"]


def _ignore_start_schedule(profile: Payload) -> None:
    # Starts the schedule at once: startSchedule (now + 60 s) taken as now.
    valid_from = datetime.fromisoformat(profile.pop("validFrom").replace("Z", "+00:00"))
    start = (valid_from - timedelta(seconds=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    profile["chargingSchedule"][0]["startSchedule"] = start


def _not_for_the_running_transaction(profile: Payload) -> None:
    # Stored, but kept for later transactions: valid only from tomorrow.
    profile["validFrom"] = "2099-01-01T00:00:00Z"


MISBEHAVIOURS: dict[str, tuple[Callable[[], Misbehaviour], str, str]] = {
    # case: (the scripted defect, the requirement of the failing check, its Actual)
    "TC_K_03_CS": (
        lambda: Misbehaviour(
            "SetChargingProfile",
            _purpose("ChargingStationMaxProfile"),
            answer=_answer("Rejected"),
        ),
        "TC_K_03_CS",
        r'expected "Accepted", got "Rejected"',
    ),
    "TC_K_04_CS": (
        lambda: Misbehaviour(
            "SetChargingProfile",
            lambda p: (
                _profile(p)["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 10.0
            ),
            request=_edit(_keep_both),
        ),
        "TC_K_04_CS",
        r"limit: expected 10\.0, got 6\.0",
    ),
    "TC_K_10_CS": (
        lambda: Misbehaviour(
            "SetChargingProfile", _purpose("TxDefaultProfile", evse=0), answer=_answer("Rejected")
        ),
        "TC_K_10_CS",
        r'expected "Accepted", got "Rejected"',
    ),
    "TC_K_11_CS": (
        lambda: Misbehaviour(
            "SetChargingProfile", _purpose("TxProfile", evse=0), answer=_answer("Accepted")
        ),
        "K01.FR.16",
        r'expected "Rejected", got "Accepted"',
    ),
    "TC_K_14_CS": (
        lambda: Misbehaviour(
            "SetChargingProfile", lambda p: p["evseId"] == 99, answer=_answer("Accepted")
        ),
        "K01.FR.28",
        r'expected "Rejected", got "Accepted"',
    ),
    "TC_K_19_CS": (
        lambda: Misbehaviour("SetChargingProfile", request=_edit(_recurring_as_absolute)),
        "TC_K_19_CS",
        r"period 0 limit: expected 6, got 32",
    ),
    "TC_K_21_CS": (
        lambda: Misbehaviour("SetChargingProfile", request=_edit(lambda p: p.pop("validFrom"))),
        "TC_K_21_CS",
        r"period 0 limit: expected 32, got 6",
    ),
    "TC_K_22_CS": (
        lambda: Misbehaviour("SetChargingProfile", request=_edit(lambda p: p.pop("validTo"))),
        "TC_K_22_CS",
        r"period 1: expected 120 s → 32 A, got missing",
    ),
    "TC_K_23_CS": (
        lambda: Misbehaviour("SetChargingProfile", request=_edit(_ignore_start_schedule)),
        "TC_K_23_CS",
        r"period 0 limit: expected 32, got 6",
    ),
    "TC_K_28_CS": (
        lambda: Misbehaviour(
            "SetChargingProfile",
            _purpose("TxDefaultProfile"),
            request=_edit(_not_for_the_running_transaction),
        ),
        "TC_K_28_CS",
        r"period 0 limit: expected 6, got 32",
    ),
    "TC_K_60_CS": (
        lambda: Misbehaviour(
            "SetChargingProfile",
            _purpose("TxProfile"),
            request=_edit(_not_for_the_running_transaction),
        ),
        "TC_K_60_CS",
        r"period 0 limit: expected 6, got 32",
    ),
}


def test_every_new_case_has_its_misbehaving_station() -> None:
    assert sorted(MISBEHAVIOURS) == sorted(NEW_IDS)
    assert all((OCPP201 / f"{case_id}.yaml").is_file() for case_id in NEW_IDS)


def test_the_new_cases_pass_on_the_simulated_station(tmp_path: Path) -> None:
    results = run_201([OCPP201 / f"{case_id}.yaml" for case_id in NEW_IDS], out=tmp_path)
    assert sorted(results) == sorted(NEW_IDS)
    failed = {
        case_id: f"{r.verdict.value}: {r.reason}"
        for case_id, r in results.items()
        if r.verdict is not Verdict.PASS
    }
    assert failed == {}
    # every case judged its own requirement, not only setup steps
    for case_id, result in results.items():
        assert any(c.requirement.id == case_id or "." in c.requirement.id for c in result.checks)


def test_tc_k_12_passes_on_a_station_without_w(tmp_path: Path) -> None:
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"units": ("A",)})
    factory = builtin_factory(station_options={"supported_units": frozenset({RateUnit.A})})
    path = OCPP201 / "TC_K_12_CS.yaml"
    result = run_201([path], out=tmp_path, capabilities=caps, factory=factory)["TC_K_12_CS"]
    assert result.verdict is Verdict.PASS, result.reason
    assert "K01.FR.26" in {c.requirement.id for c in result.checks}


def test_tc_k_12_fails_a_station_that_claims_no_w_but_accepts_w(tmp_path: Path) -> None:
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"units": ("A",)})
    path = OCPP201 / "TC_K_12_CS.yaml"
    result = run_201([path], out=tmp_path, capabilities=caps)["TC_K_12_CS"]
    assert result.verdict is Verdict.FAIL
    (failed,) = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert failed.requirement.id == "K01.FR.26"
    assert 'expected "Rejected", got "Accepted"' in failed.actual


@pytest.mark.parametrize("case_id", NEW_IDS)
def test_a_station_breaking_the_rule_fails_the_case(case_id: str, tmp_path: Path) -> None:
    make, requirement, actual = MISBEHAVIOURS[case_id]
    misbehaviour = make()
    result = run_201(
        [OCPP201 / f"{case_id}.yaml"], out=tmp_path, factory=misbehaving_factory(misbehaviour)
    )[case_id]
    assert misbehaviour.hits >= 1, "the scripted defect never took place"
    shown = "\n".join(c.explain() for c in result.checks if c.verdict is not Verdict.PASS)
    assert result.verdict is Verdict.FAIL, f"{result.verdict.value}: {result.reason}\n{shown}"
    failing = [c for c in result.checks if c.verdict is Verdict.FAIL]
    named = [c for c in failing if c.requirement.id == requirement]
    assert named, f"no FAIL of {requirement}\n{shown}"
    assert any(re.search(actual, c.actual) for c in named), shown
    assert all(c.frames for c in named)
