"""Metering of one EVSE: energy registers that follow the vehicle's counters, and samples.

The station meters what the vehicle it is given does (:class:`~simulators.vehicle.VehicleReading`):
currents and power are the latest reading's, the energy registers grow by the increase of
the vehicle's grid-side counters between readings. The vehicle integrates exactly, so the
registers do not depend on how often readings arrive. After a plug-in the first reading only
sets the baseline (a new vehicle's counters may start anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from simulators.vehicle import VehicleReading

__all__ = ["Meter", "MeterSample", "SampleReason", "next_aligned", "next_due"]


class SampleReason(StrEnum):
    """Why a sample is taken (1.6/2.x ReadingContext values)."""

    PERIODIC = "Sample.Periodic"
    CLOCK = "Sample.Clock"
    TRANSACTION_BEGIN = "Transaction.Begin"
    TRANSACTION_END = "Transaction.End"
    TRIGGER = "Trigger"


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterSample:
    """What the EVSE's meter shows at ``timestamp`` (OCPP measurands in brackets).

    ``current_import_a`` per phase L1–L3 (Current.Import, ≥ 0); ``current_offered_a`` the
    per-phase limit on the pilot now (Current.Offered; 0 while paused);
    ``power_import_w``/``power_export_w`` (Power.Active.Import/Export, ≥ 0);
    ``energy_import_wh``/``energy_export_wh`` the EVSE's registers since the station started
    (Energy.Active.Import/Export.Register); ``soc_percent`` (SoC) only when the vehicle's state
    of charge reaches the station; ``voltage_v`` (Voltage, per phase); ``phases_in_use`` the
    phases the contactor energizes (0 = open).
    """

    evse_id: int
    timestamp: datetime
    reason: SampleReason
    transaction_id: str | None
    current_import_a: tuple[float, float, float]
    current_export_a: tuple[float, float, float]
    current_offered_a: float
    power_import_w: float
    power_export_w: float
    energy_import_wh: float
    energy_export_wh: float
    soc_percent: float | None
    voltage_v: float
    phases_in_use: int


class Meter:
    """The energy meter of one EVSE (mutable; owned by the core)."""

    def __init__(self) -> None:
        self.energy_import_wh = 0.0
        self.energy_export_wh = 0.0
        self._baseline: tuple[float, float] | None = None
        self.last: VehicleReading | None = None

    def plugged(self) -> None:
        """A (possibly different) vehicle was plugged in: the next reading sets the baseline."""
        self._baseline = None
        self.last = None

    def unplugged(self) -> None:
        """The vehicle left: nothing flows any more."""
        self._baseline = None
        self.last = None

    def record(self, reading: VehicleReading) -> None:
        """Take a vehicle reading: the registers grow by the counters' increase."""
        counters = (reading.energy_imported_wh, reading.energy_exported_wh)
        if self._baseline is not None:
            self.energy_import_wh += max(0.0, counters[0] - self._baseline[0])
            self.energy_export_wh += max(0.0, counters[1] - self._baseline[1])
        self._baseline = counters
        self.last = reading

    def sample(
        self,
        *,
        evse_id: int,
        timestamp: datetime,
        reason: SampleReason,
        transaction_id: str | None,
        offered_a: float,
        phases_in_use: int,
        voltage_v: float,
        report_soc: bool,
    ) -> MeterSample:
        """A sample of the registers and the latest reading."""
        reading = self.last
        currents = (0.0, 0.0, 0.0) if reading is None else reading.current_a
        power = 0.0 if reading is None else reading.power_w
        soc = reading.soc_percent if (reading is not None and report_soc) else None
        return MeterSample(
            evse_id=evse_id,
            timestamp=timestamp,
            reason=reason,
            transaction_id=transaction_id,
            current_import_a=(max(0.0, currents[0]), max(0.0, currents[1]), max(0.0, currents[2])),
            current_export_a=(
                max(0.0, -currents[0]),
                max(0.0, -currents[1]),
                max(0.0, -currents[2]),
            ),
            current_offered_a=offered_a,
            power_import_w=max(0.0, power),
            power_export_w=max(0.0, -power),
            energy_import_wh=self.energy_import_wh,
            energy_export_wh=self.energy_export_wh,
            soc_percent=soc,
            voltage_v=voltage_v,
            phases_in_use=phases_in_use,
        )


def next_aligned(now: datetime, interval_s: int) -> datetime:
    """The first instant after ``now`` on a multiple of ``interval_s`` since midnight UTC
    (1.6 ClockAlignedDataInterval, 2.x AlignedDataCtrlr.Interval)."""
    whole = now.replace(microsecond=0)
    into = int(whole.timestamp()) % interval_s
    return whole + timedelta(seconds=interval_s - into)


def next_due(due: datetime, now: datetime, interval_s: int) -> datetime:
    """The next periodic instant after ``now`` (samples missed by a coarse tick are merged
    into the one taken at ``now``)."""
    step = timedelta(seconds=interval_s)
    return due + ((now - due) // step + 1) * step
