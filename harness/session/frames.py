"""The RPC frames of OCPP-J: parse text into frames, serialise frames into text.

=================  ==========================================  =========
frame              wire form                                   versions
=================  ==========================================  =========
CALL               ``[2, id, action, {payload}]``              all
CALLRESULT         ``[3, id, {payload}]``                      all
CALLERROR          ``[4, id, code, description, {details}]``   all
CALLRESULTERROR    ``[5, id, code, description, {details}]``   2.1
SEND               ``[6, id, action, {payload}]``              2.1
=================  ==========================================  =========

:func:`parse_frame` checks the RPC structure only (not payload schemas, not whether the
message type exists in a given version); a structural fault raises :class:`FrameError`
naming the :class:`~harness.session.errors.Malformation` and whatever could be read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Final

from harness.session.codec import dumps, encode_string, loads
from harness.session.errors import Malformation
from harness.session.slotinit import direct_init

__all__ = [
    "MAX_FRAME_CHARS",
    "MAX_NESTING",
    "Call",
    "CallError",
    "CallResult",
    "CallResultError",
    "Frame",
    "FrameError",
    "MessageType",
    "Send",
    "parse_frame",
    "serialize",
]


class MessageType(IntEnum):
    """The MessageTypeId, the first element of every frame."""

    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    CALLRESULTERROR = 5
    SEND = 6


@direct_init
@dataclass(frozen=True, slots=True)
class Call:
    """A request: ``[2, message_id, action, payload]``."""

    message_type: ClassVar[MessageType] = MessageType.CALL
    message_id: str
    action: str
    payload: dict[str, Any]

    def to_list(self) -> list[Any]:
        """The frame as the JSON array it is sent as."""
        return [MessageType.CALL, self.message_id, self.action, self.payload]


@direct_init
@dataclass(frozen=True, slots=True)
class CallResult:
    """A successful response: ``[3, message_id, payload]``."""

    message_type: ClassVar[MessageType] = MessageType.CALLRESULT
    message_id: str
    payload: dict[str, Any]

    def to_list(self) -> list[Any]:
        """The frame as the JSON array it is sent as."""
        return [MessageType.CALLRESULT, self.message_id, self.payload]


@direct_init
@dataclass(frozen=True, slots=True)
class CallError:
    """An error response: ``[4, message_id, error_code, error_description, error_details]``."""

    message_type: ClassVar[MessageType] = MessageType.CALLERROR
    message_id: str
    error_code: str
    error_description: str
    error_details: dict[str, Any]

    def to_list(self) -> list[Any]:
        """The frame as the JSON array it is sent as."""
        return [
            MessageType.CALLERROR,
            self.message_id,
            self.error_code,
            self.error_description,
            self.error_details,
        ]


@direct_init
@dataclass(frozen=True, slots=True)
class CallResultError:
    """OCPP 2.1's error about a CALLRESULT: ``[5, message_id, code, description, details]``."""

    message_type: ClassVar[MessageType] = MessageType.CALLRESULTERROR
    message_id: str
    error_code: str
    error_description: str
    error_details: dict[str, Any]

    def to_list(self) -> list[Any]:
        """The frame as the JSON array it is sent as."""
        return [
            MessageType.CALLRESULTERROR,
            self.message_id,
            self.error_code,
            self.error_description,
            self.error_details,
        ]


@direct_init
@dataclass(frozen=True, slots=True)
class Send:
    """OCPP 2.1's unconfirmed message: ``[6, message_id, action, payload]`` (never answered)."""

    message_type: ClassVar[MessageType] = MessageType.SEND
    message_id: str
    action: str
    payload: dict[str, Any]

    def to_list(self) -> list[Any]:
        """The frame as the JSON array it is sent as."""
        return [MessageType.SEND, self.message_id, self.action, self.payload]


Frame = Call | CallResult | CallError | CallResultError | Send


class FrameError(ValueError):
    """Text that is not a well-formed OCPP-J frame.

    ``message_id`` and ``message_type`` hold what could be read (``None`` otherwise), so the
    receiver can decide whether and how to answer.
    """

    def __init__(
        self,
        kind: Malformation,
        detail: str,
        *,
        message_id: str | None = None,
        message_type: int | None = None,
    ) -> None:
        self.kind = kind
        self.detail = detail
        self.message_id = message_id
        self.message_type = message_type
        super().__init__(detail)


def serialize(frame: Frame) -> str:
    """The compact JSON text of ``frame`` (decimals written exactly)."""
    # The two frames of every exchange, written directly: the same text as dumps(to_list()).
    if type(frame) is CallResult:
        if type(frame.message_id) is str:
            return f"[3,{_encode_string(frame.message_id)},{dumps(frame.payload)}]"
    elif type(frame) is Call and type(frame.message_id) is str and type(frame.action) is str:
        mid, action = _encode_string(frame.message_id), _encode_string(frame.action)
        return f"[2,{mid},{action},{dumps(frame.payload)}]"
    return dumps(frame.to_list())


