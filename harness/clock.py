"""One clock for the harness and the simulators.

Nothing else in the project reads the wall clock: code that waits, times out or stamps a
frame takes a :class:`Clock`. Two kinds exist:

* :class:`ScaledClock` follows the machine's clock, optionally faster (``speed=3600`` makes a
  six-hour pause in a scenario last six seconds of wall time). ``speed=1`` is real time,
  which is what a lab uses with real stations.
* :class:`ManualClock` moves only when told to (:meth:`ManualClock.advance`). Sans-I/O tests
  and deterministic simulations use it: no sleeping, no flakiness.
* :class:`LoopClock` reads the running event loop's time. Under a :class:`VirtualTimeLoop`
  (see :func:`run_virtual`) that time is *virtual*: it stands still while any task can run
  and jumps to the next timer when every task waits. A simulation in one process (harness,
  station and vehicle on in-memory transports) then runs as fast as the CPU allows, and
  its outcome does not depend on how loaded the machine is: computing takes no clock time.
* :class:`AdjustableClock` wraps another clock and lets its owner *set* the time of day
  (:meth:`AdjustableClock.set_now`), as a real station sets its clock from the CSMS's
  BootNotification response. Two processes on accelerated clocks agree on the time that way.

All durations given to or returned by a clock are in *clock seconds* (scenario time), not wall
seconds. ``clock.now()`` is always a timezone-aware UTC datetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import selectors
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = [
    "AdjustableClock",
    "Clock",
    "LoopClock",
    "ManualClock",
    "ScaledClock",
    "VirtualTimeLoop",
    "run_virtual",
    "utc",
    "wall_floor",
]


def utc(text: str) -> datetime:
    """Parse an ISO 8601 date-time and return it as an aware UTC datetime.

    A naive value is taken to be UTC; ``Z`` is accepted as the UTC designator.
    """
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Clock(ABC):
    """Interface shared by real, accelerated and manual time."""

    @property
    @abstractmethod
    def speed(self) -> float:
        """How many clock seconds pass per wall second (``inf`` for a manual clock)."""

    @abstractmethod
    def monotonic(self) -> float:
        """Clock seconds since an arbitrary origin; never goes backwards."""

    @abstractmethod
    def now(self) -> datetime:
        """The current clock time as an aware UTC datetime."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of clock time (yields once and returns for ``seconds <= 0``)."""
        await self.sleep_until(self.monotonic() + seconds)

    @abstractmethod
    async def sleep_until(self, deadline: float) -> None:
        """Wait until :meth:`monotonic` reaches ``deadline`` (clock seconds)."""

    async def wait_for(self, awaitable: Awaitable[T], timeout_s: float | None) -> T:
        """Await ``awaitable`` for at most ``timeout_s`` clock seconds.

        Raises :class:`TimeoutError` when the time runs out; ``None`` waits forever.
        """
        if timeout_s is None:
            return await awaitable
        deadline = self.monotonic() + timeout_s  # fixed now, not when the timer task starts
        task = asyncio.ensure_future(awaitable)
        timer = asyncio.ensure_future(self.sleep_until(deadline))
        try:
            done, _ = await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            task.cancel()
            timer.cancel()
            raise
        if task in done:
            timer.cancel()
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise TimeoutError(f"no result within {timeout_s:g} s of clock time")

    def elapsed_since(self, start_monotonic: float) -> float:
        """Clock seconds elapsed since a value previously read from :meth:`monotonic`."""
        return self.monotonic() - start_monotonic


