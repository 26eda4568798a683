"""The harness's CSMS end of one DUT connection.

:class:`CsmsEndpoint` wraps an :class:`~harness.connection.OcppConnection` in the CSMS role
and adds what the runner needs on top:

* every frame goes to the current case's trace sink as it happens (outside a case, to
  :attr:`CsmsEndpoint.outside`, the run's ``outside.jsonl``), and the endpoint remembers
  which trace indices belong to which message id (evidence for checks);
* the DUT's own requests get default answers (:mod:`harness.runner.handlers`) that also feed
  the :class:`~harness.runner.observations.ObservationLog`;
* ``expect_request`` steps *arm* a waiter before the step that provokes the request runs,
  so the request is answered with the scenario's ``respond_with``;
* :meth:`call` turns every outcome (result, CALLERROR, timeout, closed) into a value;
* the DUT's protocol violations that no call outcome reports (a frame that is not JSON or not
  an OCPP-J array, a response to an id never sent, a CALL of an unknown action, a binary
  frame...) are kept per case, with their trace indices (:meth:`case_violations`); a late
  answer to a CALL that already timed out is kept apart (:meth:`late_answers`): its step has
  already failed for the timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.clock import Clock
from harness.connection import OcppConnection
from harness.results import OutsideTrace, RunStorageError, TraceSink
from harness.runner.endpoint_base import CallOutcome, EndpointBase
from harness.runner.handlers import DefaultAnswers
from harness.runner.observations import ObservationLog, ObservedTransaction
from harness.session import (
    CallReceived,
    Direction,
    Event,
    Malformation,
    ProtocolViolation,
    Role,
    TraceRecord,
)
from harness.transport import Transport
from harness.versions import OcppVersion

__all__ = [
    "MIN_WALL_TIMEOUT_S",
    "CallOutcome",
    "CsmsEndpoint",
    "Received",
    "SeenViolation",
    "Waiter",
]

_REMOTE_STARTS = frozenset({"RemoteStartTransaction", "RequestStartTransaction"})

MIN_WALL_TIMEOUT_S = 5.0
"""On an accelerated clock, a wait for the DUT (an answer, a request) is never shorter than
this many *wall* seconds: a simulated DUT's reaction time is processing time, not clock
time, so a 30 s timeout must not shrink to 16 ms at speed 1800. Real time (speed 1) and
discrete-event time (a manual clock) are unaffected."""


@dataclass(frozen=True, slots=True)
class Received:
    """A request of the DUT consumed by an ``expect_request`` step."""

    payload: dict[str, Any]
    message_id: str
    frames: tuple[int, ...]
    response: dict[str, Any] | None
    answered_by_default: bool


ResponseBuilder = Callable[[CallReceived], dict[str, Any] | None]
"""Gives the scenario's answer for an armed request (``None``: the default answer)."""


@dataclass(frozen=True, slots=True)
class SeenViolation:
    """A protocol violation of the DUT during the current case, with its trace indices."""

    event: ProtocolViolation
    frames: tuple[int, ...]

    def describe(self) -> str:
        """``kind: detail`` in a few words."""
        return f"{self.event.violation.kind.value}: {self.event.violation.detail}"[:300]


RequestFilter = Callable[[Mapping[str, Any]], bool]
"""Whether a request payload is the one an armed step waits for."""


@dataclass
class Waiter:
    """An armed ``expect_request``: the first request of :attr:`action` that
    :attr:`accepts` (``None``: any) fills :attr:`future`; the others are remembered in
    :attr:`passed_over` (answered by default)."""

    action: str
    respond: ResponseBuilder
    accepts: RequestFilter | None = None
    future: asyncio.Future[Received] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    passed_over: list[dict[str, Any]] = field(default_factory=list)

    def wants(self, payload: Mapping[str, Any]) -> bool:
        """True if this waiter takes a request of its action with ``payload``."""
        return self.accepts is None or self.accepts(payload)