_LENGTH = {
    MessageType.CALL: 4,
    MessageType.CALLRESULT: 3,
    MessageType.CALLERROR: 5,
    MessageType.CALLRESULTERROR: 5,
    MessageType.SEND: 4,
}

MAX_NESTING: Final = 64
"""Deepest nesting of arrays and objects :func:`parse_frame` accepts (the frame's own array
counts as one). The deepest OCPP 2.1 payload nests about a dozen levels; Python's JSON
scanner recurses once per level and dies with ``RecursionError`` near a thousand, so the
depth is checked on the text *before* it is parsed."""

MAX_FRAME_CHARS: Final = 16 * 1024 * 1024
"""Longest frame text :func:`parse_frame` parses (the transports bound the bytes earlier;
this bounds callers that hand text in directly, e.g. trace files)."""

_encode_string = encode_string

_TYPES: Final = {int(t): t for t in MessageType}
_CALL, _CALLRESULT, _CALLERROR = MessageType.CALL, MessageType.CALLRESULT, MessageType.CALLERROR
_SEND = MessageType.SEND

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def nests_deeper_than(text: str, limit: int) -> bool:
    """True if arrays and objects in JSON ``text`` nest deeper than ``limit`` (brackets inside
    strings ignored). Linear, no recursion; stops at the first level past ``limit``."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_frame(text: str) -> Frame:
    """Parse one OCPP-J frame; raise :class:`FrameError` if its RPC structure is wrong.

    Frames longer than :data:`MAX_FRAME_CHARS` or nesting deeper than :data:`MAX_NESTING`
    are refused before any parsing (:attr:`Malformation.NOT_JSON`: nothing can be read of
    them, so an answer carries the id ``"-1"``). NaN and Infinity are not JSON numbers.
    """
    if len(text) > MAX_FRAME_CHARS:
        raise FrameError(
            Malformation.NOT_JSON,
            f"frame of {len(text)} characters (at most {MAX_FRAME_CHARS} parsed)",
        )
    # (the bracket count first, without the call: nearly every frame nests shallowly)
    if text.count("[") + text.count("{") > MAX_NESTING and nests_deeper_than(text, MAX_NESTING):
        raise FrameError(
            Malformation.NOT_JSON,
            f"arrays/objects nest deeper than {MAX_NESTING} levels",
        )
    try:
        data = loads(text)
    except (ValueError, RecursionError) as exc:
        raise FrameError(Malformation.NOT_JSON, f"not valid JSON: {exc}") from None
    if type(data) is not list:
        raise FrameError(
            Malformation.NOT_ARRAY, f"an OCPP-J frame is a JSON array, got {type(data).__name__}"
        )
    if len(data) < 2 or type(data[1]) is not str:
        raise FrameError(
            Malformation.UNREADABLE_ID,
            "the second element, the message id, is missing or not a string",
            message_type=data[0] if data and type(data[0]) is int else None,
        )
    message_id: str = data[1]
    # OCPP-J: "The message ID ... maximum length of 36 characters"
    if len(message_id) > 36:
        raise FrameError(
            Malformation.UNREADABLE_ID,
            f"message id of {len(message_id)} characters (at most 36 allowed)",
            message_type=data[0] if type(data[0]) is int else None,
        )
    type_id = _TYPES.get(data[0]) if type(data[0]) is int else None
    if type_id is None:
        raise FrameError(
            Malformation.BAD_MESSAGE_TYPE,
            f"unknown MessageTypeId {data[0]!r}",
            message_id=message_id,
        )
    expected = _LENGTH[type_id]
    if len(data) != expected:
        raise FrameError(
            Malformation.BAD_FRAME,
            f"{type_id.name} has {expected} elements, got {len(data)}",
            message_id=message_id,
            message_type=type_id,
        )
    # (members compared with module constants: reading one off MessageType costs ~75 ns)
    if type_id is _CALLRESULT:
        if type(data[2]) is not dict:
            raise FrameError(
                Malformation.FORMAT,
                "CALLRESULT payload is not a JSON object",
                message_id=message_id,
                message_type=type_id,
            )
        return CallResult(message_id, data[2])
    if type_id is _CALL or type_id is _SEND:
        if type(data[2]) is not str:
            raise FrameError(
                Malformation.BAD_FRAME,
                "the action (third element) is not a string",
                message_id=message_id,
                message_type=type_id,
            )
        if type(data[3]) is not dict:
            raise FrameError(
                Malformation.FORMAT,
                "the payload (fourth element) is not a JSON object",
                message_id=message_id,
                message_type=type_id,
            )
        if type_id is _CALL:
            return Call(message_id, data[2], data[3])
        return Send(message_id, data[2], data[3])
    # CALLERROR and CALLRESULTERROR: [type, id, code, description, details]
    if type(data[2]) is not str or type(data[3]) is not str or type(data[4]) is not dict:
        raise FrameError(
            Malformation.BAD_FRAME,
            "error code and description must be strings and details a JSON object",
            message_id=message_id,
            message_type=type_id,
        )
    if type_id is _CALLERROR:
        return CallError(message_id, data[2], data[3], data[4])
    return CallResultError(message_id, data[2], data[3], data[4])
