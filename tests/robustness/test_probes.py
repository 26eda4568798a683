"""The generator of malformed requests: replayable, and its expectations agree with the
harness's own session (which answers malformed CALLs by the project's CALLERROR table)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from harness.robustness import fuzz_actions, generate_probes
from harness.robustness.probes import MUTATIONS
from harness.scenario import Mutation
from harness.session import OcppSession, Role
from harness.session.schemas import PayloadKind, schema_set
from harness.smartcharging import StationContext
from harness.versions import OcppVersion

CONTEXT = StationContext(max_stack_level=8, max_periods=24)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
VERSIONS = ["1.6", "2.0.1", "2.1"]


def test_the_mutation_names_match_the_scenario_language() -> None:
    assert tuple(m.value for m in Mutation) == MUTATIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_every_base_request_is_valid_for_its_version(version: str) -> None:
    # the mutations start from valid requests, so each probe carries exactly its own fault
    from harness.robustness.probes import _VALID

    schemas = schema_set(OcppVersion(version))
    for action, payload in _VALID[version].items():
        assert schemas.check(action, PayloadKind.REQUEST, payload) is None, action
    assert fuzz_actions(version) == frozenset(_VALID[version])


def test_the_same_seed_gives_the_same_requests_and_another_seed_others() -> None:
    def frames(seed: int) -> list[str]:
        probes = generate_probes(version="1.6", seed_value=seed, count=25, context=CONTEXT)
        return [p.frame for p in probes]

    first = frames(11)
    assert len(first) == 25
    assert frames(11) == first
    assert frames(12) != first


@pytest.mark.parametrize("version", VERSIONS)
def test_a_conforming_session_answers_every_probe_as_the_probe_expects(version: str) -> None:
    probes = generate_probes(version=version, seed_value=3, count=60, context=CONTEXT)
    assert {p.mutation for p in probes} >= set(MUTATIONS) - {"out_of_range"}
    for probe in probes:
        station = OcppSession(
            version=OcppVersion(version), role=Role.CHARGING_STATION, station_id="S"
        )
        events = station.receive_text(probe.frame, now=NOW)
        sent = station.data_to_send()
        if probe.mutation == "extreme_profile":
            # schema-valid: delivered to the application, which must reject it
            assert type(events[-1]).__name__ == "CallReceived", probe.describe()
            assert probe.statuses == {"Rejected"}
            assert probe.rule
            continue
        assert events, probe.describe()
        assert type(events[0]).__name__ == "ProtocolViolation", probe.describe()
        if not sent:
            assert probe.answer_optional, probe.describe()
            continue
        (reply,) = sent
        kind, answer_id, code = json.loads(reply)[:3]
        assert kind == 4
        assert answer_id == probe.answer_id, probe.describe()
        assert probe.judge(error_code=code, payload=None) is None, (probe.describe(), code)
        assert probe.code_problem(code) is None, (probe.describe(), code)


def test_a_wrong_answer_is_named() -> None:
    (probe,) = generate_probes(
        version="2.0.1", seed_value=5, count=1, context=CONTEXT, mutations=["unknown_action"]
    )
    assert probe.judge(error_code="NotImplemented", payload=None) is None
    assert probe.code_problem("NotImplemented") is None
    # refused (the MUST holds), but with another code than the fault calls for (a SHOULD)
    assert probe.judge(error_code="InternalError", payload=None) is None
    assert probe.code_problem("InternalError") == "CALLERROR InternalError"
    assert probe.judge(error_code=None, payload={"status": "Accepted"}).startswith("CALLRESULT")
    assert probe.judge(error_code=None, payload=None, answered=False) == "no answer"


def test_an_action_without_a_valid_request_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no valid OCPP 1\.6 request"):
        generate_probes(version="1.6", seed_value=1, count=1, context=CONTEXT, actions=["Reset"])


def test_every_fault_class_the_session_can_report_has_a_row_citing_its_clause() -> None:
    from harness.robustness.answers import ANSWERS, Fault
    from harness.robustness.probes import _FAULT

    rows = [(version, fault) for version in ANSWERS for fault in Fault]
    assert len(rows) == 3 * len(Fault)
    for version, fault in rows:
        answer = ANSWERS[version][fault]
        assert answer.codes, (version, fault)
        assert "§4." in answer.clause, (version, fault)
    assert set(_FAULT.values()) == set(Fault)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_expected_codes_come_from_the_table(version: str) -> None:
    from harness.robustness.answers import ANSWERS

    probes = generate_probes(version=version, seed_value=8, count=40, context=CONTEXT)
    schema_probes = [p for p in probes if p.mutation != "extreme_profile"]
    assert schema_probes, "the barrage has no CALLERROR probes to check"
    table = ANSWERS[OcppVersion(version)]
    for probe in schema_probes:
        rows = [a for a in table.values() if a.clause == probe.rule]
        assert rows, probe.describe()
        assert probe.error_codes == rows[0].codes, probe.describe()
