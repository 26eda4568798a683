"""The CSMS-side suite against a good and a deliberately faulty CSMS (real WebSocket on
loopback, real time with short timeouts: the CSMS is a real network peer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import CaseResult, Verdict
from harness.runner.operator import AutoOperator
from tests.runner.station_role.fake_csms import TestCsms, TriggeringOperator
from tests.runner.station_role.helpers import failures, hook_parameters, run_suite

IDS = {
    "1.6": {
        "tx_default": "TC_056_CSMS",
        "tx": "TC_057_CSMS",
        "remote": "TC_059_CSMS",
        "composite": "TC_066_CSMS",
        "clear": "TC_067_CSMS",
        "session": "SC-CSMS-16",
    },
    "2.0.1": {
        "tx_default": "TC_K_01_CSMS",
        "tx": "TC_K_60_CSMS",
        "remote": "TC_K_37_CSMS",
        "composite": "SC-CSMS-201-COMPOSITE",
        "clear": "TC_K_05_CSMS",
        "session": "SC-CSMS-201",
        # the block K cases of the catalogue (test_k201_csms_cases.py judges them one by one)
        **{f"k{n}": f"TC_K_{n}_CSMS" for n in ("03", "04", "06", "08", "10", "19", "43", "44")},
        **{f"k{n}": f"TC_K_{n}_CSMS" for n in (48, 50, 51, 52)},
        **{f"k{n}": f"TC_K_{n}_CSMS" for n in range(29, 37)},
        # ISO 15118 and the last ones (test_k201_iso_cases.py judges them one by one)
        **{f"k{n}": f"TC_K_{n}_CSMS" for n in ("02", "15", 53, 55, 57, 58, 59, 70)},
    },
}


def assert_verdict(result: CaseResult, verdict: Verdict, *fragments: str) -> None:
    """``result`` has ``verdict`` and its explanation names every fragment."""
    text = failures(result)
    assert result.verdict is verdict, f"{result.info.case_id}: {result.verdict}\n{text}"
    for fragment in fragments:
        assert fragment in text, f"{result.info.case_id}: {fragment!r} not in\n{text}"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_good_csms_passes_every_case(tmp_path: Path, version: str) -> None:
    async with TestCsms() as csms:
        operator = AutoOperator()
        results = await run_suite(
            csms,
            tmp_path,
            version=version,
            parameters=hook_parameters(csms, timeout_s=3),
            operator=operator,
        )
    assert set(results) == set(IDS[version].values())
    for result in results.values():
        assert_verdict(result, Verdict.PASS)
        assert result.checks
        assert all(c.frames for c in result.checks)
    assert operator.asked == []  # every trigger went through its hook
    assert csms.errors == []
    # the hook's run is in the step log
    log = " ".join(s.text for s in results[IDS[version]["tx_default"]].steps)
    assert "hook " in log
    assert "exit 0" in log


# fault → (case kind, fragments the FAIL must name, per version)
FAULTS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "over_max": (
        ("tx_default", "session"),
        {
            "1.6": ("limit 40 A is above the station's declared maximum of 32 A",),
            "2.0.1": ("limit 40 A is above the station's declared maximum of 32 A",),
        },
    ),
    "wrong_unit": (
        ("tx_default", "session"),
        {
            "1.6": ("ChargingScheduleAllowedChargingRateUnit", "chargingRateUnit W"),
            "2.0.1": ("K01.FR.26", "chargingRateUnit W"),
        },
    ),
    "bad_stack": (
        ("tx_default",),
        {
            "1.6": ("ChargeProfileMaxStackLevel", "stackLevel 99 > configured maximum 8"),
            "2.0.1": ("ProfileStackLevel", "stackLevel 99 > configured maximum 8"),
        },
    ),
    "late_first_period": (
        ("tx_default", "remote"),
        {"1.6": ("first-period-zero",), "2.0.1": ("K01.FR.31", "first-period-zero")},
    ),
    "no_tx_id": (
        ("tx",),
        {
            "1.6": ("at $.csChargingProfiles.transactionId",),
            "2.0.1": ("K01.FR.03", "TxProfile without transactionId"),
        },
    ),
    "remote_start_default": (
        ("remote",),
        {
            "1.6": ("purpose TxDefaultProfile, expected TxProfile",),
            "2.0.1": ("F01.FR.09", "purpose TxDefaultProfile, expected TxProfile"),
        },
    ),
    "clear_wrong_id": (("clear",), {"1.6": ("9999",), "2.0.1": ("9999",)}),
    "extra_bad_profile": (
        ("tx_default",),
        {
            "1.6": ("SC-CSMS-01", "no step expected it", "TxProfile on EVSE 0"),
            "2.0.1": ("SC-CSMS-01", "no step expected it", "K01.FR.16", "TxProfile on EVSE 0"),
        },
    ),
    "malformed": (
        ("tx_default",),
        {
            "1.6": ("SetChargingProfile broke the protocol", "chargingRateUnit"),
            "2.0.1": ("SetChargingProfile broke the protocol", "chargingRateUnit"),
        },
    ),
    "silent": (
        ("tx_default",),
        {"1.6": ("no SetChargingProfile",), "2.0.1": ("no SetChargingProfile",)},
    ),
}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_faulty_csms_fails_the_cases_that_see_its_fault(
    tmp_path: Path, version: str, fault: str
) -> None:
    kinds, fragments = FAULTS[fault]
    ids = tuple(IDS[version][k] for k in kinds)
    async with TestCsms(faults=frozenset({fault})) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version=version,
            parameters=hook_parameters(csms, timeout_s=1 if fault == "silent" else 3),
            operator=AutoOperator(),
            only=ids,
        )
    assert set(results) == set(ids)
    for case_id in ids:
        assert_verdict(results[case_id], Verdict.FAIL, *fragments[version])
        failed = [c for c in results[case_id].checks if c.verdict is Verdict.FAIL]
        if fault != "silent":  # the request that shows the fault is cited
            assert all(c.frames for c in failed)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_faulty_csms_still_passes_what_its_fault_does_not_touch(
    tmp_path: Path, version: str
) -> None:
    """A CSMS that clears a wrong id sends good profiles: only the clear case fails."""
    async with TestCsms(faults=frozenset({"clear_wrong_id"})) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version=version,
            parameters=hook_parameters(csms, timeout_s=3),
            operator=AutoOperator(),
            only=(IDS[version]["tx_default"], IDS[version]["clear"]),
        )
    assert_verdict(results[IDS[version]["tx_default"]], Verdict.PASS)
    clear = results[IDS[version]["clear"]]
    assert_verdict(clear, Verdict.FAIL, "9999")
    # the profile was still judged (and passed) inside the clear case
    assert [c.verdict for c in clear.checks] == [Verdict.PASS, Verdict.FAIL]


async def test_a_silent_csms_leaves_later_steps_inconclusive_not_error(tmp_path: Path) -> None:
    """TC_059: no RemoteStartTransaction, so no idTag to start with: FAIL, never ERROR."""
    async with TestCsms(faults=frozenset({"silent"})) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="1.6",
            parameters=hook_parameters(csms, timeout_s=1),
            operator=AutoOperator(),
            only=("TC_059_CSMS",),
        )
    result = results["TC_059_CSMS"]
    assert_verdict(result, Verdict.FAIL, "no RemoteStartTransaction within 1 s")
    assert [c.verdict for c in result.checks] == [Verdict.FAIL, Verdict.INCONCLUSIVE]


async def test_without_a_hook_the_operator_is_asked_to_trigger(tmp_path: Path) -> None:
    async with TestCsms() as csms:
        operator = TriggeringOperator(csms, lambda message: "tx_default")
        results = await run_suite(
            csms,
            tmp_path,
            version="1.6",
            parameters={"csms_timeout_s": 3},
            operator=operator,
            only=("TC_056_CSMS",),
        )
    assert_verdict(results["TC_056_CSMS"], Verdict.PASS)
    assert operator.asked == [
        "[station CP-1] Make the CSMS send a TxDefaultProfile (SetChargingProfile) to this "
        "station now"
    ]


async def test_a_failing_hook_makes_the_case_inconclusive_with_its_output(tmp_path: Path) -> None:
    import sys

    failing = f"{sys.executable} -c \"print('CSMS API said 503'); raise SystemExit(3)\""
    async with TestCsms() as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="1.6",
            parameters={"csms_timeout_s": 3, "hook_tx_default": failing},
            operator=AutoOperator(),
            only=("TC_056_CSMS",),
        )
    result = results["TC_056_CSMS"]
    assert_verdict(result, Verdict.INCONCLUSIVE, "exit 3", "CSMS API said 503")
    assert csms.actions == []


async def test_a_csms_that_cannot_be_reached_makes_cases_inconclusive(tmp_path: Path) -> None:
    async with TestCsms() as csms:
        url_port = csms.port
    # the server is closed now: nothing listens on its port
    closed = TestCsms()
    closed.port = url_port
    results = await run_suite(
        closed,
        tmp_path,
        version="1.6",
        parameters={"csms_timeout_s": 1},
        operator=AutoOperator(),
        only=("TC_056_CSMS",),
    )
    result = results["TC_056_CSMS"]
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.interruption is not None
    assert "could not connect" in result.interruption.reason


REJECTING_CASE = """
id: X-REJECT
title: the station refuses the profile; the CSMS's next request is still judged
suite: t
ocpp_versions: ["1.6"]
dut_role: csms
requirements: [{id: X-REJECT}]
parameters:
  hook_tx_default: {type: string, default: ""}
