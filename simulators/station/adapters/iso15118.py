"""OCPP 2.x messages about an ISO 15118 vehicle (the ISO 15118-2 dialogue is not simulated).

When a vehicle with ``iso15118`` starts a transaction, the station reports its charging
needs (NotifyEVChargingNeeds, K15) and lets no energy flow until a schedule is agreed: the
CSMS's TxProfile, or its own limits when the CSMS answers Rejected or sends no profile within
``StationConfig.iso15118_schedule_wait_s`` (the 2.0.1 adapter and the core's
``await_schedule``); each time the limit the station agreed with the vehicle changes (a
renegotiated schedule, K16/K17), it reports the schedule (NotifyEVChargingSchedule). When the
vehicle asks to renegotiate, its needs are reported again (K17).
Bidirectional vehicles are the 2.1 adapter's (V2X charging needs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulators.station.adapters.common import iso
from simulators.station.events import LimitApplied
from simulators.vehicle import VehicleParams

__all__ = ["charging_needs", "charging_schedule", "speaks_iso15118"]


def speaks_iso15118(params: VehicleParams | None) -> bool:
    """True for a vehicle whose needs and schedule this module reports."""
    return params is not None and params.iso15118 and not params.bidirectional


def charging_needs(
    *, evse_id: int, params: VehicleParams, at: datetime, soc_percent: float | None
) -> dict[str, Any]:
    """NotifyEVChargingNeeds for an AC ISO 15118 vehicle (integers where 2.0.1 wants them)."""
    soc = params.initial_soc_percent if soc_percent is None else soc_percent
    mode = "AC_three_phase" if params.phases == 3 else "AC_single_phase"
    del at  # 2.0.1's NotifyEVChargingNeeds carries no timestamp
    return {
        "evseId": evse_id,
        "chargingNeeds": {
            "requestedEnergyTransfer": mode,
            "acChargingParameters": {
                "energyAmount": round(params.battery_capacity_wh * (100 - soc) / 100),
                "evMinCurrent": round(params.min_current_a),
                "evMaxCurrent": round(params.max_current_a),
                "evMaxVoltage": round(params.voltage_v),
            },
        },
    }


def charging_schedule(event: LimitApplied, *, schedule_id: int) -> dict[str, Any]:
    """NotifyEVChargingSchedule: the limit now agreed with the vehicle, from now on."""
    return {
        "timeBase": iso(event.at),
        "evseId": event.evse_id,
        "chargingSchedule": {
            "id": schedule_id,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {
                    "startPeriod": 0,
                    "limit": round(event.limit_a, 1),
                    "numberPhases": event.phases,
                }
            ],
        },
    }
