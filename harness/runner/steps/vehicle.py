"""The steps a person or the simulation does at the station: ``vehicle`` (plug in, unplug,
wake, set the state of charge, an ISO 15118 vehicle's renegotiation), ``external_limit`` (an
EMS limit at the station) and ``expect_wake_up`` (what woke a sleeping vehicle).

In simulation the :class:`~harness.runner.operator.SimulationControl` does them; in a lab the
operator is asked (an unconfirmed action: INCONCLUSIVE, the case stops); an unattended lab
run (:class:`~harness.runner.operator.VehiclesStayPluggedIn`) leaves the vehicles plugged in
and cannot set an external limit or tell what woke a vehicle; a ``vehicle`` step with
``precondition: true`` (the case needs the cable event itself) makes such a run's case
INCONCLUSIVE.
"""

from __future__ import annotations

from harness.runner.operator import Renegotiator, VehiclesStayPluggedIn, WakeUpRecorder
from harness.runner.step_host import StepHost
from harness.runner.stepping import StopCase
from harness.runner.steps.prompt import ask
from harness.runner.steps.send import record_limits
from harness.runner.verdicts import CaseRecord
from harness.scenario import (
    ExpectWakeUpStep,
    ExternalLimitStep,
    VehicleAction,
    VehicleStep,
    resolve_int,
    resolve_number,
)

__all__ = ["run_external_limit", "run_vehicle", "run_wake_up"]


async def run_vehicle(step: VehicleStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``vehicle`` step."""
    variables = record.variables
    evse = resolve_int(step.evse, variables=variables)
    record.note(f"vehicle {step.action} at EVSE {evse}")
    control = host.control
    if control is None:
        prompt = step.lab_prompt(evse=evse)
        ok = await ask(host, prompt, yes_no=False, timeout_s=None)
        if not ok:
            record.unjudgeable(
                step,
                expected="the operator does it",
                reason=f"the operator did not confirm: {prompt}",
            )
            raise StopCase
        return
    if isinstance(control, VehiclesStayPluggedIn):
        if step.precondition:  # the case needs the cable event itself (TC_010_CS...)
            record.unjudgeable(
                step,
                expected=f"vehicle {step.action} at EVSE {evse}",
                reason="an unattended run keeps the vehicle plugged in; this case needs "
                "the cable plugged in or out at this point",
            )
            raise StopCase
        record.note("unattended run: the vehicle stays plugged in, nothing done")
    if step.action is VehicleAction.RENEGOTIATE:
        await _renegotiate(step, evse, record, host)
    elif step.action is VehicleAction.PLUG_IN:
        await control.plug_in(evse=evse)
    elif step.action is VehicleAction.UNPLUG:
        await control.unplug(evse=evse)
    elif step.action is VehicleAction.WAKE:
        await control.wake(evse=evse)
    else:
        soc = resolve_number(step.soc_percent or 0.0, variables=variables)
        await control.set_soc(evse=evse, soc_percent=soc)


async def _renegotiate(step: VehicleStep, evse: int, record: CaseRecord, host: StepHost) -> None:
    """An ISO 15118 vehicle's renegotiation: the simulated vehicle asks, or the operator
    makes the vehicle (or EV emulator) ask; a vehicle that cannot ends the case INCONCLUSIVE
    (what follows was never exercised)."""
    control = host.control
    if isinstance(control, Renegotiator):
        if await control.renegotiate(evse=evse):
            return
        reason = f"the vehicle at EVSE {evse} cannot renegotiate (no ISO 15118 session)"
    else:
        prompt = step.lab_prompt(evse=evse)
        if await ask(host, prompt, yes_no=False, timeout_s=None):
            return
        reason = f"the operator did not confirm: {prompt}"
    record.unjudgeable(step, expected="the vehicle renegotiates", reason=reason)
    raise StopCase


async def run_wake_up(step: ExpectWakeUpStep, record: CaseRecord, host: StepHost) -> None:
    """``expect_wake_up``: the station's record (simulation) or the operator's answer.
    The Actual starts ``woken by: <what>`` (none, pilot_toggle, state_f, nothing,
    unknown): reports read it (``reports.wakeup``)."""
    evse = resolve_int(step.evse, variables=record.variables)
    expected = "the vehicle resumes by itself (woken by: none)"
    control = host.control
    if isinstance(control, WakeUpRecorder):
        seen = await control.wake_up_record(evse=evse, since=record.started)
        tried = ", ".join(seen.tried) or "nothing"
        if seen.woken_by is None:
            actual = f"woken by: nothing — the station tried {tried}; an unplug is needed"
        elif seen.woken_by == "none":
            actual = "woken by: none — resumed without a wake-up"
        else:
            actual = f"woken by: {seen.woken_by} — the station tried {tried}"
        record.note(f"expect_wake_up at EVSE {evse}: {actual}")
        host.judge(step, ok=seen.woken_by == "none", expected=expected, actual=actual)
        return
    if isinstance(control, VehiclesStayPluggedIn):
        record.unjudgeable(
            step, expected=expected, reason="an unattended run cannot tell what woke it"
        )
        return
    question = step.lab_prompt(evse=evse)
    answer = await ask(host, question, yes_no=True, timeout_s=None)
    if answer is None:
        record.unjudgeable(step, expected=expected, reason=f"no answer to: {question}")
        return
    actual = (
        "woken by: none — the operator saw it resume by itself"
        if answer
        else "woken by: unknown — the operator reports a wake-up or an unplug"
    )
    host.judge(step, ok=answer, expected=expected, actual=actual)


async def run_external_limit(step: ExternalLimitStep, record: CaseRecord, host: StepHost) -> None:
    """Run one ``external_limit`` step (the mirror learns the limit too)."""
    variables = record.variables
    evse = resolve_int(step.evse, variables=variables)
    limit_a = None if step.limit_a is None else resolve_number(step.limit_a, variables=variables)
    record.note(step.lab_prompt(limit_a, evse))
    control = host.control
    if isinstance(control, VehiclesStayPluggedIn):  # unattended: nobody to do it
        record.unjudgeable(
            step,
            expected="an external limit set at the station",
            reason="an unattended run cannot set an external limit (it needs an operator)",
        )
        raise StopCase
    if control is None:
        message = step.lab_prompt(limit_a, evse)
        if not await ask(host, message, yes_no=False, timeout_s=None):
            record.unjudgeable(
                step,
                expected="the operator does it",
                reason=f"the operator did not confirm: {message}",
            )
            raise StopCase
    else:
        await control.set_external_limit(evse=evse, limit_a=limit_a)
    host.mirror.external_limit(evse_id=evse, limit_a=limit_a, at=host.clock.now())
    record_limits(host)
