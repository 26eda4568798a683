"""The simulated vehicle: IEC 61851 pilot side, battery, and field behaviours, with no I/O.

Time only moves when the caller says so (:meth:`Vehicle.advance` / :meth:`Vehicle.step`);
the vehicle never reads a clock and never sleeps. Inputs (plug, pilot offer, discharge
setpoint) take effect at the vehicle's current time.

How it behaves (modelling choices, each documented here once):

* **Response delay.** The vehicle perceives every pilot offer ``response_delay_s`` after the
  station sets it; all its decisions use the perceived offer. Pause lengths, start deadlines
  and interruptions are therefore measured on the perceived timeline (shifted by a constant).
  The contactor is physical: when the station de-energizes phases (or holds E/F) the draw on
  them stops at once, and re-energized phases carry current at once; behaviour that depends on
  the phase count (staying on one phase) follows the perceived offer, so a phase-stuck vehicle
  may draw on three phases for one response delay before it falls back to one (real stations
  switch phases during a pause, where this does not show).
* **Target and ramp.** While allowed and willing, the per-phase target is
  min(allowed, ``max_current_a``, taper limit); the current moves towards it at
  ``ramp_up_a_per_s`` (away from zero) or ``ramp_down_a_per_s`` (towards zero), and the
  charge is integrated exactly over each ramp.
* **Minimum current.** Starting from idle needs at least ``start_current_a`` (7.2 A for the
  archetype reported in OpenEVSE issue #512; the report only covers *starting*, so once
  running the vehicle continues down to ``min_current_a``). Offered less than
  ``min_current_a`` while running, it keeps S2 closed (state C) with 0 A, as vehicles that
  wait for the limit to rise do; from idle it stays in B.
* **Pause.** No current allowed (duty 100 %, 7–8 %, < 3 %, a digital band without an ISO
  15118 limit, or an E/F line): the vehicle opens S2 (state B) and stops.
* **Full.** At 100 % SoC it stops and opens S2; discharging clears the flag.
* **Pilot state D.** A vehicle with ``requires_ventilation`` closes S2 into D instead of C.
"""

from __future__ import annotations

import random
from collections import deque

from simulators.iec61851 import PilotEvent, PilotState, next_vehicle_state
from simulators.vehicle.params import VehicleParams
from simulators.vehicle.signals import (
    DischargeDecision,
    IdleReason,
    PilotLine,
    PilotOffer,
    VehicleReading,
)

__all__ = ["MAX_SUBSTEP_S", "TOGGLE_MAX_S", "Vehicle"]

MAX_SUBSTEP_S = 5.0
"""Longest internal integration step (s): taper and timers are re-evaluated at least this often."""

TOGGLE_MAX_S = 10.0
"""Longest break of the PWM (s) that a ``wakes_on_pilot_toggle`` vehicle takes for a pilot
toggle (B↔C) rather than a pause: stations that wake vehicles this way stop the oscillator
for a few seconds."""

_CHANGE_RESOLUTION_A = 0.1  # two limits closer than this are "the same limit" for change counting


def _ramp(
    start_a: float, target_a: float, duration_s: float, *, up_a_per_s: float, down_a_per_s: float
) -> tuple[float, float, float]:
    """Move a current towards ``target_a`` for ``duration_s``.

    Returns (charge imported in A·s, charge exported in A·s as a positive number, end current).
    Moving away from zero uses ``up_a_per_s``; towards zero (or across it, which passes through
    zero first) uses ``down_a_per_s``.
    """
    imported = exported = 0.0
    current = start_a
    left = duration_s
    while left > 0 and current != target_a:
        crosses = current != 0 and (target_a == 0 or (target_a > 0) != (current > 0))
        if crosses:
            goal, rate = 0.0, down_a_per_s
        elif abs(target_a) < abs(current):
            goal, rate = target_a, down_a_per_s
        else:
            goal, rate = target_a, up_a_per_s
        needed = abs(goal - current) / rate
        if needed <= left:
            span, end = needed, goal
        else:
            span = left
            end = current + (rate * span if goal > current else -rate * span)
        area = (current + end) / 2.0 * span
        if area > 0:
            imported += area
        else:
            exported -= area
        current, left = end, left - span
    if left > 0:
        if current > 0:
            imported += current * left
        else:
            exported -= current * left
    return imported, exported, current


