"""Capability declarations: what a DUT claims to support, and which cases it can run.

A lab (or a manufacturer) writes one YAML file per DUT::

    name: ACME Wallbox 22 (firmware 3.2)
    ocpp_versions: ["1.6"]
    role: station
    smart_charging: true
    purposes: [station_max, tx_default, tx]
    profile_kinds: [absolute, recurring, relative]
    units: [A]
    max_stack_level: 3
    max_periods: 24
    phase_switching: false
    measurands: [Current.Import, Current.Offered]
    vehicle:                  # optional: the vehicle plugged in for this run (lab)
      name: ACME e-Car 40
      phases: 1
      max_current_a: 32

Everything not declared is *not claimed*: booleans default to ``false``, lists to empty and
numeric limits to "not stated". A case that needs something not claimed is NOT_APPLICABLE
with a reason naming each missing capability — it is never run and never passed.

Cases state their needs with a small vocabulary (:func:`parse_need`)::

    needs: [smart_charging, units.W, purposes.tx, phase_switching, {max_stack_level: 1}]

* a flag name (``smart_charging``) — the flag must be ``true``;
* ``set.member`` (``units.W``, ``v2x_modes.CentralSetpoint``, ``measurands.Current.Offered``)
  — the member must be listed;
* ``{limit: minimum}`` (``{max_periods: 6}``) — the declared number must be at least that;
* ``not <flag or set.member>`` (``not units.W``, ``not smart_charging``) — for cases that
  test how a DUT *without* a feature behaves (OCA's TC_K_42, TC_K_38): the flag must be
  false or the member not listed. Here the declaration is read as complete: what it does
  not claim, the DUT is taken not to support.

What a case needs of the *vehicle* is separate (``vehicle_needs``, judged against
:class:`~harness.scenario.vehicle.VehicleFacts`: the simulated vehicle, or the declaration's
optional ``vehicle:`` section; see :mod:`harness.scenario.vehicle`). Whether a case applies to a
declared DUT is decided by :func:`harness.scenario.applicability.selects`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from harness.scenario.errors import Problem, ScenarioLoadError
from harness.scenario.fields import DutRole, VersionField
from harness.scenario.translate import problems_from_validation
from harness.scenario.vehicle import VehicleFacts
from harness.scenario.yamlsource import read_yaml

__all__ = [
    "FLAGS",
    "MINIMA",
    "SETS",
    "Capabilities",
    "ChargingRateUnit",
    "Environment",
    "Measurand",
    "Need",
    "NeedField",
    "OperationMode",
    "ProfileKind",
    "ProfilePurpose",
    "known_need_names",
    "load_capabilities",
    "parse_need",
]


class ChargingRateUnit(StrEnum):
    """Units a charging schedule may be expressed in."""

    A = "A"
    W = "W"


class ProfilePurpose(StrEnum):
    """Charging-profile purposes, named independently of the OCPP version.

    ``station_max`` is ChargePointMaxProfile (1.6) / ChargingStationMaxProfile (2.x).
    """

    STATION_MAX = "station_max"
    TX_DEFAULT = "tx_default"
    TX = "tx"
    PRIORITY_CHARGING = "priority_charging"
    LOCAL_GENERATION = "local_generation"


class ProfileKind(StrEnum):
    """chargingProfileKind values."""

    ABSOLUTE = "absolute"
    RECURRING = "recurring"
    RELATIVE = "relative"


class OperationMode(StrEnum):
    """OCPP 2.1 charging-schedule operation modes (V2X)."""

    CHARGING_ONLY = "ChargingOnly"
    CENTRAL_SETPOINT = "CentralSetpoint"
    EXTERNAL_SETPOINT = "ExternalSetpoint"
    EXTERNAL_LIMITS = "ExternalLimits"
    CENTRAL_FREQUENCY = "CentralFrequency"
    LOCAL_FREQUENCY = "LocalFrequency"
    LOCAL_LOAD_BALANCING = "LocalLoadBalancing"
    IDLE = "Idle"


class Measurand(StrEnum):
    """Meter-value measurands a station may report (the ones the cases rely on)."""

    CURRENT_IMPORT = "Current.Import"
    CURRENT_EXPORT = "Current.Export"
    CURRENT_OFFERED = "Current.Offered"
    POWER_ACTIVE_IMPORT = "Power.Active.Import"
    POWER_ACTIVE_EXPORT = "Power.Active.Export"
    POWER_OFFERED = "Power.Offered"
    ENERGY_ACTIVE_IMPORT_REGISTER = "Energy.Active.Import.Register"
    VOLTAGE = "Voltage"
    SOC = "SoC"


class Environment(StrEnum):
    """Where a run happens: simulated vehicle, or a real vehicle with an operator."""

    SIMULATION = "simulation"
    LAB = "lab"


class Capabilities(BaseModel):
    """A DUT's capability declaration (see the module docstring for the YAML form)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, description="Free text: make, model, firmware.")
    ocpp_versions: tuple[VersionField, ...] = Field(min_length=1)
    role: DutRole
    smart_charging: StrictBool = False
    purposes: tuple[ProfilePurpose, ...] = ()
    profile_kinds: tuple[ProfileKind, ...] = ()
    units: tuple[ChargingRateUnit, ...] = Field(
        default=(), description="ChargingScheduleAllowedChargingRateUnit"
    )
    max_stack_level: int | None = Field(default=None, ge=0, strict=True)
    max_periods: int | None = Field(default=None, ge=1, strict=True)
    max_profiles: int | None = Field(default=None, ge=1, strict=True)
    number_of_evses: int = Field(default=1, ge=1, strict=True)
    supply_phases: int = Field(default=3, ge=1, le=3, strict=True)
    max_current_a: float | None = Field(default=None, gt=0, strict=True)
    phase_switching: StrictBool = False
    external_constraints: StrictBool = False
    v2x: StrictBool = False
    v2x_modes: tuple[OperationMode, ...] = ()
    der_control: StrictBool = False
    iso15118: StrictBool = False
    dc: StrictBool = False
    measurands: tuple[Measurand, ...] = ()
    vehicle: VehicleFacts | None = Field(
        default=None,
        description="The vehicle plugged in for the run (a lab's declaration); a fact left "
        "out is unknown and never excludes a case.",
    )


