"""The case engine through the public run API, against a scripted fake station."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import RunStore, Verdict
from harness.scenario import Capabilities
from tests.runner.fake_station import FakeBehaviour
from tests.runner.helpers import CAPS, run_yaml

CASE_HEAD = """
id: {id}
title: test case {id}
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: station
requirements:
  - {{id: R1, level: MUST, text: the must}}
  - {{id: R2, level: SHOULD, text: the should}}
"""

START = """
  - kind: vehicle
    action: plug_in
  - kind: send
    precondition: true
    action: RemoteStartTransaction
    payload: {connectorId: 1, idTag: TAG1}
    expect: {status: Accepted}
  - kind: expect_request
    precondition: true
    action: StartTransaction
    within_s: 60
    respond_with: {idTagInfo: {status: Accepted}, transactionId: 77}
"""

TX_PROFILE = """
  - kind: set_profile
    requirement: R1
    evse: 1
    profile:
      chargingProfileId: 5
      transactionId: 77
      stackLevel: 0
      chargingProfilePurpose: TxProfile
      chargingProfileKind: Relative
      chargingSchedule:
        chargingRateUnit: A
        chargingSchedulePeriod: [{{startPeriod: 0, limit: {limit}}}]
"""


def case(case_id: str, steps: str) -> str:
    return CASE_HEAD.format(id=case_id) + "steps:" + steps


def the_check(result, requirement: str):  # type: ignore[no-untyped-def]
    return [c for c in result.checks if c.requirement.id == requirement]


async def test_tc066_public_vector_passes_and_cites_the_frames(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "scenario/data/cases/tc_066_cs.yaml").read_text()
    results, run_dir, _ = await run_yaml(tmp_path, text)
    (result,) = results
    assert result.verdict is Verdict.PASS
    (check,) = [
        c for c in result.checks if "GetCompositeSchedule" in str(c.frames) or "→" in c.expected
    ]
    # OCA table 82 with x = 4 s (the profiles start 4 s before the request, the clock stands
    # still): the TxProfile overrules the TxDefault for the whole transaction.
    assert check.expected.endswith("0 s → 8 A; 46 s → 10 A; 196 s → 6 A; 236 s → 10 A")
    trace = RunStore.open(run_dir).trace(result.key)
    assert {trace[i]["action"] for i in check.frames} == {"GetCompositeSchedule"}
    assert [trace[i]["dir"] for i in check.frames] == ["out", "in"]


async def test_tc066_empty_composite_fails_naming_the_difference(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "scenario/data/cases/tc_066_cs.yaml").read_text()
    results, _, _ = await run_yaml(tmp_path, text, behaviours=[FakeBehaviour(empty_composite=True)])
    (result,) = results
    assert result.verdict is Verdict.FAIL
    (failed,) = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert failed.requirement.id == "TC_066_CS"
    assert "46 s → 10 A" in failed.expected
    assert "status" in failed.actual or "period" in failed.actual
    assert failed.frames


async def test_send_matcher_pass_and_fail_with_expected_and_actual(tmp_path: Path) -> None:
    steps = """
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {key: MeterValueSampleInterval, value: "5"}
    expect: {status: Accepted}
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {key: MeterValueSampleInterval, value: "5"}
    expect: {status: {one_of: [Rejected, NotSupported]}}
"""
    results, run_dir, _ = await run_yaml(tmp_path, case("SEND", steps))
    (result,) = results
    assert result.verdict is Verdict.FAIL
    passed, failed = result.checks
    assert passed.verdict is Verdict.PASS
    assert failed.verdict is Verdict.FAIL
    assert (
        failed.expected
        == 'ChangeConfiguration answered with {status: one of ["Rejected", "NotSupported"]}'
        or ("Rejected" in failed.expected and "NotSupported" in failed.expected)
    )
    assert '"status":"Accepted"' in failed.actual
    trace = RunStore.open(run_dir).trace(result.key)
    assert [trace[i]["action"] for i in failed.frames] == ["ChangeConfiguration"] * 2


async def test_call_error_expected_and_unexpected(tmp_path: Path) -> None:
    steps = """
  - kind: send
    requirement: R1
    action: ClearCache
    expect_call_error: [NotImplemented, NotSupported]
  - kind: send
    requirement: R1
    action: ClearCache
    expect: {status: Accepted}
