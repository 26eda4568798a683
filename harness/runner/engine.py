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
  makes the case INCONCLUSIVE, naming how it closed; a step never begins on a closed
  connection, and a connection already closed when the case begins (the station went away
  during the boot wait) makes the case INCONCLUSIVE with no step run;
* a step that needs a value an earlier step should have stored, and did not because it
  failed, is not run: its requirement is INCONCLUSIVE and the case stops — the earlier FAIL
  decides the verdict, never ERROR (:meth:`~harness.runner.verdicts.CaseRecord.missing_cause`);
* protocol violations of the DUT that no step saw (a frame that is not JSON, not an OCPP-J
  array, a response to an id never sent, a CALL of an unknown action, a binary frame...) add
  one FAIL check, requirement ``OCPP-J``, listing them with their frames; a late answer to a
  CALL that already timed out is only noted (its step failed for the timeout).

A step without ``requirement`` is judged against the case's first requirement (or, if the
case lists none, the case id), at the step's level.

The step kinds are plug-ins, one module each (:mod:`harness.runner.steps`, registry
:func:`~harness.runner.steps.csms_role_kinds`); each receives the case's
:class:`~harness.runner.verdicts.CaseRecord` and this engine as a
:class:`~harness.runner.step_host.StepHost`. The walk over the steps (numbering, ``repeat``,
values a failed step did not store) is :class:`~harness.runner.stepping.StepWalker`, the same
for the station role.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.clock import Clock
from harness.results import Interruption, Level, MeasurementSource, Requirement
from harness.runner.endpoint import CsmsEndpoint, Waiter
from harness.runner.endpoint_base import plain_json
from harness.runner.mirror import MirrorStore
from harness.runner.operator import Operator, SimulationControl
from harness.runner.progress import WaitProgress
from harness.runner.stall import StallMonitor
from harness.runner.step_host import Reconnect, StepHost
from harness.runner.stepping import (
    EngineOutcome,
    StepKinds,
    StepObserver,
    StepWalker,
    StopCase,
)
from harness.runner.steps import csms_role_kinds
from harness.runner.steps.composite import DEFAULT_TIME_TOLERANCE_S, TIME_DEVIATION_PARAMETER
from harness.runner.steps.expect_request import arm_request
from harness.runner.verdicts import CaseRecord
from harness.scenario import (
    Capabilities,
    Case,
    ExpectRequestStep,
    RepeatStep,
    Step,
)

if TYPE_CHECKING:
    from harness.runner.labmeter import LabMeter

__all__ = [
    "DEFAULT_TIME_TOLERANCE_S",
    "TIME_DEVIATION_PARAMETER",
    "CaseEngine",
    "EngineOutcome",
    "Reconnect",
    "StepObserver",
    "plain_json",
]


CLOSING_WAIT_S = 5.0
"""How long (clock seconds, at least the endpoint's wall-time minimum) a case that stops on a
closing connection waits for the closing handshake to end, to name its close code."""


