"""OCPP-J sessions without I/O: frames, correlation, schema validation, the wire trace.

Start with :class:`OcppSession`; the async adapter over a transport is
:class:`harness.connection.OcppConnection`.
"""

from harness.session.errors import (
    ACCEPTABLE,
    CODE_FOR,
    UNREADABLE_ID,
    CallErrorReceived,
    CallTimeout,
    ErrorCode,
    LocalProtocolError,
    Malformation,
    OcppError,
    RemoteProtocolError,
    Violation,
    error_code_for,
    error_codes,
)
from harness.session.events import (
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    ProtocolViolation,
    ResultErrorReceived,
    ResultReceived,
    SendReceived,
)
from harness.session.frames import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    Frame,
    FrameError,
    MessageType,
    Send,
    parse_frame,
    serialize,
)
from harness.session.payloads import Typed, to_payload, typed_payload
from harness.session.schemas import PayloadKind, SchemaFault, SchemaSet, schema_set
from harness.session.session import OcppSession
from harness.session.trace import Direction, TraceRecord, TraceSink
from harness.session.versions import Role, initiators

__all__ = [
    "ACCEPTABLE",
    "CODE_FOR",
    "UNREADABLE_ID",
    "Call",
    "CallError",
    "CallErrorReceived",
    "CallReceived",
    "CallResult",
    "CallResultError",
    "CallTimedOut",
    "CallTimeout",
    "Direction",
    "ErrorCode",
    "ErrorReceived",
    "Event",
    "Frame",
    "FrameError",
    "LocalProtocolError",
    "Malformation",
    "MessageType",
    "OcppError",
    "OcppSession",
    "PayloadKind",
    "ProtocolViolation",
    "RemoteProtocolError",
    "ResultErrorReceived",
    "ResultReceived",
    "Role",
    "SchemaFault",
    "SchemaSet",
    "Send",
    "SendReceived",
    "TraceRecord",
    "TraceSink",
    "Typed",
    "Violation",
    "error_code_for",
    "error_codes",
    "initiators",
    "parse_frame",
    "schema_set",
    "serialize",
    "to_payload",
    "typed_payload",
]
