"""Parameter values for a run: defaults, a lab's parameter file, and ``--param`` options.

Precedence, lowest first: the case's defaults; the vehicle fact named by the parameter's
``from_vehicle`` when the run knows it (:func:`with_vehicle_facts`, applied by the runner
once it knows the vehicle); the lab file's ``parameters`` (for every case declaring the
name); the lab file's ``cases: {ID: {...}}``; ``--param NAME=VALUE``;
``--param CASE_ID:NAME=VALUE``.

Lab parameter file::

    parameters:            # applied to every loaded case that declares the name
      tolerance_a: 1.5
    cases:
      VP-04:
        pause_s: 6h        # a duration: seconds or 90s / 20min / 6h

Values are checked against the declared type (and min/max). A name that no loaded case
declares (nor, for the runner, any case of the library) is an error (it is probably a
typo); so is a name the named case does not declare. A case id in the lab file that is
not loaded is ignored, so one lab file can serve several suites.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.scenario.errors import Problem, ScenarioLoadError, SourceLocation
from harness.scenario.model import Case, ParamValue
from harness.scenario.values import NAME_PATTERN
from harness.scenario.vehicle import VehicleFacts
from harness.scenario.yamlsource import Located, read_yaml

__all__ = [
    "Override",
    "ParameterOverrides",
    "ResolvedParameters",
    "check_overrides",
    "load_lab_parameters",
    "parse_param_options",
    "resolve_parameters",
    "with_vehicle_facts",
]


@dataclass(frozen=True)
class Override:
    """One value given for a parameter, and where it came from (for error messages)."""

    value: object
    source: SourceLocation
    from_text: bool = False
    """Whether ``value`` is command-line text to be parsed by the parameter's type."""


@dataclass(frozen=True)
class ParameterOverrides:
    """Values that replace parameter defaults: for every case, and per case id."""

    everywhere: Mapping[str, Override] = field(default_factory=dict)
    per_case: Mapping[str, Mapping[str, Override]] = field(default_factory=dict)

    def then(self, higher: ParameterOverrides) -> ParameterOverrides:
        """These overrides, with ``higher`` taking precedence where both give a value.

        A value ``higher`` gives for every case also beats a per-case value given here.
        """
        per_case: dict[str, dict[str, Override]] = {
            case_id: {n: o for n, o in values.items() if n not in higher.everywhere}
            for case_id, values in self.per_case.items()
        }
        for case_id, values in higher.per_case.items():
            per_case.setdefault(case_id, {}).update(values)
        return ParameterOverrides({**self.everywhere, **higher.everywhere}, per_case)


def parse_param_options(options: Sequence[str]) -> ParameterOverrides:
    """Parse ``--param [CASE_ID:]NAME=VALUE`` options; :class:`ScenarioLoadError` if malformed."""
    everywhere: dict[str, Override] = {}
    per_case: dict[str, dict[str, Override]] = {}
    problems: list[Problem] = []
    pattern = re.compile(rf"(?:([A-Za-z][A-Za-z0-9_.-]*):)?({NAME_PATTERN})=(.*)", re.DOTALL)
    for option in options:
        source = SourceLocation(f"--param {option}", 0, 0)
        match = pattern.fullmatch(option.strip())
        if match is None:
            problems.append(Problem(source, (), "expected NAME=VALUE or CASE_ID:NAME=VALUE"))
            continue
        case_id, name, text = match.groups()
        override = Override(text, source, from_text=True)
        if case_id is None:
            everywhere[name] = override
        else:
            per_case.setdefault(case_id, {})[name] = override
    if problems:
        raise ScenarioLoadError(problems)
    return ParameterOverrides(everywhere, per_case)


def load_lab_parameters(path: Path | str) -> ParameterOverrides:
    """Read a lab parameter file (see the module docstring); :class:`ScenarioLoadError` if bad."""
    located, problems = read_yaml(Path(path))
    if located is None:
        raise ScenarioLoadError(problems)
    result = ParameterOverrides()
    data = located.data
    if not isinstance(data, Mapping):
        problems.append(Problem(located.where(()), (), "expected a mapping with parameters/cases"))
    else:
        for key in data:
            if key not in {"parameters", "cases"}:
                problems.append(
                    Problem(
                        located.where((key,), key=True),
                        (key,),
                        f"unknown field '{key}' (expected one of: parameters, cases)",
                    )
                )
        everywhere = _values(located, data.get("parameters", {}), ("parameters",), problems)
        per_case: dict[str, dict[str, Override]] = {}
        cases = data.get("cases", {})
        if not isinstance(cases, Mapping):
            problems.append(
                Problem(located.where(("cases",)), ("cases",), "expected a mapping of case ids")
            )
        else:
            for case_id, values in cases.items():
                per_case[str(case_id)] = _values(located, values, ("cases", case_id), problems)
        result = ParameterOverrides(everywhere, per_case)
    if problems:
        raise ScenarioLoadError(problems)
    return result


