"""Payload validation against the JSON schemas that the ``ocpp`` package ships.

Each schema is compiled once (with fastjsonschema, into Python code) the first time an action
is validated, and then runs in the calling thread — no thread-pool hop.

``multipleOf`` (OCPP 1.6's one-decimal rule on charging limits) is checked by this module, not
by fastjsonschema: its generated check converts with ``Decimal(repr(x))``, which fails for the
:class:`~decimal.Decimal` numbers the session parses, and divides by a float. So the keyword is
taken out of the schema before compiling, its places are remembered (:class:`_MultipleOf`), and
after the schema check passes each number found there is checked in exact decimal arithmetic:
``Decimal("16.05")`` fails ``multipleOf 0.1`` and ``Decimal("16.1")`` passes (no binary
rounding). The generated code is used as fastjsonschema makes it.

Schema faults map to a :class:`~harness.session.errors.Malformation` as follows: ``required``,
``minItems``, ``maxItems`` → OCCURRENCE; ``type`` → TYPE (→ FORMAT at the payload's root);
``additionalProperties`` → FORMAT; anything else (``enum``, ``maxLength``, ``minimum``,
``pattern``, ``format``, ``multipleOf``...) → PROPERTY.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

from harness.session.errors import Malformation
from harness.versions import OcppVersion

__all__ = ["PayloadKind", "SchemaFault", "SchemaSet", "schema_set"]

_SCHEMA_DIRS = {OcppVersion.V16: "v16", OcppVersion.V201: "v201", OcppVersion.V21: "v21"}


class PayloadKind(StrEnum):
    """Which schema of an action: the request (CALL or SEND payload) or the response."""

    REQUEST = "request"
    RESPONSE = "response"


@dataclass(frozen=True, slots=True)
class SchemaFault:
    """Why a payload failed its schema."""

    kind: Malformation
    rule: str
    path: str
    detail: str


def _as_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(value))


@dataclass(frozen=True, slots=True)
class _MultipleOf:
    """One ``multipleOf`` of a schema: where it applies, and the step.

    ``path`` holds property names, and ``None`` for "every item of an array".
    """

    path: tuple[str | None, ...]
    step: Decimal


def _take_multiple_of(node: Any, path: tuple[str | None, ...], found: list[_MultipleOf]) -> Any:
    """A copy of schema ``node`` without ``multipleOf``; each one removed goes into ``found``.

    Follows ``properties`` and ``items`` (the places OCPP's schemas put numbers); a
    ``multipleOf`` anywhere else (under ``$ref``, ``anyOf``...) is refused at compile time
    rather than silently dropped.
    """
    if isinstance(node, list):
        return [_take_multiple_of(item, path, found) for item in node]
    if not isinstance(node, dict):
        return node
    copy: dict[str, Any] = {}
    for key, value in node.items():
        if key == "multipleOf":
            found.append(_MultipleOf(path=path, step=_as_decimal(value)))
        elif key == "properties" and isinstance(value, dict):
            copy[key] = {
                name: _take_multiple_of(sub, (*path, name), found) for name, sub in value.items()
            }
        elif key == "items":
            copy[key] = _take_multiple_of(value, (*path, None), found)
        else:
            before = len(found)
            copy[key] = _take_multiple_of(value, path, found)
            if len(found) != before:
                raise ValueError(f"multipleOf under {key!r} is not supported")
    return copy


def _check_multiple_of(rule: _MultipleOf, value: Any, where: str, index: int = 0) -> None:
    """Raise fastjsonschema's exception for the first number under ``rule.path[index:]`` that
    is not a multiple of the step, as its own ``multipleOf`` check would."""
    if index == len(rule.path):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return  # not a number: the type check has judged it already
        if _as_decimal(value) % rule.step != 0:
            raise fastjsonschema.JsonSchemaValueException(
                f"{where} must be multiple of {rule.step}",
                value=value,
                name=where,
                definition={"multipleOf": rule.step},
                rule="multipleOf",
            )
        return
    key = rule.path[index]
    if key is None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                _check_multiple_of(rule, item, f"{where}[{i}]", index + 1)
    elif isinstance(value, dict) and key in value:
        _check_multiple_of(rule, value[key], f"{where}.{key}", index + 1)


class _Validator:
    """A compiled schema, plus the exact ``multipleOf`` checks taken out of it.

    Called with a payload, it raises :class:`fastjsonschema.JsonSchemaValueException` for the
    first fault, like a validator that fastjsonschema compiles.
    """

    __slots__ = ("_multiples", "_validate", "plain")

    def __init__(self, schema: dict[str, Any]) -> None:
        multiples: list[_MultipleOf] = []
        stripped = _take_multiple_of(schema, (), multiples)
        # use_default=False: never insert schema defaults into a payload (keep it as sent).
        self._validate: Callable[[Any], Any] = fastjsonschema.compile(
            stripped, use_default=False, detailed_exceptions=True
        )
        self._multiples = tuple(multiples)
        self.plain: Callable[[Any], Any] | None = None if multiples else self._validate
        """The compiled function itself, when the schema has no ``multipleOf`` (the same
        checks without this wrapper's call)."""

    def __call__(self, payload: Any) -> None:
        self._validate(payload)
        for rule in self._multiples:
            _check_multiple_of(rule, payload, "data")


_OCCURRENCE_RULES = frozenset({"required", "minItems", "maxItems"})


def _fault(exc: fastjsonschema.JsonSchemaValueException) -> SchemaFault:
    rule = str(exc.rule or "")
    path = str(exc.name or "data")
    if rule in _OCCURRENCE_RULES:
        kind = Malformation.OCCURRENCE
    elif rule == "type":
        kind = Malformation.FORMAT if path == "data" else Malformation.TYPE
    elif rule == "additionalProperties":
        kind = Malformation.FORMAT
    else:
        kind = Malformation.PROPERTY
    return SchemaFault(kind=kind, rule=rule, path=path, detail=str(exc.message))


class SchemaSet:
    """The request and response schemas of one OCPP version.

    Use :func:`schema_set` to get the shared instance of a version; building one reads only
    the directory listing, schemas compile on first use.
    """

    def __init__(self, version: OcppVersion) -> None:
        self.version = version
        self._dir = Path(ocpp.__file__).parent / _SCHEMA_DIRS[version] / "schemas"
        names = {p.stem for p in self._dir.glob("*.json")}
        self._files: dict[tuple[str, PayloadKind], Path] = {}
        send_only: set[str] = set()
        for name in names:
            if name.endswith("Response"):
                self._files[(name[: -len("Response")], PayloadKind.RESPONSE)] = (
                    self._dir / f"{name}.json"
                )
            elif version is not OcppVersion.V16 and name.endswith("Request"):
                self._files[(name[: -len("Request")], PayloadKind.REQUEST)] = (
                    self._dir / f"{name}.json"
                )
            else:
                self._files[(name, PayloadKind.REQUEST)] = self._dir / f"{name}.json"
                if version is not OcppVersion.V16:
                    send_only.add(name)  # 2.1's NotifyPeriodicEventStream: no response
        self.actions: frozenset[str] = frozenset(
            action for action, kind in self._files if kind is PayloadKind.REQUEST
        )
        """Every action of the version (CALL and SEND)."""
        self.send_actions: frozenset[str] = frozenset(send_only)
        """Actions carried by SEND frames (they have no response schema)."""
        self._validators: dict[tuple[str, PayloadKind], _Validator] = {}
        # Per-kind lookups by action name alone: the hot path avoids building a tuple key.
        # A schema without multipleOf is looked up as fastjsonschema's own function.
        self._by_kind: dict[PayloadKind, dict[str, Callable[[Any], Any]]] = {
            PayloadKind.REQUEST: {},
            PayloadKind.RESPONSE: {},
        }
        # The verdict on the empty payload ({}: Heartbeat, ClearCache, many responses...),
        # per action and kind, made once: a schema's verdict depends on the payload only.
        self._empty: dict[PayloadKind, dict[str, SchemaFault | None]] = {
            PayloadKind.REQUEST: {},
            PayloadKind.RESPONSE: {},
        }

    def schema(self, action: str, kind: PayloadKind) -> dict[str, Any]:
        """The parsed JSON schema; :class:`KeyError` if the version has no such action."""
        path = self._files[(action, kind)]
        # Plain floats here: the generated code writes them with repr(), which gives back the
        # literal of the schema file (e.g. 0.1), and _as_decimal makes that exact.
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8-sig"))
        return schema

    def validator(self, action: str, kind: PayloadKind) -> Callable[[Any], None]:
        """The compiled validator: raises :class:`fastjsonschema.JsonSchemaValueException`
        for a payload's first fault (compiled on first use, then cached on this instance)."""
        key = (action, kind)
        validate = self._validators.get(key)
        if validate is None:
            validate = self._validators[key] = _Validator(self.schema(action, kind))
            self._by_kind[kind][action] = validate.plain or validate
        return validate

    def check(self, action: str, kind: PayloadKind, payload: Any) -> SchemaFault | None:
        """Validate ``payload``; ``None`` when it conforms, else the first fault found.

        Raises :class:`KeyError` if the version has no such action.
        """
        if type(payload) is dict and not payload:
            empty = self._empty[kind]
            if action in empty:
                return empty[action]
            fault = empty[action] = self._check(action, kind, payload)
            return fault
        # _check's body, without the call (every frame with a payload comes here)
        validate = self._by_kind[kind].get(action)
        if validate is None:
            return self._check(action, kind, payload)
        try:
            validate(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            return _fault(exc)
        return None

    def _check(self, action: str, kind: PayloadKind, payload: Any) -> SchemaFault | None:
        validate = self._by_kind[kind].get(action)
        if validate is None:
            self.validator(action, kind)
            validate = self._by_kind[kind][action]
        try:
            validate(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            return _fault(exc)
        return None


@functools.cache
def schema_set(version: OcppVersion) -> SchemaSet:
    """The process-wide :class:`SchemaSet` of ``version`` (compiled schemas are immutable)."""
    return SchemaSet(version)
