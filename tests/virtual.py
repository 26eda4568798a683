"""Virtual time for tests whose peers all live in the test's event loop (an in-memory pair,
or a CSMS on loopback in the same loop): clock time moves only when every task waits, so
"sleep 15 clock seconds, then read the meter" is exact however loaded the machine is."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, ParamSpec

from harness.clock import LoopClock, run_virtual

P = ParamSpec("P")


class PacedLoopClock(LoopClock):
    """The loop's (virtual) time, reporting a finite ``speed``: code that floors its steps at
    wall time × speed (the simulated station's ``min_wall_step_s``) steps as it would at that
    speed. Counts its sleeps (wakeups)."""

    def __init__(self, *, speed: float, start: datetime | None = None) -> None:
        super().__init__(start=start)
        self._speed = speed
        self.sleeps = 0

    @property
    def speed(self) -> float:
        return self._speed

    async def sleep_until(self, deadline: float) -> None:
        self.sleeps += 1
        await super().sleep_until(deadline)


def on_virtual_time(
    test: Callable[P, Coroutine[Any, Any, None]],
) -> Callable[P, None]:
    """Run an ``async def`` test on a fresh virtual-time loop (``run_virtual``) instead of
    pytest-asyncio's loop; create its clocks inside (``LoopClock``, ``PacedLoopClock``)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        run_virtual(test(*args, **kwargs))

    return run
