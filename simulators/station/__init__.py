"""Simulated charging station: a protocol-neutral core and a catalogue of field faults.

Sans-I/O: feed it times, cable and token events, charging profiles and vehicle readings;
read out events, the pilot offer and meter samples. OCPP adapters (1.6, 2.0.1, 2.1) sit on
top. A session with a simulated vehicle::

    core = StationCore(StationConfig(), now=t0)
    core.plug_in(1, t0); vehicle.plug_in()
    core.on_vehicle_reading(1, vehicle.reading())  # the meter's baseline
    core.start_transaction(1, id_token="TAG", now=t0)
    for k in range(3600):  # one hour in 1 s steps
        now = t0 + timedelta(seconds=k)
        events = core.tick(now)
        vehicle.set_pilot(core.pilot_offer(1))
        core.on_vehicle_reading(1, vehicle.advance(1.0))
"""

from simulators.station.config import AuthorizationMode, StationConfig
from simulators.station.core import StationCore
from simulators.station.events import (
    AuthResult,
    AvailabilityResult,
    CompositeRefused,
    LimitApplied,
    MeterSampleDue,
    PendingStartExpired,
    ReservationEnded,
    StartPending,
    StartRefusal,
    StartRefused,
    StationEvent,
    StationTransaction,
    StatusChanged,
    StopReason,
    TransactionEnded,
    TransactionStarted,
)
from simulators.station.evse import Reservation
from simulators.station.faults import (
    ENDLESS_DURATION_S,
    FaultCatalogueError,
    FaultEntry,
    StationFault,
    load_faults,
)
from simulators.station.limits import AppliedLimit
from simulators.station.metering import MeterSample, SampleReason
from simulators.station.states import (
    CHARGING_STATE_2X,
    STATUS_16,
    TRANSITIONS,
    ConnectorEvent,
    ConnectorState,
    StatusTransitionError,
    mermaid_diagram,
    status_2x,
)

__all__ = [
    "CHARGING_STATE_2X",
    "ENDLESS_DURATION_S",
    "STATUS_16",
    "TRANSITIONS",
    "AppliedLimit",
    "AuthResult",
    "AuthorizationMode",
    "AvailabilityResult",
    "CompositeRefused",
    "ConnectorEvent",
    "ConnectorState",
    "FaultCatalogueError",
    "FaultEntry",
    "LimitApplied",
    "MeterSample",
    "MeterSampleDue",
    "PendingStartExpired",
    "Reservation",
    "ReservationEnded",
    "SampleReason",
    "StartPending",
    "StartRefusal",
    "StartRefused",
    "StationConfig",
    "StationCore",
    "StationEvent",
    "StationFault",
    "StationTransaction",
    "StatusChanged",
    "StatusTransitionError",
    "StopReason",
    "TransactionEnded",
    "TransactionStarted",
    "load_faults",
    "mermaid_diagram",
    "status_2x",
]
