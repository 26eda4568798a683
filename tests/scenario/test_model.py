"""Model behaviour the runner relies on: convenience steps, levels, targets, YAML details."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.scenario import (
    LIMIT,
    ClearProfileStep,
    Level,
    ParamRef,
    Quantity,
    SendStep,
    SetProfileStep,
    SubstitutionError,
    Target,
    load_cases,
    match,
    resolve_int,
    resolve_number,
    substitute,
)
from harness.scenario.yamlsource import read_yaml_text
from harness.versions import OcppVersion
from tests.scenario.conftest import MINIMAL

Problems = Callable[[str], list[str]]
DATA = Path(__file__).parent / "data" / "cases"


def test_set_profile_becomes_the_versions_send() -> None:
    (case,) = load_cases([DATA / "tc_066_cs.yaml"])
    tx_profile = case.steps[5]
    assert isinstance(tx_profile, SetProfileStep)
    v16 = tx_profile.as_send(OcppVersion.V16)
    assert isinstance(v16, SendStep)
    assert v16.action == "SetChargingProfile"
    assert set(v16.payload) == {"connectorId", "csChargingProfiles"}
    assert v16.payload["connectorId"] == "${connector_id}"
    v201 = tx_profile.as_send(OcppVersion.V201)
    assert set(v201.payload) == {"evseId", "chargingProfile"}
    assert v201.payload["chargingProfile"]["chargingProfileId"] == 3
    # without an expectation, Accepted is expected
    assert match(v16.expect, {"status": "Accepted"}).matched  # type: ignore[arg-type]
    assert not match(v16.expect, {"status": "Rejected"}).matched  # type: ignore[arg-type]
    values = {**case.default_parameters(), "connector_id": 2}
    sent = substitute(v16.payload, variables=values, now=datetime(2025, 1, 1, tzinfo=UTC))
    assert sent["connectorId"] == 2
    assert sent["csChargingProfiles"]["transactionId"] == 66


def test_clear_profile_by_criteria_for_each_version() -> None:
    step = ClearProfileStep(
        kind="clear_profile", evse=1, purpose="TxProfile", stack_level=0, precondition=True
    )
    v16 = step.as_send(OcppVersion.V16)
    assert v16.payload == {"connectorId": 1, "chargingProfilePurpose": "TxProfile", "stackLevel": 0}
    assert v16.precondition is True
    v21 = step.as_send(OcppVersion.V21)
    assert v21.payload == {
        "chargingProfileCriteria": {
            "evseId": 1,
            "chargingProfilePurpose": "TxProfile",
            "stackLevel": 0,
        }
    }
    clear_all = ClearProfileStep(kind="clear_profile").as_send(OcppVersion.V201)
    assert clear_all.payload == {}
    by_id = ClearProfileStep(kind="clear_profile", profile_id=ParamRef("pid"))
    assert by_id.as_send(OcppVersion.V16).payload == {"id": "${pid}"}


def test_explicit_expectation_replaces_the_default() -> None:
    step = SetProfileStep.model_validate(
        {
            "kind": "set_profile",
            "profile": {"chargingProfileId": 1},
            "expect": {"status": "Rejected"},
            "expect_call_error": ["PropertyConstraintViolation"],
        }
    )
    send = step.as_send(OcppVersion.V16)
    assert match(send.expect, {"status": "Rejected"}).matched  # type: ignore[arg-type]
    assert [str(c) for c in send.expect_call_error or ()] == ["PropertyConstraintViolation"]


def test_step_level_comes_from_the_step_then_the_requirement(
    write: Callable[[str, str], Path],
) -> None:
    (case,) = load_cases([DATA / "vp_04.yaml"])
    levels = [case.step_level(step) for step in case.steps]
    assert set(levels) == {Level.MUST}
    text = (
        MINIMAL.replace("duration_s: 1", "duration_s: 1\n    requirement: R1")
        + "  - {kind: wait, duration_s: 1, requirement: R1, level: MUST}\n"
        + "requirements: [{id: R1, level: SHOULD, text: should wait}]\n"
    )
    (other,) = load_cases([write(text, "levels.yaml")])
    assert [other.step_level(s) for s in other.steps] == [Level.SHOULD, Level.MUST]


def test_preconditions_are_marked_in_the_example() -> None:
    (case,) = load_cases([DATA / "vp_04.yaml"])
    flagged = [i for i, step in enumerate(case.steps) if step.precondition]
    assert flagged == [1, 2, 3, 4]


def test_target_evaluation() -> None:
    target = Target((LIMIT, ParamRef("vehicle_max_a")))
    assert target.evaluate(limit=16.0, variables={"vehicle_max_a": 13}) == 13.0
    assert target.evaluate(limit=10.0, variables={"vehicle_max_a": 13}) == 10.0
    assert target.evaluate(limit=None, variables={"vehicle_max_a": 13}) == 13.0
    assert str(target) == "min(limit, ${vehicle_max_a})"
    with pytest.raises(ValueError, match="no limit in force"):
        Target((LIMIT,)).evaluate(limit=None, variables={})


def test_bad_target(problems: Problems) -> None:
    steps = "  - {kind: expect_settled, target: 'max(1, 2)', tolerance: 1, within_s: 5}\n"
    (problem,) = problems(MINIMAL + steps)
    assert problem.startswith("case.yaml:9:36: steps[1].expect_settled.target: expected a number,")


def test_negative_tolerance_and_soc_out_of_range(problems: Problems) -> None:
    steps = (
        "  - {kind: expect_settled, target: 6, tolerance: -1, within_s: 5}\n"
        "  - {kind: vehicle, action: set_soc, soc_percent: 120}\n"
    )
    assert problems(MINIMAL + steps) == [
        "case.yaml:9:50: steps[1].expect_settled.tolerance: "
        "expected a number of at least 0, got -1",
        "case.yaml:10:51: steps[2].vehicle.soc_percent: "
        "expected a percentage of at most 100, got 120",
    ]


def test_reserved_and_malformed_names(problems: Problems) -> None:
    text = MINIMAL + "parameters:\n  now: {type: number, default: 1}\n"
    assert problems(text) == ["case.yaml:10:8: parameters.now: 'now' is reserved (${now}, limit)"]
    text = MINIMAL + "parameters:\n  bad-name: {type: number, default: 1}\n"
    (problem,) = problems(text)
    assert problem.startswith("case.yaml:10:3: parameters.bad-name: expected a name of letters")


def test_numbers_resolve_from_variables() -> None:
    assert resolve_number(ParamRef("pause_s"), variables={"pause_s": 1200.0}) == 1200.0
    assert resolve_number(5, variables={}) == 5.0
    assert resolve_int(ParamRef("evse"), variables={"evse": 2}) == 2
    with pytest.raises(SubstitutionError, match="not a number"):
        resolve_number(ParamRef("tag"), variables={"tag": "x"})
    with pytest.raises(SubstitutionError, match="unknown variable"):
        resolve_int(ParamRef("nope"), variables={})


def test_yaml_keeps_timestamps_as_text_and_merges_keys() -> None:
    located, problems = read_yaml_text(
        "t: 2025-01-01T00:00:00Z\nbase: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nagain: *b\n",
        file="f.yaml",
    )
    assert problems == []
    assert located is not None
    assert located.data == {
        "t": "2025-01-01T00:00:00Z",
        "base": {"x": 1, "y": 2},
        "use": {"x": 1, "y": 3},
        "again": {"x": 1, "y": 2},
    }


def test_recursive_alias_is_an_error_not_a_crash() -> None:
    _, problems = read_yaml_text("a: &x [1, *x]\n", file="f.yaml")
    assert [str(p) for p in problems] == [
        "f.yaml:1:4: a[1]: an alias refers to a value that contains it"
    ]


def test_alias_bomb_is_cut_short() -> None:
    rows = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 7):
        refs = ",".join([f"*a{level - 1}"] * 10)
        rows.append(f"a{level}: &a{level} [{refs}]")
    _, problems = read_yaml_text("\n".join(rows) + "\n", file="bomb.yaml")
    assert len(problems) == 1
    assert "alias expansion" in problems[0].message


def test_control_characters_are_a_located_syntax_error() -> None:
    _, problems = read_yaml_text("a: 1\nb: x\x08y\n", file="f.yaml")
    assert [str(p) for p in problems] == [
        "f.yaml:2:5: <top>: YAML syntax: character U+0008 is not allowed in YAML"
    ]


def test_quantities_name_their_measurand_and_unit(problems: Problems) -> None:
    assert Quantity.CURRENT.measurand == "Current.Import"
    assert Quantity.CURRENT_OFFERED.unit == "A"
    assert Quantity.POWER_EXPORT.measurand == "Power.Active.Export"
    assert Quantity.POWER_EXPORT.unit == "W"
    discharge = (
        "  - kind: expect_settled\n"
        "    quantity: power_export\n"
        "    target: ${setpoint_w}\n"
        "    tolerance: 0\n"
        "    rel_tolerance: 0.05\n"
        "    within_s: 30\n"
        "parameters:\n"
        "  setpoint_w: {type: number, default: 3680, unit: W}\n"
    )
    assert problems(MINIMAL + discharge) == []
