"""Every bracketed value of the vehicle programme table is a parameter with that default.

The table below is copied from the programme (``[16 A]``, ``[5 min]``, ``[response 15 s]``,
``[tolerance 1.0 A]``, ``[hold 10 s]`` ...), one row per case; durations in seconds.
"""

from __future__ import annotations

import pytest

from harness.scenario import ParamType, parse_param_options, resolve_parameters
from tests.scenarios.library import VP_IDS, load_case

MIN = 60.0
HOUR = 3600.0
SETTLED = {"tolerance_a": 1.0, "hold_s": 10.0}  # the programme's "settled" definition

PROGRAMME_DEFAULTS: dict[str, dict[str, float]] = {
    "VP-01": {"start_limit_a": 16, "step_s": 5 * MIN, "response_s": 15},
    "VP-02": {"response_s": 30, "under_draw_fraction": 0.8},
    "VP-03": {"hold_min_s": 10 * MIN, "charging_min_a": 5},
    "VP-04": {"start_limit_a": 16, "pause_s": 20 * MIN, "resume_within_s": 60, "resume_min_a": 6},
    "VP-05": {"start_limit_a": 16, "pause_s": 6 * HOUR, "resume_within_s": 60, "resume_min_a": 6},
    "VP-06": {"raise_limit_a": 16, "delay_s": 20 * MIN, "start_response_s": 60},
    "VP-07": {"raise_limit_a": 16, "delay_s": 6 * HOUR, "start_response_s": 60},
    "VP-08": {
        "period_s": 15 * MIN,
        "limit_1_a": 16,
        "limit_2_a": 8,
        "limit_3_a": 12,
        "limit_4_a": 6,
        "limit_5_a": 16,
        "limit_6_a": 10,
        "response_down_s": 15,  # "as VP-01"
        "response_up_s": 30,  # "as VP-02"
        "under_draw_fraction": 0.8,
    },
    "VP-09": {"period_s": 15 * MIN, "cycles": 4, "resume_within_s": 60, "resume_min_a": 6},
    "VP-10": {"limit_a": 16},
    "VP-11": {"limit_high_w": 7400, "limit_low_w": 4140},
    "VP-12": {
        "high_limit_a": 16,
        "low_limit_a": 8,
        "repetitions": 3,
        "fail_after_s": 60,
        "non_strict_after_s": 15,
    },
    "VP-13": {"offered_tolerance_a": 0.5, "offered_within_s": 5, "start_limit_a": 16},
}


@pytest.mark.parametrize("case_id", VP_IDS)
def test_programme_values_are_parameters_with_their_defaults(case_id: str) -> None:
    case = load_case(case_id)
    defaults = resolve_parameters(case)
    expected = {**SETTLED, **PROGRAMME_DEFAULTS[case_id]}
    if case_id == "VP-03":  # "throughout (≥ 5 A)": held for the whole 10 min, no tolerance
        del expected["tolerance_a"], expected["hold_s"]
    if case_id == "VP-13":  # Current.Offered has its own 0.5 A
        del expected["tolerance_a"]
    for name, value in expected.items():
        assert name in case.parameters, f"{case_id}: no parameter {name}"
        assert defaults[name] == value, f"{case_id}: {name} = {defaults[name]}, expected {value}"


@pytest.mark.parametrize("case_id", VP_IDS)
def test_time_parameters_are_durations(case_id: str) -> None:
    """A lab can write ``pause_s=6h``: every ``*_s`` parameter is a duration."""
    case = load_case(case_id)
    timed = {name: spec for name, spec in case.parameters.items() if name.endswith("_s")}
    assert timed
    for name, spec in timed.items():
        assert spec.type is ParamType.DURATION, name


def test_a_lab_override_reaches_the_case() -> None:
    case = load_case("VP-05")
    assert resolve_parameters(case)["pause_s"] == 6 * HOUR
    overrides = parse_param_options(["VP-05:pause_s=4h"])
    assert resolve_parameters(case, overrides)["pause_s"] == 4 * HOUR
