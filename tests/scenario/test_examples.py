"""The example cases and capability file load, mean what they say, and fit the schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from harness.scenario import (
    LIMIT,
    CompareCompositeStep,
    ExpectRequestStep,
    ExpectSettledStep,
    Level,
    ParamRef,
    Relation,
    SetProfileStep,
    WaitStep,
    load_capabilities,
    load_cases,
    selects,
)
from harness.scenario.schema import capabilities_json_schema, scenario_json_schema
from harness.versions import OcppVersion

DATA = Path(__file__).parent / "data"
CASES = DATA / "cases"
DUT = DATA / "capabilities" / "sim-ac-station-16.yaml"


def test_tc_066_cs_expresses_the_oca_case() -> None:
    (case,) = load_cases([CASES / "tc_066_cs.yaml"])
    assert case.id == "TC_066_CS"
    assert case.ocpp_versions == (OcppVersion.V16,)
    profiles = [s for s in case.steps if isinstance(s, SetProfileStep)]
    purposes = [p.profile["chargingProfilePurpose"] for p in profiles]
    assert purposes == ["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"]
    limits = [p["limit"] for p in profiles[2].profile["chargingSchedule"]["chargingSchedulePeriod"]]
    assert limits == [8.0, 11.0, 16.0, 6.0, 12.0]
    compare = case.steps[-1]
    assert isinstance(compare, CompareCompositeStep)
    assert compare.duration_s == 400.0
    assert compare.evse == ParamRef("connector_id")
    start = next(s for s in case.steps if isinstance(s, ExpectRequestStep))
    assert start.within_s == ParamRef("start_within_s")
    assert case.default_parameters()["start_within_s"] == 60.0


def test_vp_04_expresses_the_short_pause() -> None:
    (case,) = load_cases([CASES / "vp_04.yaml"])
    params = case.default_parameters()
    assert params["pause_s"] == 1200.0
    assert params["resume_within_s"] == 60.0
    wait = next(s for s in case.steps if isinstance(s, WaitStep))
    assert wait.duration_s == ParamRef("pause_s")
    settled = [s for s in case.steps if isinstance(s, ExpectSettledStep)]
    assert settled[0].target.terms == (LIMIT,)
    assert settled[0].relation is Relation.AT_OR_BELOW
    resume = settled[-1]
    assert resume.requirement == "VP-04"
    assert resume.relation is Relation.AT_LEAST
    assert resume.target.evaluate(limit=16.0, variables=params) == 6.0
    assert case.step_level(resume) is Level.MUST
    # the YAML merge key reused the profile and replaced only its schedule
    profiles = [s for s in case.steps if isinstance(s, SetProfileStep)]
    pause = profiles[1].profile
    assert pause["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 0.0}]
    assert pause["chargingProfileId"] == profiles[0].profile["chargingProfileId"]


def test_examples_run_against_the_example_capabilities() -> None:
    capabilities = load_capabilities(DUT)
    verdicts = {case.id: selects(case, capabilities) for case in load_cases([CASES])}
    assert verdicts["TC_066_CS"].runnable
    assert verdicts["VP-04"].versions == ("1.6",)
    assert verdicts["TC_K_41_CS"].reasons == ("applies to OCPP 2.0.1; the DUT declares 1.6",)


def test_tc_k_41_cs_stores_the_transaction_id_from_the_dut() -> None:
    (case,) = load_cases([CASES / "tc_k_41_cs.yaml"])
    start = next(s for s in case.steps if isinstance(s, ExpectRequestStep))
    assert start.store == {"tx_id": "transactionInfo.transactionId"}
    tx_profile = [s for s in case.steps if isinstance(s, SetProfileStep)][-1]
    send = tx_profile.as_send(OcppVersion.V201)
    assert send.payload["chargingProfile"]["transactionId"] == "${tx_id}"
    assert send.payload["evseId"] == "${evse_id}"


def test_examples_validate_against_the_published_schemas() -> None:
    scenario = jsonschema.Draft202012Validator(scenario_json_schema())
    for name in ("tc_066_cs.yaml", "tc_k_41_cs.yaml", "vp_04.yaml"):
        document = yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
        assert [e.message for e in scenario.iter_errors(document)] == []
    capabilities = jsonschema.Draft202012Validator(capabilities_json_schema())
    document = yaml.safe_load((DUT).read_text(encoding="utf-8"))
    assert [e.message for e in capabilities.iter_errors(document)] == []
