"""ClearChargingProfile payloads of each version parse into one :class:`ClearCriteria`."""

from __future__ import annotations

from typing import Any

import pytest

from harness.smartcharging import ClearCriteria, PayloadError, Purpose, parse_clear_charging_profile
from harness.versions import OcppVersion

V16, V201, V21 = OcppVersion.V16, OcppVersion.V201, OcppVersion.V21


@pytest.mark.parametrize(
    ("payload", "criteria"),
    [
        ({"id": 7}, ClearCriteria(profile_id=7)),
        (
            {"connectorId": 1, "chargingProfilePurpose": "TxProfile", "stackLevel": 2},
            ClearCriteria(evse_id=1, purpose=Purpose.TX, stack_level=2),
        ),
        (
            {"id": 7, "connectorId": 0, "chargingProfilePurpose": "ChargePointMaxProfile"},
            ClearCriteria(profile_id=7, evse_id=0, purpose=Purpose.STATION_MAX),
        ),
        ({}, ClearCriteria()),
    ],
    ids=["id-only", "criteria-only", "both", "neither"],
)
def test_16_shapes(payload: dict[str, Any], criteria: ClearCriteria) -> None:
    assert parse_clear_charging_profile(payload, version=V16) == criteria


@pytest.mark.parametrize("version", [V201, V21])
@pytest.mark.parametrize(
    ("payload", "criteria"),
    [
        ({"chargingProfileId": 7}, ClearCriteria(profile_id=7)),
        (
            {"chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxProfile"}},
            ClearCriteria(evse_id=1, purpose=Purpose.TX),
        ),
        (
            {
                "chargingProfileId": 7,
                "chargingProfileCriteria": {
                    "evseId": 0,
                    "chargingProfilePurpose": "ChargingStationMaxProfile",
                    "stackLevel": 3,
                },
            },
            ClearCriteria(profile_id=7, evse_id=0, purpose=Purpose.STATION_MAX, stack_level=3),
        ),
        ({}, ClearCriteria()),
        ({"chargingProfileCriteria": {}}, ClearCriteria()),
    ],
    ids=["id-only", "criteria-only", "both", "neither", "empty-criteria"],
)
def test_2x_shapes(version: OcppVersion, payload: dict[str, Any], criteria: ClearCriteria) -> None:
    assert parse_clear_charging_profile(payload, version=version) == criteria


def test_21_purposes_are_known() -> None:
    for text, purpose in [
        ("PriorityCharging", Purpose.PRIORITY_CHARGING),
        ("LocalGeneration", Purpose.LOCAL_GENERATION),
        ("ChargingStationExternalConstraints", Purpose.EXTERNAL_CONSTRAINTS),
    ]:
        payload = {"chargingProfileCriteria": {"chargingProfilePurpose": text}}
        assert parse_clear_charging_profile(payload, version=V21).purpose is purpose


@pytest.mark.parametrize(
    ("version", "payload", "field", "expected"),
    [
        (V16, {"id": "7"}, "id", "integer"),
        (V16, {"chargingProfilePurpose": "ChargingStationMaxProfile"}, "chargingProfilePurpose",
         "ChargePointMaxProfile"),
        (V201, {"chargingProfileCriteria": {"chargingProfilePurpose": "ChargePointMaxProfile"}},
         "chargingProfileCriteria.chargingProfilePurpose", "ChargingStationMaxProfile"),
        (V201, {"chargingProfileCriteria": {"chargingProfilePurpose": "PriorityCharging"}},
         "chargingProfileCriteria.chargingProfilePurpose", "TxProfile"),
        (V201, {"chargingProfileCriteria": {"evseId": 1.5}}, "chargingProfileCriteria.evseId",
         "integer"),
        (V201, {"id": 7}, "(payload)", "{'id'}"),
        (V21, {"chargingProfileCriteria": {"stackLevel": -1}}, "chargingProfileCriteria.stackLevel",
         "0"),
    ],
    ids=["16-id-text", "16-2x-purpose", "201-16-purpose", "201-21-purpose", "201-evse-float",
         "201-16-field", "21-negative-stack"],
)  # fmt: skip
def test_bad_values_name_the_field(
    version: OcppVersion, payload: dict[str, Any], field: str, expected: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_clear_charging_profile(payload, version=version)
    assert caught.value.field == field
    assert expected in caught.value.expected
    assert "\n" not in str(caught.value)
