"""IEC 61851-1 control pilot: states, the vehicle-side transition table, and duty cycle ↔ current.

Shared by the vehicle and the station simulators. Pure functions and tables, no I/O.

Pilot states (voltage on the pilot line as the station sees it):

====== ======= =============================================
state  pilot   meaning
====== ======= =============================================
A      +12 V   no vehicle
B      +9 V    vehicle connected, not ready to draw
C      +6 V    vehicle ready, drawing power
D      +3 V    as C, ventilation required
E      0 V     pilot shorted / off (station fault)
F      −12 V   station not available
====== ======= =============================================

The vehicle only moves between A, B, C and D (by plugging in and by closing/opening its S2
switch); E and F are imposed by the station on the line. :data:`VEHICLE_TRANSITIONS` is the
table of the vehicle's own moves; :func:`next_vehicle_state` applies it and turns an illegal
move into a :class:`PilotTransitionError` naming the state and the event.

Duty cycle → maximum current per phase (vehicle side, IEC 61851-1 as quoted by instrument
manuals and open implementations):

=============== ==============================================
duty cycle      current
=============== ==============================================
< 3 %           no charging (fault)
3–7 %           set by high-level communication (ISO 15118); nominally 5 %
7–8 %           no charging
8–10 %          6 A
10–85 %         duty × 0.6 A  (10 % → 6 A, 26.7 % → 16 A, 53.3 % → 32 A)
85–96 %         (duty − 64) × 2.5 A
96–97 %         80 A
> 97 %          no charging allowed (100 % = steady +12 V, oscillator off)
=============== ==============================================

Boundary values belong to the band *below* them except where the table's own arithmetic
says otherwise: 3 % and 7 % are digital, 8 % is 6 A, 10 % and 85 % use ×0.6 (85 % → 51 A),
96 % → 80 A by either formula, 97 % → 80 A.

The station inverts it (:func:`current_to_duty`): 6 A → 10 %; up to 51 A → I / 0.6 %; up to
80 A → I / 2.5 + 64 %. The standard's two tables do not quite meet: a station following the
inverse for 51 A < I ≤ 52.5 A signals 84.4–85 %, which a vehicle reads with the ×0.6 rule as
50.6–51 A, i.e. up to 1.5 A *less* than intended (never more). We follow both tables exactly
and document the gap rather than hiding it.

A limit below 6 A cannot be signalled as a current. The station either pauses (steady +12 V,
duty 100 %) or keeps 6 A; which one is a property of the station firmware
(:class:`BelowMinimumPolicy`, applied by :func:`duty_for_limit`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "MAX_SIGNALLED_CURRENT_A",
    "MIN_SIGNALLED_CURRENT_A",
    "PILOT_MEANING",
    "PILOT_VOLTAGE_V",
    "VEHICLE_TRANSITIONS",
    "BelowMinimumPolicy",
    "DutyBand",
    "PilotEvent",
    "PilotState",
    "PilotTransitionError",
    "current_to_duty",
    "duty_band",
    "duty_for_limit",
    "duty_to_current_a",
    "next_vehicle_state",
    "vehicle_state_diagram",
]

MIN_SIGNALLED_CURRENT_A = 6.0
"""The lowest current a duty cycle can signal (per phase): 1.38 kW on one phase at 230 V."""

MAX_SIGNALLED_CURRENT_A = 80.0
"""The highest current a duty cycle can signal (per phase)."""

NO_CHARGING_DUTY_PERCENT = 100.0
"""Steady +12 V (oscillator off): a vehicle is connected but may not draw."""


class PilotState(StrEnum):
    """IEC 61851-1 pilot state, as seen on the line."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


PILOT_VOLTAGE_V: Mapping[PilotState, float] = MappingProxyType(
    {
        PilotState.A: 12.0,
        PilotState.B: 9.0,
        PilotState.C: 6.0,
        PilotState.D: 3.0,
        PilotState.E: 0.0,
        PilotState.F: -12.0,
    }
)
"""Positive plateau of the pilot voltage in each state (F is the negative −12 V)."""

PILOT_MEANING: Mapping[PilotState, str] = MappingProxyType(
    {
        PilotState.A: "no vehicle",
        PilotState.B: "vehicle connected, not ready to draw",
        PilotState.C: "vehicle ready, drawing power",
        PilotState.D: "vehicle ready, drawing power, ventilation required",
        PilotState.E: "pilot shorted or off (station fault)",
        PilotState.F: "station not available",
    }
)


class PilotEvent(StrEnum):
    """What the vehicle does to its side of the pilot circuit."""

    PLUG_IN = "plug_in"
    UNPLUG = "unplug"
    REQUEST_ENERGY = "request_energy"  # close S2: B → C
    REQUEST_ENERGY_VENTILATED = "request_energy_ventilated"  # close S2, ventilation: B → D
    STOP_REQUEST = "stop_request"  # open S2: C/D → B


VEHICLE_TRANSITIONS: Mapping[PilotState, Mapping[PilotEvent, PilotState]] = MappingProxyType(
    {
        PilotState.A: MappingProxyType({PilotEvent.PLUG_IN: PilotState.B}),
        PilotState.B: MappingProxyType(
            {
                PilotEvent.UNPLUG: PilotState.A,
                PilotEvent.REQUEST_ENERGY: PilotState.C,
                PilotEvent.REQUEST_ENERGY_VENTILATED: PilotState.D,
            }
        ),
        PilotState.C: MappingProxyType(
            {PilotEvent.UNPLUG: PilotState.A, PilotEvent.STOP_REQUEST: PilotState.B}
        ),
        PilotState.D: MappingProxyType(
            {PilotEvent.UNPLUG: PilotState.A, PilotEvent.STOP_REQUEST: PilotState.B}
        ),
    }
)
"""Vehicle-side pilot states: state → event → next state. Anything not listed is illegal."""


