"""The OCPP 1.6 Core remote-action CSMS cases beside smart charging (issue 18 point 4:
scenarios/csms/ocpp16-core, TC_010/011_1/011_2/012/026/028_CSMS) against the test CSMS (real
WebSocket on loopback, real time with short timeouts): a good CSMS passes each, and a CSMS
with the fault that breaks a case's rule fails it, naming the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.results import Verdict
from harness.runner.operator import AutoOperator
from tests.runner.station_role.fake_csms import TestCsms
from tests.runner.station_role.helpers import LIBRARY, failures, hook_parameters, run_suite

FOLDER = LIBRARY / "ocpp16-core"
IDS = ("TC_010_CSMS", "TC_011_1_CSMS", "TC_011_2_CSMS", "TC_012_CSMS", "TC_026_CSMS", "TC_028_CSMS")

# case → (the test CSMS's fault that breaks its rule, a fragment the FAIL must name)
BROKEN_BY: dict[str, tuple[str, str]] = {
    "TC_010_CSMS": ("refuse_remote_tag", 'expected "Accepted", got "Invalid"'),
    "TC_011_1_CSMS": ("refuse_remote_tag", 'expected "Accepted", got "Invalid"'),
    "TC_011_2_CSMS": ("refuse_remote_tag", 'expected "Accepted", got "Invalid"'),
    "TC_012_CSMS": ("stop_wrong_tx", "at $.transactionId: expected"),
    "TC_026_CSMS": ("silent", "no RemoteStartTransaction"),
    "TC_028_CSMS": ("silent", "no RemoteStopTransaction"),
}


def parameters(csms: TestCsms, *, timeout_s: float) -> dict[str, Any]:
    return {
        **hook_parameters(csms, timeout_s=timeout_s),
        "hook_remote_stop": csms.hook("remote_stop"),
        "connection_timeout_s": 1,
    }


def test_every_case_has_a_file_and_a_fault() -> None:
    assert sorted(p.stem for p in FOLDER.glob("*.yaml")) == sorted(IDS) == sorted(BROKEN_BY)


async def test_a_good_csms_passes_the_core_cases(tmp_path: Path) -> None:
    async with TestCsms(strict=True) as csms:
        operator = AutoOperator()
        results = await run_suite(
            csms,
            tmp_path,
            version="1.6",
            parameters=parameters(csms, timeout_s=3),
            operator=operator,
            paths=(FOLDER,),
        )
    assert sorted(results) == sorted(IDS)
    bad = {i: failures(r) for i, r in results.items() if r.verdict is not Verdict.PASS}
    assert bad == {}
    for case_id, result in results.items():
        assert case_id in {c.requirement.id for c in result.checks}
        assert all(c.frames for c in result.checks)
    assert operator.asked == []
    assert csms.errors == []
    assert csms.ledger.refused == []
    assert csms.ledger.open_by_token == {}  # every case ended its transaction


@pytest.mark.parametrize("case_id", IDS)
async def test_a_csms_breaking_the_rule_fails_the_case(tmp_path: Path, case_id: str) -> None:
    fault, fragment = BROKEN_BY[case_id]
    async with TestCsms(faults=frozenset({fault})) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="1.6",
            parameters=parameters(csms, timeout_s=1 if fault == "silent" else 3),
            operator=AutoOperator(),
            paths=(FOLDER / f"{case_id}.yaml",),
        )
    result = results[case_id]
    text = failures(result)
    assert result.verdict is Verdict.FAIL, f"{result.verdict}\n{text}"
    failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert {c.requirement.id for c in failed} == {case_id}, text
    assert fragment in text
    if fault != "silent":  # the request that shows the fault is cited
        assert all(c.frames for c in failed)
