"""The harness's station end of one connection to the CSMS under test.

:class:`StationEndpoint` wraps an :class:`~harness.connection.OcppConnection` in the
charging-station role:

* every frame goes to the case's trace sink as it happens; frames are found again by message
  id (evidence for checks);
* the CSMS's requests are answered at once — by the armed :class:`Waiter` they match (an
  ``expect_*`` step), else by the station's default answers
  (:class:`~harness.runner.station_role.state.StationState`); every request is recorded as a
  :class:`CsmsRequest`;
* a request that breaks the schema is answered with CALLERROR by the session and still
  reaches the waiter, with the violation (the CSMS's fault, judged by the step);
* :meth:`call` sends a request to the CSMS and turns every outcome into a
  :class:`~harness.runner.endpoint_base.CallOutcome` (as the CSMS role does:
  :class:`~harness.runner.endpoint_base.EndpointBase`); calls go one at a time (OCPP-J: one CALL
  outstanding per side);
* what the station owes the CSMS after an answer (NotifyReport after GetBaseReport, the
  message a TriggerMessage asked for, StatusNotification after ChangeAvailability...) is sent
  in the background, in order, after the answer; :meth:`settle` waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from harness.clock import Clock
from harness.connection import CallErrorReply, OcppConnection
from harness.results import TraceSink
from harness.runner.endpoint_base import CallOutcome, EndpointBase, plain_json
from harness.runner.station_role.judge import ProfileJudgement
from harness.runner.station_role.state import StationState
from harness.session import (
    CallReceived,
    Direction,
    ErrorCode,
    Event,
    Malformation,
    ProtocolViolation,
    Role,
    TraceRecord,
    initiators,
    schema_set,
)
from harness.transport import Transport
from harness.versions import OcppVersion

__all__ = ["PROFILE_ACTIONS", "CsmsRequest", "StationEndpoint", "Waiter"]

PROFILE_ACTIONS = frozenset(
    {"SetChargingProfile", "RemoteStartTransaction", "RequestStartTransaction"}
)
"""CSMS requests that may carry a charging profile."""


@dataclass(frozen=True, slots=True)
class CsmsRequest:
    """A request the CSMS sent, and what the station answered."""

    action: str
    payload: dict[str, Any]
    message_id: str
    frames: tuple[int, ...]
    response: dict[str, Any] | None
    """``None`` when the session answered CALLERROR (see ``violation``)."""
    violation: str | None = None
    """What was wrong with a request that broke the protocol (schema, direction...)."""
    claimed: bool = False
    judgement: ProfileJudgement | None = None
    """For a request carrying a charging profile: the profile judged on arrival."""
    answered_by_step: bool = False
    """The answer came from the waiting step's ``respond_with`` (not the station's default)."""


OWED_TIMEOUT_S = 30.0
"""How long the CSMS has to answer a request the station owed it (NotifyReport...)."""

Responder = Callable[[dict[str, Any]], dict[str, Any] | None]
"""Builds the answer to a claimed request (``None``: the station's default answer)."""


@dataclass
class Waiter:
    """An armed ``expect_*`` step: the first request of ``action`` that ``accepts`` fills
    :attr:`future`."""

    action: str
    accepts: Callable[[dict[str, Any]], bool]
    respond: Responder
    future: asyncio.Future[CsmsRequest] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class StationEndpoint(EndpointBase):
    """The harness as charging station on one connection to the CSMS (see the module)."""

    peer = "the CSMS"

    def __init__(
        self,
        transport: Transport,
        *,
        clock: Clock,
        state: StationState,
        sink: TraceSink | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self.state = state
        self._sink = sink
        self._waiters: list[Waiter] = []
        self._answerable = frozenset(state.answerable())
        self._call_lock = asyncio.Lock()
        self._last_request = clock.monotonic()
        self._owed: set[asyncio.Task[None]] = set()
        self.owed_failures: list[str] = []
        """Requests the station owed the CSMS that did not go through (for the step log)."""
        self.requests: list[CsmsRequest] = []
        """The CSMS's requests on this connection, in order of arrival (``claimed`` once a
        step took them or a later step began)."""
        self.all_requests: list[CsmsRequest] = []
        """Every request of the CSMS on this connection as it arrived."""
        self.delivered: set[str] = set()
        """Message ids of the requests handed to a step's waiter (claimed by an ``expect_*``
        step, which judges them: not judged again as unasked)."""
        self.frame_violations: list[tuple[str, tuple[int, ...]]] = []
        """The CSMS's frames that broke OCPP-J and are no request (not JSON, nested too deep,
        no readable id, a binary frame...): ``(what, trace indices)``, in order."""
        self._last_in: int | None = None
        version = OcppVersion(str(state.version))
        schemas = schema_set(version)
        csms_actions = {
            a for a in schemas.actions - schemas.send_actions if Role.CSMS in initiators(version, a)
        }
        # Every request a CSMS may send gets a handler, so that an expect_request step sees
        # it even when the station has no answer of its own (CALLERROR NotImplemented then).
        handlers = {action: self._handler(action) for action in csms_actions}
        self.connection = OcppConnection.open(
            transport,
            role=Role.CHARGING_STATION,
            clock=clock,
            handlers=handlers,
            on_event=self._event,
            trace_sink=self._trace,
            keep_trace=False,
        )

    # ---------------------------------------------------------------------- trace

    def _trace(self, record: TraceRecord) -> None:
        if self._sink is None or self._sink.closed:
            self._last_in = None
            return
        index = self._sink.append_record(record)
        if record.direction is Direction.IN:
            self._last_in = index
        if record.message_id is not None:
            self._frames_by_id.setdefault(record.message_id, []).append(index)

    # -------------------------------------------------------------------- calling

    async def call(
        self, action: str, payload: Mapping[str, Any], *, timeout_s: float
    ) -> CallOutcome:
        """Send a request to the CSMS; every outcome comes back as a value. An answered
        request updates the station's state (transactions)."""
        async with self._call_lock:
            return await self._call(action, payload, timeout_s=timeout_s)

    async def _call(
        self, action: str, payload: Mapping[str, Any], *, timeout_s: float
    ) -> CallOutcome:
        outcome = await self._outcome(
            action, timeout_s, self.connection.call(action, dict(payload), timeout_s=timeout_s)
        )
        if outcome.payload is not None:
            self.state.request_answered(action, dict(payload), outcome.payload, at=self.clock.now())
        return outcome

    async def settle(self, *, timeout_s: float, quiet_s: float = 0.0) -> None:
        """Wait (at most ``timeout_s`` clock seconds) until the requests the station owed
        the CSMS were sent and answered, and the CSMS then sent nothing for ``quiet_s``
        (a CSMS often reads the device model right after a boot)."""
        deadline = self.clock.monotonic() + timeout_s
        while (left := deadline - self.clock.monotonic()) > 0:
            pending = [t for t in self._owed if not t.done()]
            if pending:
                with contextlib.suppress(TimeoutError):
                    await self.clock.wait_for(asyncio.gather(*pending), left)
                continue
            idle = self.clock.monotonic() - self._last_request
            if idle >= quiet_s or self.closed:
                return
            await self.clock.sleep(min(quiet_s - idle, left))

    def _send_owed(self) -> None:
        owed = self.state.take_outbox()
        if not owed:
            return
        task = asyncio.ensure_future(self._owed_calls(owed))
        self._owed.add(task)
        task.add_done_callback(self._owed.discard)

    async def _owed_calls(self, owed: list[tuple[str, dict[str, Any]]]) -> None:
        async with self._call_lock:  # one batch (a report's parts) is not interleaved
            for action, payload in owed:
                if self.closed:
                    return
                await self._owed_call(action, payload)

    async def _owed_call(self, action: str, payload: dict[str, Any]) -> None:
        outcome = await self._call(action, payload, timeout_s=OWED_TIMEOUT_S)
        if outcome.payload is None:
            self.owed_failures.append(f"{action}: {outcome.detail or outcome.error_code}")

    # ------------------------------------------------------------------- requests

    def arm(self, waiter: Waiter) -> Waiter:
        """Claim the next request ``waiter`` accepts (also one that already arrived
        unclaimed since the last :meth:`forget`)."""
        for index, request in enumerate(self.requests):
            if (
                not request.claimed
                and request.action == waiter.action
                and (request.violation is not None or waiter.accepts(request.payload))
            ):
                self.requests[index] = _claimed(request)
                self.delivered.add(request.message_id)
                waiter.future.set_result(request)
                return waiter
        self._waiters.append(waiter)
        return waiter

    async def request_or_closed(self, waiter: Waiter) -> CsmsRequest | None:
        """The request ``waiter`` claims, or ``None`` when the connection closes first."""
        closed = self.closed_waiter()
        waiting: set[asyncio.Future[Any]] = {waiter.future, closed}
        try:
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if waiter.future in done:
            return waiter.future.result()
        return None

    def disarm(self, waiter: Waiter) -> None:
        """Stop waiting."""
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def forget(self) -> None:
        """Mark every request so far as seen (a new step that did not arm for them)."""
        self.requests = [_claimed(r) if not r.claimed else r for r in self.requests]

    def faulty_profiles(self, *, exclude: set[str]) -> list[tuple[CsmsRequest, str]]:
        """Requests on this connection carrying a profile that broke the schema or a rule
        (with what is wrong), except those a step claimed (:attr:`delivered`: the step judged
        it as the case says — e.g. a profile a conforming station rejects, TC_K_02_CSMS) and
        those whose message id is in ``exclude``."""
        out = []
        for request in self.all_requests:
            if request.action not in PROFILE_ACTIONS or request.message_id in exclude:
                continue
            if request.message_id in self.delivered:
                continue
            judgement = request.judgement
            if request.violation is not None:
                out.append((request, f"broke the protocol — {request.violation}"))
            elif (
                judgement is not None
                and judgement.findings
                and (judgement.profile is not None or request.action == "SetChargingProfile")
            ):
                out.append((request, judgement.describe()))
        return out

    def unclaimed(self, action: str) -> list[CsmsRequest]:
        """Requests of ``action`` no step claimed (answered by default)."""
        return [r for r in self.requests if r.action == action and not r.claimed]

    def _take(self, action: str, payload: dict[str, Any], *, broken: bool) -> Waiter | None:
        for waiter in self._waiters:
            if waiter.action == action and (broken or waiter.accepts(payload)):
                self._waiters.remove(waiter)
                return waiter
        return None

    def _handler(self, action: str) -> Callable[[CallReceived], Any]:
        async def handle(event: CallReceived) -> dict[str, Any]:
            self._last_request = self.clock.monotonic()
            payload: dict[str, Any] = plain_json(dict(event.payload))
            judgement = self.state.judge(action, payload) if action in PROFILE_ACTIONS else None
            waiter = self._take(action, payload, broken=False)
            response: dict[str, Any] | None = None
            by_step = False
            if waiter is not None:
                try:
                    response = waiter.respond(payload)
                    by_step = response is not None
                except Exception as exc:  # the scenario's answer could not be built: ours
                    if not waiter.future.done():
                        waiter.future.set_exception(exc)
                    waiter = None
            if response is None and action in self._answerable:
                response = self.state.default_answer(action, payload, at=self.clock.now())
            if action in PROFILE_ACTIONS and response is not None:
                self.state.install_if_accepted(action, payload, response)
            request = CsmsRequest(
                action,
                payload,
                event.message_id,
                self.frames_of(event.message_id),
                response,
                claimed=waiter is not None,
                judgement=judgement,
                answered_by_step=by_step,
            )
            self.requests.append(request)
            self.all_requests.append(request)
            if waiter is not None and not waiter.future.done():
                self.delivered.add(request.message_id)
                waiter.future.set_result(request)
            self._send_owed()
            if response is None and action in self.state.unsupported():
                raise CallErrorReply(
                    ErrorCode.NOT_SUPPORTED, f"the harness station does not support {action}"
                )
            if response is None:
                raise CallErrorReply(
                    ErrorCode.NOT_IMPLEMENTED, f"the harness station does not answer {action}"
                )
            return response

        return handle

    def _event(self, event: Event) -> None:
        """A CSMS request that broke the protocol: record it and hand it to its waiter."""
        if not isinstance(event, ProtocolViolation) or event.call is not None:
            return
        violation = event.violation
        if violation.action is None or violation.message_id is None:
            # Issue #16: a frame that is no request at all is the CSMS's fault too (a late
            # answer to a CALL that timed out is judged by that step's timeout instead).
            if violation.kind is not Malformation.UNKNOWN_RESPONSE_ID:
                frames = () if self._last_in is None else (self._last_in,)
                what = f"{violation.kind.value}: {violation.detail}"[:300]
                self.frame_violations.append((what, frames))
            return
        payload: dict[str, Any] = {}
        with contextlib.suppress(ValueError, TypeError, IndexError):
            frame = json.loads(event.raw)
            if isinstance(frame, list) and len(frame) > 3 and isinstance(frame[3], dict):
                payload = frame[3]
        waiter = self._take(violation.action, payload, broken=True)
        where = f" at {violation.path}" if violation.path else ""
        request = CsmsRequest(
            violation.action,
            payload,
            violation.message_id,
            self.frames_of(violation.message_id),
            None,
            violation=f"{violation.requirement}: {violation.detail}{where}",
            claimed=waiter is not None,
        )
        self.requests.append(request)
        self.all_requests.append(request)
        if waiter is not None and not waiter.future.done():
            self.delivered.add(request.message_id)
            waiter.future.set_result(request)


def _claimed(request: CsmsRequest) -> CsmsRequest:
    return replace(request, claimed=True)
