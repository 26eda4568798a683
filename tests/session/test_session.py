"""The session's behaviour: correlation, the one-CALL rule, timeouts, typing, the trace."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ocpp.v16 import call as call16
from ocpp.v16 import datatypes as dt16
from ocpp.v16.enums import ChargingProfilePurposeType, ChargingRateUnitType

from harness.session import (
    CallReceived,
    CallResultError,
    CallTimedOut,
    ErrorReceived,
    LocalProtocolError,
    Malformation,
    ProtocolViolation,
    ResultErrorReceived,
    ResultReceived,
    Role,
    SendReceived,
    parse_frame,
)
from harness.versions import OcppVersion
from tests.session.conftest import T0, at, make_session

HEARTBEAT_RESULT = {"currentTime": "2025-01-01T00:00:00Z"}


def test_response_is_correlated_to_its_call(version: OcppVersion) -> None:
    station = make_session(version, Role.CHARGING_STATION)
    call = station.send_call("Heartbeat", {}, now=T0)
    assert station.data_to_send() == [f'[2,"{call.message_id}","Heartbeat",{{}}]']
    events = station.receive_text(json.dumps([3, call.message_id, HEARTBEAT_RESULT]), now=at(1))
    assert len(events) == 1
    assert isinstance(events[0], ResultReceived)
    assert events[0].call == call
    assert events[0].payload == HEARTBEAT_RESULT
    assert station.outstanding_calls == []


def test_callerror_is_correlated_to_its_call(version: OcppVersion) -> None:
    station = make_session(version, Role.CHARGING_STATION)
    call = station.send_call("Heartbeat", {}, now=T0)
    (event,) = station.receive_text(
        json.dumps([4, call.message_id, "InternalError", "busy", {}]), now=T0
    )
    assert isinstance(event, ErrorReceived)
    assert (event.action, event.error.error_code) == ("Heartbeat", "InternalError")


def test_only_one_outstanding_call_unless_switched_off(version: OcppVersion) -> None:
    station = make_session(version, Role.CHARGING_STATION)
    station.send_call("Heartbeat", {}, now=T0)
    with pytest.raises(LocalProtocolError, match="outstanding"):
        station.send_call("Heartbeat", {}, now=T0)
    rude = make_session(version, Role.CHARGING_STATION, allow_concurrent_calls=True)
    first = rude.send_call("Heartbeat", {}, now=T0)
    second = rude.send_call("Heartbeat", {}, now=T0)
    assert [c.message_id for c in rude.outstanding_calls] == [first.message_id, second.message_id]


def test_call_times_out_by_clock_tick_and_frees_the_slot(version: OcppVersion) -> None:
    station = make_session(version, Role.CHARGING_STATION)
    call = station.send_call("Heartbeat", {}, now=T0, timeout_s=30)
    assert station.next_deadline() == at(30)
    assert station.tick(now=at(29.999)) == []
    (event,) = station.tick(now=at(30))
    assert isinstance(event, CallTimedOut)
    assert event.call == call
    assert event.timeout_s == 30
    station.send_call("Heartbeat", {}, now=at(31))  # the slot is free again
    late = station.receive_text(json.dumps([3, call.message_id, HEARTBEAT_RESULT]), now=at(32))
    assert isinstance(late[0], ProtocolViolation)  # an answer after the timeout is unknown
    assert late[0].violation.kind is Malformation.UNKNOWN_RESPONSE_ID


@given(
    timeout=st.floats(min_value=0.0, max_value=1e6)
    | st.integers(0, 10**6)
    | st.sampled_from([5e-7, 1.5e-6, 30.0000005, 0.1234565])
)
def test_a_deadline_is_now_plus_the_timeout_to_the_microsecond(timeout: float) -> None:
    station = make_session(OcppVersion.V16, Role.CHARGING_STATION)
    station.send_call("Heartbeat", {}, now=T0, timeout_s=timeout)
    assert station.next_deadline() == T0 + timedelta(seconds=timeout)
    raw = make_session(OcppVersion.V16, Role.CHARGING_STATION)
    raw.send_raw('[2,"x","Heartbeat",{}]', now=T0, answer_id="x", timeout_s=timeout)
    assert raw.next_deadline() == T0 + timedelta(seconds=timeout)


def test_no_timeout_means_no_deadline() -> None:
    station = make_session(OcppVersion.V201, Role.CHARGING_STATION)
    station.send_call("Heartbeat", {}, now=T0, timeout_s=None)
    assert station.next_deadline() is None
    assert station.tick(now=at(10**9)) == []


def test_our_own_mistakes_are_local_errors() -> None:
    station = make_session(OcppVersion.V16, Role.CHARGING_STATION)
    with pytest.raises(LocalProtocolError, match="may not send SetChargingProfile"):
        station.send_call("SetChargingProfile", {}, now=T0)
    with pytest.raises(LocalProtocolError, match="schema"):
        station.send_call("BootNotification", {"chargePointVendor": "V"}, now=T0)
    with pytest.raises(LocalProtocolError, match="no action"):
        station.send_call("MakeCoffee", {}, now=T0)
    with pytest.raises(LocalProtocolError, match="waiting"):
        station.send_result("never-asked", {}, now=T0)
    assert station.data_to_send() == []


def test_invalid_result_completes_the_call_with_a_violation() -> None:
    station = make_session(OcppVersion.V201, Role.CHARGING_STATION)
    call = station.send_call("Heartbeat", {}, now=T0)
    station.data_to_send()
    (event,) = station.receive_text(f'[3,"{call.message_id}",{{}}]', now=T0)
    assert isinstance(event, ProtocolViolation)
    assert event.call == call
    assert event.violation.kind is Malformation.OCCURRENCE
    assert station.data_to_send() == []  # 2.0.1 has no answer to a bad CALLRESULT
    assert station.outstanding_calls == []


def test_21_answers_an_invalid_result_with_callresulterror() -> None:
    station = make_session(OcppVersion.V21, Role.CHARGING_STATION)
    call = station.send_call("Heartbeat", {}, now=T0)
    station.data_to_send()
    (event,) = station.receive_text(f'[3,"{call.message_id}",{{"currentTime":5}}]', now=T0)
    assert isinstance(event, ProtocolViolation)
    (reply,) = station.data_to_send()
    frame = parse_frame(reply)
    assert isinstance(frame, CallResultError)
    assert (frame.message_id, frame.error_code) == (call.message_id, "TypeConstraintViolation")


def test_21_send_and_callresulterror_are_received() -> None:
    csms = make_session(OcppVersion.V21, Role.CSMS)
    payload = {"id": 1, "pending": 0, "basetime": "2025-01-01T00:00:00Z",
               "data": [{"t": 0, "v": "1.5"}]}  # fmt: skip
    sent = make_session(OcppVersion.V21, Role.CHARGING_STATION)
    sent.send_send("NotifyPeriodicEventStream", payload, now=T0)
    (text,) = sent.data_to_send()
    (event,) = csms.receive_text(text, now=T0)
    assert isinstance(event, SendReceived)
    assert event.payload == payload
    assert csms.data_to_send() == []
    (error,) = csms.receive_text('[5,"r1","FormatViolation","bad",{}]', now=T0)
    assert isinstance(error, ResultErrorReceived)
    assert error.error.error_code == "FormatViolation"


def test_invalid_send_is_recorded_but_not_answered() -> None:
    csms = make_session(OcppVersion.V21, Role.CSMS)
    (event,) = csms.receive_text('[6,"s1","NotifyPeriodicEventStream",{}]', now=T0)
    assert isinstance(event, ProtocolViolation)
    assert event.violation.kind is Malformation.OCCURRENCE
    assert csms.data_to_send() == []


SET_PROFILE_16 = (
    '[2,"p1","SetChargingProfile",{"connectorId":1,"csChargingProfiles":{"chargingProfileId":7,'
    '"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",'
    '"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,'
    '"limit":16.0},{"startPeriod":900,"limit":7.2,"numberPhases":1}]}}}]'
)


def test_nested_payloads_become_dataclasses_with_exact_decimals() -> None:
    station = make_session(OcppVersion.V16, Role.CHARGING_STATION)
    (event,) = station.receive_text(SET_PROFILE_16, now=T0)
    assert isinstance(event, CallReceived)
    typed = event.typed()
    request = typed.value
    assert isinstance(request, call16.SetChargingProfile)
    profile = request.cs_charging_profiles
    assert isinstance(profile, dt16.ChargingProfile)
    assert profile.charging_profile_purpose is ChargingProfilePurposeType.tx_default_profile
    schedule = profile.charging_schedule
    assert isinstance(schedule, dt16.ChargingSchedule)
    assert schedule.charging_rate_unit is ChargingRateUnitType.amps
    periods = schedule.charging_schedule_period
    assert all(isinstance(p, dt16.ChargingSchedulePeriod) for p in periods)
    assert [p.limit for p in periods] == [Decimal("16.0"), Decimal("7.2")]
    assert str(periods[0].limit) == "16.0"
    assert periods[1].number_phases == 1
    assert typed.extra == {}


def test_unknown_fields_stay_available_next_to_the_dataclass() -> None:
    csms = make_session(OcppVersion.V201, Role.CSMS)
    text = (
        '[2,"b1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M",'
        '"vendorName":"V","customData":{"vendorId":"x","colour":"red"}}}]'
    )
    (event,) = csms.receive_text(text, now=T0)
    assert isinstance(event, CallReceived)
    typed = event.typed()
    assert typed.value.charging_station.model == "M"
    # the ocpp package's ChargingStationType has no custom_data field: kept aside, not lost
    assert typed.extra == {"chargingStation.customData": {"vendorId": "x", "colour": "red"}}


def test_dataclass_payloads_are_sent_in_camel_case() -> None:
    csms = make_session(OcppVersion.V16, Role.CSMS)
    profile = dt16.ChargingProfile(
        charging_profile_id=1,
        stack_level=0,
        charging_profile_purpose=ChargingProfilePurposeType.tx_default_profile,
        charging_profile_kind="Absolute",
        charging_schedule=dt16.ChargingSchedule(
            charging_rate_unit=ChargingRateUnitType.amps,
            charging_schedule_period=[dt16.ChargingSchedulePeriod(0, Decimal("6.1"))],
        ),
    )
    csms.send_call("SetChargingProfile", call16.SetChargingProfile(1, profile), now=T0)
    (text,) = csms.data_to_send()
    assert '"csChargingProfiles":{"chargingProfileId":1' in text
    assert '"chargingSchedulePeriod":[{"startPeriod":0,"limit":6.1}]' in text


def test_trace_records_every_frame_both_ways() -> None:
    records: list[dict[str, object]] = []
    station = make_session(
        OcppVersion.V16, Role.CHARGING_STATION, trace_sink=lambda r: records.append(r.to_json())
    )
    call = station.send_call("Heartbeat", {}, now=T0)
    station.receive_text(f'[3,"{call.message_id}",{{"currentTime":"2025-01-01T00:00:00Z"}}]',
                         now=at(0.25))  # fmt: skip
    station.receive_text("garbage", now=at(1))
    assert [r["dir"] for r in records] == ["out", "in", "in", "out"]
    assert records[0] == {
        "t": "2025-01-01T00:00:00.000000Z",
        "dir": "out",
        "raw": f'[2,"{call.message_id}","Heartbeat",{{}}]',
        "station": "CS1",
        "type": 2,
        "id": call.message_id,
        "action": "Heartbeat",
    }
    assert records[1]["t"] == "2025-01-01T00:00:00.250000Z"
    assert (records[1]["type"], records[1]["action"]) == (3, "Heartbeat")
    assert records[2]["raw"] == "garbage"
    violations = records[2]["violations"]
    assert isinstance(violations, list)
    assert violations[0]["kind"] == "not_json"
    assert records[3]["raw"] == station.trace[3].raw
    assert len(station.trace) == 4


def test_raw_frames_are_sent_verbatim_and_traced() -> None:
    station = make_session(OcppVersion.V201, Role.CHARGING_STATION)
    station.send_raw('[2,"r1","Heartbeat",{"extra":1.50}]', now=T0)
    station.send_raw("][", now=T0)
    assert station.data_to_send() == ['[2,"r1","Heartbeat",{"extra":1.50}]', "]["]
    assert [(r.message_type, r.message_id, r.action) for r in station.trace] == [
        (2, "r1", "Heartbeat"),
        (None, None, None),
    ]
    assert station.outstanding_calls == []


def test_binary_frame_is_recorded_as_a_violation() -> None:
    csms = make_session(OcppVersion.V201, Role.CSMS)
    (event,) = csms.receive_binary(b"\x00\xff", now=T0)
    assert isinstance(event, ProtocolViolation)
    assert event.violation.kind is Malformation.BINARY_FRAME
    assert csms.trace[-1].raw == "<binary:00ff>"
    assert csms.data_to_send() == []


def test_action_checks_hold_every_time_not_only_the_first(version: OcppVersion) -> None:
    # The session remembers actions found fine; one found wrong is judged again each time.
    csms = make_session(version, Role.CSMS)
    for n in range(3):
        (wrong,) = csms.receive_text(f'[2,"r{n}","Reset",{{"type":"Hard"}}]', now=T0)
        assert isinstance(wrong, ProtocolViolation)
        assert wrong.violation.kind is Malformation.WRONG_DIRECTION
        (unknown,) = csms.receive_text(f'[2,"u{n}","NoSuchAction",{{}}]', now=T0)
        assert isinstance(unknown, ProtocolViolation)
        assert unknown.violation.kind is Malformation.UNKNOWN_ACTION
        (fine,) = csms.receive_text(f'[2,"h{n}","Heartbeat",{{}}]', now=T0)
        assert isinstance(fine, CallReceived)
        csms.send_result(f"h{n}", HEARTBEAT_RESULT, now=T0)
        with pytest.raises(LocalProtocolError):
            csms.send_call("Heartbeat", {}, now=T0)  # a station's action, not the CSMS's
