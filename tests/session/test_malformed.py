"""Each class of malformed input gets the CALLERROR its version prescribes — or none."""

from __future__ import annotations

import json

import pytest

import harness.session.session
from harness.session import ACCEPTABLE, ErrorReceived, Malformation, ProtocolViolation, Role
from harness.versions import OcppVersion
from tests.session.conftest import T0, make_session

BOOT_16 = {"chargePointVendor": "V", "chargePointModel": "M"}
BOOT_2X = {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"}

# (case, text sent by the station, 1.6 answer (id, code), 2.x answer (id, code), kind)
CASES_16_201 = [
    ("not json", "[2,", ("-1", "FormationViolation"), ("-1", "RpcFrameworkError"),
     Malformation.NOT_JSON),
    ("not an array", '{"id":"1"}', ("-1", "FormationViolation"), ("-1", "RpcFrameworkError"),
     Malformation.NOT_ARRAY),
    ("id unreadable", '[2,42,"Heartbeat",{}]', ("-1", "FormationViolation"),
     ("-1", "RpcFrameworkError"), Malformation.UNREADABLE_ID),
    ("wrong message type id", '[9,"m1","Heartbeat",{}]', ("m1", "FormationViolation"),
     ("m1", "MessageTypeNotSupported"), Malformation.BAD_MESSAGE_TYPE),
    ("missing element", '[2,"m1","Heartbeat"]', ("m1", "FormationViolation"),
     ("m1", "RpcFrameworkError"), Malformation.BAD_FRAME),
    ("unknown action", '[2,"m1","MakeCoffee",{}]', ("m1", "NotImplemented"),
     ("m1", "NotImplemented"), Malformation.UNKNOWN_ACTION),
    ("action from the wrong side", '[2,"m1","Reset",{"type":"Hard"}]', ("m1", "NotSupported"),
     ("m1", "NotSupported"), Malformation.WRONG_DIRECTION),
    ("required field missing", '[2,"m1","BootNotification",{}]',
     ("m1", "OccurenceConstraintViolation"), ("m1", "OccurrenceConstraintViolation"),
     Malformation.OCCURRENCE),
    ("payload not an object", '[2,"m1","Heartbeat",[]]', ("m1", "FormationViolation"),
     ("m1", "FormatViolation"), Malformation.FORMAT),
]  # fmt: skip

# Cases whose payload differs between 1.6 and 2.x: (case, 1.6 text, 2.x text, 1.6 code, 2.x code)
SCHEMA_CASES = [
    ("wrong type",
     {**BOOT_16, "chargePointVendor": 5},
     {**BOOT_2X, "chargingStation": {"vendorName": 5, "model": "M"}},
     "TypeConstraintViolation", "TypeConstraintViolation", Malformation.TYPE),
    ("string too long",
     {**BOOT_16, "chargePointVendor": "V" * 21},
     {**BOOT_2X, "chargingStation": {"vendorName": "V" * 51, "model": "M"}},
     "PropertyConstraintViolation", "PropertyConstraintViolation", Malformation.PROPERTY),
    ("value outside enum", None, {**BOOT_2X, "reason": "Bored"},
     None, "PropertyConstraintViolation", Malformation.PROPERTY),
    ("unknown extra field", {**BOOT_16, "colour": "red"}, {**BOOT_2X, "colour": "red"},
     "FormationViolation", "FormatViolation", Malformation.FORMAT),
]  # fmt: skip


def _answer(version: OcppVersion, text: str) -> tuple[ProtocolViolation, list[object]]:
    csms = make_session(version, Role.CSMS)
    events = csms.receive_text(text, now=T0)
    assert len(events) == 1
    (event,) = events
    assert isinstance(event, ProtocolViolation)
    replies = [json.loads(t) for t in csms.data_to_send()]
    return event, replies


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201, OcppVersion.V21])
@pytest.mark.parametrize(
    ("case", "text", "answer_16", "answer_2x", "kind"),
    CASES_16_201,
    ids=[c[0] for c in CASES_16_201],
)
def test_malformed_call_gets_the_prescribed_callerror(
    version: OcppVersion,
    case: str,
    text: str,
    answer_16: tuple[str, str],
    answer_2x: tuple[str, str],
    kind: Malformation,
) -> None:
    event, replies = _answer(version, text)
    message_id, code = answer_16 if version is OcppVersion.V16 else answer_2x
    assert event.violation.kind is kind
    assert len(replies) == 1
    assert replies[0][:3] == [4, message_id, code]
    assert event.reply is not None
    assert code in {c.value for c in ACCEPTABLE[version][kind]}


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
@pytest.mark.parametrize(
    ("case", "payload_16", "payload_2x", "code_16", "code_2x", "kind"),
    SCHEMA_CASES,
    ids=[c[0] for c in SCHEMA_CASES],
)
def test_payload_failing_its_schema_gets_the_prescribed_code(
    version: OcppVersion,
    case: str,
    payload_16: dict[str, object] | None,
    payload_2x: dict[str, object],
    code_16: str | None,
    code_2x: str,
    kind: Malformation,
) -> None:
    payload = payload_16 if version is OcppVersion.V16 else payload_2x
    code = code_16 if version is OcppVersion.V16 else code_2x
    if payload is None:  # the case does not exist in this version: use the 2.x one's idea
        payload = {**BOOT_16, "chargePointVendor": None}
        code, kind = "TypeConstraintViolation", Malformation.TYPE
    event, replies = _answer(version, json.dumps([2, "m1", "BootNotification", payload]))
    assert event.violation.kind is kind
    assert replies == [[4, "m1", code, event.violation.detail, {}]]
    assert event.violation.path is not None


