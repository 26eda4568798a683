"""The step kinds of the harness as station (``dut_role: csms`` cases), as plug-ins of
:mod:`harness.runner.stepping`: each handler ``async (step, record, host)`` records through the
case's :class:`~harness.runner.verdicts.CaseRecord` and uses the engine only as a
:class:`StationHost`.

* ``send`` — the station sends a request; the CSMS's answer is matched against ``expect``;
* ``expect_request`` / ``expect_profile`` — the CSMS must send the request (a profile also
  judged by the oracle and the station's declaration; a GetCompositeSchedule by
  :func:`~harness.runner.station_role.judge.judge_composite_request`);
* ``trigger`` — a hook or the operator makes the CSMS act (failed: INCONCLUSIVE, stop);
* ``wait`` — clock time; ``prompt`` — the CSMS role's own (:mod:`harness.runner.steps.prompt`).
* ``ev_schedule`` — the EV's schedule sent as a ``send`` (:func:`.iso15118.ev_schedule_send`);
  ``expect_no_request`` — no unclaimed request of an action (:mod:`.iso15118`).
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from harness.clock import Clock
from harness.runner.endpoint_base import CallOutcome
from harness.runner.operator import Operator
from harness.runner.station_role.endpoint import CsmsRequest, StationEndpoint, Waiter
from harness.runner.station_role.iso15118 import ev_schedule_send, run_expect_no_request
from harness.runner.station_role.judge import judge_composite_request, profile_purpose
from harness.runner.station_role.trigger import hook_environment, make_csms_act
from harness.runner.stepping import StepKinds, StopCase
from harness.runner.steps.prompt import run_prompt
from harness.runner.verdicts import CaseRecord, short_json
from harness.scenario import (
    EvScheduleStep,
    ExpectNoRequestStep,
    ExpectProfileStep,
    ExpectRequestStep,
    PromptStep,
    SendStep,
    Step,
    TriggerStep,
    WaitStep,
    describe,
    match,
    resolve_number,
    substitute,
)

__all__ = [
    "PURPOSES",
    "WIND_DOWN_TIMEOUT_S",
    "StationHost",
    "arm_expect",
    "outcome_text",
    "station_role_kinds",
]

PURPOSES = {
    "station_max": ("ChargePointMaxProfile", "ChargingStationMaxProfile"),
    "tx_default": ("TxDefaultProfile",),
    "tx": ("TxProfile",),
}
"""An ``expect_profile`` purpose → the profile purposes of 1.6 and 2.x it takes."""

WIND_DOWN_TIMEOUT_S = 10.0
"""How long the CSMS has to answer the wind-down's requests when the case has no
``csms_timeout_s`` (clock seconds); also how long a trigger waits for what the station owes."""


class StationHost(Protocol):
    """The station-role case engine as a step kind sees it."""

    @property
    def endpoint(self) -> StationEndpoint:
        """The connection to the CSMS under test."""

    @property
    def clock(self) -> Clock:
        """The run's clock."""

    @property
    def operator(self) -> Operator:
        """Whoever answers prompts and does what a trigger asks without a hook."""

    @property
    def station_id(self) -> str:
        """The identity the harness connects with."""

    @property
    def trigger_quiet_s(self) -> float:
        """How long the CSMS must have been quiet before a trigger (clock seconds)."""

    def judge(
        self, step: Step, *, ok: bool, expected: str, actual: str, frames: tuple[int, ...] = ()
    ) -> None:
        """Record a judged step; raises :class:`~harness.runner.stepping.StopCase` when a
        precondition is not met."""

    def take_armed(self, step: ExpectRequestStep | ExpectProfileStep) -> Waiter | None:
        """The waiter armed for ``step`` before the step that preceded it ran, if any."""

    def profile_judged(self, message_id: str) -> None:
        """A step judged the profile in this request (it is not judged again as unsolicited)."""


def station_role_kinds() -> StepKinds[StationHost]:
    """Step class → handler for the harness as station (a new registry each call)."""
    return StepKinds(
        {
            SendStep: run_send,
            ExpectRequestStep: run_expect,
            ExpectProfileStep: run_expect,
            TriggerStep: run_trigger,
            WaitStep: run_wait,
            PromptStep: run_prompt,
            EvScheduleStep: run_ev_schedule,
            ExpectNoRequestStep: run_expect_no_request,
        },
        role="the harness as station (dut_role: csms); it needs a harness playing the CSMS "
        "(dut_role: station)",
    )


