"""The protocol-neutral charging-station core: EVSEs, transactions, profiles, pilot, meter.

Sans-I/O: no sockets, no clock. Every call that changes something takes ``now`` (an aware
UTC datetime) and time never goes backwards. Events accumulate and are
handed out by :meth:`StationCore.tick`. A simulation step looks like::

    events = core.tick(now)
    vehicle.set_pilot(core.pilot_offer(1))
    core.on_vehicle_reading(1, vehicle.advance(dt_s))

The limit on the pilot follows the station's own smart-charging engine
(:meth:`simulators.station.smartcharging.Profiles.allowance`) for the EVSE (see
:mod:`simulators.station.limits`), reaching the pilot ``apply_delay_s``
after the core first sees it change (at a call or a tick). The connector status follows
:data:`~simulators.station.states.TRANSITIONS`; Charging/SuspendedEV/SuspendedEVSE are
derived from the pilot and the latest vehicle reading at every call.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from simulators.station.config import AuthorizationMode, StationConfig
from simulators.station.events import (
    AuthResult,
    AvailabilityResult,
    CompositeRefused,
    MeterSampleDue,
    PendingStartExpired,
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
from simulators.station.evse import Evse, PendingStart, Reservation
from simulators.station.faults import StationFault
from simulators.station.field_faults import distort
from simulators.station.limits import AppliedLimit, station_targets
from simulators.station.metering import MeterSample, SampleReason, next_aligned, next_due
from simulators.station.schedule import profile_boundaries, station_composite
from simulators.station.smartcharging import (
    MODE_CHECKS,
    Accepted,
    ChargingProfile,
    ClearCriteria,
    Composite,
    Facts,
    NoSuchEvse,
    Placed,
    Profiles,
    Purpose,
    RateUnit,
    Rejected,
    Station,
    broken,
    epoch_s,
    instant,
)
from simulators.station.states import ENERGY_STATES, ConnectorEvent, ConnectorState, next_state
from simulators.station.wakeup import WakeUpEpisode, WakeUpMethod, WakeUpTracker
from simulators.vehicle import PilotLine, PilotOffer, VehicleReading

__all__ = ["StationCore"]

E, S = ConnectorEvent, ConnectorState


class StationCore:
    """One simulated charging station (see the module docstring). ``now``: its start time."""

    def __init__(self, config: StationConfig, *, now: datetime) -> None:
        _check_aware(now)
        self.config = config
        self._now = now
        self._events: list[StationEvent] = []
        self._evses = {e: Evse(e, config, self._events) for e in config.evse_ids}
        self._wake_ups = {
            e: WakeUpTracker(config.wake_up, config.wake_up_after_s) for e in config.evse_ids
        }
        self._store = Profiles(config.ocpp_version)
        # accepts_but_ignores: profiles are answered and reported from _store, but the pilot
        # follows a store that never receives them (only locally set limits).
        ignores = config.has(StationFault.ACCEPTS_BUT_IGNORES)
        self._applied_store = Profiles(config.ocpp_version) if ignores else self._store
        self._station: Station | None = None  # rebuilt when transactions change
        # Targets from the engine, reused until the next profile boundary (or a change).
        self._targets: dict[int, AppliedLimit] | None = None
        self._targets_until: datetime | None = None
        self._tx_counter = itertools.count(1)
        interval = config.clock_aligned_interval_s
        self._next_clock_sample = None if interval is None else next_aligned(now, interval)

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
        """The reservation holding ``evse_id``, if any."""
        return self._evse(evse_id).reservation

    @property
    def installed_profiles(self) -> tuple[Placed, ...]:
        """The charging profiles the station reports as installed (GetChargingProfiles)."""
        return self._store.placed

    def applied_limit(self, evse_id: int) -> AppliedLimit | None:
        """The limit on the pilot now (``None``: no transaction, contactor open)."""
        return self._evse(evse_id).applied

    def running(self) -> tuple[tuple[int, str], ...]:
        """(EVSE id, transaction id) of every running transaction."""
        return tuple(
            (e.evse_id, e.transaction.transaction_id)
            for e in self._evses.values()
            if e.transaction is not None
        )

    def facts(self) -> Facts:
        """What the profile checks know of the station now."""
        return self.config.facts(self.running())

    def station_view(self) -> Station:
        """The smart-charging engine's view of the station now (EVSEs, transactions)."""
        if self._station is None:
            self._station = Station(
                evse_ids=self.config.evse_ids,
                transactions=tuple(
                    (e.evse_id, e.transaction.transaction_id, e.transaction.started_at)
                    for e in self._evses.values()
                    if e.transaction is not None
                ),
                voltage_v=Decimal(str(self.config.voltage_v)),
                supply_phases=self.config.phases,
            )
        return self._station

    # ------------------------------------------------------------------ time
    def tick(self, now: datetime) -> list[StationEvent]:
        """Let time reach ``now``; return (and forget) every event since the last tick."""
        self._advance(now)
        events = list(self._events)
        self._events.clear()
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
            if evse.interrupted_until is not None:
                times.append(evse.interrupted_until)
            if evse.toggle_until is not None:
                times.append(evse.toggle_until)
            if evse.awaiting_schedule and evse.awaiting_until is not None:
                times.append(evse.awaiting_until)
        for tracker in self._wake_ups.values():
            if (due := tracker.deadline()) is not None:
                times.append(due)
        if self._next_clock_sample is not None:
            times.append(self._next_clock_sample)
        return min(times, default=None)

    def _advance(self, now: datetime) -> None:
        _check_aware(now)
        if now < self._now:
            raise ValueError(f"time cannot go backwards: core at {self._now}, given {now}")
        self._now = now
        for evse in self._evses.values():
            if evse.pending is not None and now >= evse.pending.deadline:
                token = evse.pending.id_token
                evse.pending = None
                evse.move(E.AUTHORIZATION_ENDED, now)
                self._events.append(PendingStartExpired(evse.evse_id, token, now))
                evse.apply_scheduled_unavailability(now)
            if evse.reservation is not None and now >= evse.reservation.expires_at:
                evse.end_reservation(now, expired=True)
            if evse.interrupted_until is not None and now >= evse.interrupted_until:
                evse.interrupted_until = None
            if evse.toggle_until is not None and now >= evse.toggle_until:
                evse.toggle_until = None
            if evse.awaiting_until is not None and now >= evse.awaiting_until:
                evse.awaiting_schedule, evse.awaiting_until = False, None
        self._refresh()
        if self.config.wake_up:
            self._wake_up_vehicles()
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
        evse.hlc = self.config.dc  # DC: no duty cycle, the current is agreed digitally
        evse.meter.plugged()
        evse.move(E.PLUG_IN, now)
        pending = evse.pending
        if pending is not None:
            evse.pending = None
            self._begin(evse, pending)
        self._refresh()

    def unplug(self, evse_id: int, now: datetime) -> None:
        """The cable leaves ``evse_id``; a running transaction ends (EVDisconnected)."""
        self._advance(now)
        evse = self._evse(evse_id)
        if not evse.plugged:
            raise ValueError(f"EVSE {evse_id}: no cable is plugged in")
        evse.plugged = False
        evse.hlc = False
        if evse.transaction is not None:
            self._end(evse, StopReason.EV_DISCONNECTED, event=E.UNPLUG)
        else:
            evse.move(E.UNPLUG, now)
        evse.meter.unplugged()
        evse.apply_scheduled_unavailability(now)

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
        deadline = now + timedelta(seconds=self.config.connection_timeout_s)
        pending = PendingStart(id_token, remote, deadline, transaction_id, charging_profile)
        if not evse.plugged:
            evse.pending = pending
            evse.reservation = None
            evse.move(E.AUTHORIZE, now)
            return StartPending(evse_id, id_token, deadline)
        tx = self._begin(evse, pending)
        self._refresh()
        return tx

    def _start_refusal(
        self, evse: Evse, id_token: str, remote: bool, profile: ChargingProfile | None
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
        # 1.6 §5.11 RemoteStartTransaction (TC_060) / 2.x F01.FR.08: the profile given with
        # a remote start must be a TxProfile.
        if profile is not None and profile.purpose != Purpose.TX:
            return StartRefused(
                StartRefusal.INVALID_PROFILE, f"{profile.purpose} given with a remote start"
            )
        return None

    def _begin(self, evse: Evse, start: PendingStart) -> StationTransaction:
        now = self._now
        tx = StationTransaction(
            transaction_id=start.transaction_id or str(next(self._tx_counter)),
            evse_id=evse.evse_id,
            id_token=start.id_token,
            started_at=now,
            meter_start_wh=evse.meter.energy_import_wh,
            remote=start.remote,
        )
        evse.transaction = tx
        self._changed()
        evse.reservation = None
        evse.clear_limits()
        interval = self.config.meter_interval_s
        evse.next_sample_at = now + timedelta(seconds=interval) if interval else None
        if start.profile is not None:
            self._install(evse.evse_id, replace(start.profile, transaction_id=tx.transaction_id))
        started = len(self._events)
        self._update_limits(immediate=evse.evse_id)
        begin = evse.sample(SampleReason.TRANSACTION_BEGIN, now)
        self._events.insert(started, TransactionStarted(tx, now, begin))
        previous = evse.state
        evse.state = next_state(evse.evse_id, evse.state, E.START_TRANSACTION)
        evse.state = next_state(evse.evse_id, evse.state, evse.energy_event())
        self._events.append(StatusChanged(evse.evse_id, now, previous, evse.state, evse.plugged))
        return tx

    def assign_transaction_id(self, evse_id: int, transaction_id: str) -> StationTransaction:
        """Rename the running transaction (OCPP 1.6: the CSMS assigns the id in its answer to
        StartTransaction); TxProfiles then have to name the new id."""
        evse = self._evse(evse_id)
        if evse.transaction is None:
            raise ValueError(f"EVSE {evse_id}: no transaction to rename")
        evse.transaction = replace(evse.transaction, transaction_id=transaction_id)
        self._changed()
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
        ended = None
        if evse.pending is not None:
            evse.pending = None
            evse.move(E.AUTHORIZATION_ENDED, now)
        elif evse.transaction is not None:
            ended = self._end(evse, reason, event=E.STOP_TRANSACTION)
        evse.apply_scheduled_unavailability(now)
        return ended

    def _end(self, evse: Evse, reason: StopReason, *, event: ConnectorEvent) -> TransactionEnded:
        tx = evse.transaction
        assert tx is not None
        sample = evse.sample(SampleReason.TRANSACTION_END, self._now)
        evse.transaction = None
        self._changed()
        evse.clear_limits()
        evse.awaiting_schedule, evse.awaiting_until = False, None
        evse.next_sample_at = None
        # 1.6 §3.13.1 / 2.x K01: a TxProfile ends with its transaction.
        self._store.end_transaction(tx.transaction_id)
        if self._applied_store is not self._store:
            self._applied_store.end_transaction(tx.transaction_id)
        ended = TransactionEnded(tx, self._now, reason, sample)
        self._events.append(ended)
        evse.move(event, self._now)
        self._refresh()
        return ended

    # ------------------------------------------------------------------ availability
    def set_available(self, evse_id: int, *, available: bool, now: datetime) -> AvailabilityResult:
        """ChangeAvailability of one EVSE: Scheduled while a transaction runs."""
        self._advance(now)
        return self._evse(evse_id).set_available(available=available, now=now)

    def set_faulted(self, evse_id: int, *, faulted: bool, now: datetime) -> None:
        """A hardware fault appears (a running transaction ends, reason Other) or clears."""
        self._advance(now)
        evse = self._evse(evse_id)
        if not faulted:
            evse.fault_cleared(now)
        elif evse.state is not S.FAULTED:
            evse.pending = None
            if evse.transaction is not None:
                self._end(evse, StopReason.OTHER, event=E.FAULT)
            else:
                evse.move(E.FAULT, now)

    def reserve(
        self,
        evse_id: int,
        *,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        now: datetime,
    ) -> bool:
        """ReserveNow: True (Accepted) when ``evse_id`` is Available; otherwise look at
        :meth:`state` for the reason (Occupied, Faulted, Unavailable)."""
        self._advance(now)
        reservation = Reservation(reservation_id, id_token, expires_at)
        return self._evse(evse_id).reserve(reservation, now)

    def cancel_reservation(self, reservation_id: int, *, now: datetime) -> bool:
        """CancelReservation: True (Accepted) when the reservation exists."""
        self._advance(now)
        for evse in self._evses.values():
            if evse.reservation is not None and evse.reservation.reservation_id == reservation_id:
                evse.end_reservation(now, expired=False)
                return True
        return False

    # ------------------------------------------------------------------ smart charging
    def set_charging_profile(
        self, evse_id: int, profile: ChargingProfile, *, now: datetime
    ) -> Accepted | Rejected:
        """SetChargingProfile: check like a conforming station (the engine's rules)."""
        self._advance(now)
        result = self._install(evse_id, profile)
        self._refresh()
        return result

    def _install(self, evse_id: int, profile: ChargingProfile) -> Accepted | Rejected:
        facts = self.facts()
        tx = facts.transaction_on(evse_id)
        if (
            self.config.has(StationFault.ACCEPTS_UNKNOWN_TRANSACTION)
            and profile.purpose == Purpose.TX
            and tx is not None
        ):
            # The defect: the transactionId is not checked, the profile binds to what runs.
            profile = replace(profile, transaction_id=tx)
        if self.config.has(StationFault.ACCEPTS_INVALID_V2X_PROFILE):
            profile = self._without_mode_rules(evse_id, profile, facts)
        self._targets = None
        return self._store.install(evse_id, profile, facts)

    def _without_mode_rules(
        self, evse_id: int, profile: ChargingProfile, facts: Facts
    ) -> ChargingProfile:
        """The ``accepts_invalid_v2x_profile`` defect: a profile that breaks only the 2.1
        operation-mode rules is taken as plain charging (ChargingOnly, no setpoint, the
        hardware maximum where the limit is missing) instead of being Rejected."""
        found = broken(
            profile,
            evse_id=evse_id,
            version=self.config.ocpp_version,
            facts=facts,
            installed=self._store.placed,
        )
        if not found or any(r.rule not in MODE_CHECKS for r in found):
            return profile
        c = self.config
        schedules = []
        for schedule in profile.schedules:
            per_amp = Decimal(str(c.voltage_v * c.phases)) if schedule.unit == RateUnit.W else 1
            maximum = Decimal(str(c.max_current_per_evse_a)) * per_amp
            periods = tuple(
                replace(
                    p,
                    operation_mode=None,
                    setpoint=None,
                    limit=maximum if p.limit is None else p.limit,
                )
                for p in schedule.periods
            )
            schedules.append(replace(schedule, periods=periods))
        return replace(profile, schedules=tuple(schedules))

    def set_local_limit(
        self, evse_id: int, profile: ChargingProfile, *, now: datetime
    ) -> Accepted | Rejected:
        """A limit set locally, e.g. by an energy management system: a
        ChargingStationExternalConstraints profile (which a CSMS may not send, K01.FR.22).
        It caps the EVSE like any external constraint; a 2.x adapter reports it with
        NotifyChargingLimit."""
        self._advance(now)
        self._targets = None
        result = self._store.install(evse_id, profile, self.facts(), from_csms=False)
        if self._applied_store is not self._store and isinstance(result, Accepted):
            self._applied_store.install(evse_id, profile, self.facts(), from_csms=False)
        self._refresh()
        return result

    def clear_charging_profiles(self, criteria: ClearCriteria, *, now: datetime) -> tuple[int, ...]:
        """ClearChargingProfile: the ids removed (empty: answer Unknown)."""
        self._advance(now)
        cleared = self._store.clear(criteria)
        self._targets = None
        if self._applied_store is not self._store:
            self._applied_store.clear(criteria)
        self._refresh()
        return cleared

    def composite_schedule(
        self, evse_id: int, *, start: datetime, duration_s: int, unit: RateUnit | None = None
    ) -> Composite | CompositeRefused:
        """GetCompositeSchedule from ``start`` for ``duration_s`` (``unit=None``: the station's
        default). Render it with :func:`simulators.station.smartcharging.accepted_payload`."""
        chosen = self.config.default_unit if unit is None else unit
        # K01.FR.26 (TC_K_42) / 1.6 §5.7: a unit the station does not support is Rejected.
        if chosen not in self.config.supported_units:
            return CompositeRefused(
                "UnsupportedRateUnit", f"chargingRateUnit {chosen} is not supported"
            )
        try:
            return station_composite(
                self._store,
                config=self.config,
                evse_id=evse_id,
                start=start,
                duration_s=duration_s,
                unit=chosen,
                station=self.station_view(),
            )
        except NoSuchEvse as exc:  # TC_K_47: an unknown EVSE is Rejected
            return CompositeRefused("UnknownEvse", str(exc))

    # ------------------------------------------------------------------ limits and pilot
    def _refresh(self) -> None:
        self._update_limits()
        for evse in self._evses.values():
            if evse.state in ENERGY_STATES:
                evse.move(evse.energy_event(), self._now)

    def _update_limits(self, *, immediate: int | None = None) -> None:
        """Targets from the engine for every EVSE with a transaction, shared under the station
        maximum, queued to reach the pilot after the apply delay (``immediate``: a transaction
        that starts now gets its first limit at once)."""
        config, now = self.config, self._now
        active = [e for e in self._evses.values() if e.transaction is not None]
        if not active:
            return
        wanted = self._targets
        ids = {e.evse_id for e in active}
        expired = self._targets_until is not None and now >= self._targets_until
        if wanted is None or set(wanted) != ids or expired:
            wanted = self._compute_targets(active)
        late = config.has(StationFault.LATE_APPLY)
        delay = timedelta(seconds=config.late_apply_delay_s if late else config.apply_delay_s)
        for evse in active:
            target = wanted[evse.evse_id]
            if evse.hlc and not target.digital:
                # ISO 15118: the limit is agreed over high-level communication (5 % band).
                target = replace(target, digital=True)
            # A hold (below) is not a schedule agreed with the vehicle: a fault that keeps
            # "the first schedule" keeps the one agreed after it.
            previous = None if evse.schedule_held else evse.target
            target = distort(target, previous=previous, config=config)
            if evse.awaiting_schedule:
                # ISO 15118-2: no schedule agreed yet (EVSEProcessing Ongoing): no energy.
                target = replace(target, limit_a=0.0, digital=True)
            if evse.evse_id == immediate:
                evse.clear_limits()
                evse.target = target
                evse.apply(target, now)
                if config.has(StationFault.IGNORES_PHASE_SWITCH):
                    evse.locked_phases = target.phases  # the defect: kept all session
            else:
                evse.want(target, effective_at=now + delay, now=now)
            evse.schedule_held = evse.awaiting_schedule

    def _compute_targets(self, active: list[Evse]) -> dict[int, AppliedLimit]:
        """Targets from the engine now; valid until the next profile boundary."""
        now, station = self._now, self.station_view()
        instants = {
            e.evse_id: self._applied_store.allowance(station, evse_id=e.evse_id, at=now)
            for e in active
        }
        wanted = station_targets(
            instants,
            config=self.config,
            locked_phases={e.evse_id: e.locked_phases for e in active},
            station_cap_a=self._station_cap_a(station),
        )
        asked = [e.evse_id for e in active] + ([0] if self.config.evse_count > 1 else [])
        cuts, floating = profile_boundaries(
            self._applied_store.placed, evse_ids=asked, at=now, station=station
        )
        later = [c for c in cuts if c > epoch_s(now)]
        self._targets = wanted
        self._targets_until = now if floating else (instant(min(later)) if later else None)
        return wanted

    def _changed(self) -> None:
        """Transactions changed: the engine's view and the targets are out of date."""
        self._station = None
        self._targets = None

    def _station_cap_a(self, station: Station) -> float | None:
        caps = []
        if self.config.station_max_current_a is not None:
            caps.append(self.config.station_max_current_a)
        if self.config.evse_count > 1:
            total = self._applied_store.allowance(station, evse_id=0, at=self._now)
            if total.current_a is not None:
                caps.append(float(total.current_a))
        return min(caps, default=None)

    def set_high_level_communication(self, evse_id: int, *, on: bool, now: datetime) -> None:
        """The vehicle plugged into ``evse_id`` talks ISO 15118 (``on``): from now on its
        limit is agreed over high-level communication (digital band) instead of the duty
        cycle. Cleared at unplug."""
        self._advance(now)
        self._evse(evse_id).hlc = on
        self._refresh()

    def await_schedule(self, evse_id: int, *, until: datetime | None, now: datetime) -> None:
        """ISO 15118 (OCPP 2.x K15): the vehicle on ``evse_id`` stated its charging needs and
        the station waits for the CSMS's schedule before it lets energy flow — until
        :meth:`schedule_agreed`, or ``until`` (then it goes on with its own limits; ``None``:
        it waits for ever)."""
        self._advance(now)
        evse = self._evse(evse_id)
        evse.awaiting_schedule, evse.awaiting_until = True, until
        self._refresh()

    def schedule_agreed(self, evse_id: int, *, now: datetime) -> None:
        """The wait of :meth:`await_schedule` is over (a profile arrived, or the CSMS said it
        has none): the EVSE's limit now comes from its profiles (or the station's own)."""
        self._advance(now)
        evse = self._evse(evse_id)
        if evse.awaiting_schedule:
            evse.awaiting_schedule, evse.awaiting_until = False, None
            # The agreed schedule is in force at once — except on a station whose every new
            # limit is late (late_apply): its defect holds for this one too.
            late = self.config.has(StationFault.LATE_APPLY)
            self._update_limits(immediate=None if late else evse_id)
            self._refresh()

    def awaiting_schedule(self, evse_id: int) -> bool:
        """True while ``evse_id`` waits for a schedule (see :meth:`await_schedule`)."""
        return self._evse(evse_id).awaiting_schedule

    def high_level_communication(self, evse_id: int) -> bool:
        """True while the vehicle on ``evse_id`` talks ISO 15118 with the station."""
        return self._evse(evse_id).hlc

    def pilot_offer(self, evse_id: int) -> PilotOffer:
        """The pilot ``evse_id`` drives now (F while Unavailable or Faulted)."""
        return self._evse(evse_id).pilot_offer()

    def interrupt_pilot(
        self,
        evse_id: int,
        *,
        now: datetime,
        duration_s: float = 4.0,
        line: PilotLine = PilotLine.F,
    ) -> None:
        """Hold the pilot in state F (or E) for ``duration_s``, then resume: the wake-up some
        stations use for a vehicle asleep after a pause (ISO 15118-3 T_step_EF ≈ 4 s)."""
        if line is PilotLine.NORMAL:
            raise ValueError("an interruption holds the pilot in E or F, not normal")
        self._advance(now)
        evse = self._evse(evse_id)
        evse.interrupted_until = now + timedelta(seconds=duration_s)
        evse.interruption = line
        self._refresh()

    def _wake_up_vehicles(self) -> None:
        """The station's wake-up escalation (:mod:`simulators.station.wakeup`)."""
        now = self._now
        for evse_id, evse in self._evses.items():
            reading = evse.meter.last
            offer = evse.pilot_offer()
            method = self._wake_ups[evse_id].observe(
                now=now,
                offering=evse.transaction is not None and offer.allowed_current_a is not None,
                busy=evse.interrupted_until is not None or evse.toggle_until is not None,
                drawing=reading is not None and reading.power_w > 0,
            )
            if method is WakeUpMethod.PILOT_TOGGLE:
                evse.toggle_until = now + timedelta(seconds=self.config.wake_up_toggle_s)
            elif method is WakeUpMethod.STATE_F:
                evse.interruption = PilotLine.F
                evse.interrupted_until = now + timedelta(seconds=self.config.wake_up_interrupt_s)
            if method is not None:
                self._refresh()

    def wake_up_episode(self, evse_id: int, *, since: datetime) -> WakeUpEpisode | None:
        """The station's latest wake-up episode on ``evse_id`` that began at or after
        ``since`` (``None``: it tried nothing since then)."""
        self._evse(evse_id)
        return self._wake_ups[evse_id].since(since)

    def discharge_request(self, evse_id: int) -> float | None:
        """Power (W ≥ 0) the vehicle should export now — pass it to
        ``Vehicle.set_discharge(power_w=...)``; 0 ends discharging; ``None``: no transaction."""
        applied = self._evse(evse_id).applied
        if applied is None:
            return None
        if self.config.has(StationFault.NEVER_DISCHARGES):
            return 0.0  # the defect: the setpoint's limit of 0 A applies, the export never
        return applied.discharge_w

    # ------------------------------------------------------------------ metering
    def on_vehicle_reading(self, evse_id: int, reading: VehicleReading) -> None:
        """Meter the vehicle plugged into ``evse_id`` (energy follows its counters).

        The status this reading implies (Charging / SuspendedEV) is reported at the next
        :meth:`tick`, stamped with that tick's time.
        """
        self._evse(evse_id).meter.record(reading)

    def meter(self, evse_id: int, *, reason: SampleReason = SampleReason.TRIGGER) -> MeterSample:
        """What the meter of ``evse_id`` shows now."""
        return self._evse(evse_id).sample(reason, self._now)

    def set_clock_aligned_interval(self, interval_s: int | None) -> None:
        """Change the clock-aligned meter interval (1.6 ClockAlignedDataInterval; ``None`` or
        0: off). The next clock-aligned sample is at the next multiple of the interval since
        midnight UTC after the core's now."""
        self.config = replace(self.config, clock_aligned_interval_s=interval_s or None)
        self._next_clock_sample = next_aligned(self._now, interval_s) if interval_s else None

    def _samples_due(self) -> None:
        now = self._now
        for evse in self._evses.values():
            due = evse.next_sample_at
            if due is not None and now >= due and evse.transaction is not None:
                self._events.append(MeterSampleDue(evse.sample(SampleReason.PERIODIC, now)))
                evse.next_sample_at = next_due(due, now, self.config.meter_interval_s)
        due = self._next_clock_sample
        interval = self.config.clock_aligned_interval_s
        if due is not None and interval is not None and now >= due:
            for evse in self._evses.values():
                self._events.append(MeterSampleDue(evse.sample(SampleReason.CLOCK, now)))
            self._next_clock_sample = next_aligned(now, interval)

    def _evse(self, evse_id: int) -> Evse:
        try:
            return self._evses[evse_id]
        except KeyError:
            known = list(self._evses)
            raise ValueError(f"EVSE {evse_id} does not exist (EVSEs: {known})") from None


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError(f"now must be an aware UTC datetime, got {now!r}")
