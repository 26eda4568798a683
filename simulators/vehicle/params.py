"""Parameters of a simulated vehicle, with the rules that make a set of them valid.

:data:`PARAM_SPECS` is the single table of fields: type, default, and what a valid value is.
:class:`VehicleParams` checks itself against it on construction, and the catalogue loader
uses the same table to report ``file, archetype, field: expected …, got …`` for bad YAML.

Figures used as defaults (IEC 61851-1, as quoted in public instrument manuals and open
implementations):

* 6 A per phase is the lowest current a duty cycle can signal.
* A vehicle is expected to follow a duty-cycle change within about 5 s (table A.6, medium
  confidence); the default response delay (2 s) and ramps stay well within it.
* ISO 15118-3 wakes a vehicle with a fault-state step of about 4 s (``T_step_EF``): the
  default ``wake_interrupt_s``.
* P = U × I × phases, with U = 230 V unless configured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = ["PARAM_SPECS", "ParamError", "ParamSpec", "VehicleKind", "VehicleParams"]


class VehicleKind(StrEnum):
    """Battery-electric or plug-in hybrid (hybrids are typically one phase, 16 A, small battery)."""

    BEV = "bev"
    PHEV = "phev"


class ParamError(ValueError):
    """One parameter is invalid: names the field, what was expected and what was given."""

    def __init__(self, field: str, expected: str, got: object) -> None:
        super().__init__(f"{field}: expected {expected}, got {got!r}")
        self.field = field
        self.expected = expected
        self.got = got


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """How one parameter is typed and checked (``check`` sees the value, already typed)."""

    kind: str  # "float", "int", "bool", "kind", optionally prefixed "optional "
    expected: str
    check: Callable[[Any], bool]


def _between(low: float, high: float) -> Callable[[Any], bool]:
    return lambda value: low <= value <= high


def _positive(value: Any) -> bool:
    return bool(value > 0)


def _non_negative(value: Any) -> bool:
    return bool(value >= 0)


def _anything(value: Any) -> bool:
    return True


_SOC = "a state of charge within 0–100 %"

PARAM_SPECS: Mapping[str, ParamSpec] = MappingProxyType(
    {
        "kind": ParamSpec("kind", "one of: bev, phev", _anything),
        "phases": ParamSpec("int", "1 or 3", lambda v: v in (1, 3)),
        "max_current_a": ParamSpec("float", "a current per phase within 6–80 A", _between(6, 80)),
        "min_current_a": ParamSpec("float", "a current > 0 A", _positive),
        "min_start_current_a": ParamSpec("optional float", "null or a current > 0 A", _positive),
        "response_delay_s": ParamSpec("float", "a delay ≥ 0 s", _non_negative),
        "ramp_up_a_per_s": ParamSpec("float", "a rate > 0 A/s", _positive),
        "ramp_down_a_per_s": ParamSpec("float", "a rate > 0 A/s", _positive),
        "battery_capacity_wh": ParamSpec("float", "an energy > 0 Wh", _positive),
        "initial_soc_percent": ParamSpec(
            "float", "a state of charge within 0–100 %", _between(0, 100)
        ),
        "taper_start_soc_percent": ParamSpec(
            "float", "a state of charge within 0–100 %", _between(0, 100)
        ),
        "taper_end_fraction": ParamSpec("float", "a fraction within 0–1", _between(0, 1)),
        "charging_efficiency": ParamSpec("float", "a fraction within 0.5–1", _between(0.5, 1)),
        "voltage_v": ParamSpec("float", "a voltage > 0 V", _positive),
        "requires_ventilation": ParamSpec("bool", "true or false", _anything),
        "bidirectional": ParamSpec("bool", "true or false", _anything),
        "iso15118": ParamSpec("bool", "true or false", _anything),
        "dc": ParamSpec("bool", "true or false", _anything),
        "max_discharge_power_w": ParamSpec("float", "a power ≥ 0 W", _non_negative),
        "min_soc_percent": ParamSpec("float", _SOC, _between(0, 100)),
        "sleep_after_pause_s": ParamSpec("optional float", "null or a duration > 0 s", _positive),
        "wake_interrupt_s": ParamSpec("float", "a duration > 0 s", _positive),
        "wakes_on_interrupt": ParamSpec("bool", "true or false", _anything),
        "wakes_on_pilot_toggle": ParamSpec("bool", "true or false", _anything),
        "start_deadline_s": ParamSpec("optional float", "null or a duration > 0 s", _positive),
        "stays_on_one_phase": ParamSpec("bool", "true or false", _anything),
        "gives_up_after_changes": ParamSpec(
            "optional int", "null or a count ≥ 1", lambda v: v >= 1
        ),
        "resume_failure_probability": ParamSpec(
            "float", "a probability within 0–1", _between(0, 1)
        ),
    }
)
"""Every vehicle parameter: its type and the rule for a valid value."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VehicleParams:
    """Everything that makes one vehicle model behave as it does. Defaults: a well-behaved BEV.

    Electrical: ``phases`` it can draw on; ``max_current_a`` per phase; below
    ``min_current_a`` it will not draw; it will not *start* (from idle) below
    ``min_start_current_a`` (``None``: same as ``min_current_a``). ``response_delay_s`` after
    a pilot change it starts to move towards the new target, at ``ramp_up_a_per_s`` /
    ``ramp_down_a_per_s``. ``voltage_v`` per phase for P = U × I × phases.

    Battery: ``battery_capacity_wh``, ``initial_soc_percent``; the taper limits the current
    linearly from ``max_current_a`` at ``taper_start_soc_percent`` down to
    ``taper_end_fraction × max_current_a`` at 100 % (never below ``min_current_a``); a full
    battery stops drawing. ``charging_efficiency``: share of grid energy that reaches the
    battery (and the inverse when exporting).

    ``iso15118``: the vehicle talks ISO 15118-2 with the station, so its current comes from
    the schedule agreed over high-level communication (the station signals the 5 % digital
    band), not from the duty cycle.

    ``dc``: a DC vehicle (a CCS / CHAdeMO inlet, charged by a DC station): in a simulated
    run it is plugged into a DC station (``StationConfig.dc``), and the AC cases of the
    vehicle programme do not apply to it. ``phases`` 1 and ``voltage_v`` (the battery's DC
    voltage) then give its power, P = U × I.

    Bidirectional: ``bidirectional`` vehicles accept a discharge setpoint up to
    ``max_discharge_power_w`` while SoC is above ``min_soc_percent``.

    Field behaviours (``None``/``False``/0 = off):
    ``sleep_after_pause_s`` — after a pause of at least this long (once it has charged in
    this session; a vehicle never started is the ``start_deadline_s`` case) it sleeps and only
    a pilot interruption of ≥ ``wake_interrupt_s`` (state E/F; only if ``wakes_on_interrupt``),
    a pilot toggle (only if ``wakes_on_pilot_toggle``: the PWM stops for at most
    :data:`~simulators.vehicle.model.TOGGLE_MAX_S` and returns, so the vehicle goes C → B → C)
    or a replug wakes it;
    ``start_deadline_s`` — if no usable current arrived within this time of plug-in it never
    starts (until replugged); ``stays_on_one_phase`` — after the station drops to one phase it
    stays on one phase until a pilot interruption or a replug; ``gives_up_after_changes`` —
    after this many limit changes in a session it stops drawing until an interruption or
    replug; ``resume_failure_probability`` — chance (drawn from the vehicle's seeded
    ``random.Random``) that it falls asleep instead of resuming after any pause.
    """

    kind: VehicleKind = VehicleKind.BEV
    phases: int = 3
    max_current_a: float = 16.0
    min_current_a: float = 6.0
    min_start_current_a: float | None = None
    response_delay_s: float = 2.0
    ramp_up_a_per_s: float = 5.0
    ramp_down_a_per_s: float = 10.0
    battery_capacity_wh: float = 60_000.0
    initial_soc_percent: float = 30.0
    taper_start_soc_percent: float = 80.0
    taper_end_fraction: float = 0.25
    charging_efficiency: float = 0.9
    voltage_v: float = 230.0
    requires_ventilation: bool = False
    bidirectional: bool = False
    iso15118: bool = False
    dc: bool = False
    max_discharge_power_w: float = 0.0
    min_soc_percent: float = 20.0
    sleep_after_pause_s: float | None = None
    wake_interrupt_s: float = 4.0
    wakes_on_interrupt: bool = True
    wakes_on_pilot_toggle: bool = False
    start_deadline_s: float | None = None
    stays_on_one_phase: bool = False
    gives_up_after_changes: int | None = None
    resume_failure_probability: float = 0.0

    def __post_init__(self) -> None:
        for name, spec in PARAM_SPECS.items():
            value = getattr(self, name)
            if value is not None and not spec.check(value):
                raise ParamError(name, spec.expected, value)
        if self.min_current_a > self.max_current_a:
            raise ParamError(
                "min_current_a",
                f"at most max_current_a ({self.max_current_a} A)",
                self.min_current_a,
            )
        start = self.min_start_current_a
        if start is not None and not self.min_current_a <= start <= self.max_current_a:
            raise ParamError(
                "min_start_current_a",
                f"null or within min_current_a–max_current_a ({self.min_current_a}–"
                f"{self.max_current_a} A)",
                start,
            )
        if self.bidirectional and self.max_discharge_power_w <= 0:
            raise ParamError(
                "max_discharge_power_w",
                "> 0 W for a bidirectional vehicle",
                self.max_discharge_power_w,
            )

    @property
    def start_current_a(self) -> float:
        """The lowest offered current at which the vehicle starts drawing from idle."""
        return self.min_current_a if self.min_start_current_a is None else self.min_start_current_a

    def taper_limit_a(self, soc_percent: float) -> float:
        """Current per phase the battery accepts at ``soc_percent`` (linear taper, see class)."""
        if soc_percent <= self.taper_start_soc_percent or self.taper_start_soc_percent >= 100:
            return self.max_current_a
        span = 100.0 - self.taper_start_soc_percent
        progress = min(1.0, (soc_percent - self.taper_start_soc_percent) / span)
        limit = self.max_current_a * (1.0 - (1.0 - self.taper_end_fraction) * progress)
        return max(self.min_current_a, limit)

    def with_overrides(self, overrides: Mapping[str, Any]) -> VehicleParams:
        """A copy with some fields replaced (values already typed); raises :class:`ParamError`."""
        unknown = sorted(set(overrides) - set(PARAM_SPECS))
        if unknown:
            raise ParamError(unknown[0], "a known vehicle parameter", unknown[0])
        return dataclasses.replace(self, **overrides)
