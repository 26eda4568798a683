"""How a :class:`~simulators.station.runtime.SimulatedStation` reaches the vehicle on an EVSE.

:class:`VehicleLink` is the small interface the station's simulation loop uses; the default
:class:`DirectVehicle` couples a :class:`~simulators.vehicle.Vehicle` in-process and steps it
with the station (deterministic). :class:`~simulators.station.pilot_vehicle.PilotLinkVehicle`
implements it over the pilot-link package (in-process queues or MQTT, where the vehicle runs
on its own clock, possibly in another process).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from simulators.vehicle import (
    DischargeDecision,
    PilotOffer,
    Vehicle,
    VehicleParams,
    VehicleReading,
)

__all__ = ["DirectVehicle", "VehicleLink"]


class VehicleLink(Protocol):
    """One plugged-in vehicle as the station sees it."""

    @property
    def params(self) -> VehicleParams:
        """What the vehicle says about itself (phases, currents, bidirectional, battery)."""

    @property
    def latest(self) -> VehicleReading | None:
        """The latest reading received, if any."""

    def advance_to(self, now: datetime) -> VehicleReading | None:
        """The vehicle's reading at ``now`` under the pilot it had (``None``: nothing new)."""

    def set_pilot(self, offer: PilotOffer) -> None:
        """The station's pilot from now on."""

    def set_discharge(self, *, power_w: float) -> DischargeDecision:
        """Ask the vehicle to export ``power_w`` (0 ends discharging)."""

    def unplug(self) -> None:
        """The cable is removed."""

    @property
    def steady_s(self) -> float:
        """Seconds during which the vehicle shows no change but linear energy growth (the
        station need not step it in between); ``inf`` until the next pilot change, 0 when
        unsure."""


class DirectVehicle:
    """A :class:`~simulators.vehicle.Vehicle` stepped in-process, plugged in at ``now``."""

    def __init__(self, vehicle: Vehicle, *, now: datetime) -> None:
        self.vehicle = vehicle
        self._last = now
        if not vehicle.plugged:
            vehicle.plug_in()
        self._latest: VehicleReading | None = vehicle.reading()

    @property
    def params(self) -> VehicleParams:
        return self.vehicle.params

    @property
    def latest(self) -> VehicleReading | None:
        return self._latest

    def advance_to(self, now: datetime) -> VehicleReading | None:
        dt_s = (now - self._last).total_seconds()
        if dt_s <= 0:
            return None
        self._last = now
        self._latest = self.vehicle.advance(dt_s)
        return self._latest

    def set_pilot(self, offer: PilotOffer) -> None:
        self.vehicle.set_pilot(offer)

    def set_discharge(self, *, power_w: float) -> DischargeDecision:
        return self.vehicle.set_discharge(power_w=power_w)

    def unplug(self) -> None:
        self.vehicle.unplug()

    @property
    def steady_s(self) -> float:
        return self.vehicle.steady_s
