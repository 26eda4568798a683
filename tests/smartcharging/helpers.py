"""Builders for SetChargingProfile payloads and model values used across the oracle tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from harness.smartcharging import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    RateUnit,
    Recurrency,
    SchedulePeriod,
)

T0 = datetime(2024, 3, 4, 12, 0, 0, tzinfo=UTC)
"""The request instant of the OCA vectors (any instant would do)."""


def iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def payload16(
    *,
    connector: int,
    pid: int,
    purpose: str,
    stack: int,
    periods: list[tuple[int, float]],
    start: datetime | None,
    duration: int | None = None,
    kind: str = "Absolute",
    unit: str = "A",
    transaction_id: int | None = None,
) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods],
    }
    if start is not None:
        schedule["startSchedule"] = iso(start)
    if duration is not None:
        schedule["duration"] = duration
    profile: dict[str, Any] = {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return {"connectorId": connector, "csChargingProfiles": profile}


def payload2x(
    *,
    evse: int,
    pid: int,
    purpose: str,
    stack: int,
    periods: list[dict[str, Any]] | list[tuple[int, float]],
    start: datetime | None,
    duration: int | None = None,
    kind: str = "Absolute",
    unit: str = "A",
    transaction_id: str | None = None,
) -> dict[str, Any]:
    rows = [p if isinstance(p, dict) else {"startPeriod": p[0], "limit": p[1]} for p in periods]
    schedule: dict[str, Any] = {"id": pid, "chargingRateUnit": unit, "chargingSchedulePeriod": rows}
    if start is not None:
        schedule["startSchedule"] = iso(start)
    if duration is not None:
        schedule["duration"] = duration
    profile: dict[str, Any] = {
        "id": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
    }
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return {"evseId": evse, "chargingProfile": profile}


def profile(
    pid: int,
    purpose: Purpose,
    periods: list[tuple[int, float | None]],
    *,
    stack: int = 0,
    kind: Kind = Kind.ABSOLUTE,
    start: datetime | None = T0,
    duration: int | None = None,
    unit: RateUnit = RateUnit.A,
    phases: int | None = None,
    recurrency: Recurrency | None = None,
    transaction_id: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    **period_fields: Any,
) -> ChargingProfile:
    rows = tuple(
        SchedulePeriod(
            start_period_s=s,
            limit=None if v is None else Decimal(str(v)),
            number_phases=phases,
            **period_fields,
        )
        for s, v in periods
    )
    return ChargingProfile(
        profile_id=pid,
        stack_level=stack,
        purpose=purpose,
        kind=kind,
        schedules=(
            ChargingSchedule(unit=unit, periods=rows, start_schedule=start, duration_s=duration),
        ),
        recurrency=recurrency,
        transaction_id=transaction_id,
        valid_from=valid_from,
        valid_to=valid_to,
    )


def oca_tc066_16() -> list[dict[str, Any]]:
    """TC_066_CS as OCPP 1.6 payloads (profiles start 4 s before the request at T0)."""
    s = at(-4)
    return [
        payload16(
            connector=0,
            pid=1,
            purpose="ChargePointMaxProfile",
            stack=0,
            periods=[(0, 10)],
            start=s,
            duration=86404,
        ),
        payload16(
            connector=1,
            pid=2,
            purpose="TxDefaultProfile",
            stack=0,
            periods=[(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)],
            start=s,
            duration=304,
        ),
        payload16(
            connector=1,
            pid=3,
            purpose="TxProfile",
            stack=0,
            periods=[(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)],
            start=s,
            duration=264,
            transaction_id=7,
        ),
    ]


def oca_tc066_2x() -> list[dict[str, Any]]:
    """TC_K_41_CS: the TC_066 data as OCPP 2.x payloads."""
    s = at(-4)
    return [
        payload2x(
            evse=0,
            pid=1,
            purpose="ChargingStationMaxProfile",
            stack=0,
            periods=[(0, 10)],
            start=s,
            duration=86404,
        ),
        payload2x(
            evse=1,
            pid=2,
            purpose="TxDefaultProfile",
            stack=0,
            periods=[(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)],
            start=s,
            duration=304,
        ),
        payload2x(
            evse=1,
            pid=3,
            purpose="TxProfile",
            stack=0,
            periods=[(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)],
            start=s,
            duration=264,
            transaction_id="tx-7",
        ),
    ]


def oca_tc072_16() -> list[dict[str, Any]]:
    """TC_072_CS: two TxDefault profiles at stack levels 0 and 1, both from T0."""
    return [
        payload16(
            connector=1,
            pid=1,
            purpose="TxDefaultProfile",
            stack=0,
            periods=[(0, 6), (50, 5), (100, 8), (200, 10)],
            start=T0,
            duration=400,
        ),
        payload16(
            connector=1,
            pid=2,
            purpose="TxDefaultProfile",
            stack=1,
            periods=[(0, 7), (100, 9)],
            start=T0,
            duration=150,
        ),
    ]


# OCA TC_066_CS table 82 / TC_K_41_CS table 288: four periods (a valid TxProfile overrules
# the TxDefaultProfile for the whole transaction, 1.6 §3.13.2 / K08).
TC066_EXPECTED = [(0, 8), (46, 10), (196, 6), (236, 10)]
TC072_EXPECTED = [(0, 7), (100, 9), (150, 8), (200, 10)]
