"""Vehicle facts: what is known of the vehicle plugged into the DUT, and what a case needs of it.

A vehicle-programme case is about a *vehicle* as much as about the station: a phase switch
means nothing for a one-phase car, and "drawing what the vehicle can" depends on its
maximum current. The run knows the vehicle as :class:`VehicleFacts`:

* in a simulated run, from the simulated vehicle model (archetype parameters plus the fleet
  file's overrides) — every fact is known;
* in a lab run, from the optional ``vehicle:`` section of the capability declaration::

      vehicle:
        name: ACME e-Car 40 (on-board charger v2)
        phases: 1
        max_current_a: 32

  A fact left out is *unknown*. Unlike station capabilities (not declared = not claimed),
  an unknown vehicle fact never excludes a case: the case runs and its checks judge the
  vehicle.

A case states what it needs of the vehicle in ``vehicle_needs`` (:func:`parse_vehicle_need`)::

    vehicle_needs: [{phases: 3}]          # a three-phase vehicle
    vehicle_needs: [bidirectional, {max_discharge_power_w: 3680}]
    vehicle_needs: [not dc]               # an AC case: not for a DC vehicle

* a flag (``bidirectional``, ``iso15118``, ``dc``) — the vehicle must have it;
* ``not <flag>`` — the vehicle must not have it (the AC cases say ``not dc``);
* ``{fact: minimum}`` (``phases``, ``max_current_a``, ``max_discharge_power_w``) — the fact
  must be at least that.

A known fact that does not meet a need makes the case NOT_APPLICABLE with a reason naming
the fact (:meth:`VehicleNeed.unmet`). A parameter may take its default from a fact
(``from_vehicle: max_current_a``, see :class:`~harness.scenario.model.ParameterSpec`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "VEHICLE_FLAGS",
    "VEHICLE_MINIMA",
    "VehicleFact",
    "VehicleFacts",
    "VehicleNeed",
    "VehicleNeedField",
    "parse_vehicle_need",
]


class VehicleFact(StrEnum):
    """The facts a vehicle may be known by (fields of :class:`VehicleFacts` with a value)."""

    PHASES = "phases"
    MAX_CURRENT_A = "max_current_a"
    MIN_CURRENT_A = "min_current_a"
    START_CURRENT_A = "start_current_a"
    BIDIRECTIONAL = "bidirectional"
    ISO15118 = "iso15118"
    DC = "dc"
    MAX_DISCHARGE_POWER_W = "max_discharge_power_w"

    @property
    def is_flag(self) -> bool:
        """Whether the fact is true/false (else a number)."""
        return self in VEHICLE_FLAGS

    @property
    def is_whole(self) -> bool:
        """Whether the fact is a whole number."""
        return self is VehicleFact.PHASES


class VehicleFacts(BaseModel):
    """What is known of one vehicle; ``None`` (or left out) means unknown."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, description="Free text: make, model, variant.")
    phases: int | None = Field(
        default=None, ge=1, le=3, strict=True, description="Phases it draws on (1 or 3)."
    )
    max_current_a: float | None = Field(
        default=None, gt=0, description="Most current it draws per phase (A)."
    )
    min_current_a: float | None = Field(
        default=None, gt=0, description="Below this current per phase it does not draw (A)."
    )
    start_current_a: float | None = Field(
        default=None, gt=0, description="Lowest offered current at which it starts (A)."
    )
    bidirectional: StrictBool | None = Field(
        default=None, description="Whether it can export (vehicle-to-grid)."
    )
    max_discharge_power_w: float | None = Field(
        default=None, ge=0, description="Most power it exports (W)."
    )
    iso15118: StrictBool | None = Field(
        default=None,
        description="Whether it talks ISO 15118 with the station (the limit reaches it "
        "through the schedule agreed over high-level communication).",
    )
    dc: StrictBool | None = Field(
        default=None,
        description="Whether it is a DC vehicle, charged by a DC station (no duty cycle, "
        "no phases: the AC cases of the vehicle programme do not apply).",
    )

    def value(self, fact: VehicleFact) -> bool | int | float | None:
        """The value of ``fact``, or ``None`` when unknown."""
        found: bool | int | float | None = getattr(self, fact.value)
        return found

    def known(self) -> dict[str, bool | int | float]:
        """Every known fact by name (for reports)."""
        return {f.value: v for f in VehicleFact if (v := self.value(f)) is not None}

    def describe(self) -> str:
        """``name (phases 3, max_current_a 16, ...)`` for messages."""
        facts = ", ".join(f"{k} {_text(v)}" for k, v in self.known().items())
        who = self.name or "the vehicle"
        return f"{who} ({facts})" if facts else who