class CsmsEndpoint(EndpointBase):
    """The harness as CSMS on one connection to the DUT (see the module docstring)."""

    peer = "the DUT"

    def __init__(
        self,
        transport: Transport,
        *,
        clock: Clock,
        observations: ObservationLog | None = None,
        heartbeat_interval_s: int = 300,
        min_wall_timeout_s: float = MIN_WALL_TIMEOUT_S,
    ) -> None:
        super().__init__(clock=clock)
        self.min_wall_timeout_s = min_wall_timeout_s
        self.observations = observations or ObservationLog()
        self._sink: TraceSink | None = None
        self.outside: OutsideTrace | None = None
        self.storage_error: RunStorageError | None = None
        """The first failure to write a frame (full disk ...): the run must stop."""
        """Where frames go while no case runs (boot, between cases); ``None``: nowhere."""
        self._waiters: list[Waiter] = []
        self._unclaimed: list[tuple[str, Received]] = []
        self._last_in_index: int | None = None
        self._violations: list[SeenViolation] = []
        self._late: list[SeenViolation] = []
        self._timed_out: dict[str, str] = {}  # message id -> action, of our timed-out CALLs
        self.answers = DefaultAnswers(
            version=transport.subprotocol.version,
            clock=clock,
            observations=self.observations,
            heartbeat_interval_s=heartbeat_interval_s,
            frames_of=self.frames_of,
        )
        handlers = {action: self._handler(action) for action in self.answers.actions()}
        self.connection = OcppConnection.open(
            transport,
            role=Role.CSMS,
            clock=clock,
            handlers=handlers,
            trace_sink=self._trace,
            keep_trace=False,
            on_event=self._seen,
        )
        self.on_transaction_ended: Callable[[ObservedTransaction], None] | None = None
        self.answers.on_transaction_ended = self._transaction_ended

    # ----------------------------------------------------------------- properties

    @property
    def version(self) -> OcppVersion:
        """The OCPP version negotiated on the connection."""
        return self.connection.session.version

    @property
    def station_id(self) -> str:
        """The DUT's station id (from the connection path)."""
        return self.connection.session.station_id

    # ---------------------------------------------------------------------- trace

    @property
    def trace_sink(self) -> TraceSink | None:
        """Where frames go now (the running case's trace), if anywhere."""
        return self._sink

    def set_trace(self, sink: TraceSink | None) -> None:
        """Send frames to ``sink`` from now on (a new case); forget old frame indices."""
        self._sink = sink
        self._frames_by_id.clear()
        self._unclaimed.clear()
        self._violations.clear()
        self._late.clear()
        self._last_in_index = None

    def _trace(self, record: TraceRecord) -> None:
        try:
            if self._sink is None or self._sink.closed:
                self._last_in_index = None
                if self.outside is not None and not self.outside.closed:
                    self.outside.append_record(record)
                return
            index = self._sink.append_record(record)
        except RunStorageError as exc:  # the receive loop goes on; the run stops after the case
            self.storage_error = self.storage_error or exc
            self._last_in_index = None
            return
        if record.direction is Direction.IN:
            self._last_in_index = index
        if record.message_id is not None:
            self._frames_by_id.setdefault(record.message_id, []).append(index)

    def _seen(self, event: Event) -> None:
        if not isinstance(event, ProtocolViolation) or event.call is not None:
            return  # a faulty answer to our CALL is reported by that call's outcome
        frames = () if self._last_in_index is None else (self._last_in_index,)
        seen = SeenViolation(event, frames)
        violation = event.violation
        if (
            violation.kind is Malformation.UNKNOWN_RESPONSE_ID
            and violation.message_id in self._timed_out
        ):
            self._late.append(seen)
        else:
            self._violations.append(seen)

    def case_violations(self) -> tuple[SeenViolation, ...]:
        """The DUT's protocol violations since the case began that no call outcome reports."""
        return tuple(self._violations)

    def late_answers(self) -> tuple[SeenViolation, ...]:
        """Answers that came after their CALL had timed out (since the case began)."""
        return tuple(self._late)

    # ------------------------------------------------------------------- calling

    def patience_s(self, timeout_s: float) -> float:
        """``timeout_s`` (clock), raised to :attr:`min_wall_timeout_s` of wall time on a
        clock faster than real time (see :data:`MIN_WALL_TIMEOUT_S`)."""
        speed = self.clock.speed
        if 1.0 < speed < float("inf"):
            return max(timeout_s, self.min_wall_timeout_s * speed)
        return timeout_s

    async def call(
        self, action: str, payload: Mapping[str, Any], *, timeout_s: float
    ) -> CallOutcome:
        """Send a CALL; every outcome comes back as a :class:`CallOutcome` (never raises for
        the DUT's faults; raises :class:`~harness.session.LocalProtocolError` for ours)."""
        outcome = await self._outcome(
            action,
            timeout_s,
            self.connection.call(action, dict(payload), timeout_s=self.patience_s(timeout_s)),
        )
        if action in _REMOTE_STARTS and outcome.payload is not None:
            self._start_accepted(payload, outcome.payload)
        return outcome

    def _call_timed_out(self, message_id: str, action: str) -> None:
        self._timed_out[message_id] = action
        if len(self._timed_out) > 1000:  # bounded: forget the oldest
            del self._timed_out[next(iter(self._timed_out))]

    def _start_accepted(self, request: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
        """Remember an accepted remote start whose transaction has not been seen (a 2.x
        answer naming a transactionId says one already runs): the reset waits for it."""
        if answer.get("status") != "Accepted" or "transactionId" in answer:
            return
        raw = request.get("connectorId", request.get("evseId"))
        try:
            evse = None if raw is None else int(raw)
        except (TypeError, ValueError):
            return
        self.observations.start_accepted(evse, self.clock.now())

    async def call_raw(
        self, text: str, *, answer_id: str, timeout_s: float, label: str = "the raw frame"
    ) -> CallOutcome:
        """Send ``text`` as it is and wait for the answer carrying ``answer_id``; outcomes as
        :meth:`call` (``label`` names the frame in the details)."""
        return await self._outcome(
            label,
            timeout_s,
            self.connection.call_raw(
                text, answer_id=answer_id, timeout_s=self.patience_s(timeout_s)
            ),
        )

    # ------------------------------------------------------------------ requests

    def arm(
        self, action: str, respond: ResponseBuilder, *, accepts: RequestFilter | None = None
    ) -> Waiter:
        """Wait for the DUT's next ``action`` request (that ``accepts`` takes, if given), to be
        answered by ``respond``."""
        waiter = Waiter(action, respond, accepts)
        self._waiters.append(waiter)
        return waiter

    def disarm(self, waiter: Waiter) -> None:
        """Stop waiting (the step ended)."""
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def take_unclaimed(
        self, action: str, *, accepts: RequestFilter | None = None
    ) -> Received | None:
        """A request of ``action`` (that ``accepts`` takes, if given) that arrived with no
        waiter armed for it (answered by default)."""
        for i, (name, received) in enumerate(self._unclaimed):
            if name == action and (accepts is None or accepts(received.payload)):
                del self._unclaimed[i]
                return received
        return None

    def forget_unclaimed(self) -> None:
        """Drop remembered requests (called when a step begins that did not arm them)."""
        self._unclaimed.clear()

    def _handler(self, action: str) -> Callable[[CallReceived], Any]:
        async def handle(event: CallReceived) -> dict[str, Any]:
            waiter = next(
                (w for w in self._waiters if w.action == action and w.wants(event.payload)), None
            )
            for other in self._waiters:
                if other.action == action and other is not waiter:
                    other.passed_over.append(dict(event.payload))
            response: dict[str, Any] | None = None
            if waiter is not None:
                self._waiters.remove(waiter)
                try:
                    response = waiter.respond(event)
                except Exception as exc:  # scenario value could not be built: harness side
                    if not waiter.future.done():
                        waiter.future.set_exception(exc)
                    waiter = None
            answer = self.answers.answer(event, override=response)
            received = Received(
                payload=dict(event.payload),
                message_id=event.message_id,
                frames=self.frames_of(event.message_id),
                response=answer,
                answered_by_default=response is None,
            )
            if waiter is not None:
                if not waiter.future.done():
                    waiter.future.set_result(received)
            else:
                self._unclaimed.append((action, received))
            return answer

        return handle

    def _transaction_ended(self, transaction: ObservedTransaction) -> None:
        if self.on_transaction_ended is not None:
            self.on_transaction_ended(transaction)
