"""Field types shared by the scenario and capability models.

Each type is a pydantic ``Annotated`` alias with its own validator (so a bad value gets a
message that says what was expected, in words) and its own JSON Schema fragment (so the
published schema lets editors check files).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from harness.scenario.matchers import MATCHER_TYPES, Matcher, MatcherSyntaxError, parse_matcher
from harness.scenario.values import (
    NAME_PATTERN,
    NowRef,
    ParamRef,
    SubstitutionError,
    parse_path,
    parse_whole_ref,
)
from harness.versions import OcppVersion

__all__ = [
    "LIMIT",
    "MATCHER_PLACEHOLDER",
    "Amount",
    "LimitRef",
    "MatcherField",
    "Name",
    "NonNegative",
    "Payload",
    "Percent",
    "Seconds",
    "StoreMap",
    "Target",
    "TargetField",
]

REF_SCHEMA = {"type": "string", "pattern": r"^\$\{" + NAME_PATTERN + r"\}$"}
_NAME = re.compile(NAME_PATTERN)


def _version_text(value: Any) -> Any:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format(value, "g")
    return value


VersionField = Annotated[OcppVersion, BeforeValidator(_version_text)]


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number_or_ref(
    value: Any, what: str, *, minimum: float | None, maximum: float | None = None
) -> float | ParamRef:
    if isinstance(value, ParamRef):
        return value
    if isinstance(value, str):
        try:
            ref = parse_whole_ref(value)
        except SubstitutionError as exc:
            raise PydanticCustomError("reference", str(exc)) from None
        if isinstance(ref, ParamRef):
            return ref
        if isinstance(ref, NowRef):
            raise PydanticCustomError("reference", f"expected {what}; ${{now}} is a date-time")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        if minimum is not None and value < minimum:
            raise PydanticCustomError(
                "too_small", f"expected {what} of at least {minimum:g}, got {_got(value)}"
            )
        if maximum is not None and value > maximum:
            raise PydanticCustomError(
                "too_large", f"expected {what} of at most {maximum:g}, got {_got(value)}"
            )
        return float(value)
    raise PydanticCustomError(
        "number", f"expected {what} or a ${{parameter}} reference, got {_got(value)}"
    )


def _seconds(value: Any) -> float | ParamRef:
    return _number_or_ref(value, "a number of seconds", minimum=0.0)


def _amount(value: Any) -> float | ParamRef:
    return _number_or_ref(value, "a number", minimum=None)


def _non_negative(value: Any) -> float | ParamRef:
    return _number_or_ref(value, "a number", minimum=0.0)


def _percent(value: Any) -> float | ParamRef:
    return _number_or_ref(value, "a percentage", minimum=0.0, maximum=100.0)


_NUMBER_OR_REF = {"anyOf": [{"type": "number"}, REF_SCHEMA]}

Seconds = Annotated[
    float | ParamRef,
    PlainValidator(_seconds),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, REF_SCHEMA]}),
]
"""Seconds (≥ 0) or a ``${parameter}`` reference resolved when the case runs."""

Amount = Annotated[float | ParamRef, PlainValidator(_amount), WithJsonSchema(_NUMBER_OR_REF)]
"""A number (any sign) or a ``${parameter}`` reference."""

NonNegative = Annotated[
    float | ParamRef,
    PlainValidator(_non_negative),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0}, REF_SCHEMA]}),
]
"""A number ≥ 0 (a tolerance, a scale) or a ``${parameter}`` reference."""

Percent = Annotated[
    float | ParamRef,
    PlainValidator(_percent),
    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 100}, REF_SCHEMA]}),
]
"""A percentage 0..100 or a ``${parameter}`` reference."""


def _name(value: Any) -> str:
    if isinstance(value, str) and _NAME.fullmatch(value):
        return value
    raise PydanticCustomError(
        "name", f"expected a name of letters, digits and '_' (not first a digit), got {_got(value)}"
    )


Name = Annotated[
    str, PlainValidator(_name), WithJsonSchema({"type": "string", "pattern": f"^{NAME_PATTERN}$"})
]


def _json_value(value: Any, path: tuple[str | int, ...]) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if not isinstance(key, str):
                raise PydanticCustomError(
                    "payload", f"expected text field names, got {_got(key)}", {"subpath": path}
                )
            _json_value(sub, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            _json_value(sub, (*path, index))
    elif isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError(
            "payload", f"expected a finite number, got {value!r}", {"subpath": path}
        )
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise PydanticCustomError(
            "payload", f"expected a JSON value, got {_got(value)}", {"subpath": path}
        )


def _payload(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise PydanticCustomError("payload", f"expected a mapping (the payload), got {_got(value)}")
    _json_value(value, ())
    return dict(value)


Payload = Annotated[
    dict[str, Any],
    PlainValidator(_payload),
    WithJsonSchema({"type": "object", "description": "OCPP payload; values may use ${...}"}),
]
"""An OCPP payload template: JSON with ``${...}`` references (see :mod:`.values`)."""


MATCHER_PLACEHOLDER: dict[str, Any] = {"x-ocpp-harness": "matcher"}
"""Stands for the matcher schema; :mod:`.schema` replaces it by a ``$ref`` to its definition."""


def _matcher(value: Any) -> Matcher:
    if isinstance(value, MATCHER_TYPES):
        return value
    try:
        return parse_matcher(value)
    except MatcherSyntaxError as exc:
        raise PydanticCustomError("matcher", exc.message, {"subpath": exc.path}) from None


MatcherField = Annotated[Matcher, PlainValidator(_matcher), WithJsonSchema(MATCHER_PLACEHOLDER)]
"""A matcher in its YAML form (see :mod:`harness.scenario.matchers`)."""


def _store(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PydanticCustomError(
            "store", f"expected a mapping of variable name to payload path, got {_got(value)}"
        )
    for name, path in value.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PydanticCustomError(
                "store", f"expected a variable name, got {_got(name)}", {"subpath": (str(name),)}
            )
        try:
            if not isinstance(path, str):
                raise ValueError(f"expected a payload path like 'a.b[0].c', got {_got(path)}")
            parse_path(path)
        except ValueError as exc:
            raise PydanticCustomError("store", str(exc), {"subpath": (name,)}) from None
    return dict(value)


StoreMap = Annotated[
    dict[str, str],
    PlainValidator(_store),
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": f"^{NAME_PATTERN}$"},
            "additionalProperties": {"type": "string"},
        }
    ),
]
"""``{variable: payload.path}``: values saved from a received payload for later steps."""


@dataclass(frozen=True)
class LimitRef:
    """The literal ``limit``: the limit in force now, according to the oracle."""

    def __str__(self) -> str:
        return "limit"


LIMIT = LimitRef()
_MIN = re.compile(r"min\((.*)\)")


@dataclass(frozen=True)
class Target:
    """What a measured quantity should settle at: the minimum of ``terms``.

    A term is a number, a ``${parameter}`` or :data:`LIMIT`. YAML: ``16``, ``${limit_a}``,
    ``limit`` or ``min(limit, ${vehicle_max_a})``.
    """

    terms: tuple[float | ParamRef | LimitRef, ...]

    @property
    def uses_limit(self) -> bool:
        """Whether the oracle's current limit is needed to evaluate it."""
        return LIMIT in self.terms

    def evaluate(self, *, limit: float | None, variables: Mapping[str, Any]) -> float:
        """The target value; ``limit`` is the oracle's limit (``None`` = no limit, ignored)."""
        values: list[float] = []
        for term in self.terms:
            if isinstance(term, LimitRef):
                if limit is not None:
                    values.append(limit)
            elif isinstance(term, ParamRef):
                values.append(float(variables[term.name]))
            else:
                values.append(term)
        if not values:
            raise ValueError("target is only 'limit' and there is no limit in force")
        return min(values)

    def __str__(self) -> str:
        text = [str(t) if not isinstance(t, float) else f"{t:g}" for t in self.terms]
        return text[0] if len(text) == 1 else f"min({', '.join(text)})"

    def describe(self, variables: Mapping[str, Any]) -> str:
        """For a reader: ``min(limit, vehicle_max_a = 80)`` — parameters with their values."""
        text = [
            f"{t.name} = {_number_text(variables.get(t.name))}"
            if isinstance(t, ParamRef)
            else str(t)
            if not isinstance(t, float)
            else f"{t:g}"
            for t in self.terms
        ]
        return text[0] if len(text) == 1 else f"min({', '.join(text)})"


