"""Harness as CSMS: verdicts when a case cannot go on for a reason that is no rule broken by
the case itself — a value a failed step should have stored, a connection gone before the case
began. Neither is ever ERROR (a defect of the harness)."""

from __future__ import annotations

from pathlib import Path

from harness.results import Verdict
from tests.runner.fake_station import FakeBehaviour
from tests.runner.helpers import run_yaml
from tests.runner.test_engine import case

STORE_FAILS = """
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {key: K, value: "1"}
    expect: {status: Rejected}
    store: {answer: status}
  - kind: send
    requirement: R2
    action: ChangeConfiguration
    payload: {key: K2, value: "${answer}"}
  - kind: send
    requirement: R2
    action: ChangeConfiguration
    payload: {key: K3, value: "3"}
"""


async def test_a_step_needing_what_a_failed_step_should_have_stored_is_not_run(
    tmp_path: Path,
) -> None:
    results, _, stations = await run_yaml(tmp_path, case("UNSTORED", STORE_FAILS))
    (result,) = results
    assert result.verdict is Verdict.FAIL  # the broken rule decides, never ERROR
    assert result.interruption is None
    failed, unrun = result.checks
    assert (failed.requirement.id, failed.verdict) == ("R1", Verdict.FAIL)
    assert (unrun.requirement.id, unrun.verdict) == ("R2", Verdict.INCONCLUSIVE)
    assert "step 1, which should have stored ${answer}, failed" in unrun.actual
    assert any("step 2: not run" in s.text for s in result.steps)
    # the step that needed the value was not sent, nor anything after it
    assert stations[0].received.count("ChangeConfiguration") == 1


async def test_a_station_gone_during_the_boot_wait_makes_the_case_inconclusive(
    tmp_path: Path,
) -> None:
    steps = """
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {key: K, value: "1"}
"""
    text = (
        "- "
        + case("FIRST", steps).strip().replace("\n", "\n  ")
        + "\n- "
        + case("NEXT", steps).strip().replace("\n", "\n  ")
    )
    behaviours = [FakeBehaviour(close_before_boot=True), FakeBehaviour()]
    results, _, stations = await run_yaml(tmp_path, text, behaviours=behaviours)
    first, second = results
    assert first.verdict is Verdict.INCONCLUSIVE
    assert first.checks == ()  # nothing judged: no step ran
    assert first.interruption is not None
    assert "closed" in first.interruption.reason
    assert "before the case began" in first.interruption.reason
    assert stations[0].received == []
    assert second.verdict is Verdict.PASS  # the next case takes the next connection