def outcome_text(outcome: CallOutcome) -> str:
    """What the CSMS answered, in a few words."""
    if outcome.failure is not None:
        return outcome.detail
    if outcome.error_code is not None:
        text = f"CALLERROR {outcome.error_code}"
        return text + (f" ({outcome.error_description})" if outcome.error_description else "")
    return short_json(outcome.payload)


# ---------------------------------------------------------------------------- send


async def run_ev_schedule(step: EvScheduleStep, record: CaseRecord, host: StationHost) -> None:
    """Run one ``ev_schedule`` step: the EV's schedule (:func:`.iso15118.ev_schedule_send`)
    sent as a ``send`` step."""
    send = ev_schedule_send(step, variables=record.variables, now=host.clock.now())
    await run_send(send, record, host)


async def run_send(step: SendStep, record: CaseRecord, host: StationHost) -> None:
    """Run one ``send`` step (the station's request, the CSMS's answer judged)."""
    variables = record.variables
    payload = substitute(step.payload, variables=variables, now=host.clock.now())
    timeout_s = resolve_number(step.timeout_s, variables=variables)
    record.note(f"send: {step.action} {short_json(payload, 200)}")
    outcome = await host.endpoint.call(step.action, payload, timeout_s=timeout_s)
    expected = (
        f"{step.action} answered with {describe(step.expect, variables)}"
        if step.expect is not None
        else f"a valid answer to {step.action}"
    )
    if step.expect_call_error is not None:
        expected += f" or CALLERROR one of [{', '.join(map(str, step.expect_call_error))}]"
    actual = outcome_text(outcome)
    if outcome.failure is not None:
        host.judge(step, ok=False, expected=expected, actual=actual, frames=outcome.frames)
        if outcome.failure == "closed":
            raise StopCase
        return
    if outcome.error_code is not None:
        ok = step.expect_call_error is not None and outcome.error_code in {
            str(c) for c in step.expect_call_error
        }
        host.judge(step, ok=ok, expected=expected, actual=actual, frames=outcome.frames)
        return
    answer = outcome.payload or {}
    if step.expect is None and step.expect_call_error is not None:
        host.judge(step, ok=False, expected=expected, actual=actual, frames=outcome.frames)
        return
    if step.expect is not None:
        result = match(step.expect, answer, variables=variables)
        if not result.matched:
            actual += f" — at {result.path}: expected {result.expected}, got {result.actual}"
            host.judge(step, ok=False, expected=expected, actual=actual, frames=outcome.frames)
            return
    missing = record.store(step.store, answer)
    host.judge(
        step,
        ok=missing is None,
        expected=expected,
        actual=missing or actual,
        frames=outcome.frames,
    )


# -------------------------------------------------------------------------- expect


def arm_expect(
    step: ExpectRequestStep | ExpectProfileStep, record: CaseRecord, host: StationHost
) -> Waiter:
    """Claim the next request ``step`` expects (an ``expect_profile``: only one with its
    purpose), answered with its ``respond_with``."""
    action = str(step.action)
    purposes = PURPOSES.get(str(step.purpose)) if isinstance(step, ExpectProfileStep) else None

    def accepts(payload: dict[str, Any]) -> bool:
        return purposes is None or profile_purpose(action, payload) in purposes

    def respond(payload: dict[str, Any]) -> dict[str, Any] | None:
        if step.respond_with is None:
            return None
        built: dict[str, Any] = substitute(
            step.respond_with, variables=record.variables, now=host.clock.now()
        )
        return built

    return host.endpoint.arm(Waiter(action, accepts, respond))


