"""Judging profiles and the station's default answers, without a network."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.clock import ScaledClock
from harness.connection import OcppConnection
from harness.runner.operator import AutoOperator
from harness.runner.station_role import (
    StationDeclaration,
    StationEndpoint,
    StationState,
    Waiter,
    declaration_from_parameters,
    judge_composite_request,
    judge_profile,
    parse_hook,
    run_hook,
)
from harness.runner.station_role.trigger import make_csms_act
from harness.scenario import ScenarioLoadError, load_cases
from harness.session import CallErrorReceived, Role
from harness.smartcharging import RateUnit
from harness.transport import OcppSubprotocol, memory_pair
from harness.versions import OcppVersion

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def profile16(
    *, purpose: str = "TxDefaultProfile", unit: str = "A", limit: float = 16, **extra: Any
) -> dict[str, Any]:
    period: dict[str, Any] = {"startPeriod": 0, "limit": limit, **extra.pop("period", {})}
    return {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": unit,
            "startSchedule": "2026-01-01T12:00:00Z",
            "chargingSchedulePeriod": [period],
        },
        **extra,
    }


def judge16(
    payload: dict[str, Any], declaration: StationDeclaration, action: str = "SetChargingProfile"
) -> list[str]:
    state = StationState(OcppVersion.V16, declaration)
    return [
        f.describe()
        for f in judge_profile(
            action,
            payload,
            version=OcppVersion.V16,
            declaration=declaration,
            context=state.context(),
        ).findings
    ]


def test_a_limit_in_w_is_compared_with_the_maximum_for_its_phases() -> None:
    both = StationDeclaration(max_current_a=16, units=frozenset({RateUnit.A, RateUnit.W}))
    # 16 A x 230 V x 1 phase = 3680 W: 3700 W on one phase is too much, on three it is not
    one_phase = profile16(unit="W", limit=3700, period={"numberPhases": 1})
    three = profile16(unit="W", limit=3700)
    (finding,) = judge16({"connectorId": 1, "csChargingProfiles": one_phase}, both)
    assert "limit 3700 W is above the station's declared maximum of 3680 W" in finding
    assert judge16({"connectorId": 1, "csChargingProfiles": three}, both) == []


def test_no_declared_maximum_means_no_limit_check() -> None:
    unlimited = StationDeclaration(max_current_a=None)
    assert judge16({"connectorId": 1, "csChargingProfiles": profile16(limit=500)}, unlimited) == []


def test_a_remote_start_profile_must_be_a_tx_profile_and_needs_no_transaction() -> None:
    declaration = StationDeclaration()
    good = {"idTag": "T", "connectorId": 1, "chargingProfile": profile16(purpose="TxProfile")}
    assert judge16(good, declaration, "RemoteStartTransaction") == []
    bad = {"idTag": "T", "chargingProfile": profile16()}
    (finding,) = judge16(bad, declaration, "RemoteStartTransaction")
    assert "purpose TxDefaultProfile, expected TxProfile" in finding
    (missing,) = judge16({"idTag": "T"}, declaration, "RemoteStartTransaction")
    assert "carries no charging profile" in missing


def test_the_station_answers_like_a_conforming_station() -> None:
    state = StationState(OcppVersion.V16, StationDeclaration(max_current_a=32))
    good = {"connectorId": 1, "csChargingProfiles": profile16(limit=10)}
    wrong_unit = {"connectorId": 1, "csChargingProfiles": profile16(unit="W", limit=2000)}
    assert state.default_answer("SetChargingProfile", wrong_unit, at=NOW) == {"status": "Rejected"}
    answer = state.default_answer("SetChargingProfile", good, at=NOW)
    assert answer == {"status": "Accepted"}
    state.install_if_accepted("SetChargingProfile", good, answer)
    composite = state.default_answer(
        "GetCompositeSchedule", {"connectorId": 1, "duration": 60}, at=NOW
    )
    assert composite["status"] == "Accepted"
    assert composite["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 10
    assert state.default_answer("ClearChargingProfile", {"id": 7}, at=NOW) == {"status": "Unknown"}
    assert state.default_answer("ClearChargingProfile", {"id": 1}, at=NOW) == {"status": "Accepted"}
    config = state.default_answer(
        "GetConfiguration", {"key": ["ChargeProfileMaxStackLevel", "X"]}, at=NOW
    )
    assert config["configurationKey"][0]["value"] == "8"
    assert config["unknownKey"] == ["X"]


def test_station_parameters_make_the_declaration() -> None:
    declaration = declaration_from_parameters({"station_max_a": 16, "station_units": "A,W"})
    assert declaration.max_current_a == 16
    assert declaration.units == frozenset({RateUnit.A, RateUnit.W})
    assert declaration_from_parameters({"station_max_a": 0}).max_current_a is None
    with pytest.raises(ValueError, match="station_units"):
        declaration_from_parameters({"station_units": "kW"})


async def test_a_hook_that_hangs_is_killed_at_its_deadline() -> None:
    clock = ScaledClock(speed=1.0)
    command = parse_hook(f'{sys.executable} -c "import time; print(1, flush=True); time.sleep(30)"')
    result = await run_hook(command, clock=clock, timeout_s=0.5)
    assert result.timed_out
    assert not result.ok
    assert "did not exit in time" in result.describe()


async def test_a_hook_that_cannot_start_says_why() -> None:
    result = await run_hook(("/nonexistent/hook",), clock=ScaledClock(speed=1.0), timeout_s=5)
    assert not result.ok
    assert "could not start" in result.describe()


async def test_a_hook_gets_the_case_in_its_environment() -> None:
    command = parse_hook(
        f"{sys.executable} -c \"import os; print(os.environ['OCPP_HARNESS_STATION_ID'])\""
    )
    result = await run_hook(
        command, clock=ScaledClock(speed=1.0), timeout_s=10, env={"OCPP_HARNESS_STATION_ID": "CP-9"}
    )
    assert result.ok
    assert result.output.strip() == "CP-9"


STATION_CASE_WITH_TRIGGER = """
id: X-1
title: wrong role
suite: t
ocpp_versions: ["1.6"]
dut_role: station
steps:
  - {kind: trigger, message: do it}
