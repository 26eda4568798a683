"""The reset between cases (harness/runner/reset.py) and "not supported although declared".

* A station that accepts TC_060's RemoteStart and sends its StartTransaction late (during
  the reset) has that transaction stopped before TC_066, which then runs (was INCONCLUSIVE).
* A station that cannot be brought to idle makes the next case INCONCLUSIVE naming what is
  busy.
* The reset sends ClearChargingProfile only when the case uses profiles and the declaration
  claims smart charging; TC_K_38_CS runs against a station declaring none.
* CALLERROR NotImplemented to a request the declaration promises is a FAIL citing the field:
  in the reset (every applicable 2.0.1 block K case) and in a precondition step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.results import RunStore, Verdict
from harness.runner.inputs import sim_capabilities
from harness.runner.simstation import builtin_factory
from tests.runner.fake_station import FakeBehaviour
from tests.runner.helpers import CAPS, run_yaml
from tests.scenarios.library import K201_IDS, SCENARIOS
from tests.scenarios.sim201 import OCPP201, run_201


def _as_list(*texts: str) -> str:
    """One YAML file holding the given case documents as a list."""
    return "".join("- " + t.strip().replace("\n", "\n  ") + "\n" for t in texts)


def _library(folder: str, case_id: str) -> str:
    return (SCENARIOS / folder / f"{case_id}.yaml").read_text(encoding="utf-8")


def _out_calls(run_dir: Path, key: str) -> list[str]:
    trace = RunStore.open(run_dir).trace(key)
    return [f["action"] for f in trace if f["dir"] == "out" and f["type"] == 2]


async def test_a_late_start_after_tc060_is_stopped_before_tc066(tmp_path: Path) -> None:
    # The fake accepts any RemoteStart (TC_060's TxDefaultProfile too) and sends its
    # StartTransaction 2 s later — after TC_060 has ended, while the reset runs — and it
    # rejects a RemoteStart while a transaction runs, as a real station does.
    text = _as_list(_library("ocpp16", "TC_060_CS"), _library("ocpp16", "TC_066_CS"))
    late = FakeBehaviour(start_delay_s=2.0, accept_every_profile=True)
    results, run_dir, _ = await run_yaml(tmp_path, text, behaviours=[late])
    by_id = {r.info.case_id: r for r in results}
    assert by_id["TC_060_CS"].verdict is Verdict.FAIL  # it accepted the TxDefaultProfile
    tc066 = by_id["TC_066_CS"]
    assert tc066.verdict is Verdict.PASS, tc066.reason
    # the reset before TC_066 waited for the late transaction and stopped it
    calls = _out_calls(run_dir, tc066.key)
    assert calls.index("RemoteStopTransaction") < calls.index("ClearChargingProfile")


TWO_CASES = """
id: {id}
title: test case {id}
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: station
requirements:
  - {{id: R1, level: MUST, text: the must}}
steps:
  - kind: vehicle
    action: plug_in
  - kind: send
    requirement: R1
    action: RemoteStartTransaction
    payload: {{connectorId: 1, idTag: TAG1}}
    expect: {{status: Accepted}}
  - kind: expect_request
    requirement: R1
    action: StartTransaction
    within_s: 60
"""


async def test_a_station_that_cannot_be_brought_to_idle_gives_the_reason(
    tmp_path: Path,
) -> None:
    keeps = FakeBehaviour(keeps_transaction=True)
    text = _as_list(TWO_CASES.format(id="ONE"), TWO_CASES.format(id="TWO"))
    results, _, _ = await run_yaml(tmp_path, text, behaviours=[keeps])
    one, two = results
    assert one.verdict is Verdict.PASS
    assert two.verdict is Verdict.INCONCLUSIVE
    assert "the reset before the case failed" in two.reason
    assert "did not become idle" in two.reason
    assert "still runs (RemoteStopTransaction answered Rejected)" in two.reason


@pytest.mark.parametrize(
    ("status", "verdict"), [("Available", Verdict.PASS), ("Finishing", Verdict.INCONCLUSIVE)]
)
async def test_the_connector_must_be_available_again_after_the_reset(
    tmp_path: Path, status: str, verdict: Verdict
) -> None:
    # The fake reports ``status`` once its transaction has ended, and nothing after.
    behaviour = FakeBehaviour(status_after_stop=status)
    text = _as_list(TWO_CASES.format(id="ONE"), TWO_CASES.format(id="TWO"))
    results, _, _ = await run_yaml(tmp_path, text, behaviours=[behaviour])
    one, two = results
    assert one.verdict is Verdict.PASS
    assert two.verdict is verdict, two.reason
    if verdict is Verdict.INCONCLUSIVE:
        assert "did not become idle within 60 s: connector 1 is Finishing" in two.reason


NO_PROFILES = """
id: PLAIN
title: a case without charging profiles
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: station
requirements:
  - {id: R1, level: MUST, text: the must}
