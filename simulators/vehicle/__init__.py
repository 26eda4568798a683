"""Simulated electric vehicle behind an IEC 61851 pilot, and a catalogue of field behaviours.

Sans-I/O: feed it pilot offers and ticks, read :class:`VehicleReading` values::

    catalogue = load_catalogue()
    vehicle = Vehicle(catalogue.get("bev_3ph_16a").vehicle_params())
    vehicle.plug_in()
    vehicle.set_pilot(PilotOffer(duty_percent=current_to_duty(16.0)))
    reading = vehicle.advance(60.0)  # reading.current_a == (16.0, 16.0, 16.0)
"""

from simulators.vehicle.archetypes import (
    Archetype,
    Behaviour,
    Catalogue,
    CatalogueError,
    load_catalogue,
    parse_params,
)
from simulators.vehicle.model import Vehicle
from simulators.vehicle.params import PARAM_SPECS, ParamError, VehicleKind, VehicleParams
from simulators.vehicle.signals import (
    DischargeDecision,
    IdleReason,
    PilotLine,
    PilotOffer,
    VehicleReading,
)

__all__ = [
    "PARAM_SPECS",
    "Archetype",
    "Behaviour",
    "Catalogue",
    "CatalogueError",
    "DischargeDecision",
    "IdleReason",
    "ParamError",
    "PilotLine",
    "PilotOffer",
    "Vehicle",
    "VehicleKind",
    "VehicleParams",
    "VehicleReading",
    "load_catalogue",
    "parse_params",
]
