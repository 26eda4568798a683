"""Load scenario files into validated :class:`~harness.scenario.model.Case` objects.

A scenario file holds one case (a mapping) or several (a list of mappings). A directory
stands for every ``*.yaml`` / ``*.yml`` file under it, recursively, in name order.

Every problem in every file is collected — YAML syntax, duplicate keys, unknown fields,
wrong types, bad matchers, unknown capabilities, unknown variables, duplicate case ids
across files — and reported together as one :class:`ScenarioLoadError` whose problems read
``file:line:column: field.path: what was expected``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from harness.scenario.checks import check_case, check_raw_case
from harness.scenario.errors import Problem, ScenarioLoadError, SourceLocation
from harness.scenario.model import Case
from harness.scenario.translate import problems_from_validation, yaml_path
from harness.scenario.yamlsource import Located, read_yaml

__all__ = [
    "NOT_CASES",
    "LoadResult",
    "LoadedCase",
    "collect_cases",
    "load_case_file",
    "load_cases",
    "scenario_files",
]

SUFFIXES = (".yaml", ".yml")
NOT_CASES = frozenset({"capabilities", "catalogue", "fleets", "labs", "schema"})
"""Sub-directories skipped when a directory is expanded: they hold other kinds of YAML
(capability declarations, the official catalogue, fleets, lab parameter files). A file named
explicitly is read."""


@dataclass(frozen=True)
class LoadedCase:
    """A case and where it was defined."""

    case: Case
    location: SourceLocation


@dataclass
class LoadResult:
    """Everything found in a set of files: good cases, and problems per file."""

    files: list[str] = field(default_factory=list)
    cases: list[LoadedCase] = field(default_factory=list)
    problems: dict[str, list[Problem]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No problem in any file."""
        return not any(self.problems.values())

    def all_problems(self) -> list[Problem]:
        """Every problem, file by file."""
        return [problem for file in self.files for problem in self.problems.get(file, [])]


def scenario_files(paths: Iterable[Path | str]) -> tuple[list[Path], list[Problem]]:
    """Expand files and directories into scenario files.

    A directory gives every ``*.yaml`` / ``*.yml`` under it, recursively and sorted, except
    under sub-directories named in :data:`NOT_CASES`.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix in SUFFIXES
                and not NOT_CASES.intersection(p.relative_to(path).parts[:-1])
            )
            if not found:
                problems.append(
                    Problem(
                        SourceLocation(str(path), 1, 1), (), "no *.yaml files in this directory"
                    )
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(
                Problem(SourceLocation(str(path), 1, 1), (), "no such file or directory")
            )
    return files, problems


def _cases_in(located: Located) -> tuple[list[LoadedCase], list[Problem]]:
    data = located.data
    entries: list[tuple[tuple[int, ...], object]]
    if isinstance(data, Mapping):
        entries = [((), data)]
    elif isinstance(data, list):
        entries = [((index,), item) for index, item in enumerate(data)]
        if not entries:
            return [], [
                Problem(located.where(()), (), "expected at least one case, got an empty list")
            ]
    else:
        return [], [
            Problem(
                located.where(()), (), f"expected a case (mapping) or a list of cases, got {data!r}"
            )
        ]
    cases: list[LoadedCase] = []
    problems: list[Problem] = []
    for base, raw in entries:
        try:
            case = Case.model_validate(raw)
        except ValidationError as exc:
            problems.extend(problems_from_validation(exc, located, Case, base=base))
            found = check_raw_case(raw)  # the valid parts' cross-field problems, same run
        else:
            found = check_case(case)
            cases.append(LoadedCase(case, located.where(base)))
        for path, message in found:
            full = (*base, *path)
            where = located.where(yaml_path(located.data, full))
            problems.append(Problem(where, full, message))
    return cases, problems


def collect_cases(paths: Iterable[Path | str]) -> LoadResult:
    """Load every case under ``paths`` without raising: problems are returned per file."""
    result = LoadResult()
    files, problems = scenario_files(paths)
    for problem in problems:
        result.files.append(problem.location.file)
        result.problems[problem.location.file] = [problem]
    # One id may name one case per OCPP version (VP-04 over 1.6 and over 2.0.1): ids clash
    # only when the versions overlap.
    first_seen: dict[tuple[str, str], LoadedCase] = {}
    for path in files:
        name = str(path)
        if name in result.problems or name in result.files:
            continue
        result.files.append(name)
        located, file_problems = read_yaml(path)
        if located is not None:
            cases, more = _cases_in(located)
            file_problems.extend(more)
            for loaded in cases:
                keys = [(loaded.case.id, str(v)) for v in loaded.case.ocpp_versions]
                earlier = next((first_seen[k] for k in keys if k in first_seen), None)
                if earlier is not None:
                    file_problems.append(
                        Problem(
                            loaded.location,
                            ("id",),
                            f"duplicate case id '{loaded.case.id}' for the same OCPP version "
                            f"(also defined at {earlier.location}; one id may name one case "
                            "per version)",
                        )
                    )
                    continue
                first_seen.update(dict.fromkeys(keys, loaded))
                result.cases.append(loaded)
        result.problems[name] = sorted(file_problems, key=lambda p: (p.location, p.message))
    return result


def load_cases(paths: Iterable[Path | str]) -> list[Case]:
    """Load every case in the given files and directories, in file order.

    Raises :class:`ScenarioLoadError` listing every problem in every file; no case is
    returned when any file has a problem.
    """
    result = collect_cases(paths)
    if not result.ok:
        raise ScenarioLoadError(result.all_problems())
    return [loaded.case for loaded in result.cases]


def load_case_file(path: Path | str) -> list[Case]:
    """The cases of one file (one case, or a list of cases)."""
    return load_cases([path])
