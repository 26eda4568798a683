"""Judging ``expect_settled``: did a measured quantity settle at its target, and hold there?

Pure and clock-free: :class:`SettleJudge` is fed sample sets (time in clock seconds, one
value per phase or a total) with the target in force at that time, and asked at given
times whether the deadline has passed. The engine does the waiting.

Rule (``scenarios/schema/README.md``, ``expect_settled``): settled means every judged value
relates to the target as ``relation`` says, within ``max(tolerance, rel_tolerance ×
|target|)``, for ``hold_s`` — a run of good samples that starts no later than ``within_s``
after the step began and is confirmed by a good sample at least ``hold_s`` after its first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from harness.scenario import Relation

__all__ = ["SettleJudge", "SettleState", "relation_holds"]

CONFIRM_GRACE_S = 65.0
"""How long after a run's hold ends the judge waits for a sample that confirms it (covers a
station reporting once a minute)."""


class SettleState(StrEnum):
    """Where the judgement stands."""

    WAITING = "waiting"
    SETTLED = "settled"
    NOT_SETTLED = "not_settled"
    NO_DATA = "no_data"
    """No (or too few) samples to judge: the harness cannot say (INCONCLUSIVE)."""


def _allowance(target: float, tolerance: float, rel_tolerance: float) -> float:
    return max(tolerance, rel_tolerance * abs(target))


def relation_holds(value: float, target: float, relation: Relation, allowance: float) -> bool:
    """``value`` relates to ``target`` as ``relation`` says, within ``allowance``."""
    if relation is Relation.NEAR:
        return abs(value - target) <= allowance + 1e-9
    if relation is Relation.AT_OR_BELOW:
        return value <= target + allowance + 1e-9
    return value >= target - allowance - 1e-9


@dataclass
class SettleJudge:
    """Incremental judgement of one ``expect_settled`` step (times in clock seconds)."""

    relation: Relation
    tolerance: float
    rel_tolerance: float
    start_s: float
    within_s: float
    hold_s: float
    phases: int | None = None
    state: SettleState = SettleState.WAITING
    run_start_s: float | None = None
    samples_seen: int = 0
    last_values: tuple[float, ...] = ()
    last_target: float | None = None
    last_t_s: float | None = None
    uncertain: str | None = None
    """Why the sampling could not decide (with state NO_DATA)."""
    run_frames: list[int] = field(default_factory=list)
    recent_frames: list[int] = field(default_factory=list)

    @property
    def deadline_s(self) -> float:
        """The latest time a settled run may begin."""
        return self.start_s + self.within_s

    def allowance(self, target: float) -> float:
        """The tolerance band around ``target``."""
        return _allowance(target, self.tolerance, self.rel_tolerance)

    def good(self, values: Sequence[float], target: float) -> bool:
        """Whether one sample set satisfies the relation (see the step's ``phases`` rule)."""
        allowance = self.allowance(target)
        if not values:
            return False
        ordered = sorted(values, reverse=True)
        if self.phases is not None:
            carrying, idle = ordered[: self.phases], ordered[self.phases :]
            if len(carrying) < self.phases:
                return False
            if any(v > self.tolerance + 1e-9 for v in idle):
                return False
        elif self.relation is Relation.AT_OR_BELOW:
            carrying = ordered
        else:  # the phases that carry current (a one-phase vehicle on a three-phase meter)
            threshold = max(self.tolerance, 0.5)
            carrying = [v for v in ordered if v > threshold] or ordered[:1]
        return all(relation_holds(v, target, self.relation, allowance) for v in carrying)

    def feed(
        self, t_s: float, values: Sequence[float], target: float, frame: int | None = None
    ) -> SettleState:
        """Judge one sample set taken at ``t_s`` with ``target`` in force."""
        if self.state is not SettleState.WAITING:
            return self.state
        self.samples_seen += 1
        previous_s = self.last_t_s
        self.last_values, self.last_target, self.last_t_s = tuple(values), target, t_s
        if frame is not None:
            self.recent_frames = [*self.recent_frames[-4:], frame]
        if self.good(values, target):
            if self.run_start_s is None:
                if t_s > self.deadline_s:
                    # The change happened after the last sample that missed the target; if that
                    # one came before the deadline, the samples cannot tell whether it was late.
                    before = previous_s if previous_s is not None else self.start_s
                    self.uncertain = (
                        f"the samples are too sparse to decide: "
                        f"{'not met at' if previous_s is not None else 'step began at'} "
                        f"+{before - self.start_s:.1f} s, met at +{t_s - self.start_s:.1f} s, "
                        f"deadline +{self.within_s:g} s"
                    )
                    self.state = SettleState.NO_DATA
                    return self.state
                self.run_start_s = t_s
                self.run_frames = []
            if frame is not None and len(self.run_frames) < 20:
                self.run_frames.append(frame)
            if t_s - self.run_start_s >= self.hold_s:
                self.state = SettleState.SETTLED
        else:
            self.run_start_s = None
            self.run_frames = []
            if t_s > self.deadline_s:
                self.state = SettleState.NOT_SETTLED
        return self.state

    def next_decision_s(self) -> float:
        """When :meth:`at_time` may change the state if no sample arrives."""
        if self.run_start_s is None:
            return self.deadline_s
        return self.run_start_s + self.hold_s + max(CONFIRM_GRACE_S, self.hold_s)

    def at_time(self, now_s: float) -> SettleState:
        """Judge the passing of time without new samples."""
        if self.state is not SettleState.WAITING or now_s < self.next_decision_s():
            return self.state
        if self.run_start_s is None:
            self.state = SettleState.NOT_SETTLED if self.samples_seen else SettleState.NO_DATA
        else:
            self.state = SettleState.NO_DATA
        return self.state
