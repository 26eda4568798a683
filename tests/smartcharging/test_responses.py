"""GetCompositeSchedule payloads pass the ocpp package's schemas; the judge explains itself."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp
import pytest

from harness.smartcharging import (
    CompositeSchedule,
    InstalledProfile,
    OperationMode,
    Purpose,
    RateUnit,
    StationContext,
    compare_composite,
    composite_response,
    composite_schedule,
    limit_digit_problems,
    parse_composite_response,
    rejected_response,
)
from harness.versions import OcppVersion
from tests.smartcharging.helpers import T0, profile

D = Decimal
FOLDER = {OcppVersion.V16: "v16", OcppVersion.V201: "v201", OcppVersion.V21: "v21"}


def shipped_schema(version: OcppVersion) -> Any:
    path = Path(ocpp.__file__).parent / FOLDER[version] / "schemas"
    schema = json.loads((path / "GetCompositeScheduleResponse.json").read_text("utf-8"))
    schema.pop("$id", None)
    return fastjsonschema.compile(schema)


def schedule(unit: RateUnit = RateUnit.A, evse_id: int = 1) -> CompositeSchedule:
    items = [
        InstalledProfile(0, profile(1, Purpose.STATION_MAX, [(0, 7000)], unit=RateUnit.W,
                                    discharge_limit=D(-5000))),
        InstalledProfile(1, profile(2, Purpose.TX_DEFAULT, [(0, 16), (60, 8.5), (120, None)],
                                    phases=3, setpoint=D(-4), discharge_limit=D(-16),
                                    operation_mode=OperationMode.CENTRAL_SETPOINT)),
    ]  # fmt: skip
    return composite_schedule(
        items, evse_id=evse_id, start=T0, duration_s=300, unit=unit,
        context=StationContext(evse_ids=(1,)), default_limit=D(32),
    )  # fmt: skip


@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize("unit", list(RateUnit))
@pytest.mark.parametrize("evse_id", [0, 1])
def test_accepted_payload_passes_the_schema(
    version: OcppVersion, unit: RateUnit, evse_id: int
) -> None:
    payload = composite_response(schedule(unit, evse_id), version)
    shipped_schema(version)(payload)
    assert payload["status"] == "Accepted"


@pytest.mark.parametrize("version", list(OcppVersion))
def test_rejected_payload_passes_the_schema(version: OcppVersion) -> None:
    payload = rejected_response(version, "UnsupportedRateUnit")
    shipped_schema(version)(payload)
    assert payload["status"] == "Rejected"


def test_21_payload_carries_discharge_and_setpoint() -> None:
    periods = composite_response(schedule(RateUnit.W), OcppVersion.V21)["schedule"][
        "chargingSchedulePeriod"
    ]
    first = periods[0]
    assert (first["limit"], first["dischargeLimit"], first["setpoint"]) == (7000, -5000, -2760)
    assert first["operationMode"] == "CentralSetpoint"


def test_a_gap_without_default_limit_is_refused_for_16() -> None:
    bare = composite_schedule([], evse_id=1, start=T0, duration_s=10, unit=RateUnit.A,
                              context=StationContext())  # fmt: skip
    with pytest.raises(ValueError, match="default_limit"):
        composite_response(bare, OcppVersion.V16)
    shipped_schema(OcppVersion.V21)(composite_response(bare, OcppVersion.V21))


@pytest.mark.parametrize("version", list(OcppVersion))
def test_payload_round_trips_through_the_parser(version: OcppVersion) -> None:
    expected = schedule()
    payload = composite_response(expected, version)
    back = parse_composite_response(payload, version)
    assert back is not None
    assert back.schedule_start == expected.schedule_start
    assert [p.limit for p in back.periods] == [p.limit for p in expected.periods]


def _shift(payload: dict[str, Any], seconds: int) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(payload))
    out["schedule"]["scheduleStart"] = f"2024-03-04T12:00:{seconds:02d}Z"
    for period in out["schedule"]["chargingSchedulePeriod"][1:]:
        period["startPeriod"] -= seconds
    return out


def test_judge_allows_the_time_deviation_and_not_more() -> None:
    expected = schedule()
    payload = composite_response(expected, OcppVersion.V201)
    assert compare_composite(expected, _shift(payload, 2), version=OcppVersion.V201,
                             time_tolerance_s=2).ok  # fmt: skip
    late = compare_composite(expected, _shift(payload, 3), version=OcppVersion.V201,
                             time_tolerance_s=2)  # fmt: skip
    assert [d.where for d in late.differences] == ["scheduleStart"]


def test_judge_limits_to_the_precision() -> None:
    # 2.1: no digit rule (2.0.1 has one, see below), a difference below 0.1 passes.
    expected = schedule()
    payload = composite_response(expected, OcppVersion.V21)
    payload["schedule"]["chargingSchedulePeriod"][1]["limit"] += 0.05
    assert compare_composite(expected, payload, version=OcppVersion.V21, time_tolerance_s=0).ok
    payload["schedule"]["chargingSchedulePeriod"][1]["limit"] += 0.1
    verdict = compare_composite(expected, payload, version=OcppVersion.V21, time_tolerance_s=0)
    assert [(d.where, d.expected, d.actual) for d in verdict.differences] == [
        ("period 1 limit", "8.5", "8.65")
    ]
    text = verdict.describe()
    assert "Expected: EVSE 1 from 2024-03-04T12:00:00Z for 300 s: 0 s → 10.1 A" in text
    assert "Actual:" in text
    assert "period 1 limit: expected 8.5, got 8.65" in text


def test_judge_2_0_1_limits_have_at_most_one_digit_fraction() -> None:
    # 2.0.1 ChargingSchedulePeriodType.limit: "Accepts at most one digit fraction (e.g. 8.1)".
    expected = schedule()
    payload = composite_response(expected, OcppVersion.V201)
    assert compare_composite(expected, payload, version=OcppVersion.V201, time_tolerance_s=0).ok
    payload["schedule"]["chargingSchedulePeriod"][1]["limit"] = 8.54
    verdict = compare_composite(expected, payload, version=OcppVersion.V201, time_tolerance_s=0)
    assert [(d.where, d.actual) for d in verdict.differences] == [("period 1 limit", "8.54")]
    assert "at most one digit fraction" in verdict.differences[0].expected


def test_the_one_digit_rule_applies_wherever_a_2_0_1_station_reports_limits() -> None:
    report = {  # ReportChargingProfiles: the profiles as the station keeps them
        "requestId": 1,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "chargingProfile": [
            {
                "id": 7,
                "chargingSchedule": [
                    {
                        "id": 7,
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": 10.7},
                            {"startPeriod": 60, "limit": D("10.72")},
                            {"startPeriod": 120, "limit": 16},
                        ],
                    }
                ],
            }
        ],
    }
    found = limit_digit_problems(report, OcppVersion.V201)
    assert found == [("$.chargingProfile[0].chargingSchedule[0].chargingSchedulePeriod[1].limit",
                      "10.72")]  # fmt: skip
    notify = {"chargingSchedule": [{"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.05}]}]}
    assert [v for _, v in limit_digit_problems(notify, OcppVersion.V201)] == ["6.05"]
    # 1.6 leaves it to its schema (multipleOf 0.1), 2.1 has no such sentence.
    assert limit_digit_problems(notify, OcppVersion.V16) == []
    assert limit_digit_problems(notify, OcppVersion.V21) == []


def test_judge_reports_rejected_and_schema_violations() -> None:
    expected = schedule()
    rejected = compare_composite(expected, {"status": "Rejected"}, version=OcppVersion.V201,
                                 time_tolerance_s=1)  # fmt: skip
    assert not rejected.ok
    assert rejected.actual_text == "status Rejected, no schedule"
    broken = compare_composite(expected, {"status": "Accepted", "schedule": {"evseId": 1}},
                               version=OcppVersion.V201, time_tolerance_s=1)  # fmt: skip
    assert broken.differences[0].where == "response schema"


def test_judge_checks_phases_and_unit() -> None:
    expected = schedule()
    payload = composite_response(expected, OcppVersion.V16)
    payload["chargingSchedule"]["chargingSchedulePeriod"][0]["numberPhases"] = 1
    payload["chargingSchedule"]["chargingRateUnit"] = "W"
    verdict = compare_composite(expected, payload, version=OcppVersion.V16, time_tolerance_s=1)
    wheres = [d.where for d in verdict.differences]
    assert "chargingRateUnit" in wheres
    assert "period 0 numberPhases" in wheres
