"""SetChargingProfile payloads of each version parse into the model."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from harness.cli import main
from harness.smartcharging import (
    Kind,
    OperationMode,
    PayloadError,
    Purpose,
    RateUnit,
    Recurrency,
    parse_set_charging_profile,
)
from harness.smartcharging.payloads import schema_validator
from harness.versions import OcppVersion
from tests.smartcharging.helpers import T0, iso, oca_tc066_16, payload2x

D = Decimal


def test_16_charge_point_max_becomes_station_max() -> None:
    evse, profile = parse_set_charging_profile(oca_tc066_16()[0], version=OcppVersion.V16)
    assert evse == 0
    assert profile.purpose is Purpose.STATION_MAX
    assert profile.schedule.duration_s == 86404
    evse, tx = parse_set_charging_profile(oca_tc066_16()[2], version=OcppVersion.V16)
    assert (evse, tx.purpose, tx.transaction_id) == (1, Purpose.TX, "7")


def test_21_fields() -> None:
    payload = payload2x(
        evse=1, pid=4, purpose="TxDefaultProfile", stack=0, start=T0, unit="W",
        kind="Recurring",
        periods=[{"startPeriod": 0, "limit": 11000, "dischargeLimit": -7000, "setpoint": -3000.5,
                  "operationMode": "LocalFrequency", "numberPhases": 3,
                  "v2xFreqWattCurve": [{"frequency": 49.8, "power": 5000},
                                       {"frequency": 50.2, "power": -5000}]}],
    )  # fmt: skip
    payload["chargingProfile"]["recurrencyKind"] = "Weekly"
    payload["chargingProfile"]["validTo"] = iso(T0)
    _, profile = parse_set_charging_profile(payload, version=OcppVersion.V21)
    period = profile.schedule.periods[0]
    assert (profile.kind, profile.recurrency, profile.valid_to) == (
        Kind.RECURRING, Recurrency.WEEKLY, T0
    )  # fmt: skip
    assert profile.schedule.unit is RateUnit.W
    assert (period.limit, period.discharge_limit, period.setpoint) == (11000, -7000, D("-3000.5"))
    assert period.operation_mode is OperationMode.LOCAL_FREQUENCY
    assert period.freq_watt_curve == ((D("49.8"), D(5000)), (D("50.2"), D(-5000)))


def test_21_field_is_refused_by_the_201_schema() -> None:
    payload = payload2x(evse=1, pid=4, purpose="TxDefaultProfile", stack=0, start=T0,
                        periods=[{"startPeriod": 0, "limit": 16, "setpoint": 5}])  # fmt: skip
    with pytest.raises(PayloadError) as info:
        parse_set_charging_profile(payload, version=OcppVersion.V201)
    assert "chargingSchedulePeriod" in info.value.field
    assert info.value.expected == "must not contain {'setpoint'} properties"


def test_cli_21_output_carries_discharge_and_passes_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payloads = [
        payload2x(evse=0, pid=1, purpose="ChargingStationMaxProfile", stack=0, start=T0,
                  unit="W", periods=[{"startPeriod": 0, "limit": 7000,
                                      "dischargeLimit": -4000}]),
        payload2x(evse=1, pid=2, purpose="TxDefaultProfile", stack=0, start=T0, unit="W",
                  periods=[{"startPeriod": 0, "setpoint": -6000, "dischargeLimit": -9000,
                            "operationMode": "CentralSetpoint"}]),
    ]  # fmt: skip
    path = tmp_path / "p.json"
    path.write_text(json.dumps(payloads), "utf-8")
    assert main(["schedule", str(path), "--duration", "60", "--ocpp", "2.1", "--unit", "W"]) == 0
    out = json.loads(capsys.readouterr().out)
    schema_validator(OcppVersion.V21, "GetCompositeScheduleResponse")(out)
    assert out["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 7000, "dischargeLimit": -4000, "setpoint": -4000,
         "operationMode": "CentralSetpoint"}
    ]  # fmt: skip


def test_exact_decimals_from_the_session_parse_and_multiple_of_is_exact() -> None:
    """The session reads numbers with a fraction as Decimal; the oracle takes them as they are
    (regression: fastjsonschema's multipleOf used to raise InvalidOperation on a Decimal)."""
    from decimal import Decimal

    from harness.smartcharging import PayloadError, parse_set_charging_profile
    from harness.versions import OcppVersion

    def payload(limit: Decimal) -> dict[str, object]:
        schedule = {
            "startSchedule": "2025-01-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        }
        return {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": schedule,
            },
        }

    _, profile = parse_set_charging_profile(payload(Decimal("7.5")), version=OcppVersion.V16)
    assert profile.schedules[0].periods[0].limit == Decimal("7.5")
    with pytest.raises(PayloadError, match=r"multiple of 0\.1"):
        parse_set_charging_profile(payload(Decimal("7.25")), version=OcppVersion.V16)