class CaseEngine(StepWalker[StepHost]):
    """Executes cases on one :class:`CsmsEndpoint`; one :meth:`run` at a time.

    ``kinds`` replaces the role's step kinds (default :func:`csms_role_kinds`)."""

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
        kinds: StepKinds[StepHost] | None = None,
    ) -> None:
        super().__init__(kinds or csms_role_kinds())
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
        self.host = self
        # per-run state
        self._armed: dict[int, Waiter] = {}
        self._sources: set[MeasurementSource] = set()

    # ------------------------------------------------------------------ running

    async def run(
        self, case: Case, *, parameters: Mapping[str, Any], notes: Sequence[str] = ()
    ) -> EngineOutcome:
        """Run ``case`` with resolved ``parameters``; never raises for the DUT's faults.

        ``notes`` open the step log (e.g. which parameters came from the vehicle's facts)."""
        self.record = CaseRecord(case, clock=self.clock, variables=dict(parameters), notes=notes)
        self._armed = {}
        self._sources = set()
        self.endpoint.observations.clear_case()
        interruption: Interruption | None = None
        if self.endpoint.closed:
            await self._closing_done()
            # Closed before the case began (during the boot wait, or between cases): the
            # case exercised nothing, so nothing it checks was broken.
            interruption = Interruption.inconclusive(
                f"{self.endpoint.closed_text()} before the case began; nothing was exercised"
            )
        try:
            if interruption is None:
                await self.walk(case.steps)
        except StopCase:
            pass
        except Exception as exc:
            interruption = Interruption.harness_error(exc)
        finally:
            for waiter in self._armed.values():
                self.endpoint.disarm(waiter)
            self._armed.clear()
        self._protocol_findings()
        if interruption is None and self.endpoint.closed:
            await self._closing_done()
            interruption = Interruption.inconclusive(
                f"{self.endpoint.closed_text()} during the case; what followed was not exercised"
            )
        lab = MeasurementSource.LAB_METER
        measured_by = lab if lab in self._sources else MeasurementSource.METER_VALUES
        series = self.endpoint.observations.series(measured_by=measured_by)
        names = {s.name for s in series}
        checks = tuple(
            replace(c, series=tuple(n for n in c.series if n in names)) for c in self.record.checks
        )
        measured = any(s.quantity.value != "limit" for s in series)
        return EngineOutcome(
            checks=checks,
            steps=tuple(self.record.log),
            interruption=interruption,
            series=series,
            measurement_source=measured_by if measured else MeasurementSource.NONE,
            dut_closed=self.endpoint.closed,
        )

    async def _closing_done(self) -> None:
        """Let a closing handshake that has begun finish (bounded), so that the close code
        and reason are known when the verdict names them."""
        closed = self.endpoint.closed_waiter()
        try:
            await self.clock.wait_for(closed, self.endpoint.patience_s(CLOSING_WAIT_S))
        except TimeoutError:
            pass
        finally:
            closed.cancel()

    # the walker's hooks (harness.runner.stepping.StepWalker)

    def before(self, step: Step, later: Sequence[Step]) -> None:
        """Forget requests no step armed for, and arm the expect_request steps that follow."""
        if not isinstance(step, ExpectRequestStep | RepeatStep):
            self.endpoint.forget_unclaimed()
        if not isinstance(step, ExpectRequestStep):
            self._arm_following(later)

    def can_run(self, step: Step) -> bool:
        """A step never begins on a closed connection (:meth:`run` names the close), unless
        it does not need one (``reconnect`` takes the DUT's next connection; after an
        ``offline`` step the connection is already closed when it begins)."""
        return not self.endpoint.closed or not step.needs_open_connection

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
                self._armed[id(step)] = arm_request(step, self.record, self)

    # ------------------------------------------------------------------ verdicts

    def _protocol_findings(self) -> None:
        """The FAIL check for the DUT's protocol violations; notes for late answers."""
        for late in self.endpoint.late_answers():
            self.record.note(f"late answer (its CALL had timed out): {late.describe()}")
        self._invalid_values()
        seen = self.endpoint.case_violations()
        if not seen:
            return
        first = seen[0].event.violation
        shown = "; ".join(v.describe() for v in seen[:5])
        more = f"; and {len(seen) - 5} more" if len(seen) > 5 else ""
        frames = tuple(sorted({i for v in seen for i in v.frames}))
        self.record.note(f"{len(seen)} protocol violation(s) of the DUT: {shown}{more}")
        self.record.failed(
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
        self.record.failed(
            Requirement("OCPP-J", Level.MUST, "a sampled value is a decimal number"),
            expected="every sampled value the DUT reports is a finite number",
            actual=f"{len(bad)} value(s) not a finite number: {shown}{more}",
            frames=tuple(sorted({f for f, _ in bad if f is not None})),
        )

    # the step kinds' view of the engine (harness.runner.step_host.StepHost)

    def judge(
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
            self.record.unjudgeable(
                step,
                expected=expected if declared is None else f"{expected} — {declared}",
                reason=f"{actual} — {self.endpoint.closed_text()}",
                frames=frames,
                series=series,
            )
            raise StopCase
        stop = self.record.judge(
            step,
            ok=ok,
            expected=expected,
            actual=actual,
            frames=frames,
            series=series,
            declared=declared,
        )
        if stop:
            raise StopCase

    def take_armed(self, step: ExpectRequestStep) -> Waiter | None:
        """The waiter armed for ``step`` ahead of it (see :meth:`before`), if any."""
        return self._armed.pop(id(step), None)

    def measured_by(self, source: MeasurementSource) -> None:
        """Record whose measurements a step judged (the case's ``measurement_source``)."""
        self._sources.add(source)

    def take_connection(self, new: CsmsEndpoint) -> None:
        """Go on on the DUT's new connection (a ``reconnect`` step): the waiters armed on
        the old one are dropped; the case's trace, the mirror (its profiles stay) and the lab
        meter carry over; ``new`` is started."""
        old = self.endpoint
        for waiter in self._armed.values():
            old.disarm(waiter)
        self._armed.clear()
        new.set_trace(old.trace_sink)
        new.outside = old.outside
        new.on_transaction_ended = self.mirror.transaction_ended
        self.mirror.observe(new.observations)
        if self.lab_meter is not None:
            self.lab_meter.attach(new.observations)
        self.endpoint = new
        new.start()

    async def wait_closed_or(self, awaitable: Awaitable[Any], timeout_s: float) -> None:
        """Wait for ``awaitable`` at most ``timeout_s`` (clock)."""
        with contextlib.suppress(TimeoutError):
            await self.clock.wait_for(awaitable, timeout_s)

    # kept for step code written against the engine before the record was passed in
    def variables(self) -> Mapping[str, Any]:
        """The current parameters and stored variables (the running case's record)."""
        return self.record.variables

    def unjudgeable(self, step: Step, **kwargs: Any) -> None:
        """Record a step the harness could not judge (:meth:`CaseRecord.unjudgeable`)."""
        self.record.unjudgeable(step, **kwargs)

    def note(self, text: str) -> None:
        """Add a line to the step log (:meth:`CaseRecord.note`)."""
        self.record.note(text)
