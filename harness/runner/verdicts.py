"""The verdict bookkeeping of one running case, the same for both roles of the harness.

:class:`CaseRecord` collects what a case engine concludes — the checks (each under a
requirement of the case), the step log — and applies the rules every result obeys whichever
role the harness plays (:class:`harness.runner.engine.CaseEngine` as CSMS,
:class:`harness.runner.station_role.engine.StationCaseEngine` as station, and the step kinds
kept in their own modules):

* every ``${name}`` in an Expected or requirement text is resolved (issue #14);
* every text that reaches a check or the step log is redacted
  (:func:`harness.security.redaction.redact`: passwords, credentials, private keys), so a
  secret the DUT echoes never reaches ``results.jsonl`` or a report;
* every step-log line is cut at :data:`NOTE_LIMIT_CHARS`;
* a value a step stores (``store``) is kept in the case's variables (:meth:`CaseRecord.store`);
  when that step fails without storing it, a later step that needs it is **not run**
  (:meth:`CaseRecord.missing_cause`, :meth:`CaseRecord.not_run`): its requirement is left
  INCONCLUSIVE, the failure already recorded decides the case — never an ERROR of the
  harness (the DUT broke a rule; nothing in the harness or the case is wrong).

What to conclude (a failed precondition stops the case, a connection our policy closed makes a
step unjudgeable) stays with the engine; this class only records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from harness.clock import Clock
from harness.results import CheckResult, Level, Requirement, StepRecord
from harness.scenario import Case, Step, SubstitutionError, extract, resolve_text
from harness.security.redaction import redact

__all__ = ["NOTE_LIMIT_CHARS", "CaseRecord", "redact_text", "short_json"]

NOTE_LIMIT_CHARS = 500
"""A step-log line longer than this is cut (the full text, where it matters, is in a check
or the trace)."""


def redact_text(text: str) -> str:
    """``text`` with every secret replaced (see :mod:`harness.security.redaction`)."""
    return str(redact(text))


def short_json(value: Any, limit: int = 300) -> str:
    """``value`` as compact JSON for a note or a check text, cut at ``limit`` characters
    (``…``). Passwords in a payload (AuthorizationKey, BasicAuthPassword, credential fields)
    are hidden first: a cut could split one."""
    text = json.dumps(redact(value), separators=(",", ":"), default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CaseRecord:
    """Checks and step log of one run of ``case``.

    ``variables`` is the engine's live mapping of parameters and stored values (read when a
    text is resolved; written by :meth:`store`); ``notes`` open the step log."""

    def __init__(
        self,
        case: Case,
        *,
        clock: Clock,
        variables: dict[str, Any],
        notes: Sequence[str] = (),
    ) -> None:
        self.case = case
        self.clock = clock
        self.variables = variables
        self.checks: list[CheckResult] = []
        self.log: list[StepRecord] = [StepRecord(clock.now(), 0, self._clean(t)) for t in notes]
        self.started = clock.now()
        """When the case began (clock time)."""
        self.step = 0
        """The number of the running step (from 1; repeats counted); 0 before the first."""
        self._unstored: dict[str, int] = {}
        """Variable → the number of the step that should have stored it and failed."""

    # ------------------------------------------------------------------ variables

    def store(self, store: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        """Save the values ``store`` names (variable → payload path) from ``payload``;
        return what was missing (a step failure's Actual), or ``None``."""
        for name, path in store.items():
            try:
                self.variables[name] = extract(payload, path)
            except LookupError as exc:
                return f"the payload has no {path} to store as {name} ({exc})"
            self._unstored.pop(name, None)
        return None

    def _remember_unstored(self, step: Step) -> None:
        """``step`` failed (or was not judged): what it should have stored and did not is
        remembered, so that a later step needing it is not run (:meth:`missing_cause`)."""
        names: Mapping[str, str] = getattr(step, "store", None) or {}
        for name in names:
            if name not in self.variables:
                self._unstored[name] = self.step

    def missing_cause(self, error: SubstitutionError) -> str | None:
        """Why a reference could not be resolved, when the reason is an earlier step that
        failed before storing the value (``None``: the case refers to something no step
        stores — a defect of the case, an ERROR)."""
        name = error.name
        if name is None or name not in self._unstored:
            return None
        return f"step {self._unstored[name]}, which should have stored ${{{name}}}, failed"

    def not_run(self, step: Step, *, cause: str) -> None:
        """Record that ``step`` was not run because ``cause`` (see :meth:`missing_cause`):
        its requirement is INCONCLUSIVE (the earlier failure is recorded already)."""
        self.note(f"step {self.step}: not run — {cause}")
        self.inconclusive(
            step,
            expected="the step runs with the values earlier steps stored",
            reason=f"not run: {cause} (that failure is recorded)",
        )

    # ------------------------------------------------------------------ texts

    def text(self, value: str) -> str:
        """``value`` for a reader: references resolved, secrets redacted."""
        return redact_text(resolve_text(value, variables=self.variables))

    @staticmethod
    def _clean(text: str) -> str:
        return redact_text(text)[:NOTE_LIMIT_CHARS]

    def note(self, text: str) -> None:
        """Add a line to the step log (redacted, cut at :data:`NOTE_LIMIT_CHARS`), under the
        running step (under the first when no step has run: a case that ends before its first
        step still gets its notes, e.g. the protocol findings)."""
        index = max(self.step - 1, 0)
        self.log.append(StepRecord(self.clock.now(), index, self._clean(text)))

    # ------------------------------------------------------------------ checks

    def requirement(self, step: Step) -> Requirement:
        """The requirement ``step`` judges: its own, else the case's first, else the case
        itself; at the step's level (MUST, SHOULD...)."""
        case = self.case
        level = Level(case.step_level(step).value)
        if step.requirement is not None:
            found = case.requirement(step.requirement)
            return Requirement(step.requirement, level, self.text(found.text) if found else "")
        if case.requirements:
            first = case.requirements[0]
            return Requirement(first.id, level, self.text(first.text))
        return Requirement(case.id, level, self.text(case.title))

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
    ) -> bool:
        """Record a judged step; ``True`` when the case must stop (a precondition not met).

        Met: a PASS check (none for a precondition). Not met: a FAIL check, or for a
        precondition an INCONCLUSIVE one ("setup failed"). ``declared``: the DUT answered
        "not supported" to what its declaration promises (see
        :mod:`harness.runner.declared`) — a failure is then FAIL at MUST even in a
        precondition, with the declaration cited in the Expected."""
        requirement = self.requirement(step)
        where = f"step {self.step}"
        if declared is not None and not ok:
            expected = f"{expected} — {declared}"
            requirement = replace(requirement, level=Level.MUST)
        # A matcher's "got ..." quotes the DUT's answer: hide passwords there too.
        expected, actual = self.text(expected), redact_text(actual)
        if ok:
            self.note(f"{where}: ok — {actual}")
            if not step.precondition:
                self.checks.append(
                    CheckResult.passed(
                        requirement, expected=expected, actual=actual, frames=frames, series=series
                    )
                )
            return False
        self.note(f"{where}: not met — {actual}")
        self._remember_unstored(step)
        if step.precondition and declared is None:
            self.checks.append(
                CheckResult.inconclusive(
                    requirement,
                    expected=expected,
                    reason=f"setup ({where}) failed: {actual}",
                    frames=frames,
                    series=series,
                )
            )
            return True
        self.checks.append(
            CheckResult.failed(
                requirement, expected=expected, actual=actual, frames=frames, series=series
            )
        )
        return step.precondition

    def inconclusive(
        self,
        step: Step,
        *,
        expected: str,
        reason: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
    ) -> None:
        """Record an INCONCLUSIVE check: the harness could not judge ``step``."""
        self._remember_unstored(step)
        self.checks.append(
            CheckResult.inconclusive(
                self.requirement(step),
                expected=self.text(expected),
                reason=redact_text(reason),
                frames=frames,
                series=series,
            )
        )

    def unjudgeable(
        self,
        step: Step,
        *,
        expected: str,
        reason: str,
        frames: tuple[int, ...] = (),
        series: tuple[str, ...] = (),
    ) -> None:
        """A step log line ``cannot judge — reason`` and an INCONCLUSIVE check."""
        self.note(f"step {self.step}: cannot judge — {reason}")
        self.inconclusive(step, expected=expected, reason=reason, frames=frames, series=series)

    def failed(
        self, requirement: Requirement, *, expected: str, actual: str, frames: tuple[int, ...] = ()
    ) -> None:
        """Record a FAIL check not tied to a step (protocol violations found after the
        steps, unsolicited profiles)."""
        self.checks.append(
            CheckResult.failed(
                requirement, expected=self.text(expected), actual=redact_text(actual), frames=frames
            )
        )
