"""The OCPP 2.0.1 block K CSMS cases added from the catalogue (issue 18), against the test
CSMS (real WebSocket on loopback, real time with short timeouts): a good CSMS passes each,
and a CSMS with the fault that breaks a case's rule fails it, naming the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import Verdict
from harness.runner.operator import AutoOperator
from tests.runner.station_role.fake_csms import TestCsms
from tests.runner.station_role.helpers import LIBRARY, failures, hook_parameters, run_suite

NEW_IDS = tuple(
    f"TC_K_{n:02d}_CSMS" for n in (3, 4, 6, 8, 10, 19, *range(29, 37), 43, 44, 48, 50, 51, 52)
)

# case → (the test CSMS's fault that breaks its rule, a fragment the FAIL must name)
BROKEN_BY: dict[str, tuple[str, str]] = {
    "TC_K_03_CSMS": ("wrong_evse", "at $.evseId: expected 0, got 1"),
    "TC_K_04_CSMS": ("replace_new_id", "at $.chargingProfile.id: expected 100, got 101"),
    "TC_K_06_CSMS": ("clear_by_id", "at $.chargingProfileId: expected absent, got 100"),
    "TC_K_08_CSMS": ("silent", "no ClearChargingProfile"),
    "TC_K_10_CSMS": ("wrong_evse", "at $.evseId: expected 0, got 1"),
    "TC_K_19_CSMS": ("not_recurring", 'expected "Recurring", got "Absolute"'),
    "TC_K_29_CSMS": ("wrong_evse", "at $.evseId: expected 0, got 1"),
    "TC_K_30_CSMS": ("wrong_evse", "at $.evseId"),
    "TC_K_31_CSMS": ("wrong_evse", "at $.evseId: expected absent, got 1"),
    "TC_K_32_CSMS": ("no_criteria", "at $.chargingProfile.chargingProfileId"),
    "TC_K_33_CSMS": ("no_criteria", "at $.chargingProfile.stackLevel"),
    "TC_K_34_CSMS": ("no_criteria", "at $.chargingProfile.chargingLimitSource"),
    "TC_K_35_CSMS": ("no_criteria", "at $.chargingProfile.chargingProfilePurpose"),
    "TC_K_36_CSMS": ("no_criteria", "at $.chargingProfile.chargingProfilePurpose"),
    "TC_K_43_CSMS": ("wrong_evse", "at $.evseId"),
    "TC_K_44_CSMS": ("wrong_evse", "at $.evseId: expected 0, got 1"),
    "TC_K_48_CSMS": ("no_ems_limit", "CALLERROR InternalError"),
    "TC_K_50_CSMS": ("no_ems_cleared", "CALLERROR InternalError"),
    "TC_K_51_CSMS": ("no_ems_cleared", "CALLERROR InternalError"),
    "TC_K_52_CSMS": ("no_criteria", "at $.chargingProfile.chargingProfilePurpose"),
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
            parameters=hook_parameters(csms, timeout_s=3),
            operator=operator,
            only=NEW_IDS,
        )
    assert sorted(results) == sorted(NEW_IDS)
    bad = {i: failures(r) for i, r in results.items() if r.verdict is not Verdict.PASS}
    assert bad == {}
    for case_id, result in results.items():
        assert case_id in {c.requirement.id for c in result.checks}
        assert all(c.frames for c in result.checks)
    assert operator.asked == []
    assert csms.errors == []


@pytest.mark.parametrize("case_id", NEW_IDS)
async def test_a_csms_breaking_the_rule_fails_the_case(tmp_path: Path, case_id: str) -> None:
    fault, fragment = BROKEN_BY[case_id]
    async with TestCsms(faults=frozenset({fault})) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="2.0.1",
            parameters=hook_parameters(csms, timeout_s=1 if fault == "silent" else 3),
            operator=AutoOperator(),
            only=(case_id,),
        )
    result = results[case_id]
    text = failures(result)
    assert result.verdict is Verdict.FAIL, f"{result.verdict}\n{text}"
    failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert case_id in {c.requirement.id for c in failed}, text
    assert fragment in text
    if fault != "silent":  # the request that shows the fault is cited
        assert all(c.frames for c in failed)
