"""Harness as CSMS: the case's results go through the shared verdict bookkeeping
(:mod:`harness.runner.verdicts`) — redacted and truncated as in the station role
(``tests/runner/station_role/test_verdicts.py`` runs the same step)."""

from __future__ import annotations

from pathlib import Path

from tests.runner.helpers import run_yaml
from tests.runner.secret_prompt import SaysNo, assert_redacted_and_truncated, steps_yaml

HEAD = """
id: SECRET-PROMPT
title: a prompt that quotes a credential
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: station
"""


async def test_a_secret_is_redacted_and_a_long_note_cut(tmp_path: Path) -> None:
    operator = SaysNo()
    results, _, _ = await run_yaml(tmp_path, HEAD + steps_yaml(), operator=operator)
    (result,) = results
    assert len(operator.asked) == 1  # the prompt was put, with its secret, to the operator
    assert_redacted_and_truncated(result)