class ScaledClock(Clock):
    """The machine's clock, running ``speed`` times faster (``speed=1`` is real time).

    ``start`` sets what :meth:`now` reports at creation; by default it is the real current
    UTC time, so ``ScaledClock()`` is simply the wall clock.
    """

    def __init__(self, *, speed: float = 1.0, start: datetime | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"clock speed must be positive, got {speed!r}")
        self._speed = float(speed)
        self._wall0 = time.monotonic()
        self._start = start if start is not None else datetime.now(UTC)
        if self._start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")

    @property
    def speed(self) -> float:
        return self._speed

    def monotonic(self) -> float:
        return (time.monotonic() - self._wall0) * self._speed

    def now(self) -> datetime:
        # self._start + timedelta(seconds=self.monotonic()), the same float and the same
        # rounding to the microsecond, without the method call and with the seconds given
        # positionally: timedelta's keyword parsing was half of the cost (every frame is
        # stamped with now(), four readings per call and answer).
        return self._start + timedelta(0, (time.monotonic() - self._wall0) * self._speed)

    async def sleep_until(self, deadline: float) -> None:
        remaining = deadline - self.monotonic()
        await asyncio.sleep(max(0.0, remaining) / self._speed)

    async def wait_for(self, awaitable: Awaitable[T], timeout_s: float | None) -> T:
        if timeout_s is None:
            return await awaitable
        try:
            return await asyncio.wait_for(awaitable, timeout_s / self._speed)
        except TimeoutError:
            raise TimeoutError(f"no result within {timeout_s:g} s of clock time") from None