def load_capabilities(path: Path | str) -> Capabilities:
    """Read a capability declaration; :class:`ScenarioLoadError` (file:line: field) if bad."""
    located, problems = read_yaml(Path(path))
    if located is None:
        raise ScenarioLoadError(problems)
    if not isinstance(located.data, Mapping):
        what = f"expected a mapping of capabilities, got {located.data!r}"
        raise ScenarioLoadError([*problems, Problem(located.where(()), (), what)])
    try:
        capabilities = Capabilities.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(exc, located, Capabilities))
    if problems:
        raise ScenarioLoadError(problems)
    return capabilities


# The vocabulary of needs, one entry per Capabilities field (a test keeps them in step).
FLAGS: tuple[str, ...] = (
    "smart_charging",
    "phase_switching",
    "external_constraints",
    "v2x",
    "der_control",
    "iso15118",
    "dc",
)
SETS: Mapping[str, type[StrEnum]] = {
    "purposes": ProfilePurpose,
    "profile_kinds": ProfileKind,
    "units": ChargingRateUnit,
    "v2x_modes": OperationMode,
    "measurands": Measurand,
}
MINIMA: tuple[str, ...] = (
    "max_stack_level",
    "max_periods",
    "max_profiles",
    "number_of_evses",
    "supply_phases",
    "max_current_a",
)


@dataclass(frozen=True)
class Need:
    """One capability a case needs: a flag, a set member, or a numeric minimum."""

    name: str
    member: str | None = None
    minimum: float | None = None
    negated: bool = False
    """``not ...``: the flag must be false, the member not listed."""

    def __str__(self) -> str:
        if self.negated:
            return f"not {replace(self, negated=False)}"
        if self.member is not None:
            return f"{self.name}.{self.member}"
        if self.minimum is not None:
            return f"{self.name} ≥ {self.minimum:g}"
        return self.name

    def unmet(self, capabilities: Capabilities) -> str | None:
        """Why ``capabilities`` does not satisfy this need, or ``None`` if it does."""
        declared = getattr(capabilities, self.name)
        if self.negated:
            if replace(self, negated=False).unmet(capabilities) is not None:
                return None
            return f"needs {self} (a DUT without it); the declaration claims it"
        if self.member is not None:
            if self.member in declared:
                return None
            listed = ", ".join(declared) if declared else "nothing"
            return f"needs {self}; the declaration lists {self.name}: [{listed}]"
        if self.minimum is not None:
            if declared is None:
                return f"needs {self}; the declaration does not state {self.name}"
            if declared >= self.minimum:
                return None
            return f"needs {self}; declared {self.name}: {declared:g}"
        if declared:
            return None
        return f"needs {self.name}; the declaration says {self.name}: false (or omits it)"


def known_need_names() -> list[str]:
    """Every need a case may write as text (flags and ``set.member``), for errors and schema."""
    names = list(FLAGS)
    for set_name, members in SETS.items():
        names.extend(f"{set_name}.{member.value}" for member in members)
    return names + [f"not {name}" for name in names]


def _unknown(text: str, known: Iterable[str] | None = None) -> PydanticCustomError:
    candidates = list(known) if known is not None else known_need_names() + list(MINIMA)
    close = difflib.get_close_matches(text, candidates, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    if known is not None:
        expected = ", ".join(candidates)
    else:
        expected = (
            f"a flag ({', '.join(FLAGS)}), a member of {', '.join(SETS)} (e.g. units.W), "
            f"or a minimum such as {{max_stack_level: 1}} ({', '.join(MINIMA)})"
        )
    return PydanticCustomError(
        "capability", f"unknown capability '{text}' (expected {expected}){hint}"
    )


def parse_need(raw: Any) -> Need:
    """Parse one entry of ``needs:``; raises a pydantic error saying what was expected."""
    if isinstance(raw, str):
        if raw.startswith("not "):
            return replace(parse_need(raw.removeprefix("not ").strip()), negated=True)
        if raw in FLAGS:
            return Need(raw)
        set_name, dot, member = raw.partition(".")
        if dot and set_name in SETS:
            members = [m.value for m in SETS[set_name]]
            if member in members:
                return Need(set_name, member=member)
            raise _unknown(raw, [f"{set_name}.{m}" for m in members])
        if raw in MINIMA:
            raise PydanticCustomError("capability", f"'{raw}' needs a minimum: write {{{raw}: N}}")
        raise _unknown(raw)
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((name, minimum),) = raw.items()
        if name not in MINIMA:
            raise _unknown(str(name), MINIMA)
        if isinstance(minimum, bool) or not isinstance(minimum, int | float):
            raise PydanticCustomError(
                "capability", f"expected a number as the minimum {name}, got {minimum!r}"
            )
        return Need(str(name), minimum=float(minimum))
    raise PydanticCustomError(
        "capability",
        f"expected a capability name or a {{name: minimum}} mapping, got {raw!r}",
    )


NeedField = Annotated[
    Need,
    PlainValidator(parse_need),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": known_need_names()},
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {name: {"type": "number"} for name in MINIMA},
                    "additionalProperties": False,
                },
            ]
        }
    ),
]
