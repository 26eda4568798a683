"""Comparing two runs (firmware regression testing): new failures, fixed cases, changed
figures.

Cases are matched by their case key (stable across runs: case id + devices). Verdicts are
compared as the runs count them (``effective``: NON_STRICT is PASS, or FAIL when strict).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.results import CaseResult, Verdict
from reports.model import Report, percent

__all__ = ["CaseChange", "ChangeKind", "Comparison", "FigureChange", "compare_reports"]


class ChangeKind(StrEnum):
    """How a case changed from the baseline run to the new one."""

    NEW_FAILURE = "new_failure"
    """Fails now (effective FAIL) and did not fail before (or was not run)."""
    FIXED = "fixed"
    """Failed before, passes now."""
    CHANGED = "changed"
    """Any other change of verdict (e.g. PASS → ERROR, FAIL → INCONCLUSIVE)."""
    ADDED = "added"
    """Only in the new run, and not failing."""
    REMOVED = "removed"
    """Only in the baseline run."""


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One case whose verdict differs between the runs (``None``: not in that run)."""

    key: str
    case_id: str
    devices: str
    kind: ChangeKind
    old: Verdict | None
    new: Verdict | None
    reason: str
    """The new run's reason (or the old one's, for a removed case)."""


@dataclass(frozen=True, slots=True)
class FigureChange:
    """A headline figure that changed; rates are fractions (0..1), counts are integers."""

    name: str
    old: float | None
    new: float | None
    is_rate: bool

    def describe(self) -> str:
        """E.g. ``"Vehicles at station CP-1, overall by count: 90 % → 85 %"``."""
        if self.is_rate:
            return f"{self.name}: {percent(self.old)} → {percent(self.new)}"

        def num(v: float | None) -> str:
            return "–" if v is None else f"{v:g}"

        return f"{self.name}: {num(self.old)} → {num(self.new)}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """What changed from ``old_run_id`` (the baseline) to ``new_run_id``."""

    old_run_id: str
    new_run_id: str
    changes: tuple[CaseChange, ...]
    figures: tuple[FigureChange, ...]

    def of_kind(self, kind: ChangeKind | str) -> tuple[CaseChange, ...]:
        """The case changes of one kind (a :class:`ChangeKind` or its value)."""
        wanted = ChangeKind(kind)
        return tuple(c for c in self.changes if c.kind is wanted)

    @property
    def new_failures(self) -> tuple[CaseChange, ...]:
        """Cases that fail now and did not before."""
        return self.of_kind(ChangeKind.NEW_FAILURE)

    @property
    def fixed(self) -> tuple[CaseChange, ...]:
        """Cases that failed before and pass now."""
        return self.of_kind(ChangeKind.FIXED)


def _devices(result: CaseResult) -> str:
    return " + ".join(d.id for d in result.info.devices)


def _classify(old: Verdict | None, new: Verdict | None) -> ChangeKind | None:
    if old == new:
        return None
    if new is Verdict.FAIL:
        return ChangeKind.NEW_FAILURE
    if new is None:
        return ChangeKind.REMOVED
    if old is None:
        return ChangeKind.ADDED
    if old is Verdict.FAIL and new is Verdict.PASS:
        return ChangeKind.FIXED
    return ChangeKind.CHANGED


def _figures(report: Report) -> dict[str, tuple[float | None, bool]]:
    figures: dict[str, tuple[float | None, bool]] = {}
    for verdict, count in report.summary.counts.items():
        figures[f"cases {verdict.value}"] = (float(count), False)
    for matrix in report.matrices:
        figures[f"{matrix.title}, overall by count"] = (matrix.overall.by_count, True)
        figures[f"{matrix.title}, overall by market share"] = (matrix.overall.weighted, True)
        for stats in matrix.column_stats:
            cid = stats.column.case_id
            figures[f"{matrix.title}, {cid} by count"] = (stats.rate.by_count, True)
            figures[f"{matrix.title}, {cid} by market share"] = (stats.rate.weighted, True)
    return figures


def compare_reports(old: Report, new: Report) -> Comparison:
    """Compare the baseline ``old`` with ``new``. Both should have the same ``strict``."""
    if old.strict != new.strict:
        raise ValueError("compare two reports built with the same strict setting")
    strict = new.strict
    olds = {r.key: r for r in old.results}
    news = {r.key: r for r in new.results}
    changes = []
    for key in sorted(olds.keys() | news.keys()):
        o, n = olds.get(key), news.get(key)
        ov = None if o is None else o.effective_verdict(strict=strict)
        nv = None if n is None else n.effective_verdict(strict=strict)
        kind = _classify(ov, nv)
        if kind is None and o is not None and n is not None and o.verdict != n.verdict:
            kind = ChangeKind.CHANGED  # e.g. PASS → NON_STRICT when not strict
        if kind is None:
            continue
        either = n if n is not None else o
        assert either is not None
        changes.append(
            CaseChange(
                key,
                either.info.case_id,
                _devices(either),
                kind,
                None if o is None else o.verdict,
                None if n is None else n.verdict,
                either.reason,
            )
        )
    old_f, new_f = _figures(old), _figures(new)
    figures = []
    for name in list(old_f) + [k for k in new_f if k not in old_f]:
        ov_, is_rate = old_f.get(name, (None, new_f[name][1] if name in new_f else True))
        nv_ = new_f.get(name, (None, is_rate))[0]
        if ov_ is None and nv_ is None:
            continue
        if ov_ is not None and nv_ is not None and abs(ov_ - nv_) < 1e-9:
            continue
        figures.append(FigureChange(name, ov_, nv_, is_rate))
    return Comparison(old.manifest.run_id, new.manifest.run_id, tuple(changes), tuple(figures))
