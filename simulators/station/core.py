"""The protocol-neutral charging-station core: EVSEs, transactions, profiles, pilot, meter.

Sans-I/O: no sockets, no clock. Every call that changes something takes ``now`` (an aware
UTC datetime, as the oracle does) and time never goes backwards. Events accumulate and are
handed out by :meth:`StationCore.tick`. A simulation step looks like::

    events = core.tick(now)
    vehicle.set_pilot(core.pilot_offer(1))
    core.on_vehicle_reading(1, vehicle.advance(dt_s))

The limit on the pilot follows the oracle's :meth:`~harness.smartcharging.ProfileStore.limit_at`
for the EVSE (see :mod:`simulators.station.limits`), reaching the pilot ``apply_delay_s``
after the core first sees it change (at a call or a tick). The connector status follows
:data:`~simulators.station.states.TRANSITIONS`; Charging/SuspendedEV/SuspendedEVSE are
derived from the pilot and the latest vehicle reading at every call.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from harness.smartcharging import (
    Accepted,
    ChargingProfile,
    ClearCriteria,
    CompositeSchedule,
    InstalledProfile,
    ProfileStore,
    Purpose,
    RateUnit,
    Rejected,
    StationContext,
    Transaction,
    UnknownEvse,
)
from harness.smartcharging.composite import to_epoch_s
from simulators.station.config import AuthorizationMode, StationConfig
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
from simulators.station.faults import StationFault
from simulators.station.limits import (
    AppliedLimit,
    offered_current_a,
    pilot_for,
    share,
    target_limit,
)
from simulators.station.metering import Meter, MeterSample, SampleReason
from simulators.station.schedule import station_composite
from simulators.station.states import (
    ENERGY_STATES,
    ConnectorEvent,
    ConnectorState,
    energy_state,
    next_state,
)
from simulators.vehicle import PilotLine, PilotOffer, VehicleReading

__all__ = ["Reservation", "StationCore"]

E, S = ConnectorEvent, ConnectorState


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reservation of an EVSE for ``id_token`` until ``expires_at``."""

    reservation_id: int
    id_token: str
    expires_at: datetime


@dataclass(slots=True)
class _Pending:
    id_token: str
    remote: bool
    deadline: datetime
    transaction_id: str | None
    profile: ChargingProfile | None


@dataclass(slots=True)
class _Evse:
    evse_id: int
    state: ConnectorState = S.AVAILABLE
    plugged: bool = False
    transaction: StationTransaction | None = None
    pending: _Pending | None = None
    reservation: Reservation | None = None
    unavailable_scheduled: bool = False
    meter: Meter = field(default_factory=Meter)
    queue: deque[tuple[datetime, AppliedLimit]] = field(default_factory=deque)
    target: AppliedLimit | None = None
    applied: AppliedLimit | None = None
    locked_phases: int | None = None
    next_sample_at: datetime | None = None


