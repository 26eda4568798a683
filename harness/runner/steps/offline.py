"""The ``offline`` step: the station loses its connection for ``duration_s`` and works offline
(see :class:`~harness.scenario.OfflineStep`); a later ``reconnect`` step takes its next
connection.

In simulation the run's control (an :class:`~harness.runner.operator.OfflineTaker`) takes the
built-in station offline and presents the token; against a real station the operator is asked
to take its network down, present the token and bring the network back. A station that
cannot go offline, or a token that starts no transaction, makes the case INCONCLUSIVE; a
connection that stays open FAILs the step.
"""

from __future__ import annotations

import contextlib

from harness.runner.operator import OfflineTaker
from harness.runner.step_host import StepHost
from harness.runner.stepping import StopCase
from harness.runner.steps.prompt import ask
from harness.runner.verdicts import CaseRecord
from harness.scenario import OfflineStep, resolve_int, resolve_number, substitute

__all__ = ["run_offline"]


async def run_offline(step: OfflineStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``offline`` step."""
    clock = host.clock
    variables = record.variables
    started = clock.monotonic()
    duration_s = resolve_number(step.duration_s, variables=variables)
    close_s = resolve_number(step.close_within_s, variables=variables)
    evse = resolve_int(step.evse, variables=variables)
    id_token = None
    if step.id_token is not None:
        id_token = str(substitute(step.id_token, variables=variables, now=clock.now()))
    expected = f"the station goes offline (its connection closes) for {duration_s:g} s"
    record.note(f"offline: the station loses its connection for {duration_s:g} s")
    sim = host.control if isinstance(host.control, OfflineTaker) else None
    go, token, back = step.lab_prompts(evse=evse, duration_s=duration_s, id_token=id_token)
    if sim is not None:
        ok = await sim.go_offline()
    else:
        ok = bool(await ask(host, go, yes_no=False, timeout_s=None))
        if ok:  # the harness's end: the station's network is down, it cannot close it
            await host.endpoint.close()
    if not ok:
        record.unjudgeable(step, expected=expected, reason="the station cannot go offline")
        raise StopCase
    old = host.endpoint
    if not old.closed:
        closed = old.closed_waiter()
        with contextlib.suppress(TimeoutError):
            await clock.wait_for(closed, old.patience_s(close_s))
        closed.cancel()
    if not old.closed:
        actual = f"the connection stayed open for {close_s:g} s"
        host.judge(step, ok=False, expected=expected, actual=actual)
        raise StopCase
    if id_token is not None:
        record.note(f"offline: idToken {id_token} presented at EVSE {evse}")
        if sim is not None:
            presented = await sim.present_token(evse=evse, id_token=id_token)
        else:
            presented = bool(await ask(host, token, yes_no=False, timeout_s=None))
        if not presented:
            reason = f"no transaction started offline with idToken {id_token}"
            record.unjudgeable(step, expected=expected, reason=reason)
            raise StopCase
    left_s = duration_s - (clock.monotonic() - started)
    if left_s > 0:
        await clock.sleep(left_s)
    if sim is None and not await ask(host, back, yes_no=False, timeout_s=None):
        record.unjudgeable(step, expected=expected, reason=f"not confirmed: {back}")
        raise StopCase
    actual = f"{old.closed_text()}; offline for {duration_s:g} s"
    host.judge(step, ok=True, expected=expected, actual=actual)
