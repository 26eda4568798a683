"""The case library: every file loads, fits the published schema, and sends valid OCPP."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from harness.runner.engine import TIME_DEVIATION_PARAMETER
from harness.runner.station_role.state import STATION_PARAMETERS
from harness.scenario import (
    CompareCompositeStep,
    ExpectRequestStep,
    Level,
    ParamRef,
    SendStep,
    SetProfileStep,
    load_cases,
    resolve_int,
    resolve_number,
    resolve_parameters,
)
from harness.scenario.checks import known_actions
from harness.scenario.matchers import Equals, OneOf, Subset
from harness.versions import OcppVersion
from tests.scenario.test_runner_view import _messages, _schema
from tests.scenarios.library import (
    CORE16_CSMS_IDS,
    CORE16_IDS,
    CSMS_IDS,
    DC_IDS,
    K201_IDS,
    ROB_IDS,
    SC16_IDS,
    SC201_IDS,
    SCENARIOS,
    SCHEMA_DIR,
    TC_IDS,
    V21_IDS,
    V21_VP_IDS,
    VP2_IDS,
    VP_IDS,
    case_files,
    load_case,
    walk,
)

PROGRAMME_IDS = (*VP_IDS, *TC_IDS)
"""The smart-charging cases (1.6, the programme's conventions); the robustness cases run in
every version and have their own tests (tests/runner/test_robustness_suite.py)."""
ALL_IDS = (*PROGRAMME_IDS, *ROB_IDS)
SECURITY_IDS = ("SEC-01",)
"""scenarios/security: not smart-charging cases, so the conventions below do not apply;
tests/lab/test_security_cases.py runs them."""


def test_the_library_loads_as_one_set_with_the_expected_ids() -> None:
    cases = load_cases([SCENARIOS])
    keys = [
        (case.id, str(v))
        for case in cases
        if case.dut_role == "station"
        for v in case.ocpp_versions
    ]
    expected = (
        [(i, "1.6") for i in (*PROGRAMME_IDS, *SECURITY_IDS, *SC16_IDS, *VP2_IDS, *DC_IDS)]
        + [(i, "1.6") for i in CORE16_IDS]
        + [(i, v) for i in ROB_IDS for v in ("1.6", "2.0.1", "2.1")]
        + [(i, "2.0.1") for i in (*K201_IDS, *VP_IDS, *SC201_IDS, *VP2_IDS, "VP-22", *DC_IDS)]
        + [(i, "2.1") for i in (*V21_IDS, *V21_VP_IDS)]
    )
    assert sorted(keys) == sorted(expected)
    assert len(set(keys)) == len(keys)
    csms_ids = (*CSMS_IDS, *CORE16_CSMS_IDS)
    assert sorted(c.id for c in cases if c.dut_role == "csms") == sorted(csms_ids)


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_file_name_is_the_case_id(path: Any) -> None:
    (case,) = load_cases([path])
    assert case.id == path.stem


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_file_validates_against_the_published_schema(path: Any) -> None:
    schema = json.loads((SCHEMA_DIR / "scenario.schema.json").read_text(encoding="utf-8"))
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]
    assert errors == []


# Requests sent and answers given per case, repeats unrolled at their default counts.
MESSAGES = {
    "VP-01": 10, "VP-02": 10, "VP-03": 7, "VP-04": 10, "VP-05": 12, "VP-06": 10, "VP-07": 12,
    "VP-08": 13, "VP-09": 15, "VP-10": 10, "VP-11": 9, "VP-12": 19, "VP-13": 12,
    "TC_056_CS": 3, "TC_057_CS": 7, "TC_058_1_CS": 3, "TC_058_2_CS": 6, "TC_059_CS": 6,
    "TC_060_CS": 2, "TC_066_CS": 9, "TC_067_CS": 8, "TC_072_CS": 4, "TC_082_CS": 7,
}  # fmt: skip


@pytest.mark.parametrize("case_id", PROGRAMME_IDS)
def test_every_message_is_valid_ocpp(case_id: str) -> None:
    """After parameter and ${now} substitution (and set/clear → send), every request the
    case sends and every answer it gives validates against the ocpp package's schema."""
    case = load_case(case_id)
    assert case.ocpp_versions == (OcppVersion.V16,)
    variables: dict[str, Any] = dict(resolve_parameters(case))
    assert _messages(case.steps, variables, OcppVersion.V16) == MESSAGES[case_id]


# compare_composite steps per case: "the composite reflects it" (TC_067: once per clear,
# and once with everything installed).
COMPOSITES = {
    "TC_056_CS": 1, "TC_057_CS": 1, "TC_058_1_CS": 0, "TC_058_2_CS": 0, "TC_059_CS": 1,
    "TC_060_CS": 0, "TC_066_CS": 1, "TC_067_CS": 4, "TC_072_CS": 1, "TC_082_CS": 1,
}  # fmt: skip


@pytest.mark.parametrize("case_id", TC_IDS)
def test_composite_requests_are_valid_ocpp(case_id: str) -> None:
    """The GetCompositeSchedule a runner builds from each compare_composite step is valid."""
    case = load_case(case_id)
    variables = resolve_parameters(case)
    composites = [s for s in walk(case.steps) if isinstance(s, CompareCompositeStep)]
    assert len(composites) == COMPOSITES[case_id]
    for step in composites:
        assert step.unit == "A"
        request = {
            "connectorId": resolve_int(step.evse, variables=variables),
            "duration": round(resolve_number(step.duration_s, variables=variables)),
            "chargingRateUnit": step.unit,
        }
        jsonschema.validate(request, _schema("GetCompositeSchedule"))


def test_the_message_check_catches_a_bad_limit() -> None:
    step = next(s for s in load_case("VP-01").steps if isinstance(s, SetProfileStep))
    payload = step.as_send(OcppVersion.V16).payload
    bad = {**payload, "csChargingProfiles": {**payload["csChargingProfiles"], "stackLevel": -1}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, _schema("SetChargingProfile"))


def _statuses(matcher: Any) -> list[Any]:
    """The literal `status` values an expectation accepts (``{status: X}`` / one_of)."""
    if not isinstance(matcher, Subset):
        return []
    found: list[Any] = []
    for key, sub in matcher.fields:
        if key == "status" and isinstance(sub, Equals):
            found.append(sub.value)
        elif key == "status" and isinstance(sub, OneOf):
            found.extend(sub.options)
    return found


@pytest.mark.parametrize("case_id", PROGRAMME_IDS)
def test_expected_statuses_exist_in_the_response_schema(case_id: str) -> None:
    case = load_case(case_id)
    checked = 0
    for step in walk(case.steps):
        send = step.as_send(OcppVersion.V16) if hasattr(step, "as_send") else step
        if not isinstance(send, SendStep):
            continue
        assert send.action in known_actions(OcppVersion.V16)
        allowed = _schema(f"{send.action}Response")["properties"]["status"]["enum"]
        for status in _statuses(send.expect):
            assert status in allowed, f"{case_id}: {send.action} status {status!r}"
            checked += 1
    assert checked >= 1


@pytest.mark.parametrize("case_id", PROGRAMME_IDS)
def test_requirements_are_declared_and_the_case_id_is_checked(case_id: str) -> None:
    case = load_case(case_id)
    declared = {r.id for r in case.requirements}
    referenced = {s.requirement for s in walk(case.steps) if s.requirement is not None}
    assert referenced <= declared
    assert case_id in declared
    assert case_id in referenced
    for requirement in case.requirements:
        assert requirement.id.startswith((case_id, "OCPP16-")), requirement.id
        assert requirement.text


SHOULD_REQUIREMENTS = {
    "VP-02.under-draw",
    "VP-08.under-draw",
    "VP-11.under-draw",
    "VP-12.fast",
}


@pytest.mark.parametrize("case_id", PROGRAMME_IDS)
def test_levels_follow_the_programme(case_id: str) -> None:
    """MUST everywhere, SHOULD exactly where the programme says NON_STRICT."""
    for requirement in load_case(case_id).requirements:
        expected = Level.SHOULD if requirement.id in SHOULD_REQUIREMENTS else Level.MUST
        assert requirement.level is expected, requirement.id


CATEGORIES = {
    "VP-01": "step",
    "VP-02": "step",
    "VP-03": "step",
    "VP-04": "pause",
    "VP-05": "pause",
    "VP-06": "delayed-start",
    "VP-07": "delayed-start",
    "VP-08": "fluctuating",
    "VP-09": "pause",
    "VP-10": "phases",
    "VP-11": "power",
    "VP-12": "timing",
    "VP-13": "offered",
}


@pytest.mark.parametrize("case_id", VP_IDS)
def test_vehicle_programme_case_shape(case_id: str) -> None:
    case = load_case(case_id)
    assert case.suite == "vehicle-programme"
    assert case.category == CATEGORIES[case_id]
    needs = {str(need) for need in case.needs}
    assert {"smart_charging", "purposes.tx"} <= needs
    measurand = "Current.Offered" if case_id == "VP-13" else "Current.Import"
    assert f"measurands.{measurand}" in needs
    assert ("phase_switching" in needs) is (case_id == "VP-10")
    assert ("units.W" in needs) is (case_id == "VP-11")
    assert ("purposes.tx_default" in needs) is (case_id in {"VP-06", "VP-07"})
    settled = [s for s in walk(case.steps) if s.kind == "expect_settled"]
    assert settled
    for step in settled:  # a lab can tune every deadline and hold
        assert isinstance(step.within_s, ParamRef), step
        assert isinstance(step.hold_s, ParamRef), step


SECOND_EDITION = {  # category, and the measurand beside Current.Import a case needs
    "VP-15": ("minimum", "Current.Offered"),
    "VP-16": ("status", None),
    "VP-17": ("status", None),
    "VP-18": ("limits", "Current.Offered"),
    "VP-19": ("pause", None),
    "VP-20": ("power", "Power.Active.Import"),
    "VP-21": ("pause", None),
    "VP-23": ("dc", "Power.Active.Import"),
    "VP-24": ("dc", "Power.Active.Import"),
}


@pytest.mark.parametrize("case_id", [*VP2_IDS, *DC_IDS])
def test_second_edition_case_shape(case_id: str) -> None:
    case = load_case(case_id)
    category, measurand = SECOND_EDITION[case_id]
    assert (case.suite, case.category) == ("vehicle-programme", category)
    assert case.requirement(case_id) is not None
    assert case.requirement(case_id).level is Level.MUST  # type: ignore[union-attr]
    needs = {str(need) for need in case.needs}
    assert {"smart_charging", "purposes.tx"} <= needs
    # judged on current, except on a DC station (power only)
    assert ("measurands.Current.Import" in needs) is (case_id not in DC_IDS)
    assert measurand is None or f"measurands.{measurand}" in needs
    for step in walk(case.steps):  # a lab can tune every deadline and hold
        if step.kind in {"expect_settled", "expect_request"}:
            assert isinstance(step.within_s, ParamRef), step
        if step.kind == "expect_settled":
            assert isinstance(step.hold_s, ParamRef), step


@pytest.mark.parametrize("case_id", ["VP-06", "VP-07"])
def test_delayed_start_sets_a_zero_tx_default_profile_before_plug_in(case_id: str) -> None:
    steps = load_case(case_id).steps
    plug_in = next(i for i, s in enumerate(steps) if getattr(s, "action", None) == "plug_in")
    default = next(
        i
        for i, s in enumerate(steps)
        if isinstance(s, SetProfileStep)
        and s.profile["chargingProfilePurpose"] == "TxDefaultProfile"
    )
    assert default < plug_in
    periods = steps[default].profile["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods == [{"startPeriod": 0, "limit": 0.0}]
    assert steps[default].precondition


def test_vp_03_starts_the_session_at_the_minimum_current() -> None:
    case = load_case("VP-03")
    start = next(s for s in case.steps if isinstance(s, SendStep) and s.action.startswith("Remote"))
    assert start.action == "RemoteStartTransaction"
    profile = start.payload["chargingProfile"]
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == "${limit_a}"
    assert resolve_parameters(case)["limit_a"] == 6.0


@pytest.mark.parametrize("case_id", PROGRAMME_IDS)
def test_setup_is_a_precondition_and_teardown_is_should(case_id: str) -> None:
    """Each case starts from a station without profiles and leaves it idle again."""
    steps = load_case(case_id).steps
    first = steps[0]
    assert first.kind == "clear_profile"
    assert first.precondition
    plugged = any(getattr(s, "action", None) == "plug_in" for s in steps)
    if plugged:
        last = steps[-1]
        assert (last.kind, getattr(last, "action", None)) == ("vehicle", "unplug")
    started = any(
        isinstance(s, ExpectRequestStep) and s.action == "StartTransaction" for s in steps
    )
    stops = [s for s in steps if isinstance(s, ExpectRequestStep) and s.action == "StopTransaction"]
    assert len(stops) == (1 if started else 0)
    for stop in stops:
        assert stop.level is Level.SHOULD


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_every_parameter_is_referenced(path: Any) -> None:
    """A lab override must change something: each parameter appears as ${name} (or is one
    the runner reads: the station's declaration, the max time deviation)."""
    (case,) = load_cases([path])
    text = path.read_text(encoding="utf-8")
    unused = [
        name
        for name in case.parameters
        if "${" + name + "}" not in text
        and not re.search(r"\$\{now[^}]*[+-]\s*" + name + r"\b", text)
    ]
    engine_reads = {*STATION_PARAMETERS, TIME_DEVIATION_PARAMETER}
    assert [name for name in unused if name not in engine_reads] == []


@pytest.mark.parametrize("folder", ["vehicle-programme", "vehicle-programme-201"])
def test_the_ac_programme_cases_exclude_a_dc_station_and_a_dc_vehicle(folder: str) -> None:
    for case in load_cases([SCENARIOS / folder]):
        needs = {str(need) for need in case.needs}
        vehicle_needs = {str(need) for need in case.vehicle_needs}
        if case.id in DC_IDS:
            assert "dc" in needs, case.id
            assert "a dc vehicle" in vehicle_needs, case.id
        elif case.id != "VP-14":  # judged on power alone; needs a bidirectional vehicle
            assert "not dc" in needs, case.id
            assert "a vehicle that is not dc" in vehicle_needs, case.id
