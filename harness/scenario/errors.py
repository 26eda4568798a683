"""Errors in scenario, capability and parameter files: file:line:column, field path, message.

Loading never raises a traceback at the user: every problem in a file is collected into a
:class:`Problem`, and the loaders raise one :class:`ScenarioLoadError` holding them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["FieldPath", "Problem", "ScenarioLoadError", "SourceLocation", "format_path"]

FieldPath = tuple[str | int, ...]


def format_path(path: Iterable[str | int]) -> str:
    """``("steps", 2, "send", "timeout_s")`` → ``steps[2].send.timeout_s`` (root: ``<top>``)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "<top>"


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A position in a file; line and column count from 1.

    Line 0 means "no line": the source is not a file (e.g. a ``--param`` option).
    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file: where, which field, and what was expected."""

    location: SourceLocation
    path: FieldPath
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {format_path(self.path)}: {self.message}"


class ScenarioLoadError(Exception):
    """One or more :class:`Problem` s in the files being loaded (``problems`` lists them all)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(
            sorted(problems, key=lambda p: (p.location, format_path(p.path), p.message))
        )
        count = len(self.problems)
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''}:\n{lines}")
