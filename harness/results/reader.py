"""Reading a run folder back (see ``FORMAT.md``)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.results._json import Obj, ResultFormatError
from harness.results.case import CaseResult
from harness.results.manifest import (
    EVENTS,
    MANIFEST,
    OUTSIDE,
    RESULTS,
    SERIES,
    TRACES,
    Manifest,
    RunStoreError,
    TornLineWarning,
    check_name,
)
from harness.results.measurement import Series

__all__ = ["RunReader"]


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """Parsed lines of a JSON Lines file, with 1-based line numbers; a torn last line is
    skipped with a warning, any other bad line raises."""
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                warnings.warn(
                    TornLineWarning(
                        f"{path}:{lineno}: the last line is incomplete ({len(raw)} bytes; the "
                        "writer stopped mid-line) and was skipped"
                    ),
                    stacklevel=3,
                )
                return
            try:
                yield lineno, json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise RunStoreError(f"{path}:{lineno}: not a valid JSON line: {exc}") from None


class RunReader:
    """Reads a run folder written by :class:`RunWriter` (also while it is being written, or
    after a crash). Obtain it from :meth:`RunStore.open`."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        path = run_dir / MANIFEST
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RunStoreError(f"{path}: missing; {run_dir} is not a run folder") from None
        try:
            self.manifest = Manifest.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise RunStoreError(f"{path}: not valid JSON: {exc}") from None
        except ResultFormatError as exc:
            raise RunStoreError(f"{path}: {exc}") from None

    @property
    def finished(self) -> bool:
        """True when the run ended normally (``finished_at`` is set)."""
        return self.manifest.finished_at is not None

    def results(self, *, with_series: bool = True) -> Iterator[CaseResult]:
        """The stored case results in the order written. With ``with_series=False`` the
        measurement series are not loaded (results then have ``series == ()``), which is
        much faster for matrices. A torn last line gives a :class:`TornLineWarning`."""
        path = self.run_dir / RESULTS
        if not path.exists():
            raise RunStoreError(f"{path}: missing; the run folder is incomplete")
        for lineno, value in _json_lines(path):
            where = f"{path}:{lineno}"
            if isinstance(value, dict):
                series_file = value.pop("series_file", None)
                value.pop("trace_file", None)
                if with_series and isinstance(series_file, str):
                    value["series"] = self._series_list(series_file, where)
            try:
                result = CaseResult.from_dict(value)
            except ResultFormatError as exc:
                raise RunStoreError(f"{where}: {exc}") from None
            if not with_series and result.series:
                result = replace(result, series=())
            yield result

    def _series_list(self, name: str, where: str) -> Any:
        path = self.run_dir / name
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunStoreError(f"{where}: its series file {path} is missing") from None
        except json.JSONDecodeError as exc:
            raise RunStoreError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(body, dict) or not isinstance(body.get("series"), list):
            raise RunStoreError(f"{path}: expected an object with a 'series' list")
        return body["series"]

    def series(self, case_key: str) -> tuple[Series, ...]:
        """The measurement series stored for ``case_key`` (empty if it has none)."""
        path = self.run_dir / SERIES / f"{check_name(case_key, 'case key')}.json"
        if not path.exists():
            return ()
        items = self._series_list(f"{SERIES}/{case_key}.json", str(path))
        try:
            return tuple(Series.from_obj(Obj(item, f"series[{i}]")) for i, item in enumerate(items))
        except ResultFormatError as exc:
            raise RunStoreError(f"{path}: {exc}") from None

    def trace_keys(self) -> list[str]:
        """Keys of the cases that have a trace, sorted."""
        return sorted(p.stem for p in (self.run_dir / TRACES).glob("*.jsonl"))

    def trace(self, case_key: str) -> list[dict[str, Any]]:
        """The frames of a case's trace, in order (list index = frame index cited by checks).
        A torn last frame gives a :class:`TornLineWarning`; no trace raises
        :class:`RunStoreError`."""
        path = self.run_dir / TRACES / f"{check_name(case_key, 'case key')}.jsonl"
        if not path.exists():
            raise RunStoreError(f"{path}: no trace was recorded for case key {case_key}")
        frames = []
        for lineno, value in _json_lines(path):
            if not isinstance(value, dict):
                raise RunStoreError(f"{path}:{lineno}: expected a JSON object, got {value!r}")
            frames.append(value)
        return frames

    def outside(self) -> list[dict[str, Any]]:
        """The frames recorded outside any case (``outside.jsonl``; the last line may be the
        flood summary ``{"summary": ..., "counted_only": N}``); empty if there were none."""
        return self._objects(self.run_dir / OUTSIDE)

    def events(self) -> list[dict[str, Any]]:
        """The run's events (``events.jsonl``: refusals, failed authentication, replaced
        connections, ...); empty if there were none."""
        return self._objects(self.run_dir / EVENTS)

    def _objects(self, path: Path) -> list[dict[str, Any]]:
        if not path.exists():
            return []
        out = []
        for lineno, value in _json_lines(path):
            if not isinstance(value, dict):
                raise RunStoreError(f"{path}:{lineno}: expected a JSON object, got {value!r}")
            out.append(value)
        return out
