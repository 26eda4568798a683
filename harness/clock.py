"""One clock for the harness and the simulators.

Nothing else in the project reads the wall clock: code that waits, times out or stamps a
frame takes a :class:`Clock`. Two kinds exist:

* :class:`ScaledClock` follows the machine's clock, optionally faster (``speed=3600`` makes a
  six-hour pause in a scenario last six seconds of wall time). ``speed=1`` is real time,
  which is what a lab uses with real stations.
* :class:`ManualClock` moves only when told to (:meth:`ManualClock.advance`). Sans-I/O tests
  and deterministic simulations use it: no sleeping, no flakiness.

All durations given to or returned by a clock are in *clock seconds* (scenario time), not wall
seconds. ``clock.now()`` is always a timezone-aware UTC datetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

__all__ = ["Clock", "ManualClock", "ScaledClock", "utc"]


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
        return self._start + timedelta(seconds=self.monotonic())

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
