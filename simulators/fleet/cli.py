"""``ocpp-harness simulate --fleet`` and ``--ray ADDRESS``: a compact fleet, live summary.

Every ``summary_every_wall_s`` a line of the last interval (see
:class:`~simulators.fleet.stats.IntervalReporter`): msgs/s, answered calls/s against the
*offered* load (what the plan asks of the CSMS: a Heartbeat per station every ``heartbeat_s``
and MeterValues per charging station every ``meter_s``, in clock seconds, times the speed),
errors and their rate, p50/p99. At the end: the totals, the errors by kind, and the exit
status (:mod:`harness.exitcodes`): FAILED (1) when the error rate (errors per CALL) is above
``max_error_rate``, when the CSMS accepted none of the starts it was asked for, or when a
station never booted; OK (0) otherwise.

Locally the fleet runs on every core (:mod:`simulators.fleet.processes`): ``workers=None``
picks the count (:func:`~simulators.fleet.limits.plan_workers`: in this process up to 1 000
stations, else one per core and more where the open-file limit asks for it). The open-file
limit, and a warning where more stations share one CSMS address than there are loopback
ports, are printed before the run; the shutdown time after it.
"""

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
from harness.exitcodes import ExitCode
from simulators.fleet.engine import FleetPlan, FleetStats, run_fleet
from simulators.fleet.limits import cores, ephemeral_ports, plan_workers, raise_fd_limit
from simulators.fleet.processes import ProcessFleet
from simulators.fleet.stats import IntervalReporter, error_rate, errors_line, summary_line

__all__ = [
    "DEFAULT_MAX_ERROR_RATE",
    "fleet_verdict",
    "offered_per_s",
    "port_warning",
    "run_fleet_command",
]

DEFAULT_MAX_ERROR_RATE = 0.01
"""Errors per CALL above which a fleet run fails (``--max-error-rate``)."""


def offered_per_s(plan: FleetPlan, *, speed: float, charging: int) -> float:
    """Calls per wall second the plan asks of the CSMS with ``charging`` stations charging."""
    return speed * (plan.stations / plan.heartbeat_s + charging / plan.meter_s)


def fleet_verdict(
    final: dict[str, Any], *, stations: int, max_error_rate: float
) -> tuple[ExitCode, list[str]]:
    """The exit status of a fleet run and why it is not OK."""
    reasons = []
    rate = error_rate(final)
    if rate > max_error_rate:
        reasons.append(
            f"error rate {rate:.1%} ({final['errors']} of {final['calls']} calls) is above "
            f"--max-error-rate {max_error_rate:.1%}"
        )
    if final["starts"] and not final["transactions"]:
        reasons.append(f"the CSMS accepted none of {final['starts']} StartTransaction")
    if final["booted"] < stations:
        reasons.append(f"{stations - final['booted']} of {stations} stations never booted")
    return (ExitCode.FAILED if reasons else ExitCode.OK), reasons


def run_fleet_command(
    plan: FleetPlan,
    *,
    speed: float,
    duration_s: float | None,
    ray_address: str | None,
    ray_actors: int,
    summary_every_wall_s: float = 2.0,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
    workers: int | None = None,
    emit: Callable[[str], None] | None = None,
) -> int:
    """Run ``plan`` locally or on Ray until ``duration_s`` clock seconds (or Ctrl-C).

    Prints a live line per ``summary_every_wall_s`` interval, then the totals and the errors
    by kind; the exit status is :func:`fleet_verdict`'s (see the module).
    """
    out = emit or (lambda line: print(line, file=sys.stderr, flush=True))
    start = datetime.now(UTC)
    wall_s = float("inf") if duration_s is None else duration_s / speed
    t0 = time.monotonic()
    reporter = IntervalReporter()

    def summary(snap: dict[str, Any]) -> None:
        offered = offered_per_s(plan, speed=speed, charging=snap["charging"])
        out(reporter.line(snap, wall_s=time.monotonic() - t0, offered_per_s=offered))

    if ray_address is not None:
        from simulators.fleet.ray_fleet import run_on_ray

        final = run_on_ray(
            plan,
            address=ray_address,
            actors=ray_actors,
            speed=speed,
            start=start,
            duration_wall_s=wall_s,
            on_summary=summary,
            summary_every_wall_s=summary_every_wall_s,
        )
    else:
        limit = raise_fd_limit()
        count = workers or plan_workers(plan.stations, cores=cores(), fd_soft=limit.soft)
        out(f"{limit.describe()}; {count} worker process{'es' if count > 1 else ''}")
        warning = port_warning(plan)
        if warning:
            out(warning)
        if count > 1:
            final = _processes(plan, count, speed, start, wall_s, summary_every_wall_s, summary)
        else:
            final = asyncio.run(_local(plan, speed, start, wall_s, summary_every_wall_s, summary))
        late = final.get("unfinished", 0)
        ended = f"{late} station tasks had not ended in time" if late else "every station ended"
        out(f"shutdown {final['shutdown_wall_s']:.1f}s: {ended}")
    out("final: " + summary_line(final, wall_s=time.monotonic() - t0))
    out(errors_line(final))
    code, reasons = fleet_verdict(final, stations=plan.stations, max_error_rate=max_error_rate)
    for reason in reasons:
        out(f"FAILED: {reason}")
    return int(code)


def port_warning(plan: FleetPlan, *, ports: int | None = None) -> str | None:
    """A warning when more stations share one CSMS address than one source address has
    ``ports`` for (default: :func:`ephemeral_ports`; the rest would fail with
    EADDRNOTAVAIL), or None."""
    addresses = (1 + len(plan.listeners)) * max(1, len(plan.hosts))
    per_address = -(-plan.stations // addresses)
    ports = ephemeral_ports() if ports is None else ports
    if per_address <= ports:
        return None
    return (
        f"warning: {per_address} stations per CSMS address, more than the {ports} ports one "
        f"loopback address has; give several --csms URLs (several listeners)"
    )


def _processes(
    plan: FleetPlan,
    workers: int,
    speed: float,
    start: datetime,
    wall_s: float,
    every_s: float,
    summary: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    fleet = ProcessFleet(plan, workers=workers, speed=speed, start=start)
    fleet.start()
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < wall_s:
            time.sleep(max(0.0, min(every_s, wall_s - (time.monotonic() - t0))))
            summary(fleet.snapshot())
    except KeyboardInterrupt:
        pass
    return fleet.stop()


async def _local(
    plan: FleetPlan,
    speed: float,
    start: datetime,
    wall_s: float,
    every_s: float,
    summary: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
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
        summary(stats.snapshot())
    stop.set()
    t_stop = loop.time()
    unfinished = await task
    final = stats.snapshot()
    final["unfinished"] = unfinished
    final["shutdown_wall_s"] = loop.time() - t_stop
    return final