"""
    results, _, _ = await run_yaml(tmp_path, case("CALLERROR", steps))
    (result,) = results
    first, second = result.checks
    assert first.verdict is Verdict.PASS
    assert second.verdict is Verdict.FAIL
    assert second.actual.startswith("CALLERROR NotImplemented")


async def test_failed_should_is_non_strict(tmp_path: Path) -> None:
    steps = """
  - kind: send
    requirement: R2
    action: ChangeConfiguration
    payload: {key: K, value: "1"}
    expect: {status: Rejected}
"""
    results, _, _ = await run_yaml(tmp_path, case("SHOULD", steps))
    assert results[0].verdict is Verdict.NON_STRICT
    assert results[0].checks[0].requirement.level.value == "SHOULD"


async def test_failed_precondition_is_inconclusive_and_stops_the_case(tmp_path: Path) -> None:
    steps = """
  - kind: send
    precondition: true
    action: ChangeConfiguration
    payload: {key: K, value: "1"}
    expect: {status: Rejected}
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {key: K, value: "2"}
"""
    results, _, stations = await run_yaml(tmp_path, case("PRE", steps))
    (result,) = results
    assert result.verdict is Verdict.INCONCLUSIVE
    (check,) = result.checks
    assert "setup" in check.actual
    assert stations[0].received.count("ChangeConfiguration") == 1


async def test_expect_request_timeout_fails(tmp_path: Path) -> None:
    steps = """
  - kind: expect_request
    requirement: R1
    action: StartTransaction
    within_s: 30
"""
    results, _, _ = await run_yaml(tmp_path, case("NOREQ", steps))
    (check,) = results[0].checks
    assert check.verdict is Verdict.FAIL
    assert check.actual == "no StartTransaction within 30 s"


async def test_expect_request_answers_with_respond_with_and_stores(tmp_path: Path) -> None:
    steps = (
        START
        + """
  - kind: expect_request
    requirement: R1
    action: MeterValues
    within_s: 5
    expect: {transactionId: 77}
    store: {tx: transactionId}
  - kind: prompt
    message: "transaction ${tx} runs"
"""
    )
    from harness.runner import AutoOperator

    operator = AutoOperator()
    results, _, _ = await run_yaml(tmp_path, case("REQ", steps), operator=operator)
    assert results[0].verdict is Verdict.PASS
    assert operator.asked == ["transaction 77 runs"]


async def test_yes_no_prompt_no_fails(tmp_path: Path) -> None:
    class Says:
        async def ask(self, message: str, *, yes_no: bool) -> bool:
            return not yes_no

    steps = """
  - kind: prompt
    requirement: R1
    message: does the display show 16 A?
    response: yes_no
"""
    results, _, _ = await run_yaml(tmp_path, case("ASK", steps), operator=Says())
    (check,) = results[0].checks
    assert check.verdict is Verdict.FAIL
    assert check.actual == "no"


async def test_harness_exception_is_error_not_fail(tmp_path: Path) -> None:
    class Broken:
        async def ask(self, message: str, *, yes_no: bool) -> bool:
            raise RuntimeError("operator console crashed")

    steps = """
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {key: K, value: "1"}
  - kind: prompt
    message: look
