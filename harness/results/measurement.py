"""Measurement series recorded by a case, for plots and as evidence.

A case that watches the current (the vehicle programme, smart-charging cases) records what
the harness *set* (the limit), what the station *offered* and what was *measured*, per phase,
as time-stamped samples. A check cites a series by its :attr:`Series.name`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from harness.results._json import Obj, ResultFormatError, as_number, as_time, dump_time, require_utc

__all__ = ["MeasurementSource", "Phase", "Quantity", "Sample", "Series", "Unit"]


class MeasurementSource(StrEnum):
    """Where a case's measured values came from (the report says which)."""

    METER_VALUES = "meter_values"
    """The station's own meter, from MeterValues (``Current.Import`` per phase...)."""
    LAB_METER = "lab_meter"
    """A lab meter read over MQTT."""
    NONE = "none"
    """Nothing was measured (a protocol-only case)."""


class Quantity(StrEnum):
    """What a series holds."""

    LIMIT = "limit"
    """The limit the harness set (A or W); a ``None`` value means "no limit"."""
    SETPOINT = "setpoint"
    """The 2.1 setpoint in force (CentralSetpoint), W over all phases; negative means
    discharging, ``None`` no setpoint."""
    CURRENT_OFFERED = "current_offered"
    """The current the station offered to the vehicle (``Current.Offered``), A."""
    CURRENT_IMPORT = "current_import"
    """Measured current drawn from the grid, A, per phase."""
    CURRENT_EXPORT = "current_export"
    """Measured current fed back to the grid (vehicle-to-grid), A, per phase (≥ 0)."""
    POWER_IMPORT = "power_import"
    """Measured active power drawn from the grid, W."""
    POWER_EXPORT = "power_export"
    """Measured active power fed back to the grid (vehicle-to-grid), W."""


class Unit(StrEnum):
    """Units of series values."""

    A = "A"
    W = "W"


class Phase(StrEnum):
    """A phase of the supply."""

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


_STEPPED = frozenset({Quantity.LIMIT, Quantity.SETPOINT})
"""What the harness set (held until the next sample); ``None`` there means "none"."""

_UNITS = {
    Quantity.LIMIT: (Unit.A, Unit.W),
    Quantity.SETPOINT: (Unit.W,),
    Quantity.CURRENT_OFFERED: (Unit.A,),
    Quantity.CURRENT_IMPORT: (Unit.A,),
    Quantity.CURRENT_EXPORT: (Unit.A,),
    Quantity.POWER_IMPORT: (Unit.W,),
    Quantity.POWER_EXPORT: (Unit.W,),
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One value at one time (aware UTC). ``value`` is ``None`` only in a limit or setpoint
    series, where it means "no limit" / "no setpoint"."""

    t: datetime
    value: float | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", require_utc(self.t, "sample time"))
        if self.value is not None:
            value = float(self.value)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(f"sample value must be finite, got {self.value!r}")
            object.__setattr__(self, "value", value)


@dataclass(frozen=True, slots=True)
class Series:
    """Samples of one quantity (on one phase, or on none for totals and limits).

    Samples are in time order (equal times allowed). At most one series per
    (quantity, phase) in a case, so :attr:`name` identifies it.
    """

    quantity: Quantity
    unit: Unit
    samples: tuple[Sample, ...]
    phase: Phase | None = None

    def __post_init__(self) -> None:
        if self.unit not in _UNITS[self.quantity]:
            allowed = " or ".join(_UNITS[self.quantity])
            raise ValueError(f"series {self.name}: unit must be {allowed}, got {self.unit!r}")
        samples = tuple(self.samples)
        for i in range(1, len(samples)):
            if samples[i].t < samples[i - 1].t:
                raise ValueError(
                    f"series {self.name}: sample {i} at {dump_time(samples[i].t)} is earlier "
                    f"than sample {i - 1} at {dump_time(samples[i - 1].t)}"
                )
        if self.quantity not in _STEPPED and any(s.value is None for s in samples):
            raise ValueError(
                f"series {self.name}: only a limit or setpoint series may hold None values"
            )
        object.__setattr__(self, "samples", samples)

    @property
    def name(self) -> str:
        """``quantity`` or ``quantity.phase``, e.g. ``"current_import.L2"``."""
        return f"{self.quantity.value}.{self.phase.value}" if self.phase else self.quantity.value

    @classmethod
    def of(
        cls,
        quantity: Quantity,
        *,
        unit: Unit,
        points: Iterable[tuple[datetime, float | None]],
        phase: Phase | None = None,
    ) -> Series:
        """Build a series from ``(time, value)`` pairs."""
        return cls(quantity, unit, tuple(Sample(t, v) for t, v in points), phase)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; samples are ``[time, value]`` pairs to keep files small."""
        return {
            "quantity": self.quantity.value,
            "unit": self.unit.value,
            "phase": self.phase.value if self.phase else None,
            "samples": [[dump_time(s.t), s.value] for s in self.samples],
        }

    @classmethod
    def from_obj(cls, obj: Obj) -> Series:
        """Decode :meth:`to_dict`'s form (raises :class:`ResultFormatError`)."""
        samples = []
        for item, path in obj.items("samples"):
            if not isinstance(item, list) or len(item) != 2:
                raise ResultFormatError(f"{path}: expected a [time, value] pair, got {item!r}")
            value = None if item[1] is None else as_number(item[1], f"{path}[1]")
            samples.append(Sample(as_time(item[0], f"{path}[0]"), value))
        phase = obj.enum("phase", Phase) if obj.has("phase") else None
        quantity, unit = obj.enum("quantity", Quantity), obj.enum("unit", Unit)
        try:
            return cls(quantity, unit, tuple(samples), phase)
        except ValueError as exc:
            raise ResultFormatError(f"{obj.path}: {exc}") from None
