"""RPC frames: parsing, serialising, exact decimals."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.session import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    Frame,
    FrameError,
    Malformation,
    Send,
    parse_frame,
    serialize,
)
from harness.session.codec import dumps, loads
from harness.session.frames import MAX_NESTING

EXAMPLES: list[tuple[str, Frame]] = [
    ('[2,"19223201","Heartbeat",{}]', Call("19223201", "Heartbeat", {})),
    ('[3,"19223201",{"currentTime":"2025-01-01T00:00:00Z"}]',
     CallResult("19223201", {"currentTime": "2025-01-01T00:00:00Z"})),
    ('[4,"7","NotImplemented","no such action",{"cause":"x"}]',
     CallError("7", "NotImplemented", "no such action", {"cause": "x"})),
    ('[5,"8","FormatViolation","bad result",{}]',
     CallResultError("8", "FormatViolation", "bad result", {})),
    ('[6,"9","NotifyPeriodicEventStream",{"id":1}]',
     Send("9", "NotifyPeriodicEventStream", {"id": 1})),
]  # fmt: skip


@pytest.mark.parametrize(("text", "frame"), EXAMPLES)
def test_every_frame_type_round_trips(text: str, frame: Frame) -> None:
    assert parse_frame(text) == frame
    assert serialize(frame) == text


def test_decimals_stay_exactly_as_sent() -> None:
    text = '[3,"1",{"limit":7.246376811594203,"other":16.0,"n":16,"e":1E-7}]'
    frame = parse_frame(text)
    assert isinstance(frame, CallResult)
    assert frame.payload["limit"] == Decimal("7.246376811594203")
    assert str(frame.payload["other"]) == "16.0"
    assert type(frame.payload["n"]) is int
    assert serialize(frame) == '[3,"1",{"limit":7.246376811594203,"other":16.0,"n":16,"e":1E-7}]'


def test_non_ascii_text_is_kept_verbatim() -> None:
    text = '[2,"1","DataTransfer",{"vendorId":"Münster ⚡"}]'
    assert serialize(parse_frame(text)) == text


@pytest.mark.parametrize(
    ("text", "kind", "message_id"),
    [
        ("not json", Malformation.NOT_JSON, None),
        ('{"a":1}', Malformation.NOT_ARRAY, None),
        ("[2]", Malformation.UNREADABLE_ID, None),
        ('[2,17,"Heartbeat",{}]', Malformation.UNREADABLE_ID, None),
        (f'[2,"{"x" * 37}","Heartbeat",{{}}]', Malformation.UNREADABLE_ID, None),
        ('[7,"1","Heartbeat",{}]', Malformation.BAD_MESSAGE_TYPE, "1"),
        ('["2","1","Heartbeat",{}]', Malformation.BAD_MESSAGE_TYPE, "1"),
        ('[2,"1","Heartbeat"]', Malformation.BAD_FRAME, "1"),
        ('[2,"1",5,{}]', Malformation.BAD_FRAME, "1"),
        ('[2,"1","Heartbeat",[]]', Malformation.FORMAT, "1"),
        ('[3,"1",[]]', Malformation.FORMAT, "1"),
        ('[4,"1","GenericError",{},{}]', Malformation.BAD_FRAME, "1"),
    ],
)
def test_structural_faults_are_named(text: str, kind: Malformation, message_id: str | None) -> None:
    with pytest.raises(FrameError) as info:
        parse_frame(text)
    assert info.value.kind is kind
    assert info.value.message_id == message_id


# A Decimal with exponent 0 is written like an integer and comes back as an int, as it should.
_decimals = st.decimals(allow_nan=False, allow_infinity=False).filter(
    lambda d: d.as_tuple().exponent != 0
)
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | _decimals
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
_payloads = st.dictionaries(st.text(max_size=6), _json_values, max_size=4)
_ids = st.text(min_size=1, max_size=36)
_frames = st.one_of(
    st.builds(Call, _ids, st.text(min_size=1, max_size=12), _payloads),
    st.builds(CallResult, _ids, _payloads),
    st.builds(CallError, _ids, st.text(max_size=12), st.text(max_size=12), _payloads),
    st.builds(CallResultError, _ids, st.text(max_size=12), st.text(max_size=12), _payloads),
    st.builds(Send, _ids, st.text(min_size=1, max_size=12), _payloads),
)


def _same(a: Any, b: Any) -> bool:
    """Equal, and Decimals equal digit for digit (same exponent), not only in value."""
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return type(a) is type(b) and a.as_tuple() == b.as_tuple()
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


@given(_frames)
def test_serialize_then_parse_is_identity(frame: Frame) -> None:
    text = serialize(frame)
    parsed = parse_frame(text)
    assert _same(parsed.to_list(), frame.to_list())
    assert serialize(parsed) == text  # and serialize∘parse is identity on that text


@given(_frames)
def test_serialize_writes_what_the_encoder_writes_for_the_list(frame: Frame) -> None:
    # Call and CallResult are written directly (the frames of every exchange): same text.
    assert serialize(frame) == dumps(frame.to_list())


@pytest.mark.parametrize("text", ["[2,NaN]", '[3,"1",{"x":Infinity}]', "[1] [2]", ""])
def test_json_extensions_and_trailing_data_are_not_json(text: str) -> None:
    with pytest.raises(FrameError) as info:
        parse_frame(text)
    assert info.value.kind is Malformation.NOT_JSON


@pytest.mark.parametrize(
    "text",
    ["[" * 1000 + "]" * 1000, '[2,"1","A",' + '{"a":' * 5000 + "1" + "}" * 5000 + "]"],
    ids=["arrays", "objects"],
)
def test_deep_nesting_is_refused_before_parsing_not_a_recursion_error(text: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse_frame(text)
    assert caught.value.kind is Malformation.NOT_JSON
    assert "nest" in caught.value.detail


def test_nesting_up_to_the_limit_parses_and_brackets_in_strings_do_not_count() -> None:
    depth = MAX_NESTING - 2  # the frame's array and the payload object count too
    ok = '[2,"1","A",' + '{"a":' * depth + "1" + "}" * depth + "]"
    assert parse_frame(ok).message_id == "1"
    assert parse_frame('[2,"1","A",{"s":"' + "[" * 5000 + '"}]').message_id == "1"


@given(
    lead=st.text(alphabet=" \t\n\r", max_size=3),
    body=st.sampled_from(['[2,"1","Heartbeat",{}]', '{"a":1.50}', "[]", "x", "", "[1]]"]),
    trail=st.text(alphabet=" \t\n\r", max_size=3),
)
def test_codec_loads_agrees_with_the_json_module(lead: str, body: str, trail: str) -> None:
    text = lead + body + trail
    try:
        expected: Any = json.loads(text, parse_float=Decimal)
    except ValueError:
        with pytest.raises(json.JSONDecodeError, match=r"Expecting value|Extra data"):
            loads(text)
        return
    assert loads(text) == expected