"""
    results, _, _ = await run_yaml(tmp_path, case("ERR", steps), operator=Broken())
    (result,) = results
    assert result.verdict is Verdict.ERROR
    assert result.interruption is not None
    assert "operator console crashed" in result.interruption.reason
    assert result.checks[0].verdict is Verdict.PASS  # judged before the error, kept


async def test_not_applicable_from_capabilities(tmp_path: Path) -> None:
    text = case("V2X", "\n  - kind: wait\n    duration_s: 1\n").replace(
        "requirements:", "needs: [v2x, units.W]\nrequirements:"
    )
    results, _, _ = await run_yaml(tmp_path, text)
    (result,) = results
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert "v2x" in result.reason
    assert "W" in result.reason


async def test_disconnect_mid_case_fails_and_the_run_goes_on(tmp_path: Path) -> None:
    steps = START + TX_PROFILE.format(limit=10.0)
    text = (
        "- "
        + case("DROP", steps).strip().replace("\n", "\n  ")
        + "\n- "
        + case("NEXT", steps).strip().replace("\n", "\n  ")
    )
    behaviours = [FakeBehaviour(disconnect_on="SetChargingProfile"), FakeBehaviour()]
    results, _, stations = await run_yaml(tmp_path, text, behaviours=behaviours)
    first, second = results
    assert first.verdict is Verdict.FAIL
    (failed,) = [c for c in first.checks if c.verdict is Verdict.FAIL]
    assert "closed" in failed.actual
    assert second.verdict is Verdict.PASS
    assert len(stations) == 2  # the simulated station was restarted


async def test_expect_settled_pass_and_fail_from_meter_values(tmp_path: Path) -> None:
    steps = (
        START
        + TX_PROFILE.format(limit=10.0)
        + """
  - kind: expect_settled
    requirement: R1
    target: limit
    relation: near
    tolerance: 0.5
    within_s: 15
    hold_s: 5
"""
    )
    good, _, _ = await run_yaml(tmp_path / "a", case("SET", steps))
    assert good[0].verdict is Verdict.PASS
    settled = good[0].checks[-1]
    assert "settled: 10, 10, 10 A" in settled.actual
    assert "current_import.L1" in settled.series
    assert {s.name for s in good[0].series} >= {"limit", "current_import.L1", "power_import"}
    bad, _, _ = await run_yaml(
        tmp_path / "b", case("SET", steps), behaviours=[FakeBehaviour(ignore_limit=True)]
    )
    failed = bad[0].checks[-1]
    assert bad[0].verdict is Verdict.FAIL
    assert failed.verdict is Verdict.FAIL
    assert "last 16, 16, 16 A" in failed.actual
    assert "target 10 A" in failed.actual
    assert failed.frames


async def test_repeat_for_each_with_wait(tmp_path: Path) -> None:
    steps = (
        START
        + """
  - kind: repeat
    for_each: {lim: [8, 12]}
    steps:
      - kind: set_profile
        evse: 1
        profile:
          chargingProfileId: 5
          transactionId: 77
          stackLevel: 0
          chargingProfilePurpose: TxProfile
          chargingProfileKind: Relative
          chargingSchedule:
            chargingRateUnit: A
            chargingSchedulePeriod: [{startPeriod: 0, limit: "${lim}"}]
      - kind: wait
        duration_s: 3
      - kind: expect_settled
        requirement: R1
        target: ${lim}
        tolerance: 0.5
        within_s: 10
        hold_s: 3
