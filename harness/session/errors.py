"""Error codes, the classes of malformed input, and the exceptions of the session layer.

Two kinds of trouble are kept apart in the types, as h11 does:

* :class:`LocalProtocolError` — *we* misused the session (sent a second CALL while one is
  outstanding, answered an id nobody asked, sent an action our role may not send). In a test
  run this is a defect of the harness: an ERROR verdict.
* :class:`Violation` / :class:`RemoteProtocolError` — *the peer* broke the protocol. In a test
  run this is a FAIL of the device under test.

Which CALLERROR code answers which kind of malformed input
=========================================================

OCPP-J 1.6 section 4.2.3 and OCPP 2.0.1 part 4 section 4.3 list the codes but do not map
every case, so this module decides (``CODE_FOR``) and documents the decision:

=========================  ===========================  ================================
malformed class            1.6                          2.0.1 / 2.1
=========================  ===========================  ================================
not JSON                   FormationViolation, id "-1"  RpcFrameworkError, id "-1"
not an array               FormationViolation, id "-1"  RpcFrameworkError, id "-1"
message id unreadable      FormationViolation, id "-1"  RpcFrameworkError, id "-1"
bad/unknown type number    FormationViolation           MessageTypeNotSupported
wrong element count/types  FormationViolation           RpcFrameworkError
unknown action             NotImplemented               NotImplemented
action from wrong side     NotSupported                 NotSupported
required field missing,    OccurenceConstraintViolation OccurrenceConstraintViolation
too few/many array items
wrong JSON type            TypeConstraintViolation      TypeConstraintViolation
bad value (enum, length,   PropertyConstraintViolation  PropertyConstraintViolation
range, pattern, format,
multipleOf)
unknown extra property,    FormationViolation           FormatViolation
payload not an object
duplicate message id       GenericError                 RpcFrameworkError
=========================  ===========================  ================================

Reasons: 2.0.1 defines RpcFrameworkError as "content of the call is not a valid RPC request,
for example: MessageId could not be read" and tells the receiver to use ``"-1"`` as the id
when it cannot read one; 1.6 has no such rule, so the harness does the same with its nearest
code, FormationViolation ("not conform the PDU structure"). 1.6 has no
MessageTypeNotSupported either. A misspelt code (1.6's ``OccurenceConstraintViolation``,
``FormationViolation``) is the spelling of that version's spec and is kept. The ``ocpp``
package maps "required" to ProtocolError and "maxLength" to TypeConstraintViolation; the
harness follows the spec's definitions instead (occurrence = cardinality, property = value).
Since the specs leave room, checks of a DUT's answers should accept ``ACCEPTABLE[kind]``.

Responses (CALLRESULT, CALLERROR, CALLRESULTERROR) and SEND are never answered with a
CALLERROR; their faults are reported as violations only (2.1 answers an invalid CALLRESULT
with CALLRESULTERROR).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.versions import OcppVersion

__all__ = [
    "ACCEPTABLE",
    "CODE_FOR",
    "UNREADABLE_ID",
    "CallErrorReceived",
    "CallTimeout",
    "ErrorCode",
    "LocalProtocolError",
    "Malformation",
    "OcppError",
    "RemoteProtocolError",
    "Violation",
    "error_code_for",
    "error_codes",
]

#: The message id sent in a CALLERROR when the offending frame's id could not be read.
UNREADABLE_ID = "-1"


class ErrorCode(StrEnum):
    """Every CALLERROR code of every version (see :func:`error_codes` for one version)."""

    FORMAT_VIOLATION = "FormatViolation"
    FORMATION_VIOLATION = "FormationViolation"  # 1.6 spelling
    GENERIC_ERROR = "GenericError"
    INTERNAL_ERROR = "InternalError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    OCCURENCE_CONSTRAINT_VIOLATION = "OccurenceConstraintViolation"  # 1.6 spelling
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    PROTOCOL_ERROR = "ProtocolError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    SECURITY_ERROR = "SecurityError"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"


_E = ErrorCode
_CODES_16 = frozenset(
    {
        _E.NOT_IMPLEMENTED,
        _E.NOT_SUPPORTED,
        _E.INTERNAL_ERROR,
        _E.PROTOCOL_ERROR,
        _E.SECURITY_ERROR,
        _E.FORMATION_VIOLATION,
        _E.PROPERTY_CONSTRAINT_VIOLATION,
        _E.OCCURENCE_CONSTRAINT_VIOLATION,
        _E.TYPE_CONSTRAINT_VIOLATION,
        _E.GENERIC_ERROR,
    }
)
_CODES_2X = frozenset(
    {
        _E.FORMAT_VIOLATION,
        _E.GENERIC_ERROR,
        _E.INTERNAL_ERROR,
        _E.MESSAGE_TYPE_NOT_SUPPORTED,
        _E.NOT_IMPLEMENTED,
        _E.NOT_SUPPORTED,
        _E.OCCURRENCE_CONSTRAINT_VIOLATION,
        _E.PROPERTY_CONSTRAINT_VIOLATION,
        _E.PROTOCOL_ERROR,
        _E.RPC_FRAMEWORK_ERROR,
        _E.SECURITY_ERROR,
        _E.TYPE_CONSTRAINT_VIOLATION,
    }
)


def error_codes(version: OcppVersion) -> frozenset[ErrorCode]:
    """The CALLERROR codes that ``version`` defines (a peer using another is a violation)."""
    return _CODES_16 if version is OcppVersion.V16 else _CODES_2X


class Malformation(StrEnum):
    """A class of protocol fault in a received frame (or in the peer's behaviour)."""

    NOT_JSON = "not_json"
    NOT_ARRAY = "not_array"
    UNREADABLE_ID = "unreadable_id"
    BAD_MESSAGE_TYPE = "bad_message_type"
    BAD_FRAME = "bad_frame"
    UNKNOWN_ACTION = "unknown_action"
    WRONG_DIRECTION = "wrong_direction"
    OCCURRENCE = "occurrence"
    TYPE = "type"
    PROPERTY = "property"
    FORMAT = "format"
    DUPLICATE_ID = "duplicate_id"
    # Faults that are never answered with a CALLERROR:
    CONCURRENT_CALL = "concurrent_call"
    UNKNOWN_RESPONSE_ID = "unknown_response_id"
    UNKNOWN_ERROR_CODE = "unknown_error_code"
    BINARY_FRAME = "binary_frame"


_M = Malformation
_CODE_16: dict[Malformation, ErrorCode] = {
    _M.NOT_JSON: _E.FORMATION_VIOLATION,
    _M.NOT_ARRAY: _E.FORMATION_VIOLATION,
    _M.UNREADABLE_ID: _E.FORMATION_VIOLATION,
    _M.BAD_MESSAGE_TYPE: _E.FORMATION_VIOLATION,
    _M.BAD_FRAME: _E.FORMATION_VIOLATION,
    _M.UNKNOWN_ACTION: _E.NOT_IMPLEMENTED,
    _M.WRONG_DIRECTION: _E.NOT_SUPPORTED,
    _M.OCCURRENCE: _E.OCCURENCE_CONSTRAINT_VIOLATION,
    _M.TYPE: _E.TYPE_CONSTRAINT_VIOLATION,
    _M.PROPERTY: _E.PROPERTY_CONSTRAINT_VIOLATION,
    _M.FORMAT: _E.FORMATION_VIOLATION,
    _M.DUPLICATE_ID: _E.GENERIC_ERROR,
}
_CODE_2X: dict[Malformation, ErrorCode] = {
    _M.NOT_JSON: _E.RPC_FRAMEWORK_ERROR,
    _M.NOT_ARRAY: _E.RPC_FRAMEWORK_ERROR,
    _M.UNREADABLE_ID: _E.RPC_FRAMEWORK_ERROR,
    _M.BAD_MESSAGE_TYPE: _E.MESSAGE_TYPE_NOT_SUPPORTED,
    _M.BAD_FRAME: _E.RPC_FRAMEWORK_ERROR,
    _M.UNKNOWN_ACTION: _E.NOT_IMPLEMENTED,
    _M.WRONG_DIRECTION: _E.NOT_SUPPORTED,
    _M.OCCURRENCE: _E.OCCURRENCE_CONSTRAINT_VIOLATION,
    _M.TYPE: _E.TYPE_CONSTRAINT_VIOLATION,
    _M.PROPERTY: _E.PROPERTY_CONSTRAINT_VIOLATION,
    _M.FORMAT: _E.FORMAT_VIOLATION,
    _M.DUPLICATE_ID: _E.RPC_FRAMEWORK_ERROR,
}

#: The code this harness sends for each answerable malformation, per version.
CODE_FOR: dict[OcppVersion, dict[Malformation, ErrorCode]] = {
    OcppVersion.V16: _CODE_16,
    OcppVersion.V201: _CODE_2X,
    OcppVersion.V21: _CODE_2X,
}

#: Codes a checker should accept from a DUT for each malformation (the specs leave room).
ACCEPTABLE: dict[OcppVersion, dict[Malformation, frozenset[ErrorCode]]] = {
    OcppVersion.V16: {
        **{kind: frozenset({code}) for kind, code in _CODE_16.items()},
        _M.NOT_JSON: frozenset({_E.FORMATION_VIOLATION, _E.PROTOCOL_ERROR, _E.GENERIC_ERROR}),
        _M.BAD_FRAME: frozenset({_E.FORMATION_VIOLATION, _E.PROTOCOL_ERROR}),
        _M.OCCURRENCE: frozenset({_E.OCCURENCE_CONSTRAINT_VIOLATION, _E.PROTOCOL_ERROR}),
        _M.FORMAT: frozenset({_E.FORMATION_VIOLATION, _E.PROTOCOL_ERROR}),
        _M.DUPLICATE_ID: frozenset({_E.GENERIC_ERROR, _E.PROTOCOL_ERROR}),
    },
    OcppVersion.V201: {
        **{kind: frozenset({code}) for kind, code in _CODE_2X.items()},
        _M.BAD_FRAME: frozenset({_E.RPC_FRAMEWORK_ERROR, _E.FORMAT_VIOLATION, _E.PROTOCOL_ERROR}),
        _M.OCCURRENCE: frozenset({_E.OCCURRENCE_CONSTRAINT_VIOLATION, _E.PROTOCOL_ERROR}),
        _M.FORMAT: frozenset({_E.FORMAT_VIOLATION, _E.PROTOCOL_ERROR}),
        _M.DUPLICATE_ID: frozenset({_E.RPC_FRAMEWORK_ERROR, _E.PROTOCOL_ERROR}),
    },
}
ACCEPTABLE[OcppVersion.V21] = ACCEPTABLE[OcppVersion.V201]


def error_code_for(kind: Malformation, version: OcppVersion) -> ErrorCode | None:
    """The CALLERROR code that answers ``kind`` in ``version`` (``None``: not answered)."""
    return CODE_FOR[version].get(kind)


@dataclass(frozen=True, slots=True)
class Violation:
    """A protocol fault of the peer, with what the spec says and what was seen.

    ``error_code`` is the code the fault calls for in this version (also for faults that are
    not answered, e.g. an invalid CALLRESULT); ``path`` locates the field for schema faults.
    """

    kind: Malformation
    requirement: str
    detail: str
    message_id: str | None = None
    action: str | None = None
    error_code: ErrorCode | None = None
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (for traces and verdict evidence)."""
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "requirement": self.requirement,
            "detail": self.detail,
        }
        for key in ("message_id", "action", "path"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.error_code is not None:
            out["error_code"] = self.error_code.value
        return out


class OcppError(Exception):
    """Base class of every exception of the session layer and :mod:`harness.connection`."""


class LocalProtocolError(OcppError):
    """The harness itself misused the protocol (a harness defect, an ERROR verdict)."""


class RemoteProtocolError(OcppError):
    """The peer broke the protocol; ``violation`` says how (a FAIL of the peer)."""

    def __init__(self, violation: Violation) -> None:
        self.violation = violation
        super().__init__(f"{violation.kind.value}: {violation.detail}")


class CallErrorReceived(OcppError):
    """The peer answered our CALL with a CALLERROR (a well-formed, legitimate refusal)."""

    def __init__(
        self, *, action: str, message_id: str, code: str, description: str, details: Any
    ) -> None:
        self.action = action
        self.message_id = message_id
        self.code = code
        self.description = description
        self.details = details
        super().__init__(f"{action} [{message_id}] answered with CALLERROR {code}: {description}")


class CallTimeout(OcppError, TimeoutError):
    """No response to our CALL within its timeout."""

    def __init__(self, *, action: str, message_id: str, timeout_s: float | None) -> None:
        self.action = action
        self.message_id = message_id
        self.timeout_s = timeout_s
        super().__init__(f"no response to {action} [{message_id}] within {timeout_s} s")
