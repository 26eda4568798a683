"""What passes between a station and a vehicle: the station's pilot offer, the vehicle's reading.

Both are frozen values so that the pilot link (in-process or MQTT) can carry them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from simulators.iec61851 import DutyBand, PilotState, duty_band, duty_to_current_a

__all__ = ["DischargeDecision", "IdleReason", "PilotLine", "PilotOffer", "VehicleReading"]


class PilotLine(StrEnum):
    """What the station drives onto the pilot line."""

    NORMAL = "normal"  # +12 V, with PWM at ``duty_percent`` (100 % = steady, no charging)
    E = "E"  # 0 V: pilot off / shorted
    F = "F"  # −12 V: station not available


@dataclass(frozen=True, slots=True, kw_only=True)
class PilotOffer:
    """The station's side of the pilot, as the vehicle sees it.

    ``duty_percent``: PWM duty cycle, 0–100 (100 = steady +12 V: connected, no charging
    allowed). ``line``: normal, or an interruption (state E or F) — an interruption of at
    least the vehicle's ``wake_interrupt_s`` wakes a sleeping vehicle. ``energized_phases``:
    how many phases the station's contactor currently powers (0 = open, 1 or 3); the vehicle
    draws on min(its phases, energized phases). ``hlc_current_a``: the current per phase
    agreed over ISO 15118 when the duty cycle is in the 3–7 % digital band (``None``: none).
    """

    duty_percent: float = 100.0
    line: PilotLine = PilotLine.NORMAL
    energized_phases: int = 3
    hlc_current_a: float | None = None

    def __post_init__(self) -> None:
        duty_band(self.duty_percent)  # raises ValueError outside 0–100 %
        if self.energized_phases not in (0, 1, 3):
            raise ValueError(f"energized_phases must be 0, 1 or 3, got {self.energized_phases!r}")
        if self.hlc_current_a is not None and self.hlc_current_a < 0:
            raise ValueError(f"hlc_current_a must be ≥ 0 A, got {self.hlc_current_a!r}")

    @property
    def oscillating(self) -> bool:
        """True when the station offers power transfer at all (PWM in a current or digital band)."""
        if self.line is not PilotLine.NORMAL:
            return False
        return duty_band(self.duty_percent) in (DutyBand.CURRENT, DutyBand.DIGITAL)

    @property
    def allowed_current_a(self) -> float | None:
        """Current per phase the vehicle may draw; ``None`` when it may not draw at all."""
        if self.line is not PilotLine.NORMAL:
            return None
        if duty_band(self.duty_percent) is DutyBand.DIGITAL:
            return self.hlc_current_a or None
        return duty_to_current_a(self.duty_percent)

    @property
    def physical_phases(self) -> int:
        """Phases that carry voltage now (an E/F line means the contactor is open)."""
        return self.energized_phases if self.line is PilotLine.NORMAL else 0


class IdleReason(StrEnum):
    """Why a plugged-in vehicle is not drawing (or is stopping)."""

    UNPLUGGED = "unplugged"
    PILOT_INTERRUPTED = "pilot_interrupted"  # station holds E or F
    PAUSED = "paused"  # the pilot allows no current (duty 100 %, 7–8 %, < 3 %, no HLC limit)
    NOT_ENERGIZED = "not_energized"  # the vehicle asks (state C) but the contactor is open
    STARTING = "starting"  # target set, current still at 0 (ramp starts)
    BELOW_MINIMUM = "below_minimum"  # offered less than the vehicle's minimum current
    BELOW_START_CURRENT = "below_start_current"  # will not start from idle at this current
    ASLEEP = "asleep"  # fell asleep in a pause; needs a pilot interruption or a replug
    START_DEADLINE_MISSED = "start_deadline_missed"  # first current came too late; replug
    GAVE_UP = "gave_up"  # stopped following after too many limit changes
    FULL = "full"  # battery full
    MIN_SOC = "min_soc"  # discharging stopped at the vehicle's minimum state of charge


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleReading:
    """Compact observable state of a vehicle at ``time_s``; the station meters from it.

    Currents are per phase (L1, L2, L3) in A, signed: positive imports, negative exports.
    ``power_w`` is signed the same way. Energy counters are grid-side and only grow.
    ``pilot_state`` is what the station sees on the line (E/F while it holds them).
    ``idle_reason`` says why the vehicle is not drawing, or is stopping; ``None`` while it
    draws as it intends. ``allowed_current_a`` is the limit the vehicle currently believes
    (after its response delay), ``None`` when it believes it may not draw.
    """

    time_s: float
    pilot_state: PilotState
    current_a: tuple[float, float, float]
    power_w: float
    energy_imported_wh: float
    energy_exported_wh: float
    soc_percent: float
    awake: bool
    idle_reason: IdleReason | None
    phases_drawn: int
    allowed_current_a: float | None

    @property
    def max_phase_current_a(self) -> float:
        """The largest import current on any phase (0 when exporting or idle)."""
        return max(0.0, *self.current_a)

    @property
    def drawing(self) -> bool:
        """True when the vehicle imports on at least one phase."""
        return self.power_w > 0


@dataclass(frozen=True, slots=True)
class DischargeDecision:
    """Answer to a discharge setpoint: accepted or not, and why (for the report)."""

    accepted: bool
    reason: str