class Vehicle:
    """One simulated vehicle behind an IEC 61851 pilot. See the module docstring for its rules.

    ``rng`` supplies all randomness (only used when ``params.resume_failure_probability`` > 0,
    and then required), so a run is reproducible from its seed. ``soc_percent`` overrides the
    parameters' initial state of charge. The vehicle starts unplugged at ``start_s``.
    """

    def __init__(
        self,
        params: VehicleParams,
        *,
        rng: random.Random | None = None,
        soc_percent: float | None = None,
        start_s: float = 0.0,
    ) -> None:
        if params.resume_failure_probability > 0 and rng is None:
            raise ValueError(
                "resume_failure_probability > 0 needs a seeded random.Random passed as rng"
            )
        soc = params.initial_soc_percent if soc_percent is None else soc_percent
        if not 0 <= soc <= 100:
            raise ValueError(f"soc_percent must be within 0–100 %, got {soc!r}")
        self.params = params
        self._rng = rng
        self._now = start_s
        self._soc = soc
        self._imported_wh = 0.0
        self._exported_wh = 0.0
        self._state = PilotState.A
        self._offer = PilotOffer()  # what the station drives now
        self._queue: deque[tuple[float, PilotOffer]] = deque()
        self._current_a = 0.0
        self._discharge_w = 0.0
        self._reset_session()

    # ----------------------------------------------------------------- session bookkeeping
    def _reset_session(self) -> None:
        self._perceived: PilotOffer | None = None
        self._plugged_at: float = self._now
        self._started = False  # drew current at least once since plug-in
        self._running = False  # in a charging run (may be at 0 A below its minimum)
        self._asleep = False
        self._deadline_missed = False
        self._gave_up = False
        self._full = False
        self._phase_cap: int | None = None
        self._changes = 0
        self._paused_since: float | None = None
        self._interrupted_since: float | None = None
        self._break_since: float | None = None  # the PWM stopped (normal line, no current)
        self._target_a = 0.0
        self._reason: IdleReason | None = IdleReason.UNPLUGGED
        self._discharge_w = 0.0
        self._queue.clear()

    def _wake(self) -> None:
        """A pilot interruption long enough: the vehicle's charge controller restarts."""
        if self._paused_since is not None:
            self._paused_since = self._now  # a new pause starts now, if the pilot stays off
        self._asleep = False
        self._gave_up = False
        self._phase_cap = None
        self._changes = 0

    # ----------------------------------------------------------------- inputs
    @property
    def now_s(self) -> float:
        """The vehicle's time (s), as advanced by the caller."""
        return self._now

    @property
    def state(self) -> PilotState:
        """The vehicle's own pilot state (A, B, C or D)."""
        return self._state

    @property
    def plugged(self) -> bool:
        """True while the cable is connected."""
        return self._state is not PilotState.A

    def plug_in(self) -> None:
        """Connect the cable (A → B); raises :class:`PilotTransitionError` if already plugged."""
        self._state = next_vehicle_state(self._state, PilotEvent.PLUG_IN)
        self._reset_session()
        self._plugged_at = self._now
        self._reason = IdleReason.PAUSED
        self._queue.append((self._now + self.params.response_delay_s, self._offer))
        self._drain(self._now)
        self._decide()

    def unplug(self) -> None:
        """Disconnect the cable (→ A): everything the session learnt is forgotten."""
        self._state = next_vehicle_state(self._state, PilotEvent.UNPLUG)
        self._reset_session()
        self._current_a = 0.0

    def set_pilot(self, offer: PilotOffer) -> None:
        """The station changes its pilot output; the vehicle reacts after its response delay."""
        self._offer = offer
        if offer.physical_phases == 0:
            self._current_a = 0.0  # contactor open: no current, whatever the vehicle wants
        if self.plugged:
            last = self._queue[-1][1] if self._queue else self._perceived
            if offer == last:
                return  # the same pilot again: nothing new to perceive
            self._queue.append((self._now + self.params.response_delay_s, offer))
            self._drain(self._now)
            self._decide()

    def set_discharge(self, *, power_w: float) -> DischargeDecision:
        """Ask the vehicle to export ``power_w`` (≥ 0; 0 ends discharging).

        Accepted when the vehicle is bidirectional, plugged in and awake, ``power_w`` is
        within its ``max_discharge_power_w`` and its SoC is above ``min_soc_percent``. While
        accepted it exports at that power (negative current) and stops at ``min_soc_percent``.
        """
        if power_w < 0:
            raise ValueError(f"power_w must be ≥ 0 W (export), got {power_w!r}")
        p = self.params
        refusal: str | None = None
        if power_w == 0:
            self._discharge_w = 0.0
            self._decide()
            return DischargeDecision(True, "discharge ended")
        if not p.bidirectional:
            refusal = "vehicle is not bidirectional"
        elif power_w > p.max_discharge_power_w:
            refusal = f"{power_w} W exceeds the discharge limit of {p.max_discharge_power_w} W"
        elif not self.plugged:
            refusal = "vehicle is not plugged in"
        elif self._asleep or self._gave_up:
            refusal = "vehicle is not responding"
        elif self._soc <= p.min_soc_percent:
            refusal = f"state of charge {self._soc:.1f} % is at or below {p.min_soc_percent} %"
        if refusal is not None:
            return DischargeDecision(False, refusal)
        self._discharge_w = power_w
        self._full = False
        self._decide()
        return DischargeDecision(True, f"exporting {power_w} W")

    @property
    def quiescent(self) -> bool:
        """Nothing observable will change until the next input: no pilot change is waiting
        for the response delay, and the vehicle neither draws, exports nor wants to.

        Timers may still run (sleeping after a long pause, a missed start deadline), but
        they only show at the next pilot change, so a station may step such a vehicle at
        its own deadlines only, however far apart.
        """
        return self.steady_s == float("inf")

    @property
    def steady_s(self) -> float:
        """Seconds during which, without new input, nothing observable changes but the
        energy and state of charge, which grow linearly (``inf``: until the next input; 0:
        unsure, step finely).

        Steady means: no pilot change waiting for the response delay (else: until it is
        perceived), not ramping, not exporting; while drawing a constant current, until the
        battery's taper or fullness would lower it. A station may step the vehicle that
        seldom: readings are integrated exactly over any step.
        """
        if self._queue:
            return max(0.0, self._queue[0][0] - self._now)
        if self._discharge_w or self._current_a != self._target_a:
            return 0.0
        if self._target_a == 0.0:
            return float("inf")
        p = self.params
        phases = self._usable_phases(self._offer.physical_phases)
        rate = (  # state of charge, percent per second
            p.voltage_v
            * phases
            * self._current_a
            * p.charging_efficiency
            / p.battery_capacity_wh
            * 100.0
            / 3600.0
        )
        if rate <= 0:
            return 0.0
        soc_limit = 100.0  # full: the vehicle stops
        if p.taper_start_soc_percent < 100 and p.max_current_a > 0:
            # the taper lowers the accepted current below the target at this state of charge
            fraction = (1.0 - self._target_a / p.max_current_a) / (1.0 - p.taper_end_fraction)
            if p.taper_end_fraction < 1.0:
                span = 100.0 - p.taper_start_soc_percent
                soc_limit = min(soc_limit, p.taper_start_soc_percent + max(0.0, fraction) * span)
        return max(0.0, (soc_limit - self._soc) / rate)

    # ----------------------------------------------------------------- time
    def advance(self, dt_s: float) -> VehicleReading:
        """Let ``dt_s`` seconds pass (any tick size) and return the reading at the end."""
        if dt_s < 0:
            raise ValueError(f"dt_s must be ≥ 0, got {dt_s!r}")
        return self._advance_to(self._now + dt_s)

    def step(self, now_s: float) -> VehicleReading:
        """Advance to the absolute time ``now_s`` (must not go backwards)."""
        if now_s < self._now:
            raise ValueError(f"time cannot go backwards: now {self._now} s, asked {now_s} s")
        return self._advance_to(now_s)

    def _advance_to(self, end_s: float) -> VehicleReading:
        while self._queue and self._queue[0][0] <= end_s:
            self._integrate_until(self._queue[0][0])
            self._drain(self._now)
        self._integrate_until(end_s)
        return self.reading()

    def _drain(self, until_s: float) -> None:
        while self._queue and self._queue[0][0] <= until_s:
            _, offer = self._queue.popleft()
            self._perceive(offer)

    def _integrate_until(self, end_s: float) -> None:
        while self._now < end_s:
            span = min(MAX_SUBSTEP_S, end_s - self._now)
            self._decide()
            self._move(span)
            self._now = end_s if end_s - self._now <= MAX_SUBSTEP_S else self._now + span
        self._decide()

    # ----------------------------------------------------------------- behaviour
    def _update_timers(self) -> None:
        p = self.params
        if not self.plugged:
            return
        if (
            p.sleep_after_pause_s is not None
            and self._started
            and self._paused_since is not None
            and self._now - self._paused_since > p.sleep_after_pause_s
        ):
            self._asleep = True
        if (
            p.start_deadline_s is not None
            and not self._started
            and self._now - self._plugged_at > p.start_deadline_s
        ):
            self._deadline_missed = True

    def _perceive(self, offer: PilotOffer) -> None:
        """The vehicle notices a pilot offer (after its response delay)."""
        p = self.params
        self._update_timers()
        previous = self._perceived
        self._perceived = offer
        woken = False
        if offer.line is not PilotLine.NORMAL:
            if self._interrupted_since is None:
                self._interrupted_since = self._now
        elif self._interrupted_since is not None:
            # ISO 15118-3 wakes a vehicle with a fault-state step of about 4 s (T_step_EF).
            if p.wakes_on_interrupt and self._now - self._interrupted_since >= p.wake_interrupt_s:
                self._wake()
                woken = True
            self._interrupted_since = None
        if offer.line is PilotLine.NORMAL and offer.allowed_current_a is None:
            if self._break_since is None:
                self._break_since = self._now
        elif offer.line is PilotLine.NORMAL:
            # A pilot toggle: the PWM stopped briefly and returned (the vehicle opened and
            # closed S2). Only some vehicles take it as a reason to restart their charger.
            brief = self._break_since is not None and self._now - self._break_since <= TOGGLE_MAX_S
            if brief and p.wakes_on_pilot_toggle and (self._asleep or self._gave_up):
                self._wake()
                woken = True
            self._break_since = None
        if p.stays_on_one_phase and p.phases == 3 and offer.energized_phases == 1:
            self._phase_cap = 1
        allowed = offer.allowed_current_a
        if allowed is None:
            if self._paused_since is None:
                self._paused_since = self._now
        elif self._paused_since is not None:
            self._paused_since = None
            if (
                self._started
                and not woken  # a deliberate wake-up resumes reliably
                and p.resume_failure_probability > 0
                and self._rng is not None
                and self._rng.random() < p.resume_failure_probability
            ):
                self._asleep = True
        before = None if previous is None else previous.allowed_current_a
        give_up_at = p.gives_up_after_changes
        if give_up_at is not None and self._started and not woken and _differs(before, allowed):
            self._changes += 1
            if self._changes >= give_up_at:
                self._gave_up = True

    def _choose(self) -> tuple[IdleReason | None, float]:
        """(why idle, per-phase target current): the vehicle's decision at this moment."""
        p = self.params
        offer = self._perceived
        if offer is None:
            return IdleReason.PAUSED, 0.0
        if offer.line is not PilotLine.NORMAL:
            return IdleReason.PILOT_INTERRUPTED, 0.0
        if self._gave_up:
            return IdleReason.GAVE_UP, 0.0
        if self._asleep:
            return IdleReason.ASLEEP, 0.0
        if self._deadline_missed:
            return IdleReason.START_DEADLINE_MISSED, 0.0
        if self._discharge_w > 0:
            if not offer.oscillating:
                return IdleReason.PAUSED, 0.0
            if self._soc <= p.min_soc_percent:
                return IdleReason.MIN_SOC, 0.0
            phases = self._usable_phases(offer.energized_phases or p.phases)
            return None, -self._discharge_w / (p.voltage_v * phases)
        allowed = offer.allowed_current_a
        if allowed is None:
            return IdleReason.PAUSED, 0.0
        if self._full:
            return IdleReason.FULL, 0.0
        limit = min(allowed, p.max_current_a, p.taper_limit_a(self._soc))
        if self._running and limit < p.min_current_a:
            return IdleReason.BELOW_MINIMUM, 0.0
        if not self._running and limit < p.start_current_a:
            return IdleReason.BELOW_START_CURRENT, 0.0
        return None, limit

    def _decide(self) -> None:
        if not self.plugged:
            self._reason, self._target_a, self._running = IdleReason.UNPLUGGED, 0.0, False
            return
        self._update_timers()
        reason, target = self._choose()
        self._reason, self._target_a = reason, target
        if target != 0:
            self._started = True
        self._running = target > 0 or (self._running and reason is IdleReason.BELOW_MINIMUM)
        wants_s2_closed = target != 0 or self._running
        if wants_s2_closed and self._state is PilotState.B:
            event = (
                PilotEvent.REQUEST_ENERGY_VENTILATED
                if self.params.requires_ventilation
                else PilotEvent.REQUEST_ENERGY
            )
            self._state = next_vehicle_state(self._state, event)
        elif not wants_s2_closed and self._state in (PilotState.C, PilotState.D):
            self._state = next_vehicle_state(self._state, PilotEvent.STOP_REQUEST)

    def _usable_phases(self, energized: int) -> int:
        cap = self._phase_cap or 3
        return min(self.params.phases, energized, cap)

    def _move(self, span_s: float) -> None:
        """Ramp the current towards the target for ``span_s`` and integrate energy and SoC."""
        p = self.params
        phases = self._usable_phases(self._offer.physical_phases)
        if phases == 0:
            self._current_a = 0.0
            return
        imported_as, exported_as, self._current_a = _ramp(
            self._current_a,
            self._target_a,
            span_s,
            up_a_per_s=p.ramp_up_a_per_s,
            down_a_per_s=p.ramp_down_a_per_s,
        )
        imported_wh = p.voltage_v * phases * imported_as / 3600.0
        exported_wh = p.voltage_v * phases * exported_as / 3600.0
        capacity = p.battery_capacity_wh
        room_wh = (100.0 - self._soc) / 100.0 * capacity / p.charging_efficiency
        if imported_wh >= room_wh and imported_wh > 0:
            imported_wh = room_wh
            self._full = True
        stored_wh = (self._soc - p.min_soc_percent) / 100.0 * capacity * p.charging_efficiency
        if exported_wh >= stored_wh and exported_wh > 0:
            exported_wh = max(0.0, stored_wh)
        self._imported_wh += imported_wh
        self._exported_wh += exported_wh
        delta = imported_wh * p.charging_efficiency - exported_wh / p.charging_efficiency
        self._soc = min(100.0, max(0.0, self._soc + delta / capacity * 100.0))

    # ----------------------------------------------------------------- output
    def reading(self) -> VehicleReading:
        """The vehicle's observable state now."""
        p = self.params
        phases = self._usable_phases(self._offer.physical_phases)
        current = self._current_a if phases else 0.0
        per_phase = tuple(current if k < phases else 0.0 for k in range(3))
        reason = self._reason
        if reason is None and current == 0:
            reason = IdleReason.NOT_ENERGIZED if phases == 0 else IdleReason.STARTING
        line = self._offer.line
        seen = PilotState(line.value) if line is not PilotLine.NORMAL else self._state
        perceived = self._perceived
        return VehicleReading(
            time_s=self._now,
            pilot_state=seen,
            current_a=(per_phase[0], per_phase[1], per_phase[2]),
            power_w=p.voltage_v * current * phases,
            energy_imported_wh=self._imported_wh,
            energy_exported_wh=self._exported_wh,
            soc_percent=self._soc,
            awake=not self._asleep,
            idle_reason=reason,
            phases_drawn=phases if current else 0,
            allowed_current_a=None if perceived is None else perceived.allowed_current_a,
        )


def _differs(before: float | None, after: float | None) -> bool:
    if before is None or after is None:
        return (before is None) != (after is None)
    return abs(before - after) >= _CHANGE_RESOLUTION_A
