"""The scenario model: a :class:`Case` with requirements, needs, parameters and steps.

Models are frozen pydantic models (this is the input edge). Payload dicts inside them are
plain dicts: treat them as read-only. Build cases with :func:`harness.scenario.load_cases`,
which also runs :func:`check_case` (cross-field rules) and reports every problem with its
file and line; code that builds a :class:`Case` by hand should call :func:`check_case`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.scenario.capabilities import NeedField
from harness.scenario.errors import FieldPath
from harness.scenario.fields import DutRole, Name, OcppVersion, VersionField
from harness.scenario.matchers import (
    AllOf,
    AnyOf,
    Approx,
    Contains,
    Equals,
    Items,
    Matcher,
    OneOf,
    Subset,
)
from harness.scenario.steps import (
    ExpectRequestStep,
    ExpectSettledStep,
    Level,
    SendStep,
    Step,
    VehicleAction,
    VehicleStep,
)
from harness.scenario.values import (
    NowRef,
    ParamRef,
    SubstitutionError,
    parse_duration_s,
    references_in,
)

__all__ = [
    "ID_PATTERN",
    "RESERVED_NAMES",
    "Case",
    "ParamType",
    "ParamValue",
    "ParameterSpec",
    "Requirement",
    "check_case",
    "known_actions",
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


_NUMERIC = {ParamType.NUMBER, ParamType.INTEGER, ParamType.DURATION}


class ParameterSpec(BaseModel):
    """A case parameter: its type, default, unit, and optional bounds (numeric types)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ParamType
    default: Any = Field(description="A value of the parameter's type.")
    unit: str | None = Field(default=None, description="For people: A, W, s, %...")
    description: str | None = None
    min: float | None = None
    max: float | None = None

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


