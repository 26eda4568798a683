"""``ocpp-harness simulate --fleet`` and ``--ray ADDRESS``: a compact fleet, live summary."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from harness.clock import ScaledClock
from simulators.fleet.csms import raise_fd_limit
from simulators.fleet.engine import FleetPlan, FleetStats, run_fleet
from simulators.fleet.stats import summary_line

__all__ = ["run_fleet_command"]


def run_fleet_command(
    plan: FleetPlan,
    *,
    speed: float,
    duration_s: float | None,
    ray_address: str | None,
    ray_actors: int,
    summary_every_wall_s: float = 2.0,
    emit: Callable[[str], None] | None = None,
) -> int:
    """Run ``plan`` locally or on Ray until ``duration_s`` clock seconds (or Ctrl-C).

    Prints a live summary line every ``summary_every_wall_s``. Returns 0 when every station
    booted at least once, 1 otherwise.
    """
    out = emit or (lambda line: print(line, file=sys.stderr, flush=True))
    start = datetime.now(UTC)
    wall_s = float("inf") if duration_s is None else duration_s / speed
    t0 = time.monotonic()
    if ray_address is not None:
        from simulators.fleet.ray_fleet import run_on_ray

        final = run_on_ray(
            plan,
            address=ray_address,
            actors=ray_actors,
            speed=speed,
            start=start,
            duration_wall_s=wall_s,
            on_summary=lambda s: out(summary_line(s, wall_s=time.monotonic() - t0)),
            summary_every_wall_s=summary_every_wall_s,
        )
    else:
        final = asyncio.run(_local(plan, speed, start, wall_s, summary_every_wall_s, out))
    out("final: " + summary_line(final, wall_s=time.monotonic() - t0))
    return 0 if final["booted"] == plan.stations else 1


async def _local(
    plan: FleetPlan,
    speed: float,
    start: datetime,
    wall_s: float,
    every_s: float,
    out: Callable[[str], None],
) -> dict[str, Any]:
    raise_fd_limit()
    clock = ScaledClock(speed=speed, start=start)
    stats = FleetStats()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
    t0 = loop.time()
    task = asyncio.create_task(run_fleet(plan, clock=clock, stats=stats, stop=stop))
    while not stop.is_set() and loop.time() - t0 < wall_s:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), min(every_s, max(0.0, wall_s - (loop.time() - t0))))
        out(summary_line(stats.snapshot(), wall_s=loop.time() - t0))
    stop.set()
    await task
    return stats.snapshot()
