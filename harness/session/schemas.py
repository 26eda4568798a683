"""Payload validation against the JSON schemas that the ``ocpp`` package ships.

Each schema is compiled once (with fastjsonschema, into Python code) the first time an action
is validated, and then runs in the calling thread — no thread-pool hop. Two changes are made to
fastjsonschema's generated code so that :class:`~decimal.Decimal` numbers validate exactly:
its ``multipleOf`` check converts numbers with ``Decimal(repr(x))``, which fails for a Decimal
(``repr`` gives ``"Decimal('16.0')"``), and divides by a float, which a Decimal refuses.
Both go through :func:`_as_decimal` instead; ``Decimal("16.05")`` then fails ``multipleOf
0.1`` as it should and ``Decimal("16.1")`` passes (no binary rounding).

Schema faults map to a :class:`~harness.session.errors.Malformation` as follows: ``required``,
``minItems``, ``maxItems`` → OCCURRENCE; ``type`` → TYPE (→ FORMAT at the payload's root);
``additionalProperties`` → FORMAT; anything else (``enum``, ``maxLength``, ``minimum``,
``pattern``, ``format``, ``multipleOf``...) → PROPERTY.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

from harness.session.errors import Malformation
from harness.session.versions import OcppVersion

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


_REPR_DECIMAL = re.compile(r"Decimal\(repr\(")
_INF_CHECK = re.compile(r"if (\w+) / ([0-9.eE+-]+) == float\(\"inf\"\):")


def _compile(schema: dict[str, Any]) -> Callable[[Any], Any]:
    # fastjsonschema.compile() with the generated source patched before it is executed.
    # use_default=False: never insert schema defaults into a payload (keep it as sent).
    resolver, generator = fastjsonschema._factory(
        schema, handlers={}, use_default=False, detailed_exceptions=True
    )
    code = _REPR_DECIMAL.sub("_as_decimal((", generator.func_code)
    code = _INF_CHECK.sub(r"if _as_decimal(\1) / _as_decimal(\2) == float('inf'):", code)
    namespace: dict[str, Any] = dict(generator.global_state)
    namespace["_as_decimal"] = _as_decimal
    exec(compile(code, "<ocpp schema>", "exec"), namespace)
    validate: Callable[[Any], Any] = namespace[resolver.get_scope_name()]
    return validate


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
        self._validators: dict[tuple[str, PayloadKind], Callable[[Any], Any]] = {}
        # Per-kind lookups by action name alone: the hot path avoids building a tuple key.
        self._by_kind: dict[PayloadKind, dict[str, Callable[[Any], Any]]] = {
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

    def validator(self, action: str, kind: PayloadKind) -> Callable[[Any], Any]:
        """The compiled validator (compiled on first use, then cached on this instance)."""
        key = (action, kind)
        validate = self._validators.get(key)
        if validate is None:
            validate = self._validators[key] = _compile(self.schema(action, kind))
            self._by_kind[kind][action] = validate
        return validate

    def check(self, action: str, kind: PayloadKind, payload: Any) -> SchemaFault | None:
        """Validate ``payload``; ``None`` when it conforms, else the first fault found.

        Raises :class:`KeyError` if the version has no such action.
        """
        validate = self._by_kind[kind].get(action) or self.validator(action, kind)
        try:
            validate(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            return _fault(exc)
        return None


@functools.cache
def schema_set(version: OcppVersion) -> SchemaSet:
    """The process-wide :class:`SchemaSet` of ``version`` (compiled schemas are immutable)."""
    return SchemaSet(version)