"""
    )
    results, _, _ = await run_yaml(tmp_path, case("REP", steps))
    settled = [c for c in results[0].checks if "settled" in c.actual]
    assert [c.actual.split(" (")[0] for c in settled] == [
        "settled: 8, 8, 8 A",
        "settled: 12, 12, 12 A",
    ]


async def test_reset_between_cases_and_failed_reset_is_inconclusive(tmp_path: Path) -> None:
    steps = START + TX_PROFILE.format(limit=10.0)
    text = (
        "- "
        + case("ONE", steps).strip().replace("\n", "\n  ")
        + "\n- "
        + case("TWO", steps).strip().replace("\n", "\n  ")
    )
    results, run_dir, _ = await run_yaml(tmp_path / "ok", text)
    assert [r.verdict for r in results] == [Verdict.PASS, Verdict.PASS]
    trace = RunStore.open(run_dir).trace(results[1].key)
    actions = [f["action"] for f in trace if f["dir"] == "out" and f["type"] == 2]
    assert actions[:2] == ["RemoteStopTransaction", "ClearChargingProfile"]
    silent = FakeBehaviour(silent_actions={"ClearChargingProfile"})
    stuck, _, _ = await run_yaml(tmp_path / "stuck", text, behaviours=[silent])
    assert [r.verdict for r in stuck] == [Verdict.INCONCLUSIVE, Verdict.INCONCLUSIVE]
    assert "reset before the case failed" in stuck[0].reason


@pytest.mark.parametrize("phases", [1, 3])
async def test_settled_phases_rule(tmp_path: Path, phases: int) -> None:
    steps = (
        START
        + TX_PROFILE.format(limit=10.0)
        + f"""
  - kind: expect_settled
    requirement: R1
    target: 10
    tolerance: 0.5
    within_s: 10
    hold_s: 3
    phases: {phases}
"""
    )
    results, _, _ = await run_yaml(tmp_path, case("PH", steps))
    # the fake draws on three phases: "one phase only" must fail, three must pass
    expected = Verdict.PASS if phases == 3 else Verdict.FAIL
    assert results[0].verdict is expected


def test_caps_fixture_is_a_declaration() -> None:
    assert isinstance(CAPS, Capabilities)


async def test_expect_request_first_in_a_repeat_is_armed_ahead(tmp_path: Path) -> None:
    steps = """
  - kind: vehicle
    action: plug_in
  - kind: send
    action: RemoteStartTransaction
    payload: {connectorId: 1, idTag: TAG1}
    expect: {status: Accepted}
  - kind: repeat
    times: 1
    steps:
      - kind: expect_request
        requirement: R1
        action: StartTransaction
        within_s: 60
        respond_with: {idTagInfo: {status: Accepted}, transactionId: 4242}
"""
    early = [FakeBehaviour(start_before_answer=True)]
    results, _, stations = await run_yaml(tmp_path, case("ARMED", steps), behaviours=early)
    assert results[0].verdict is Verdict.PASS
    assert stations[0].tx is not None
    assert stations[0].tx.transaction_id == "4242"  # the scenario's answer, not the default


async def test_consecutive_expect_requests_are_armed_together(tmp_path: Path) -> None:
    steps = """
  - kind: vehicle
    action: plug_in
  - kind: send
    action: RemoteStartTransaction
    payload: {connectorId: 1, idTag: TAG1}
  - kind: expect_request
    requirement: R1
    action: StatusNotification
    within_s: 60
  - kind: expect_request
    requirement: R1
    action: StartTransaction
    within_s: 60
    respond_with: {idTagInfo: {status: Accepted}, transactionId: 4242}
"""
    # Both expect_requests are armed by the send step: the StartTransaction that came during
    # the send got the scenario's answer although the StatusNotification step came first.
    early = [FakeBehaviour(start_before_answer=True)]
    results, _, stations = await run_yaml(tmp_path, case("EARLY", steps), behaviours=early)
    sent, status, start = results[0].checks
    assert sent.verdict is Verdict.PASS
    assert status.verdict is Verdict.FAIL  # no StatusNotification
    assert start.verdict is Verdict.PASS
    assert stations[0].tx is not None
    assert stations[0].tx.transaction_id == "4242"


async def test_no_operator_answer_is_inconclusive_never_fail(tmp_path: Path) -> None:
    from harness.runner import NoOperator

    steps = """
  - kind: prompt
    requirement: R1
    message: does the display show 16 A?
    response: yes_no
"""
    operator = NoOperator()
    results, _, _ = await run_yaml(tmp_path, case("ASK", steps), operator=operator)
    (result,) = results
    assert result.verdict is Verdict.INCONCLUSIVE
    (check,) = result.checks
    assert check.verdict is Verdict.INCONCLUSIVE
    assert "no operator answered: does the display show 16 A?" in check.actual
    assert operator.asked == ["does the display show 16 A?"]