steps:
  - kind: send
    requirement: R1
    action: ChangeConfiguration
    payload: {key: MeterValueSampleInterval, value: "10"}
    expect: {status: Accepted}
"""

PRECONDITION_PROFILE = """
id: SETUP
title: a case whose setup installs a profile
suite: runner-tests
ocpp_versions: ["1.6"]
dut_role: station
requirements:
  - {id: R1, level: MUST, text: the must}
steps:
  - kind: set_profile
    precondition: true
    evse: 1
    profile:
      chargingProfileId: 5
      stackLevel: 0
      chargingProfilePurpose: TxDefaultProfile
      chargingProfileKind: Relative
      chargingSchedule:
        chargingRateUnit: A
        chargingSchedulePeriod: [{startPeriod: 0, limit: 10}]
"""


async def test_the_reset_clears_profiles_only_for_a_case_that_uses_them(tmp_path: Path) -> None:
    no_clear = FakeBehaviour(not_implemented={"ClearChargingProfile"})
    results, run_dir, _ = await run_yaml(tmp_path, NO_PROFILES, behaviours=[no_clear])
    (plain,) = results
    assert plain.verdict is Verdict.PASS
    assert "ClearChargingProfile" not in _out_calls(run_dir, plain.key)


async def test_not_implemented_in_the_reset_fails_a_declared_smart_charging_station(
    tmp_path: Path,
) -> None:
    no_clear = FakeBehaviour(not_implemented={"ClearChargingProfile"})
    results, _, _ = await run_yaml(tmp_path, PRECONDITION_PROFILE, behaviours=[no_clear])
    (result,) = results
    assert result.verdict is Verdict.FAIL
    (failed,) = result.checks
    assert failed.requirement.id == "R1"
    assert "smart_charging: true" in failed.expected
    assert "CALLERROR NotImplemented" in failed.actual
    assert failed.frames


async def test_not_implemented_in_a_precondition_is_fail_only_when_declared(
    tmp_path: Path,
) -> None:
    no_set = FakeBehaviour(not_implemented={"SetChargingProfile"})
    results, _, _ = await run_yaml(tmp_path / "declared", PRECONDITION_PROFILE, behaviours=[no_set])
    (result,) = results
    assert result.verdict is Verdict.FAIL
    (failed,) = [c for c in result.checks if c.verdict is Verdict.FAIL]
    assert "the declaration says smart_charging: true" in failed.expected
    assert failed.actual.startswith("CALLERROR NotImplemented")
    # A station that does not claim smart charging: the setup failed, nothing to judge.
    undeclared = CAPS.model_copy(update={"smart_charging": False})
    results, _, _ = await run_yaml(
        tmp_path / "undeclared", PRECONDITION_PROFILE, behaviours=[no_set], capabilities=undeclared
    )
    (result,) = results
    assert result.verdict is Verdict.INCONCLUSIVE


def test_every_k_case_fails_a_station_that_declares_smart_charging_without_block_k(
    tmp_path: Path,
) -> None:
    k_cases = [OCPP201 / f"{case_id}.yaml" for case_id in K201_IDS]
    results = run_201(k_cases, out=tmp_path, fault="smart_charging_not_implemented")
    applicable = {k: r for k, r in results.items() if r.verdict is not Verdict.NOT_APPLICABLE}
    # TC_K_15/38 (no smart charging), TC_K_12/42 (no W) are for other declarations.
    other = {f"TC_K_{n}_CS" for n in (12, 15, 38, 42)}
    assert set(results) - set(applicable) == other
    assert {k: r.verdict for k, r in applicable.items()} == dict.fromkeys(applicable, Verdict.FAIL)
    for result in applicable.values():
        failing = [c for c in result.checks if c.verdict is Verdict.FAIL]
        assert any("smart_charging: true" in c.expected for c in failing), result.info.case_id
        assert any("NotImplemented" in c.actual for c in failing), result.info.case_id


def test_tc_k_38_runs_against_a_station_without_smart_charging_messages(tmp_path: Path) -> None:
    # Declares no smart charging and answers every block K request CALLERROR NotImplemented:
    # the reset sends it none, and the case judges the remote start.
    caps = sim_capabilities(("2.0.1",)).model_copy(update={"smart_charging": False})
    factory = builtin_factory(station_options={"smart_charging": False})
    results = run_201(
        [OCPP201 / "TC_K_38_CS.yaml"],
        out=tmp_path,
        capabilities=caps,
        factory=factory,
        fault="smart_charging_not_implemented",
    )
    result = results["TC_K_38_CS"]
    assert result.verdict is Verdict.PASS, result.reason
    assert "ClearChargingProfile" not in _out_calls(tmp_path / _run_dir_name(tmp_path), result.key)


def _run_dir_name(out: Path) -> str:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run.name
