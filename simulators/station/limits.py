"""From the engine's limit at an instant to what the station puts on the pilot.

* The station's engine (:meth:`~simulators.station.smartcharging.Profiles.allowance`) gives
  the exact limit of an EVSE: ``current_a`` per phase and ``power_w`` in total, consistent
  with the period's numberPhases (default 3), plus the 2.1 setpoint/discharge limit.
* Phases energized: the period's numberPhases when the station can switch phases (never more
  than it is supplied with), else the station's phases.
* Per-phase current: the engine's ``current_a`` when the station energizes as many phases as
  the period says. When it energizes a different number (it cannot switch), the power limit
  is shared over the phases it does energize and the tighter of the two values applies, so
  the station never exceeds either reading of the profile. A station with
  ``ignores_phase_switch`` keeps the per-phase current on its old phases (the field defect).
* Hardware: capped at the EVSE maximum; several EVSEs share the station maximum
  (:func:`share`).
* 2.1: a negative setpoint asks the vehicle to export ``-setpoint`` W; a positive setpoint
  caps the charging current, and a setpoint of 0 W allows no transfer either way (idle).
* Pilot (:func:`pilot_for`): 6–80 A as a duty cycle; below 6 A the station's
  :class:`~simulators.iec61851.BelowMinimumPolicy` decides (pause at 100 %, or keep 6 A);
  while a setpoint is in force (discharging or not) the station signals the ISO 15118
  digital band (5 %) with the agreed current, since AC bidirectional power transfer (and a
  setpoint below the 6 A a PWM duty cycle can carry) needs high-level communication.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from simulators.iec61851 import (
    MAX_SIGNALLED_CURRENT_A,
    MIN_SIGNALLED_CURRENT_A,
    BelowMinimumPolicy,
    duty_for_limit,
)
from simulators.station.config import StationConfig
from simulators.station.smartcharging import Allowance
from simulators.vehicle import PilotLine, PilotOffer

__all__ = [
    "DIGITAL_DUTY_PERCENT",
    "AppliedLimit",
    "offered_current_a",
    "pilot_for",
    "share",
    "station_targets",
    "target_limit",
]

DIGITAL_DUTY_PERCENT = 5.0
"""Nominal duty cycle of the ISO 15118 digital band (3–7 %)."""


@dataclass(frozen=True, slots=True)
class AppliedLimit:
    """What the station applies to one EVSE: ``limit_a`` per phase (exact, before the pilot's
    below-6 A policy), the phases it energizes, and the power it asks the vehicle to export
    (``discharge_w`` ≥ 0; 0 = none). ``digital``: a 2.1 setpoint is in force, so the limit
    is agreed over ISO 15118 (digital band) rather than by the PWM duty cycle."""

    limit_a: float
    phases: int
    discharge_w: float = 0.0
    digital: bool = False


def target_limit(
    instant: Allowance,
    *,
    evse_max_a: float,
    voltage_v: float,
    station_phases: int,
    phase_switching: bool,
    locked_phases: int | None = None,
) -> AppliedLimit:
    """The limit to apply for the engine's ``instant`` (see the module docstring).

    ``locked_phases``: the phases kept whatever the profile says (``ignores_phase_switch``).
    """
    asked = min(instant.number_phases, station_phases)
    if locked_phases is not None:
        phases = locked_phases
    elif phase_switching:
        phases = asked
    else:
        phases = station_phases
    limit = evse_max_a
    if instant.current_a is not None:
        per_phase = float(instant.current_a)
        if (
            phases != instant.number_phases
            and locked_phases is None
            and instant.power_w is not None
        ):
            per_phase = min(per_phase, float(instant.power_w) / (voltage_v * phases))
        limit = min(limit, per_phase)
    discharge = 0.0
    setpoint = instant.setpoint_w
    if setpoint is not None and setpoint < 0:
        discharge = float(-setpoint)
        limit = 0.0
    elif setpoint is not None:
        # 2.1 ChargingSchedulePeriodType.setpoint: the EV follows it as closely as possible;
        # 0 W means neither charging nor discharging.
        limit = min(limit, float(setpoint) / (voltage_v * phases))
    return AppliedLimit(
        limit_a=max(0.0, limit),
        phases=phases,
        discharge_w=discharge,
        digital=setpoint is not None,
    )


def share(limits: dict[int, float], total_a: float) -> dict[int, float]:
    """Share ``total_a`` (per phase) among EVSEs asking ``limits``: each gets at most what
    it asks, and what one does not use is shared among the others (water-filling)."""
    out: dict[int, float] = {}
    remaining = max(0.0, total_a)
    order = sorted(limits, key=lambda evse: limits[evse])
    for index, evse in enumerate(order):
        fair = remaining / (len(order) - index)
        out[evse] = min(limits[evse], fair)
        remaining -= out[evse]
    return out


def station_targets(
    instants: dict[int, Allowance],
    *,
    config: StationConfig,
    locked_phases: dict[int, int | None],
    station_cap_a: float | None,
) -> dict[int, AppliedLimit]:
    """The target limit of each EVSE (by id) from the engine's ``instants``, with the EVSEs
    sharing ``station_cap_a`` (per phase; ``None``: no station-wide cap)."""
    wanted = {
        evse: target_limit(
            instant,
            evse_max_a=config.max_current_per_evse_a,
            voltage_v=config.voltage_v,
            station_phases=config.phases,
            phase_switching=config.phase_switching,
            locked_phases=locked_phases.get(evse),
        )
        for evse, instant in instants.items()
    }
    if station_cap_a is None:
        return wanted
    shared = share({e: w.limit_a for e, w in wanted.items()}, station_cap_a)
    return {e: replace(w, limit_a=shared[e]) for e, w in wanted.items()}


def offered_current_a(limit: AppliedLimit | None, *, policy: BelowMinimumPolicy) -> float:
    """Current per phase the pilot offers (Current.Offered): 0 while paused or off."""
    if limit is None:
        return 0.0
    if limit.digital:  # agreed over ISO 15118: any current, no PWM minimum
        return min(limit.limit_a, MAX_SIGNALLED_CURRENT_A)
    if limit.limit_a < MIN_SIGNALLED_CURRENT_A:
        return MIN_SIGNALLED_CURRENT_A if policy is BelowMinimumPolicy.KEEP_MINIMUM else 0.0
    return min(limit.limit_a, MAX_SIGNALLED_CURRENT_A)


def pilot_for(
    limit: AppliedLimit | None, *, policy: BelowMinimumPolicy, line: PilotLine = PilotLine.NORMAL
) -> PilotOffer:
    """The pilot the station drives for ``limit`` (``None``: no transaction, contactor open)."""
    if limit is None or line is not PilotLine.NORMAL:
        return PilotOffer(duty_percent=100.0, energized_phases=0, line=line)
    if limit.discharge_w > 0 or limit.digital:
        hlc = limit.limit_a if limit.limit_a > 0 else None
        return PilotOffer(
            duty_percent=DIGITAL_DUTY_PERCENT, energized_phases=limit.phases, hlc_current_a=hlc
        )
    duty = duty_for_limit(limit.limit_a, below_minimum=policy)
    return PilotOffer(duty_percent=duty, energized_phases=limit.phases)
