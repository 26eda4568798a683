"""The role-neutral step walker and registry (harness.runner.stepping): step kinds as plug-ins
that get the case's record and a host, without an engine or a connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.clock import ManualClock
from harness.results import Verdict
from harness.runner.stepping import StepKinds, StepWalker, StopCase
from harness.runner.verdicts import CaseRecord
from harness.scenario import Case, SendStep, Step, WaitStep, load_case_file, substitute

CASE = """
id: WALK
title: walking the steps
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: station
requirements:
  - {id: R1, level: MUST, text: the must}
steps:
  - kind: send
    action: ChangeConfiguration
    payload: {key: K, value: "1"}
    store: {stored: status}
  - kind: repeat
    for_each: {n: [1, 2]}
    steps:
      - kind: wait
        duration_s: 1
  - kind: send
    action: ChangeConfiguration
    payload: {key: K, value: "${stored}"}
"""


@dataclass
class Host:
    """A host that answers every send with ``answer`` (``None``: the step fails)."""

    answer: dict[str, Any] | None
    judged: list[tuple[int, bool]] = field(default_factory=list)


async def send(step: SendStep, record: CaseRecord, host: Host) -> None:
    substitute(step.payload, variables=record.variables, now=record.clock.now())
    if host.answer is None:
        record.judge(step, ok=False, expected="an answer", actual="none")
    else:
        record.store(step.store, host.answer)
        record.judge(step, ok=True, expected="an answer", actual=str(host.answer))
    host.judged.append((record.step, host.answer is not None))


async def wait(step: WaitStep, record: CaseRecord, host: Host) -> None:
    record.note(f"waited at step {record.step}")


def _case(tmp_path: Path) -> Case:
    path = tmp_path / "case.yaml"
    path.write_text(CASE, encoding="utf-8")
    (case,) = load_case_file(path)
    return case


def _walker(case: Case, host: Host) -> tuple[StepWalker[Host], list[int]]:
    kinds: StepKinds[Host] = StepKinds({SendStep: send}, role="a test role").with_kind(
        WaitStep, wait
    )
    walker = StepWalker(kinds)
    seen: list[int] = []

    def observe(case_id: str, number: int, step: Step, variables: Any) -> None:
        seen.append(number)

    walker.on_step = observe
    walker.host = host
    walker.record = CaseRecord(
        case, clock=ManualClock(start=datetime(2026, 1, 1, tzinfo=UTC)), variables={}
    )
    return walker, seen


async def test_steps_are_numbered_in_the_order_run_repeats_counted(tmp_path: Path) -> None:
    case = _case(tmp_path)
    host = Host({"status": "Accepted"})
    walker, seen = _walker(case, host)
    await walker.walk(case.steps)
    # send (1), repeat (2), wait ×2 (3, 4), send (5)
    assert seen == [1, 2, 3, 4, 5]
    assert host.judged == [(1, True), (5, True)]
    assert [c.verdict for c in walker.record.checks] == [Verdict.PASS, Verdict.PASS]
    assert any(line.text == "waited at step 4" for line in walker.record.log)


async def test_a_value_a_failed_step_did_not_store_stops_the_walk_unjudged(
    tmp_path: Path,
) -> None:
    case = _case(tmp_path)
    host = Host(None)
    walker, seen = _walker(case, host)
    with pytest.raises(StopCase):
        await walker.walk(case.steps)
    assert seen == [1, 2, 3, 4, 5]
    assert host.judged == [(1, False)]  # the last send's handler never ran
    failed, unrun = walker.record.checks
    assert failed.verdict is Verdict.FAIL
    assert unrun.verdict is Verdict.INCONCLUSIVE
    assert "step 1, which should have stored ${stored}, failed" in unrun.actual


async def test_a_kind_the_role_does_not_run_names_the_role(tmp_path: Path) -> None:
    case = _case(tmp_path)
    walker, _ = _walker(case, Host({"status": "Accepted"}))
    walker.kinds = StepKinds({}, role="a test role")
    with pytest.raises(ValueError, match="'send' cannot run with a test role"):
        await walker.walk(case.steps)


def test_a_note_before_the_first_step_goes_under_the_first(tmp_path: Path) -> None:
    # A case whose connection closed before it began runs no step, but its protocol
    # findings are still noted: that once raised "step index must be >= 0" (ERROR).
    record = CaseRecord(
        _case(tmp_path), clock=ManualClock(start=datetime(2026, 1, 1, tzinfo=UTC)), variables={}
    )
    assert record.step == 0
    record.note("2 protocol violation(s) of the DUT")
    assert [(line.index, line.text) for line in record.log] == [
        (0, "2 protocol violation(s) of the DUT")
    ]
