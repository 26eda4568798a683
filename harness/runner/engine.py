"""Runs one :class:`~harness.scenario.Case` against a DUT, with the harness as CSMS.

:class:`CaseEngine` walks the steps on the run's clock and turns every judged step into a
:class:`~harness.results.CheckResult` (requirement, expected, actual, frames):

* a step that fails its MUST gives FAIL, its SHOULD NON_STRICT;
* a failing ``precondition: true`` step gives INCONCLUSIVE and ends the case (what the case
  checks was never exercised) — except a "not supported" answer (CALLERROR NotImplemented /
  NotSupported, 1.6 status NotSupported) to a request the capability declaration promises:
  that is FAIL at MUST, citing the declaration field (:mod:`harness.runner.declared`);
* the DUT closing the connection or not answering fails the step that needed it (or makes a
  precondition INCONCLUSIVE), and ends the case — never ERROR;
* an exception in harness code ends the case with ERROR (the checks so far are kept);
* a step that fails because the *harness* closed the connection under one of its limits
  (message size, message rate) or because the station opened a new connection under the same
  id is INCONCLUSIVE, naming the limit — the limit is the harness's, not an OCPP requirement;
* the connection closing during the case (by either side) without a failed step to show it
  makes the case INCONCLUSIVE, naming how it closed;
* protocol violations of the DUT that no step saw (a frame that is not JSON, not an OCPP-J
  array, a response to an id never sent, a CALL of an unknown action, a binary frame...) add
  one FAIL check, requirement ``OCPP-J``, listing them with their frames; a late answer to a
  CALL that already timed out is only noted (its step failed for the timeout).

A step without ``requirement`` is judged against the case's first requirement (or, if the
case lists none, the case id), at the step's level.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from harness.clock import Clock
from harness.results import (
    CheckResult,
    Interruption,
    Level,
    MeasurementSource,
    Requirement,
    Series,
    StepRecord,
)
from harness.runner.declared import declared_unsupported
from harness.runner.endpoint import CallOutcome, CsmsEndpoint, Received, Waiter
from harness.runner.fuzz_step import run_fuzz
from harness.runner.meter_values_step import run_meter_values
from harness.runner.mirror import MirrorStore
from harness.runner.operator import (
    OfflineTaker,
    Operator,
    Renegotiator,
    SimulationControl,
    VehiclesStayPluggedIn,
    WakeUpRecorder,
)
from harness.runner.progress import WaitProgress, countdown_sleep
from harness.runner.settled_step import run_settled
from harness.runner.stall import StallMonitor
from harness.runner.verdicts import CaseRecord
from harness.scenario import (
    Capabilities,
    Case,
    ClearProfileStep,
    CompareCompositeStep,
    ExpectMeterValuesStep,
    ExpectRequestStep,
    ExpectSettledStep,
    ExpectWakeUpStep,
    ExternalLimitStep,
    FuzzStep,
    OcppVersion,
    OfflineStep,
    PromptResponse,
    PromptStep,
    ReconnectStep,
    RepeatStep,
    SendStep,
    SetProfileStep,
    Step,
    VehicleAction,
    VehicleStep,
    WaitStep,
    describe,
    extract,
    match,
    resolve_int,
    resolve_number,
    substitute,
)
from harness.scenario.model import OUR_SOURCE
from harness.security.redaction import redact
from harness.smartcharging import (
    ONE_DIGIT_RULE,
    compare_composite,
    limit_digit_problems,
    parse_composite_response,
)
from harness.smartcharging import OcppVersion as OracleVersion
from harness.smartcharging.judge import schedule_text

if TYPE_CHECKING:
    from harness.runner.labmeter import LabMeter

__all__ = ["CaseEngine", "EngineOutcome", "Reconnect", "StepObserver"]

StepObserver = Callable[[str, int, Step, Mapping[str, Any]], None]
"""``(case id, step number, step, variables)`` as each step starts (numbered from 1 in the
order run, repeats counted); must not raise or block."""
Reconnect = Callable[[float], Awaitable[CsmsEndpoint | None]]
"""Takes the DUT's next connection within the clock seconds given (see
:attr:`CaseEngine.reconnect`)."""

DEFAULT_TIME_TOLERANCE_S = 1.0
"""The max time deviation of composite checks when a case gives no ``max_time_deviation``
parameter (the OCA documents' <Configured max time deviation>); never below 1 s, the
resolution of startPeriod and duration."""
TIME_DEVIATION_PARAMETER = "max_time_deviation"
"""How far a composite schedule's start and period starts may be off (clock seconds)."""


@dataclass(frozen=True, slots=True)
class EngineOutcome:
    """Everything one case run produced (the run turns it into a CaseResult)."""

    checks: tuple[CheckResult, ...]
    steps: tuple[StepRecord, ...]
    interruption: Interruption | None
    series: tuple[Series, ...]
    measurement_source: MeasurementSource
    dut_closed: bool


class _Stop(Exception):
    """The case cannot go on (DUT gone, precondition failed); the reason is already recorded."""


def plain_json(value: Any) -> Any:
    """``value`` with :class:`~decimal.Decimal` numbers (the session's exact decoding) as
    ``int``/``float``, the form the oracle's schema validators take."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    return value


def _short(value: Any, limit: int = 300) -> str:
    # Step notes and check texts land in results.jsonl and the reports: passwords in a
    # payload (AuthorizationKey, BasicAuthPassword, credential fields) are hidden there too.
    text = json.dumps(redact(value), separators=(",", ":"), default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CaseEngine:
    """Executes cases on one :class:`CsmsEndpoint`; one :meth:`run` at a time."""

    def __init__(
        self,
        endpoint: CsmsEndpoint,
        *,
        clock: Clock,
        operator: Operator,
        control: SimulationControl | None,
        capabilities: Capabilities | None = None,
        time_tolerance_s: float = DEFAULT_TIME_TOLERANCE_S,
        stall_monitor: StallMonitor | None = None,
        lab_meter: LabMeter | None = None,
        wait_progress: WaitProgress | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.lab_meter = lab_meter
        """Judges ``expect_settled`` on current and power when set (see
        :mod:`harness.runner.labmeter`); its readings go to this connection's log."""
        if lab_meter is not None:
            lab_meter.attach(endpoint.observations)
        self.wait_progress = wait_progress
        """Told the time left during ``wait`` steps (a lab's countdown); see
        :mod:`harness.runner.progress`."""
        self.reconnect: Reconnect | None = None
        """Takes the DUT's next connection (``reconnect`` steps): given the clock seconds
        it may wait, a new, not yet started endpoint, or ``None`` when none came. Set by
        the run; without it a ``reconnect`` step cannot be run."""
        self.on_step: StepObserver | None = None
        """Told of each step as it starts (a live view shows the step running)."""
        self.stall_monitor = stall_monitor
        """Set on an accelerated clock: timing failures a machine stall explains are
        INCONCLUSIVE (see :mod:`harness.runner.stall`)."""
        self.clock = clock
        self.operator = operator
        self.control = control
        self.capabilities = capabilities
        self.time_tolerance_s = time_tolerance_s
        evses = capabilities.number_of_evses if capabilities is not None else 1
        phases = capabilities.supply_phases if capabilities is not None else 3
        self.mirror = MirrorStore(
            str(endpoint.version),
            endpoint.observations,
            evse_ids=tuple(range(1, evses + 1)),
            supply_phases=phases,
        )
        endpoint.on_transaction_ended = self.mirror.transaction_ended
        # per-run state
        self._case: Case | None = None
        self._case_started = clock.now()
        self._version = OcppVersion(str(endpoint.version))
        self._variables: dict[str, Any] = {}
        self._record: CaseRecord
        """The running case's checks and step log (set by :meth:`run`)."""
        self._armed: dict[int, Waiter] = {}
        self._sources: set[MeasurementSource] = set()

    # ------------------------------------------------------------------ running

    async def run(
        self, case: Case, *, parameters: Mapping[str, Any], notes: Sequence[str] = ()
    ) -> EngineOutcome:
        """Run ``case`` with resolved ``parameters``; never raises for the DUT's faults.

        ``notes`` open the step log (e.g. which parameters came from the vehicle's facts)."""
        self._case = case
        self._case_started = self.clock.now()
        self._variables = dict(parameters)
        self._record = CaseRecord(case, clock=self.clock, variables=self._variables, notes=notes)
        self._armed = {}
        self._sources = set()
        self.endpoint.observations.clear_case()
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
        self._protocol_findings()
        if interruption is None and self.endpoint.closed:
            interruption = Interruption.inconclusive(
                f"{self.endpoint.closed_text()} during the case; what followed was not exercised"
            )
        lab = MeasurementSource.LAB_METER
        measured_by = lab if lab in self._sources else MeasurementSource.METER_VALUES
        series = self.endpoint.observations.series(measured_by=measured_by)
        names = {s.name for s in series}
        checks = tuple(
            replace(c, series=tuple(n for n in c.series if n in names)) for c in self._record.checks
        )
        measured = any(s.quantity.value != "limit" for s in series)
        return EngineOutcome(
            checks=checks,
            steps=tuple(self._record.log),
            interruption=interruption,
            series=series,
            measurement_source=measured_by if measured else MeasurementSource.NONE,
            dut_closed=self.endpoint.closed,
        )

    async def _steps(self, steps: Sequence[Step]) -> None:
        for position, step in enumerate(steps):
            if not isinstance(step, ExpectRequestStep | RepeatStep):
                self.endpoint.forget_unclaimed()
            if not isinstance(step, ExpectRequestStep):
                self._arm_following(steps[position + 1 :])
            await self._step(step)

    def _arm_following(self, later: Sequence[Step]) -> None:
        """Arm the expect_request steps that directly follow (also the first ones inside a
        following repeat): their requests may arrive while the current step runs."""
        for step in later:
            if isinstance(step, RepeatStep):
                self._arm_following(step.steps)
                return
            if not isinstance(step, ExpectRequestStep):
                return
            if id(step) not in self._armed:
                self._armed[id(step)] = self._arm(step)

    def _arm(self, step: ExpectRequestStep) -> Waiter:
        def respond(_: Any) -> dict[str, Any] | None:
            if step.respond_with is None:
                return None
            built: dict[str, Any] = substitute(
                step.respond_with, variables=self._variables, now=self.clock.now()
            )
            return built

        return self.endpoint.arm(step.action, respond, accepts=self._filter(step))

    def _filter(self, step: ExpectRequestStep) -> Callable[[Mapping[str, Any]], bool] | None:
        """With ``skip_unmatched``: the requests the step takes (those matching ``expect``)."""
        expect = step.expect
        if not step.skip_unmatched or expect is None:
            return None

        def accepts(payload: Mapping[str, Any]) -> bool:
            return match(expect, payload, variables=self._variables).matched

        return accepts

    async def _step(self, step: Step) -> None:
        self._record.step += 1
        if self.on_step is not None and self._case is not None:
            self.on_step(self._case.id, self._record.step, step, self._variables)
        match step:
            case SetProfileStep() | ClearProfileStep():
                await self._send(step.as_send(self._version), kind=step.kind)
            case SendStep():
                await self._send(step, kind="send")
            case ExpectRequestStep():
                await self._expect_request(step)
            case WaitStep():
                seconds = resolve_number(step.duration_s, variables=self._variables)
                self._note(f"wait {seconds:g} s")
                await self._wait_step(seconds)
            case VehicleStep():
                await self._vehicle(step)
            case ExternalLimitStep():
                await self._external_limit(step)
            case PromptStep():
                await self._prompt(step)
            case ExpectSettledStep():
                await self._settled(step)
            case ExpectWakeUpStep():
                await self._wake_up(step)
            case ReconnectStep():
                await self._reconnect(step)
            case OfflineStep():
                await self._offline(step)
            case CompareCompositeStep():
                await self._composite(step)
            case ExpectMeterValuesStep():
                await run_meter_values(self, step)
            case FuzzStep():
                if not await run_fuzz(self, step):
                    raise _Stop
            case RepeatStep():
                for binding in step.bindings(variables=self._variables):
                    self._variables.update(binding)
                    self._note(f"repeat {_short(binding) if binding else ''}".strip())
                    await self._steps(step.steps)

    # ------------------------------------------------------------------ verdicts

    def _protocol_findings(self) -> None:
        """The FAIL check for the DUT's protocol violations; notes for late answers."""
        for late in self.endpoint.late_answers():
            self._note(f"late answer (its CALL had timed out): {late.describe()}")
        self._invalid_values()
        seen = self.endpoint.case_violations()
        if not seen:
            return
        first = seen[0].event.violation
        shown = "; ".join(v.describe() for v in seen[:5])
        more = f"; and {len(seen) - 5} more" if len(seen) > 5 else ""
        frames = tuple(sorted({i for v in seen for i in v.frames}))
        self._note(f"{len(seen)} protocol violation(s) of the DUT: {shown}{more}")
        self._record.failed(
            Requirement("OCPP-J", Level.MUST, first.requirement),
            expected="every frame the DUT sends is a well-formed OCPP-J message of its "
            "version, and every response answers a CALL the harness sent",
            actual=f"{len(seen)} protocol violation(s): {shown}{more}",
            frames=frames,
        )

    def _invalid_values(self) -> None:
        """The FAIL check for sampled values that were not finite numbers (``"NaN"``)."""
        bad = self.endpoint.observations.invalid_values
        if not bad:
            return
        shown = "; ".join(what for _, what in bad[:5])
        more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        self._record.failed(
            Requirement("OCPP-J", Level.MUST, "a sampled value is a decimal number"),
            expected="every sampled value the DUT reports is a finite number",
            actual=f"{len(bad)} value(s) not a finite number: {shown}{more}",
            frames=tuple(sorted({f for f, _ in bad if f is not None})),
        )

    def _note(self, text: str) -> None:
        self._record.note(text)

    def _judge(
        self,
        step: Step,
        *,
        ok: bool,
        expected: str,
        actual: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
        declared: str | None = None,
    ) -> None:
        """Record a judged step (:meth:`CaseRecord.judge`); stops the case when a
        precondition is not met. A failure after our own limit (size, rate) or policy (a newer
        connection) cut the DUT off is INCONCLUSIVE instead: the requirement under test was
        not exercised to the end."""
        if not ok and self.endpoint.closed and self.endpoint.policy_close is not None:
            self._unjudgeable(
                step,
                expected=expected if declared is None else f"{expected} — {declared}",
                reason=f"{actual} — {self.endpoint.closed_text()}",
                frames=frames,
                series=series,
            )
            raise _Stop
        stop = self._record.judge(
            step,
            ok=ok,
            expected=expected,
            actual=actual,
            frames=frames,
            series=series,
            declared=declared,
        )
        if stop:
            raise _Stop

    def _unjudgeable(
        self,
        step: Step,
        *,
        expected: str,
        reason: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
    ) -> None:
        self._note(f"step {self._record.step}: cannot judge — {reason}")
        self._record.inconclusive(
            step, expected=expected, reason=reason, frames=frames, series=series
        )

    # ------------------------------------------------------------------- send

    async def _send(self, step: SendStep, *, kind: str) -> None:
        payload = substitute(step.payload, variables=self._variables, now=self.clock.now())
        timeout_s = resolve_number(step.timeout_s, variables=self._variables)
        self._note(f"{kind}: {step.action} {_short(payload, 200)}")
        outcome = await self.endpoint.call(step.action, payload, timeout_s=timeout_s)
        expected = self._expected_answer(step)
        if outcome.payload is not None and outcome.payload.get("status") == "Accepted":
            self._mirror(step.action, payload)
        if outcome.failure is not None:
            self._judge(
                step, ok=False, expected=expected, actual=outcome.detail, frames=outcome.frames
            )
            if outcome.failure == "closed":
                raise _Stop
            return
        declared = self._declared(step.action, outcome)
        if outcome.error_code is not None:
            ok = step.expect_call_error is not None and outcome.error_code in {
                str(c) for c in step.expect_call_error
            }
            actual = f"CALLERROR {outcome.error_code}" + (
                f" ({outcome.error_description})" if outcome.error_description else ""
            )
            self._judge(
                step,
                ok=ok,
                expected=expected,
                actual=actual,
                frames=outcome.frames,
                declared=declared,
            )
            return
        await self._judge_payload(step, outcome, expected, declared)

    def _declared(self, action: str, outcome: CallOutcome) -> str | None:
        """The declaration field the DUT's "not supported" answer breaks, cited (or ``None``)."""
        return declared_unsupported(
            action,
            error_code=outcome.error_code,
            payload=outcome.payload,
            capabilities=self.capabilities,
            version=str(self._version),
        )

    async def _judge_payload(
        self, step: SendStep, outcome: CallOutcome, expected: str, declared: str | None = None
    ) -> None:
        answer = outcome.payload or {}
        if step.expect is None and step.expect_call_error is not None:
            self._judge(
                step,
                ok=False,
                expected=expected,
                actual=f"CALLRESULT {_short(answer)}",
                frames=outcome.frames,
            )
            return
        if step.expect is not None:
            result = match(step.expect, answer, variables=self._variables)
            if not result.matched:
                actual = (
                    f"{_short(answer)} — at {result.path}: expected {result.expected}, "
                    f"got {result.actual}"
                )
                self._judge(
                    step,
                    ok=False,
                    expected=expected,
                    actual=actual,
                    frames=outcome.frames,
                    declared=declared,
                )
                return
        stored = self._store(step.store, answer)
        if stored is not None:
            self._judge(step, ok=False, expected=expected, actual=stored, frames=outcome.frames)
            return
        self._judge(step, ok=True, expected=expected, actual=_short(answer), frames=outcome.frames)

    def _expected_answer(self, step: SendStep) -> str:
        parts = []
        if step.expect is not None:
            parts.append(f"{step.action} answered with {describe(step.expect, self._variables)}")
        elif step.expect_call_error is None:
            parts.append(f"a valid answer to {step.action}")
        if step.expect_call_error is not None:
            codes = ", ".join(str(c) for c in step.expect_call_error)
            parts.append(f"CALLERROR one of [{codes}]")
        return " or ".join(parts)

    def _store(self, store: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        """Save variables; return what was missing, if anything."""
        for name, path in store.items():
            try:
                self._variables[name] = extract(payload, path)
            except LookupError as exc:
                return f"the payload has no {path} to store as {name} ({exc})"
        return None

    def _mirror(self, action: str, payload: Mapping[str, Any]) -> None:
        if action == "SetChargingProfile":
            self.mirror.accepted_set(payload)
        elif action == "ClearChargingProfile":
            self.mirror.accepted_clear(payload)
        elif action in {"RemoteStartTransaction", "RequestStartTransaction"}:
            self.mirror.accepted_start(payload)
        else:
            return
        self._record_limits()

    def _record_limits(self) -> None:
        now = self.clock.now()
        for evse in self.mirror.context().evse_ids:
            instant = self.mirror.limit_at(evse_id=evse, at=now)
            limit, setpoint = instant.current_a, instant.setpoint_w
            self.endpoint.observations.record_limit(
                now, evse, None if limit is None else float(limit), "A"
            )
            self.endpoint.observations.record_setpoint(
                now, evse, None if setpoint is None else float(setpoint)
            )

    # --------------------------------------------------------- expect_request

    async def _expect_request(self, step: ExpectRequestStep) -> None:
        within_s = resolve_number(step.within_s, variables=self._variables)
        expected = f"the DUT sends {step.action} within {within_s:g} s" + (
            f", matching {describe(step.expect, self._variables)}" if step.expect else ""
        )
        self._note(f"expect_request: {step.action} within {within_s:g} s")
        waiter = self._armed.pop(id(step), None)
        early: Received | None = None
        if waiter is None:
            early = self.endpoint.take_unclaimed(step.action, accepts=self._filter(step))
            if early is None:
                waiter = self._arm(step)
        received = early
        if waiter is not None:
            try:
                patience_s = self.endpoint.patience_s(within_s)
                got = await self._wait_or_closed(waiter.future, patience_s)
            finally:
                self.endpoint.disarm(waiter)
            if got is None:
                gone = self.endpoint.closed
                actual = (
                    f"the DUT closed the connection before sending {step.action}"
                    if gone
                    else f"no {step.action} within {within_s:g} s"
                )
                if waiter.passed_over:
                    actual += (
                        f" that matched ({len(waiter.passed_over)} passed over, the last: "
                        f"{_short(waiter.passed_over[-1])})"
                    )
                self._judge(step, ok=False, expected=expected, actual=actual)
                if gone:
                    raise _Stop
                return
            received = got
        assert received is not None
        frames = self.endpoint.frames_of(received.message_id)
        if step.expect is not None:
            result = match(step.expect, received.payload, variables=self._variables)
            if not result.matched:
                actual = (
                    f"{_short(received.payload)} — at {result.path}: expected "
                    f"{result.expected}, got {result.actual}"
                )
                self._judge(step, ok=False, expected=expected, actual=actual, frames=frames)
                return
        digits = limit_digit_problems(received.payload, OracleVersion(str(self._version)))
        if digits:
            shown = "; ".join(f"{path}: {value}" for path, value in digits[:5])
            self._judge(
                step,
                ok=False,
                expected=f"{expected}, every limit with {ONE_DIGIT_RULE}",
                actual=f"{step.action} reports limits with more digits — {shown}",
                frames=frames,
            )
            return
        missing = self._store(step.store, received.payload)
        if missing is not None:
            self._judge(step, ok=False, expected=expected, actual=missing, frames=frames)
            return
        if step.respond_with is not None and received.answered_by_default:
            # The request came before the harness was ready to give the scenario's answer:
            # the DUT was answered otherwise, so what follows would not test the case.
            self._unjudgeable(
                step,
                expected=expected,
                reason=(
                    f"{step.action} arrived before the step and got the default answer "
                    f"{_short(received.response)}, not the scenario's"
                ),
                frames=frames,
            )
            raise _Stop
        self._judge(
            step,
            ok=True,
            expected=expected,
            actual=f"{step.action} {_short(received.payload)}",
            frames=frames,
        )

    async def _wait_step(self, seconds: float) -> None:
        """A ``wait`` step: ``seconds`` of clock time, cut short (the case stops) when the
        DUT's connection closes meanwhile (a 6 h pause must not outlive its station)."""
        closed = self.endpoint.closed_waiter()
        sleep = asyncio.ensure_future(
            countdown_sleep(self.clock, seconds, report=self.wait_progress)
        )
        try:
            await asyncio.wait({sleep, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            if not sleep.done():
                sleep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sleep
        if not sleep.done() or sleep.cancelled():
            raise _Stop
        sleep.result()

    async def _wait_or_closed(
        self, future: asyncio.Future[Received], timeout_s: float
    ) -> Received | None:
        """The future's result, or ``None`` on timeout or when the connection closes."""
        closed = self.endpoint.closed_waiter()

        async def first() -> None:
            pending: set[asyncio.Future[Any]] = {future, closed}
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)

        try:
            await self.clock.wait_for(first(), timeout_s)
        except TimeoutError:
            pass
        finally:
            closed.cancel()
        return future.result() if future.done() else None

    # ----------------------------------------------------------- vehicle, prompt

    async def _vehicle(self, step: VehicleStep) -> None:
        evse = resolve_int(step.evse, variables=self._variables)
        self._note(f"vehicle {step.action} at EVSE {evse}")
        if self.control is None:
            prompt = step.lab_prompt(evse=evse)
            ok = await self._ask(step, prompt, yes_no=False, timeout_s=None)
            if not ok:
                self._unjudgeable(
                    step,
                    expected="the operator does it",
                    reason=f"the operator did not confirm: {prompt}",
                )
                raise _Stop
            return
        if isinstance(self.control, VehiclesStayPluggedIn):
            if step.precondition:  # the case needs the cable event itself (TC_010_CS...)
                self._unjudgeable(
                    step,
                    expected=f"vehicle {step.action} at EVSE {evse}",
                    reason="an unattended run keeps the vehicle plugged in; this case needs "
                    "the cable plugged in or out at this point",
                )
                raise _Stop
            self._note("unattended run: the vehicle stays plugged in, nothing done")
        if step.action is VehicleAction.RENEGOTIATE:
            await self._renegotiate(step, evse)
        elif step.action is VehicleAction.PLUG_IN:
            await self.control.plug_in(evse=evse)
        elif step.action is VehicleAction.UNPLUG:
            await self.control.unplug(evse=evse)
        elif step.action is VehicleAction.WAKE:
            await self.control.wake(evse=evse)
        else:
            soc = resolve_number(step.soc_percent or 0.0, variables=self._variables)
            await self.control.set_soc(evse=evse, soc_percent=soc)

    async def _renegotiate(self, step: VehicleStep, evse: int) -> None:
        """An ISO 15118 vehicle's renegotiation: the simulated vehicle asks, or the operator
        makes the vehicle (or EV emulator) ask; a vehicle that cannot ends the case
        INCONCLUSIVE (what follows was never exercised)."""
        if isinstance(self.control, Renegotiator):
            if await self.control.renegotiate(evse=evse):
                return
            reason = f"the vehicle at EVSE {evse} cannot renegotiate (no ISO 15118 session)"
        else:
            prompt = step.lab_prompt(evse=evse)
            if await self._ask(step, prompt, yes_no=False, timeout_s=None):
                return
            reason = f"the operator did not confirm: {prompt}"
        self._unjudgeable(step, expected="the vehicle renegotiates", reason=reason)
        raise _Stop

    async def _reconnect(self, step: ReconnectStep) -> None:
        """``reconnect``: the DUT's connection closes and a new one comes (a reboot); the
        case goes on on it (see :class:`~harness.scenario.ReconnectStep`)."""
        within_s = resolve_number(step.within_s, variables=self._variables)
        boot = " and sends a BootNotification" if step.boot else ""
        expected = f"the DUT closes its connection and connects again{boot} within {within_s:g} s"
        self._note(f"reconnect: the DUT's connection ends and a new one comes ({within_s:g} s)")
        if self.reconnect is None:
            self._unjudgeable(step, expected=expected, reason="no new connection can be taken")
            raise _Stop
        old = self.endpoint
        deadline = self.clock.monotonic() + old.patience_s(within_s)
        if not old.closed:
            closed = old.closed_waiter()
            with contextlib.suppress(TimeoutError):
                await self.clock.wait_for(closed, old.patience_s(within_s))
            closed.cancel()
        if not old.closed:
            actual = f"the connection stayed open for {within_s:g} s"
            self._judge(step, ok=False, expected=expected, actual=actual)
            raise _Stop
        for waiter in self._armed.values():
            old.disarm(waiter)
        self._armed.clear()
        gone = old.closed_text()
        new = await self.reconnect(max(0.0, deadline - self.clock.monotonic()))
        if new is None:
            actual = f"{gone}; no new connection within {within_s:g} s"
            self._judge(step, ok=False, expected=expected, actual=actual)
            raise _Stop
        self._take(new)
        if step.boot:
            booted = asyncio.ensure_future(new.observations.booted.wait())
            with contextlib.suppress(TimeoutError):
                left = max(0.0, deadline - self.clock.monotonic())
                await self.clock.wait_for(asyncio.shield(booted), left)
            booted.cancel()
            if not new.observations.booted.is_set():
                actual = f"{gone}; connected again, but no BootNotification within {within_s:g} s"
                self._judge(step, ok=False, expected=expected, actual=actual)
                raise _Stop
        actual = f"{gone}; connected again" + (" and booted" if step.boot else "")
        self._judge(step, ok=True, expected=expected, actual=actual)

    async def _offline(self, step: OfflineStep) -> None:
        """``offline``: the station loses its connection for ``duration_s`` and works
        offline (see :class:`~harness.scenario.OfflineStep`); a ``reconnect`` step takes its
        next connection."""
        started = self.clock.monotonic()
        duration_s = resolve_number(step.duration_s, variables=self._variables)
        close_s = resolve_number(step.close_within_s, variables=self._variables)
        evse = resolve_int(step.evse, variables=self._variables)
        id_token = None
        if step.id_token is not None:
            now = self.clock.now()
            id_token = str(substitute(step.id_token, variables=self._variables, now=now))
        expected = f"the station goes offline (its connection closes) for {duration_s:g} s"
        self._note(f"offline: the station loses its connection for {duration_s:g} s")
        sim = self.control if isinstance(self.control, OfflineTaker) else None
        go, token, back = step.lab_prompts(evse=evse, duration_s=duration_s, id_token=id_token)
        if sim is not None:
            ok = await sim.go_offline()
        else:
            ok = bool(await self._ask(step, go, yes_no=False, timeout_s=None))
            if ok:  # the harness's end: the station's network is down, it cannot close it
                await self.endpoint.close()
        if not ok:
            self._unjudgeable(step, expected=expected, reason="the station cannot go offline")
            raise _Stop
        old = self.endpoint
        if not old.closed:
            closed = old.closed_waiter()
            with contextlib.suppress(TimeoutError):
                await self.clock.wait_for(closed, old.patience_s(close_s))
            closed.cancel()
        if not old.closed:
            actual = f"the connection stayed open for {close_s:g} s"
            self._judge(step, ok=False, expected=expected, actual=actual)
            raise _Stop
        if id_token is not None:
            self._note(f"offline: idToken {id_token} presented at EVSE {evse}")
            if sim is not None:
                presented = await sim.present_token(evse=evse, id_token=id_token)
            else:
                presented = bool(await self._ask(step, token, yes_no=False, timeout_s=None))
            if not presented:
                reason = f"no transaction started offline with idToken {id_token}"
                self._unjudgeable(step, expected=expected, reason=reason)
                raise _Stop
        left_s = duration_s - (self.clock.monotonic() - started)
        if left_s > 0:
            await self.clock.sleep(left_s)
        if sim is None and not await self._ask(step, back, yes_no=False, timeout_s=None):
            self._unjudgeable(step, expected=expected, reason=f"not confirmed: {back}")
            raise _Stop
        actual = f"{old.closed_text()}; offline for {duration_s:g} s"
        self._judge(step, ok=True, expected=expected, actual=actual)

    def _take(self, new: CsmsEndpoint) -> None:
        """Go on on the DUT's new connection: the case's trace, the mirror (its profiles
        stay), the lab meter."""
        old = self.endpoint
        new.set_trace(old.trace_sink)
        new.outside = old.outside
        new.on_transaction_ended = self.mirror.transaction_ended
        self.mirror.observe(new.observations)
        if self.lab_meter is not None:
            self.lab_meter.attach(new.observations)
        self.endpoint = new
        new.start()

    async def _wake_up(self, step: ExpectWakeUpStep) -> None:
        """``expect_wake_up``: the station's record (simulation) or the operator's answer.
        The Actual starts ``woken by: <what>`` (none, pilot_toggle, state_f, nothing,
        unknown): reports read it (``reports.wakeup``)."""
        evse = resolve_int(step.evse, variables=self._variables)
        expected = "the vehicle resumes by itself (woken by: none)"
        if isinstance(self.control, WakeUpRecorder):
            record = await self.control.wake_up_record(evse=evse, since=self._case_started)
            tried = ", ".join(record.tried) or "nothing"
            if record.woken_by is None:
                actual = f"woken by: nothing — the station tried {tried}; an unplug is needed"
            elif record.woken_by == "none":
                actual = "woken by: none — resumed without a wake-up"
            else:
                actual = f"woken by: {record.woken_by} — the station tried {tried}"
            self._note(f"expect_wake_up at EVSE {evse}: {actual}")
            self._judge(step, ok=record.woken_by == "none", expected=expected, actual=actual)
            return
        if isinstance(self.control, VehiclesStayPluggedIn):
            self._unjudgeable(
                step, expected=expected, reason="an unattended run cannot tell what woke it"
            )
            return
        question = step.lab_prompt(evse=evse)
        answer = await self._ask(step, question, yes_no=True, timeout_s=None)
        if answer is None:
            self._unjudgeable(step, expected=expected, reason=f"no answer to: {question}")
            return
        actual = (
            "woken by: none — the operator saw it resume by itself"
            if answer
            else "woken by: unknown — the operator reports a wake-up or an unplug"
        )
        self._judge(step, ok=answer, expected=expected, actual=actual)

    async def _external_limit(self, step: ExternalLimitStep) -> None:
        evse = resolve_int(step.evse, variables=self._variables)
        limit_a = (
            None
            if step.limit_a is None
            else resolve_number(step.limit_a, variables=self._variables)
        )
        self._note(step.lab_prompt(limit_a, evse))
        if isinstance(self.control, VehiclesStayPluggedIn):  # unattended: nobody to do it
            self._unjudgeable(
                step,
                expected="an external limit set at the station",
                reason="an unattended run cannot set an external limit (it needs an operator)",
            )
            raise _Stop
        if self.control is None:
            message = step.lab_prompt(limit_a, evse)
            if not await self._ask(step, message, yes_no=False, timeout_s=None):
                self._unjudgeable(
                    step,
                    expected="the operator does it",
                    reason=f"the operator did not confirm: {message}",
                )
                raise _Stop
        else:
            await self.control.set_external_limit(evse=evse, limit_a=limit_a)
        self.mirror.external_limit(evse_id=evse, limit_a=limit_a, at=self.clock.now())
        self._record_limits()

    async def _ask(
        self, step: Step, message: str, *, yes_no: bool, timeout_s: float | None
    ) -> bool | None:
        """The operator's answer; ``None`` when nobody answered (in time)."""
        try:
            return await self.clock.wait_for(self.operator.ask(message, yes_no=yes_no), timeout_s)
        except TimeoutError:
            return None

    async def _prompt(self, step: PromptStep) -> None:
        message = str(substitute(step.message, variables=self._variables, now=self.clock.now()))
        timeout_s = (
            None
            if step.timeout_s is None
            else resolve_number(step.timeout_s, variables=self._variables)
        )
        yes_no = step.response is PromptResponse.YES_NO
        self._note(f"prompt: {message}")
        answer = await self._ask(step, message, yes_no=yes_no, timeout_s=timeout_s)
        if not yes_no:
            if not answer:
                self._unjudgeable(
                    step,
                    expected="the operator acknowledges",
                    reason=f"no acknowledgement of: {message}",
                )
                raise _Stop
            return
        if answer is None:  # nobody answered: not a "no" (that would be a FAIL)
            self._unjudgeable(
                step,
                expected=f"the operator answers yes to: {message}",
                reason=f"no operator answered: {message}",
            )
            raise _Stop
        self._judge(
            step,
            ok=answer,
            expected=f"the operator answers yes to: {message}",
            actual="yes" if answer else "no",
        )

    # -------------------------------------------------------------- settled

    async def _settled(self, step: ExpectSettledStep) -> None:
        await run_settled(self, step)

    # ------------------------------------------------------------ composite

    async def _composite(self, step: CompareCompositeStep) -> None:
        evse = resolve_int(step.evse, variables=self._variables)
        duration = int(resolve_number(step.duration_s, variables=self._variables))
        tolerance = resolve_number(step.tolerance, variables=self._variables)
        key = "connectorId" if self._version is OcppVersion.V16 else "evseId"
        payload = {key: evse, "duration": duration, "chargingRateUnit": step.unit}
        self._note(f"compare_composite: GetCompositeSchedule {_short(payload)}")
        sent_at = self.clock.now()
        outcome = await self.endpoint.call("GetCompositeSchedule", payload, timeout_s=30.0)
        received_at = self.clock.now()
        base = f"GetCompositeSchedule of EVSE {evse} over {duration} s in {step.unit}"
        if outcome.payload is None:
            actual = outcome.detail if outcome.failure else f"CALLERROR {outcome.error_code}"
            self._judge(
                step,
                ok=False,
                expected=f"{base} answered with the oracle's schedule",
                actual=actual,
                frames=outcome.frames,
                declared=self._declared("GetCompositeSchedule", outcome),
            )
            if outcome.failure == "closed":
                raise _Stop
            return
        version = OracleVersion(str(self._version))
        answer = plain_json(outcome.payload)
        start = sent_at
        try:
            reported = parse_composite_response(answer, version)
        except Exception:  # a malformed answer: compare_composite reports it
            reported = None
        tol = self._time_deviation_s()
        if reported is not None and (
            (sent_at - reported.schedule_start).total_seconds() <= tol
            and (reported.schedule_start - received_at).total_seconds() <= tol
        ):
            start = reported.schedule_start  # the instant the DUT computed it for
        expected = self.mirror.composite(
            evse_id=evse,
            start=start,
            duration_s=duration,
            unit=step.unit,
            default_limit=self._default_limit(step.unit),
        )
        case = self._case
        assert case is not None
        unlimited = (
            self._default_limit(step.unit) is None
            and version is not OracleVersion.V21
            and any(p.limit is None for p in expected.periods)
        )
        if unlimited and case.source != OUR_SOURCE:
            # The OCA documents expect "the local limit of the Charging Station" where no
            # profile limits (e.g. TC_067_CS step 12): a configured value, never "none".
            self._unjudgeable(
                step,
                expected=f"{base}: {schedule_text(expected)}",
                reason=(
                    f"{case.source} expects the station's local limit where no profile limits; "
                    "the declaration does not give it: add max_current_a to the capability "
                    "declaration"
                ),
                frames=outcome.frames,
            )
            return
        alternative = self.mirror.composite(
            evse_id=evse,
            start=start,
            duration_s=duration,
            unit=step.unit,
            default_limit=self._default_limit(step.unit),
            tx_default_resumes=True,
        )
        comparison = compare_composite(
            expected,
            answer,
            version=version,
            time_tolerance_s=tol,
            precision=Decimal(str(tolerance)) if tolerance > 0 else None,
            alternative=None if alternative == expected else alternative,
            any_limit_where_unlimited=unlimited,
        )
        actual = comparison.actual_text
        if comparison.differences:
            actual += " — " + "; ".join(d.describe() for d in comparison.differences)
        if comparison.reading is not None:
            actual += f" — {comparison.reading}"
        wanted = comparison.expected_text
        if unlimited:
            wanted += (
                " — where no profile limits (→ none) any limit the station reports is "
                "accepted: the declaration gives no max_current_a, and a composite may carry "
                "the station's own limits (1.6 §5.7, 2.0.1 K08)"
            )
        self._judge(
            step,
            ok=comparison.ok,
            expected=wanted,
            actual=actual,
            frames=outcome.frames,
        )

    def _time_deviation_s(self) -> float:
        """The case's ``max_time_deviation`` parameter, else the engine's; at least 1 s."""
        value = self._variables.get(TIME_DEVIATION_PARAMETER)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return max(float(value), 1.0)
        return max(float(self.time_tolerance_s), 1.0)

    def _default_limit(self, unit: str) -> Decimal | None:
        caps = self.capabilities
        if caps is None or caps.max_current_a is None:
            return None
        amps = Decimal(str(caps.max_current_a))
        return amps if unit == "A" else amps * 230 * caps.supply_phases

    # the step kinds' view of the engine (harness.runner.step_host.StepHost)
    def variables(self) -> Mapping[str, Any]:
        """The current parameters and stored variables."""
        return self._variables

    def judge(self, step: Step, **kwargs: Any) -> None:
        """Record a judged step (see :meth:`_judge`)."""
        self._judge(step, **kwargs)

    def unjudgeable(self, step: Step, **kwargs: Any) -> None:
        """Record a step the harness could not judge (INCONCLUSIVE)."""
        self._unjudgeable(step, **kwargs)

    def note(self, text: str) -> None:
        """Add a line to the step log."""
        self._note(text)

    def measured_by(self, source: MeasurementSource) -> None:
        """Record whose measurements a step judged (the case's ``measurement_source``)."""
        self._sources.add(source)

    async def wait_closed_or(self, awaitable: Awaitable[Any], timeout_s: float) -> None:
        """Wait for ``awaitable`` at most ``timeout_s`` (clock)."""
        with contextlib.suppress(TimeoutError):
            await self.clock.wait_for(awaitable, timeout_s)
