"""Which cases ``ocpp-harness run`` and ``list`` take: the same selectors for both.

A selector is, tried in this order:

1. an existing file or folder (case YAML);
2. a folder of the case library holding cases (``ocpp16``, ``vehicle-programme``);
3. a suite name as the cases declare it and ``list`` shows it (``csms-ocpp16``);
4. a case id (``TC_066_CS``; one id may name a case per OCPP version: all are taken) or a
   shell-style glob over case ids (``'TC_K_4*'``, ``'VP-0?'``), case-insensitive.

No selector means the whole library. ``-k EXPR`` then keeps the cases whose id, suite,
category or title contain the words of a boolean expression (``and``, ``or``, ``not``,
parentheses; words case-insensitive), as pytest's ``-k`` does. A selector that matches
nothing, or a ``-k`` that leaves nothing, is bad input naming what exists.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from harness.runner.inputs import RunnerInputError, scenarios_root
from harness.scenario import Case, ScenarioLoadError, collect_cases, load_cases

__all__ = ["keyword_matcher", "select_cases"]


def select_cases(selectors: Sequence[str], *, keyword: str | None = None) -> list[Case]:
    """The cases ``selectors`` name (see the module docstring), filtered by ``keyword``.

    Raises :class:`RunnerInputError` for a selector that matches nothing or a bad ``-k``
    expression, :class:`ScenarioLoadError` (file:line) for a case file with problems.
    """
    matcher = keyword_matcher(keyword) if keyword else None
    chosen: list[Case] = []
    seen: set[tuple[str, str, tuple[str, ...]]] = set()

    def take(cases: Sequence[Case]) -> None:
        for case in cases:
            identity = (case.id, case.suite, tuple(str(v) for v in case.ocpp_versions))
            if identity not in seen:
                seen.add(identity)
                chosen.append(case)

    library: _Library | None = None
    if not selectors:
        library = _Library.load()
        take([case for _, case in library.cases])
    for selector in selectors:
        path = Path(selector)
        if path.exists():
            take(load_cases([path]))
            continue
        library = library or _Library.load()
        found = library.match(selector)
        if not found:
            raise RunnerInputError(library.nothing_matches(selector))
        take(found)
    if matcher is None:
        return chosen
    kept = [c for c in chosen if matcher(_haystack(c))]
    if not kept:
        raise RunnerInputError(f"-k {keyword!r}: none of the {len(chosen)} selected case(s) match")
    return kept


class _Library:
    """The case library, loaded once, with the folder each case came from."""

    def __init__(self, root: Path, cases: list[tuple[str, Case]]) -> None:
        self.root = root
        self.cases = cases

    @classmethod
    def load(cls) -> _Library:
        """The library under :func:`scenarios_root`, loaded again only when one of its YAML
        files changed (their paths, sizes and modification times are the cache key)."""
        root = scenarios_root()
        stamp = tuple(
            (str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*.y*ml"))
        )
        return cls._load(root, stamp)

    @classmethod
    @functools.lru_cache(maxsize=2)
    def _load(cls, root: Path, stamp: tuple[tuple[str, int, int], ...]) -> _Library:
        del stamp  # only the cache key
        result = collect_cases([root])
        if not result.ok:
            raise ScenarioLoadError(result.all_problems())
        cases = []
        for loaded in result.cases:
            try:
                folder = Path(loaded.location.file).resolve().relative_to(root.resolve()).parts[0]
            except (ValueError, IndexError):
                folder = ""
            cases.append((folder, loaded.case))
        return cls(root, cases)

    def match(self, selector: str) -> list[Case]:
        by_folder = [c for folder, c in self.cases if folder == selector]
        if by_folder:
            return by_folder
        by_suite = [c for _, c in self.cases if c.suite == selector]
        if by_suite:
            return by_suite
        pattern = selector.upper()
        return [c for _, c in self.cases if fnmatchcase(c.id.upper(), pattern)]

    def nothing_matches(self, selector: str) -> str:
        suites = sorted({c.suite for _, c in self.cases} | {f for f, _ in self.cases if f})
        return (
            f"{selector}: no case file, suite or case id matches (suites: {', '.join(suites)}; "
            "or a case id such as TC_066_CS, or a glob such as 'TC_K_*'; "
            "`ocpp-harness list` shows every case)"
        )


def _haystack(case: Case) -> str:
    return f"{case.id} {case.suite} {case.category} {case.title}".lower()


_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def keyword_matcher(expression: str) -> Callable[[str], bool]:
    """A predicate over a lower-case text for a ``-k`` expression: words (substrings,
    case-insensitive) joined by ``and``, ``or``, ``not`` and parentheses, ``not`` binding
    tightest and ``or`` loosest. :class:`RunnerInputError` for a malformed expression."""
    tokens = _TOKEN.findall(expression)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def advance() -> str:
        nonlocal position
        token = peek()
        if token is None:
            raise RunnerInputError(f"-k {expression!r}: the expression ends too early")
        position += 1
        return token

    def parse_or() -> Callable[[str], bool]:
        parts = [parse_and()]
        while peek() == "or":
            advance()
            parts.append(parse_and())
        return parts[0] if len(parts) == 1 else (lambda text: any(p(text) for p in parts))

    def parse_and() -> Callable[[str], bool]:
        parts = [parse_not()]
        while peek() == "and":
            advance()
            parts.append(parse_not())
        return parts[0] if len(parts) == 1 else (lambda text: all(p(text) for p in parts))

    def parse_not() -> Callable[[str], bool]:
        token = advance()
        if token == "not":
            inner = parse_not()
            return lambda text: not inner(text)
        if token == "(":
            inner = parse_or()
            if advance() != ")":
                raise RunnerInputError(f"-k {expression!r}: expected ')'")
            return inner
        if token in ("and", "or", ")"):
            raise RunnerInputError(f"-k {expression!r}: unexpected {token!r}")
        word = token.lower()
        return lambda text: word in text

    if not tokens:
        raise RunnerInputError("-k: the expression is empty")
    matcher = parse_or()
    if peek() is not None:
        raise RunnerInputError(f"-k {expression!r}: unexpected {peek()!r}")
    return matcher
