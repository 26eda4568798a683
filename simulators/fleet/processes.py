"""Fleets on every core of one machine: one worker process per slice of stations.

:class:`ProcessFleet` splits a :class:`~simulators.fleet.engine.FleetPlan` into contiguous
slices (:func:`~simulators.fleet.engine.shard_plan`) and runs each in its own process
(``spawn``: safe whatever threads the parent has), each with its own event loop running
:func:`~simulators.fleet.engine.run_fleet`. The parent only asks for counters and says stop,
over one pipe per worker; it merges the counters (:func:`~simulators.fleet.stats.merge`).
Past one machine, Ray (:mod:`simulators.fleet.ray_fleet`) does the same over a cluster.

Each worker raises its open-file limit (:func:`~simulators.fleet.limits.raise_fd_limit`,
reported by :meth:`ProcessFleet.start`), ignores Ctrl-C (the parent decides when to stop), and
stops by itself when the parent goes away. On stop a worker ends its stations the way
:func:`~simulators.fleet.engine.run_fleet` does (Close frames, every task cancelled) for at
most ``shutdown_wall_s``, sends its final counters and leaves at once: station tasks not ended
by then (``unfinished``) end with the process, whose sockets the kernel closes. Its snapshots
carry the process figures ``rss_kb`` (now), ``base_rss_kb`` (before its stations started),
``peak_rss_kb`` and ``cpu_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import os
import resource
import signal
import time
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from simulators.fleet.engine import FleetPlan, shard_plan
from simulators.fleet.limits import FdLimit
from simulators.fleet.stats import merge

__all__ = ["ProcessFleet", "WorkerStartError"]

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class WorkerStartError(RuntimeError):
    """A worker process did not start (it died, or did not answer in time)."""


class ProcessFleet:
    """A fleet split over ``workers`` processes on this machine.

    Use as ``start()``, then ``snapshot()`` as often as wanted, then ``stop()`` once (also a
    context manager, which stops on exit). Durations are wall seconds.
    """

    def __init__(
        self,
        plan: FleetPlan,
        *,
        workers: int,
        speed: float,
        start: datetime,
        shutdown_wall_s: float = 6.0,
    ) -> None:
        self.parts = shard_plan(plan, shards=workers)
        self._speed = speed
        self._start = start
        self._shutdown_wall_s = shutdown_wall_s
        self._procs: list[Any] = []  # spawn-context Process objects
        self._conns: list[Connection] = []
        self._last: list[dict[str, Any]] = []
        self.fd_limits: list[FdLimit] = []
        """Each worker's open-file limit, as its :func:`raise_fd_limit` reported it."""

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids."""
        return [p.pid for p in self._procs if p.pid is not None]

    def start(self, *, ready_wall_s: float = 120.0) -> None:
        """Start the workers and wait until each has started (its open-file limit raised)."""
        ctx = multiprocessing.get_context("spawn")
        epoch = time.time()
        for part in self.parts:
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_main,
                args=(
                    child_end,
                    dataclasses.asdict(part),
                    self._speed,
                    self._start.isoformat(),
                    epoch,
                    self._shutdown_wall_s,
                ),
                daemon=True,
                name=f"fleet-worker-{part.first_index}",
            )
            proc.start()
            child_end.close()
            self._procs.append(proc)
            self._conns.append(parent_end)
            self._last.append({})
        deadline = time.monotonic() + ready_wall_s
        for proc, conn in zip(self._procs, self._conns, strict=True):
            message = _receive(conn, deadline)
            if message is None or message[0] != "ready":
                self._kill_all()
                raise WorkerStartError(
                    f"fleet worker {proc.name} did not start within {ready_wall_s:g} s "
                    f"(exit code {proc.exitcode})"
                )
            self.fd_limits.append(FdLimit(**message[1]))

    def snapshot(self, *, answer_wall_s: float = 5.0) -> dict[str, Any]:
        """The merged counters now (a worker too busy to answer in ``answer_wall_s`` counts
        with its previous snapshot)."""
        for conn in self._conns:
            _send(conn, "snapshot")
        deadline = time.monotonic() + answer_wall_s
        for i, conn in enumerate(self._conns):
            message = _receive(conn, deadline)
            while message is not None:  # the newest answer (a late one may be queued)
                if message[0] in ("snapshot", "final"):
                    self._last[i] = message[1]
                message = _receive(conn, 0.0)
        return self._merged()

    def stop(self, *, bound_wall_s: float = 10.0) -> dict[str, Any]:
        """Stop every worker; the merged final counters, with ``shutdown_wall_s`` (stop sent
        -> every worker process exited: every station ended), ``final_wall_s`` (-> every
        worker reported its final counters), ``unfinished`` (station tasks that had not ended
        at a worker's ``shutdown_wall_s`` and ended with its process, plus the stations of a
        killed worker) and ``killed`` (workers still running at ``bound_wall_s``, killed)."""
        t0 = time.monotonic()
        for conn in self._conns:
            _send(conn, "stop")
        deadline = t0 + bound_wall_s
        reported = [False] * len(self._conns)
        for i, conn in enumerate(self._conns):
            while not reported[i]:
                message = _receive(conn, deadline)
                if message is None:
                    break
                if message[0] == "final":
                    self._last[i] = message[1]
                    reported[i] = True
        final_s = time.monotonic() - t0
        for proc in self._procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        killed = [proc.is_alive() for proc in self._procs]
        self._kill_all()
        shutdown_s = time.monotonic() - t0
        final = self._merged()
        final["unfinished"] = final.get("unfinished", 0) + sum(
            part.stations
            for part, ok, dead in zip(self.parts, reported, killed, strict=True)
            if dead or not ok
        )
        final["killed"] = sum(killed)
        final["final_wall_s"] = round(final_s, 3)
        final["shutdown_wall_s"] = round(shutdown_s, 3)
        return final

    def _merged(self) -> dict[str, Any]:
        merged = merge([snap for snap in self._last if snap])
        merged["stations"] = sum(p.stations for p in self.parts)
        merged["workers"] = len(self.parts)
        return merged

    def _kill_all(self) -> None:
        for proc in self._procs:
            if proc.is_alive():
                proc.kill()
            proc.join(5)
        for conn in self._conns:
            conn.close()
        self._conns = [c for c in self._conns if not c.closed]

    def __enter__(self) -> ProcessFleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if any(p.is_alive() for p in self._procs):
            self.stop()


def _send(conn: Connection, message: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # the worker is gone; its last snapshot stands
        conn.send(message)


def _receive(conn: Connection, deadline: float) -> tuple[str, dict[str, Any]] | None:
    try:
        if not conn.poll(max(0.0, deadline - time.monotonic())):
            return None
        message: tuple[str, dict[str, Any]] = conn.recv()
    except (EOFError, OSError):
        return None
    return message


def _rss_kb() -> int:
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE_KB


def _process_figures(base_rss_kb: int) -> dict[str, Any]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "rss_kb": _rss_kb(),
        "base_rss_kb": base_rss_kb,
        "peak_rss_kb": usage.ru_maxrss,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def _worker_main(
    conn: Connection,
    plan_fields: dict[str, Any],
    speed: float,
    start_iso: str,
    epoch: float,
    shutdown_wall_s: float,
) -> None:
    """Body of a worker process (see the module)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from simulators.fleet.limits import raise_fd_limit

    limit = raise_fd_limit()
    conn.send(("ready", {"before": limit.before, "soft": limit.soft, "hard": limit.hard}))
    for key in ("hosts", "listeners"):
        plan_fields[key] = tuple(plan_fields[key])
    plan = FleetPlan(**plan_fields)
    # The parent's start time, moved on by the wall time this worker took to start, so all
    # workers share one time of day.
    start = datetime.fromisoformat(start_iso) + timedelta(seconds=(time.time() - epoch) * speed)
    asyncio.run(_worker(conn, plan, speed, start, shutdown_wall_s))


