"""The OCPP-J session: one connection's protocol state, with no I/O and no clock reads.

Feed received text to :meth:`OcppSession.receive_text` and clock ticks to
:meth:`OcppSession.tick`; read what to send from :meth:`OcppSession.data_to_send`. Every
frame in either direction is recorded as a :class:`~harness.session.trace.TraceRecord`.

Example::

    s = OcppSession(version=OcppVersion.V16, role=Role.CHARGING_STATION, station_id="CS1")
    call = s.send_call("Heartbeat", {}, now=clock.now())
    for text in s.data_to_send():             # ['[2,"…-1","Heartbeat",{}]']
        await transport.send(text)
    events = s.receive_text(await transport.recv(), now=clock.now())  # [ResultReceived(...)]
    events += s.tick(now=clock.now())         # [CallTimedOut(...)] once a deadline passed
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import EllipsisType
from typing import Any, assert_never

from harness.session.errors import (
    CODE_FOR,
    UNREADABLE_ID,
    ErrorCode,
    LocalProtocolError,
    Malformation,
    Violation,
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
    FrameError,
    MessageType,
    Send,
    parse_frame,
    serialize,
)
from harness.session.payloads import to_payload
from harness.session.schemas import PayloadKind, schema_set
from harness.session.trace import Direction, TraceRecord, TraceSink
from harness.session.versions import Role, initiators
from harness.versions import OcppVersion

__all__ = ["OcppSession"]

# Enum members as module constants: reading a member off its class (MessageType.CALL) costs
# ~75 ns in Python 3.11, a global ~10 ns, and every frame reads several.
_CALL, _CALLRESULT, _CALLERROR = MessageType.CALL, MessageType.CALLRESULT, MessageType.CALLERROR
_CALLRESULTERROR, _SEND = MessageType.CALLRESULTERROR, MessageType.SEND
_IN, _OUT = Direction.IN, Direction.OUT
_REQUEST, _RESPONSE = PayloadKind.REQUEST, PayloadKind.RESPONSE

_SPEC = {
    OcppVersion.V16: "OCPP-J 1.6 §4",
    OcppVersion.V201: "OCPP 2.0.1 Part 4 §4",
    OcppVersion.V21: "OCPP 2.1 Part 4 §4",
}

# What each rule says, in a few words (quoted in every Violation).
_RULE = {
    Malformation.NOT_JSON: "a message is a JSON array (RPC framework)",
    Malformation.NOT_ARRAY: "a message is a JSON array (RPC framework)",
    Malformation.UNREADABLE_ID: "element 2 is the message id, a string of at most 36 characters",
    Malformation.BAD_MESSAGE_TYPE: "element 1 is a MessageTypeId this version defines",
    Malformation.BAD_FRAME: "each message type has a fixed number of elements of fixed types",
    Malformation.UNKNOWN_ACTION: "NotImplemented: requested Action is not known by receiver",
    Malformation.WRONG_DIRECTION: "NotSupported: the Action may not be sent by this party",
    Malformation.OCCURRENCE: "payload must satisfy the schema's occurrence constraints",
    Malformation.TYPE: "payload fields must have the schema's data types",
    Malformation.PROPERTY: "payload field values must satisfy the schema's constraints",
    Malformation.FORMAT: "payload must conform to the PDU structure of the Action",
    Malformation.DUPLICATE_ID: "a message id must be unique for every CALL of the sender",
    Malformation.CONCURRENT_CALL: (
        "a party SHALL NOT send a CALL until all CALLs it sent were answered or timed out"
    ),
    Malformation.UNKNOWN_RESPONSE_ID: "a response carries the message id of an outstanding CALL",
    Malformation.UNKNOWN_ERROR_CODE: "a CALLERROR's code is one this version defines",
    Malformation.BINARY_FRAME: "OCPP-J messages are UTF-8 JSON text frames, never binary",
}


@dataclass(slots=True)
class _Pending:
    call: Call
    deadline: datetime | None
    timeout_s: float | None
    raw: bool = False
    """Sent with :meth:`OcppSession.send_raw`: its answer is not checked against a schema."""


def _default_ids() -> Iterator[str]:
    prefix = secrets.token_hex(4)  # unique per session, so ids never repeat across reconnects
    return (f"{prefix}-{n}" for n in itertools.count(1))


class OcppSession:
    """The protocol state of one OCPP-J connection, as CSMS or as charging station.

    * ``validate_outgoing``: check what *we* send (schema, direction, error codes) and raise
      :class:`LocalProtocolError` on a mistake. Use :meth:`send_raw` for deliberately bad frames.
    * ``allow_concurrent_calls``: break the one-outstanding-CALL rule on purpose (negative tests).
    * ``default_timeout_s``: deadline of a CALL unless :meth:`send_call` says otherwise
      (``None``: no deadline).
    * ``trace_sink`` receives each :class:`TraceRecord`; ``keep_trace`` also keeps them in
      :attr:`trace`.
    """

    def __init__(
        self,
        *,
        version: OcppVersion,
        role: Role,
        station_id: str,
        validate_outgoing: bool = True,
        allow_concurrent_calls: bool = False,
        default_timeout_s: float | None = 30.0,
        trace_sink: TraceSink | None = None,
        keep_trace: bool = True,
        message_ids: Iterator[str] | None = None,
    ) -> None:
        self.version = version
        self.role = role
        self.station_id = station_id
        self.validate_outgoing = validate_outgoing
        self.allow_concurrent_calls = allow_concurrent_calls
        self.default_timeout_s = default_timeout_s
        self._schemas = schema_set(version)
        self._codes = CODE_FOR[version]
        self._known_codes = frozenset(code.value for code in error_codes(version))
        self._sink = trace_sink
        self._keep_trace = keep_trace
        self._ids = message_ids if message_ids is not None else _default_ids()
        self._outgoing: dict[str, _Pending] = {}
        self._incoming: dict[str, str] = {}
        # Actions already found to exist, to go as CALL and to be ours to send (_callable)
        # or the peer's (_peer_callable): the checks depend on the action, version and role
        # only, so each action is checked once.
        self._callable: set[str] = set()
        self._peer_callable: set[str] = set()
        self._used_ids: dict[str, str] = {}  # ids of the peer's CALLs taken, oldest first
        self._out: list[str] = []
        self._trace: list[TraceRecord] = []
        # Rows not yet turned into TraceRecords (built when the trace is read: cheaper per
        # frame), seven values per frame one after the other, see _record for their form.
        self._rows: list[Any] = []

    # ------------------------------------------------------------------ state

    @property
    def trace(self) -> list[TraceRecord]:
        """Every frame sent and received so far (when ``keep_trace``), oldest first."""
        if self._rows:
            station = self.station_id
            self._trace.extend(
                TraceRecord(
                    t,
                    _IN if inbound else _OUT,
                    text,
                    station,
                    _TYPE_OF.get(kind, kind) if type(kind) is int else (kind and kind[0]),
                    message_id,
                    action,
                    violations,
                )
                for t, inbound, text, kind, message_id, action, violations in zip(
                    *[iter(self._rows)] * 7, strict=True
                )
            )
            self._rows.clear()
        return self._trace

    @property
    def outstanding_calls(self) -> list[Call]:
        """Our CALLs still waiting for a response."""
        return [p.call for p in self._outgoing.values()]

    @property
    def unanswered_calls(self) -> dict[str, str]:
        """The peer's CALLs we have not answered yet: message id → action."""
        return dict(self._incoming)

    def next_deadline(self) -> datetime | None:
        """When the earliest outstanding CALL times out (``None``: nothing to wait for)."""
        outgoing = self._outgoing
        if len(outgoing) == 1:  # the usual case: one CALL at a time
            for pending in outgoing.values():
                return pending.deadline
        deadlines = [p.deadline for p in outgoing.values() if p.deadline is not None]
        return min(deadlines) if deadlines else None

    @property
    def has_data_to_send(self) -> bool:
        """True when frames wait to be taken by :meth:`data_to_send`."""
        return bool(self._out)

    def data_to_send(self) -> list[str]:
        """Take the frames queued for sending, oldest first."""
        out, self._out = self._out, []
        return out

    # ---------------------------------------------------------------- sending

    def send_call(
        self,
        action: str,
        payload: Mapping[str, Any] | Any,
        *,
        now: datetime,
        timeout_s: float | EllipsisType | None = ...,
        message_id: str | None = None,
    ) -> Call:
        """Queue a CALL and start its timeout; return the frame (its id correlates the answer).

        ``timeout_s`` defaults to the session's ``default_timeout_s``; ``None`` never expires.

        ``payload`` is a JSON object or an ``ocpp`` dataclass. Raises
        :class:`LocalProtocolError` if our role may not send ``action``, the payload fails
        its schema, or (unless ``allow_concurrent_calls``) a CALL is still outstanding.
        """
        data = payload if type(payload) is dict else to_payload(payload)
        if self.validate_outgoing:
            if action not in self._callable:
                self._check_outgoing_action(action, sent_as=_CALL)
                self._callable.add(action)
            if self._schemas.check(action, _REQUEST, data) is not None:
                self._check_outgoing_payload(action, _REQUEST, data)  # raises, with the fault
        # OCPP-J 1.6 §4.1.1 / 2.0.1 Part 4 §4.1.1: a party SHALL NOT send a CALL until all
        # CALLs it sent before were answered or timed out.
        if self._outgoing and not self.allow_concurrent_calls:
            waiting = next(iter(self._outgoing.values())).call
            raise LocalProtocolError(
                f"cannot send {action}: {waiting.action} [{waiting.message_id}] is still "
                "outstanding (allow_concurrent_calls=True breaks this rule on purpose)"
            )
        mid = message_id if message_id is not None else next(self._ids)
        if mid in self._outgoing:
            raise LocalProtocolError(f"message id {mid!r} is already used by an outstanding CALL")
        call = Call(mid, action, data)
        text = serialize(call)
        timeout = self.default_timeout_s if isinstance(timeout_s, EllipsisType) else timeout_s
        deadline = None if timeout is None else now + timedelta(0, timeout)
        self._outgoing[mid] = _Pending(call, deadline, timeout)
        self._emit(text, now, _CALL, mid, action)
        return call

    def send_result(
        self, message_id: str, payload: Mapping[str, Any] | Any, *, now: datetime
    ) -> CallResult:
        """Answer the peer's CALL ``message_id`` with a CALLRESULT.

        Raises :class:`LocalProtocolError` if no such CALL waits for an answer or the payload
        fails the response schema (when ``validate_outgoing``).
        """
        action = self._incoming.get(message_id)
        if action is None:
            raise LocalProtocolError(f"no CALL with id {message_id!r} is waiting for an answer")
        data = payload if type(payload) is dict else to_payload(payload)
        if self.validate_outgoing and self._schemas.check(action, _RESPONSE, data) is not None:
            self._check_outgoing_payload(action, _RESPONSE, data)  # raises, with the fault
        del self._incoming[message_id]
        result = CallResult(message_id, data)
        self._emit(serialize(result), now, _CALLRESULT, message_id, action)
        return result

    def send_error(
        self,
        message_id: str,
        code: ErrorCode | str,
        description: str = "",
        details: Mapping[str, Any] | None = None,
        *,
        now: datetime,
    ) -> CallError:
        """Answer the peer's CALL ``message_id`` with a CALLERROR.

        Raises :class:`LocalProtocolError` if no such CALL waits, or ``code`` is not one of
        this version's codes (when ``validate_outgoing``).
        """
        action = self._incoming.get(message_id)
        if action is None:
            raise LocalProtocolError(f"no CALL with id {message_id!r} is waiting for an answer")
        if self.validate_outgoing and str(code) not in self._known_codes:
            raise LocalProtocolError(f"{code!r} is not a CALLERROR code of OCPP {self.version}")
        del self._incoming[message_id]
        error = CallError(message_id, str(code), description, dict(details or {}))
        self._emit(serialize(error), now, _CALLERROR, message_id, action)
        return error

    def send_send(
        self,
        action: str,
        payload: Mapping[str, Any] | Any,
        *,
        now: datetime,
        message_id: str | None = None,
    ) -> Send:
        """Queue an OCPP 2.1 SEND (no response expected; not subject to the one-CALL rule)."""
        data = payload if type(payload) is dict else to_payload(payload)
        if self.validate_outgoing:
            if self.version is not OcppVersion.V21:
                raise LocalProtocolError(f"SEND does not exist in OCPP {self.version}")
            self._check_outgoing_action(action, sent_as=_SEND)
            self._check_outgoing_payload(action, _REQUEST, data)
        send = Send(message_id if message_id is not None else next(self._ids), action, data)
        self._emit(serialize(send), now, _SEND, send.message_id, action)
        return send

    def send_raw(
        self,
        text: str,
        *,
        now: datetime,
        answer_id: str | None = None,
        timeout_s: float | EllipsisType | None = ...,
    ) -> Call | None:
        """Queue ``text`` exactly as given — for deliberately malformed frames.

        Without ``answer_id`` the session's state does not change (a raw CALL is not tracked
        as outstanding, and an answer to it is a response to an unknown id). With
        ``answer_id`` (the id the peer's answer will carry: the frame's own id, or ``"-1"``
        for a frame whose id cannot be read), the answer is expected like a CALL's: a
        CALLRESULT or CALLERROR with that id completes it (no schema check of the answer),
        and it times out after ``timeout_s``. Returns the tracked stand-in CALL, if any.
        """
        message_type, message_id, action = _summary(text)
        tracked: Call | None = None
        if answer_id is not None:
            if answer_id in self._outgoing:
                raise LocalProtocolError(f"message id {answer_id!r} is already awaited")
            tracked = Call(answer_id, action or "(raw frame)", {})
            timeout = self.default_timeout_s if isinstance(timeout_s, EllipsisType) else timeout_s
            deadline = None if timeout is None else now + timedelta(0, timeout)
            self._outgoing[answer_id] = _Pending(tracked, deadline, timeout, raw=True)
        self._emit(text, now, message_type, message_id, action)
        return tracked

    def _check_outgoing_action(self, action: str, *, sent_as: MessageType) -> None:
        if action not in self._schemas.actions:
            raise LocalProtocolError(f"OCPP {self.version} has no action {action!r}")
        if (action in self._schemas.send_actions) != (sent_as is _SEND):
            raise LocalProtocolError(f"{action} is not sent as a {sent_as.name} frame")
        if self.role not in initiators(self.version, action):
            raise LocalProtocolError(f"a {self.role.value} may not send {action}")

    def _check_outgoing_payload(self, action: str, kind: PayloadKind, data: Any) -> None:
        fault = self._schemas.check(action, kind, data)
        if fault is not None:
            raise LocalProtocolError(
                f"our {action} {kind.value} fails its OCPP {self.version} schema: {fault.detail}"
            )

    def _emit(
        self,
        text: str,
        now: datetime,
        message_type: int | None,
        message_id: str | None,
        action: str | None,
    ) -> None:
        self._out.append(text)
        self._record(_OUT, text, now, message_type, message_id, action, ())

    def _record(
        self,
        direction: Direction,
        text: str,
        now: datetime,
        message_type: int | None,
        message_id: str | None,
        action: str | None,
        violations: tuple[Violation, ...],
    ) -> None:
        if self._sink is not None:
            self._sink(
                TraceRecord(
                    now, direction, text, self.station_id, message_type, message_id, action,
                    violations,
                )
            )  # fmt: skip
        if self._keep_trace:
            # Plain values only, straight into the list: no object the garbage collector
            # tracks is left per frame. (A tuple per row was one: each counted towards the
            # next young collection, ~700 allocations apart, until that collection untracked
            # it; an enum member would keep a tuple tracked for good.) A MessageType goes in
            # as its int, any other int as a 1-tuple (a malformed frame's type), so the trace
            # gives each back as it was.
            kind: int | tuple[int] | None = (
                int(message_type) if type(message_type) is MessageType else
                (message_type,) if message_type is not None else None
            )  # fmt: skip
            self._rows += (now, direction is _IN, text, kind, message_id, action, violations)

    # -------------------------------------------------------------- receiving

    def receive_text(self, text: str, *, now: datetime) -> list[Event]:
        """Process one received frame; return what happened (at least one event)."""
        try:
            frame = parse_frame(text)
        except FrameError as exc:
            return self._malformed(exc, text, now)
        match frame:
            case CallResult():
                return self._on_result(frame, text, now)
            case Call():
                return self._on_call(frame, text, now)
            case CallError():
                return self._on_error(frame, text, now)
            case Send() | CallResultError() if self.version is not OcppVersion.V21:
                # CALLRESULTERROR and SEND exist from OCPP 2.1 on.
                return self._malformed(
                    FrameError(
                        Malformation.BAD_MESSAGE_TYPE,
                        f"MessageTypeId {frame.message_type.value} does not exist in "
                        f"OCPP {self.version}",
                        message_id=frame.message_id,
                    ),
                    text,
                    now,
                )
            case Send():
                return self._on_send(frame, text, now)
            case CallResultError():
                self._record(_IN, text, now, _CALLRESULTERROR, frame.message_id, None, ())
                return [ResultErrorReceived(frame, text, now)]
            case _:
                assert_never(frame)

    def receive_binary(self, data: bytes, *, now: datetime) -> list[Event]:
        """Record a binary WebSocket frame: a violation, never answered (no id to answer).

        The trace keeps it as ``<binary:HEX>`` text.
        """
        v = self._violation(
            Malformation.BINARY_FRAME, f"binary frame of {len(data)} bytes", message_id=None
        )
        return self._reject(v, f"<binary:{data.hex()}>", now, None, answer_id=None)

    def tick(self, *, now: datetime) -> list[Event]:
        """Expire every outstanding CALL whose deadline is at or before ``now``."""
        expired = [
            mid for mid, p in self._outgoing.items() if p.deadline is not None and p.deadline <= now
        ]
        events: list[Event] = []
        for mid in expired:
            pending = self._outgoing.pop(mid)
            events.append(CallTimedOut(pending.call, now, pending.timeout_s))
        return events

    def expire_call(self, message_id: str, *, now: datetime) -> CallTimedOut | None:
        """Give up on our CALL ``message_id`` now (an I/O layer whose own timer fired)."""
        pending = self._outgoing.pop(message_id, None)
        if pending is None:
            return None
        return CallTimedOut(pending.call, now, pending.timeout_s)

    def _violation(
        self,
        kind: Malformation,
        detail: str,
        *,
        message_id: str | None,
        action: str | None = None,
        path: str | None = None,
    ) -> Violation:
        return Violation(
            kind=kind,
            requirement=f"{_SPEC[self.version]}: {_RULE[kind]}",
            detail=detail,
            message_id=message_id,
            action=action,
            error_code=self._codes.get(kind),
            path=path,
        )

    def _reject(
        self,
        violation: Violation,
        text: str,
        now: datetime,
        message_type: int | None,
        *,
        answer_id: str | None,
        call: Call | None = None,
        answer_type: type[CallError | CallResultError] = CallError,
    ) -> list[Event]:
        """Record a faulty frame; answer it when ``answer_id`` is given."""
        self._record(
            _IN,
            text,
            now,
            message_type,
            violation.message_id,
            violation.action,
            (violation,),
        )
        reply = None
        if answer_id is not None and violation.error_code is not None:
            error = answer_type(answer_id, violation.error_code.value, violation.detail[:255], {})
            reply = serialize(error)
            self._emit(reply, now, error.message_type, answer_id, violation.action)
        return [ProtocolViolation(violation, text, now, call=call, reply=reply)]

    def _malformed(self, exc: FrameError, text: str, now: datetime) -> list[Event]:
        violation = self._violation(exc.kind, exc.detail, message_id=exc.message_id)
        # A response or a SEND is never answered (a CALLERROR must not answer a response);
        # OCPP 2.0.1 Part 4 §4.2.3: when the message id cannot be read, answer with "-1".
        answerable = exc.message_type not in _NEVER_ANSWERED or (
            exc.kind is Malformation.BAD_MESSAGE_TYPE
        )
        answer_id = (exc.message_id or UNREADABLE_ID) if answerable else None
        return self._reject(violation, text, now, exc.message_type, answer_id=answer_id)

    def _on_call(self, call: Call, text: str, now: datetime) -> list[Event]:
        mid, action = call.message_id, call.action
        if mid in self._incoming:
            v = self._violation(
                Malformation.DUPLICATE_ID,
                f"a CALL with id {mid!r} ({self._incoming[mid]}) is still being processed",
                message_id=mid,
                action=action,
            )
            return self._reject(v, text, now, _CALL, answer_id=mid)
        if action not in self._peer_callable:
            if action not in self._schemas.actions:
                v = self._violation(
                    Malformation.UNKNOWN_ACTION,
                    f"OCPP {self.version} has no action {action!r}",
                    message_id=mid,
                    action=action,
                )
                return self._reject(v, text, now, _CALL, answer_id=mid)
            if action in self._schemas.send_actions:
                v = self._violation(
                    Malformation.WRONG_DIRECTION,
                    f"{action} is sent as SEND, not as CALL",
                    message_id=mid,
                    action=action,
                )
                return self._reject(v, text, now, _CALL, answer_id=mid)
            if self.role.peer not in initiators(self.version, action):
                v = self._violation(
                    Malformation.WRONG_DIRECTION,
                    f"a {self.role.peer.value} may not send {action}",
                    message_id=mid,
                    action=action,
                )
                return self._reject(v, text, now, _CALL, answer_id=mid)
            self._peer_callable.add(action)
        fault = self._schemas.check(action, _REQUEST, call.payload)
        if fault is not None:
            v = self._violation(
                fault.kind, fault.detail, message_id=mid, action=action, path=fault.path
            )
            return self._reject(v, text, now, _CALL, answer_id=mid)
        events: list[Event] = []
        violations: tuple[Violation, ...] = ()
        earlier = self._used_ids.get(mid)
        if earlier is not None:
            # OCPP-J: a CALL's message id "MUST be different from all message IDs previously
            # used by the same sender for any other CALL messages on the same WebSocket
            # connection". The first was answered already, so the CALL is still delivered
            # (as for a concurrent CALL) and the reuse is on record.
            v = self._violation(
                Malformation.DUPLICATE_ID,
                f"{action} reuses the id {mid!r} of an earlier {earlier} already answered",
                message_id=mid,
                action=action,
            )
            violations += (v,)
            events.append(ProtocolViolation(v, text, now))
        if self._incoming:
            # The peer broke the one-outstanding-CALL rule; the CALL is still delivered so
            # that the exchange can go on and the fault is on record.
            v = self._violation(
                Malformation.CONCURRENT_CALL,
                f"{action} [{mid}] arrived while {sorted(self._incoming)} were unanswered",
                message_id=mid,
                action=action,
            )
            violations += (v,)
            events.append(ProtocolViolation(v, text, now))
        self._incoming[mid] = action
        if earlier is not None:
            del self._used_ids[mid]  # re-inserted below: the newest again
        self._used_ids[mid] = action
        if len(self._used_ids) > _USED_IDS_KEPT:
            del self._used_ids[next(iter(self._used_ids))]
        self._record(_IN, text, now, _CALL, mid, action, violations)
        events.append(CallReceived(call, text, now, self.version))
        return events

    def _on_result(self, result: CallResult, text: str, now: datetime) -> list[Event]:
        mid = result.message_id
        pending = self._outgoing.pop(mid, None)
        if pending is None:
            v = self._violation(
                Malformation.UNKNOWN_RESPONSE_ID,
                f"CALLRESULT for {mid!r}, which is not an outstanding CALL of ours",
                message_id=mid,
            )
            return self._reject(v, text, now, _CALLRESULT, answer_id=None)
        call = pending.call
        fault = None if pending.raw else self._schemas.check(call.action, _RESPONSE, result.payload)
        if fault is not None:
            v = self._violation(
                fault.kind, fault.detail, message_id=mid, action=call.action, path=fault.path
            )
            # OCPP 2.1 Part 2 FR.06: "When the Charging Station/CSMS receives an invalid OCPP
            # response message ... SHALL respond with ... CALLRESULTERROR". Earlier versions
            # have no frame for that answer, so nothing is sent (the fault is recorded).
            answer = mid if self.version is OcppVersion.V21 else None
            return self._reject(
                v,
                text,
                now,
                _CALLRESULT,
                answer_id=answer,
                call=call,
                answer_type=CallResultError,
            )
        self._record(_IN, text, now, _CALLRESULT, mid, call.action, ())
        return [ResultReceived(call, result, text, now, self.version)]

    def _on_error(self, error: CallError, text: str, now: datetime) -> list[Event]:
        mid = error.message_id
        pending = self._outgoing.pop(mid, None)
        if pending is None:
            v = self._violation(
                Malformation.UNKNOWN_RESPONSE_ID,
                f"CALLERROR for {mid!r}, which is not an outstanding CALL of ours",
                message_id=mid,
            )
            return self._reject(v, text, now, _CALLERROR, answer_id=None)
        action = pending.call.action
        events: list[Event] = []
        violations: tuple[Violation, ...] = ()
        if error.error_code not in self._known_codes:
            v = self._violation(
                Malformation.UNKNOWN_ERROR_CODE,
                f"CALLERROR code {error.error_code!r} is not defined in OCPP {self.version}",
                message_id=mid,
                action=action,
            )
            violations = (v,)
            events.append(ProtocolViolation(v, text, now))
        self._record(_IN, text, now, _CALLERROR, mid, action, violations)
        events.append(ErrorReceived(pending.call, error, text, now))
        return events

    def _on_send(self, send: Send, text: str, now: datetime) -> list[Event]:
        mid, action = send.message_id, send.action
        v: Violation | None = None
        if action not in self._schemas.send_actions:
            v = self._violation(
                Malformation.UNKNOWN_ACTION,
                f"{action!r} is not an action OCPP {self.version} sends as SEND",
                message_id=mid,
                action=action,
            )
        elif self.role.peer not in initiators(self.version, action):
            v = self._violation(
                Malformation.WRONG_DIRECTION,
                f"a {self.role.peer.value} may not send {action}",
                message_id=mid,
                action=action,
            )
        else:
            fault = self._schemas.check(action, _REQUEST, send.payload)
            if fault is not None:
                v = self._violation(
                    fault.kind, fault.detail, message_id=mid, action=action, path=fault.path
                )
        if v is not None:
            return self._reject(v, text, now, _SEND, answer_id=None)  # SEND is never answered
        self._record(_IN, text, now, _SEND, mid, action, ())
        return [SendReceived(send, text, now, self.version)]


_TYPE_OF: dict[int, MessageType] = {int(t): t for t in MessageType}

_NEVER_ANSWERED = frozenset(
    {MessageType.CALLRESULT, MessageType.CALLERROR, MessageType.CALLRESULTERROR, MessageType.SEND}
)

_USED_IDS_KEPT = 10_000
"""How many of the peer's CALL ids a session remembers to flag a reused one (bounded memory
against a flood; an id reused after 10 000 further CALLs goes unnoticed)."""


def _summary(text: str) -> tuple[int | None, str | None, str | None]:
    """Best-effort type, id and action of a (possibly malformed) frame, for the trace."""
    try:
        frame = parse_frame(text)
    except FrameError as exc:
        return exc.message_type, exc.message_id, None
    action = frame.action if isinstance(frame, Call | Send) else None
    return frame.message_type, frame.message_id, action
