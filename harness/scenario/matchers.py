"""Matchers: how a scenario says what a payload must look like, and the judgement of one.

YAML syntax (the parser turns it into the frozen matcher objects below)
-----------------------------------------------------------------------
* a scalar (``Accepted``, ``16``, ``true``, ``null``) — :class:`Equals`;
* a mapping of payload fields (``{status: Accepted}``) — :class:`Subset`: every listed field
  must be present and match; fields not listed are ignored;
* a list (``[a, b]``) — :class:`Items`: same length, item by item;
* a mapping made only of matcher keywords (all snake_case, so they cannot collide with OCPP's
  camelCase fields):

  ``{equals: V}`` (exactly ``V``, also for whole dicts/lists) · ``{one_of: [A, B]}`` ·
  ``{approx: 16, tol: 0.5}`` / ``{approx: 7400, rel_tol: 0.05}`` · ``{regex: '^[0-9]+$'}``
  (full match on text) · ``{present: true}`` · ``{absent: true}`` ·
  ``{contains: [m1, m2]}`` (each matcher matches a different item of a list, in any order) ·
  ``{every: m}`` (a list whose items all match ``m``) · ``{at_most: 6}`` (a number ≤ 6) ·
  ``{all_of: [m1, m2]}`` · ``{any_of: [m1, m2]}`` · ``{not: m}`` (a present value that ``m``
  does not match: ``{not: "${first_id}"}`` is a value other than the stored one).

Values may hold ``${name}`` references (whole values, inside texts, or nested);
:func:`match` resolves them from ``variables``. ``${now}`` is not allowed in a matcher.

Every judgement is a :class:`MatchResult`: matched or not, the JSON path where it differed,
``expected`` (every acceptable outcome, in words) and ``actual``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from harness.scenario.values import NowRef, ParamRef, parse_whole_ref, references_in, substitute

__all__ = [
    "MATCHER_KEYWORDS",
    "MATCHER_TYPES",
    "Absent",
    "AllOf",
    "AnyOf",
    "Approx",
    "AtMost",
    "Contains",
    "Equals",
    "Every",
    "Items",
    "MatchResult",
    "Matcher",
    "MatcherSyntaxError",
    "Not",
    "OneOf",
    "Present",
    "Regex",
    "Subset",
    "describe",
    "match",
    "parse_matcher",
]


class MatcherSyntaxError(ValueError):
    """A matcher in a scenario file is malformed; ``path`` locates it inside the matcher."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Equals:
    """Exactly this JSON value (``1`` equals ``1.0``; ``true`` never equals ``1``)."""

    value: Any


@dataclass(frozen=True)
class OneOf:
    """Equal to one of ``options``."""

    options: tuple[Any, ...]


@dataclass(frozen=True)
class Approx:
    """A number within ``abs_tol`` or ``rel_tol`` × |expected| of ``value`` (either suffices)."""

    value: float | ParamRef
    abs_tol: float = 0.0
    rel_tol: float = 0.0


@dataclass(frozen=True)
class AtMost:
    """A number no greater than ``value``."""

    value: float | ParamRef


@dataclass(frozen=True)
class Regex:
    """A text that the regular expression matches as a whole."""

    pattern: str


@dataclass(frozen=True)
class Present:
    """The field exists (any value, including ``null``)."""


@dataclass(frozen=True)
class Absent:
    """The field does not exist."""


@dataclass(frozen=True)
class Subset:
    """An object having at least these fields, each matching; other fields are ignored."""

    fields: tuple[tuple[str, Matcher], ...]


@dataclass(frozen=True)
class Items:
    """A list of exactly ``len(items)`` elements, matching item by item."""

    items: tuple[Matcher, ...]


@dataclass(frozen=True)
class Contains:
    """A list in which every matcher matches a different element, in any order."""

    items: tuple[Matcher, ...]


@dataclass(frozen=True)
class Every:
    """A list (possibly empty) whose every element matches ``item``."""

    item: Matcher


