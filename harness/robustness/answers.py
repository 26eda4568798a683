"""What a conforming DUT may answer to each kind of malformed request, from OCPP-J itself.

This table is the robustness probes' expectation. It is written from the specifications'
CALLERROR definitions, apart from the session layer's own choice of code
(``harness.session.errors``), so that the harness's answers (and the simulated stations',
which use the session layer) are judged against the specification, not against themselves.

The definitions quoted (OCPP-J 1.6 §4.2.3 "CallError", table of ErrorCodes; OCPP 2.0.1 Part 4
§4.3 "CallError", table "Valid Error Codes"; 2.1 Part 4 keeps the 2.0.1 table):

* 1.6 FormationViolation — "Payload for Action is syntactically incorrect or not conform the
  PDU structure for Action"; 2.0.1 FormatViolation — "Payload for Action is syntactically
  incorrect";
* ProtocolError — 1.6 "Payload for Action is incomplete", 2.0.1 "Payload for Action is not
  conform the PDU structure";
* 2.0.1 RpcFrameworkError — "Content of the call is not a valid RPC Request, for example:
  MessageId could not be read"; MessageTypeNotSupported — "A message with a Message Type
  Number received that is not supported by this implementation";
* NotImplemented — "Requested Action is not known by receiver";
* Occurrence (1.6 "Occurence") ConstraintViolation — "Payload for Action is syntactically
  correct but at least one of the fields violates occurrence constraints";
* TypeConstraintViolation — "... violates data type constraints (e.g. "somestring": 12)";
* PropertyConstraintViolation — "Payload is syntactically correct but at least one field
  contains an invalid value";
* GenericError — "Any other error not covered by the previous ones" (1.6 also names it for
  a frame it cannot otherwise classify).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.versions import OcppVersion

__all__ = ["ANSWERS", "Answer", "Fault", "answer_for"]


class Fault(StrEnum):
    """What is wrong with a request, as the probe made it."""

    NOT_JSON = "not_json"
    """The text is not JSON at all."""
    NOT_A_CALL = "not_a_call"
    """JSON, but not an array of the CALL's shape (elements missing, extra or mistyped)."""
    UNREADABLE_ID = "unreadable_id"
    """The message id cannot be read (not a string)."""
    MESSAGE_TYPE = "message_type"
    """A MessageTypeId that does not exist."""
    UNKNOWN_ACTION = "unknown_action"
    MISSING = "missing"
    """A required field is missing, or an array has too few/many items."""
    TYPE = "type"
    """A field has the wrong JSON type."""
    VALUE = "value"
    """A field's value is outside what the schema allows (enum, length, range, pattern)."""
    SHAPE = "shape"
    """A property the schema does not know, or a payload that is not an object."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The CALLERROR codes that pass for one fault, and the clause they rest on."""

    codes: frozenset[str]
    clause: str


def _a(clause: str, *codes: str) -> Answer:
    return Answer(frozenset(codes), clause)


_J16 = "OCPP-J 1.6 §4.2.3"
_J2 = "OCPP 2.0.1 Part 4 §4.3"

ANSWERS: dict[OcppVersion, dict[Fault, Answer]] = {
    OcppVersion.V16: {
        Fault.NOT_JSON: _a(f"{_J16} FormationViolation (syntactically incorrect); ProtocolError, "
                           "GenericError also fit a frame 1.6 gives no rule for",
                           "FormationViolation", "ProtocolError", "GenericError"),
        Fault.NOT_A_CALL: _a(f"{_J16} FormationViolation (not conform the PDU structure); "
                             "ProtocolError (incomplete)", "FormationViolation", "ProtocolError"),
        Fault.UNREADABLE_ID: _a(f"{_J16} FormationViolation (not conform the PDU structure)",
                                "FormationViolation"),
        Fault.MESSAGE_TYPE: _a(f"{_J16} FormationViolation (1.6 has no MessageTypeNotSupported)",
                               "FormationViolation"),
        Fault.UNKNOWN_ACTION: _a(f"{_J16} NotImplemented (Action not known by receiver)",
                                 "NotImplemented"),
        Fault.MISSING: _a(f"{_J16} OccurenceConstraintViolation; ProtocolError (incomplete)",
                          "OccurenceConstraintViolation", "ProtocolError"),
        Fault.TYPE: _a(f"{_J16} TypeConstraintViolation", "TypeConstraintViolation"),
        Fault.VALUE: _a(f"{_J16} PropertyConstraintViolation (a field contains an invalid value)",
                        "PropertyConstraintViolation"),
        Fault.SHAPE: _a(f"{_J16} FormationViolation (not conform the PDU structure); "
                        "ProtocolError", "FormationViolation", "ProtocolError"),
    },
    OcppVersion.V201: {
        Fault.NOT_JSON: _a(f"{_J2} RpcFrameworkError (not a valid RPC request, id '-1')",
                           "RpcFrameworkError"),
        Fault.NOT_A_CALL: _a(f"{_J2} RpcFrameworkError (not a valid RPC request); "
                             "FormatViolation, ProtocolError (not conform the PDU structure)",
                             "RpcFrameworkError", "FormatViolation", "ProtocolError"),
        Fault.UNREADABLE_ID: _a(f"{_J2} RpcFrameworkError (MessageId could not be read)",
                                "RpcFrameworkError"),
        Fault.MESSAGE_TYPE: _a(f"{_J2} MessageTypeNotSupported", "MessageTypeNotSupported"),
        Fault.UNKNOWN_ACTION: _a(f"{_J2} NotImplemented (Action not known by receiver)",
                                 "NotImplemented"),
        Fault.MISSING: _a(f"{_J2} OccurrenceConstraintViolation; ProtocolError (not conform "
                          "the PDU structure)", "OccurrenceConstraintViolation", "ProtocolError"),
        Fault.TYPE: _a(f"{_J2} TypeConstraintViolation", "TypeConstraintViolation"),
        Fault.VALUE: _a(f"{_J2} PropertyConstraintViolation (a field contains an invalid value)",
                        "PropertyConstraintViolation"),
        Fault.SHAPE: _a(f"{_J2} FormatViolation (syntactically incorrect); ProtocolError (not "
                        "conform the PDU structure)", "FormatViolation", "ProtocolError"),
    },
}  # fmt: skip
ANSWERS[OcppVersion.V21] = ANSWERS[OcppVersion.V201]
"""2.1 Part 4 keeps the 2.0.1 error codes."""


def answer_for(version: OcppVersion, fault: Fault) -> Answer:
    """The acceptable CALLERROR codes for ``fault`` in ``version``."""
    return ANSWERS[OcppVersion(str(version))][fault]