class ManualClock(Clock):
    """A clock that moves only when :meth:`advance` (or :meth:`advance_to`) is called.

    Coroutines sleeping on it wake, in deadline order, as the clock passes their deadline.
    """

    def __init__(self, *, start: datetime | None = None) -> None:
        self._start = start if start is not None else datetime(2025, 1, 1, tzinfo=UTC)
        if self._start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        self._t = 0.0
        self._seq = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    @property
    def speed(self) -> float:
        return float("inf")

    def monotonic(self) -> float:
        return self._t

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._t)

    async def sleep_until(self, deadline: float) -> None:
        if deadline <= self._t:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._seq), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` and wake every sleeper now due."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards ({seconds!r} s)")
        self.advance_to(self._t + seconds)

    def advance_to(self, t: float) -> None:
        """Move the clock to monotonic time ``t`` (not earlier than now)."""
        if t < self._t:
            raise ValueError(f"a clock cannot go backwards (from {self._t} to {t})")
        while self._sleepers and self._sleepers[0][0] <= t:
            due, _, future = heapq.heappop(self._sleepers)
            self._t = max(self._t, due)
            if not future.done():
                future.set_result(None)
        self._t = t

    def next_deadline(self) -> float | None:
        """The earliest pending sleeper's wake-up time, or ``None`` if nobody sleeps."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None


class AdjustableClock(Clock):
    """Another clock whose time of day can be set: :meth:`now` is ``inner.now()`` plus an
    offset. Speed, :meth:`monotonic`, sleeping and timeouts are the inner clock's, so setting
    the time never shortens or stretches a wait.

    A simulated station that runs on its own accelerated clock (another process than the
    harness) uses it to take the CSMS's time from the BootNotification response.
    """

    def __init__(self, inner: Clock) -> None:
        self._inner = inner
        self._offset = timedelta(0)

    @property
    def speed(self) -> float:
        return self._inner.speed

    @property
    def offset_s(self) -> float:
        """Seconds added to the inner clock's time of day (0 until :meth:`set_now`)."""
        return self._offset.total_seconds()

    def monotonic(self) -> float:
        return self._inner.monotonic()

    def now(self) -> datetime:
        return self._inner.now() + self._offset

    def set_now(self, when: datetime) -> float:
        """Make :meth:`now` report ``when`` at this instant; return the step in seconds
        (positive: the clock jumped forward)."""
        if when.tzinfo is None:
            raise ValueError("clock time must be timezone-aware")
        step = when.astimezone(UTC) - self.now()
        self._offset += step
        return step.total_seconds()

    async def sleep_until(self, deadline: float) -> None:
        await self._inner.sleep_until(deadline)

    async def wait_for(self, awaitable: Awaitable[T], timeout_s: float | None) -> T:
        return await self._inner.wait_for(awaitable, timeout_s)


def wall_floor(clock: Clock, wall_s: float) -> float:
    """``wall_s`` seconds of wall time in clock seconds: ``wall_s × speed`` on a scaled clock,
    0 on a clock where computing takes no clock time (manual or virtual, ``speed = inf``).

    Code that must leave a minimum of *wall* time to other tasks (a periodic step on a fast
    clock, the patience of a timeout) uses it so that infinite speeds do not make the floor
    infinite.
    """
    speed = clock.speed
    if speed == float("inf"):
        return 0.0
    return wall_s * speed


class LoopClock(Clock):
    """Clock seconds are the running event loop's seconds (``loop.time()``).

    Meant for a :class:`VirtualTimeLoop`, where loop time is virtual and ``speed`` is
    infinite: a sleep costs no wall time, only the computing in between does, and that costs
    no clock time. On an ordinary loop it is simply real time — but then use
    :class:`ScaledClock`, whose ``speed`` says so.

    Create it inside the loop (it reads the loop's time at creation as its origin).
    """

    def __init__(self, *, start: datetime | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._start = start if start is not None else datetime.now(UTC)
        if self._start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        # now() at the loop time it was last computed for: under virtual time the loop's
        # time stands still while every task of an instant runs, and they all ask.
        self._now_at = self._t0
        self._now = self._start

    @property
    def speed(self) -> float:
        return float("inf") if isinstance(self._loop, VirtualTimeLoop) else 1.0

    def monotonic(self) -> float:
        return self._loop.time() - self._t0

    def now(self) -> datetime:
        t = self._loop.time()
        if t != self._now_at:
            self._now = self._start + timedelta(seconds=t - self._t0)
            self._now_at = t
        return self._now

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - self.monotonic()))

    async def wait_for(self, awaitable: Awaitable[T], timeout_s: float | None) -> T:
        if timeout_s is None:
            return await awaitable
        try:
            return await asyncio.wait_for(awaitable, timeout_s)
        except TimeoutError:
            raise TimeoutError(f"no result within {timeout_s:g} s of clock time") from None


class _VirtualSelector(selectors.BaseSelector):
    """Wraps the loop's selector: a wait with nothing to do moves virtual time instead."""

    def __init__(self, inner: selectors.BaseSelector, loop: VirtualTimeLoop) -> None:
        self._inner = inner
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = self._inner.select(0)
        if events or timeout == 0:
            return events
        loop = self._loop
        if loop.threads_busy or timeout is None:
            # Work in a thread (or nothing scheduled at all: only I/O or a thread can wake
            # us): wait for real, and let virtual time follow the wall time that passes.
            wall0 = time.monotonic()
            real_timeout = None if timeout is None else min(timeout, 0.05)
            events = self._inner.select(real_timeout)
            loop.advance(time.monotonic() - wall0 if timeout is not None else 0.0)
            return events
        loop.advance(timeout)  # idle: jump to the next timer
        return []

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def get_map(self) -> Any:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is virtual: it advances only when every task waits.

    When the ready queue is empty the loop would block in ``select`` until the next timer;
    this loop instead polls without blocking and, if nothing happened, moves its time to that
    timer. While work runs in an executor thread (``asyncio.to_thread``) or no timer is
    pending, it waits for real and virtual time follows wall time.

    Only for code whose peers all live in the same loop (in-memory transports): a real
    network peer answers in wall time, which a virtual loop outruns.
    """

    def __init__(self) -> None:
        super().__init__()
        self._vtime = 0.0
        self.threads_busy = 0
        self._selector = _VirtualSelector(self._selector, self)  # type: ignore[has-type]

    def time(self) -> float:
        return self._vtime

    def advance(self, seconds: float) -> None:
        """Move virtual time forward (never backwards)."""
        if seconds > 0:
            self._vtime += seconds

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        self.threads_busy += 1

        def _done(_: asyncio.Future[T]) -> None:
            self.threads_busy -= 1

        future.add_done_callback(_done)
        return future


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh :class:`VirtualTimeLoop` (like ``asyncio.run``).

    Inside, create the clock with :class:`LoopClock`.
    """
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
