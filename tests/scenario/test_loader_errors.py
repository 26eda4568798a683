"""Every class of mistake in a scenario file is reported as file:line:column: path: expected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.scenario import ScenarioLoadError, load_cases
from harness.scenario.loader import collect_cases
from tests.scenario.conftest import MINIMAL

Problems = Callable[[str], list[str]]


def test_a_minimal_case_loads(problems: Problems) -> None:
    assert problems(MINIMAL) == []


def test_wrong_type_names_line_path_and_expectation(problems: Problems) -> None:
    text = MINIMAL.replace("duration_s: 1", "duration_s: soon")
    assert problems(text) == [
        "case.yaml:8:17: steps[0].wait.duration_s: "
        "expected a number of seconds or a ${parameter} reference, got 'soon'"
    ]


def test_send_timeout_error_reads_like_the_issue(problems: Problems) -> None:
    text = MINIMAL + "  - kind: send\n    action: Reset\n    timeout_s: soon\n"
    (problem,) = problems(text)
    assert problem.startswith("case.yaml:11:16: steps[1].send.timeout_s: expected a number of")
    assert "got 'soon'" in problem


def test_unknown_field_is_a_typo_with_a_suggestion(problems: Problems) -> None:
    text = MINIMAL.replace("    duration_s: 1", "    duration_s: 1\n    duraton_s: 2")
    (problem,) = problems(text)
    assert problem.startswith("case.yaml:9:5: steps[0].wait.duraton_s: unknown field 'duraton_s'")
    assert "did you mean 'duration_s'?" in problem


def test_unknown_top_level_field(problems: Problems) -> None:
    (problem,) = problems(MINIMAL + "tittle: x\n")
    assert problem.startswith("case.yaml:9:1: tittle: unknown field 'tittle'")
    assert "did you mean 'title'?" in problem


def test_missing_required_field(problems: Problems) -> None:
    (problem,) = problems(MINIMAL.replace("title: a test case\n", ""))
    assert problem == "case.yaml:1:1: title: missing required field 'title'"


def test_missing_field_inside_a_step_points_at_the_step(problems: Problems) -> None:
    (problem,) = problems(MINIMAL + "  - kind: expect_request\n    action: Heartbeat\n")
    assert (
        problem
        == "case.yaml:9:5: steps[1].expect_request.within_s: missing required field 'within_s'"
    )


def test_duplicate_key(problems: Problems) -> None:
    (problem,) = problems(MINIMAL.replace("suite: tests\n", "suite: tests\nsuite: again\n"))
    assert problem == "case.yaml:4:1: suite: duplicate key 'suite' (first given at line 3)"


def test_unknown_step_kind(problems: Problems) -> None:
    (problem,) = problems(MINIMAL + "  - kind: sned\n    action: Reset\n")
    assert problem.startswith(
        "case.yaml:9:11: steps[1].kind: unknown kind 'sned' (expected one of:"
    )
    assert "'send'" in problem


def test_step_without_kind(problems: Problems) -> None:
    (problem,) = problems(MINIMAL + "  - action: Reset\n")
    assert problem.startswith("case.yaml:9:5: steps[1]: missing 'kind' (expected one of: send,")


def test_bad_matcher_points_inside_the_matcher(problems: Problems) -> None:
    text = MINIMAL + (
        "  - kind: send\n    action: Reset\n    expect:\n      status: {one_of: Accepted}\n"
    )
    (problem,) = problems(text)
    assert problem == (
        "case.yaml:12:24: steps[1].send.expect.status.one_of: "
        "one_of expects a non-empty list of values, got 'Accepted'"
    )


def test_matcher_keyword_mixed_with_fields(problems: Problems) -> None:
    text = MINIMAL + "  - kind: send\n    action: Reset\n    expect: {regex: a, status: b}\n"
    (problem,) = problems(text)
    assert problem.startswith(
        "case.yaml:11:13: steps[1].send.expect: matcher keyword 'regex' mixed"
    )


def test_unknown_capability(problems: Problems) -> None:
    (problem,) = problems(MINIMAL + "needs: [smart_charging, units.VA]\n")
    assert problem == (
        "case.yaml:9:25: needs[1]: unknown capability 'units.VA' (expected units.A, units.W); "
        "did you mean 'units.A'?"
    )


def test_unknown_capability_name_suggests_the_closest(problems: Problems) -> None:
    (problem,) = problems(MINIMAL + "needs:\n  - phase_swiching\n")
    assert problem.startswith("case.yaml:10:5: needs[0]: unknown capability 'phase_swiching'")
    assert problem.endswith("did you mean 'phase_switching'?")


def test_minimum_capability_needs_a_number(problems: Problems) -> None:
    (problem,) = problems(MINIMAL + "needs: [{max_stack_level: many}]\n")
    assert "needs[0]: expected a number as the minimum max_stack_level, got 'many'" in problem


def test_yaml_syntax_error(problems: Problems) -> None:
    (problem,) = problems(MINIMAL + "notes: [unclosed\n")
    assert problem.startswith("case.yaml:10:1: <top>: YAML syntax: ")


def test_wrong_enum_value(problems: Problems) -> None:
    (problem,) = problems(MINIMAL.replace("dut_role: station", "dut_role: charger"))
    assert problem == "case.yaml:5:11: dut_role: expected 'station' or 'csms', got 'charger'"


def test_unquoted_versions_are_accepted(problems: Problems) -> None:
    assert problems(MINIMAL.replace('["1.6"]', "[1.6, 2.0.1, 2.1]")) == []


def test_every_problem_in_a_file_is_reported(problems: Problems) -> None:
    text = (
        MINIMAL.replace("dut_role: station", "dut_role: charger").replace(
            "duration_s: 1", "duration_s: x"
        )
        + "bogus: 1\n"
    )
    found = problems(text)
    assert [p.split(": ")[1] for p in found] == ["dut_role", "steps[0].wait.duration_s", "bogus"]


def test_unknown_variable_and_wrong_parameter_type(problems: Problems) -> None:
    text = MINIMAL.replace("duration_s: 1", "duration_s: ${name}") + (
        "  - kind: send\n"
        "    action: Reset\n"
        "    payload: {type: '${kind_of_reset}'}\n"
        "parameters:\n"
        "  name: {type: string, default: hello}\n"
    )
    assert problems(text) == [
        "case.yaml:8:17: steps[0].wait.duration_s: expected a number; parameter 'name' is a string",
        "case.yaml:11:21: steps[1].send.payload.type: unknown variable '${kind_of_reset}' "
        "(parameters and stored so far: name)",
    ]


def test_stored_variables_are_known_only_after_the_storing_step(problems: Problems) -> None:
    steps = (
        "  - kind: send\n"
        "    action: Reset\n"
        "    payload: {id: '${tx}'}\n"
        "  - kind: expect_request\n"
        "    action: StartTransaction\n"
        "    within_s: 5\n"
        "    store: {tx: transactionId}\n"
        "  - kind: send\n"
        "    action: RemoteStopTransaction\n"
        "    payload: {transactionId: '${tx}'}\n"
    )
    (problem,) = problems(MINIMAL + steps)
    assert problem.startswith("case.yaml:11:19: steps[1].send.payload.id: unknown variable '${tx}'")


def test_bad_parameter_default(problems: Problems) -> None:
    text = MINIMAL + "parameters:\n  pause_s: {type: duration, default: a while}\n"
    (problem,) = problems(text)
    assert problem.startswith("case.yaml:10:38: parameters.pause_s.default: expected a duration")


def test_unknown_requirement_and_action(problems: Problems) -> None:
    text = MINIMAL + (
        "  - kind: send\n"
        "    action: SetChargingProfiles\n"
        "    requirement: K01.FR.99\n"
        "requirements:\n"
        "  - {id: K01.FR.01, level: MUST}\n"
    )
    assert problems(text) == [
        "case.yaml:10:13: steps[1].send.action: 'SetChargingProfiles' is not an OCPP 1.6 action",
        "case.yaml:11:18: steps[1].send.requirement: unknown requirement 'K01.FR.99' "
        "(the case lists: K01.FR.01)",
    ]


def test_duplicate_case_ids_across_files_name_both(write: Callable[[str, str], Path]) -> None:
    first = write(MINIMAL, "suite/a.yaml")
    second = write("- " + MINIMAL.replace("\n", "\n  ").rstrip() + "\n", "suite/b.yaml")
    result = collect_cases([first.parent])
    assert [str(p) for p in result.all_problems()] == [
        f"{second}:1:3: id: duplicate case id 'TC_T' for the same OCPP version (also defined "
        f"at {first}:1:1; one id may name one case per version)"
    ]
    assert not result.ok


def test_one_id_may_name_one_case_per_ocpp_version(write: Callable[[str, str], Path]) -> None:
    assert 'ocpp_versions: ["1.6"]' in MINIMAL
    first = write(MINIMAL, "suite/a.yaml")
    write(MINIMAL.replace('ocpp_versions: ["1.6"]', 'ocpp_versions: ["2.0.1"]'), "suite/b.yaml")
    overlapping = MINIMAL.replace('ocpp_versions: ["1.6"]', 'ocpp_versions: ["2.0.1", "2.1"]')
    result = collect_cases([first.parent])
    assert result.ok
    assert sorted(str(c.case.ocpp_versions[0]) for c in result.cases) == ["1.6", "2.0.1"]
    third = write(overlapping, "suite/c.yaml")
    again = collect_cases([first.parent])
    assert [p.message for p in again.all_problems()] == [
        "duplicate case id 'TC_T' for the same OCPP version (also defined at "
        f"{first.parent / 'b.yaml'}:1:1; one id may name one case per version)"
    ]
    assert str(third) in str(again.all_problems()[0])


def test_a_list_of_cases_reports_the_index(problems: Problems) -> None:
    other = MINIMAL.replace("TC_T", "TC_U").replace("duration_s: 1", "duration_s: -1")
    text = "- " + MINIMAL.replace("\n", "\n  ").rstrip() + "\n- " + other.replace("\n", "\n  ")
    (problem,) = problems(text)
    assert problem == (
        "case.yaml:16:19: [1].steps[0].wait.duration_s: "
        "expected a number of seconds of at least 0, got -1"
    )


def test_load_error_message_lists_every_problem(write: Callable[[str, str], Path]) -> None:
    path = write(MINIMAL + "a: 1\nb: 2\n", "x.yaml")
    with pytest.raises(ScenarioLoadError) as caught:
        load_cases([path])
    assert str(caught.value).startswith("2 problems:\n")
    assert len(caught.value.problems) == 2


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = collect_cases([tmp_path / "nope.yaml", tmp_path / "empty"])
    messages = [p.message for p in result.all_problems()]
    assert messages == ["no such file or directory", "no *.yaml files in this directory"]


def test_empty_file_and_scalar_file(problems: Problems) -> None:
    assert problems("") == ["case.yaml:1:1: <top>: the file is empty"]
    assert problems("just text\n") == [
        "case.yaml:1:1: <top>: expected a case (mapping) or a list of cases, got 'just text'"
    ]


def test_directories_skip_capability_fleet_and_lab_files(
    write: Callable[[str, str], Path],
) -> None:
    case = write(MINIMAL, "lib/ocpp16/a.yaml")
    write("ocpp_versions: ['1.6']\nrole: station\n", "lib/capabilities/dut.yaml")
    write("vehicles: []\n", "lib/fleets/nl.yaml")
    write("parameters: {}\n", "lib/labs/lab.yaml")
    result = collect_cases([case.parents[1]])
    assert result.ok
    assert result.files == [str(case)]
    assert [loaded.case.id for loaded in result.cases] == ["TC_T"]


def test_integer_fields_need_integer_parameters(problems: Problems) -> None:
    text = MINIMAL + (
        "  - {kind: vehicle, action: plug_in, evse: '${which}'}\n"
        "parameters:\n"
        "  which: {type: number, default: 1}\n"
    )
    assert problems(text) == [
        "case.yaml:9:44: steps[1].vehicle.evse: "
        "expected a whole number; parameter 'which' is a number"
    ]


def test_type_errors_and_cross_field_errors_come_in_one_run(problems: Problems) -> None:
    text = MINIMAL + (
        "  - kind: send\n"
        "    action: Reset\n"
        "    timeout_s: soon\n"
        "  - kind: send\n"
        "    action: Rset\n"
        "    payload: {a: '${nope}'}\n"
        "    requirement: R9\n"
        "  - kind: expect_request\n"
        "    action: StartTransaction\n"
        "    within_s: never\n"
        "    store: {tx: transactionId}\n"
        "  - {kind: send, action: Reset, payload: {id: '${tx}'}}\n"
        "requirements: [{id: R1}]\n"
    )
    assert problems(text) == [
        "case.yaml:11:16: steps[1].send.timeout_s: "
        "expected a number of seconds or a ${parameter} reference, got 'soon'",
        "case.yaml:13:13: steps[2].send.action: 'Rset' is not an OCPP 1.6 action",
        "case.yaml:14:18: steps[2].send.payload.a: unknown variable '${nope}' "
        "(parameters and stored so far: tx)",
        "case.yaml:15:18: steps[2].send.requirement: unknown requirement 'R9' (the case lists: R1)",
        "case.yaml:18:15: steps[3].expect_request.within_s: "
        "expected a number of seconds or a ${parameter} reference, got 'never'",
    ]


def test_cross_field_checks_skip_what_depends_on_a_broken_part(problems: Problems) -> None:
    text = MINIMAL + (
        "  - {kind: send, action: Reset, payload: {a: '${p}'}, requirement: R1}\n"
        "requirements: [{id: R1, level: MAYBE}]\n"
        "parameters:\n"
        "  p: {type: number}\n"
    )
    found = problems(text)
    assert [p.split(": ")[1] for p in found] == ["requirements[0].level", "parameters.p.default"]


def test_repeat_rules_and_nested_paths(problems: Problems) -> None:
    text = MINIMAL + (
        "  - kind: repeat\n"
        "    for_each: {limit_a: [16, '${max_a}', '${nope}']}\n"
        "    steps:\n"
        "      - {kind: wait, duration_s: '${limit_a}'}\n"
        "      - kind: repeat\n"
        "        times: 2\n"
        "        for_each: {tag: [a, b]}\n"
        "        steps:\n"
        "          - {kind: wait, duration_s: '${tag}'}\n"
        "parameters:\n"
        "  max_a: {type: number, default: 16}\n"
    )
    assert problems(text) == [
        "case.yaml:10:42: steps[1].repeat.for_each.limit_a[2]: unknown parameter '${nope}' "
        "(loop values may only refer to parameters)",
        "case.yaml:13:9: steps[1].repeat.steps[1].repeat: "
        "expected exactly one of 'times' and 'for_each'",
        "case.yaml:17:38: steps[1].repeat.steps[1].repeat.steps[0].wait.duration_s: "
        "expected a number; parameter 'tag' is a string",
    ]


def test_type_errors_deep_inside_repeats_suggest_fields(problems: Problems) -> None:
    text = MINIMAL + (
        "  - kind: repeat\n"
        "    times: 2\n"
        "    steps:\n"
        "      - {kind: send, action: Reset, timout_s: 3}\n"
    )
    (problem,) = problems(text)
    assert problem.startswith("case.yaml:12:37: steps[1].repeat.steps[0].send.timout_s: unknown")
    assert problem.endswith("did you mean 'timeout_s'?")


def test_fuzz_step_names_an_action_without_a_request_to_mutate(problems: Problems) -> None:
    text = MINIMAL + (
        "  - kind: fuzz\n    seed: 7\n    actions: [SetChargingProfile, Reset]\n"
        "    mutations: [wrong_type]\n"
    )
    (problem,) = problems(text)
    assert problem.startswith("case.yaml:")
    assert "steps[1].fuzz.actions[1]: 'Reset' has no valid OCPP 1.6 request to mutate" in problem
    assert "SetChargingProfile" in problem


def test_fuzz_step_refuses_an_unknown_mutation_and_a_seed_reference_of_the_wrong_type(
    problems: Problems,
) -> None:
    bad_mutation = MINIMAL + "  - kind: fuzz\n    seed: 7\n    mutations: [explode]\n"
    (problem,) = problems(bad_mutation)
    assert "steps[1].fuzz.mutations[0]" in problem
    assert "wrong_type" in problem
    bad_seed = MINIMAL + "  - kind: fuzz\n    seed: ${nope}\n"
    assert any("nope" in p for p in problems(bad_seed))


def test_the_iso15118_station_steps_are_checked_like_the_others(problems: Problems) -> None:
    """``expect_no_request`` and ``ev_schedule`` (dut_role: csms): the action must exist,
    references must be known, and a station-DUT case cannot use them."""
    csms = MINIMAL.replace("dut_role: station", "dut_role: csms").replace('"1.6"', '"2.0.1"')
    steps = (
        "  - kind: expect_no_request\n"
        "    action: SetChargingProfiles\n"
        "    within_s: 1\n"
        "  - kind: ev_schedule\n"
        "    payload: {evseId: 1, chargingSchedule: '${csms_schedule}'}\n"
    )
    found = problems(csms + steps)
    assert found[0] == (
        "case.yaml:10:13: steps[1].expect_no_request.action: "
        "'SetChargingProfiles' is not an OCPP 2.0.1 action"
    )
    assert "steps[2].ev_schedule.payload.chargingSchedule: unknown variable" in found[1]
    assert len(found) == 2
    wrong_role = problems(
        MINIMAL + "  - kind: expect_no_request\n    action: Heartbeat\n    within_s: 1\n"
    )
    assert wrong_role == [
        "case.yaml:9:5: steps[1].expect_no_request: 'expect_no_request' is for cases with "
        "dut_role: csms"
    ]
