"""The last OCPP 2.0.1 block K CSMS cases of the catalogue (issue 18): the ISO 15118 cases at
the OCPP level (TC_K_53/55/57/58/59), TC_K_02 (a TxProfile the station rejects), TC_K_15 (a
station without smart charging) and TC_K_70 (two profiles). Against the test CSMS (real
WebSocket on loopback, real time with short timeouts): a good CSMS passes each, and a CSMS
with the fault that breaks a case's rule fails it, naming the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import Verdict
from harness.runner.operator import AutoOperator
from tests.runner.station_role.fake_csms import TestCsms
from tests.runner.station_role.helpers import LIBRARY, failures, hook_parameters, run_suite

NEW_IDS = tuple(f"TC_K_{n:02d}_CSMS" for n in (2, 15, 53, 55, 57, 58, 59, 70))

# case → (the test CSMS's fault that breaks its rule, the requirement failed, a fragment the
# FAIL must name)
BROKEN_BY: dict[str, tuple[str, str, str]] = {
    "TC_K_02_CSMS": ("late_first_period", "TC_K_02_CSMS", "chargingSchedulePeriod"),
    "TC_K_15_CSMS": ("wrong_evse", "TC_K_15_CSMS", "at $.evseId: expected 1, got 0"),
    "TC_K_53_CSMS": ("renegotiate_without_cause", "TC_K_53_CSMS", "it sent SetChargingProfile"),
    "TC_K_55_CSMS": ("accept_exceeding", "K15.FR.12", 'expected "Rejected", got "Accepted"'),
    "TC_K_57_CSMS": ("needs_once", "K17.FR.03", 'got "Rejected"'),
    "TC_K_58_CSMS": ("renegotiate_no_tx", "TC_K_58_CSMS", "at $.chargingProfile.transactionId"),
    "TC_K_59_CSMS": ("needs_once", "K16.FR.12", 'got "Rejected"'),
    "TC_K_70_CSMS": ("same_id", "TC_K_70_CSMS", "at $.chargingProfile.id: expected not"),
}


def test_every_new_case_has_a_file_and_a_fault() -> None:
    assert sorted(BROKEN_BY) == sorted(NEW_IDS)
    assert all((LIBRARY / "ocpp201" / f"{i}.yaml").is_file() for i in NEW_IDS)


async def test_a_good_csms_passes_the_new_cases(tmp_path: Path) -> None:
    async with TestCsms() as csms:
        operator = AutoOperator()
        results = await run_suite(
            csms,
            tmp_path,
            version="2.0.1",
            parameters=hook_parameters(csms, timeout_s=2),
            operator=operator,
            only=NEW_IDS,
        )
    assert sorted(results) == sorted(NEW_IDS)
    bad = {i: failures(r) for i, r in results.items() if r.verdict is not Verdict.PASS}
    assert bad == {}
    for result in results.values():
        assert result.checks
        assert all(c.frames for c in result.checks)
    assert operator.asked == []
    assert csms.errors == []


@pytest.mark.parametrize("case_id", NEW_IDS)
async def test_a_csms_breaking_the_rule_fails_the_case(tmp_path: Path, case_id: str) -> None:
    fault, requirement, fragment = BROKEN_BY[case_id]
    async with TestCsms(faults=frozenset({fault})) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="2.0.1",
            parameters={**hook_parameters(csms, timeout_s=2), "profile_after_needs_s": 2},
            operator=AutoOperator(),
            only=(case_id,),
        )
    result = results[case_id]
    text = failures(result)
    assert result.verdict is Verdict.FAIL, f"{result.verdict}\n{text}"
    failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert requirement in {c.requirement.id for c in failed}, text
    assert fragment in text, text
    assert any(c.frames for c in failed)  # the request or answer that shows the fault