@dataclass(frozen=True)
class AllOf:
    """Every matcher matches."""

    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one matcher matches."""

    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class Not:
    """A present value that ``matcher`` does not match (an absent field never matches)."""

    matcher: Matcher


Matcher = (
    Equals
    | OneOf
    | Approx
    | AtMost
    | Regex
    | Present
    | Absent
    | Subset
    | Items
    | Contains
    | Every
    | AllOf
    | AnyOf
    | Not
)

MATCHER_TYPES = (
    Equals,
    OneOf,
    Approx,
    AtMost,
    Regex,
    Present,
    Absent,
    Subset,
    Items,
    Contains,
    Every,
    AllOf,
    AnyOf,
    Not,
)
"""The matcher classes (for ``isinstance`` checks)."""

MATCHER_KEYWORDS = frozenset(
    {"equals", "one_of", "approx", "tol", "rel_tol", "regex", "present", "absent"}
    | {"contains", "all_of", "any_of", "every", "at_most", "not"}
)
_OPERATORS = MATCHER_KEYWORDS - {"tol", "rel_tol"}


@dataclass(frozen=True)
class MatchResult:
    """The judgement of one matcher against one value.

    ``path`` is a JSONPath-like location (``$.chargingSchedule.chargingSchedulePeriod[2]``)
    of the first difference (the root, ``$``, when it matched).
    """

    matched: bool
    path: str
    expected: str
    actual: str

    def __bool__(self) -> bool:
        return self.matched


# ---------------------------------------------------------------------------- parsing


def parse_matcher(raw: Any) -> Matcher:
    """Turn the YAML form of a matcher into matcher objects; :class:`MatcherSyntaxError` if bad."""
    return _parse(raw, ())


def _parse(raw: Any, path: tuple[str | int, ...]) -> Matcher:
    if isinstance(raw, Mapping):
        keys = {str(key) for key in raw}
        operators = keys & _OPERATORS
        if operators:
            return _parse_operator(raw, keys, path)
        if keys & {"tol", "rel_tol"}:
            raise MatcherSyntaxError("'tol'/'rel_tol' need 'approx' beside them", path)
        fields = []
        for key, sub in raw.items():
            if not isinstance(key, str):
                raise MatcherSyntaxError(f"expected a text field name, got {key!r}", path)
            fields.append((key, _parse(sub, (*path, key))))
        return Subset(tuple(fields))
    if isinstance(raw, list | tuple):
        return Items(tuple(_parse(sub, (*path, index)) for index, sub in enumerate(raw)))
    return Equals(_value(raw, path))


def _value(raw: Any, path: tuple[str | int, ...]) -> Any:
    try:
        refs = references_in(raw)
    except ValueError as exc:
        raise MatcherSyntaxError(str(exc), path) from None
    for sub, ref in refs:
        if isinstance(ref, NowRef):
            raise MatcherSyntaxError("a matcher cannot compare with ${now}", (*path, *sub))
    if isinstance(raw, str):
        whole = parse_whole_ref(raw)
        return whole if whole is not None else raw
    if isinstance(raw, float) and not math.isfinite(raw):
        raise MatcherSyntaxError(f"expected a finite number, got {raw!r}", path)
    if isinstance(raw, Mapping | list | tuple):
        try:  # a plain JSON copy, compared exactly
            return json.loads(json.dumps(raw, allow_nan=False))
        except (TypeError, ValueError):
            raise MatcherSyntaxError(f"expected a JSON value, got {raw!r}", path) from None
    if raw is None or isinstance(raw, bool | int | float):
        return raw
    raise MatcherSyntaxError(f"expected a JSON value, got {raw!r}", path)


def _parse_operator(raw: Mapping[Any, Any], keys: set[str], path: tuple[str | int, ...]) -> Matcher:
    operators = sorted(keys & _OPERATORS)
    others = sorted(keys - MATCHER_KEYWORDS)
    if others:
        raise MatcherSyntaxError(
            f"matcher keyword '{operators[0]}' mixed with payload fields {others}: "
            "write the payload fields one level down, or wrap both in all_of",
            path,
        )
    if len(operators) > 1:
        raise MatcherSyntaxError(
            f"expected one matcher keyword, got {operators}; combine them with all_of", path
        )
    (op,) = operators
    arg = raw[op]
    here = (*path, op)
    extra = keys - {op}
    if op != "approx" and extra:
        raise MatcherSyntaxError(f"'{sorted(extra)[0]}' belongs with 'approx', not '{op}'", path)
    if op == "equals":
        return Equals(_value(arg, here))
    if op == "one_of":
        if not isinstance(arg, list) or not arg:
            raise MatcherSyntaxError(
                f"one_of expects a non-empty list of values, got {arg!r}", here
            )
        return OneOf(tuple(_value(item, (*here, i)) for i, item in enumerate(arg)))
    if op == "approx":
        return _parse_approx(raw, path)
    if op == "regex":
        if not isinstance(arg, str):
            raise MatcherSyntaxError(f"regex expects a text pattern, got {arg!r}", here)
        try:
            re.compile(arg)
        except re.error as exc:
            raise MatcherSyntaxError(f"regex {arg!r} does not compile: {exc}", here) from None
        return Regex(arg)
    if op == "not":
        return Not(_parse(arg, here))
    if op == "at_most":
        ref = parse_whole_ref(arg) if isinstance(arg, str) else None
        if isinstance(ref, ParamRef):
            return AtMost(ref)
        if isinstance(arg, bool) or not isinstance(arg, int | float) or not math.isfinite(arg):
            raise MatcherSyntaxError(f"at_most expects a number, got {arg!r}", here)
        return AtMost(float(arg))
    if op == "every":
        return Every(_parse(arg, here))
    if op in {"present", "absent"}:
        if arg is not True:
            raise MatcherSyntaxError(f"{op} expects 'true', got {arg!r}", here)
        return Present() if op == "present" else Absent()
    if not isinstance(arg, list) or not arg:
        raise MatcherSyntaxError(f"{op} expects a non-empty list of matchers, got {arg!r}", here)
    subs = tuple(_parse(item, (*here, i)) for i, item in enumerate(arg))
    if op == "contains":
        return Contains(subs)
    return AllOf(subs) if op == "all_of" else AnyOf(subs)


def _parse_approx(raw: Mapping[Any, Any], path: tuple[str | int, ...]) -> Approx:
    value = raw["approx"]
    if isinstance(value, str):
        ref = parse_whole_ref(value)
        if not isinstance(ref, ParamRef):
            raise MatcherSyntaxError(f"approx expects a number, got {value!r}", (*path, "approx"))
        target: float | ParamRef = ref
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        target = float(value)
    else:
        raise MatcherSyntaxError(f"approx expects a number, got {value!r}", (*path, "approx"))
    tolerances = {}
    for key in ("tol", "rel_tol"):
        tol = raw.get(key, 0.0)
        if isinstance(tol, bool) or not isinstance(tol, int | float) or not tol >= 0:
            raise MatcherSyntaxError(
                f"{key} expects a number of zero or more, got {tol!r}", (*path, key)
            )
        tolerances[key] = float(tol)
    if "tol" not in raw and "rel_tol" not in raw:
        raise MatcherSyntaxError("approx needs 'tol' (absolute) or 'rel_tol' (relative)", path)
    return Approx(target, abs_tol=tolerances["tol"], rel_tol=tolerances["rel_tol"])


# ---------------------------------------------------------------------------- judging

_MISSING: Any = object()


def match(
    matcher: Matcher, actual: Any, *, variables: Mapping[str, Any] | None = None
) -> MatchResult:
    """Judge ``actual`` (a JSON value) against ``matcher``.

    ``variables`` resolves ``${name}`` references (parameters and stored variables), as
    whole values or inside texts and nested values; an unknown name raises
    :class:`~harness.scenario.values.SubstitutionError` — a harness defect, not a DUT failure.
    """
    return _match(matcher, actual, "$", variables or {})


def _show(value: Any) -> str:
    if value is _MISSING:
        return "absent"
    return json.dumps(value, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    # A received fractional number (Decimal) is shown as the number it is, not as text.
    return float(value) if isinstance(value, Decimal) else str(value)


_NO_NOW = datetime(1970, 1, 1, tzinfo=UTC)  # never used: parsing rejects ${now} in matchers


def _resolve(value: Any, variables: Mapping[str, Any]) -> Any:
    return substitute(value, variables=variables, now=_NO_NOW)


def _ok(path: str, expected: str, actual: Any) -> MatchResult:
    return MatchResult(True, path, expected, _show(actual))


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    # Fractional numbers of received frames are Decimal (harness.session.codec); a case's
    # YAML gives float: 10.0 and Decimal("10.0") are the same JSON number.
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _match(m: Matcher, actual: Any, path: str, variables: Mapping[str, Any]) -> MatchResult:
    if isinstance(m, Absent):
        return MatchResult(actual is _MISSING, path, "absent", _show(actual))
    if isinstance(m, Present):
        return MatchResult(actual is not _MISSING, path, "present (any value)", _show(actual))
    if isinstance(m, Equals):
        value = _resolve(m.value, variables)
        ok = actual is not _MISSING and _json_equal(value, actual)
        return MatchResult(ok, path, _show(value), _show(actual))
    if isinstance(m, OneOf):
        options = [_resolve(option, variables) for option in m.options]
        ok = actual is not _MISSING and any(_json_equal(o, actual) for o in options)
        return MatchResult(ok, path, "one of " + ", ".join(map(_show, options)), _show(actual))
    if isinstance(m, Approx):
        return _match_approx(m, actual, path, variables)
    if isinstance(m, AtMost):
        bound = float(_resolve(m.value, variables))
        number = not isinstance(actual, bool) and isinstance(actual, int | float | Decimal)
        return MatchResult(number and actual <= bound, path, f"≤ {bound:g}", _show(actual))
    if isinstance(m, Every):
        if not isinstance(actual, list | tuple):
            return MatchResult(False, path, "a list of " + describe(m, variables), _show(actual))
        for index, item in enumerate(actual):
            result = _match(m.item, item, f"{path}[{index}]", variables)
            if not result.matched:
                return result
        return _ok(path, describe(m, variables), actual)
    if isinstance(m, Regex):
        ok = isinstance(actual, str) and re.fullmatch(m.pattern, actual) is not None
        return MatchResult(ok, path, f"text matching /{m.pattern}/", _show(actual))
    if isinstance(m, Subset):
        return _match_subset(m, actual, path, variables)
    if isinstance(m, Items):
        return _match_items(m, actual, path, variables)
    if isinstance(m, Contains):
        return _match_contains(m, actual, path, variables)
    if isinstance(m, Not):
        inner = _match(m.matcher, actual, path, variables)
        expected = "not " + describe(m.matcher, variables)
        ok = actual is not _MISSING and not inner.matched
        return MatchResult(ok, path, expected, _show(actual))
    if isinstance(m, AllOf):
        for sub in m.matchers:
            result = _match(sub, actual, path, variables)
            if not result.matched:
                return result
        return _ok(path, " and ".join(describe(s) for s in m.matchers), actual)
    results = [_match(sub, actual, path, variables) for sub in m.matchers]
    text = " or ".join(describe(s, variables) for s in m.matchers)
    return MatchResult(any(r.matched for r in results), path, text, _show(actual))


def _match_approx(m: Approx, actual: Any, path: str, variables: Mapping[str, Any]) -> MatchResult:
    target = float(_resolve(m.value, variables))
    allowed = max(m.abs_tol, m.rel_tol * abs(target))
    expected = f"{target:g} ± {allowed:g}"
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return MatchResult(False, path, expected, _show(actual))
    return MatchResult(abs(actual - target) <= allowed, path, expected, _show(actual))


def _match_subset(m: Subset, actual: Any, path: str, variables: Mapping[str, Any]) -> MatchResult:
    if not isinstance(actual, Mapping):
        return MatchResult(False, path, "an object with " + describe(m, variables), _show(actual))
    for key, sub in m.fields:
        result = _match(sub, actual.get(key, _MISSING), f"{path}.{key}", variables)
        if not result.matched:
            return result
    return _ok(path, describe(m, variables), actual)


def _match_items(m: Items, actual: Any, path: str, variables: Mapping[str, Any]) -> MatchResult:
    if not isinstance(actual, list | tuple) or len(actual) != len(m.items):
        return MatchResult(
            False, path, f"a list of {len(m.items)}: {describe(m, variables)}", _show(actual)
        )
    for index, (sub, item) in enumerate(zip(m.items, actual, strict=True)):
        result = _match(sub, item, f"{path}[{index}]", variables)
        if not result.matched:
            return result
    return _ok(path, describe(m, variables), actual)


def _match_contains(
    m: Contains, actual: Any, path: str, variables: Mapping[str, Any]
) -> MatchResult:
    expected = "a list containing " + describe(m, variables)
    if not isinstance(actual, list | tuple):
        return MatchResult(False, path, expected, _show(actual))
    # Each matcher needs its own element: a small bipartite matching (augmenting paths).
    candidates = [
        [j for j, item in enumerate(actual) if _match(sub, item, path, variables).matched]
        for sub in m.items
    ]
    owner: dict[int, int] = {}

    def assign(i: int, seen: set[int]) -> bool:
        for j in candidates[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or assign(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    ok = all(assign(i, set()) for i in range(len(m.items)))
    return MatchResult(ok, path, expected, _show(actual))


def describe(m: Matcher, variables: Mapping[str, Any] | None = None) -> str:
    """Every acceptable outcome of ``m`` in words (for Expected lines and reports)."""
    env = variables or {}

    def show(value: Any) -> str:
        value = env.get(value.name, value) if isinstance(value, ParamRef) else value
        return str(value) if isinstance(value, ParamRef) else _show(value)

    if isinstance(m, Equals):
        return show(m.value)
    if isinstance(m, OneOf):
        return "one of " + ", ".join(show(o) for o in m.options)
    if isinstance(m, Approx):
        tol = f"± {m.abs_tol:g}" if m.abs_tol else ""
        rel = f"± {m.rel_tol:.3g} relative" if m.rel_tol else ""
        return f"{show(m.value)} {' or '.join(t for t in (tol, rel) if t)}"
    if isinstance(m, Regex):
        return f"text matching /{m.pattern}/"
    if isinstance(m, AtMost):
        return f"≤ {show(m.value)}"
    if isinstance(m, Every):
        return f"every item {describe(m.item, env)}"
    if isinstance(m, Present):
        return "present (any value)"
    if isinstance(m, Absent):
        return "absent"
    if isinstance(m, Subset):
        return "{" + ", ".join(f"{k}: {describe(s, env)}" for k, s in m.fields) + "}"
    if isinstance(m, Items | Contains):
        return "[" + ", ".join(describe(s, env) for s in m.items) + "]"
    if isinstance(m, Not):
        return "not " + describe(m.matcher, env)
    joiner = " and " if isinstance(m, AllOf) else " or "
    return "(" + joiner.join(describe(s, env) for s in m.matchers) + ")"
