"""Raw frames whose answer is awaited: ``send_raw(..., answer_id=...)``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harness.session import (
    CallTimedOut,
    ErrorReceived,
    LocalProtocolError,
    OcppSession,
    ProtocolViolation,
    ResultReceived,
    Role,
)
from harness.versions import OcppVersion

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _csms() -> OcppSession:
    return OcppSession(version=OcppVersion.V16, role=Role.CSMS, station_id="CP")


def test_an_untracked_raw_frame_changes_nothing_and_its_answer_is_a_violation() -> None:
    session = _csms()
    assert session.send_raw('[2,"r1","Nope",{}]', now=NOW) is None
    assert session.data_to_send() == ['[2,"r1","Nope",{}]']
    (event,) = session.receive_text('[4,"r1","NotImplemented","",{}]', now=NOW)
    assert isinstance(event, ProtocolViolation)


def test_a_tracked_raw_frame_is_completed_by_its_callerror() -> None:
    session = _csms()
    call = session.send_raw('{"cut', now=NOW, answer_id="-1", timeout_s=5)
    assert call is not None
    assert call.action == "(raw frame)"
    (event,) = session.receive_text('[4,"-1","FormationViolation","not JSON",{}]', now=NOW)
    assert isinstance(event, ErrorReceived)
    assert event.error.error_code == "FormationViolation"
    assert session.outstanding_calls == []


def test_a_tracked_raw_result_is_not_schema_checked() -> None:
    session = _csms()
    session.send_raw('[2,"r2","SetChargingProfile",{"connectorId":"x"}]', now=NOW, answer_id="r2")
    (event,) = session.receive_text('[3,"r2",{"anything":1}]', now=NOW)
    assert isinstance(event, ResultReceived)
    assert event.payload == {"anything": 1}


def test_a_tracked_raw_frame_times_out_and_its_id_cannot_be_awaited_twice() -> None:
    session = _csms()
    session.send_raw("[]", now=NOW, answer_id="-1", timeout_s=2)
    with pytest.raises(LocalProtocolError, match="already awaited"):
        session.send_raw("[]", now=NOW, answer_id="-1")
    assert session.tick(now=NOW + timedelta(seconds=1)) == []
    (expired,) = session.tick(now=NOW + timedelta(seconds=2))
    assert isinstance(expired, CallTimedOut)
    assert expired.timeout_s == 2
