"""Reading a run folder back (see ``FORMAT.md``)."""

from __future__ import annotations

import gzip
import json
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.results._json import Obj, ResultFormatError
from harness.results.case import CaseResult
from harness.results.decode import ResultDecoder
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
from harness.results.verdict import Verdict

__all__ = ["RunReader", "StoredResult"]

_DECODER = json.JSONDecoder()
_loads = _DECODER.decode
_scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
"""The decoder's scanner (json's C scanner): one JSON value at an index, and where it ends."""


def stored_path(path: Path) -> Path:
    """``path``, or its gzip-compressed form ``<path>.gz`` when only that exists (a
    compacted run, :mod:`harness.results.compact`); ``path`` when neither exists."""
    if path.exists():
        return path
    packed = path.with_name(path.name + ".gz")
    return packed if packed.exists() else path


def read_stored_bytes(path: Path) -> bytes:
    """The content of ``path`` or of its compressed form (see :func:`stored_path`), a
    ``.gz`` file decompressed; ``FileNotFoundError`` when neither exists, ``RunStoreError``
    for a corrupt gzip file."""
    found = stored_path(path)
    if not found.name.endswith(".gz"):
        return found.read_bytes()
    try:
        return gzip.decompress(found.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise RunStoreError(f"{found}: not a readable gzip file: {exc}") from None


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """Parsed lines of a JSON Lines file (plain or compacted), with 1-based line numbers; a
    torn last line is skipped with a warning, any other bad line raises."""
    found = stored_path(path)
    if found is not path:
        yield from _json_lines_of(found, read_stored_bytes(path).splitlines(keepends=True))
        return
    with path.open("rb") as handle:
        yield from _json_lines_of(path, handle)


def _json_lines_of(path: Path, lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    scan = _scan
    for lineno, raw in enumerate(lines, start=1):
        if not raw.endswith(b"\n"):
            warnings.warn(
                TornLineWarning(
                    f"{path}:{lineno}: the last line is incomplete ({len(raw)} bytes; the "
                    "writer stopped mid-line) and was skipped"
                ),
                stacklevel=4,
            )
            return
        try:
            text = raw.decode("utf-8")  # a str skips json's encoding sniffing
            # json's own C scanner, without JSONDecoder.decode's two whitespace regexes
            # around it: a line as the store writes it is one value and its newline. Any
            # other line (spaces, \r\n, extra data, an error) is read by json.loads, which
            # then judges it (and words any error) as it always did.
            try:
                value, end = scan(text, 0)
            except (StopIteration, ValueError):
                end = -1
            if end != len(text) - 1:
                value = _loads(text)
            yield lineno, value
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RunStoreError(f"{path}:{lineno}: not a valid JSON line: {exc}") from None


_VERDICTS = {v.value: v for v in Verdict}


class StoredResult:
    """One line of ``results.jsonl`` read by :meth:`RunReader.index`: its ``key`` and
    ``verdict`` at once, the whole :class:`CaseResult` on demand."""

    __slots__ = ("_decoder", "_result", "_value", "key", "verdict", "where")

    def __init__(
        self, key: str, verdict: Verdict, value: dict[str, Any], where: str, decoder: ResultDecoder
    ) -> None:
        self.key = key
        self.verdict = verdict
        self.where = where
        """``file:line`` of the result."""
        self._value = value
        self._decoder = decoder
        self._result: CaseResult | None = None

    def result(self) -> CaseResult:
        """The whole result (without its series), every field checked; raises
        :class:`RunStoreError` naming the line when it is not a valid result or its stored
        key or verdict disagree with its content."""
        if self._result is None:
            value = dict(self._value)
            value.pop("series_file", None)
            value.pop("trace_file", None)
            try:
                self._result = self._decoder.decode(value)
            except ResultFormatError as exc:
                raise RunStoreError(f"{self.where}: {exc}") from None
        return self._result


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
        decode = ResultDecoder().decode
        for lineno, value in _json_lines(path):
            if type(value) is dict:
                series_file = value.pop("series_file", None)
                value.pop("trace_file", None)
                if with_series and isinstance(series_file, str):
                    value["series"] = self._series_list(series_file, f"{path}:{lineno}")
            try:
                result = decode(value)
            except ResultFormatError as exc:
                raise RunStoreError(f"{path}:{lineno}: {exc}") from None
            if not with_series and result.series:
                result = replace(result, series=())
            yield result

    def index(self) -> Iterator[StoredResult]:
        """The stored results in the order written, each as its line's ``key`` and
        ``verdict`` (checked to be a string and a verdict) with the whole result decoded only
        when :meth:`StoredResult.result` is asked for (fully checked then, as by
        :meth:`results`, series not loaded). For what needs only keys and verdicts (which
        cases are done, a summary count), at the cost of ``json.loads`` per line. A torn
        last line gives a :class:`TornLineWarning`."""
        path = self.run_dir / RESULTS
        if not path.exists():
            raise RunStoreError(f"{path}: missing; the run folder is incomplete")
        decoder = ResultDecoder()
        for lineno, value in _json_lines(path):
            where = f"{path}:{lineno}"
            key = stored = None
            if type(value) is dict:
                key, stored = value.get("key"), value.get("verdict")
            verdict = _VERDICTS.get(stored) if type(stored) is str else None
            if type(key) is not str or verdict is None:
                try:  # the careful decoder names what is wrong
                    decoder.decode(value)
                except ResultFormatError as exc:
                    raise RunStoreError(f"{where}: {exc}") from None
                raise RunStoreError(f"{where}: expected a 'key' string and a 'verdict'")
            yield StoredResult(key, verdict, value, where, decoder)

    def _series_list(self, name: str, where: str) -> Any:
        path = self.run_dir / name
        try:
            body = json.loads(read_stored_bytes(path).decode("utf-8"))
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
        if not stored_path(path).exists():
            return ()
        items = self._series_list(f"{SERIES}/{case_key}.json", str(path))
        try:
            return tuple(Series.from_obj(Obj(item, f"series[{i}]")) for i, item in enumerate(items))
        except ResultFormatError as exc:
            raise RunStoreError(f"{path}: {exc}") from None

    def trace_keys(self) -> list[str]:
        """Keys of the cases that have a trace, sorted."""
        folder = self.run_dir / TRACES
        plain = {p.name.removesuffix(".jsonl") for p in folder.glob("*.jsonl")}
        packed = {p.name.removesuffix(".jsonl.gz") for p in folder.glob("*.jsonl.gz")}
        return sorted(plain | packed)

    def trace(self, case_key: str) -> list[dict[str, Any]]:
        """The frames of a case's trace, in order (list index = frame index cited by checks).
        A torn last frame gives a :class:`TornLineWarning`; no trace raises
        :class:`RunStoreError`."""
        path = self.run_dir / TRACES / f"{check_name(case_key, 'case key')}.jsonl"
        if not stored_path(path).exists():
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
