"""JSON helpers shared by the result model and the run store (internal).

Decoding goes through :class:`Obj`, which remembers where in the document it is, so a bad
value produces an error such as ``checks[2].verdict: expected one of PASS, FAIL, ...; got
'OK'`` instead of a ``KeyError`` traceback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from harness.clock import utc

__all__ = [
    "JsonValue",
    "Obj",
    "ResultFormatError",
    "as_number",
    "as_time",
    "dump_time",
    "freeze_json",
    "require_utc",
    "thaw_json",
]

JsonValue = None | bool | int | float | str | Sequence["JsonValue"] | Mapping[str, "JsonValue"]
E = TypeVar("E", bound=StrEnum)


class ResultFormatError(ValueError):
    """A stored result (or manifest) does not have the expected shape; the message names
    the field path and what was expected."""


def dump_time(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` designator, microseconds kept when non-zero."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def require_utc(value: datetime, what: str) -> datetime:
    """Return ``value`` converted to UTC; raise ``ValueError`` if it is naive."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def freeze_json(value: Any, what: str) -> Any:
    """Check that ``value`` is plain JSON (finite numbers, string keys) and return a
    read-only deep copy: mappings become ``MappingProxyType``, lists become tuples."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{what}: numbers must be finite, got {value!r}")
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{what}: keys must be strings, got {key!r}")
            out[key] = freeze_json(item, f"{what}.{key}")
        return MappingProxyType(out)
    if isinstance(value, list | tuple):
        return tuple(freeze_json(item, f"{what}[{i}]") for i, item in enumerate(value))
    raise ValueError(f"{what}: not a JSON value: {value!r} ({type(value).__name__})")


def thaw_json(value: Any) -> Any:
    """The inverse of :func:`freeze_json`: plain dicts and lists, ready for ``json.dumps``."""
    if isinstance(value, Mapping):
        return {key: thaw_json(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [thaw_json(item) for item in value]
    return value


class Obj:
    """A JSON object being decoded, with its path for error messages."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise ResultFormatError(f"{path or 'document'}: expected an object, got {value!r}")
        self._value = value
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> Any:
        if key not in self._value:
            raise ResultFormatError(f"{self._where(key)}: missing")
        return self._value[key]

    def has(self, key: str) -> bool:
        return key in self._value and self._value[key] is not None

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            raise ResultFormatError(f"{self._where(key)}: expected a string, got {value!r}")
        return value

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if self.has(key) else None

    def integer(self, key: str) -> int:
        value = self.raw(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ResultFormatError(f"{self._where(key)}: expected an integer, got {value!r}")
        return value

    def number(self, key: str) -> float:
        return as_number(self.raw(key), self._where(key))

    def stamp(self, key: str) -> datetime:
        return as_time(self.raw(key), self._where(key))

    def opt_stamp(self, key: str) -> datetime | None:
        return self.stamp(key) if self.has(key) else None

    def enum(self, key: str, kind: type[E]) -> E:
        value = self.raw(key)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise ResultFormatError(
                f"{self._where(key)}: expected one of {allowed}; got {value!r}"
            ) from None

    def obj(self, key: str) -> Obj:
        return Obj(self.raw(key), self._where(key))

    def items(self, key: str) -> list[tuple[Any, str]]:
        """The items of a list field, each with its own path."""
        value = self.raw(key)
        if not isinstance(value, list):
            raise ResultFormatError(f"{self._where(key)}: expected a list, got {value!r}")
        return [(item, f"{self._where(key)}[{i}]") for i, item in enumerate(value)]

    def objs(self, key: str) -> list[Obj]:
        return [Obj(item, path) for item, path in self.items(key)]

    def json_value(self, key: str) -> Any:
        try:
            return freeze_json(self.raw(key), self._where(key))
        except ValueError as exc:
            raise ResultFormatError(str(exc)) from None


def as_number(value: Any, path: str) -> float:
    """A finite JSON number as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultFormatError(f"{path}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ResultFormatError(f"{path}: expected a finite number, got {value!r}")
    return float(value)


def as_time(value: Any, path: str) -> datetime:
    """An ISO 8601 date-time string as an aware UTC datetime."""
    if not isinstance(value, str):
        raise ResultFormatError(f"{path}: expected an ISO 8601 date-time string, got {value!r}")
    try:
        return utc(value)
    except ValueError:
        raise ResultFormatError(f"{path}: not an ISO 8601 date-time: {value!r}") from None
