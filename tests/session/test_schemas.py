"""Schema validation: Decimal numbers, multipleOf, every schema compiles, fault classes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as dt201

from harness.session import CallReceived, Malformation, PayloadKind, Role, schema_set
from harness.versions import OcppVersion
from tests.session.conftest import T0, make_session


def _profile_16(limit: Any) -> dict[str, Any]:
    return {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}}}  # fmt: skip


@pytest.mark.parametrize(
    ("limit", "ok"),
    [
        (Decimal("16.0"), True),
        (Decimal("16.1"), True),  # a float check of 16.1 / 0.1 would wobble; Decimal is exact
        (Decimal("16"), True),
        (16, True),
        (16.1, True),
        (Decimal("16.05"), False),
        (Decimal("7.246376811594203"), False),
        ("16", False),
    ],
)
def test_decimal_numbers_validate_exactly_against_multiple_of(limit: Any, ok: bool) -> None:
    fault = schema_set(OcppVersion.V16).check(
        "SetChargingProfile", PayloadKind.REQUEST, _profile_16(limit)
    )
    assert (fault is None) is ok
    if fault is not None:
        assert fault.path.endswith("chargingSchedulePeriod[0].limit")


@pytest.mark.parametrize("version", list(OcppVersion))
def test_every_schema_of_the_version_compiles(version: OcppVersion) -> None:
    schemas = schema_set(version)
    assert "BootNotification" in schemas.actions
    for action in schemas.actions:
        assert callable(schemas.validator(action, PayloadKind.REQUEST))
        if action not in schemas.send_actions:
            assert callable(schemas.validator(action, PayloadKind.RESPONSE))


def test_only_21_has_send_actions() -> None:
    assert schema_set(OcppVersion.V16).send_actions == frozenset()
    assert schema_set(OcppVersion.V201).send_actions == frozenset()
    assert schema_set(OcppVersion.V21).send_actions == {"NotifyPeriodicEventStream"}


@pytest.mark.parametrize(
    ("payload", "kind", "rule"),
    [
        ({}, Malformation.OCCURRENCE, "required"),
        ({"currentTime": 5}, Malformation.TYPE, "type"),
        ({"currentTime": "soon"}, Malformation.PROPERTY, "format"),
        (
            {"currentTime": "2025-01-01T00:00:00Z", "x": 1},
            Malformation.FORMAT,
            "additionalProperties",
        ),
    ],
)
def test_schema_faults_are_classified(
    payload: dict[str, Any], kind: Malformation, rule: str
) -> None:
    fault = schema_set(OcppVersion.V201).check("Heartbeat", PayloadKind.RESPONSE, payload)
    assert fault is not None
    assert (fault.kind, fault.rule) == (kind, rule)


def test_validation_leaves_the_payload_as_sent() -> None:
    payload = _profile_16(Decimal("16.0"))
    before = repr(payload)
    assert (
        schema_set(OcppVersion.V16).check("SetChargingProfile", PayloadKind.REQUEST, payload)
        is None
    )
    assert repr(payload) == before


def test_201_set_charging_profile_is_typed_with_nested_decimal_limits() -> None:
    station = make_session(OcppVersion.V201, Role.CHARGING_STATION)
    text = (
        '[2,"p1","SetChargingProfile",{"evseId":1,"chargingProfile":{"id":3,"stackLevel":0,'
        '"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",'
        '"chargingSchedule":[{"id":1,"chargingRateUnit":"W","chargingSchedulePeriod":'
        '[{"startPeriod":0,"limit":11000.50},{"startPeriod":600,"limit":7.246376811594203}]}]}}]'
    )
    (event,) = station.receive_text(text, now=T0)
    assert isinstance(event, CallReceived)
    request = event.typed().value
    assert isinstance(request, call201.SetChargingProfile)
    assert isinstance(request.charging_profile, dt201.ChargingProfileType)
    (schedule,) = request.charging_profile.charging_schedule
    assert isinstance(schedule, dt201.ChargingScheduleType)
    limits = [p.limit for p in schedule.charging_schedule_period]
    assert all(
        isinstance(p, dt201.ChargingSchedulePeriodType) for p in schedule.charging_schedule_period
    )
    assert limits == [Decimal("11000.50"), Decimal("7.246376811594203")]
    assert str(limits[0]) == "11000.50"


@pytest.mark.parametrize(
    ("rate", "ok"), [(Decimal("6.1"), True), (6, True), (Decimal("6.12"), False), (6.05, False)]
)
def test_multiple_of_outside_arrays_and_the_fault_names_the_field(rate: Any, ok: bool) -> None:
    """1.6 GetCompositeSchedule.conf: minChargingRate is a multiple of 0.1 too (no array on the
    way); the fault reads like the schema check's own."""
    payload = {
        "status": "Accepted",
        "connectorId": 1,
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": Decimal("16.0")}],
            "minChargingRate": rate,
        },
    }
    fault = schema_set(OcppVersion.V16).check("GetCompositeSchedule", PayloadKind.RESPONSE, payload)
    assert (fault is None) is ok
    if fault is not None:
        assert fault.kind is Malformation.PROPERTY
        assert fault.rule == "multipleOf"
        assert fault.path == "data.chargingSchedule.minChargingRate"
        assert fault.detail == "data.chargingSchedule.minChargingRate must be multiple of 0.1"


def test_other_faults_are_still_found_where_multiple_of_is_checked() -> None:
    payload = _profile_16(Decimal("16.05"))
    del payload["csChargingProfiles"]["stackLevel"]
    fault = schema_set(OcppVersion.V16).check("SetChargingProfile", PayloadKind.REQUEST, payload)
    assert fault is not None
    assert fault.rule == "required"


def test_the_verdict_on_the_empty_payload_is_remembered_and_the_same(version: OcppVersion) -> None:
    schemas = schema_set(version)
    for action in sorted(schemas.actions):
        kinds = [PayloadKind.REQUEST]
        if action not in schemas.send_actions:
            kinds.append(PayloadKind.RESPONSE)
        for kind in kinds:
            validate = schemas.validator(action, kind)
            try:
                validate({})
                expected = None
            except Exception as exc:  # fastjsonschema's fault
                expected = getattr(exc, "rule", "?")
            for _ in range(2):  # the first verdict made, the second remembered
                fault = schemas.check(action, kind, {})
                assert (None if fault is None else fault.rule) == expected, (action, kind)
    assert schemas.check("Heartbeat", PayloadKind.REQUEST, {"x": 1}) is not None
