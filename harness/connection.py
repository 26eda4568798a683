"""The async OCPP-J connection: an :class:`~harness.session.OcppSession` over a transport.

It runs the receive loop, feeds the session, sends what the session queues, answers the
peer's CALLs through explicitly passed handlers, and offers ``await conn.call(...)``, which
returns the response or raises — it never returns ``None`` for a CALLERROR:

=======================================  ===================================================
outcome of ``call()``                    result
=======================================  ===================================================
valid CALLRESULT                         returns :class:`~harness.session.ResultReceived`
CALLERROR                                raises :class:`~harness.session.CallErrorReceived`
invalid CALLRESULT (schema)              raises :class:`~harness.session.RemoteProtocolError`
no answer within ``timeout_s``           raises :class:`~harness.session.CallTimeout`
connection closed first                  raises :class:`ConnectionClosed`
our own mistake (bad payload, 2nd CALL)  raises :class:`~harness.session.LocalProtocolError`
=======================================  ===================================================

Example::

    async with OcppConnection.open(transport, role=Role.CHARGING_STATION, clock=clock) as conn:
        result = await conn.call("Heartbeat", {}, timeout_s=30)
        print(result.payload["currentTime"], result.typed().value)
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import sys
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from datetime import datetime
from types import EllipsisType, TracebackType
from typing import Any, assert_never

from harness.clock import Clock
from harness.logs import get_logger
from harness.session import (
    CallErrorReceived,
    CallReceived,
    CallTimedOut,
    CallTimeout,
    ErrorCode,
    ErrorReceived,
    Event,
    LocalProtocolError,
    OcppError,
    OcppSession,
    ProtocolViolation,
    RemoteProtocolError,
    ResultErrorReceived,
    ResultReceived,
    Role,
    SendReceived,
)
from harness.transport.base import BinaryFrameReceived, Transport, TransportClosed

__all__ = ["CallErrorReply", "ConnectionClosed", "Handler", "OcppConnection"]

Handler = Callable[[CallReceived], Awaitable[Any]]
"""Answers one incoming CALL: returns the response payload (a JSON object or an ``ocpp``
dataclass), or raises :class:`CallErrorReply` to answer with a CALLERROR."""

SendHandler = Callable[[SendReceived], Awaitable[None]]


class ConnectionClosed(OcppError):
    """The connection closed before the operation completed."""


class CallErrorReply(Exception):
    """Raise in a handler to answer the CALL with this CALLERROR."""

    def __init__(
        self,
        code: ErrorCode | str,
        description: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.description = description
        self.details = dict(details or {})
        super().__init__(f"{code}: {description}")


class OcppConnection:
    """One live OCPP-J connection: receive loop, request/response, handlers.

    ``handlers`` maps an action to the coroutine that answers the peer's CALL of it (a CALL
    without a handler gets CALLERROR ``NotImplemented``); ``send_handlers`` does the same for
    2.1 SEND frames. ``on_event`` sees every session event (including violations) as it
    happens. Use it as an async context manager, or call :meth:`start` and :meth:`close`.

    Each protocol violation of the peer is logged as a ``protocol_violation`` warning, or at
    debug level when ``violations_expected`` (a simulated device under test that the harness
    itself sends malformed frames on purpose: its complaints are the expected answer, judged
    from the trace, not news for the console).
    """

    def __init__(
        self,
        transport: Transport,
        session: OcppSession,
        clock: Clock,
        *,
        handlers: Mapping[str, Handler] | None = None,
        send_handlers: Mapping[str, SendHandler] | None = None,
        on_event: Callable[[Event], None] | None = None,
        violations_expected: bool = False,
    ) -> None:
        self.transport = transport
        self.violations_expected = violations_expected
        self.session = session
        self.clock = clock
        self._handlers = dict(handlers or {})
        self._send_handlers = dict(send_handlers or {})
        self._on_event = on_event
        self._waiting: dict[str, asyncio.Future[ResultReceived]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._receiver: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._ticker_target: datetime | None = None  # deadline the ticker sleeps towards
        self._ticker_idle = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._sending = 0  # _flush calls on the awaiting path (holding or waiting for the lock)
        self._send_now: Callable[[str], bool] | None = getattr(transport, "send_now", None)
        self._listen: Callable[[Callable[[str | bytes], None]], Awaitable[None]] | None = getattr(
            transport, "listen", None
        )
        self._log = get_logger("connection", station=session.station_id)
        self.violations: list[ProtocolViolation] = []
        """Every protocol violation of the peer seen so far."""
        self.local_errors: list[str] = []
        """Harness defects met while running: a handler that raised or built an invalid
        response, an ``on_event`` callback that raised. Non-empty means ERROR, not FAIL."""

    @classmethod
    def open(
        cls,
        transport: Transport,
        *,
        role: Role,
        clock: Clock,
        handlers: Mapping[str, Handler] | None = None,
        send_handlers: Mapping[str, SendHandler] | None = None,
        on_event: Callable[[Event], None] | None = None,
        violations_expected: bool = False,
        **session_options: Any,
    ) -> OcppConnection:
        """A connection with a fresh session for the transport's subprotocol and station id.

        ``session_options`` go to :class:`OcppSession` (``allow_concurrent_calls``, ...).
        """
        session = OcppSession(
            version=transport.subprotocol.version,
            role=role,
            station_id=transport.station_id,
            **session_options,
        )
        return cls(
            transport,
            session,
            clock,
            handlers=handlers,
            send_handlers=send_handlers,
            on_event=on_event,
            violations_expected=violations_expected,
        )

    # ------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the receive loop (idempotent)."""
        if self._receiver is None:
            self._receiver = asyncio.create_task(self._receive_loop())
            self._ticker = asyncio.create_task(self._tick_loop())

    async def __aenter__(self) -> OcppConnection:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        """Close the transport and wait for the receive loop and handlers to finish."""
        await self.transport.close(code=code, reason=reason)
        if self._receiver is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._receiver
        for task in [*self._tasks, self._ticker]:
            if task is not None:
                task.cancel()
        self._fail_waiting()

    async def wait_closed(self) -> None:
        """Wait until the receive loop ends (the peer or we closed the connection)."""
        if self._receiver is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._receiver

    # --------------------------------------------------------------- sending

    async def call(
        self,
        action: str,
        payload: Mapping[str, Any] | Any,
        *,
        timeout_s: float | EllipsisType | None = ...,
        message_id: str | None = None,
    ) -> ResultReceived:
        """Send a CALL and wait for its answer (see the module's table for the outcomes).

        ``timeout_s`` is in clock seconds; it defaults to the session's ``default_timeout_s``.
        """
        if self._receiver is None:
            raise LocalProtocolError("start() the connection (or use `async with`) before call()")
        if self.transport.closed or self._receiver.done():
            raise ConnectionClosed(f"cannot send {action}: the connection is closed")
        call = self.session.send_call(
            action, payload, now=self.clock.now(), timeout_s=timeout_s, message_id=message_id
        )
        future: asyncio.Future[ResultReceived] = asyncio.get_running_loop().create_future()
        self._waiting[call.message_id] = future
        self._wake_ticker()
        try:
            await self._flush()
            return await future
        finally:
            self._waiting.pop(call.message_id, None)

    async def send_send(self, action: str, payload: Mapping[str, Any] | Any) -> None:
        """Send an OCPP 2.1 SEND frame (nothing comes back)."""
        self.session.send_send(action, payload, now=self.clock.now())
        await self._flush()

    async def send_raw(self, text: str) -> None:
        """Send ``text`` exactly as given (deliberately malformed frames); it is traced."""
        self.session.send_raw(text, now=self.clock.now())
        await self._flush()

    async def call_raw(
        self,
        text: str,
        *,
        answer_id: str,
        timeout_s: float | EllipsisType | None = ...,
    ) -> ResultReceived:
        """Send ``text`` exactly as given and wait for the answer carrying ``answer_id``.

        Outcomes as :meth:`call` (a CALLERROR raises
        :class:`~harness.session.CallErrorReceived`); the answer is not schema-checked.
        """
        if self._receiver is None:
            raise LocalProtocolError("start() the connection before call_raw()")
        if self.transport.closed or self._receiver.done():
            raise ConnectionClosed("cannot send a raw frame: the connection is closed")
        self.session.send_raw(text, now=self.clock.now(), answer_id=answer_id, timeout_s=timeout_s)
        future: asyncio.Future[ResultReceived] = asyncio.get_running_loop().create_future()
        self._waiting[answer_id] = future
        self._wake_ticker()
        try:
            await self._flush()
            return await future
        finally:
            self._waiting.pop(answer_id, None)

    async def _flush(self) -> None:
        """Send what the session queued, in order; raises :class:`ConnectionClosed`.

        A transport that can send without awaiting (``send_now``, the WebSocket transport)
        sends at once when nothing queued earlier is still waiting to be sent; otherwise,
        and for what it cannot take now, the texts go out one after the other under the
        send lock.
        """
        texts = self.session.data_to_send()
        if not texts:
            return
        send_now = self._send_now
        if send_now is not None and not self._sending:
            sent = 0
            for text in texts:
                if not send_now(text):
                    break
                sent += 1
            if sent == len(texts):
                return
            texts = texts[sent:]
        self._sending += 1
        try:
            async with self._send_lock:
                for text in texts:
                    try:
                        await self.transport.send(text)
                    except TransportClosed as exc:
                        raise ConnectionClosed(str(exc)) from exc
        finally:
            self._sending -= 1

    # --------------------------------------------------------------- timeouts

    # One timer per connection instead of one per call: the ticker sleeps (on the clock)
    # until the session's next deadline and feeds the session a tick; calls never wait on a
    # per-call timer, which keeps the request path to one future.

    def _wake_ticker(self) -> None:
        deadline = self.session.next_deadline()
        if deadline is None or self._ticker is None:
            return
        if self._ticker_target is None:
            self._ticker_idle.set()
        elif deadline < self._ticker_target:  # sleeping towards a later deadline: restart
            self._ticker.cancel()
            self._ticker_target = None
            self._ticker = asyncio.create_task(self._tick_loop())

    async def _tick_loop(self) -> None:
        while True:
            deadline = self.session.next_deadline()
            if deadline is None:
                self._ticker_idle.clear()
                await self._ticker_idle.wait()
                continue
            delay_s = (deadline - self.clock.now()).total_seconds()
            if delay_s > 0:
                self._ticker_target = deadline
                await self.clock.sleep(delay_s)
                self._ticker_target = None
                continue
            for event in self.session.tick(now=self.clock.now()):
                self._dispatch(event)

    # ------------------------------------------------------------- receiving

    async def _receive_loop(self) -> None:
        try:
            if self._listen is not None:
                # Each message is handled in the event loop's callback that read it (see
                # WebSocketTransport.listen): an answer is sent, or a waiting call() woken,
                # without first waking this task.
                await self._listen(self._on_message)
            while True:
                try:
                    text = await self.transport.recv()
                except BinaryFrameReceived as binary:
                    events = self.session.receive_binary(binary.data, now=self.clock.now())
                else:
                    events = self.session.receive_text(text, now=self.clock.now())
                if self.session.has_data_to_send:  # e.g. a CALLERROR for a malformed frame
                    await self._flush()
                self._dispatch_all(events)
        except (TransportClosed, ConnectionClosed):
            pass
        finally:
            if self._ticker is not None:
                self._ticker.cancel()
            self._fail_waiting()

    def _on_message(self, message: str | bytes) -> None:
        """One incoming message, from :meth:`WebSocketTransport.listen`: as one turn of the
        receive loop above, run where the transport read it."""
        if isinstance(message, str):
            events = self.session.receive_text(message, now=self.clock.now())
        else:
            events = self.session.receive_binary(message, now=self.clock.now())
        if self.session.has_data_to_send:  # e.g. a CALLERROR for a malformed frame
            self._spawn(self._flush_quietly())
        self._dispatch_all(events)

    async def _flush_quietly(self) -> None:
        """:meth:`_flush`, when a closed connection needs no telling (nobody waits)."""
        with contextlib.suppress(ConnectionClosed):
            await self._flush()

    def _dispatch_all(self, events: list[Event]) -> None:
        for event in events:
            try:
                self._dispatch(event)
            except Exception as exc:  # our defect (e.g. in on_event): keep receiving
                self.local_errors.append(f"dispatching {type(event).__name__}: {exc!r}")

    def _dispatch(self, event: Event) -> None:
        try:
            self._route(event)
        finally:
            if self._on_event is not None:
                self._on_event(event)

    def _route(self, event: Event) -> None:
        match event:
            case ResultReceived():
                future = self._waiting.get(event.message_id)
                if future is not None and not future.done():
                    future.set_result(event)
            case CallReceived():
                self._spawn(self._answer(event))
            case ErrorReceived():
                self._fail(
                    event.message_id,
                    CallErrorReceived(
                        action=event.action,
                        message_id=event.message_id,
                        code=event.error.error_code,
                        description=event.error.error_description,
                        details=event.error.error_details,
                    ),
                )
            case ProtocolViolation():
                self.violations.append(event)
                log = self._log.debug if self.violations_expected else self._log.warning
                log(
                    "protocol_violation",
                    kind=event.violation.kind.value,
                    detail=event.violation.detail,
                    raw=event.raw[:200],
                )
                if event.call is not None:
                    self._fail(event.call.message_id, RemoteProtocolError(event.violation))
            case CallTimedOut():
                self._fail(
                    event.call.message_id,
                    CallTimeout(
                        action=event.call.action,
                        message_id=event.call.message_id,
                        timeout_s=event.timeout_s,
                    ),
                )
            case SendReceived():
                send_handler = self._send_handlers.get(event.action)
                if send_handler is not None:
                    self._spawn(self._handle_send(send_handler, event))
            case ResultErrorReceived():
                pass  # the peer's complaint about one of our answers: in the trace, no waiter
            case _:
                assert_never(event)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` (the answer to one incoming CALL, or a SEND handler) at once, up to its
        first real suspension, and continue it in a task of its own if it suspends.

        Most handlers answer without suspending, so this saves the trip through the event loop
        that an ordinary task costs per incoming CALL. Measured with
        ``benchmarks/spawn_strategies.py`` on 2026-12-07 (Python 3.11.7, a shared 2-core
        machine, load average 4-11; Heartbeat calls one after another on each connection;
        rows interleaved; ratio = median over the repeats of each row against the trampoline
        row next to it). An ordinary task instead, with 1 connection: over loopback
        WebSockets (the ``session`` rows of ``session_throughput.py``, 0.5 s rows, four runs
        of 11-21 repeats) 0.71-1.04 of the calls/s and 1.01-1.09 x the CPU per call (the
        last run, 21 repeats: medians 2 929 against 3 268 calls/s, 151 against 135 µs); over
        the in-memory pair (0.3 s rows, three runs of 15-31 repeats) 1.11-1.15 x the CPU per
        call. With 10 or 100 connections no consistent cost (0.90-1.08 x). One connection,
        the usual conformance run, pays more than the 3 % this shortcut had to save, so it
        stays on Python 3.11. From 3.12 an eager task does the same, the supported way: on
        3.12.1 it measured 0.99 x the trampoline's CPU per call over WebSockets with 1
        connection (0.86 x with 100; 15 repeats), 1.05 x over the in-memory pair (21 repeats).

        Over a transport that hands messages to a callback (``listen``), this runs inside
        that callback, where no task is current at all: an answer that needs no waiting is
        then sent before the event loop does anything else.

        While the handler runs eagerly, ``asyncio.current_task()`` is a stand-in for the task
        it continues in (:class:`_HandlerTask`), not the receive loop's task (nor ``None``):
        an ``asyncio.timeout()`` entered before the first suspension cancels the handler when
        it expires, never the receive loop.
        """
        if sys.version_info >= (3, 12):
            eager = _eager_task(coro)
            if not eager.done():
                self._keep(eager)
            return
        loop = asyncio.get_running_loop()
        receiver = asyncio.current_task()  # None in a transport's callback (listen)
        stand_in: Any = _HandlerTask()  # what current_task() gives while the handler runs
        if receiver is not None:
            _leave_task(loop, receiver)
        _enter_task(loop, stand_in)
        try:
            first = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:
            self._log.error("handler_failed", error=repr(exc))
            self.local_errors.append(f"answering a CALL raised {exc!r}")
            return
        finally:
            _leave_task(loop, stand_in)
            if receiver is not None:
                _enter_task(loop, receiver)
        task = loop.create_task(_Continued(coro, first))
        stand_in.bind(task)
        self._keep(task)

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _fail(self, message_id: str, exc: BaseException) -> None:
        future = self._waiting.get(message_id)
        if future is not None and not future.done():
            future.set_exception(exc)

    def _fail_waiting(self) -> None:
        for message_id, future in list(self._waiting.items()):
            if not future.done():
                future.set_exception(
                    ConnectionClosed(f"connection closed before the answer to [{message_id}]")
                )

    async def _handle_send(self, handler: SendHandler, event: SendReceived) -> None:
        try:
            await handler(event)
        except Exception as exc:
            self._log.error("send_handler_failed", action=event.action, error=repr(exc))
            self.local_errors.append(f"handler for SEND {event.action} raised {exc!r}")

    async def _answer(self, event: CallReceived) -> None:
        handler = self._handlers.get(event.action)
        mid = event.message_id
        now = self.clock.now
        if handler is None:
            self.session.send_error(
                mid, ErrorCode.NOT_IMPLEMENTED, f"no handler for {event.action}", now=now()
            )
        else:
            try:
                payload = await handler(event)
            except CallErrorReply as reply:
                self.session.send_error(
                    mid, reply.code, reply.description, reply.details, now=now()
                )
            except Exception as exc:  # a handler bug must not leave the peer waiting
                self._log.error("handler_failed", action=event.action, error=repr(exc))
                self.local_errors.append(f"handler for {event.action} raised {exc!r}")
                self.session.send_error(
                    mid, ErrorCode.INTERNAL_ERROR, "the handler failed", now=now()
                )
            else:
                try:
                    self.session.send_result(mid, payload, now=now())
                except LocalProtocolError as exc:
                    self._log.error("invalid_response", action=event.action, error=str(exc))
                    self.local_errors.append(str(exc))
                    self.session.send_error(
                        mid, ErrorCode.INTERNAL_ERROR, "invalid response built", now=now()
                    )
        await self._flush_quietly()


if sys.version_info >= (3, 12):

    def _eager_task(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A task that runs now, up to its first suspension (Python 3.12's eager start)."""
        return asyncio.Task(coro, loop=asyncio.get_running_loop(), eager_start=True)


class _HandlerTask:
    """``asyncio.current_task()`` while a handler runs eagerly in :meth:`OcppConnection._spawn`:
    it stands for the task the handler continues in, which exists only once the handler
    suspends (:meth:`bind`).

    ``cancel``, ``cancelling`` and ``uncancel`` (what ``asyncio.timeout()`` uses) act on that
    task; a cancel before it exists is applied when it does. Anything else a task offers is
    forwarded once it exists, and before that raises ``RuntimeError``.
    """

    __slots__ = ("_cancel", "_task")

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._cancel: tuple[Any] | None = None

    def bind(self, task: asyncio.Task[None]) -> None:
        """The handler suspended and continues in ``task``."""
        self._task = task
        if self._cancel is not None:
            task.cancel(*self._cancel)

    def cancel(self, msg: Any = None) -> bool:
        if self._task is not None:
            return self._task.cancel(msg)
        self._cancel = (msg,)
        return True

    def cancelling(self) -> int:
        return 0 if self._task is None else self._task.cancelling()

    def uncancel(self) -> int:
        return 0 if self._task is None else self._task.uncancel()

    def __getattr__(self, name: str) -> Any:
        if self._task is None:
            raise RuntimeError(f"a handler's task has no {name} before its first suspension")
        return getattr(self._task, name)


class _Continued(collections.abc.Coroutine[Any, Any, None]):
    """The rest of a coroutine that :meth:`OcppConnection._spawn` ran up to its first
    suspension, as a coroutine a task can drive.

    The task's first step gets the value the coroutine yielded there (the future it waits
    on); every later step, and any exception the task throws (a cancel even before that
    first step), goes to the coroutine itself.
    """

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self._coro = coro
        self._first: tuple[Any] | None = (first,)

    def send(self, value: Any) -> Any:
        if self._first is not None:
            (first,), self._first = self._first, None
            return first
        return self._coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Any:
        self._first = None
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)

    def close(self) -> None:
        self._coro.close()

    @property
    def __name__(self) -> str:  # what a task's repr shows
        return str(getattr(self._coro, "__qualname__", type(self._coro).__name__))

    def __await__(self) -> Generator[Any, Any, None]:
        try:
            value = self.send(None)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    self.close()
                    raise
                except BaseException as exc:
                    value = self.throw(exc)
                else:
                    value = self.send(sent)
        except StopIteration:
            return
