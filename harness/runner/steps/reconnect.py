"""The ``reconnect`` step: the DUT's connection closes and a new one comes (a reboot); the case
goes on on it (see :class:`~harness.scenario.ReconnectStep`).

The engine's :attr:`~harness.runner.step_host.StepHost.reconnect` takes the next connection;
:meth:`~harness.runner.step_host.StepHost.take_connection` carries the case's trace, the
mirror and the lab meter over. A connection that stays open, no new connection or no
BootNotification (when ``boot``) within ``within_s`` FAIL the step and end the case; a run
that cannot take a new connection makes it INCONCLUSIVE.
"""

from __future__ import annotations

import asyncio
import contextlib

from harness.runner.step_host import StepHost
from harness.runner.stepping import StopCase
from harness.runner.verdicts import CaseRecord
from harness.scenario import ReconnectStep, resolve_number

__all__ = ["run_reconnect"]


async def run_reconnect(step: ReconnectStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``reconnect`` step."""
    within_s = resolve_number(step.within_s, variables=record.variables)
    boot = " and sends a BootNotification" if step.boot else ""
    expected = f"the DUT closes its connection and connects again{boot} within {within_s:g} s"
    record.note(f"reconnect: the DUT's connection ends and a new one comes ({within_s:g} s)")
    if host.reconnect is None:
        record.unjudgeable(step, expected=expected, reason="no new connection can be taken")
        raise StopCase
    clock = host.clock
    old = host.endpoint
    deadline = clock.monotonic() + old.patience_s(within_s)
    if not old.closed:
        closed = old.closed_waiter()
        with contextlib.suppress(TimeoutError):
            await clock.wait_for(closed, old.patience_s(within_s))
        closed.cancel()
    if not old.closed:
        actual = f"the connection stayed open for {within_s:g} s"
        host.judge(step, ok=False, expected=expected, actual=actual)
        raise StopCase
    gone = old.closed_text()
    new = await host.reconnect(max(0.0, deadline - clock.monotonic()))
    if new is None:
        actual = f"{gone}; no new connection within {within_s:g} s"
        host.judge(step, ok=False, expected=expected, actual=actual)
        raise StopCase
    host.take_connection(new)
    if step.boot:
        booted = asyncio.ensure_future(new.observations.booted.wait())
        with contextlib.suppress(TimeoutError):
            left = max(0.0, deadline - clock.monotonic())
            await clock.wait_for(asyncio.shield(booted), left)
        booted.cancel()
        if not new.observations.booted.is_set():
            actual = f"{gone}; connected again, but no BootNotification within {within_s:g} s"
            host.judge(step, ok=False, expected=expected, actual=actual)
            raise StopCase
    actual = f"{gone}; connected again" + (" and booted" if step.boot else "")
    host.judge(step, ok=True, expected=expected, actual=actual)
