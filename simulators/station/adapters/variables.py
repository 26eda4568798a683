"""OCPP 2.x device-model variables of the simulated station (Get/SetVariables).

Only the components the smart-charging cases need: SmartChargingCtrlr, SampledDataCtrlr,
AlignedDataCtrlr, OCPPCommCtrlr and TxCtrlr (attribute type Actual only). Values are
read from the core's configuration and the station's run-time settings when asked, so they
are never stale; writable ones change those settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulators.station.adapters.common import StationHost, parse_measurands

__all__ = ["Variable", "device_model"]


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable: how to read it, and (``None``: read-only) how to set it.

    ``write`` returns False when the value is not acceptable (SetVariables Rejected).
    """

    read: Callable[[], str]
    write: Callable[[str], bool] | None = None


def _bool(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text.strip().lower())


def device_model(host: StationHost) -> dict[tuple[str, str], Variable]:
    """Every variable by ``(component, variable)``."""
    s = host.settings

    def config() -> object:
        return host.core.config

    def flag(attr: str) -> Variable:
        def write(text: str) -> bool:
            value = _bool(text)
            if value is None:
                return False
            setattr(s, attr, value)
            return True

        return Variable(lambda: str(getattr(s, attr)).lower(), write)

    def set_significance(text: str) -> bool:
        try:
            value = float(text)
        except ValueError:
            return False
        if not 0 <= value <= 1:
            return False
        s.limit_change_significance = value
        return True

    def set_interval(text: str) -> bool:
        if not text.isdigit():
            return False
        host.set_meter_interval(int(text))
        return True

    def set_heartbeat(text: str) -> bool:
        if not text.isdigit() or int(text) == 0:
            return False
        s.heartbeat_interval_s = int(text)
        return True

    def set_measurands(text: str) -> bool:
        chosen = parse_measurands(text)
        if chosen is None:
            return False
        s.measurands = chosen
        return True

    def measurands() -> str:
        return ",".join(str(m) for m in s.measurands)

    c = host.core.config
    units = ",".join(sorted(str(u) for u in c.supported_units))
    return {
        ("SmartChargingCtrlr", "Enabled"): flag("smart_charging_enabled"),
        ("SmartChargingCtrlr", "Available"): Variable(lambda: "true"),
        ("SmartChargingCtrlr", "LimitChangeSignificance"): Variable(
            lambda: str(s.limit_change_significance), set_significance
        ),
        ("SmartChargingCtrlr", "PeriodsPerSchedule"): Variable(
            lambda: str(c.max_periods if c.max_periods is not None else 1000)
        ),
        ("SmartChargingCtrlr", "ProfileStackLevel"): Variable(
            lambda: str(c.max_stack_level if c.max_stack_level is not None else 99)
        ),
        ("SmartChargingCtrlr", "RateUnit"): Variable(lambda: units),
        ("SmartChargingCtrlr", "ExternalControlSignalsEnabled"): flag(
            "external_control_signals_enabled"
        ),
        ("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules"): flag("notify_with_schedules"),
        ("SmartChargingCtrlr", "Phases3to1"): Variable(lambda: str(c.phase_switching).lower()),
        ("SmartChargingCtrlr", "Entries"): Variable(lambda: str(len(host.core.installed_profiles))),
        ("SampledDataCtrlr", "Enabled"): Variable(lambda: "true"),
        ("SampledDataCtrlr", "TxUpdatedInterval"): Variable(
            lambda: str(getattr(config(), "meter_interval_s", 0)), set_interval
        ),
        ("SampledDataCtrlr", "TxUpdatedMeasurands"): Variable(measurands, set_measurands),
        ("SampledDataCtrlr", "TxStartedMeasurands"): Variable(measurands, set_measurands),
        ("SampledDataCtrlr", "TxEndedMeasurands"): Variable(measurands, set_measurands),
        ("AlignedDataCtrlr", "Enabled"): Variable(
            lambda: str(c.clock_aligned_interval_s is not None).lower()
        ),
        ("AlignedDataCtrlr", "Interval"): Variable(lambda: str(c.clock_aligned_interval_s or 0)),
        ("AlignedDataCtrlr", "Measurands"): Variable(measurands),
        ("OCPPCommCtrlr", "HeartbeatInterval"): Variable(
            lambda: str(s.heartbeat_interval_s), set_heartbeat
        ),
        ("TxCtrlr", "EVConnectionTimeOut"): Variable(lambda: str(round(c.connection_timeout_s))),
    }
