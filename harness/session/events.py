"""What :meth:`OcppSession.receive_text` and :meth:`OcppSession.tick` report.

Every received frame produces at least one event — none is dropped. Payloads are the parsed
JSON objects (numbers as :class:`~decimal.Decimal` where written with a fraction); ``typed()``
builds the ``ocpp`` package's dataclass on demand (it costs time, so it is not done per frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harness.session.errors import Violation
from harness.session.frames import Call, CallError, CallResult, CallResultError, Send
from harness.session.payloads import Typed, typed_payload
from harness.session.schemas import PayloadKind
from harness.session.slotinit import direct_init
from harness.versions import OcppVersion

__all__ = [
    "CallReceived",
    "CallTimedOut",
    "ErrorReceived",
    "Event",
    "ProtocolViolation",
    "ResultErrorReceived",
    "ResultReceived",
    "SendReceived",
]


@direct_init
@dataclass(frozen=True, slots=True)
class CallReceived:
    """The peer sent a valid CALL; answer it with ``send_result`` or ``send_error``."""

    call: Call
    raw: str
    at: datetime
    version: OcppVersion

    @property
    def message_id(self) -> str:
        return self.call.message_id

    @property
    def action(self) -> str:
        return self.call.action

    @property
    def payload(self) -> dict[str, Any]:
        return self.call.payload

    def typed(self) -> Typed:
        """The request as the ``ocpp`` package's dataclass (nested types built)."""
        return typed_payload(self.version, self.call.action, PayloadKind.REQUEST, self.payload)


@direct_init
@dataclass(frozen=True, slots=True)
class ResultReceived:
    """The peer answered our ``call`` with a valid CALLRESULT."""

    call: Call
    result: CallResult
    raw: str
    at: datetime
    version: OcppVersion

    @property
    def message_id(self) -> str:
        return self.result.message_id

    @property
    def action(self) -> str:
        return self.call.action

    @property
    def payload(self) -> dict[str, Any]:
        return self.result.payload

    def typed(self) -> Typed:
        """The response as the ``ocpp`` package's dataclass (nested types built)."""
        return typed_payload(self.version, self.call.action, PayloadKind.RESPONSE, self.payload)


@direct_init
@dataclass(frozen=True, slots=True)
class ErrorReceived:
    """The peer answered our ``call`` with a CALLERROR (a refusal, not by itself a fault)."""

    call: Call
    error: CallError
    raw: str
    at: datetime

    @property
    def message_id(self) -> str:
        return self.error.message_id

    @property
    def action(self) -> str:
        return self.call.action


@direct_init
@dataclass(frozen=True, slots=True)
class ResultErrorReceived:
    """OCPP 2.1: the peer rejected a CALLRESULT we sent (CALLRESULTERROR)."""

    error: CallResultError
    raw: str
    at: datetime
    action: str | None = None


@direct_init
@dataclass(frozen=True, slots=True)
class SendReceived:
    """OCPP 2.1: the peer sent a valid SEND (unconfirmed; nothing to answer)."""

    send: Send
    raw: str
    at: datetime
    version: OcppVersion

    @property
    def action(self) -> str:
        return self.send.action

    @property
    def payload(self) -> dict[str, Any]:
        return self.send.payload

    def typed(self) -> Typed:
        """The payload as the ``ocpp`` package's dataclass (nested types built)."""
        return typed_payload(self.version, self.send.action, PayloadKind.REQUEST, self.payload)


@direct_init
@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """The peer broke the protocol (a FAIL of the peer).

    ``call`` is our outstanding CALL the faulty frame answered, if any (an invalid CALLRESULT
    completes that call with this event). ``reply`` is the text queued in answer (a CALLERROR,
    or 2.1's CALLRESULTERROR), ``None`` when the fault must not be answered.
    """

    violation: Violation
    raw: str
    at: datetime
    call: Call | None = None
    reply: str | None = None


@direct_init
@dataclass(frozen=True, slots=True)
class CallTimedOut:
    """Our ``call`` got no response before its deadline; its slot is free again."""

    call: Call
    at: datetime
    timeout_s: float | None


Event = (
    CallReceived
    | ResultReceived
    | ErrorReceived
    | ResultErrorReceived
    | SendReceived
    | ProtocolViolation
    | CallTimedOut
)