async def _worker(
    conn: Connection, plan: FleetPlan, speed: float, start: datetime, shutdown_wall_s: float
) -> None:
    from harness.clock import ScaledClock
    from simulators.fleet.engine import FleetStats, run_fleet

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    stats = FleetStats()
    base_rss_kb = _rss_kb()

    def readable() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            loop.remove_reader(conn.fileno())
            stop.set()
            return
        if message == "snapshot":
            conn.send(("snapshot", {**stats.snapshot(), **_process_figures(base_rss_kb)}))
        elif message == "stop":
            stop.set()

    loop.add_reader(conn.fileno(), readable)
    clock = ScaledClock(speed=speed, start=start)
    t0 = time.monotonic()
    unfinished = 0
    try:
        unfinished = await run_fleet(
            plan, clock=clock, stats=stats, stop=stop, shutdown_wall_s=shutdown_wall_s
        )
    finally:
        loop.remove_reader(conn.fileno())
        final = {**stats.snapshot(), **_process_figures(base_rss_kb)}
        final["unfinished"] = unfinished
        final["run_wall_s"] = time.monotonic() - t0
        conn.send(("final", final))
        conn.close()
        # Leave at once, from inside the loop: asyncio.run would otherwise wait, unbounded,
        # for every task left, and tearing down tens of thousands of connection objects
        # one by one would only delay the parent's join. The kernel closes the sockets.
        os._exit(0)
