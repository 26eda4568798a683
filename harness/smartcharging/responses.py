"""GetCompositeSchedule response payloads of each version, both ways.

:func:`composite_response` turns the oracle's schedule into the payload a station sends;
:func:`parse_composite_response` reads a DUT's payload back into a
:class:`~harness.smartcharging.composite.CompositeSchedule` for the judge.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from harness.clock import utc
from harness.smartcharging.composite import CompositePeriod, CompositeSchedule
from harness.smartcharging.model import OperationMode, RateUnit
from harness.versions import OcppVersion

__all__ = [
    "composite_response",
    "iso",
    "number",
    "parse_composite_response",
    "rejected_response",
]

_EXTRA_21 = (
    ("limit_l2", "limit_L2"),
    ("limit_l3", "limit_L3"),
    ("discharge_limit", "dischargeLimit"),
    ("discharge_limit_l2", "dischargeLimit_L2"),
    ("discharge_limit_l3", "dischargeLimit_L3"),
    ("setpoint", "setpoint"),
    ("setpoint_l2", "setpoint_L2"),
    ("setpoint_l3", "setpoint_L3"),
)


def iso(instant: datetime) -> str:
    """``2024-01-01T12:00:00Z`` (whole seconds, UTC)."""
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def number(value: Decimal) -> int | float:
    """A JSON number: an int when integral, else a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def _period(period: CompositePeriod, version: OcppVersion) -> dict[str, Any]:
    out: dict[str, Any] = {"startPeriod": period.start_period_s}
    if period.limit is not None:
        out["limit"] = number(period.limit)
    elif version is not OcppVersion.V21:
        raise ValueError(
            f"period at {period.start_period_s} s has no limit; OCPP {version} needs one "
            "(give a default limit: --default-limit on the command line, default_limit in code)"
        )
    if period.number_phases is not None:
        out["numberPhases"] = period.number_phases
    if version is not OcppVersion.V16 and period.phase_to_use is not None:
        out["phaseToUse"] = period.phase_to_use
    if version is OcppVersion.V21:
        for attr, key in _EXTRA_21:
            value = getattr(period, attr)
            if value is not None:
                out[key] = number(value)
        if period.operation_mode is not None:
            out["operationMode"] = str(period.operation_mode)
    return out


def composite_response(schedule: CompositeSchedule, version: OcppVersion) -> dict[str, Any]:
    """The GetCompositeSchedule response payload (status Accepted) for ``schedule``."""
    periods = [_period(p, version) for p in schedule.periods]
    if version is OcppVersion.V16:
        return {
            "status": "Accepted",
            "connectorId": schedule.evse_id,
            "scheduleStart": iso(schedule.schedule_start),
            "chargingSchedule": {
                "duration": schedule.duration_s,
                "startSchedule": iso(schedule.schedule_start),
                "chargingRateUnit": str(schedule.unit),
                "chargingSchedulePeriod": periods,
            },
        }
    return {
        "status": "Accepted",
        "schedule": {
            "evseId": schedule.evse_id,
            "duration": schedule.duration_s,
            "scheduleStart": iso(schedule.schedule_start),
            "chargingRateUnit": str(schedule.unit),
            "chargingSchedulePeriod": periods,
        },
    }


def rejected_response(version: OcppVersion, reason_code: str) -> dict[str, Any]:
    """A Rejected GetCompositeSchedule response (2.x with statusInfo.reasonCode)."""
    if version is OcppVersion.V16:
        return {"status": "Rejected"}
    return {"status": "Rejected", "statusInfo": {"reasonCode": reason_code}}


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def parse_composite_response(
    payload: dict[str, Any], version: OcppVersion, *, evse_id: int = 0
) -> CompositeSchedule | None:
    """The schedule in a DUT's Accepted response, or ``None`` when it has none.

    Raises ``ValueError``/``KeyError`` on a payload that the version's schema would refuse;
    validate the payload against the schema first.
    """
    if payload.get("status") != "Accepted":
        return None
    if version is OcppVersion.V16:
        body = payload.get("chargingSchedule")
        if body is None:
            return None
        start_text = payload.get("scheduleStart") or body.get("startSchedule")
        evse = int(payload.get("connectorId", evse_id))
    else:
        body = payload.get("schedule")
        if body is None:
            return None
        start_text = body["scheduleStart"]
        evse = int(body["evseId"])
    periods = []
    for raw in body["chargingSchedulePeriod"]:
        mode = raw.get("operationMode")
        periods.append(
            CompositePeriod(
                start_period_s=int(raw["startPeriod"]),
                limit=_dec(raw.get("limit")),
                number_phases=raw.get("numberPhases"),
                phase_to_use=raw.get("phaseToUse"),
                operation_mode=OperationMode(mode) if mode else None,
                **{attr: _dec(raw.get(key)) for attr, key in _EXTRA_21},
            )
        )
    if start_text is None:
        raise ValueError("the response gives no scheduleStart")
    return CompositeSchedule(
        evse_id=evse,
        schedule_start=utc(str(start_text)),
        duration_s=int(body.get("duration", 0)),
        unit=RateUnit(body["chargingRateUnit"]),
        periods=tuple(periods),
    )
