"""Parameter overrides: command line, lab file, precedence, type checking, unknown names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.scenario import (
    ParameterOverrides,
    ScenarioLoadError,
    check_overrides,
    load_cases,
    load_lab_parameters,
    parse_param_options,
    resolve_parameters,
)
from harness.scenario.model import Case

DATA = Path(__file__).parent / "data" / "cases"


@pytest.fixture(scope="module")
def vp04() -> Case:
    return load_cases([DATA / "vp_04.yaml"])[0]


@pytest.fixture(scope="module")
def both() -> list[Case]:
    return load_cases([DATA])


def test_defaults(vp04: Case) -> None:
    values = resolve_parameters(vp04)
    assert values["pause_s"] == 1200.0
    assert values["start_limit_a"] == 16.0
    assert values["transaction_id"] == 404
    assert values["id_tag"] == "HARNESS01"


def test_command_line_text_is_coerced_by_type(vp04: Case) -> None:
    overrides = parse_param_options(
        ["pause_s=6h", "start_limit_a=10", "transaction_id=9", "id_tag=ABC=1"]
    )
    values = resolve_parameters(vp04, overrides)
    assert values["pause_s"] == 21600.0
    assert values["start_limit_a"] == 10.0
    assert isinstance(values["transaction_id"], int)
    assert values["transaction_id"] == 9
    assert values["id_tag"] == "ABC=1"


def test_bad_override_value_names_the_option_and_the_type(vp04: Case) -> None:
    overrides = parse_param_options(["transaction_id=1.5", "start_limit_a=100"])
    with pytest.raises(ScenarioLoadError) as caught:
        resolve_parameters(vp04, overrides)
    assert [str(p) for p in caught.value.problems] == [
        "--param start_limit_a=100: start_limit_a: expected at most 80, got '100' "
        "(parameter of VP-04: number)",
        "--param transaction_id=1.5: transaction_id: expected a whole number, got '1.5' "
        "(parameter of VP-04: integer)",
    ]


def test_malformed_option() -> None:
    with pytest.raises(ScenarioLoadError, match="expected NAME=VALUE or CASE_ID:NAME=VALUE"):
        parse_param_options(["pause_s"])


def test_lab_file_with_per_case_values_and_precedence(
    write: Callable[[str, str], Path], both: list[Case]
) -> None:
    lab = write(
        """\
        parameters:
          id_tag: LAB
          pause_s: 30min
        cases:
          VP-04:
            pause_s: 6h
          NOT-LOADED:
            whatever: 1
        """,
        "lab.yaml",
    )
    overrides = load_lab_parameters(lab)
    assert check_overrides(both, overrides) == []
    tc066, _, vp04, _ = sorted(both, key=lambda c: c.id)
    assert resolve_parameters(tc066, overrides)["id_tag"] == "LAB"
    assert resolve_parameters(vp04, overrides)["pause_s"] == 21600.0
    assert resolve_parameters(vp04, overrides)["pause_s"] == 21600.0  # per case beats all
    cli = overrides.then(parse_param_options(["pause_s=1min"]))
    assert resolve_parameters(vp04, cli)["pause_s"] == 60.0  # the command line wins
    cli = overrides.then(parse_param_options(["pause_s=1min", "VP-04:pause_s=2min"]))
    assert resolve_parameters(vp04, cli)["pause_s"] == 120.0
    assert resolve_parameters(tc066, cli) == resolve_parameters(tc066, overrides)


def test_lab_file_values_are_type_checked_with_lines(
    write: Callable[[str, str], Path], vp04: Case
) -> None:
    lab = write("cases:\n  VP-04:\n    pause_s: forever\n", "lab.yaml")
    with pytest.raises(ScenarioLoadError) as caught:
        resolve_parameters(vp04, load_lab_parameters(lab))
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"{lab}:3:14: pause_s: expected a duration")


def test_unknown_parameters_are_reported(
    write: Callable[[str, str], Path], both: list[Case]
) -> None:
    lab = write("parameters:\n  pasue_s: 1\ncases:\n  VP-04:\n    tolerance: 2\n", "lab.yaml")
    problems = [str(p) for p in check_overrides(both, load_lab_parameters(lab))]
    assert len(problems) == 2
    assert problems[0].startswith(
        f"{lab}:2:12: pasue_s: unknown parameter 'pasue_s' (no loaded case)"
    )
    assert problems[0].endswith("did you mean 'pause_s'?")
    assert problems[1].startswith(
        f"{lab}:5:16: tolerance: unknown parameter 'tolerance' for case VP-04"
    )
    assert problems[1].endswith("did you mean 'tolerance_a'?")


def test_malformed_lab_file(write: Callable[[str, str], Path]) -> None:
    lab = write("parameters: [1, 2]\nextra: 1\n", "lab.yaml")
    with pytest.raises(ScenarioLoadError) as caught:
        load_lab_parameters(lab)
    assert [str(p) for p in caught.value.problems] == [
        f"{lab}:1:13: parameters: expected a mapping of NAME: VALUE",
        f"{lab}:2:1: extra: unknown field 'extra' (expected one of: parameters, cases)",
    ]


def test_empty_overrides_change_nothing(vp04: Case) -> None:
    assert resolve_parameters(vp04, ParameterOverrides()) == vp04.default_parameters()
