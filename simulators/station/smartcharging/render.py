"""The station engine's GetCompositeSchedule answers, as each OCPP version writes them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from harness.versions import OcppVersion
from simulators.station.smartcharging.composite import Composite, CompositeStep

__all__ = ["accepted_payload", "refused_payload"]


_V21_FIELDS = (
    ("limit_l2", "limit_L2"),
    ("limit_l3", "limit_L3"),
    ("discharge_limit", "dischargeLimit"),
    ("discharge_limit_l2", "dischargeLimit_L2"),
    ("discharge_limit_l3", "dischargeLimit_L3"),
    ("setpoint", "setpoint"),
    ("setpoint_l2", "setpoint_L2"),
    ("setpoint_l3", "setpoint_L3"),
)


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _step(step: CompositeStep, version: OcppVersion) -> dict[str, Any]:
    out: dict[str, Any] = {"startPeriod": step.offset_s}
    if step.limit is not None:
        out["limit"] = _json_number(step.limit)
    elif version is not OcppVersion.V21:
        raise ValueError(f"step at {step.offset_s} s has no limit; OCPP {version} needs one")
    if step.number_phases is not None:
        out["numberPhases"] = step.number_phases
    if version is not OcppVersion.V16 and step.phase_to_use is not None:
        out["phaseToUse"] = step.phase_to_use
    if version is OcppVersion.V21:
        for attr, key in _V21_FIELDS:
            value = getattr(step, attr)
            if value is not None:
                out[key] = _json_number(value)
        if step.operation_mode is not None:
            out["operationMode"] = str(step.operation_mode)
    return out


def accepted_payload(composite: Composite, version: OcppVersion) -> dict[str, Any]:
    """The GetCompositeSchedule response (Accepted) of ``version`` for ``composite``."""
    steps = [_step(s, version) for s in composite.steps]
    start = _stamp(composite.start)
    if version is OcppVersion.V16:
        return {
            "status": "Accepted",
            "connectorId": composite.evse_id,
            "scheduleStart": start,
            "chargingSchedule": {
                "duration": composite.duration_s,
                "startSchedule": start,
                "chargingRateUnit": str(composite.unit),
                "chargingSchedulePeriod": steps,
            },
        }
    return {
        "status": "Accepted",
        "schedule": {
            "evseId": composite.evse_id,
            "duration": composite.duration_s,
            "scheduleStart": start,
            "chargingRateUnit": str(composite.unit),
            "chargingSchedulePeriod": steps,
        },
    }


def refused_payload(version: OcppVersion, reason_code: str) -> dict[str, Any]:
    """A Rejected GetCompositeSchedule response (2.x with statusInfo.reasonCode)."""
    if version is OcppVersion.V16:
        return {"status": "Rejected"}
    return {"status": "Rejected", "statusInfo": {"reasonCode": reason_code}}
