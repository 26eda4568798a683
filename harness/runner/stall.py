"""Noticing when the machine, not the DUT, was slow (accelerated clocks only).

On an accelerated clock a simulated DUT shares the harness's event loop: when the machine
stalls for 10 ms, 6 clock seconds pass at speed 600 without anybody moving, and a
well-behaved station looks late. :class:`StallMonitor` measures how late the event loop
wakes up (in wall time, the only way to see it) and converts that to clock seconds, so that
a timing verdict the stall could explain is reported INCONCLUSIVE instead of FAIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

__all__ = ["StallMonitor"]

_PERIOD_WALL_S = 0.002


class StallMonitor:
    """Records event-loop stalls; :meth:`worst_clock_stall_s` reports them in clock seconds."""

    def __init__(self, *, speed: float) -> None:
        self.speed = speed
        self._stalls: list[tuple[float, float]] = []  # (wall time, stall in wall seconds)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin watching (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @staticmethod
    def wall_now() -> float:
        """The wall mark to pass to :meth:`worst_clock_stall_s` later."""
        return time.perf_counter()

    def worst_clock_stall_s(self, since_wall: float) -> float:
        """The longest stall since the mark ``since_wall``, in clock seconds."""
        worst = max((s for t, s in self._stalls if t >= since_wall), default=0.0)
        return worst * self.speed

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(_PERIOD_WALL_S)
            after = time.perf_counter()
            stall = after - before - _PERIOD_WALL_S
            if stall > _PERIOD_WALL_S:
                self._stalls.append((after, stall))
                if len(self._stalls) > 10_000:
                    del self._stalls[:5_000]
