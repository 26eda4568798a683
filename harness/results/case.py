"""The result of one case run: identity, checks, step log, timing, measurements, verdict."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.results._json import Obj, ResultFormatError, dump_time, require_utc
from harness.results.measurement import MeasurementSource, Quantity, Series
from harness.results.model import CaseInfo, CheckResult, Interruption, StepRecord
from harness.results.verdict import Verdict, combine, worst

__all__ = ["CaseResult"]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """Everything a report needs about one case run against one set of devices.

    Times are clock times (aware UTC, from the run's :class:`~harness.clock.Clock`);
    ``wall_duration_s`` is the wall time the run took, measured by the runner (with an
    accelerated clock it is much shorter than ``finished_at - started_at``).

    The :attr:`verdict` is derived, never stored independently:

    * an ``interruption`` of kind ``NOT_APPLICABLE`` means the case did not run: the verdict
      is ``NOT_APPLICABLE`` (and there are no checks, steps or series);
    * otherwise the check verdicts and the interruption (if any) combine with
      :func:`~harness.results.verdict.combine` --
      ``ERROR > FAIL > INCONCLUSIVE > NON_STRICT > PASS``, not-applicable checks ignored;
    * a case that ran but judged nothing (no checks, or all not applicable) is
      ``INCONCLUSIVE``: it must never read as a pass.
    """

    info: CaseInfo
    started_at: datetime
    finished_at: datetime
    wall_duration_s: float
    checks: tuple[CheckResult, ...] = ()
    steps: tuple[StepRecord, ...] = ()
    interruption: Interruption | None = None
    measurement_source: MeasurementSource = MeasurementSource.NONE
    series: tuple[Series, ...] = ()

    def __post_init__(self) -> None:
        cid = self.info.case_id
        start, end = self.started_at, self.finished_at
        if type(start) is not datetime or start.tzinfo is not UTC:  # else: as it is
            start = require_utc(start, f"case {cid} started_at")
        if type(end) is not datetime or end.tzinfo is not UTC:
            end = require_utc(end, f"case {cid} finished_at")
        if end < start:
            raise ValueError(f"case {cid}: finished_at {dump_time(end)} is before started_at")
        object.__setattr__(self, "started_at", start)
        object.__setattr__(self, "finished_at", end)
        wall = float(self.wall_duration_s)
        if not math.isfinite(wall) or wall < 0:
            raise ValueError(f"case {cid}: wall_duration_s must be finite and >= 0, got {wall}")
        object.__setattr__(self, "wall_duration_s", wall)
        for name in ("checks", "steps", "series"):
            value = getattr(self, name)
            if type(value) is not tuple:
                object.__setattr__(self, name, tuple(value))
        if self.did_not_run and (self.checks or self.steps or self.series):
            raise ValueError(f"case {cid}: a case that did not run has no checks, steps or series")
        if self.series:
            names = [s.name for s in self.series]
            if len(set(names)) != len(names):
                raise ValueError(f"case {cid}: series names must be unique, got {names}")
            measured = [s.name for s in self.series if s.quantity is not Quantity.LIMIT]
            if measured and self.measurement_source is MeasurementSource.NONE:
                raise ValueError(
                    f"case {cid}: measured series {measured} need a measurement_source"
                )

    # -- constructors for the two cases that are not "ran and was judged" -----------------

    @classmethod
    def not_applicable(cls, info: CaseInfo, *, reason: str, at: datetime) -> CaseResult:
        """The case did not run (the capability declaration excludes it)."""
        return cls(info, at, at, 0.0, interruption=Interruption.not_applicable(reason))

    @classmethod
    def harness_error(
        cls,
        info: CaseInfo,
        exc: BaseException,
        *,
        started_at: datetime,
        finished_at: datetime,
        wall_duration_s: float,
        checks: tuple[CheckResult, ...] = (),
        steps: tuple[StepRecord, ...] = (),
    ) -> CaseResult:
        """The harness raised ``exc`` while running the case: ``ERROR``, with the checks
        judged so far kept for the record."""
        return cls(
            info,
            started_at,
            finished_at,
            wall_duration_s,
            checks,
            steps,
            Interruption.harness_error(exc),
        )

    # -- derived -----------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """The case key (file names of the trace and series); see ``case_key``."""
        return self.info.key

    @property
    def did_not_run(self) -> bool:
        """True when the case was excluded and never started."""
        return self.interruption is not None and self.interruption.verdict is Verdict.NOT_APPLICABLE

    @property
    def verdict(self) -> Verdict:
        """The case verdict (see the class docstring for the rule)."""
        if self.did_not_run:
            return Verdict.NOT_APPLICABLE
        verdict = worst(c.verdict for c in self.checks)
        if self.interruption is not None:
            verdict = combine(verdict, self.interruption.verdict)
        return Verdict.INCONCLUSIVE if verdict is Verdict.NOT_APPLICABLE else verdict

    def effective_verdict(self, *, strict: bool) -> Verdict:
        """The verdict as the run counts it: NON_STRICT is FAIL when ``strict``, PASS if not."""
        return self.verdict.effective(strict=strict)

    @property
    def reason(self) -> str:
        """One line saying why the case has its verdict."""
        return self._reason(self.verdict)

    def _reason(self, verdict: Verdict) -> str:
        if self.interruption is not None and (
            self.did_not_run or self.interruption.verdict.severity >= verdict.severity
        ):
            return self.interruption.reason
        judged = [c for c in self.checks if c.verdict is not Verdict.NOT_APPLICABLE]
        if not judged:
            skipped = len(self.checks)
            return (
                f"no check was judged ({skipped} not applicable)"
                if skipped
                else "the case recorded no checks"
            )
        if verdict is Verdict.PASS:
            return f"all {len(judged)} judged checks passed"
        first = next(c for c in judged if c.verdict is verdict)
        r = first.requirement
        if not first.expected:
            return f"{r.id} ({r.level.value}): {first.actual}"
        return f"{r.id} ({r.level.value}): expected {first.expected}; actual {first.actual}"

    @property
    def clock_duration_s(self) -> float:
        """Clock seconds from start to end (scenario time)."""
        return (self.finished_at - self.started_at).total_seconds()

    # -- JSON ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form. ``key``, ``verdict`` and ``reason`` are included for readers
        in other languages; :meth:`from_dict` checks that they agree with the rest."""
        stop = self.interruption
        verdict = self.verdict  # worked out once for both fields
        return {
            "key": self.key,
            "case": self.info.to_dict(),
            "verdict": verdict.value,
            "reason": self._reason(verdict),
            "started_at": dump_time(self.started_at),
            "finished_at": dump_time(self.finished_at),
            "wall_duration_s": self.wall_duration_s,
            "interruption": None
            if stop is None
            else {"verdict": stop.verdict.value, "reason": stop.reason, "detail": stop.detail},
            "checks": [c.to_dict() for c in self.checks],
            "steps": [{"t": dump_time(s.t), "index": s.index, "text": s.text} for s in self.steps],
            "measurement_source": self.measurement_source.value,
            "series": [s.to_dict() for s in self.series],
        }

    def to_json(self) -> str:
        """One line of compact JSON (no newline inside; times ISO 8601 UTC)."""
        return json.dumps(
            self.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )

    @classmethod
    def from_dict(cls, value: Any, *, path: str = "") -> CaseResult:
        """Decode :meth:`to_dict`'s form; raises :class:`ResultFormatError` naming the field."""
        obj = Obj(value, path)
        stop = None
        if obj.has("interruption"):
            raw = obj.obj("interruption")
            parts = (raw.enum("verdict", Verdict), raw.text("reason"), raw.opt_text("detail"))
            try:
                stop = Interruption(*parts)
            except ValueError as exc:
                raise ResultFormatError(f"{raw.path}: {exc}") from None
        steps = []
        for step in obj.objs("steps"):
            try:
                steps.append(StepRecord(step.stamp("t"), step.integer("index"), step.text("text")))
            except ValueError as exc:
                if isinstance(exc, ResultFormatError):
                    raise
                raise ResultFormatError(f"{step.path}: {exc}") from None
        parts2 = (
            CaseInfo.from_obj(obj.obj("case")),
            obj.stamp("started_at"),
            obj.stamp("finished_at"),
            obj.number("wall_duration_s"),
            tuple(CheckResult.from_obj(c) for c in obj.objs("checks")),
            tuple(steps),
            stop,
            obj.enum("measurement_source", MeasurementSource),
            tuple(Series.from_obj(s) for s in obj.objs("series")),
        )
        try:
            result = cls(*parts2)
        except ValueError as exc:
            raise ResultFormatError(f"{path or 'result'}: {exc}") from None
        for name, derived in (("key", result.key), ("verdict", result.verdict.value)):
            if obj.has(name) and obj.raw(name) != derived:
                where = f"{path}.{name}" if path else name
                raise ResultFormatError(
                    f"{where}: stored {obj.raw(name)!r} but the result's content gives {derived!r}"
                )
        return result

    @classmethod
    def from_json(cls, text: str) -> CaseResult:
        """Inverse of :meth:`to_json`: ``from_json(r.to_json()) == r``."""
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResultFormatError(f"not valid JSON: {exc}") from None
        return cls.from_dict(value)
