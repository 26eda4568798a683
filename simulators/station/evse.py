"""One EVSE of the station core (one connector): status, reservation, pilot, limit queue, meter.

Owned and driven by :class:`~simulators.station.core.StationCore`; every change of status
goes through :func:`~simulators.station.states.next_state` and is reported as an event on
the core's event list.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from simulators.iec61851 import BelowMinimumPolicy
from simulators.station.config import StationConfig
from simulators.station.events import (
    AvailabilityResult,
    LimitApplied,
    ReservationEnded,
    StationEvent,
    StationTransaction,
    StatusChanged,
)
from simulators.station.faults import StationFault
from simulators.station.limits import AppliedLimit, offered_current_a, pilot_for
from simulators.station.metering import Meter, MeterSample, SampleReason
from simulators.station.smartcharging import ChargingProfile
from simulators.station.states import ConnectorEvent, ConnectorState, energy_state, next_state
from simulators.vehicle import PilotLine, PilotOffer

__all__ = ["Evse", "PendingStart", "Reservation"]

E, S = ConnectorEvent, ConnectorState


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reservation of an EVSE for ``id_token`` until ``expires_at``."""

    reservation_id: int
    id_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingStart:
    """An authorized start waiting for the cable until ``deadline``."""

    id_token: str
    remote: bool
    deadline: datetime
    transaction_id: str | None
    profile: ChargingProfile | None