def _text(value: bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}"


VEHICLE_FLAGS: tuple[VehicleFact, ...] = (
    VehicleFact.BIDIRECTIONAL,
    VehicleFact.ISO15118,
    VehicleFact.DC,
)
"""Facts a case may need to be true (or, with ``not``, false)."""
VEHICLE_MINIMA: tuple[VehicleFact, ...] = (
    VehicleFact.PHASES,
    VehicleFact.MAX_CURRENT_A,
    VehicleFact.MAX_DISCHARGE_POWER_W,
)
"""Facts a case may need to be at least a number."""


@dataclass(frozen=True)
class VehicleNeed:
    """One thing a case needs of the vehicle: a flag, or a fact's minimum."""

    fact: VehicleFact
    minimum: float | None = None
    negated: bool = False
    """``not <flag>``: the flag must be false."""

    def __str__(self) -> str:
        if self.negated:
            return f"a vehicle that is not {self.fact.value}"
        if self.minimum is None:
            return f"a {self.fact.value} vehicle"
        return f"a vehicle with {self.fact.value} ≥ {self.minimum:g}"

    def unmet(self, facts: VehicleFacts | None) -> str | None:
        """Why the vehicle ``facts`` describe does not meet this need; ``None`` if it does or
        if the fact is unknown (an unknown fact never excludes a case)."""
        if facts is None:
            return None
        value = facts.value(self.fact)
        if value is None:
            return None
        if self.negated:
            if not value:
                return None
        elif self.minimum is None:
            if value:
                return None
        elif value >= self.minimum:
            return None
        return f"needs {self}; {facts.name or 'the vehicle'} has {self.fact.value}: {_text(value)}"


def _unknown(text: str, known: tuple[VehicleFact, ...]) -> str:
    names = [f.value for f in known]
    close = difflib.get_close_matches(text, names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown vehicle fact '{text}'{hint}"


def parse_vehicle_need(raw: Any) -> VehicleNeed:
    """Parse one entry of ``vehicle_needs:``; raises a pydantic error saying what was expected."""
    flags = ", ".join(f.value for f in VEHICLE_FLAGS)
    minima = ", ".join(f.value for f in VEHICLE_MINIMA)
    if isinstance(raw, str) and raw.startswith("not "):
        name = raw.removeprefix("not ").strip()
        if name in {f.value for f in VEHICLE_FLAGS}:
            return VehicleNeed(VehicleFact(name), negated=True)
        unknown = _unknown(name, VEHICLE_FLAGS)
        raise PydanticCustomError(
            "vehicle_need", f"{unknown} (only a flag can be negated: not {{{flags}}})"
        )
    if isinstance(raw, str):
        if raw in {f.value for f in VEHICLE_FLAGS}:
            return VehicleNeed(VehicleFact(raw))
        if raw in {f.value for f in VEHICLE_MINIMA}:
            raise PydanticCustomError(
                "vehicle_need", f"'{raw}' needs a minimum: write {{{raw}: N}}"
            )
        unknown = _unknown(raw, VEHICLE_FLAGS + VEHICLE_MINIMA)
        raise PydanticCustomError(
            "vehicle_need",
            f"{unknown} (expected a flag ({flags}) or a minimum such as {{phases: 3}} ({minima}))",
        )
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((name, minimum),) = raw.items()
        if str(name) not in {f.value for f in VEHICLE_MINIMA}:
            unknown = _unknown(str(name), VEHICLE_MINIMA)
            raise PydanticCustomError("vehicle_need", f"{unknown} (a minimum is one of: {minima})")
        if isinstance(minimum, bool) or not isinstance(minimum, int | float):
            raise PydanticCustomError(
                "vehicle_need", f"expected a number as the minimum {name}, got {minimum!r}"
            )
        return VehicleNeed(VehicleFact(str(name)), minimum=float(minimum))
    raise PydanticCustomError(
        "vehicle_need",
        f"expected a vehicle flag ({flags}) or a {{fact: minimum}} mapping ({minima}), got {raw!r}",
    )


VehicleNeedField = Annotated[
    VehicleNeed,
    PlainValidator(parse_vehicle_need),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "enum": [f.value for f in VEHICLE_FLAGS]
                    + [f"not {f.value}" for f in VEHICLE_FLAGS],
                },
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {f.value: {"type": "number"} for f in VEHICLE_MINIMA},
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
