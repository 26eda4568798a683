"""The pilot link's JSON payloads: exact round trip, and strict parsing with clear errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.iec61851 import PilotState
from simulators.pilot import (
    PAYLOAD_VERSION,
    DischargeAnswer,
    DischargeRequest,
    LinkStatus,
    Message,
    PayloadError,
    PlugCommand,
    PlugEvent,
    decode,
    encode,
)
from simulators.vehicle import IdleReason, PilotLine, PilotOffer, VehicleReading

finite = st.floats(allow_nan=False, allow_infinity=False)
non_negative = st.floats(min_value=0, allow_nan=False, allow_infinity=False)
ids = st.text(min_size=1, max_size=40)

offers = st.builds(
    PilotOffer,
    duty_percent=st.floats(min_value=0, max_value=100),
    line=st.sampled_from(PilotLine),
    energized_phases=st.sampled_from([0, 1, 3]),
    hlc_current_a=st.none() | non_negative,
)
readings = st.builds(
    VehicleReading,
    time_s=finite,
    pilot_state=st.sampled_from(PilotState),
    current_a=st.tuples(finite, finite, finite),
    power_w=finite,
    energy_imported_wh=non_negative,
    energy_exported_wh=non_negative,
    soc_percent=st.floats(min_value=0, max_value=100),
    awake=st.booleans(),
    idle_reason=st.none() | st.sampled_from(IdleReason),
    phases_drawn=st.sampled_from([0, 1, 2, 3]),
    allowed_current_a=st.none() | non_negative,
)
messages: st.SearchStrategy[Message] = st.one_of(
    offers,
    readings,
    st.builds(PlugEvent, plugged=st.booleans(), time_s=finite),
    st.builds(PlugCommand, plugged=st.booleans()),
    st.builds(DischargeRequest, request_id=ids, power_w=non_negative),
    st.builds(DischargeAnswer, request_id=ids, accepted=st.booleans(), reason=st.text()),
    st.builds(LinkStatus, online=st.booleans()),
)


@given(messages)
def test_decode_inverts_encode(message: Message) -> None:
    payload = encode(message)
    assert decode(type(message), payload) == message
    assert decode(type(message), payload.decode("utf-8")) == message


@given(messages)
def test_every_payload_is_a_versioned_json_object(message: Message) -> None:
    raw = json.loads(encode(message))
    assert raw["v"] == PAYLOAD_VERSION


def test_offer_payload_has_units_in_its_keys() -> None:
    raw = json.loads(encode(PilotOffer(duty_percent=26.5, energized_phases=1)))
    assert raw == {
        "v": 1,
        "duty_percent": 26.5,
        "line": "normal",
        "energized_phases": 1,
        "hlc_current_a": None,
    }


def test_reading_payload_lists_currents_per_phase() -> None:
    reading = VehicleReading(
        time_s=12.0,
        pilot_state=PilotState.C,
        current_a=(16.0, 16.0, 0.0),
        power_w=7360.0,
        energy_imported_wh=1.5,
        energy_exported_wh=0.0,
        soc_percent=50.0,
        awake=True,
        idle_reason=None,
        phases_drawn=2,
        allowed_current_a=16.0,
    )
    raw = json.loads(encode(reading))
    assert raw["current_a"] == [16.0, 16.0, 0.0]
    assert raw["pilot_state"] == "C"
    assert (raw["power_w"], raw["energy_imported_wh"]) == (7360.0, 1.5)


def test_non_finite_numbers_are_not_encoded() -> None:
    with pytest.raises(ValueError, match="JSON"):
        encode(PlugEvent(plugged=True, time_s=float("nan")))


GOOD_OFFER: dict[str, Any] = {
    "v": 1,
    "duty_percent": 50,
    "line": "normal",
    "energized_phases": 3,
    "hlc_current_a": None,
}


def _with(**changes: Any) -> str:
    raw = {**GOOD_OFFER, **changes}
    return json.dumps({k: v for k, v in raw.items() if v is not _DROP})


_DROP = object()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "expected UTF-8"),
        ("{not json", "expected JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        (_with(v=2), "field 'v': expected 1, got 2"),
        (_with(v=True), "field 'v': expected 1, got True"),
        (_with(v=_DROP), "field 'v': expected 1, got None"),
        (_with(line=_DROP), "field 'line': expected this field, missing"),
        (_with(duty_pct=50), "field 'duty_pct': unknown"),
        (_with(duty_percent="50"), "field 'duty_percent': expected a number, got '50'"),
        (_with(duty_percent=True), "field 'duty_percent': expected a number, got True"),
        (_with(duty_percent=120), "field 'duty_percent': expected a duty cycle within 0–100 %"),
        (_with(duty_percent=10**400), "field 'duty_percent': expected a finite number"),
        (_with(line="X"), "field 'line': expected one of normal, E, F, got 'X'"),
        (_with(energized_phases=2), "field 'energized_phases': expected one of 0, 1, 3, got 2"),
        (_with(hlc_current_a=-1), "field 'hlc_current_a': expected a number ≥ 0"),
        ('{"v":1,"duty_percent":NaN,"line":"normal"}', "expected finite numbers, got NaN"),
    ],
)
def test_malformed_offers_are_refused_with_the_reason(payload: str | bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as error:
        decode(PilotOffer, payload)
    assert str(error.value).startswith("PilotOffer: ")
    assert reason in str(error.value)


def test_malformed_reading_names_the_field() -> None:
    reading = json.loads(
        encode(
            VehicleReading(
                time_s=0.0,
                pilot_state=PilotState.B,
                current_a=(0.0, 0.0, 0.0),
                power_w=0.0,
                energy_imported_wh=0.0,
                energy_exported_wh=0.0,
                soc_percent=50.0,
                awake=True,
                idle_reason=IdleReason.PAUSED,
                phases_drawn=0,
                allowed_current_a=None,
            )
        )
    )
    cases = {
        "current_a": ([1, 2], "field 'current_a': expected a list of 3 numbers"),
        "pilot_state": ("G", "field 'pilot_state': expected one of A, B, C, D, E, F"),
        "soc_percent": (101, "field 'soc_percent': expected a value within 0–100 %"),
        "idle_reason": ("bored", "field 'idle_reason': expected one of unplugged,"),
        "energy_imported_wh": (-1, "field 'energy_imported_wh': expected a number ≥ 0"),
        "awake": ("yes", "field 'awake': expected true or false"),
    }
    for key, (value, reason) in cases.items():
        with pytest.raises(PayloadError, match=reason):
            decode(VehicleReading, json.dumps({**reading, key: value}))


def test_discharge_request_refuses_negative_power_and_empty_id() -> None:
    with pytest.raises(PayloadError, match="field 'power_w': expected a number ≥ 0"):
        decode(DischargeRequest, '{"v":1,"request_id":"a","power_w":-5}')
    with pytest.raises(PayloadError, match="field 'request_id': expected a non-empty string"):
        decode(DischargeRequest, '{"v":1,"request_id":"","power_w":5}')
    with pytest.raises(ValueError, match="power_w must be a finite power"):
        DischargeRequest(request_id="a", power_w=float("inf"))
