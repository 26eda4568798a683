"""``wait``: ``duration_s`` of clock time (a lab's countdown is told the time left), cut short
— the case stops — when the DUT's connection closes meanwhile: a 6 h pause must not outlive
its station."""

from __future__ import annotations

import asyncio
import contextlib

from harness.runner.progress import countdown_sleep
from harness.runner.step_host import StepHost
from harness.runner.stepping import StopCase
from harness.runner.verdicts import CaseRecord
from harness.scenario import WaitStep, resolve_number

__all__ = ["run_wait"]


async def run_wait(step: WaitStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``wait`` step."""
    seconds = resolve_number(step.duration_s, variables=record.variables)
    record.note(f"wait {seconds:g} s")
    closed = host.endpoint.closed_waiter()
    sleep = asyncio.ensure_future(countdown_sleep(host.clock, seconds, report=host.wait_progress))
    try:
        await asyncio.wait({sleep, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.cancel()
        if not sleep.done():
            sleep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sleep
    if not sleep.done() or sleep.cancelled():
        raise StopCase
    sleep.result()