class StationCore:
    """One simulated charging station (see the module docstring). ``now``: its start time."""

    def __init__(self, config: StationConfig, *, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware UTC datetime")
        self.config = config
        self._now = now
        self._evses = {e: _Evse(e) for e in config.evse_ids}
        self._store = ProfileStore(config.ocpp_version)
        # accepts_but_ignores: profiles are answered and reported from _store, but the pilot
        # follows a store that never receives them.
        ignores = config.has(StationFault.ACCEPTS_BUT_IGNORES)
        self._applied_store = ProfileStore(config.ocpp_version) if ignores else self._store
        self._events: list[StationEvent] = []
        self._context: StationContext | None = None  # rebuilt when transactions change
        self._tx_counter = itertools.count(1)
        self._next_clock_sample = self._next_aligned(now)

    # ------------------------------------------------------------------ reading state
    @property
    def now(self) -> datetime:
        """The latest instant the core was given."""
        return self._now

    @property
    def evse_ids(self) -> tuple[int, ...]:
        return self.config.evse_ids

    def state(self, evse_id: int) -> ConnectorState:
        """The connector status of ``evse_id``."""
        return self._evse(evse_id).state

    def plugged(self, evse_id: int) -> bool:
        """True while a cable is plugged into ``evse_id``."""
        return self._evse(evse_id).plugged

    def transaction(self, evse_id: int) -> StationTransaction | None:
        """The transaction running on ``evse_id``, if any."""
        return self._evse(evse_id).transaction

    def reservation(self, evse_id: int) -> Reservation | None:
        return self._evse(evse_id).reservation

    @property
    def installed_profiles(self) -> tuple[InstalledProfile, ...]:
        """The charging profiles the station reports as installed (GetChargingProfiles)."""
        return self._store.installed

    def applied_limit(self, evse_id: int) -> AppliedLimit | None:
        """The limit on the pilot now (``None``: no transaction, contactor open)."""
        return self._evse(evse_id).applied

    def context(self) -> StationContext:
        """The oracle's view of the station now (EVSEs, running transactions, maxima)."""
        if self._context is None:
            ctx = self.config.context()
            for evse in self._evses.values():
                tx = evse.transaction
                if tx is not None:
                    running = Transaction(tx.transaction_id, tx.started_at)
                    ctx = ctx.with_transaction(evse.evse_id, running)
            self._context = ctx
        return self._context

    # ------------------------------------------------------------------ time
    def tick(self, now: datetime) -> list[StationEvent]:
        """Let time reach ``now``; return (and forget) every event since the last tick."""
        self._advance(now)
        events, self._events = self._events, []
        return events

    def next_deadline(self) -> datetime | None:
        """The next instant at which the core changes by itself (a limit reaching the pilot,
        a sample, a timeout); ``None`` when nothing is pending. Profile period boundaries are
        not included: tick at least as often as the resolution you need."""
        times: list[datetime] = []
        for evse in self._evses.values():
            if evse.queue:
                times.append(evse.queue[0][0])
            if evse.next_sample_at is not None:
                times.append(evse.next_sample_at)
            if evse.pending is not None:
                times.append(evse.pending.deadline)
            if evse.reservation is not None:
                times.append(evse.reservation.expires_at)
        if self._next_clock_sample is not None:
            times.append(self._next_clock_sample)
        return min(times, default=None)

    def _advance(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware UTC datetime")
        if now < self._now:
            raise ValueError(f"time cannot go backwards: core at {self._now}, given {now}")
        self._now = now
        for evse in self._evses.values():
            if evse.pending is not None and now >= evse.pending.deadline:
                token = evse.pending.id_token
                evse.pending = None
                self._move(evse, E.AUTHORIZATION_ENDED)
                self._events.append(PendingStartExpired(evse.evse_id, token, now))
            if evse.reservation is not None and now >= evse.reservation.expires_at:
                self._end_reservation(evse, expired=True)
        self._refresh()
        self._samples_due()

    # ------------------------------------------------------------------ cable and tokens
    def plug_in(self, evse_id: int, now: datetime) -> None:
        """A vehicle's cable is plugged into ``evse_id``; a pending start begins now.

        Give the core the vehicle's reading right after (:meth:`on_vehicle_reading`), before
        any energy flows: the first reading after a plug-in is the meter's baseline.
        """
        self._advance(now)
        evse = self._evse(evse_id)
        if evse.plugged:
            raise ValueError(f"EVSE {evse_id}: a cable is already plugged in")
        evse.plugged = True
        evse.meter.plugged()
        self._move(evse, E.PLUG_IN)
        pending = evse.pending
        if pending is not None:
            evse.pending = None
            self._begin(
                evse, pending.id_token, pending.remote, pending.transaction_id, pending.profile
            )
        self._refresh()

    def unplug(self, evse_id: int, now: datetime) -> None:
        """The cable leaves ``evse_id``; a running transaction ends (EVDisconnected)."""
        self._advance(now)
        evse = self._evse(evse_id)
        if not evse.plugged:
            raise ValueError(f"EVSE {evse_id}: no cable is plugged in")
        if evse.transaction is not None:
            self._end(evse, StopReason.EV_DISCONNECTED, event=E.UNPLUG)
        else:
            self._move(evse, E.UNPLUG)
        evse.plugged = False
        evse.meter.unplugged()
        self._apply_scheduled_unavailability(evse)

    def authorize(self, id_token: str) -> AuthResult:
        """The station's own decision on ``id_token`` (its authorization mode)."""
        if self.config.authorization is AuthorizationMode.ACCEPT_ALL:
            return AuthResult.ACCEPTED
        return AuthResult.ACCEPTED if id_token in self.config.local_list else AuthResult.INVALID

    # ------------------------------------------------------------------ transactions
    def start_transaction(
        self,
        evse_id: int,
        *,
        id_token: str,
        now: datetime,
        remote: bool = False,
        transaction_id: str | None = None,
        charging_profile: ChargingProfile | None = None,
    ) -> StationTransaction | StartPending | StartRefused:
        """Start a transaction on ``evse_id`` for ``id_token``.

        A local start needs :meth:`authorize` to accept the token; a remote start was
        authorized by the CSMS. Without a cable the start waits for it
        (:class:`StartPending`, until ``connection_timeout_s``). ``charging_profile`` (a
        remote start's TxProfile) is installed for the new transaction. ``transaction_id``
        defaults to a station-generated one (see :meth:`assign_transaction_id` for 1.6).
        """
        self._advance(now)
        if evse_id not in self._evses:
            return StartRefused(StartRefusal.UNKNOWN_EVSE, f"EVSE {evse_id} does not exist")
        evse = self._evses[evse_id]
        refusal = self._start_refusal(evse, id_token, remote, charging_profile)
        if refusal is not None:
            return refusal
        if not evse.plugged:
            deadline = now + timedelta(seconds=self.config.connection_timeout_s)
            evse.pending = _Pending(id_token, remote, deadline, transaction_id, charging_profile)
            evse.reservation = None
            self._move(evse, E.AUTHORIZE)
            return StartPending(evse_id, id_token, deadline)
        tx = self._begin(evse, id_token, remote, transaction_id, charging_profile)
        self._refresh()
        return tx

    def _start_refusal(
        self, evse: _Evse, id_token: str, remote: bool, profile: ChargingProfile | None
    ) -> StartRefused | None:
        if evse.state in (S.UNAVAILABLE, S.FAULTED):
            return StartRefused(StartRefusal.UNAVAILABLE, f"EVSE {evse.evse_id} is {evse.state}")
        if evse.transaction is not None or evse.pending is not None:
            return StartRefused(StartRefusal.BUSY, f"EVSE {evse.evse_id} already has a transaction")
        if not remote and self.authorize(id_token) is not AuthResult.ACCEPTED:
            return StartRefused(
                StartRefusal.NOT_AUTHORIZED, f"id token {id_token!r} is not accepted"
            )
        if evse.reservation is not None and evse.reservation.id_token != id_token:
            return StartRefused(StartRefusal.RESERVED, f"EVSE {evse.evse_id} is reserved")
        # 1.6 §5.11 / 2.x F01.FR.08 (TC_060): a profile in a remote start must be a TxProfile.
        if profile is not None and profile.purpose is not Purpose.TX:
            return StartRefused(
                StartRefusal.INVALID_PROFILE, f"{profile.purpose} given with a remote start"
            )
        return None

    def _begin(
        self,
        evse: _Evse,
        id_token: str,
        remote: bool,
        transaction_id: str | None,
        profile: ChargingProfile | None,
    ) -> StationTransaction:
        tx = StationTransaction(
            transaction_id=transaction_id or str(next(self._tx_counter)),
            evse_id=evse.evse_id,
            id_token=id_token,
            started_at=self._now,
            meter_start_wh=evse.meter.energy_import_wh,
            remote=remote,
        )
        evse.transaction = tx
        self._context = None
        evse.reservation = None
        evse.locked_phases = None
        evse.queue.clear()
        evse.target = evse.applied = None
        interval = self.config.meter_interval_s
        evse.next_sample_at = self._now + timedelta(seconds=interval) if interval else None
        if profile is not None:
            bound = replace(profile, transaction_id=tx.transaction_id)
            self._install(evse.evse_id, bound)
        started = len(self._events)
        self._update_limits(immediate=evse.evse_id)
        begin = self._sample(evse, SampleReason.TRANSACTION_BEGIN)
        self._events.insert(started, TransactionStarted(tx, self._now, begin))
        previous = evse.state
        evse.state = next_state(evse.evse_id, evse.state, E.START_TRANSACTION)
        evse.state = next_state(evse.evse_id, evse.state, self._energy_event(evse))
        self._events.append(
            StatusChanged(evse.evse_id, self._now, previous, evse.state, evse.plugged)
        )
        return tx

    def assign_transaction_id(self, evse_id: int, transaction_id: str) -> StationTransaction:
        """Rename the running transaction (OCPP 1.6: the CSMS assigns the id in its answer to
        StartTransaction); TxProfiles then have to name the new id."""
        evse = self._evse(evse_id)
        if evse.transaction is None:
            raise ValueError(f"EVSE {evse_id}: no transaction to rename")
        evse.transaction = replace(evse.transaction, transaction_id=transaction_id)
        self._context = None
        self._refresh()
        return evse.transaction

    def stop_transaction(
        self, evse_id: int, *, now: datetime, reason: StopReason = StopReason.LOCAL
    ) -> TransactionEnded | None:
        """Stop the transaction (or cancel the pending start) on ``evse_id``.

        Returns the :class:`TransactionEnded` event (also reported by :meth:`tick`), or
        ``None`` when nothing ran.
        """
        self._advance(now)
        evse = self._evse(evse_id)
        if evse.pending is not None:
            evse.pending = None
            self._move(evse, E.AUTHORIZATION_ENDED)
            return None
        if evse.transaction is None:
            return None
        ended = self._end(evse, reason, event=E.STOP_TRANSACTION)
        self._apply_scheduled_unavailability(evse)
        return ended

    def _end(self, evse: _Evse, reason: StopReason, *, event: ConnectorEvent) -> TransactionEnded:
        tx = evse.transaction
        assert tx is not None
        sample = self._sample(evse, SampleReason.TRANSACTION_END)
        evse.transaction = None
        self._context = None
        evse.queue.clear()
        evse.target = evse.applied = None
        evse.locked_phases = None
        evse.next_sample_at = None
        # 1.6 §3.13.1 / K01.FR.05-ish: a TxProfile ends with its transaction.
        self._store.end_transaction(tx.transaction_id)
        if self._applied_store is not self._store:
            self._applied_store.end_transaction(tx.transaction_id)
        ended = TransactionEnded(tx, self._now, reason, sample)
        self._events.append(ended)
        self._move(evse, event)
        self._refresh()
        return ended

    # ------------------------------------------------------------------ availability
    def set_available(self, evse_id: int, *, available: bool, now: datetime) -> AvailabilityResult:
        """ChangeAvailability of one EVSE: Scheduled while a transaction runs."""
        self._advance(now)
        evse = self._evse(evse_id)
        if evse.state is S.FAULTED:
            return AvailabilityResult.REJECTED
        if not available:
            if evse.state is S.UNAVAILABLE:
                return AvailabilityResult.ACCEPTED
            if evse.transaction is not None or evse.pending is not None:
                evse.unavailable_scheduled = True
                return AvailabilityResult.SCHEDULED
            if evse.reservation is not None:
                self._end_reservation(evse, expired=False)
            self._move(evse, E.MAKE_UNAVAILABLE)
            return AvailabilityResult.ACCEPTED
        evse.unavailable_scheduled = False
        if evse.state is S.UNAVAILABLE:
            self._move(evse, E.MAKE_AVAILABLE)
            if evse.plugged:
                self._move(evse, E.PLUG_IN)
        return AvailabilityResult.ACCEPTED

    def set_faulted(self, evse_id: int, *, faulted: bool, now: datetime) -> None:
        """A hardware fault appears (a running transaction ends, reason Other) or clears."""
        self._advance(now)
        evse = self._evse(evse_id)
        if faulted:
            if evse.state is S.FAULTED:
                return
            evse.pending = None
            if evse.transaction is not None:
                self._end(evse, StopReason.OTHER, event=E.FAULT)
            else:
                self._move(evse, E.FAULT)
        elif evse.state is S.FAULTED:
            self._move(evse, E.FAULT_CLEARED)
            if evse.plugged:
                self._move(evse, E.PLUG_IN)

    def _apply_scheduled_unavailability(self, evse: _Evse) -> None:
        if evse.unavailable_scheduled and evse.transaction is None:
            evse.unavailable_scheduled = False
            self._move(evse, E.MAKE_UNAVAILABLE)

    # ------------------------------------------------------------------ reservations
    def reserve(
        self,
        evse_id: int,
        *,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        now: datetime,
    ) -> bool:
        """ReserveNow: True (Accepted) when ``evse_id`` is Available."""
        self._advance(now)
        evse = self._evse(evse_id)
        if evse.state is not S.AVAILABLE or expires_at <= now:
            return False
        evse.reservation = Reservation(reservation_id, id_token, expires_at)
        self._move(evse, E.RESERVE)
        return True

    def cancel_reservation(self, reservation_id: int, *, now: datetime) -> bool:
        """CancelReservation: True (Accepted) when the reservation exists."""
        self._advance(now)
        for evse in self._evses.values():
            if evse.reservation is not None and evse.reservation.reservation_id == reservation_id:
                self._end_reservation(evse, expired=False)
                return True
        return False

    def _end_reservation(self, evse: _Evse, *, expired: bool) -> None:
        reservation = evse.reservation
        assert reservation is not None
        evse.reservation = None
        if evse.state is S.RESERVED:
            self._move(evse, E.RESERVATION_ENDED)
        self._events.append(
            ReservationEnded(evse.evse_id, reservation.reservation_id, self._now, expired)
        )

    # ------------------------------------------------------------------ smart charging
    def set_charging_profile(
        self, evse_id: int, profile: ChargingProfile, *, now: datetime
    ) -> Accepted | Rejected:
        """SetChargingProfile: validate like a conforming station (the oracle's rules)."""
        self._advance(now)
        result = self._install(evse_id, profile)
        self._refresh()
        return result

    def _install(self, evse_id: int, profile: ChargingProfile) -> Accepted | Rejected:
        context = self.context()
        tx = context.transaction_on(evse_id)
        if (
            self.config.has(StationFault.ACCEPTS_UNKNOWN_TRANSACTION)
            and profile.purpose is Purpose.TX
            and tx is not None
        ):
            # The defect: the transactionId is not checked, the profile binds to what runs.
            profile = replace(profile, transaction_id=tx.transaction_id)
        return self._store.install(evse_id, profile, context)

    def clear_charging_profiles(self, criteria: ClearCriteria, *, now: datetime) -> tuple[int, ...]:
        """ClearChargingProfile: the ids removed (empty: answer Unknown)."""
        self._advance(now)
        cleared = self._store.clear(criteria)
        if self._applied_store is not self._store:
            self._applied_store.clear(criteria)
        self._refresh()
        return cleared

    def composite_schedule(
        self, evse_id: int, *, start: datetime, duration_s: int, unit: RateUnit | None = None
    ) -> CompositeSchedule | CompositeRefused:
        """GetCompositeSchedule from ``start`` for ``duration_s`` (``unit=None``: the station's
        default). Render it with :func:`harness.smartcharging.composite_response`."""
        chosen = self.config.default_unit if unit is None else unit
        # K01.FR.26 / TC_K_42: a unit the station does not support is Rejected.
        if chosen not in self.config.supported_units:
            return CompositeRefused(
                "UnsupportedRateUnit", f"chargingRateUnit {chosen} is not supported"
            )
        try:
            return station_composite(
                self._store.installed,
                config=self.config,
                evse_id=evse_id,
                start=start,
                duration_s=duration_s,
                unit=chosen,
                context=self.context(),
            )
        except UnknownEvse as exc:  # TC_K_47: unknown EVSE → Rejected
            return CompositeRefused("UnknownEvse", str(exc))

    # ------------------------------------------------------------------ limits and pilot
    def _refresh(self) -> None:
        self._update_limits()
        for evse in self._evses.values():
            if evse.state in ENERGY_STATES:
                self._move(evse, self._energy_event(evse))

    def _update_limits(self, *, immediate: int | None = None) -> None:
        config, now = self.config, self._now
        active = [e for e in self._evses.values() if e.transaction is not None]
        if not active:
            return
        context = self.context()
        wanted: dict[int, AppliedLimit] = {}
        for evse in active:
            instant = self._applied_store.limit_at(evse_id=evse.evse_id, at=now, context=context)
            wanted[evse.evse_id] = target_limit(
                instant,
                evse_max_a=config.max_current_per_evse_a,
                voltage_v=config.voltage_v,
                station_phases=config.phases,
                phase_switching=config.phase_switching,
                locked_phases=evse.locked_phases,
            )
        total = self._station_cap_a(context)
        if total is not None:
            shared = share({e: w.limit_a for e, w in wanted.items()}, total)
            wanted = {e: replace(w, limit_a=shared[e]) for e, w in wanted.items()}
        late = config.has(StationFault.LATE_APPLY)
        delay = timedelta(seconds=config.late_apply_delay_s if late else config.apply_delay_s)
        for evse in active:
            target = wanted[evse.evse_id]
            if evse.evse_id == immediate:
                evse.queue.clear()
                evse.target = target
                self._apply(evse, target)
                if config.has(StationFault.IGNORES_PHASE_SWITCH):
                    evse.locked_phases = target.phases
                continue
            if target != evse.target:
                evse.target = target
                evse.queue.append((now + delay, target))
            while evse.queue and evse.queue[0][0] <= now:
                self._apply(evse, evse.queue.popleft()[1])

    def _station_cap_a(self, context: StationContext) -> float | None:
        caps = (
            [] if self.config.station_max_current_a is None else [self.config.station_max_current_a]
        )
        if self.config.evse_count > 1:
            station = self._applied_store.limit_at(evse_id=0, at=self._now, context=context)
            if station.current_a is not None:
                caps.append(float(station.current_a))
        return min(caps, default=None)

    def _apply(self, evse: _Evse, limit: AppliedLimit) -> None:
        if limit == evse.applied:
            return
        evse.applied = limit
        offered = offered_current_a(limit, policy=self.config.below_minimum)
        self._events.append(
            LimitApplied(
                evse.evse_id, self._now, limit.limit_a, limit.phases, limit.discharge_w, offered
            )
        )

    def pilot_offer(self, evse_id: int) -> PilotOffer:
        """The pilot ``evse_id`` drives now (F while Unavailable or Faulted)."""
        evse = self._evse(evse_id)
        line = PilotLine.F if evse.state in (S.UNAVAILABLE, S.FAULTED) else PilotLine.NORMAL
        return pilot_for(evse.applied, policy=self.config.below_minimum, line=line)

    def discharge_request(self, evse_id: int) -> float | None:
        """Power (W ≥ 0) the vehicle should export now — pass it to
        ``Vehicle.set_discharge(power_w=...)``; 0 ends discharging; ``None``: no transaction."""
        applied = self._evse(evse_id).applied
        return None if applied is None else applied.discharge_w

    def _energy_event(self, evse: _Evse) -> ConnectorEvent:
        offer = self.pilot_offer(evse.evse_id)
        reading = evse.meter.last
        drawing = reading is not None and reading.power_w != 0
        return energy_state(
            allowed=offer.oscillating and offer.physical_phases > 0, drawing=drawing
        )

    # ------------------------------------------------------------------ metering
    def on_vehicle_reading(self, evse_id: int, reading: VehicleReading) -> None:
        """Meter the vehicle plugged into ``evse_id`` (energy follows its counters).

        The status this reading implies (Charging / SuspendedEV) is reported at the next
        :meth:`tick`, stamped with that tick's time.
        """
        self._evse(evse_id).meter.record(reading)

    def meter(self, evse_id: int, *, reason: SampleReason = SampleReason.TRIGGER) -> MeterSample:
        """What the meter of ``evse_id`` shows now."""
        return self._sample(self._evse(evse_id), reason)

    def _sample(self, evse: _Evse, reason: SampleReason) -> MeterSample:
        tx = evse.transaction
        return evse.meter.sample(
            evse_id=evse.evse_id,
            timestamp=self._now,
            reason=reason,
            transaction_id=None if tx is None else tx.transaction_id,
            offered_a=offered_current_a(evse.applied, policy=self.config.below_minimum),
            phases_in_use=self.pilot_offer(evse.evse_id).physical_phases,
            voltage_v=self.config.voltage_v,
            report_soc=self.config.reports_soc,
        )

    def _samples_due(self) -> None:
        now = self._now
        interval = self.config.meter_interval_s
        for evse in self._evses.values():
            due = evse.next_sample_at
            if due is not None and now >= due and evse.transaction is not None:
                self._events.append(MeterSampleDue(self._sample(evse, SampleReason.PERIODIC)))
                skipped = (now - due) // timedelta(seconds=interval) + 1
                evse.next_sample_at = due + skipped * timedelta(seconds=interval)
        due = self._next_clock_sample
        if due is not None and now >= due:
            for evse in self._evses.values():
                self._events.append(MeterSampleDue(self._sample(evse, SampleReason.CLOCK)))
            self._next_clock_sample = self._next_aligned(now)

    def _next_aligned(self, now: datetime) -> datetime | None:
        """The first clock-aligned instant after ``now`` (multiples of the interval since
        midnight UTC, as 1.6 ClockAlignedDataInterval / 2.x AlignedDataCtrlr.Interval)."""
        interval = self.config.clock_aligned_interval_s
        if interval is None:
            return None
        epoch = to_epoch_s(now)
        return (
            now
            + timedelta(seconds=interval - epoch % interval)
            - timedelta(microseconds=now.microsecond)
        )

    # ------------------------------------------------------------------ helpers
    def _evse(self, evse_id: int) -> _Evse:
        try:
            return self._evses[evse_id]
        except KeyError:
            raise ValueError(
                f"EVSE {evse_id} does not exist (EVSEs: {list(self._evses)})"
            ) from None

    def _move(self, evse: _Evse, event: ConnectorEvent) -> None:
        previous = evse.state
        evse.state = next_state(evse.evse_id, previous, event)
        if evse.state is not previous:
            self._events.append(
                StatusChanged(evse.evse_id, self._now, previous, evse.state, evse.plugged)
            )
