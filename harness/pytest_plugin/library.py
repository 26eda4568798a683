"""Finding the cases a test names: by id in the case library (and the folders of the
``ocpp_scenarios`` option), by file or folder path, or by suite name."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from harness.runner.inputs import RunnerInputError, resolve_suites, scenarios_root
from harness.scenario import Case, ScenarioLoadError, load_cases

__all__ = ["CaseLibrary", "CaseLookupError"]


class CaseLookupError(Exception):
    """A case reference that names nothing, or a case file that does not load."""


class CaseLibrary:
    """The cases of one pytest session, loaded on first use and kept."""

    def __init__(self, extra: Sequence[Path] = ()) -> None:
        self._extra = tuple(extra)
        self._all: dict[str, Case] | None = None

    def roots(self) -> tuple[Path, ...]:
        """Where ids are looked up: the ``ocpp_scenarios`` paths, then the library."""
        try:
            library: tuple[Path, ...] = (scenarios_root(),)
        except RunnerInputError:
            library = ()
        return (*self._extra, *library)

    def cases(self, refs: Sequence[str | Path | Case], *, base: Path) -> list[Case]:
        """The cases ``refs`` name: each a case id, a file/folder (relative to ``base``,
        the test file's folder, or to the working directory), or a loaded case."""
        out: list[Case] = []
        for ref in refs:
            if isinstance(ref, Case):
                out.append(ref)
                continue
            path = self._existing(ref, base)
            out += _load([path]) if path is not None else [self._by_id(str(ref))]
        return out

    def suites(self, names: Sequence[str | Path], *, base: Path) -> list[Case]:
        """The cases of suites (folders under ``scenarios/``), files or folders; none: all."""
        paths: list[Path] = []
        for name in names:
            path = self._existing(name, base)
            paths += [path] if path is not None else _resolve(str(name))
        return _load(paths if names else _resolve(""))

    @staticmethod
    def _existing(ref: str | Path, base: Path) -> Path | None:
        for candidate in (base / ref, Path(ref)):
            if candidate.exists():
                return candidate
        return None

    def _by_id(self, case_id: str) -> Case:
        for root in self.roots():  # fast path: the file is named after the case
            for path in sorted(root.rglob(f"{case_id}.yaml")) if root.is_dir() else ():
                found = [c for c in _load([path]) if c.id == case_id]
                if found:
                    return found[0]
        known = self._everything()
        if case_id in known:
            return known[case_id]
        close = difflib.get_close_matches(case_id, list(known), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        where = ", ".join(str(r) for r in self.roots()) or "no case library found"
        raise CaseLookupError(f"no case with id {case_id!r} in {where}{hint}")

    def _everything(self) -> dict[str, Case]:
        if self._all is None:
            found: dict[str, Case] = {}
            for root in reversed(self.roots()):  # the ocpp_scenarios paths win
                found.update({c.id: c for c in _load([root])})
            self._all = found
        return self._all


def _resolve(name: str) -> list[Path]:
    try:
        return resolve_suites((name,) if name else ())
    except RunnerInputError as exc:
        raise CaseLookupError(str(exc)) from None


def _load(paths: list[Path]) -> list[Case]:
    try:
        return load_cases(paths)
    except ScenarioLoadError as exc:
        raise CaseLookupError(str(exc)) from None
