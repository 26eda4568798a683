"""The settle rule on its own (pure, clock-free)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.runner import SettleJudge, SettleState
from harness.scenario import Relation


def judge(**kwargs: object) -> SettleJudge:
    base: dict[str, object] = dict(
        relation=Relation.NEAR,
        tolerance=1.0,
        rel_tolerance=0.0,
        start_s=0.0,
        within_s=15.0,
        hold_s=10.0,
    )
    base.update(kwargs)
    return SettleJudge(**base)  # type: ignore[arg-type]


def feed(j: SettleJudge, samples: list[tuple[float, list[float]]], target: float) -> SettleState:
    for t, values in samples:
        j.feed(t, values, target)
    return j.state


def test_settles_when_a_run_starting_in_time_holds() -> None:
    samples = [(2.0, [20.0] * 3), (4.0, [16.5] * 3), (9.0, [16.2] * 3), (14.0, [15.9] * 3)]
    j = judge()
    assert feed(j, samples, 16.0) is SettleState.SETTLED
    assert j.run_start_s == 4.0


def test_a_run_broken_after_the_deadline_is_not_settled() -> None:
    samples = [(4.0, [16.0] * 3), (10.0, [16.0] * 3), (16.0, [19.0] * 3)]
    assert feed(judge(), samples, 16.0) is SettleState.NOT_SETTLED


def test_sparse_samples_around_the_deadline_cannot_decide() -> None:
    j = judge()
    assert feed(j, [(10.0, [20.0] * 3), (20.0, [16.0] * 3)], 16.0) is SettleState.NO_DATA
    assert j.uncertain is not None
    assert "too sparse" in j.uncertain


def test_silence_is_no_data_and_a_miss_is_not_settled() -> None:
    assert judge().at_time(100.0) is SettleState.NO_DATA
    j = judge()
    j.feed(5.0, [20.0, 20.0, 20.0], 16.0)
    assert j.at_time(16.0) is SettleState.NOT_SETTLED


def test_one_phase_vehicle_and_the_phases_field() -> None:
    one_phase = [0.0, 0.2, 16.0]
    assert judge().good(one_phase, 16.0)  # the phases that carry current are judged
    assert not judge(phases=3).good(one_phase, 16.0)
    assert judge(phases=1).good(one_phase, 16.0)
    assert not judge(phases=1).good([16.0, 16.0, 0.0], 16.0)  # a second phase carries current


def test_relative_tolerance_wins_when_larger() -> None:
    assert judge(tolerance=1.0, rel_tolerance=0.05).good([7000.0], 7300.0)
    assert not judge(tolerance=1.0, rel_tolerance=0.01).good([7000.0], 7300.0)


@given(
    target=st.floats(min_value=0, max_value=80),
    value=st.floats(min_value=0, max_value=80),
    tolerance=st.floats(min_value=0, max_value=5),
)
def test_relations_are_ordered(target: float, value: float, tolerance: float) -> None:
    near = judge(relation=Relation.NEAR, tolerance=tolerance).good([value], target)
    below = judge(relation=Relation.AT_OR_BELOW, tolerance=tolerance).good([value], target)
    above = judge(relation=Relation.AT_LEAST, tolerance=tolerance).good([value], target)
    assert near == (below and above)
    assert below or above
