"""The station role's ISO 15118 helpers: the EV's proposed schedule derived from the CSMS's
(ev_schedule), and the requests a CSMS sent that no step asked for (expect_no_request)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from harness.runner.station_role.endpoint import CsmsRequest
from harness.runner.station_role.iso15118 import ev_schedule_send, exceeding, unasked_requests
from harness.scenario import EvScheduleStep, ExpectNoRequestStep, Step, SubstitutionError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CSMS_SCHEDULE = {
    "id": 1,
    "chargingRateUnit": "W",
    "startSchedule": "2026-12-07T11:59:00Z",
    "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
        {"startPeriod": 600, "limit": 0},
    ],
}


def _step(raw: dict[str, Any]) -> Any:
    return TypeAdapter(Step).validate_python(raw)


def test_the_ev_keeps_to_or_exceeds_each_limit_in_its_own_unit() -> None:
    assert exceeding(16.0, 1.0) == 16.0
    assert exceeding(16.0, 2.0) == 32.0
    assert exceeding(0.0, 2.0) == 1.0  # a limit of 0 is exceeded too
    assert exceeding(0.4, 1.5) == 1.4  # at least one unit above


def test_ev_schedule_sends_the_csms_schedule_scaled_as_notify_ev_charging_schedule() -> None:
    step = _step(
        {
            "kind": "ev_schedule",
            "requirement": "K15.FR.12",
            "factor": "${factor}",
            "payload": {"timeBase": "${now}", "evseId": 1, "chargingSchedule": "${csms}"},
            "expect": {"status": "Rejected"},
            "timeout_s": 7,
        }
    )
    assert isinstance(step, EvScheduleStep)
    send = ev_schedule_send(step, variables={"csms": CSMS_SCHEDULE, "factor": 2.0}, now=NOW)
    assert send.action == "NotifyEVChargingSchedule"
    assert (send.requirement, send.timeout_s, send.expect) == ("K15.FR.12", 7.0, step.expect)
    assert send.payload["timeBase"] == "2026-12-07T12:00:00.000Z"
    schedule = send.payload["chargingSchedule"]
    assert [p["limit"] for p in schedule["chargingSchedulePeriod"]] == [22000.0, 1.0]
    # everything else is the CSMS's schedule as it was
    assert schedule["chargingSchedulePeriod"][0]["numberPhases"] == 3
    assert {k: v for k, v in schedule.items() if k != "chargingSchedulePeriod"} == {
        k: v for k, v in CSMS_SCHEDULE.items() if k != "chargingSchedulePeriod"
    }
    kept = ev_schedule_send(step, variables={"csms": CSMS_SCHEDULE, "factor": 1}, now=NOW)
    assert kept.payload["chargingSchedule"] == CSMS_SCHEDULE


def test_ev_schedule_refuses_what_is_no_schedule() -> None:
    step = _step({"kind": "ev_schedule", "payload": {"evseId": 1, "chargingSchedule": "${csms}"}})
    with pytest.raises(SubstitutionError, match="must be a charging schedule"):
        ev_schedule_send(step, variables={"csms": {"id": 1}}, now=NOW)


def _request(message_id: str, action: str, purpose: str = "TxProfile") -> CsmsRequest:
    payload = {"evseId": 1, "chargingProfile": {"chargingProfilePurpose": purpose}}
    return CsmsRequest(action, payload, message_id, (3,), {"status": "Accepted"})


def test_unasked_requests_are_those_no_step_claimed_of_the_action() -> None:
    step = _step({"kind": "expect_no_request", "action": "SetChargingProfile", "within_s": 1})
    assert isinstance(step, ExpectNoRequestStep)
    requests = [
        _request("a", "SetChargingProfile"),
        _request("b", "SetChargingProfile", "TxDefaultProfile"),
        _request("c", "ClearChargingProfile"),
    ]
    found = unasked_requests(step, requests, claimed={"a"}, variables={})
    assert [r.message_id for r in found] == ["b"]
    assert unasked_requests(step, requests, claimed={"a", "b"}, variables={}) == []
    # what came before the last claimed request is not counted (a profile after a boot)
    assert unasked_requests(step, requests, claimed={"c"}, variables={}) == []
    only_tx = _step(
        {
            "kind": "expect_no_request",
            "action": "SetChargingProfile",
            "within_s": 1,
            "expect": {"chargingProfile": {"chargingProfilePurpose": "${purpose}"}},
        }
    )
    assert unasked_requests(only_tx, requests, claimed=(), variables={"purpose": "TxProfile"}) == [
        requests[0]
    ]
