"""The station engine's side of the wire: SetChargingProfile payloads in, composite out.

A payload is first checked against the version's JSON schema (the ``ocpp`` package's, as the
session layer compiles them); a violation is a :class:`PayloadError` naming the field.
1.6 carries ``connectorId`` + ``csChargingProfiles``, 2.x ``evseId`` + ``chargingProfile``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import fastjsonschema

from harness.clock import utc
from harness.session.schemas import PayloadKind, schema_set
from harness.versions import OcppVersion
from simulators.station.smartcharging.model import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    OperationMode,
    Purpose,
    RateUnit,
    Recurrency,
    SchedulePeriod,
)

__all__ = [
    "LOCAL_LIMIT_PROFILE_ID",
    "PayloadError",
    "local_limit_payload",
    "parse_profile_payload",
]

LOCAL_LIMIT_PROFILE_ID = 2_000_000_000
"""Profile id of an external system's (EMS) limit on EVSE n: this + n (not a CSMS's id)."""


class PayloadError(ValueError):
    """A payload does not have its schema's shape; ``field`` is a dotted path."""

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"{field}: {expected}")
        self.field = field
        self.expected = expected


def _num(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _when(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return utc(str(value))
    except ValueError:
        raise PayloadError(field, f"an ISO 8601 date-time, got {value!r}") from None


def _period(raw: dict[str, Any]) -> SchedulePeriod:
    mode = raw.get("operationMode")
    curve = tuple((_num(p["frequency"]), _num(p["power"])) for p in raw.get("v2xFreqWattCurve", ()))
    return SchedulePeriod(
        start_period_s=int(raw["startPeriod"]),
        limit=_num(raw.get("limit")),
        number_phases=raw.get("numberPhases"),
        phase_to_use=raw.get("phaseToUse"),
        limit_l2=_num(raw.get("limit_L2")),
        limit_l3=_num(raw.get("limit_L3")),
        discharge_limit=_num(raw.get("dischargeLimit")),
        discharge_limit_l2=_num(raw.get("dischargeLimit_L2")),
        discharge_limit_l3=_num(raw.get("dischargeLimit_L3")),
        setpoint=_num(raw.get("setpoint")),
        setpoint_l2=_num(raw.get("setpoint_L2")),
        setpoint_l3=_num(raw.get("setpoint_L3")),
        operation_mode=None if mode is None else OperationMode(mode),
        freq_watt_curve=curve,  # type: ignore[arg-type]  # both numbers are present (schema)
    )


def _schedule(raw: dict[str, Any], field: str) -> ChargingSchedule:
    return ChargingSchedule(
        unit=RateUnit(raw["chargingRateUnit"]),
        periods=tuple(_period(p) for p in raw["chargingSchedulePeriod"]),
        start_schedule=_when(raw.get("startSchedule"), f"{field}.startSchedule"),
        duration_s=raw.get("duration"),
        randomized_delay_s=raw.get("randomizedDelay"),
    )


def parse_profile_payload(payload: Any, version: OcppVersion) -> tuple[int, ChargingProfile]:
    """``(evse_id, profile)`` of a SetChargingProfile request of ``version``.

    Raises :class:`PayloadError` when the payload breaks the version's schema.
    """
    try:
        schema_set(version).validator("SetChargingProfile", PayloadKind.REQUEST)(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        where = ".".join(str(p) for p in exc.path[1:]) or "(payload)"
        text = str(exc.message)
        raise PayloadError(
            where, text.split(" ", 1)[1] if text.startswith("data") else text
        ) from None
    if version is OcppVersion.V16:
        evse_id, raw, top = (
            int(payload["connectorId"]),
            payload["csChargingProfiles"],
            "csChargingProfiles",
        )
        schedules: tuple[ChargingSchedule, ...] = (
            _schedule(raw["chargingSchedule"], f"{top}.chargingSchedule"),
        )
        profile_id = int(raw["chargingProfileId"])
        tx = raw.get("transactionId")
        transaction_id = None if tx is None else str(tx)
    else:
        evse_id, raw, top = int(payload["evseId"]), payload["chargingProfile"], "chargingProfile"
        schedules = tuple(
            _schedule(s, f"{top}.chargingSchedule.{n}")
            for n, s in enumerate(raw["chargingSchedule"])
        )
        profile_id = int(raw["id"])
        transaction_id = raw.get("transactionId")
    recurrency = raw.get("recurrencyKind")
    return evse_id, ChargingProfile(
        profile_id=profile_id,
        stack_level=int(raw["stackLevel"]),
        purpose=Purpose.from_wire(raw["chargingProfilePurpose"]),
        kind=Kind(raw["chargingProfileKind"]),
        schedules=schedules,
        recurrency=None if recurrency is None else Recurrency(recurrency),
        valid_from=_when(raw.get("validFrom"), f"{top}.validFrom"),
        valid_to=_when(raw.get("validTo"), f"{top}.validTo"),
        transaction_id=transaction_id,
        dyn_update_interval_s=raw.get("dynUpdateInterval"),
        dyn_update_time=_when(raw.get("dynUpdateTime"), f"{top}.dynUpdateTime"),
    )


def local_limit_payload(evse_id: int, *, limit_a: float, start: datetime) -> dict[str, Any]:
    """A 2.x SetChargingProfile-shaped payload for an external system's (EMS) limit of
    ``limit_a`` per phase on ``evse_id`` from ``start``: ChargingStationExternalConstraints,
    which the station holds for its EMS (a CSMS may not send it, K01.FR.22)."""
    return {
        "evseId": evse_id,
        "chargingProfile": {
            "id": LOCAL_LIMIT_PROFILE_ID + evse_id,
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
