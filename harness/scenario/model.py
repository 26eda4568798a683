"""The scenario model: a :class:`Case` with requirements, needs, parameters and steps.

Models are frozen pydantic models (this is the input edge). Payload dicts inside them are
plain dicts: treat them as read-only. Build cases with :func:`harness.scenario.load_cases`,
which also runs :func:`harness.scenario.checks.check_case` (cross-field rules) and reports
every problem with its file and line; code that builds a :class:`Case` by hand should call
``check_case`` too.
"""

from __future__ import annotations

import contextlib
import math
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.scenario.capabilities import NeedField
from harness.scenario.fields import DutRole, Name, VersionField
from harness.scenario.steps import Level, Step
from harness.scenario.values import parse_duration_s
from harness.scenario.vehicle import VehicleFact, VehicleNeedField

__all__ = [
    "ID_PATTERN",
    "NUMERIC_TYPES",
    "RESERVED_NAMES",
    "Case",
    "ParamType",
    "ParamValue",
    "ParameterSpec",
    "Requirement",
]

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"
RESERVED_NAMES = frozenset({"now", "limit"})
"""Names that cannot be parameters or variables (``${now}``; ``limit`` in targets)."""
ParamValue = bool | int | float | str


class ParamType(StrEnum):
    """Types of case parameters. ``duration`` values are seconds (``20min`` is accepted)."""

    NUMBER = "number"
    INTEGER = "integer"
    STRING = "string"
    BOOLEAN = "boolean"
    DURATION = "duration"


NUMERIC_TYPES = frozenset({ParamType.NUMBER, ParamType.INTEGER, ParamType.DURATION})
"""Parameter types a number field may refer to."""


class ParameterSpec(BaseModel):
    """A case parameter: its type, default, unit, and optional bounds (numeric types).

    ``from_vehicle`` names a vehicle fact (:class:`~harness.scenario.vehicle.VehicleFact`)
    that replaces the default when the run knows it (the simulated vehicle; a lab's
    ``vehicle:`` declaration); a value given for the parameter (lab file, ``--param``) still
    wins.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ParamType
    default: Any = Field(description="A value of the parameter's type.")
    unit: str | None = Field(default=None, description="For people: A, W, s, %...")
    description: str | None = None
    min: float | None = None
    max: float | None = None
    from_vehicle: VehicleFact | None = Field(
        default=None,
        description="A vehicle fact that replaces the default when the run knows it.",
    )

    def coerce(self, value: object, *, from_text: bool = False) -> ParamValue:
        """``value`` converted to this parameter's type and checked against its bounds.

        ``from_text=True`` parses a command-line text (``16``, ``true``, ``20min``).
        Raises :class:`ValueError` saying what was expected.
        """
        result = _coerce(self.type, value, from_text=from_text)
        if isinstance(result, int | float) and not isinstance(result, bool):
            if self.min is not None and result < self.min:
                raise ValueError(f"expected at least {self.min:g}, got {value!r}")
            if self.max is not None and result > self.max:
                raise ValueError(f"expected at most {self.max:g}, got {value!r}")
        return result

    @property
    def default_value(self) -> ParamValue:
        """The default, converted (a ``duration`` default ``20min`` gives ``1200.0``)."""
        return self.coerce(self.default)


def _coerce(kind: ParamType, value: object, *, from_text: bool) -> ParamValue:
    if kind is ParamType.STRING:
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a text, got {value!r}")
    if kind is ParamType.DURATION:
        return parse_duration_s(value)
    if kind is ParamType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if from_text and isinstance(value, str) and value.lower() in _BOOL_TEXT:
            return _BOOL_TEXT[value.lower()]
        raise ValueError(f"expected true or false, got {value!r}")
    if from_text and isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value) if kind is ParamType.INTEGER else float(value)
    if kind is ParamType.INTEGER:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    raise ValueError(f"expected a number, got {value!r}")


_BOOL_TEXT = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class Requirement(BaseModel):
    """A requirement the case covers: ``K01.FR.31``, its level, and a few words of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    level: Level = Level.MUST
    text: str = Field(default="", description="A few words of the requirement.")


OUR_SOURCE = "ours"
"""The ``source`` of a case that is this project's own, not an official one."""
OCA_ID = re.compile(r"TC_\d|TC_[A-Z]_\d")


class Case(BaseModel):
    """One test case: what it checks (requirements), what it needs, and its steps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ID_PATTERN, description="Stable id, e.g. TC_066_CS or VP-04.")
    title: str = Field(min_length=1)
    description: str = ""
    suite: str = Field(min_length=1, description="e.g. ocpp16-smart-charging, vehicle-programme")
    source: str = Field(
        default=OUR_SOURCE,
        min_length=1,
        description="Where the case comes from: the official document and table it reproduces "
        "(e.g. 'OCA OCPP 1.6 TestCaseDocument FINAL 2024-04, table 82'), or 'ours' for a case "
        "of this project. A case with an OCA id (TC_...) must cite its document.",
    )
    category: str | None = None
    ocpp_versions: tuple[VersionField, ...] = Field(min_length=1)
    dut_role: DutRole
    requirements: tuple[Requirement, ...] = ()
    needs: tuple[NeedField, ...] = ()
    vehicle_needs: tuple[VehicleNeedField, ...] = Field(
        default=(),
        description="What the case needs of the vehicle: a flag (bidirectional) or a "
        "{fact: minimum} (phases, max_current_a, max_discharge_power_w). A known fact that "
        "falls short makes the case NOT_APPLICABLE; an unknown one does not.",
    )
    parameters: dict[Name, ParameterSpec] = Field(default_factory=dict)
    steps: tuple[Step, ...] = Field(min_length=1)

    def requirement(self, requirement_id: str) -> Requirement | None:
        """The requirement with this id, or ``None``."""
        return next((r for r in self.requirements if r.id == requirement_id), None)

    def step_level(self, step: Step) -> Level:
        """The level a step is judged at: its own, else its requirement's, else MUST."""
        if step.level is not None:
            return step.level
        requirement = self.requirement(step.requirement) if step.requirement else None
        return requirement.level if requirement is not None else Level.MUST

    def default_parameters(self) -> dict[str, ParamValue]:
        """Every parameter at its default value."""
        return {name: spec.default_value for name, spec in self.parameters.items()}