async def run_expect(
    step: ExpectRequestStep | ExpectProfileStep, record: CaseRecord, host: StationHost
) -> None:
    """Run one ``expect_request`` or ``expect_profile`` step."""
    endpoint = host.endpoint
    variables = record.variables
    within_s = resolve_number(step.within_s, variables=variables)
    what = str(step.action)
    if isinstance(step, ExpectProfileStep) and step.purpose is not None:
        names = PURPOSES[str(step.purpose)]
        v16 = str(endpoint.state.version) == "1.6"
        what += f" with a {names[0] if v16 else names[-1]}"
    expected = f"the CSMS sends {what} within {within_s:g} s"
    if step.expect is not None:
        expected += f", matching {describe(step.expect, variables)}"
    if isinstance(step, ExpectProfileStep):
        expected += (
            ", with a profile a conforming station accepts, within the station's declared "
            "maximum and units"
        )
    record.note(f"{step.kind}: {what} within {within_s:g} s")
    waiter = host.take_armed(step) or arm_expect(step, record, host)
    try:
        request = await _wait(host, waiter, within_s)
    finally:
        endpoint.disarm(waiter)
    if request is None:
        gone = endpoint.closed
        others = endpoint.unclaimed(str(step.action))
        actual = (
            f"the CSMS closed the connection before sending {what}"
            if gone
            else f"no {what} within {within_s:g} s"
        )
        if others:
            actual += "; it sent instead: " + ", ".join(
                f"{r.action} {short_json(r.payload, 200)}" for r in others
            )
        frames = tuple(i for r in others for i in r.frames)
        host.judge(step, ok=False, expected=expected, actual=actual, frames=frames)
        if gone:
            raise StopCase
        return
    frames = request.frames
    if isinstance(step, ExpectProfileStep):
        host.profile_judged(request.message_id)
    if request.violation is not None:
        actual = f"{request.action} broke the protocol — {request.violation}"
        host.judge(step, ok=False, expected=expected, actual=actual, frames=frames)
        return
    problems: list[str] = []
    if step.expect is not None:
        result = match(step.expect, request.payload, variables=variables)
        if not result.matched:
            problems.append(f"at {result.path}: expected {result.expected}, got {result.actual}")
    judgement = request.judgement
    if isinstance(step, ExpectProfileStep) and judgement is not None:
        problems.extend(f.describe() for f in judgement.findings)
    if request.action == "GetCompositeSchedule":
        state = endpoint.state
        problems.extend(
            f.describe()
            for f in judge_composite_request(
                request.payload, version=state.version, declaration=state.declaration
            )
        )
    missing = record.store(step.store, request.payload)
    if missing is not None:
        problems.append(missing)
    if step.respond_with is not None and not request.answered_by_step and not problems:
        # The request came before this step was armed and got the station's default
        # answer, not the case's: what follows would not test what the case says.
        record.note(f"step {record.step}: {request.action} was answered by default")
        record.inconclusive(
            step,
            expected=expected,
            reason=f"{request.action} arrived before the step was ready and was answered "
            f"{short_json(request.response, 120)} instead of the case's respond_with",
            frames=frames,
        )
        return
    answer = f"; answered {short_json(request.response, 120)}" if request.response else ""
    actual = f"{request.action} {short_json(request.payload)}{answer}"
    if problems:  # what is wrong first, then the request it is wrong in
        actual = "; ".join(problems) + f" — in {actual}"
    host.judge(step, ok=not problems, expected=expected, actual=actual, frames=frames)


async def _wait(host: StationHost, waiter: Waiter, within_s: float) -> CsmsRequest | None:
    with contextlib.suppress(TimeoutError):
        return await host.clock.wait_for(host.endpoint.request_or_closed(waiter), within_s)
    return None


# ------------------------------------------------------------------- trigger, wait


async def run_trigger(step: TriggerStep, record: CaseRecord, host: StationHost) -> None:
    """Run one ``trigger`` step: what the station owes is sent and the CSMS quiet first."""
    endpoint = host.endpoint
    await endpoint.settle(timeout_s=WIND_DOWN_TIMEOUT_S, quiet_s=host.trigger_quiet_s)
    variables = record.variables
    now = host.clock.now()
    message = str(substitute(step.message, variables=variables, now=now))
    hook = "" if step.hook is None else str(substitute(step.hook, variables=variables, now=now))
    env = hook_environment(
        station_id=host.station_id,
        case_id=record.case.id,
        ocpp_version=str(endpoint.state.version),
        message=message,
        variables=variables,
    )
    outcome = await make_csms_act(
        message=message,
        hook=hook,
        timeout_s=resolve_number(step.timeout_s, variables=variables),
        clock=host.clock,
        operator=host.operator,
        station_id=host.station_id,
        env=env,
    )
    for line in outcome.log:
        record.note(f"step {record.step}: {line}")
    if not outcome.ok:
        expected = f"the CSMS is made to act: {message}"
        record.inconclusive(step, expected=expected, reason=outcome.reason)
        raise StopCase


async def run_wait(step: WaitStep, record: CaseRecord, host: StationHost) -> None:
    """Run one ``wait`` step (clock time)."""
    seconds = resolve_number(step.duration_s, variables=record.variables)
    record.note(f"wait {seconds:g} s")
    await host.clock.sleep(seconds)