def test_messages_of_21_are_unsupported_types_in_201_and_16() -> None:
    for version, code in [(OcppVersion.V201, "MessageTypeNotSupported"),
                          (OcppVersion.V16, "FormationViolation")]:  # fmt: skip
        event, replies = _answer(version, '[6,"s1","NotifyPeriodicEventStream",{}]')
        assert event.violation.kind is Malformation.BAD_MESSAGE_TYPE
        assert replies[0][:3] == [4, "s1", code]


def test_duplicate_id_of_a_call_still_being_processed(version: OcppVersion) -> None:
    csms = make_session(version, Role.CSMS)
    csms.receive_text('[2,"dup","Heartbeat",{}]', now=T0)
    events = csms.receive_text('[2,"dup","Heartbeat",{}]', now=T0)
    assert isinstance(events[0], ProtocolViolation)
    assert events[0].violation.kind is Malformation.DUPLICATE_ID
    code = "GenericError" if version is OcppVersion.V16 else "RpcFrameworkError"
    assert [json.loads(t)[:3] for t in csms.data_to_send()] == [[4, "dup", code]]
    assert csms.unanswered_calls == {"dup": "Heartbeat"}  # the first one can still be answered


def test_an_id_reused_after_its_call_was_answered_is_flagged(version: OcppVersion) -> None:
    """Issue #16.12: the reuse is a violation on record; the CALL is still delivered."""
    csms = make_session(version, Role.CSMS)
    csms.receive_text('[2,"same","Heartbeat",{}]', now=T0)
    csms.send_result("same", {"currentTime": "2025-01-01T00:00:00Z"}, now=T0)
    csms.data_to_send()
    events = csms.receive_text('[2,"same","Heartbeat",{}]', now=T0)
    violations = [e for e in events if isinstance(e, ProtocolViolation)]
    assert [v.violation.kind for v in violations] == [Malformation.DUPLICATE_ID]
    assert "already answered" in violations[0].violation.detail
    assert csms.unanswered_calls == {"same": "Heartbeat"}  # delivered, to be answered
    assert csms.data_to_send() == []  # no CALLERROR: the first was answered


def test_a_reused_id_is_remembered_as_the_newest(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bounded memory of the peer's ids forgets the oldest first; a reused id counts as
    used again when it is reused."""
    monkeypatch.setattr(harness.session.session, "_USED_IDS_KEPT", 3)
    csms = make_session(OcppVersion.V16, Role.CSMS)

    def exchange(mid: str) -> list[Malformation]:
        events = csms.receive_text(f'[2,"{mid}","Heartbeat",{{}}]', now=T0)
        csms.send_result(mid, {"currentTime": "2025-01-01T00:00:00Z"}, now=T0)
        return [e.violation.kind for e in events if isinstance(e, ProtocolViolation)]

    assert exchange("a") == []
    assert exchange("b") == []
    assert exchange("a") == [Malformation.DUPLICATE_ID]  # order now: b, a
    assert exchange("c") == []
    assert exchange("d") == []  # four ids: b, the oldest, is forgotten
    assert exchange("a") == [Malformation.DUPLICATE_ID]
    assert exchange("b") == []


@pytest.mark.parametrize(
    "text",
    ['[3,"nobody",{}]', '[4,"nobody","GenericError","",{}]'],
    ids=["CALLRESULT", "CALLERROR"],
)
def test_response_to_an_unknown_id_is_recorded_never_answered(
    version: OcppVersion, text: str
) -> None:
    csms = make_session(version, Role.CSMS)
    (event,) = csms.receive_text(text, now=T0)
    assert isinstance(event, ProtocolViolation)
    assert event.violation.kind is Malformation.UNKNOWN_RESPONSE_ID
    assert event.reply is None
    assert csms.data_to_send() == []
    assert csms.trace[-1].raw == text
    assert csms.trace[-1].violations == (event.violation,)


def test_malformed_response_is_never_answered_with_a_callerror(version: OcppVersion) -> None:
    csms = make_session(version, Role.CSMS)
    (event,) = csms.receive_text('[3,"x",[1]]', now=T0)
    assert isinstance(event, ProtocolViolation)
    assert csms.data_to_send() == []


def test_concurrent_call_from_the_peer_is_a_violation_but_delivered(version: OcppVersion) -> None:
    csms = make_session(version, Role.CSMS)
    csms.receive_text('[2,"a","Heartbeat",{}]', now=T0)
    events = csms.receive_text('[2,"b","Heartbeat",{}]', now=T0)
    assert [type(e).__name__ for e in events] == ["ProtocolViolation", "CallReceived"]
    assert isinstance(events[0], ProtocolViolation)
    assert events[0].violation.kind is Malformation.CONCURRENT_CALL
    assert csms.data_to_send() == []


def test_error_code_of_another_version_is_a_violation() -> None:
    station = make_session(OcppVersion.V16, Role.CHARGING_STATION)
    call = station.send_call("Heartbeat", {}, now=T0)
    events = station.receive_text(f'[4,"{call.message_id}","FormatViolation","",{{}}]', now=T0)
    assert isinstance(events[0], ProtocolViolation)
    assert events[0].violation.kind is Malformation.UNKNOWN_ERROR_CODE
    assert isinstance(events[1], ErrorReceived)
