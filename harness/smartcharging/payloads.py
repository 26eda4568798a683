"""Parse SetChargingProfile and ClearChargingProfile request payloads (as a CSMS sends them)
into the model.

The payload's shape is first checked against the JSON schema the ``ocpp`` package ships for
that version; a violation becomes a :class:`PayloadError` naming the field and what was
expected. 1.6 SetChargingProfile payloads carry ``connectorId`` + ``csChargingProfiles``; 2.x
payloads ``evseId`` + ``chargingProfile``. ClearChargingProfile: 1.6 has its criteria at the top
(``id``, ``connectorId``, ``chargingProfilePurpose``, ``stackLevel``), 2.x has
``chargingProfileId`` and a ``chargingProfileCriteria`` object.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import fastjsonschema

from harness.clock import utc
from harness.session.schemas import PayloadKind, schema_set
from harness.smartcharging.model import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    OperationMode,
    Purpose,
    RateUnit,
    Recurrency,
    SchedulePeriod,
)
from harness.smartcharging.store import ClearCriteria
from harness.versions import OcppVersion

__all__ = [
    "EXTERNAL_LIMIT_PROFILE_ID",
    "PayloadError",
    "external_limit_request",
    "parse_clear_charging_profile",
    "parse_set_charging_profile",
    "schema_validator",
]


class PayloadError(ValueError):
    """A payload does not have the shape its schema requires; ``field`` is a dotted path."""

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"{field}: {expected}")
        self.field = field
        self.expected = expected


def schema_validator(version: OcppVersion, action: str) -> Any:
    """A compiled validator for ``action`` (e.g. ``"SetChargingProfile"``, request side, or
    ``"GetCompositeScheduleResponse"``) of ``version``, from the ``ocpp`` package's schemas.

    The session layer's compiled schemas are reused, so payloads read with exact decimals
    (``Decimal``) validate, ``multipleOf`` included.
    """
    schemas = schema_set(version)
    if action.endswith("Response"):
        return schemas.validator(action.removesuffix("Response"), PayloadKind.RESPONSE)
    return schemas.validator(action, PayloadKind.REQUEST)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _time(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return utc(str(value))
    except ValueError:
        raise PayloadError(field, f"an ISO 8601 date-time, got {value!r}") from None


def _period(raw: dict[str, Any]) -> SchedulePeriod:
    curve = tuple(
        (Decimal(str(p["frequency"])), Decimal(str(p["power"])))
        for p in raw.get("v2xFreqWattCurve", [])
    )
    mode = raw.get("operationMode")
    return SchedulePeriod(
        start_period_s=int(raw["startPeriod"]),
        limit=_dec(raw.get("limit")),
        number_phases=raw.get("numberPhases"),
        phase_to_use=raw.get("phaseToUse"),
        limit_l2=_dec(raw.get("limit_L2")),
        limit_l3=_dec(raw.get("limit_L3")),
        discharge_limit=_dec(raw.get("dischargeLimit")),
        discharge_limit_l2=_dec(raw.get("dischargeLimit_L2")),
        discharge_limit_l3=_dec(raw.get("dischargeLimit_L3")),
        setpoint=_dec(raw.get("setpoint")),
        setpoint_l2=_dec(raw.get("setpoint_L2")),
        setpoint_l3=_dec(raw.get("setpoint_L3")),
        setpoint_reactive=_dec(raw.get("setpointReactive")),
        operation_mode=OperationMode(mode) if mode is not None else None,
        v2x_baseline=_dec(raw.get("v2xBaseline")),
        freq_watt_curve=curve,
        evse_sleep=raw.get("evseSleep"),
    )


def _schedule(raw: dict[str, Any], field: str) -> ChargingSchedule:
    duration = raw.get("duration")
    if isinstance(duration, int) and duration < 0:  # the schemas set no minimum
        raise PayloadError(f"{field}.duration", f"0 s or more, got {duration}")
    return ChargingSchedule(
        unit=RateUnit(raw["chargingRateUnit"]),
        periods=tuple(_period(p) for p in raw["chargingSchedulePeriod"]),
        start_schedule=_time(raw.get("startSchedule"), f"{field}.startSchedule"),
        duration_s=raw.get("duration"),
        min_charging_rate=_dec(raw.get("minChargingRate")),
        schedule_id=raw.get("id"),
        randomized_delay_s=raw.get("randomizedDelay"),
        use_local_time=raw.get("useLocalTime"),
        has_limit_at_soc="limitAtSoC" in raw,
    )


def _check_schema(payload: Any, version: OcppVersion, action: str) -> None:
    try:
        schema_validator(version, action)(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        path = ".".join(str(p) for p in exc.path[1:]) or "(payload)"
        text = str(exc.message)
        # fastjsonschema says "data.a.b must be integer"; keep "must be integer".
        expected = text.split(" ", 1)[1] if text.startswith("data") and " " in text else text
        raise PayloadError(path, expected) from None


def _purpose(text: str, version: OcppVersion) -> Purpose:
    # 1.6 names the station-wide maximum ChargePointMaxProfile (the schema allows no other name).
    if version is OcppVersion.V16 and text == "ChargePointMaxProfile":
        return Purpose.STATION_MAX
    return Purpose(text)


def parse_clear_charging_profile(payload: Any, *, version: OcppVersion) -> ClearCriteria:
    """The criteria of a ClearChargingProfile request payload (absent fields match anything;
    no field at all clears every profile).

    1.6: ``id``, ``connectorId``, ``chargingProfilePurpose``, ``stackLevel``; 2.0.1 and 2.1:
    ``chargingProfileId`` and ``chargingProfileCriteria`` (``evseId``,
    ``chargingProfilePurpose``, ``stackLevel``). Raises :class:`PayloadError` when the payload
    does not match the version's schema (a wrong type, a purpose of another version, ...).
    """
    _check_schema(payload, version, "ClearChargingProfile")
    if version is OcppVersion.V16:
        criteria, field = payload, "chargingProfilePurpose"
        profile_id, evse_id = payload.get("id"), payload.get("connectorId")
    else:
        criteria = payload.get("chargingProfileCriteria", {})
        field = "chargingProfileCriteria.chargingProfilePurpose"
        profile_id, evse_id = payload.get("chargingProfileId"), criteria.get("evseId")
    purpose_text = criteria.get("chargingProfilePurpose")
    try:
        purpose = None if purpose_text is None else _purpose(purpose_text, version)
    except ValueError:  # a purpose the schema knows and the model does not
        raise PayloadError(field, f"a known purpose, got {purpose_text!r}") from None
    return ClearCriteria(
        profile_id=profile_id,
        evse_id=evse_id,
        purpose=purpose,
        stack_level=criteria.get("stackLevel"),
    )


def parse_set_charging_profile(
    payload: Any, *, version: OcppVersion
) -> tuple[int, ChargingProfile]:
    """Return ``(evse_id, profile)`` from a SetChargingProfile request payload.

    Raises :class:`PayloadError` when the payload does not match the version's schema.
    """
    _check_schema(payload, version, "SetChargingProfile")
    if version is OcppVersion.V16:
        evse_id = int(payload["connectorId"])
        raw = payload["csChargingProfiles"]
        prefix = "csChargingProfiles"
        purpose = _purpose(raw["chargingProfilePurpose"], version)
        schedules: tuple[ChargingSchedule, ...] = (
            _schedule(raw["chargingSchedule"], f"{prefix}.chargingSchedule"),
        )
        profile_id = int(raw["chargingProfileId"])
        tx = raw.get("transactionId")
        transaction_id = None if tx is None else str(tx)
    else:
        evse_id = int(payload["evseId"])
        raw = payload["chargingProfile"]
        prefix = "chargingProfile"
        purpose = Purpose(raw["chargingProfilePurpose"])
        schedules = tuple(
            _schedule(s, f"{prefix}.chargingSchedule.{i}")
            for i, s in enumerate(raw["chargingSchedule"])
        )
        profile_id = int(raw["id"])
        transaction_id = raw.get("transactionId")
    recurrency = raw.get("recurrencyKind")
    profile = ChargingProfile(
        profile_id=profile_id,
        stack_level=int(raw["stackLevel"]),
        purpose=purpose,
        kind=Kind(raw["chargingProfileKind"]),
        schedules=schedules,
        recurrency=Recurrency(recurrency) if recurrency is not None else None,
        valid_from=_time(raw.get("validFrom"), f"{prefix}.validFrom"),
        valid_to=_time(raw.get("validTo"), f"{prefix}.validTo"),
        transaction_id=transaction_id,
        dyn_update_interval_s=raw.get("dynUpdateInterval"),
        dyn_update_time=_time(raw.get("dynUpdateTime"), f"{prefix}.dynUpdateTime"),
    )
    return evse_id, profile


EXTERNAL_LIMIT_PROFILE_ID = 2_000_000_000
"""The profile id the harness and the simulator give an external system's limit (not one a
CSMS uses: the cases' ids are small)."""


def external_limit_request(evse_id: int, *, limit_a: float, start: datetime) -> dict[str, Any]:
    """A 2.x SetChargingProfile-shaped payload of an external system's limit on ``evse_id``:
    a ChargingStationExternalConstraints profile (K01.FR.22: a CSMS may not send one; the
    station holds it for its EMS) of ``limit_a`` per phase from ``start``, without end."""
    return {
        "evseId": evse_id,
        "chargingProfile": {
            "id": EXTERNAL_LIMIT_PROFILE_ID + evse_id,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargingStationExternalConstraints",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": float(limit_a)}],
                }
            ],
        },
    }
