"""What the 2.0.1 cases need from the language and the runner: expect_request that passes
over a stream of TransactionEvents, ``not`` needs, and one case id per OCPP version."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import Verdict
from harness.runner.inputs import sim_capabilities
from harness.scenario import ExternalLimitStep, ScenarioLoadError, load_cases, selects
from tests.scenarios.library import SCENARIOS
from tests.scenarios.sim201 import VP201, run_201

HEAD = """\
id: T201
title: a 2.0.1 test case
suite: tests
ocpp_versions: ["2.0.1"]
dut_role: station
requirements:
  - {id: R1, level: MUST, text: the must}
needs: [smart_charging]
steps:
  - kind: vehicle
    action: plug_in
  - kind: send
    precondition: true
    action: RequestStartTransaction
    payload: {evseId: 1, remoteStartId: 1, idToken: {idToken: T1, type: Central}}
    expect: {status: Accepted}
  - kind: expect_request
    precondition: true
    action: TransactionEvent
    within_s: 30
    skip_unmatched: true
    expect: {eventType: Started}
    store: {tx_id: transactionInfo.transactionId}
  - kind: wait
    duration_s: 60
"""
STOP = """\
  - kind: send
    precondition: true
    action: RequestStopTransaction
    payload: {transactionId: "${tx_id}"}
    expect: {status: Accepted}
"""
ENDED = """\
  - kind: expect_request
    requirement: R1
    action: TransactionEvent
    within_s: 30
{skip}    expect: {{eventType: Ended, transactionInfo: {{transactionId: "${{tx_id}}"}}}}
"""


def _run(tmp_path: Path, steps: str) -> tuple[Verdict, str]:
    path = tmp_path / "T201.yaml"
    path.write_text(HEAD + steps)
    result = run_201([path], out=tmp_path / "runs")["T201"]
    failed = [c.actual for c in result.checks if c.verdict is not Verdict.PASS]
    return result.verdict, " ".join(failed)


def test_skip_unmatched_passes_over_updated_events_to_the_ended_one(tmp_path: Path) -> None:
    verdict, _ = _run(tmp_path, STOP + ENDED.format(skip="    skip_unmatched: true\n"))
    assert verdict is Verdict.PASS


def test_without_skip_unmatched_the_first_transaction_event_is_judged(tmp_path: Path) -> None:
    # The station reports meter values in TransactionEvent Updated every 2 s.
    verdict, actual = _run(tmp_path, ENDED.format(skip=""))
    assert verdict is Verdict.FAIL
    assert '"eventType":"Updated"' in actual
    assert "$.eventType" in actual


def test_skip_unmatched_times_out_naming_what_it_passed_over(tmp_path: Path) -> None:
    verdict, actual = _run(tmp_path, ENDED.format(skip="    skip_unmatched: true\n"))
    assert verdict is Verdict.FAIL
    assert "no TransactionEvent within 30 s that matched" in actual
    assert "passed over" in actual
    assert '"eventType":"Updated"' in actual


def test_not_needs_select_a_dut_without_the_feature(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(HEAD.replace("needs: [smart_charging]", "needs: [smart_charging, not units.W]"))
    (case,) = load_cases([path])
    both = sim_capabilities(("2.0.1",))
    only_a = both.model_copy(update={"units": ("A",)})
    assert selects(case, only_a).runnable
    (reason,) = selects(case, both).reasons
    assert reason == "needs not units.W (a DUT without it); the declaration claims it"


def test_a_misspelt_not_need_is_a_load_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(HEAD.replace("needs: [smart_charging]", "needs: [not units.X]"))
    with pytest.raises(ScenarioLoadError, match=r"units\.X"):
        load_cases([path])


def test_the_run_reports_the_variant_of_a_case_for_the_station_version(tmp_path: Path) -> None:
    v16 = SCENARIOS / "vehicle-programme" / "VP-13.yaml"
    results = run_201([v16, VP201 / "VP-13.yaml"], out=tmp_path)  # one result per case id
    assert results["VP-13"].verdict is Verdict.PASS
    assert results["VP-13"].info.ocpp_version.value == "ocpp2.0.1"


def test_a_case_for_another_version_alone_is_not_applicable(tmp_path: Path) -> None:
    results = run_201([SCENARIOS / "vehicle-programme" / "VP-13.yaml"], out=tmp_path)
    assert results["VP-13"].verdict is Verdict.NOT_APPLICABLE
    assert "2.0.1" in results["VP-13"].reason


def test_external_limit_steps_report_and_cap_the_composite(tmp_path: Path) -> None:
    """TC_K_52_CS on the built-in station: NotifyChargingLimit for each limit, then
    ClearedChargingLimit; the oracle caps the composite with the external limit."""
    result = run_201([SCENARIOS / "ocpp201" / "TC_K_52_CS.yaml"], out=tmp_path)["TC_K_52_CS"]
    assert result.verdict is Verdict.PASS
    by_requirement: dict[str, list[str]] = {}
    for check in result.checks:
        by_requirement.setdefault(check.requirement.id, []).append(check.expected)
    assert len(by_requirement["K12"]) == 2
    assert len(by_requirement["K13"]) == 1
    composites = [e for e in by_requirement["TC_K_52_CS"] if "→" in e]
    assert [e.rsplit(": ", 1)[1] for e in composites] == ["0 s → 10 A", "0 s → 8 A", "0 s → 16 A"]


def test_external_limit_in_a_lab_is_an_operator_prompt() -> None:
    step = ExternalLimitStep.model_validate({"kind": "external_limit", "evse": 2, "limit_a": 10})
    assert step.limit_a == 10
    assert step.lab_prompt(10.0, 2) == "Set an external (EMS) limit of 10 A per phase on EVSE 2"
    assert step.lab_prompt(None, 2) == "Lift the external (EMS) limit on EVSE 2"
