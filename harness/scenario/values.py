"""Values in scenario files: durations, ``${...}`` references, substitution and payload paths.

Syntax (the same everywhere a value may vary)
---------------------------------------------
* ``${name}`` as the *whole* value is replaced by the parameter or stored variable ``name``
  and keeps its type: ``limit: ${limit_a}`` gives the number ``16.0``, not the text ``"16.0"``.
* ``${name}`` inside a longer text is interpolated as text: ``"tag-${vehicle}"``.
* ``${now}``, ``${now+4s}``, ``${now-4s}``, ``${now+5min}`` are the clock time when the step
  runs, shifted by a duration, written as an RFC 3339 UTC date-time (``...Z``). They are
  only meaningful in payloads (text), never in a number field. A shift may also name a
  duration parameter, alone or with durations: ``${now-max_time_deviation}``,
  ``${now-max_time_deviation+401s}`` (the OCA documents' memory states).
* ``$${`` writes a literal ``${``.

Durations are a number of seconds or a text such as ``90s``, ``20min``, ``6h``, ``1h30min``,
``500ms``, ``2d``.

Names are ``[A-Za-z_][A-Za-z0-9_]*``. Parameters and stored variables share one namespace.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "NAME_PATTERN",
    "NowRef",
    "ParamRef",
    "PathError",
    "SubstitutionError",
    "extract",
    "format_utc",
    "parse_duration_s",
    "parse_path",
    "parse_whole_ref",
    "references_in",
    "resolve_int",
    "resolve_number",
    "resolve_text",
    "substitute",
]

NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
_UNITS_S = {"ms": 0.001, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d)")
_REF = re.compile(r"\$\{([^}]*)\}")
_NAME = re.compile(NAME_PATTERN)
_NOW = re.compile(r"now(?:\s*([+-])\s*(.+))?")
_NOW_TERM = re.compile(r"\s*([+-])\s*([^+-]+)")


class SubstitutionError(ValueError):
    """A ``${...}`` reference names nothing known, or is not well formed."""

    name: str | None = None
    """The variable that is not known, when that is the fault (else ``None``)."""


class PathError(LookupError):
    """A payload path (``a.b[0].c``) does not lead to a value."""


@dataclass(frozen=True)
class ParamRef:
    """A reference ``${name}`` to a parameter or a stored variable."""

    name: str

    def __str__(self) -> str:
        return "${" + self.name + "}"


@dataclass(frozen=True)
class NowRef:
    """A reference ``${now±offset}``: the clock time when the step runs, plus ``offset_s``,
    plus each named duration parameter in ``terms`` (sign, name)."""

    offset_s: float
    terms: tuple[tuple[int, str], ...] = ()

    def __str__(self) -> str:
        named = "".join(f"{'+' if sign > 0 else '-'}{name}" for sign, name in self.terms)
        if self.offset_s == 0:
            return "${now" + named + "}"
        return f"${{now{named}{self.offset_s:+g}s}}"

    def shift_s(self, variables: Mapping[str, Any]) -> float:
        """The whole shift in seconds, the named parameters looked up in ``variables``."""
        total = self.offset_s
        for sign, name in self.terms:
            value = _lookup(name, variables)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SubstitutionError(f"'${{{name}}}' is {value!r}, not a duration")
            total += sign * float(value)
        return total


def parse_duration_s(value: object) -> float:
    """Return ``value`` (seconds, or a text like ``20min`` / ``1h30min``) in seconds.

    Raises :class:`ValueError` naming what was expected. Booleans and negative values are
    rejected; ``inf``/``nan`` too.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration (seconds or e.g. '20min'), got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            seconds = _parse_duration_text(text, value)
    else:
        raise ValueError(f"expected a duration (seconds or e.g. '20min'), got {value!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"expected a duration of zero or more seconds, got {value!r}")
    return seconds


def _parse_duration_text(text: str, original: str) -> float:
    position, total = 0, 0.0
    for part in _DURATION_PART.finditer(text):
        if part.start() != position and text[position : part.start()].strip():
            break
        total += float(part.group(1)) * _UNITS_S[part.group(2)]
        position = part.end()
    else:
        if position and not text[position:].strip():
            return total
    raise ValueError(
        f"expected a duration (seconds, or e.g. '90s', '20min', '6h', '1h30min'), got {original!r}"
    )


def parse_whole_ref(text: str) -> ParamRef | NowRef | None:
    """If ``text`` is exactly one ``${...}`` reference, return it; otherwise ``None``.

    Raises :class:`SubstitutionError` when it looks like a reference but is malformed.
    """
    match = _REF.fullmatch(text.strip())
    if match is None:
        return None
    return _parse_ref_body(match.group(1))


def _parse_ref_body(body: str) -> ParamRef | NowRef:
    body = body.strip()
    now = _NOW.fullmatch(body)
    if now is not None:
        if now.group(1) is None:
            return NowRef(0.0)
        offset, terms, rest = 0.0, [], body[3:]
        if not re.fullmatch(r"(?:\s*[+-]\s*[^+-]+)+", rest):
            raise SubstitutionError(f"bad offset in '${{{body}}}'")
        for part in _NOW_TERM.finditer(rest):
            sign, text = (-1 if part.group(1) == "-" else 1), part.group(2).strip()
            if _NAME.fullmatch(text) and text not in _UNITS_S:
                terms.append((sign, text))
                continue
            try:
                offset += sign * parse_duration_s(text)
            except ValueError as exc:
                raise SubstitutionError(f"bad offset in '${{{body}}}': {exc}") from None
        return NowRef(offset, tuple(terms))
    if _NAME.fullmatch(body):
        return ParamRef(body)
    raise SubstitutionError(
        f"'${{{body}}}' is not a reference: "
        "expected ${name} or ${now}, ${now+4s}, ${now-4s}"
    )


def references_in(value: object) -> list[tuple[tuple[str | int, ...], ParamRef | NowRef]]:
    """Every ``${...}`` reference inside ``value`` (nested dicts, lists, texts), with its path.

    Raises :class:`SubstitutionError` (with the path in the message) for a malformed one.
    """
    found: list[tuple[tuple[str | int, ...], ParamRef | NowRef]] = []

    def walk(item: object, path: tuple[str | int, ...]) -> None:
        if isinstance(item, str):
            for match in _REF.finditer(item.replace("$${", "")):
                found.append((path, _parse_ref_body(match.group(1))))
        elif isinstance(item, ParamRef | NowRef):
            found.append((path, item))
        elif isinstance(item, Mapping):
            for key, sub in item.items():
                walk(sub, (*path, str(key)))
        elif isinstance(item, list | tuple):
            for index, sub in enumerate(item):
                walk(sub, (*path, index))

    walk(value, ())
    return found


def resolve_number(value: float | int | ParamRef, *, variables: Mapping[str, Any]) -> float:
    """A number field's value: itself, or the number its ``${name}`` refers to.

    Raises :class:`SubstitutionError` for an unknown name or a value that is not a number.
    """
    if not isinstance(value, ParamRef):
        return float(value)
    resolved = _lookup(value.name, variables)
    if isinstance(resolved, bool) or not isinstance(resolved, int | float):
        raise SubstitutionError(f"'{value}' is {resolved!r}, not a number")
    return float(resolved)


def resolve_int(value: int | ParamRef, *, variables: Mapping[str, Any]) -> int:
    """An integer field's value (an EVSE or profile id), resolving ``${name}``."""
    if not isinstance(value, ParamRef):
        return value
    resolved = _lookup(value.name, variables)
    if isinstance(resolved, bool) or not isinstance(resolved, int):
        raise SubstitutionError(f"'{value}' is {resolved!r}, not a whole number")
    return resolved


def format_utc(moment: datetime) -> str:
    """RFC 3339 UTC text with millisecond precision and a ``Z``; ``moment`` must be aware."""
    if moment.tzinfo is None:
        raise ValueError("format_utc needs a timezone-aware datetime")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def substitute(value: Any, *, variables: Mapping[str, Any], now: datetime) -> Any:
    """Return a copy of ``value`` with every ``${...}`` reference replaced.

    ``variables`` holds the resolved parameters and stored variables; ``now`` is the clock
    time (aware) when the step runs. A whole-value reference keeps the variable's type; one
    inside a longer text is formatted with ``str()`` (a float with an integral value prints
    without ``.0``). Raises :class:`SubstitutionError` for an unknown name.
    """
    if isinstance(value, ParamRef):
        return _lookup(value.name, variables)
    if isinstance(value, NowRef):
        return format_utc(now + timedelta(seconds=value.shift_s(variables)))
    if isinstance(value, str):
        whole = parse_whole_ref(value)
        if whole is not None:
            return substitute(whole, variables=variables, now=now)
        return _interpolate(value, variables=variables, now=now)
    if isinstance(value, Mapping):
        return {key: substitute(sub, variables=variables, now=now) for key, sub in value.items()}
    if isinstance(value, list | tuple):
        return [substitute(sub, variables=variables, now=now) for sub in value]
    return value


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    try:
        return variables[name]
    except KeyError:
        known = ", ".join(sorted(variables)) or "none"
        error = SubstitutionError(f"unknown variable '${{{name}}}' (known: {known})")
        error.name = name
        raise error from None


def _interpolate(text: str, *, variables: Mapping[str, Any], now: datetime) -> str:
    pieces = text.split("$${")

    def one(match: re.Match[str]) -> str:
        value = substitute(_parse_ref_body(match.group(1)), variables=variables, now=now)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return "${".join(_REF.sub(one, piece) for piece in pieces)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> tuple[str | int, ...]:
    """Split ``a.b[0].c`` into ``("a", "b", 0, "c")``; raises :class:`ValueError` if malformed."""
    parts: list[str | int] = []
    position = 0
    text = path.strip()
    while position < len(text):
        if text[position] == "." and parts and position + 1 < len(text):
            position += 1
        match = _PATH_PART.match(text, position)
        if match is None:
            raise ValueError(f"expected a path like 'a.b[0].c', got {path!r}")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not parts:
        raise ValueError(f"expected a path like 'a.b[0].c', got {path!r}")
    return tuple(parts)


def extract(payload: Any, path: str) -> Any:
    """The value at ``path`` (``a.b[0].c``) inside a JSON payload; :class:`PathError` if absent."""
    current = payload
    walked = "$"
    for part in parse_path(path):
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                raise PathError(f"{walked} has no item [{part}]")
            current = current[part]
            walked += f"[{part}]"
        else:
            if not isinstance(current, Mapping) or part not in current:
                raise PathError(f"{walked} has no field '{part}'")
            current = current[part]
            walked += f".{part}"
    return current


def resolve_text(text: str, *, variables: Mapping[str, Any]) -> str:
    """``text`` for a reader: every ``${name}`` replaced by its value (numbers without a
    needless ``.0``), a name with no value by ``name (not set)``, ``${now...}`` by
    ``now...``. Never raises; the result has no ``${`` left (issue #14: no reference
    reaches an Expected or requirement text)."""

    def one(match: re.Match[str]) -> str:
        body = match.group(1).strip()
        if _NAME.fullmatch(body) and body != "now":
            if body not in variables:
                return f"{body} (not set)"
            value = variables[body]
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            return str(value)
        return body

    return _REF.sub(one, text.replace("$${", "${")).replace("${", "$ {")
