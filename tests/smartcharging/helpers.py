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


# The OCA documents' memory states, with <Configured max time deviation> = 4 s and the
# request at T0 right after the last SetChargingProfile, so the documents' x is 4 s.
# OCPP 1.6 TestCaseDocument (FINAL 2024-04) table 82 (TC_066_CS) and table 84 (TC_072_CS);
# OCPP 2.0.1 Part 6 (edition 3) table 288 (TC_K_41_CS) and TC_K_40_CS.
DEVIATION_S = 4
VALID_FROM = at(-DEVIATION_S)
VALID_TO = at(-DEVIATION_S + 401)


def _validity16(payload: dict[str, Any]) -> dict[str, Any]:
    payload["csChargingProfiles"]["validFrom"] = iso(VALID_FROM)
    payload["csChargingProfiles"]["validTo"] = iso(VALID_TO)
    return payload


def _validity2x(payload: dict[str, Any]) -> dict[str, Any]:
    payload["chargingProfile"]["validFrom"] = iso(VALID_FROM)
    payload["chargingProfile"]["validTo"] = iso(VALID_TO)
    return payload


def oca_tc066_16() -> list[dict[str, Any]]:
    """TC_066_CS as OCPP 1.6 payloads (profiles start 4 s before the request at T0)."""
    s = at(-DEVIATION_S)
    return [
        payload16(
            connector=0,
            pid=1,
            purpose="ChargePointMaxProfile",
            stack=0,
            periods=[(0, 10)],
            start=s,
            duration=86400 + DEVIATION_S,
        ),
        _validity16(
            payload16(
                connector=1,
                pid=2,
                purpose="TxDefaultProfile",
                stack=0,
                periods=[(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)],
                start=s,
                duration=300,
            )
        ),
        _validity16(
            payload16(
                connector=1,
                pid=3,
                purpose="TxProfile",
                stack=0,
                periods=[(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)],
                start=s,
                duration=260,
                transaction_id=7,
            )
        ),
    ]


def oca_tc066_2x() -> list[dict[str, Any]]:
    """TC_K_41_CS: the TC_066 data as OCPP 2.x payloads."""
    s = at(-DEVIATION_S)
    return [
        payload2x(
            evse=0,
            pid=1,
            purpose="ChargingStationMaxProfile",
            stack=0,
            periods=[(0, 10)],
            start=s,
            duration=86400 + DEVIATION_S,
        ),
        _validity2x(
            payload2x(
                evse=1,
                pid=2,
                purpose="TxDefaultProfile",
                stack=0,
                periods=[(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)],
                start=s,
                duration=300,
            )
        ),
        _validity2x(
            payload2x(
                evse=1,
                pid=3,
                purpose="TxProfile",
                stack=0,
                periods=[(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)],
                start=s,
                duration=260,
                transaction_id="tx-7",
            )
        ),
    ]


def oca_tc072_16() -> list[dict[str, Any]]:
    """TC_072_CS: two TxDefault profiles at stack levels 0 and 1, from 4 s before T0."""
    s = at(-DEVIATION_S)
    return [
        _validity16(
            payload16(
                connector=1,
                pid=1,
                purpose="TxDefaultProfile",
                stack=0,
                periods=[(0, 6), (100, 8), (200, 10)],
                start=s,
                duration=400,
            )
        ),
        _validity16(
            payload16(
                connector=1,
                pid=2,
                purpose="TxDefaultProfile",
                stack=1,
                periods=[(0, 7), (100, 9)],
                start=s,
                duration=150,
            )
        ),
    ]


def oca_tc072_2x() -> list[dict[str, Any]]:
    """TC_K_40_CS: the TC_072 data as OCPP 2.x payloads."""
    s = at(-DEVIATION_S)
    return [
        _validity2x(
            payload2x(
                evse=1,
                pid=1,
                purpose="TxDefaultProfile",
                stack=0,
                periods=[(0, 6), (100, 8), (200, 10)],
                start=s,
                duration=400,
            )
        ),
        _validity2x(
            payload2x(
                evse=1,
                pid=2,
                purpose="TxDefaultProfile",
                stack=1,
                periods=[(0, 7), (100, 9)],
                start=s,
                duration=150,
            )
        ),
    ]


X = DEVIATION_S
TC066_EXPECTED = [(0, 8), (50 - X, 10), (200 - X, 6), (240 - X, 10)]
"""Table 82 / table 288: 0 → 8, (50 − x) → 10, (200 − x) → 6, (240 − x) → 10 over 400 s."""
TC066_TX_DEFAULT_RESUMES = [(0, 8), (46, 10), (196, 6), (236, 10), (256, 8), (296, 10)]
"""The reading the documents do not take: the TxDefault's 8 A back after the TxProfile."""
TC072_EXPECTED = [(0, 7), (100 - X, 9), (150 - X, 8), (200 - X, 10)]
"""Table 84 / TC_K_40_CS: 0 → 7, (100 − x) → 9, (150 − x) → 8, (200 − x) → 10 over 350 s."""