class Case(BaseModel):
    """One test case: what it checks (requirements), what it needs, and its steps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ID_PATTERN, description="Stable id, e.g. TC_066_CS or VP-04.")
    title: str = Field(min_length=1)
    description: str = ""
    suite: str = Field(min_length=1, description="e.g. ocpp16-smart-charging, vehicle-programme")
    category: str | None = None
    ocpp_versions: tuple[VersionField, ...] = Field(min_length=1)
    dut_role: DutRole
    requirements: tuple[Requirement, ...] = ()
    needs: tuple[NeedField, ...] = ()
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


@cache
def known_actions(version: OcppVersion) -> frozenset[str]:
    """OCPP action names of ``version``, from the JSON schemas that the ``ocpp`` package ships."""
    package = {
        OcppVersion.V16: "ocpp.v16",
        OcppVersion.V201: "ocpp.v201",
        OcppVersion.V21: "ocpp.v21",
    }
    names = set()
    for entry in (resources.files(package[version]) / "schemas").iterdir():
        stem = entry.name.removesuffix(".json")
        if stem == entry.name or stem.endswith("Response"):
            continue
        names.add(stem.removesuffix("Request") if version is not OcppVersion.V16 else stem)
    return frozenset(names)


def _matcher_refs(matcher: Matcher, path: FieldPath) -> Iterator[tuple[FieldPath, ParamRef]]:
    if isinstance(matcher, Equals | Approx) and isinstance(matcher.value, ParamRef):
        yield path, matcher.value
    elif isinstance(matcher, Equals):
        for sub, ref in references_in(matcher.value):
            if isinstance(ref, ParamRef):
                yield (*path, *sub), ref
    elif isinstance(matcher, OneOf):
        for index, option in enumerate(matcher.options):
            for sub, ref in references_in(option):
                if isinstance(ref, ParamRef):
                    yield (*path, "one_of", index, *sub), ref
    elif isinstance(matcher, Subset):
        for key, sub_matcher in matcher.fields:
            yield from _matcher_refs(sub_matcher, (*path, key))
    elif isinstance(matcher, Items | Contains):
        for index, sub_matcher in enumerate(matcher.items):
            yield from _matcher_refs(sub_matcher, (*path, index))
    elif isinstance(matcher, AllOf | AnyOf):
        for index, sub_matcher in enumerate(matcher.matchers):
            yield from _matcher_refs(sub_matcher, (*path, index))


_NUMBER_FIELDS = (
    "timeout_s", "within_s", "duration_s", "hold_s", "tolerance", "rel_tolerance", "scale",
    "soc_percent",
)  # fmt: skip
_INTEGER_FIELDS = ("evse", "profile_id")


def _step_refs(step: Step) -> Iterator[tuple[FieldPath, ParamRef | NowRef, set[ParamType] | None]]:
    """(path inside the step, reference, parameter types allowed or None) per reference."""
    for names, allowed in ((_NUMBER_FIELDS, _NUMERIC), (_INTEGER_FIELDS, {ParamType.INTEGER})):
        for name in names:
            value = getattr(step, name, None)
            if isinstance(value, ParamRef):
                yield (name,), value, allowed
    if isinstance(step, ExpectSettledStep):
        for term in step.target.terms:
            if isinstance(term, ParamRef):
                yield ("target",), term, _NUMERIC
    for name in ("payload", "respond_with", "profile"):
        value = getattr(step, name, None)
        if value is not None:
            for sub, ref in references_in(value):
                yield (name, *sub), ref, None
    matcher = getattr(step, "expect", None)
    if matcher is not None:
        for sub, ref in _matcher_refs(matcher, ()):
            yield ("expect", *sub), ref, None


def check_case(case: Case) -> list[tuple[FieldPath, str]]:
    """Cross-field rules of one case; each problem as (field path, what was expected)."""
    problems: list[tuple[FieldPath, str]] = []
    seen: set[str] = set()
    for index, requirement in enumerate(case.requirements):
        if requirement.id in seen:
            problems.append(
                (("requirements", index, "id"), f"duplicate requirement '{requirement.id}'")
            )
        seen.add(requirement.id)
    for name, spec in case.parameters.items():
        if name in RESERVED_NAMES:
            problems.append((("parameters", name), f"'{name}' is reserved (${{now}}, limit)"))
        try:
            spec.coerce(spec.default)
        except ValueError as exc:
            problems.append((("parameters", name, "default"), f"{exc} (type {spec.type})"))
        if (spec.min is not None or spec.max is not None) and spec.type not in _NUMERIC:
            problems.append(
                (("parameters", name, "min"), f"min/max apply to numbers, not {spec.type}")
            )
    stored: set[str] = set()
    for index, step in enumerate(case.steps):
        here: FieldPath = ("steps", index, step.kind)
        problems.extend(((*here, *p), m) for p, m in _check_step(case, step, stored))
        for name in getattr(step, "store", {}):
            if name in case.parameters:
                problems.append(((*here, "store", name), f"'{name}' is already a parameter"))
            elif name in RESERVED_NAMES:
                problems.append(((*here, "store", name), f"'{name}' is reserved"))
            stored.add(name)
    return problems


def _check_step(case: Case, step: Step, stored: set[str]) -> list[tuple[FieldPath, str]]:
    problems: list[tuple[FieldPath, str]] = []
    if step.requirement is not None and case.requirement(step.requirement) is None:
        known = ", ".join(r.id for r in case.requirements) or "none declared"
        problems.append(
            (
                ("requirement",),
                f"unknown requirement '{step.requirement}' (the case lists: {known})",
            )
        )
    if isinstance(step, SendStep | ExpectRequestStep):
        for version in case.ocpp_versions:
            if step.action not in known_actions(version):
                problems.append((("action",), f"'{step.action}' is not an OCPP {version} action"))
    if isinstance(step, VehicleStep) and (
        (step.action is VehicleAction.SET_SOC) != (step.soc_percent is not None)
    ):
        problems.append((("soc_percent",), "soc_percent is required with set_soc and only there"))
    try:
        refs = list(_step_refs(step))
    except SubstitutionError as exc:
        return [*problems, ((), str(exc))]
    for path, ref, allowed in refs:
        if isinstance(ref, NowRef):
            if allowed is not None:
                problems.append((path, "expected a number; ${now} is a date-time"))
            continue
        spec = case.parameters.get(ref.name)
        if spec is None and ref.name not in stored:
            known = ", ".join(sorted({*case.parameters, *stored})) or "none"
            problems.append(
                (path, f"unknown variable '{ref}' (parameters and stored so far: {known})")
            )
        elif spec is not None and allowed is not None and spec.type not in allowed:
            wanted = "a whole number" if allowed == {ParamType.INTEGER} else "a number"
            problems.append((path, f"expected {wanted}; parameter '{ref.name}' is a {spec.type}"))
    return problems
