"""Harness as station: the case's results go through the shared verdict bookkeeping
(:mod:`harness.runner.verdicts`) — redacted and truncated as in the CSMS role
(``tests/runner/test_verdicts.py`` runs the same step)."""

from __future__ import annotations

from pathlib import Path

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
