"""Running a fleet on simulated stations: one vehicle model after another, or in parallel.

A ``--target sim`` run plays every case with every vehicle model of the fleet (and every OCPP
version asked for), each vehicle on its own simulated station. Vehicles are independent, so
:func:`run_fleet` shares them among ``jobs`` worker processes (forked, so nothing is imported
twice); every worker pulls the next vehicle from a queue (the jobs with the most cases first,
so that the last ones are short and neither worker idles long while the other finishes a
long one), runs its cases on its own event loop
— virtual time (:func:`~harness.clock.run_virtual`) unless a speed is given — and appends
each result to the run folder itself (``results.jsonl`` is opened ``O_APPEND`` and every line
is one ``write``, so the lines of several writers never interleave; see
``harness/results/FORMAT.md``). The parent only prints progress, from the results the
workers send back.

A worker that dies (killed, out of memory) loses only the case it was running: the parent
writes an ERROR result, naming the worker's exit, for every case of that vehicle that did not
come back, and the other workers go on.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from typing import Any

from harness.clock import Clock, LoopClock, ScaledClock, run_virtual
from harness.results import (
    CaseResult,
    Interruption,
    Manifest,
    RunStore,
    RunWriter,
    Verdict,
)
from harness.runner.operator import AutoOperator
from harness.runner.run import PlannedCase, case_info, run_cases
from harness.runner.targets import SimProvider
from harness.scenario import Capabilities
from harness.transport import OcppSubprotocol

__all__ = ["FleetJob", "default_jobs", "run_fleet"]

ProviderFactory = Callable[[Clock], SimProvider]
"""Builds the provider of one fleet vehicle (one station instance) on the given clock."""


@dataclass(frozen=True, slots=True)
class FleetJob:
    """Cases to run on one simulated station with one vehicle model: the station's provider
    factory, its label for messages, and the cases (with their parameters). ``capabilities``:
    this station's declaration when it is not the run's (the DC station of a DC vehicle)."""

    label: str
    make_provider: ProviderFactory
    ocpp_version: OcppSubprotocol
    planned: Sequence[PlannedCase]
    capabilities: Capabilities | None = None


def default_jobs(jobs: int | None, count: int) -> int:
    """How many worker processes to use: ``jobs`` if given, else the CPUs this process may
    use; never more than there are fleet jobs, never fewer than one."""
    if jobs is None:
        try:
            jobs = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            jobs = os.cpu_count() or 1
    return max(1, min(jobs, count))


def _clock(speed: float | None, start: datetime) -> Clock:
    """A fleet job's clock: virtual time (``speed`` None) from ``start``'s whole second, so
    what happens at one virtual instant comes in the same order in every run (the start's
    microseconds used to decide, through the microsecond rounding of instants, which of two
    events at the same second came first); else the wall clock scaled, from ``start``."""
    if speed is None:
        return LoopClock(start=start.replace(microsecond=0))
    return ScaledClock(speed=speed, start=start)


async def _run_job(
    job: FleetJob,
    *,
    writer: RunWriter,
    capabilities: Capabilities,
    speed: float | None,
    on_result: Callable[[CaseResult], None],
) -> None:
    clock = _clock(speed, datetime.now(UTC))
    await run_cases(
        job.planned,
        provider=job.make_provider(clock),
        writer=writer,
        clock=clock,
        operator=AutoOperator(),
        capabilities=job.capabilities or capabilities,
        on_result=on_result,
    )


def _run_in_loop(speed: float | None, main: Any) -> None:
    if speed is None:
        run_virtual(main)
    else:
        asyncio.run(main)


def run_fleet(
    jobs_list: Sequence[FleetJob],
    *,
    writer: RunWriter,
    manifest: Manifest,
    capabilities: Capabilities,
    speed: float | None,
    jobs: int,
    on_result: Callable[[CaseResult], None],
) -> list[CaseResult]:
    """Run every fleet job's cases, ``jobs`` processes at a time; return every result.

    ``writer`` is the run's writer (created by the caller); results are written as they are
    judged, by whichever process judged them. ``on_result`` is called in this process, in
    the order results arrive. With ``jobs == 1`` everything runs in this process.
    """
    results: list[CaseResult] = []

    def collect(result: CaseResult) -> None:
        results.append(result)
        on_result(result)

    if jobs <= 1:
        for job in jobs_list:
            _run_in_loop(
                speed,
                _run_job(
                    job,
                    writer=writer,
                    capabilities=capabilities,
                    speed=speed,
                    on_result=collect,
                ),
            )
        return results
    _Parallel(jobs_list, writer, manifest, capabilities, speed, jobs, on_result).run()
    # The run folder is the authority: a result a worker wrote just before it died may never
    # have reached this process as an event.
    return list(RunStore.open(writer.run_dir).results(with_series=False))


class _Parallel:
    """The parent's side of a parallel fleet run."""

    def __init__(
        self,
        jobs_list: Sequence[FleetJob],
        writer: RunWriter,
        manifest: Manifest,
        capabilities: Capabilities,
        speed: float | None,
        jobs: int,
        on_result: Callable[[CaseResult], None],
    ) -> None:
        self.jobs_list, self.writer = jobs_list, writer
        self.manifest, self.capabilities, self.speed = manifest, capabilities, speed
        self.jobs, self.on_result = jobs, on_result
        ctx = multiprocessing.get_context("fork")
        self.ctx = ctx
        self.tasks: multiprocessing.Queue[int | None] = ctx.Queue()
        self.events: multiprocessing.Queue[dict[str, Any]] = ctx.Queue()
        # Which job each worker is inside (-1: none), written before it starts one and after
        # it finished: shared memory, so it is current even when a worker dies abruptly.
        self.current = ctx.Array("i", [-1] * jobs, lock=False)

    def run(self) -> None:
        for index in longest_first(self.jobs_list):
            self.tasks.put(index)
        for _ in range(self.jobs):
            self.tasks.put(None)
        # Nothing buffered in this process may be written a second time by a forked child.
        sys.stdout.flush()
        sys.stderr.flush()
        workers: dict[int, BaseProcess] = {}
        for number in range(self.jobs):
            process = self.ctx.Process(
                target=_worker,
                args=(number, self, os.getpid()),
                name=f"ocpp-harness-fleet-{number}",
                daemon=True,
            )
            process.start()
            workers[number] = process
        try:
            self._watch(workers)
        except BaseException:
            for worker in workers.values():
                worker.terminate()
            for worker in workers.values():
                worker.join(5)
            raise

    def _watch(self, workers: dict[int, BaseProcess]) -> None:
        alive = dict(workers)
        while alive:
            try:
                self._show(self.events.get(timeout=0.2))
                continue
            except queue.Empty:
                pass
            for number, process in list(alive.items()):
                if not process.is_alive():
                    process.join()
                    del alive[number]
                    self._drain()
                    self._lost(number, process.exitcode)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                self._show(self.events.get(timeout=0.05))
            except queue.Empty:
                return

    def _show(self, event: dict[str, Any]) -> None:
        self.on_result(CaseResult.from_dict(event))

    def _lost(self, number: int, exitcode: int | None) -> None:
        """Worker ``number`` ended; if it was inside a job, the cases of that job that are
        not in the run folder become ERRORs naming the worker's exit."""
        index = self.current[number]
        if index < 0:
            return
        self.current[number] = -1
        job = self.jobs_list[index]
        provider = job.make_provider(ScaledClock())
        written = {r.key for r in RunStore.open(self.writer.run_dir).index()}
        now = datetime.now(UTC)
        reason = (
            f"the worker process running {job.label} ended (exit code {exitcode}) before "
            "this case was judged; the other results are kept"
        )
        for item in job.planned:
            version = job.ocpp_version.version.value
            info = case_info(item, provider, (), version)
            if info.key in written:
                continue
            result = CaseResult(
                info, now, now, 0.0, interruption=Interruption(Verdict.ERROR, reason, None)
            )
            self.writer.write_result(result)
            self.on_result(result)


