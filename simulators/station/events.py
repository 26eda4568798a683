"""What the station core reports (events) and answers (results), in protocol-neutral terms.

Adapters turn these into OCPP messages: :class:`StatusChanged` into StatusNotification,
:class:`TransactionStarted`/:class:`TransactionEnded` into Start/StopTransaction (1.6) or
TransactionEvent Started/Ended (2.x), :class:`MeterSampleDue` into MeterValues or
TransactionEvent Updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from simulators.station.metering import MeterSample
from simulators.station.states import ConnectorState

__all__ = [
    "AuthResult",
    "AvailabilityResult",
    "CompositeRefused",
    "LimitApplied",
    "MeterSampleDue",
    "PendingStartExpired",
    "ReservationEnded",
    "StartPending",
    "StartRefusal",
    "StartRefused",
    "StationEvent",
    "StationTransaction",
    "StatusChanged",
    "StopReason",
    "TransactionEnded",
    "TransactionStarted",
]


class AuthResult(StrEnum):
    """The station's own decision on an id token (1.6/2.x AuthorizationStatus names)."""

    ACCEPTED = "Accepted"
    INVALID = "Invalid"


class StopReason(StrEnum):
    """Why a transaction ended (1.6 Reason / 2.x ReasonEnumType, same spelling)."""

    LOCAL = "Local"
    REMOTE = "Remote"
    EV_DISCONNECTED = "EVDisconnected"
    DE_AUTHORIZED = "DeAuthorized"
    EMERGENCY_STOP = "EmergencyStop"
    POWER_LOSS = "PowerLoss"
    REBOOT = "Reboot"
    OTHER = "Other"


class StartRefusal(StrEnum):
    """Why a start was refused."""

    UNKNOWN_EVSE = "unknown_evse"
    NOT_AUTHORIZED = "not_authorized"
    BUSY = "busy"  # a transaction (or a pending start) is already there
    UNAVAILABLE = "unavailable"  # Unavailable or Faulted
    RESERVED = "reserved"  # reserved for another id token
    INVALID_PROFILE = "invalid_profile"  # the profile sent with a remote start is refused


@dataclass(frozen=True, slots=True)
class StartRefused:
    """A start the station refuses, and why (``detail`` is for people)."""

    reason: StartRefusal
    detail: str


@dataclass(frozen=True, slots=True)
class StartPending:
    """Authorized, waiting for the cable: the transaction starts at plug-in before ``deadline``."""

    evse_id: int
    id_token: str
    deadline: datetime


@dataclass(frozen=True, slots=True)
class StationTransaction:
    """A transaction of the station. ``meter_start_wh`` is the import register at its start."""

    transaction_id: str
    evse_id: int
    id_token: str
    started_at: datetime
    meter_start_wh: float
    remote: bool


@dataclass(frozen=True, slots=True)
class CompositeRefused:
    """GetCompositeSchedule Rejected; ``reason_code`` is the 2.x statusInfo.reasonCode."""

    reason_code: str
    detail: str


class AvailabilityResult(StrEnum):
    """ChangeAvailability outcome (1.6/2.x names)."""

    ACCEPTED = "Accepted"
    SCHEDULED = "Scheduled"  # takes effect when the running transaction ends
    REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The connector of ``evse_id`` moved from ``previous`` to ``state`` at ``at``."""

    evse_id: int
    at: datetime
    previous: ConnectorState
    state: ConnectorState
    plugged: bool
    connector_id: int = 1


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    """A transaction started; ``sample`` is the Transaction.Begin meter sample."""

    transaction: StationTransaction
    at: datetime
    sample: MeterSample


@dataclass(frozen=True, slots=True)
class TransactionEnded:
    """A transaction ended; ``sample`` is the Transaction.End meter sample (meterStop)."""

    transaction: StationTransaction
    at: datetime
    reason: StopReason
    sample: MeterSample

    @property
    def energy_wh(self) -> float:
        """Energy imported during the transaction."""
        return self.sample.energy_import_wh - self.transaction.meter_start_wh


@dataclass(frozen=True, slots=True)
class MeterSampleDue:
    """A periodic (during a transaction) or clock-aligned meter sample is due."""

    sample: MeterSample


@dataclass(frozen=True, slots=True)
class LimitApplied:
    """The limit on the pilot of ``evse_id`` changed at ``at`` (after the apply delay)."""

    evse_id: int
    at: datetime
    limit_a: float
    phases: int
    discharge_w: float
    offered_a: float


@dataclass(frozen=True, slots=True)
class PendingStartExpired:
    """An authorized start waited longer than the connection timeout for the cable."""

    evse_id: int
    id_token: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReservationEnded:
    """A reservation ended without being used (cancelled or expired)."""

    evse_id: int
    reservation_id: int
    at: datetime
    expired: bool


StationEvent = (
    StatusChanged
    | TransactionStarted
    | TransactionEnded
    | MeterSampleDue
    | LimitApplied
    | PendingStartExpired
    | ReservationEnded
)
"""Everything :meth:`~simulators.station.core.StationCore.tick` can report."""