steps:
  - kind: send
    action: BootNotification
    payload: {chargePointVendor: v, chargePointModel: m}
    expect: {status: Accepted}
  - kind: trigger
    message: send a TxDefaultProfile
    hook: ${hook_tx_default}
  - kind: expect_profile
    purpose: tx_default
    within_s: 3
    respond_with: {status: Rejected}
"""


async def test_respond_with_answers_the_csms_as_the_case_says(tmp_path: Path) -> None:
    case = tmp_path / "X-REJECT.yaml"
    case.write_text(REJECTING_CASE)
    async with TestCsms() as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version="1.6",
            parameters={"hook_tx_default": csms.hook("tx_default")},
            operator=AutoOperator(),
            paths=(case,),
        )
    result = results["X-REJECT"]
    assert_verdict(result, Verdict.PASS)
    assert 'answered {"status":"Rejected"}' in result.checks[-1].actual


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_composite_request_in_an_undeclared_unit_fails(
    tmp_path: Path, version: str
) -> None:
    case_id = IDS[version]["composite"]
    async with TestCsms(faults=frozenset({"wrong_unit"})) as csms:
        results = await run_suite(
            csms,
            tmp_path,
            version=version,
            parameters=hook_parameters(csms, timeout_s=3),
            operator=AutoOperator(),
            only=(case_id,),
        )
    composite = results[case_id].checks[-1]
    assert composite.verdict is Verdict.FAIL
    assert "GetCompositeSchedule" in composite.actual
    assert "chargingRateUnit W; the station declares A" in composite.actual