def _number_text(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _target_term(text: str) -> float | ParamRef | LimitRef:
    text = text.strip()
    if text == "limit":
        return LIMIT
    ref = parse_whole_ref(text)
    if isinstance(ref, ParamRef):
        return ref
    try:
        value = float(text)
    except ValueError:
        raise ValueError(text) from None
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _target(value: Any) -> Target:
    if isinstance(value, Target):
        return value
    expected = "expected a number, a ${parameter}, 'limit', or min(...) of those"
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return Target((float(value),))
    if isinstance(value, str):
        inner = _MIN.fullmatch(value.strip())
        parts = inner.group(1).split(",") if inner else [value]
        try:
            return Target(tuple(_target_term(part) for part in parts))
        except ValueError:
            pass
    raise PydanticCustomError("target", f"{expected}, got {_got(value)}")


TargetField = Annotated[
    Target,
    PlainValidator(_target),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": r"^(limit|\$\{[^}]+\}|min\(.+\))$"},
            ]
        }
    ),
]


class DutRole(StrEnum):
    """What the device under test is; the harness plays the other side."""

    STATION = "station"
    CSMS = "csms"


def _integer(value: Any) -> int | ParamRef:
    if isinstance(value, ParamRef):
        return value
    if isinstance(value, str):
        ref = None
        try:
            ref = parse_whole_ref(value)
        except SubstitutionError as exc:
            raise PydanticCustomError("reference", str(exc)) from None
        if isinstance(ref, ParamRef):
            return ref
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise PydanticCustomError(
        "integer", f"expected a whole number ≥ 0 or a ${{parameter}} reference, got {_got(value)}"
    )


Integer = Annotated[
    int | ParamRef,
    PlainValidator(_integer),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, REF_SCHEMA]}),
]
"""A whole number ≥ 0 (an id, an EVSE number) or a ``${parameter}`` reference."""
