"""direct_init: the per-frame dataclasses built as dataclasses.dataclass would build them."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import harness.session  # noqa: F401 (every class with direct_init registered)
from harness.session import Call, CallResult, TraceRecord
from harness.session.slotinit import DATACLASS_INIT, direct_init

_CLASSES = sorted(DATACLASS_INIT, key=lambda cls: cls.__qualname__)

_values = st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.dictionaries(st.text(max_size=3), st.none())
)


def test_the_per_frame_classes_have_it() -> None:
    names = {cls.__name__ for cls in _CLASSES}
    assert {"Call", "CallResult", "CallError", "CallResultError", "Send"} <= names
    assert {"CallReceived", "ResultReceived", "ProtocolViolation", "TraceRecord"} <= names


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda cls: cls.__name__)
def test_the_signature_is_the_dataclass_one(cls: type) -> None:
    init = cls.__dict__["__init__"]
    ours = inspect.signature(init).parameters
    theirs = inspect.signature(DATACLASS_INIT[cls]).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]
    assert init.__qualname__ == f"{cls.__qualname__}.__init__"


@given(data=st.data())
@pytest.mark.parametrize("cls", _CLASSES, ids=lambda cls: cls.__name__)
def test_instances_are_the_dataclass_ones(cls: type, data: st.DataObject) -> None:
    fields = dataclasses.fields(cls)
    required = [f for f in fields if f.default is dataclasses.MISSING]
    given_count = data.draw(st.integers(len(required), len(fields)), label="arguments")
    values = [data.draw(_values, label=f.name) for f in fields[:given_count]]
    as_keywords = data.draw(st.booleans(), label="keywords")
    args: list[Any] = [] if as_keywords else values
    kwargs = {f.name: v for f, v in zip(fields, values, strict=False)} if as_keywords else {}

    ours = cls(*args, **kwargs)
    theirs: object = object.__new__(cls)
    DATACLASS_INIT[cls](theirs, *args, **kwargs)
    for f in fields:  # the very objects, defaults included
        assert getattr(ours, f.name) is getattr(theirs, f.name)
    assert ours == theirs
    assert repr(ours) == repr(theirs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(ours, fields[0].name, None)


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda cls: cls.__name__)
def test_wrong_arguments_are_refused_as_before(cls: type) -> None:
    fields = dataclasses.fields(cls)
    cases: list[tuple[tuple[None, ...], dict[str, Any]]] = [
        ((), {}),
        ((None,) * (len(fields) + 1), {}),
        ((None,) * len(fields), {"nope": 1}),
        ((None,) * len(fields), {fields[0].name: None}),
    ]
    for args, kwargs in cases:
        with pytest.raises(TypeError):
            DATACLASS_INIT[cls](object.__new__(cls), *args, **kwargs)
        with pytest.raises(TypeError):
            cls(*args, **kwargs)


def test_replace_and_match_work_as_before() -> None:
    call = Call("1", "Heartbeat", {})
    assert dataclasses.replace(call, action="BootNotification") == Call("1", "BootNotification", {})
    match CallResult("7", {"a": 1}):
        case CallResult(mid, payload):
            assert (mid, payload) == ("7", {"a": 1})
    record = TraceRecord(None, None, "x", "CS")  # type: ignore[arg-type]
    assert record.violations == ()
    assert record.message_type is None


def test_classes_it_cannot_handle_are_refused() -> None:
    @dataclasses.dataclass(slots=True)
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    @dataclasses.dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        a: int

    for cls in (Mutable, NoSlots, Factory, PostInit, KeywordOnly):
        with pytest.raises(TypeError):
            direct_init(cls)