class PilotTransitionError(Exception):
    """A pilot event that the current vehicle-side state does not allow (caller's misuse)."""

    def __init__(self, state: PilotState, event: PilotEvent) -> None:
        allowed = ", ".join(sorted(VEHICLE_TRANSITIONS.get(state, {}))) or "none"
        super().__init__(
            f"pilot state {state} ({PILOT_MEANING[state]}) does not accept event "
            f"{event!s}; allowed there: {allowed}"
        )
        self.state = state
        self.event = event


def next_vehicle_state(state: PilotState, event: PilotEvent) -> PilotState:
    """The vehicle-side state after ``event``; raises :class:`PilotTransitionError` if illegal."""
    try:
        return VEHICLE_TRANSITIONS[state][event]
    except KeyError:
        raise PilotTransitionError(state, event) from None


def vehicle_state_diagram() -> str:
    """The vehicle-side transition table as a Mermaid state diagram (for documentation)."""
    lines = ["stateDiagram-v2"]
    for state, moves in VEHICLE_TRANSITIONS.items():
        lines.append(f"    {state}: {state} {PILOT_MEANING[state]}")
        lines.extend(f"    {state} --> {target}: {event}" for event, target in moves.items())
    return "\n".join(lines)


class DutyBand(StrEnum):
    """What a duty cycle means to the vehicle."""

    FAULT = "fault"  # < 3 %: no charging
    DIGITAL = "digital"  # 3–7 %: current set by ISO 15118 high-level communication
    NO_CHARGING = "no_charging"  # 7–8 % and > 97 %: no charging allowed
    CURRENT = "current"  # 8–97 %: the duty cycle gives the maximum current


def _check_duty(duty_percent: float) -> None:
    if not 0.0 <= duty_percent <= 100.0:
        raise ValueError(f"duty cycle must be within 0–100 %, got {duty_percent!r}")


def duty_band(duty_percent: float) -> DutyBand:
    """Classify a duty cycle (0–100 %); raises ``ValueError`` outside that range."""
    if 8.0 <= duty_percent <= 97.0:  # the common case first (called per pilot reading)
        return DutyBand.CURRENT
    _check_duty(duty_percent)
    if duty_percent < 3.0:
        return DutyBand.FAULT
    if duty_percent <= 7.0:
        return DutyBand.DIGITAL
    if duty_percent < 8.0 or duty_percent > 97.0:
        return DutyBand.NO_CHARGING
    return DutyBand.CURRENT


def duty_to_current_a(duty_percent: float) -> float | None:
    """Maximum current per phase (A) that a duty cycle allows the vehicle to draw.

    ``None`` means the duty cycle signals no current: a fault, no charging allowed, or the
    3–7 % band in which ISO 15118 communication sets the current (see :func:`duty_band` to
    tell them apart).
    """
    if duty_band(duty_percent) is not DutyBand.CURRENT:
        return None
    if duty_percent < 10.0:
        return MIN_SIGNALLED_CURRENT_A
    if duty_percent <= 85.0:
        return duty_percent * 0.6
    if duty_percent <= 96.0:
        return (duty_percent - 64.0) * 2.5
    return MAX_SIGNALLED_CURRENT_A


def current_to_duty(current_a: float) -> float:
    """Duty cycle (%) a station signals for ``current_a`` per phase, 6–80 A.

    6 A → 10 %; up to 51 A → I / 0.6; up to 80 A → I / 2.5 + 64. Raises ``ValueError``
    outside 6–80 A: such a limit cannot be signalled as a current (see
    :func:`duty_for_limit`).
    """
    if not MIN_SIGNALLED_CURRENT_A <= current_a <= MAX_SIGNALLED_CURRENT_A:
        raise ValueError(
            f"a duty cycle can signal 6–80 A per phase, got {current_a!r} A; "
            "use duty_for_limit() to apply a below-minimum policy"
        )
    if current_a <= 51.0:
        return current_a / 0.6
    return current_a / 2.5 + 64.0


class BelowMinimumPolicy(StrEnum):
    """What a station does with a limit below 6 A (station firmware property)."""

    PAUSE = "pause"  # steady +12 V (duty 100 %): the vehicle may not draw
    KEEP_MINIMUM = "keep_minimum"  # keep signalling 6 A (10 %)


def duty_for_limit(limit_a: float, *, below_minimum: BelowMinimumPolicy) -> float:
    """Duty cycle (%) for a station limit in A per phase.

    A limit of 6–80 A maps through :func:`current_to_duty`; above 80 A it is capped at 80 A
    (96 %). Below 6 A (including 0 A) the ``below_minimum`` policy decides: pause (100 %)
    or keep 6 A (10 %).
    """
    if limit_a < 0:
        raise ValueError(f"limit must be ≥ 0 A, got {limit_a!r}")
    if limit_a < MIN_SIGNALLED_CURRENT_A:
        if below_minimum is BelowMinimumPolicy.PAUSE:
            return NO_CHARGING_DUTY_PERCENT
        return current_to_duty(MIN_SIGNALLED_CURRENT_A)
    return current_to_duty(min(limit_a, MAX_SIGNALLED_CURRENT_A))