"""
CSMS_CASE_WITH_SET_PROFILE = """
id: X-2
title: wrong role
suite: t
ocpp_versions: ["1.6"]
dut_role: csms
steps:
  - kind: set_profile
    profile: {}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (STATION_CASE_WITH_TRIGGER, "'trigger' is for cases with dut_role: csms"),
        (CSMS_CASE_WITH_SET_PROFILE, "'set_profile' is for cases with dut_role: station"),
    ],
)
def test_a_step_of_the_other_role_is_a_load_error(tmp_path: Any, text: str, message: str) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioLoadError, match=message):
        load_cases([path])


async def test_a_request_the_station_cannot_answer_still_reaches_the_case() -> None:
    """GetDiagnostics has no answer of the harness station: CALLERROR NotImplemented, but an
    expect_request step for it is satisfied (the CSMS did send it)."""

    clock = ScaledClock(speed=1.0)
    station_end, csms_end = memory_pair("CP-1", OcppSubprotocol.V16)
    endpoint = StationEndpoint(
        station_end, clock=clock, state=StationState(OcppVersion.V16, StationDeclaration())
    )
    endpoint.start()
    csms = OcppConnection.open(csms_end, role=Role.CSMS, clock=clock)
    csms.start()
    waiter = endpoint.arm(Waiter("GetDiagnostics", lambda _: True, lambda _: None))

    with pytest.raises(CallErrorReceived) as caught:
        await csms.call("GetDiagnostics", {"location": "ftp://127.0.0.1/logs"}, timeout_s=5)
    assert str(caught.value.code) == "NotImplemented"
    request = await waiter.future
    assert request.payload == {"location": "ftp://127.0.0.1/logs"}
    assert request.response is None
    await csms.close()
    await endpoint.close()


def test_a_composite_request_is_judged_against_the_declaration() -> None:
    declaration = StationDeclaration(units=frozenset({RateUnit.A}), number_of_evses=1)
    ok = {"connectorId": 0, "duration": 400, "chargingRateUnit": "A"}
    assert judge_composite_request(ok, version=OcppVersion.V16, declaration=declaration) == ()
    bad = {"evseId": 2, "duration": 0, "chargingRateUnit": "W"}
    found = judge_composite_request(bad, version=OcppVersion.V201, declaration=declaration)
    assert [f.requirement for f in found] == [
        "GetCompositeSchedule.evseId",
        "GetCompositeSchedule.duration",
        "declared station units",
    ]


async def test_an_invalid_hook_command_line_is_inconclusive_not_error() -> None:
    outcome = await make_csms_act(
        message="do it",
        hook='unbalanced "quote',
        timeout_s=5,
        clock=ScaledClock(speed=1.0),
        operator=AutoOperator(),
        station_id="CP-1",
        env={},
    )
    assert not outcome.ok
    assert "is not a valid command line" in outcome.reason