def _values(
    located: Located, raw: object, path: tuple[str, ...], problems: list[Problem]
) -> dict[str, Override]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(Problem(located.where(path), path, "expected a mapping of NAME: VALUE"))
        return {}
    return {str(name): Override(value, located.where((*path, name))) for name, value in raw.items()}


def _unknown(name: str, known: Iterable[str], where: str) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown parameter '{name}' {where} (known: {', '.join(known) or 'none'}){hint}"


def check_overrides(
    cases: Sequence[Case], overrides: ParameterOverrides, *, known: Iterable[str] = ()
) -> list[Problem]:
    """Every problem the overrides have against ``cases``: unknown names and bad values.

    ``known``: more names a file's ``parameters`` may set though no loaded case declares
    them (those of the whole case library: one parameter file then serves a run of any
    subset, even a single case)."""
    problems: list[Problem] = []
    declared = {name for case in cases for name in case.parameters} | set(known)
    for name, override in overrides.everywhere.items():
        if name not in declared:
            problems.append(
                Problem(override.source, (name,), _unknown(name, declared, "(no loaded case)"))
            )
    by_id = {case.id: case for case in cases}
    for case_id, values in overrides.per_case.items():
        case = by_id.get(case_id)
        for name, override in values.items():
            if case is not None and name not in case.parameters:
                where = f"for case {case_id}"
                problems.append(
                    Problem(override.source, (name,), _unknown(name, case.parameters, where))
                )
    for case in cases:
        problems.extend(_resolve(case, overrides)[1])
    unique = {(str(p.location), p.message): p for p in problems}
    return list(unique.values())


class ResolvedParameters(dict[str, ParamValue]):
    """Parameter values by name (a plain ``dict``) that also know which were *given* (lab
    file, ``--param``) rather than defaults: :attr:`explicit`."""

    def __init__(self, values: Mapping[str, ParamValue], *, explicit: Iterable[str] = ()) -> None:
        super().__init__(values)
        self.explicit: frozenset[str] = frozenset(explicit)


def _resolve(case: Case, overrides: ParameterOverrides) -> tuple[ResolvedParameters, list[Problem]]:
    values = ResolvedParameters(case.default_parameters())
    problems: list[Problem] = []
    chosen = {
        name: override for name, override in overrides.everywhere.items() if name in case.parameters
    }
    chosen.update(
        (name, override)
        for name, override in overrides.per_case.get(case.id, {}).items()
        if name in case.parameters
    )
    for name, override in chosen.items():
        spec = case.parameters[name]
        try:
            values[name] = spec.coerce(override.value, from_text=override.from_text)
        except ValueError as exc:
            problems.append(
                Problem(override.source, (name,), f"{exc} (parameter of {case.id}: {spec.type})")
            )
    values.explicit = frozenset(chosen)
    return values, problems


def resolve_parameters(
    case: Case, overrides: ParameterOverrides | None = None
) -> ResolvedParameters:
    """The value of every parameter of ``case``: its defaults with ``overrides`` applied.

    Durations come out in seconds. Raises :class:`ScenarioLoadError` when an override does
    not fit the parameter's type or bounds. Names the case does not declare are ignored
    here (use :func:`check_overrides` once for the loaded set to report them). The result
    is a ``dict`` that remembers which names were overridden (for :func:`with_vehicle_facts`).
    """
    values, problems = _resolve(case, overrides or ParameterOverrides())
    if problems:
        raise ScenarioLoadError(problems)
    return values


def with_vehicle_facts(
    case: Case, parameters: Mapping[str, ParamValue], facts: VehicleFacts | None
) -> tuple[ResolvedParameters, tuple[str, ...]]:
    """``parameters`` with every ``from_vehicle`` default replaced by the vehicle's fact.

    A parameter keeps its value when it was given explicitly (``parameters`` is a
    :class:`ResolvedParameters` listing it in ``explicit``; a plain mapping counts as all
    explicit, so a caller's own values are never replaced), when the fact is unknown, or
    when the fact does not fit the parameter's type or bounds. Returns the values and one
    note per parameter taken from the vehicle, or kept because the fact did not fit.
    """
    explicit = (
        parameters.explicit if isinstance(parameters, ResolvedParameters) else set(parameters)
    )
    values = ResolvedParameters(parameters, explicit=explicit)
    notes: list[str] = []
    if facts is None:
        return values, ()
    for name, spec in case.parameters.items():
        if spec.from_vehicle is None or name in explicit:
            continue
        fact = facts.value(spec.from_vehicle)
        if fact is None:
            continue
        try:
            values[name] = spec.coerce(fact)
        except ValueError as exc:
            notes.append(
                f"{name} kept at {values.get(name)!r}: the vehicle's {spec.from_vehicle} "
                f"{fact!r} does not fit ({exc})"
            )
            continue
        notes.append(f"{name} = {values[name]!r} from the vehicle's {spec.from_vehicle}")
    return values, tuple(notes)