@dataclass(slots=True)
class Evse:
    """Mutable state of one EVSE; ``events`` is the core's outbox."""

    evse_id: int
    config: StationConfig
    events: list[StationEvent]
    state: ConnectorState = S.AVAILABLE
    plugged: bool = False
    transaction: StationTransaction | None = None
    pending: PendingStart | None = None
    reservation: Reservation | None = None
    unavailable_scheduled: bool = False
    meter: Meter = field(default_factory=Meter)
    queue: deque[tuple[datetime, AppliedLimit]] = field(default_factory=deque)
    target: AppliedLimit | None = None
    applied: AppliedLimit | None = None
    locked_phases: int | None = None
    next_sample_at: datetime | None = None
    interrupted_until: datetime | None = None
    interruption: PilotLine = PilotLine.F
    toggle_until: datetime | None = None  # a wake-up pilot toggle: PWM off until then
    hlc: bool = False  # the vehicle talks ISO 15118: limits go through the agreed schedule
    awaiting_schedule: bool = False  # ISO 15118: no energy until a schedule is agreed
    awaiting_until: datetime | None = None  # ...or until then (None: no time-out)
    schedule_held: bool = False  # ``target`` is that hold, not an agreed schedule
    # The last pilot_for() result and what it was computed from (``applied`` is immutable:
    # the same object is the same limit), since the station asks for the pilot many times
    # per step and the limit changes rarely.
    _offer_of: tuple[AppliedLimit | None, PilotLine, BelowMinimumPolicy, PilotOffer] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    # ------------------------------------------------------------------ status
    def move(self, event: ConnectorEvent, now: datetime) -> None:
        """Apply ``event`` through the transition table; report a change of status."""
        previous = self.state
        self.state = next_state(self.evse_id, previous, event)
        if self.state is not previous:
            self.events.append(StatusChanged(self.evse_id, now, previous, self.state, self.plugged))

    def energy_event(self) -> ConnectorEvent:
        """Charging / SuspendedEV / SuspendedEVSE from the pilot and the latest reading."""
        offer = self.pilot_offer()
        reading = self.meter.last
        drawing = reading is not None and reading.power_w != 0
        allowed = offer.oscillating and offer.physical_phases > 0
        if self.hlc and offer.allowed_current_a is None:
            allowed = False  # ISO 15118: a schedule of 0 A is the station's pause
        if allowed and not drawing and self.config.has(StationFault.REPORTS_SUSPENDED_EVSE_FOR_EV):
            allowed = False  # the defect: the vehicle's pause is reported as the station's
        return energy_state(allowed=allowed, drawing=drawing)

    # ------------------------------------------------------------------ availability
    def set_available(self, *, available: bool, now: datetime) -> AvailabilityResult:
        """ChangeAvailability: Scheduled while a transaction (or a pending start) runs."""
        if self.state is S.FAULTED:
            return AvailabilityResult.REJECTED
        if not available:
            if self.state is S.UNAVAILABLE:
                return AvailabilityResult.ACCEPTED
            if self.transaction is not None or self.pending is not None:
                self.unavailable_scheduled = True
                return AvailabilityResult.SCHEDULED
            if self.reservation is not None:
                self.end_reservation(now, expired=False)
            self.move(E.MAKE_UNAVAILABLE, now)
            return AvailabilityResult.ACCEPTED
        self.unavailable_scheduled = False
        if self.state is S.UNAVAILABLE:
            self.move(E.MAKE_AVAILABLE, now)
            if self.plugged:
                self.move(E.PLUG_IN, now)
        return AvailabilityResult.ACCEPTED

    def apply_scheduled_unavailability(self, now: datetime) -> None:
        """A Scheduled ChangeAvailability takes effect once the transaction is over."""
        if self.unavailable_scheduled and self.transaction is None and self.pending is None:
            self.unavailable_scheduled = False
            self.move(E.MAKE_UNAVAILABLE, now)

    def fault_cleared(self, now: datetime) -> None:
        if self.state is S.FAULTED:
            self.move(E.FAULT_CLEARED, now)
            if self.plugged:
                self.move(E.PLUG_IN, now)

    # ------------------------------------------------------------------ reservations
    def reserve(self, reservation: Reservation, now: datetime) -> bool:
        """ReserveNow: True when the EVSE is Available and the reservation not yet expired."""
        if self.state is not S.AVAILABLE or reservation.expires_at <= now:
            return False
        self.reservation = reservation
        self.move(E.RESERVE, now)
        return True

    def end_reservation(self, now: datetime, *, expired: bool) -> None:
        """The reservation is cancelled or expired (not used)."""
        reservation = self.reservation
        if reservation is None:
            return
        self.reservation = None
        if self.state is S.RESERVED:
            self.move(E.RESERVATION_ENDED, now)
        self.events.append(ReservationEnded(self.evse_id, reservation.reservation_id, now, expired))

    # ------------------------------------------------------------------ limit and pilot
    def clear_limits(self) -> None:
        """No transaction: nothing queued, nothing applied, contactor open."""
        self.queue.clear()
        self.target = self.applied = None
        self.locked_phases = None
        self.schedule_held = False

    def apply(self, limit: AppliedLimit, now: datetime) -> None:
        """Put ``limit`` on the pilot now; report it when it changes anything."""
        if limit == self.applied:
            return
        self.applied = limit
        offered = offered_current_a(limit, policy=self.config.below_minimum)
        self.events.append(
            LimitApplied(self.evse_id, now, limit.limit_a, limit.phases, limit.discharge_w, offered)
        )

    def want(self, target: AppliedLimit, *, effective_at: datetime, now: datetime) -> None:
        """A (possibly new) target limit: queued to reach the pilot at ``effective_at``."""
        if target != self.target:
            self.target = target
            self.queue.append((effective_at, target))
        while self.queue and self.queue[0][0] <= now:
            self.apply(self.queue.popleft()[1], now)

    def pilot_offer(self) -> PilotOffer:
        """The pilot driven now (F while Unavailable or Faulted, or the line of a running
        interruption)."""
        line = PilotLine.F if self.state in (S.UNAVAILABLE, S.FAULTED) else PilotLine.NORMAL
        if self.interrupted_until is not None:
            line = self.interruption
        if self.toggle_until is not None and line is PilotLine.NORMAL:
            phases = 0 if self.applied is None else self.applied.phases
            return PilotOffer(duty_percent=100.0, energized_phases=phases)  # PWM stopped
        applied, policy, cached = self.applied, self.config.below_minimum, self._offer_of
        if (
            cached is not None
            and cached[0] is applied
            and cached[1] is line
            and cached[2] is policy
        ):
            return cached[3]
        offer = pilot_for(applied, policy=policy, line=line)
        self._offer_of = (applied, line, policy, offer)
        return offer

    # ------------------------------------------------------------------ meter
    def sample(self, reason: SampleReason, now: datetime) -> MeterSample:
        """A meter sample now."""
        tx = self.transaction
        return self.meter.sample(
            evse_id=self.evse_id,
            timestamp=now,
            reason=reason,
            transaction_id=None if tx is None else tx.transaction_id,
            offered_a=offered_current_a(self.applied, policy=self.config.below_minimum),
            phases_in_use=self.pilot_offer().physical_phases,
            voltage_v=self.config.voltage_v,
            report_soc=self.config.reports_soc,
        )
