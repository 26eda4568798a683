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

The step kinds are plug-ins (:mod:`harness.runner.station_role.steps`, the ``prompt`` shared
with the CSMS role) walked by the same :class:`~harness.runner.stepping.StepWalker` and
recorded in the same :class:`~harness.runner.verdicts.CaseRecord` as the CSMS role's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.clock import Clock
from harness.results import Interruption, Level, MeasurementSource, Requirement
from harness.runner.operator import Operator
from harness.runner.station_role.endpoint import StationEndpoint, Waiter
from harness.runner.station_role.steps import (
    WIND_DOWN_TIMEOUT_S,
    StationHost,
    arm_expect,
    outcome_text,
    station_role_kinds,
)
from harness.runner.stepping import EngineOutcome, StepKinds, StepWalker, StopCase
from harness.runner.verdicts import CaseRecord, short_json
from harness.scenario import Case, ExpectProfileStep, ExpectRequestStep, RepeatStep, Step

__all__ = ["TRIGGER_QUIET_S", "UNSOLICITED", "WIND_DOWN_TIMEOUT_S", "StationCaseEngine"]


UNSOLICITED = Requirement(
    "SC-CSMS-01",
    Level.MUST,
    "every charging profile the CSMS sends is valid and respects the station's declared "
    "maximum and units",
)
"""What a profile no ``expect_profile`` step claimed is judged against (the case's own
requirements are about the requests its steps expect)."""


TRIGGER_QUIET_S = 0.5
"""Before a trigger the CSMS must have been quiet this long (clock seconds), so that what it
asks right after a boot (GetBaseReport...) is answered and reported before it is made to act."""


class StationCaseEngine(StepWalker[StationHost]):
    """Executes ``dut_role: csms`` cases on one :class:`StationEndpoint`.

    ``kinds`` replaces the role's step kinds (default :func:`station_role_kinds`)."""

    def __init__(
        self,
        endpoint: StationEndpoint,
        *,
        clock: Clock,
        operator: Operator,
        station_id: str,
        trigger_quiet_s: float = TRIGGER_QUIET_S,
        kinds: StepKinds[StationHost] | None = None,
    ) -> None:
        super().__init__(kinds or station_role_kinds())
        self.endpoint = endpoint
        self.clock = clock
        self.operator = operator
        self.station_id = station_id
        self.trigger_quiet_s = trigger_quiet_s
        self.host = self
        self._armed: dict[int, Waiter] = {}
        self._judged: set[str] = set()

    async def run(self, case: Case, *, parameters: Mapping[str, Any]) -> EngineOutcome:
        """Run ``case`` with resolved ``parameters``; never raises for the CSMS's faults."""
        self.record = CaseRecord(case, clock=self.clock, variables=dict(parameters))
        self._armed = {}
        self._judged = set()
        broken_before = len(self.endpoint.frame_violations)
        interruption: Interruption | None = None
        try:
            await self.walk(case.steps)
        except StopCase:
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
            checks=tuple(self.record.checks),
            steps=tuple(self.record.log),
            interruption=interruption,
            series=(),
            measurement_source=MeasurementSource.NONE,
            dut_closed=self.endpoint.closed,
        )

    # the walker's hook (harness.runner.stepping.StepWalker)

    def before(self, step: Step, later: Sequence[Step]) -> None:
        """Mark what came so far as seen, and arm the expect steps that follow."""
        expecting = isinstance(step, ExpectRequestStep | ExpectProfileStep)
        if not expecting and not isinstance(step, RepeatStep):
            self.endpoint.forget()
        if not expecting:
            self._arm_following(later)

    def _arm_following(self, later: Sequence[Step]) -> None:
        for step in later:
            if isinstance(step, RepeatStep):
                self._arm_following(step.steps)
                return
            if not isinstance(step, ExpectRequestStep | ExpectProfileStep):
                return
            if id(step) not in self._armed:
                self._armed[id(step)] = arm_expect(step, self.record, self)

    # the step kinds' view of the engine (station_role.steps.StationHost)

    def judge(
        self, step: Step, *, ok: bool, expected: str, actual: str, frames: tuple[int, ...] = ()
    ) -> None:
        """Record a judged step (:meth:`CaseRecord.judge`); stops the case when a
        precondition is not met."""
        if self.record.judge(step, ok=ok, expected=expected, actual=actual, frames=frames):
            raise StopCase

    def take_armed(self, step: ExpectRequestStep | ExpectProfileStep) -> Waiter | None:
        """The waiter armed for ``step`` ahead of it, if any."""
        return self._armed.pop(id(step), None)

    def profile_judged(self, message_id: str) -> None:
        """A step judged the profile of this request (not judged again as unsolicited)."""
        self._judged.add(message_id)

    # ------------------------------------------------------------------ verdicts

    def _judge_unsolicited(self) -> None:
        """Every profile the CSMS sent that no expect_profile step judged is judged too: a
        profile that breaks a rule or the declared maximum FAILs :data:`UNSOLICITED`."""
        for request, problems in self.endpoint.faulty_profiles(exclude=self._judged):
            actual = (
                f"{problems} — in {request.action} {short_json(request.payload)} "
                "(no step expected it)"
            )
            self.record.note(f"unsolicited profile: {actual}")
            self.record.failed(
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
        timeout_s = float(self.record.variables.get("csms_timeout_s", WIND_DOWN_TIMEOUT_S))
        await self.endpoint.settle(timeout_s=timeout_s)
        closing = self.endpoint.state.closing_messages(self.clock.now(), reason="Local")
        for action, payload in closing:
            outcome = await self.endpoint.call(action, payload, timeout_s=timeout_s)
            sent = short_json(payload, 160)
            self.record.note(f"wind-down: {action} {sent} → {outcome_text(outcome)}")
            if outcome.failure == "closed":
                break
        for failure in self.endpoint.owed_failures:
            self.record.note(f"a request the station owed the CSMS did not go through: {failure}")

    def _judge_frames(self, seen: Sequence[tuple[str, tuple[int, ...]]]) -> None:
        """The FAIL check for the CSMS's frames that broke OCPP-J outside any request."""
        if not seen:
            return
        shown = "; ".join(what for what, _ in seen[:5])
        more = f"; and {len(seen) - 5} more" if len(seen) > 5 else ""
        self.record.note(f"{len(seen)} protocol violation(s) of the CSMS: {shown}{more}")
        self.record.failed(
            Requirement("OCPP-J", Level.MUST, "every frame is a well-formed OCPP-J message"),
            expected="every frame the CSMS sends is a well-formed OCPP-J message",
            actual=f"{len(seen)} protocol violation(s): {shown}{more}",
            frames=tuple(sorted({i for _, frames in seen for i in frames})),
        )