def longest_first(jobs_list: Sequence[FleetJob]) -> list[int]:
    """Indices of ``jobs_list``, the jobs with the most cases first (in their order among
    equals): taken from a queue by the workers, the last ones are the shortest, so the run
    does not end with one worker idle while another plays a long vehicle programme."""
    return sorted(range(len(jobs_list)), key=lambda i: -len(jobs_list[i].planned))


def _exit_with_parent(parent_pid: int) -> None:
    """End this worker as soon as the parent is gone (killed: nobody would read the results,
    and an orphan would keep a CPU busy for nothing). What it judged is already stored."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker(number: int, parent: _Parallel, parent_pid: int) -> None:
    """A forked worker: run jobs from the queue until the sentinel."""
    _exit_with_parent(parent_pid)
    writer = RunStore.attach(parent.writer.run_dir, parent.manifest)
    events = parent.events
    try:
        while True:
            index = parent.tasks.get()
            if index is None:
                break
            parent.current[number] = index
            _run_in_loop(
                parent.speed,
                _run_job(
                    parent.jobs_list[index],
                    writer=writer,
                    capabilities=parent.capabilities,
                    speed=parent.speed,
                    on_result=lambda result: events.put(result.to_dict()),
                ),
            )
            parent.current[number] = -1
    finally:
        writer.close()
        events.close()
        events.join_thread()  # every event reaches the parent before the exit shows
