"""Harness as station: the case's results go through the shared verdict bookkeeping
(:mod:`harness.runner.verdicts`) — redacted and truncated as in the CSMS role
(``tests/runner/test_verdicts.py`` runs the same step)."""

from __future__ import annotations

from pathlib import Path

from harness.results import Verdict
from tests.runner.secret_prompt import SaysNo, assert_redacted_and_truncated, steps_yaml
from tests.runner.station_role.fake_csms import TestCsms
from tests.runner.station_role.helpers import hook_parameters, run_suite

HEAD = """
id: SECRET-PROMPT-CSMS
title: a prompt that quotes a credential
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: csms
"""


async def test_a_secret_is_redacted_and_a_long_note_cut(tmp_path: Path) -> None:
    case_file = tmp_path / "case.yaml"
    case_file.write_text(HEAD + steps_yaml(), encoding="utf-8")
    operator = SaysNo()
    async with TestCsms() as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="1.6",
            parameters=hook_parameters(csms, timeout_s=3),
            operator=operator,
            paths=(case_file,),
        )
    assert len(operator.asked) == 1
    assert_redacted_and_truncated(results["SECRET-PROMPT-CSMS"])


UNSTORED = """
id: UNSTORED-CSMS
title: a value a failed step should have stored
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: csms
requirements:
  - {id: R1, level: MUST, text: the boot is rejected}
  - {id: R2, level: MUST, text: the heartbeat is answered}
steps:
  - kind: send
    requirement: R1
    action: BootNotification
    payload: {chargePointVendor: V, chargePointModel: M}
    expect: {status: Rejected}
    store: {interval: interval}
  - kind: send
    requirement: R2
    action: StatusNotification
    payload: {connectorId: 1, errorCode: NoError, status: Available, info: "${interval}"}
"""


async def test_a_step_needing_what_a_failed_step_should_have_stored_is_not_run(
    tmp_path: Path,
) -> None:
    # The CSMS accepts the boot (the case wants Rejected): the interval is never stored, so
    # the step that needs it is not run — FAIL for the broken rule, never ERROR.
    case_file = tmp_path / "case.yaml"
    case_file.write_text(UNSTORED, encoding="utf-8")
    async with TestCsms() as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="1.6",
            parameters=hook_parameters(csms, timeout_s=3),
            operator=SaysNo(),
            paths=(case_file,),
        )
    result = results["UNSTORED-CSMS"]
    assert result.verdict is Verdict.FAIL
    assert result.interruption is None
    failed, unrun = result.checks
    assert (failed.requirement.id, failed.verdict) == ("R1", Verdict.FAIL)
    assert (unrun.requirement.id, unrun.verdict) == ("R2", Verdict.INCONCLUSIVE)
    assert "step 1, which should have stored ${interval}, failed" in unrun.actual
