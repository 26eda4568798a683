"""Runs one ``dut_role: csms`` case: the harness plays the station, the CSMS is judged.

:class:`StationCaseEngine` walks the steps on a :class:`StationEndpoint`:

* ``send`` — the station sends a request (BootNotification, StartTransaction...); the
  CSMS's answer is matched against ``expect``; an answer to StartTransaction /
  TransactionEvent also starts or ends the station's transaction (see
  :class:`~harness.runner.station_role.state.StationState`);
* ``expect_request`` — the CSMS must send ``action`` within ``within_s``, matching
  ``expect``; ``expect_profile`` — the same for a charging profile, also judged by the oracle
  and the station's declaration (:func:`~harness.runner.station_role.judge.judge_profile`);
* ``trigger`` — a hook command or the operator makes the CSMS act; a failed trigger makes the
  case INCONCLUSIVE (the CSMS was never told);
* ``wait``, ``prompt``, ``repeat`` as for the other role;
* ``ev_schedule`` and ``expect_no_request`` for the ISO 15118 cases
  (:mod:`~harness.runner.station_role.iso15118`).

Before a trigger the station first sends what it owes the CSMS (a NotifyReport after
GetBaseReport...) and waits until the CSMS has been quiet for :data:`TRIGGER_QUIET_S`, so the
CSMS knows the station's device model when it is made to act. At
the end of a case (whatever its verdict) the station **winds down**: it ends every
transaction it started (1.6 StopTransaction, 2.x TransactionEvent Ended, reason Local) and
reports those connectors Available, so the next case finds the CSMS as this one found it.
The wind-down is in the trace and the step log; it is not judged.

Consecutive ``expect_*`` steps after the current step are armed before it runs, so a request
the CSMS sends while a trigger runs is claimed and answered as the case says. Verdicts follow
:mod:`harness.runner.engine`: a failed MUST → FAIL, SHOULD → NON_STRICT, a failed
``precondition`` → INCONCLUSIVE and the case stops, the CSMS closing the connection fails the
step that needed it and stops the case, a harness exception → ERROR.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from harness.clock import Clock
from harness.results import (
    Interruption,
    Level,
    MeasurementSource,
    Requirement,
    Verdict,
)
from harness.runner.endpoint import CallOutcome
from harness.runner.engine import EngineOutcome
from harness.runner.operator import Operator
from harness.runner.station_role.endpoint import (
    CsmsRequest,
    StationEndpoint,
    Waiter,
)
from harness.runner.station_role.iso15118 import ev_schedule_send, run_expect_no_request
from harness.runner.station_role.judge import judge_composite_request, profile_purpose
from harness.runner.station_role.trigger import hook_environment, make_csms_act
from harness.runner.verdicts import CaseRecord
from harness.scenario import (
    Case,
    EvScheduleStep,
    ExpectNoRequestStep,
    ExpectProfileStep,
    ExpectRequestStep,
    PromptResponse,
    PromptStep,
    RepeatStep,
    SendStep,
    Step,
    SubstitutionError,
    TriggerStep,
    WaitStep,
    describe,
    extract,
    match,
    resolve_number,
    substitute,
)

__all__ = ["StationCaseEngine"]

_PURPOSES = {
    "station_max": ("ChargePointMaxProfile", "ChargingStationMaxProfile"),
    "tx_default": ("TxDefaultProfile",),
    "tx": ("TxProfile",),
}


class _Stop(Exception):
    """The case cannot go on; the reason is recorded."""


UNSOLICITED = Requirement(
    "SC-CSMS-01",
    Level.MUST,
    "every charging profile the CSMS sends is valid and respects the station's declared "
    "maximum and units",
)
"""What a profile no ``expect_profile`` step claimed is judged against (the case's own
requirements are about the requests its steps expect)."""


WIND_DOWN_TIMEOUT_S = 10.0
"""How long the CSMS has to answer the wind-down's requests when the case has no
``csms_timeout_s`` (clock seconds)."""


TRIGGER_QUIET_S = 0.5
"""Before a trigger the CSMS must have been quiet this long (clock seconds), so that what it
asks right after a boot (GetBaseReport...) is answered and reported before it is made to act."""


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StationCaseEngine:
    """Executes ``dut_role: csms`` cases on one :class:`StationEndpoint`."""

    def __init__(
        self,
        endpoint: StationEndpoint,
        *,
        clock: Clock,
        operator: Operator,
        station_id: str,
        trigger_quiet_s: float = TRIGGER_QUIET_S,
    ) -> None:
        self.endpoint = endpoint
        self.clock = clock
        self.operator = operator
        self.station_id = station_id
        self.trigger_quiet_s = trigger_quiet_s
        self._case: Case | None = None
        self._variables: dict[str, Any] = {}
        self._record: CaseRecord
        """The running case's checks and step log (set by :meth:`run`)."""
        self._armed: dict[int, Waiter] = {}
        self._judged: set[str] = set()

    async def run(self, case: Case, *, parameters: Mapping[str, Any]) -> EngineOutcome:
        """Run ``case`` with resolved ``parameters``; never raises for the CSMS's faults."""
        self._case = case
        self._variables = dict(parameters)
        self._record = CaseRecord(case, clock=self.clock, variables=self._variables)
        self._armed = {}
        self._judged = set()
        broken_before = len(self.endpoint.frame_violations)
        interruption: Interruption | None = None
        try:
            await self._steps(case.steps)
        except _Stop:
            pass
        except Exception as exc:
            interruption = Interruption.harness_error(exc)
        finally:
            for waiter in self._armed.values():
                self.endpoint.disarm(waiter)
            self._armed.clear()
        try:
            await self._wind_down()
        except Exception as exc:
            interruption = interruption or Interruption.harness_error(exc)
        self._judge_unsolicited()
        self._judge_frames(self.endpoint.frame_violations[broken_before:])
        return EngineOutcome(
            checks=tuple(self._record.checks),
            steps=tuple(self._record.log),
            interruption=interruption,
            series=(),
            measurement_source=MeasurementSource.NONE,
            dut_closed=self.endpoint.closed,
        )

    async def _steps(self, steps: Sequence[Step]) -> None:
        for position, step in enumerate(steps):
            expecting = isinstance(step, ExpectRequestStep | ExpectProfileStep)
            if not expecting and not isinstance(step, RepeatStep):
                self.endpoint.forget()
            if not expecting:
                self._arm_following(steps[position + 1 :])
            await self._step(step)

    def _arm_following(self, later: Sequence[Step]) -> None:
        for step in later:
            if isinstance(step, RepeatStep):
                self._arm_following(step.steps)
                return
            if not isinstance(step, ExpectRequestStep | ExpectProfileStep):
                return
            if id(step) not in self._armed:
                self._armed[id(step)] = self._arm(step)

    def _arm(self, step: ExpectRequestStep | ExpectProfileStep) -> Waiter:
        action = str(step.action)
        purposes = _PURPOSES.get(str(step.purpose)) if isinstance(step, ExpectProfileStep) else None

        def accepts(payload: dict[str, Any]) -> bool:
            return purposes is None or profile_purpose(action, payload) in purposes

        def respond(payload: dict[str, Any]) -> dict[str, Any] | None:
            if step.respond_with is None:
                return None
            built: dict[str, Any] = substitute(
                step.respond_with, variables=self._variables, now=self.clock.now()
            )
            return built

        return self.endpoint.arm(Waiter(action, accepts, respond))

    async def _step(self, step: Step) -> None:
        self._record.step += 1
        try:
            await self._dispatch(step)
        except SubstitutionError as exc:
            failed = [c for c in self._record.checks if c.verdict is Verdict.FAIL]
            if not failed:
                raise  # the case refers to something never stored: a defect of the case
            # A variable an earlier step should have stored is missing because the CSMS
            # failed that step: this step cannot be judged (the failure is already recorded).
            self._note(f"step {self._record.step}: cannot run — {exc}")
            self._inconclusive(
                step,
                expected="a value stored by an earlier step",
                reason=f"{exc} (an earlier step failed: {failed[-1].requirement.id})",
            )
            raise _Stop from None

    async def _dispatch(self, step: Step) -> None:
        match step:
            case SendStep():
                await self._send(step)
            case ExpectRequestStep() | ExpectProfileStep():
                await self._expect(step)
            case TriggerStep():
                await self._trigger(step)
            case EvScheduleStep():
                now = self.clock.now()
                await self._send(ev_schedule_send(step, variables=self._variables, now=now))
            case ExpectNoRequestStep():
                await run_expect_no_request(step, self._record, self)
            case WaitStep():
                seconds = resolve_number(step.duration_s, variables=self._variables)
                self._note(f"wait {seconds:g} s")
                await self.clock.sleep(seconds)
            case PromptStep():
                await self._prompt(step)
            case RepeatStep():
                for binding in step.bindings(variables=self._variables):
                    self._variables.update(binding)
                    self._note(f"repeat {_short(binding) if binding else ''}".strip())
                    await self._steps(step.steps)
            case _:
                raise ValueError(
                    f"step kind {step.kind!r} needs a harness playing the CSMS (dut_role: station)"
                )

    # ------------------------------------------------------------------ verdicts

    def _note(self, text: str) -> None:
        self._record.note(text)

    def _judge(
        self, step: Step, *, ok: bool, expected: str, actual: str, frames: tuple[int, ...] = ()
    ) -> None:
        """Record a judged step (:meth:`CaseRecord.judge`); stops the case when a
        precondition is not met."""
        if self._record.judge(step, ok=ok, expected=expected, actual=actual, frames=frames):
            raise _Stop

    def judge(
        self, step: Step, *, ok: bool, expected: str, actual: str, frames: tuple[int, ...] = ()
    ) -> None:
        """The same, for step handlers of other modules (:mod:`.iso15118`)."""
        self._judge(step, ok=ok, expected=expected, actual=actual, frames=frames)

    def _inconclusive(
        self, step: Step, *, expected: str, reason: str, frames: tuple[int, ...] = ()
    ) -> None:
        self._record.inconclusive(step, expected=expected, reason=reason, frames=frames)

    def _store(self, store: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        for name, path in store.items():
            try:
                self._variables[name] = extract(payload, path)
            except LookupError as exc:
                return f"the payload has no {path} to store as {name} ({exc})"
        return None

    # ---------------------------------------------------------------------- send

    async def _send(self, step: SendStep) -> None:
        payload = substitute(step.payload, variables=self._variables, now=self.clock.now())
        timeout_s = resolve_number(step.timeout_s, variables=self._variables)
        self._note(f"send: {step.action} {_short(payload, 200)}")
        outcome = await self.endpoint.call(step.action, payload, timeout_s=timeout_s)
        expected = (
            f"{step.action} answered with {describe(step.expect, self._variables)}"
            if step.expect is not None
            else f"a valid answer to {step.action}"
        )
        if step.expect_call_error is not None:
            expected += f" or CALLERROR one of [{', '.join(map(str, step.expect_call_error))}]"
        actual = _outcome_text(outcome)
        if outcome.failure is not None:
            self._judge(step, ok=False, expected=expected, actual=actual, frames=outcome.frames)
            if outcome.failure == "closed":
                raise _Stop
            return
        if outcome.error_code is not None:
            ok = step.expect_call_error is not None and outcome.error_code in {
                str(c) for c in step.expect_call_error
            }
            self._judge(step, ok=ok, expected=expected, actual=actual, frames=outcome.frames)
            return
        answer = outcome.payload or {}
        if step.expect is None and step.expect_call_error is not None:
            self._judge(step, ok=False, expected=expected, actual=actual, frames=outcome.frames)
            return
        if step.expect is not None:
            result = match(step.expect, answer, variables=self._variables)
            if not result.matched:
                actual += f" — at {result.path}: expected {result.expected}, got {result.actual}"
                self._judge(step, ok=False, expected=expected, actual=actual, frames=outcome.frames)
                return
        missing = self._store(step.store, answer)
        self._judge(
            step,
            ok=missing is None,
            expected=expected,
            actual=missing or actual,
            frames=outcome.frames,
        )

    # -------------------------------------------------------------------- expect

    async def _expect(self, step: ExpectRequestStep | ExpectProfileStep) -> None:
        within_s = resolve_number(step.within_s, variables=self._variables)
        what = str(step.action)
        if isinstance(step, ExpectProfileStep) and step.purpose is not None:
            names = _PURPOSES[str(step.purpose)]
            v16 = str(self.endpoint.state.version) == "1.6"
            what += f" with a {names[0] if v16 else names[-1]}"
        expected = f"the CSMS sends {what} within {within_s:g} s"
        if step.expect is not None:
            expected += f", matching {describe(step.expect, self._variables)}"
        if isinstance(step, ExpectProfileStep):
            expected += (
                ", with a profile a conforming station accepts, within the station's declared "
                "maximum and units"
            )
        self._note(f"{step.kind}: {what} within {within_s:g} s")
        waiter = self._armed.pop(id(step), None) or self._arm(step)
        try:
            request = await self._wait(waiter, within_s)
        finally:
            self.endpoint.disarm(waiter)
        if request is None:
            gone = self.endpoint.closed
            others = self.endpoint.unclaimed(str(step.action))
            actual = (
                f"the CSMS closed the connection before sending {what}"
                if gone
                else f"no {what} within {within_s:g} s"
            )
            if others:
                actual += "; it sent instead: " + ", ".join(
                    f"{r.action} {_short(r.payload, 200)}" for r in others
                )
            frames = tuple(i for r in others for i in r.frames)
            self._judge(step, ok=False, expected=expected, actual=actual, frames=frames)
            if gone:
                raise _Stop
            return
        frames = request.frames
        if isinstance(step, ExpectProfileStep):
            self._judged.add(request.message_id)
        if request.violation is not None:
            actual = f"{request.action} broke the protocol — {request.violation}"
            self._judge(step, ok=False, expected=expected, actual=actual, frames=frames)
            return
        problems: list[str] = []
        if step.expect is not None:
            result = match(step.expect, request.payload, variables=self._variables)
            if not result.matched:
                problems.append(
                    f"at {result.path}: expected {result.expected}, got {result.actual}"
                )
        judgement = request.judgement
        if isinstance(step, ExpectProfileStep) and judgement is not None:
            problems.extend(f.describe() for f in judgement.findings)
        if request.action == "GetCompositeSchedule":
            state = self.endpoint.state
            problems.extend(
                f.describe()
                for f in judge_composite_request(
                    request.payload, version=state.version, declaration=state.declaration
                )
            )
        missing = self._store(step.store, request.payload)
        if missing is not None:
            problems.append(missing)
        if step.respond_with is not None and not request.answered_by_step and not problems:
            # The request came before this step was armed and got the station's default
            # answer, not the case's: what follows would not test what the case says.
            self._note(f"step {self._record.step}: {request.action} was answered by default")
            self._inconclusive(
                step,
                expected=expected,
                reason=f"{request.action} arrived before the step was ready and was answered "
                f"{_short(request.response, 120)} instead of the case's respond_with",
                frames=frames,
            )
            return
        answer = f"; answered {_short(request.response, 120)}" if request.response else ""
        actual = f"{request.action} {_short(request.payload)}{answer}"
        if problems:  # what is wrong first, then the request it is wrong in
            actual = "; ".join(problems) + f" — in {actual}"
        self._judge(step, ok=not problems, expected=expected, actual=actual, frames=frames)

    def _judge_unsolicited(self) -> None:
        """Every profile the CSMS sent that no expect_profile step judged is judged too: a
        profile that breaks a rule or the declared maximum FAILs :data:`UNSOLICITED`."""
        for request, problems in self.endpoint.faulty_profiles(exclude=self._judged):
            actual = (
                f"{problems} — in {request.action} {_short(request.payload)} (no step expected it)"
            )
            self._note(f"unsolicited profile: {actual}")
            self._record.failed(
                UNSOLICITED,
                expected="every profile the CSMS sends is one a conforming station "
                "accepts, within the station's declared maximum and units",
                actual=actual,
                frames=request.frames,
            )

    async def _wind_down(self) -> None:
        """End what the case started (see the module); noted, not judged."""
        if self.endpoint.closed:
            return
        timeout_s = float(self._variables.get("csms_timeout_s", WIND_DOWN_TIMEOUT_S))
        await self.endpoint.settle(timeout_s=timeout_s)
        closing = self.endpoint.state.closing_messages(self.clock.now(), reason="Local")
        for action, payload in closing:
            outcome = await self.endpoint.call(action, payload, timeout_s=timeout_s)
            self._note(f"wind-down: {action} {_short(payload, 160)} → {_outcome_text(outcome)}")
            if outcome.failure == "closed":
                break
        for failure in self.endpoint.owed_failures:
            self._note(f"a request the station owed the CSMS did not go through: {failure}")

    def _judge_frames(self, seen: Sequence[tuple[str, tuple[int, ...]]]) -> None:
        """The FAIL check for the CSMS's frames that broke OCPP-J outside any request."""
        if not seen:
            return
        shown = "; ".join(what for what, _ in seen[:5])
        more = f"; and {len(seen) - 5} more" if len(seen) > 5 else ""
        self._note(f"{len(seen)} protocol violation(s) of the CSMS: {shown}{more}")
        self._record.failed(
            Requirement("OCPP-J", Level.MUST, "every frame is a well-formed OCPP-J message"),
            expected="every frame the CSMS sends is a well-formed OCPP-J message",
            actual=f"{len(seen)} protocol violation(s): {shown}{more}",
            frames=tuple(sorted({i for _, frames in seen for i in frames})),
        )

    async def _wait(self, waiter: Waiter, within_s: float) -> CsmsRequest | None:
        with contextlib.suppress(TimeoutError):
            return await self.clock.wait_for(self.endpoint.request_or_closed(waiter), within_s)
        return None

    # ------------------------------------------------------------------- trigger

    async def _trigger(self, step: TriggerStep) -> None:
        await self.endpoint.settle(timeout_s=WIND_DOWN_TIMEOUT_S, quiet_s=self.trigger_quiet_s)
        now = self.clock.now()
        message = str(substitute(step.message, variables=self._variables, now=now))
        hook = (
            ""
            if step.hook is None
            else str(substitute(step.hook, variables=self._variables, now=now))
        )
        case = self._case
        assert case is not None
        env = hook_environment(
            station_id=self.station_id,
            case_id=case.id,
            ocpp_version=str(self.endpoint.state.version),
            message=message,
            variables=self._variables,
        )
        outcome = await make_csms_act(
            message=message,
            hook=hook,
            timeout_s=resolve_number(step.timeout_s, variables=self._variables),
            clock=self.clock,
            operator=self.operator,
            station_id=self.station_id,
            env=env,
        )
        for line in outcome.log:
            self._note(f"step {self._record.step}: {line}")
        if not outcome.ok:
            expected = f"the CSMS is made to act: {message}"
            self._inconclusive(step, expected=expected, reason=outcome.reason)
            raise _Stop

    async def _prompt(self, step: PromptStep) -> None:
        message = str(substitute(step.message, variables=self._variables, now=self.clock.now()))
        yes_no = step.response is PromptResponse.YES_NO
        timeout_s = (
            resolve_number(step.timeout_s, variables=self._variables)
            if step.timeout_s is not None
            else None
        )
        self._note(f"prompt: {message}")
        try:
            answer = await self.clock.wait_for(self.operator.ask(message, yes_no=yes_no), timeout_s)
        except TimeoutError:
            self._inconclusive(step, expected=message, reason="no answer from the operator")
            raise _Stop from None
        if answer is None:  # nobody answered (an unattended run): the harness cannot judge
            self._inconclusive(step, expected=message, reason="nobody answered the prompt")
            raise _Stop from None
        if yes_no:
            self._judge(
                step, ok=answer, expected=f"{message}: yes", actual="yes" if answer else "no"
            )


def _outcome_text(outcome: CallOutcome) -> str:
    if outcome.failure is not None:
        return outcome.detail
    if outcome.error_code is not None:
        text = f"CALLERROR {outcome.error_code}"
        return text + (f" ({outcome.error_description})" if outcome.error_description else "")
    return _short(outcome.payload)
