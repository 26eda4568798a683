"""The OCPP 1.6 station cases: public vectors exactly, and every acceptable outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from harness.scenario import (
    CallErrorCode,
    ClearProfileStep,
    CompareCompositeStep,
    SendStep,
    SetProfileStep,
    match,
    resolve_parameters,
    substitute,
)
from harness.versions import OcppVersion
from tests.scenarios.library import load_case, walk

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _profiles(case_id: str) -> list[dict[str, Any]]:
    return [s.profile for s in load_case(case_id).steps if isinstance(s, SetProfileStep)]


def _periods(profile: dict[str, Any]) -> list[tuple[int, float]]:
    return [
        (p["startPeriod"], p["limit"])
        for p in profile["chargingSchedule"]["chargingSchedulePeriod"]
    ]


def _shape(profile: dict[str, Any]) -> tuple[Any, ...]:
    schedule = profile["chargingSchedule"]
    return (
        profile["chargingProfilePurpose"],
        profile["chargingProfileKind"],
        profile["stackLevel"],
        schedule["duration"],
        schedule["chargingRateUnit"],
        _periods(profile),
    )


def test_tc_066_reproduces_table_82() -> None:
    """1.6 TestCaseDocument table 82: ChargePointMax 10 A (86 400 s); TxDefault 300 s;
    TxProfile 260 s; all from now − max time deviation; TxDefault and TxProfile valid until
    now − deviation + 401 s; numberPhases configured."""
    profiles = _profiles("TC_066_CS")
    assert [_shape(p) for p in profiles] == [
        ("ChargePointMaxProfile", "Absolute", 0, 86400, "A", [(0, 10.0)]),
        (
            "TxDefaultProfile",
            "Absolute",
            0,
            300,
            "A",
            [(0, 6.0), (60, 10.0), (120, 8.0), (180, 15.0), (260, 8.0)],
        ),
        (
            "TxProfile",
            "Absolute",
            0,
            260,
            "A",
            [(0, 8.0), (50, 11.0), (140, 16.0), (200, 6.0), (240, 12.0)],
        ),
    ]
    starts = {p["chargingSchedule"]["startSchedule"] for p in profiles}
    assert starts == {"${now-max_time_deviation}"}
    for p in profiles[1:]:
        assert p["validFrom"] == "${now-max_time_deviation}"
        assert p["validTo"] == "${now-max_time_deviation+401s}"
    for p in profiles:
        periods = p["chargingSchedule"]["chargingSchedulePeriod"]
        assert {q["numberPhases"] for q in periods} == {"${number_phases}"}
    assert profiles[2]["transactionId"] == "${transaction_id}"
    steps = load_case("TC_066_CS").steps
    station_max = next(s for s in steps if isinstance(s, SetProfileStep))
    assert station_max.evse == 0
    (compare,) = [s for s in steps if isinstance(s, CompareCompositeStep)]
    assert (compare.duration_s, compare.unit, compare.tolerance) == (400.0, "A", 0.0)


def test_tc_066_profiles_start_the_max_time_deviation_before_the_request() -> None:
    case = load_case("TC_066_CS")
    step = next(s for s in case.steps if isinstance(s, SetProfileStep))
    params = {**resolve_parameters(case), "max_time_deviation": 4.0}
    payload = substitute(step.as_send(OcppVersion.V16).payload, variables=params, now=NOW)
    assert payload["csChargingProfiles"]["chargingSchedule"]["startSchedule"] == (
        "2026-03-01T11:59:56.000Z"
    )
    assert resolve_parameters(case)["max_time_deviation"] == 1.0  # the lab default


def test_tc_072_reproduces_table_84() -> None:
    """TxDefault stack 0 (400 s): 0→6, 100→8, 200→10; stack 1 (150 s): 0→7, 100→9;
    composite asked over 350 s."""
    profiles = _profiles("TC_072_CS")
    assert [_shape(p) for p in profiles] == [
        ("TxDefaultProfile", "Absolute", 0, 400, "A", [(0, 6.0), (100, 8.0), (200, 10.0)]),
        ("TxDefaultProfile", "Absolute", 1, 150, "A", [(0, 7.0), (100, 9.0)]),
    ]
    starts = {p["chargingSchedule"]["startSchedule"] for p in profiles}
    assert starts == {"${now-max_time_deviation}"}
    assert {p["validTo"] for p in profiles} == {"${now-max_time_deviation+401s}"}
    (compare,) = [s for s in load_case("TC_072_CS").steps if isinstance(s, CompareCompositeStep)]
    assert (compare.duration_s, compare.unit) == (350.0, "A")


def _outcome(case_id: str) -> SendStep:
    case = load_case(case_id)
    step = next(s for s in walk(case.steps) if s.requirement == case_id)
    send = step.as_send(OcppVersion.V16) if isinstance(step, SetProfileStep) else step
    assert isinstance(send, SendStep)
    return send


@pytest.mark.parametrize(
    ("case_id", "call_errors"),
    [
        ("TC_058_1_CS", (CallErrorCode.PROPERTY_CONSTRAINT_VIOLATION,)),
        ("TC_058_2_CS", None),
        ("TC_060_CS", (CallErrorCode.PROPERTY_CONSTRAINT_VIOLATION,)),
    ],
)
def test_rejection_cases_accept_exactly_the_acceptable_outcomes(
    case_id: str, call_errors: tuple[CallErrorCode, ...] | None
) -> None:
    send = _outcome(case_id)
    assert send.expect is not None
    assert match(send.expect, {"status": "Rejected"}).matched
    assert not match(send.expect, {"status": "Accepted"}).matched
    assert send.expect_call_error == call_errors
    assert load_case(case_id).step_level(send).value == "MUST"


def test_tc_058_1_names_a_transaction_while_none_runs() -> None:
    steps = load_case("TC_058_1_CS").steps
    assert not any(getattr(s, "action", None) == "plug_in" for s in steps)
    send = _outcome("TC_058_1_CS")
    profile = send.payload["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["transactionId"] == "${transaction_id}"


def test_tc_058_2_names_another_transaction_than_the_running_one() -> None:
    case = load_case("TC_058_2_CS")
    params = resolve_parameters(case)
    send = _outcome("TC_058_2_CS")
    named = substitute(send.payload, variables=params, now=NOW)["csChargingProfiles"]
    assert named["transactionId"] == params["unknown_transaction_id"]
    assert named["transactionId"] != params["transaction_id"]


def test_tc_060_remote_start_carries_a_profile_that_is_not_tx_profile() -> None:
    send = _outcome("TC_060_CS")
    assert send.action == "RemoteStartTransaction"
    assert send.payload["chargingProfile"]["chargingProfilePurpose"] != "TxProfile"


def test_tc_059_remote_start_carries_a_tx_profile_and_the_composite_is_compared() -> None:
    steps = load_case("TC_059_CS").steps
    start = next(
        s for s in steps if isinstance(s, SendStep) and s.action == "RemoteStartTransaction"
    )
    assert start.payload["chargingProfile"]["chargingProfilePurpose"] == "TxProfile"
    assert "transactionId" not in start.payload["chargingProfile"]
    assert isinstance(next(s for s in steps if s.requirement == "TC_059_CS"), CompareCompositeStep)


def test_tc_067_clears_by_id_by_criteria_and_all_each_followed_by_a_composite() -> None:
    steps = list(load_case("TC_067_CS").steps)
    clears = [
        (i, s) for i, s in enumerate(steps) if isinstance(s, ClearProfileStep) and s.requirement
    ]
    payloads = [s.as_send(OcppVersion.V16).payload for _, s in clears]
    assert payloads == [
        {"id": 672},
        {"connectorId": 0, "chargingProfilePurpose": "ChargePointMaxProfile", "stackLevel": 0},
        {},
    ]
    for index, _ in clears:
        follower = steps[index + 1]
        assert isinstance(follower, CompareCompositeStep)
        assert follower.requirement == "TC_067_CS"
    installed = {p["chargingProfileId"] for p in _profiles("TC_067_CS")}
    assert installed == {671, 672, 673}


@pytest.mark.parametrize("case_id", ["TC_056_CS", "TC_082_CS"])
def test_tx_default_cases_set_a_tx_default_profile_and_compare(case_id: str) -> None:
    steps = list(load_case(case_id).steps)
    (profile_step,) = [s for s in steps if isinstance(s, SetProfileStep)]
    assert profile_step.profile["chargingProfilePurpose"] == "TxDefaultProfile"
    compare = steps[steps.index(profile_step) + 1]
    assert isinstance(compare, CompareCompositeStep)
    running = any(isinstance(s, SendStep) and s.action == "RemoteStartTransaction" for s in steps)
    assert running is (case_id == "TC_082_CS")  # TC_082: during a transaction


def test_tc_057_sets_a_tx_profile_for_the_running_transaction() -> None:
    (profile,) = _profiles("TC_057_CS")
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["transactionId"] == "${transaction_id}"
