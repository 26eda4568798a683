"""The role-neutral core of a case engine: step kinds as plug-ins, and the walk over the steps.

A **step kind** is a handler ``async (step, record, host) -> None`` kept in a
:class:`StepKinds` registry under the step's class. It receives

* the :class:`~harness.runner.verdicts.CaseRecord` of the running case — the verdict
  bookkeeping (checks, step log, the case's variables, redaction, truncation) — for everything
  it records;
* the role's *host*: a narrow protocol of what only the engine has or decides — the
  connection, the clock, judging a step (which may stop the case) — for the CSMS role
  :class:`harness.runner.step_host.StepHost`, for the station role
  :class:`harness.runner.station_role.steps.StationHost`.

A handler raises :class:`StopCase` when the case cannot go on (the reason is recorded
already). :class:`StepWalker` walks a case's steps for either role with the same rules:
steps are numbered from 1 in the order run (repeats counted), an observer is told of each,
``repeat`` runs its inner steps once per binding, and a step that needs a value an earlier,
failed step should have stored is not run (INCONCLUSIVE, the case stops: see
:meth:`~harness.runner.verdicts.CaseRecord.missing_cause`).

The CSMS role's registry is :func:`harness.runner.steps.csms_role_kinds`; the station role's is
:func:`harness.runner.station_role.steps.station_role_kinds`. A new step kind is a module
with its handler and one line in its role's registry (``StepKinds.with_kind`` adds one to a
copy, e.g. in a test).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from harness.results import CheckResult, Interruption, MeasurementSource, Series, StepRecord
from harness.runner.verdicts import CaseRecord, short_json
from harness.scenario import RepeatStep, Step, SubstitutionError

__all__ = [
    "EngineOutcome",
    "StepHandler",
    "StepKinds",
    "StepObserver",
    "StepWalker",
    "StopCase",
    "short_json",
]

H = TypeVar("H")

StepHandler = Callable[[Any, CaseRecord, H], Awaitable[None]]
"""``async handler(step, record, host)``: runs one step of the kind it is registered for."""

StepObserver = Callable[[str, int, Step, Mapping[str, Any]], None]
"""``(case id, step number, step, variables)`` as each step starts (numbered from 1 in the
order run, repeats counted); must not raise or block."""


class StopCase(Exception):
    """The case cannot go on (peer gone, precondition failed); the reason is recorded."""


@dataclass(frozen=True, slots=True)
class EngineOutcome:
    """Everything one case run produced (the run turns it into a CaseResult)."""

    checks: tuple[CheckResult, ...]
    steps: tuple[StepRecord, ...]
    interruption: Interruption | None
    series: tuple[Series, ...]
    measurement_source: MeasurementSource
    dut_closed: bool


class StepKinds(Generic[H]):
    """A role's step kinds: step class → handler. ``role`` names the role in the error for a
    step kind it cannot run (e.g. a ``trigger`` for the harness as CSMS)."""

    def __init__(self, handlers: Mapping[type[Any], StepHandler[H]], *, role: str) -> None:
        self._handlers = dict(handlers)
        self.role = role

    def with_kind(self, step_type: type[Any], handler: StepHandler[H]) -> StepKinds[H]:
        """A copy with ``handler`` for ``step_type`` (added, or in place of the role's)."""
        return StepKinds({**self._handlers, step_type: handler}, role=self.role)

    def kinds(self) -> frozenset[type[Any]]:
        """The step classes this role runs."""
        return frozenset(self._handlers)

    async def run(self, step: Step, record: CaseRecord, host: H) -> None:
        """Run ``step`` with its kind's handler; :class:`ValueError` for a kind the role
        does not run (a defect of the case: the loader's role checks let it through)."""
        handler = self._handlers.get(type(step))
        if handler is None:
            raise ValueError(f"step kind {step.kind!r} cannot run with {self.role}")
        await handler(step, record, host)


class StepWalker(Generic[H]):
    """Walks a case's steps on one role's :class:`StepKinds` (see the module docstring).

    The engine sets :attr:`record` and :attr:`host` for each case; :meth:`before` is its hook
    before each step (arming the requests the following steps expect), :meth:`can_run` says
    whether a step may begin (not on a closed connection)."""

    def __init__(self, kinds: StepKinds[H]) -> None:
        self.kinds = kinds
        self.on_step: StepObserver | None = None
        """Told of each step as it starts (a live view shows the step running)."""
        self.record: CaseRecord
        self.host: H

    def before(self, step: Step, later: Sequence[Step]) -> None:
        """Called before ``step`` runs, with the steps that follow it at its level."""

    def can_run(self, step: Step) -> bool:
        """Whether ``step`` may begin (``False``: the case stops, nothing recorded)."""
        return True

    async def walk(self, steps: Sequence[Step]) -> None:
        """Run ``steps`` in order (raises :class:`StopCase` when the case stops)."""
        for position, step in enumerate(steps):
            self.before(step, steps[position + 1 :])
            await self.run_step(step)

    async def run_step(self, step: Step) -> None:
        """Run one step (a ``repeat``: its inner steps per binding)."""
        if not self.can_run(step):
            raise StopCase
        record = self.record
        record.step += 1
        if self.on_step is not None:
            self.on_step(record.case.id, record.step, step, record.variables)
        try:
            if isinstance(step, RepeatStep):
                for binding in step.bindings(variables=record.variables):
                    record.variables.update(binding)
                    record.note(f"repeat {short_json(binding) if binding else ''}".strip())
                    await self.walk(step.steps)
            else:
                await self.kinds.run(step, record, self.host)
        except SubstitutionError as exc:
            cause = record.missing_cause(exc)
            if cause is None:
                raise  # the case refers to something no step stores: a defect of the case
            record.not_run(step, cause=cause)
            raise StopCase from None
