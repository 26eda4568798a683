"""The run store: one run per folder, written case by case, append-only.

The on-disk format is described in ``FORMAT.md`` next to this module. In short::

    <root>/<run-id>/
        run.json                 manifest; replaced atomically (temp + os.replace) at finish
        results.jsonl            one CaseResult per line, appended as each case ends
        traces/<case-key>.jsonl  one wire frame per line, appended as frames happen
        series/<case-key>.json   the case's measurement series (written before its result)

Writing: :meth:`RunStore.create` returns a :class:`RunWriter`. Each result line goes out in
one ``os.write`` on an ``O_APPEND`` descriptor under a lock, then ``fsync``; so lines never
interleave (async tasks or threads of one process) and a crash loses at most the line being
written. Trace frames are also written one ``os.write`` each (no user-space buffer: a killed
process loses nothing already appended) and are fsynced when the sink closes.

Reading: :meth:`RunStore.open` returns a :class:`RunReader`. A torn last line (the run died
while writing it) is skipped with a :class:`TornLineWarning`; a bad line anywhere else, or a
missing or unknown manifest, raises :class:`RunStoreError` naming the file and line.

One process writes a run. Calls are synchronous: an ``fsync`` per result blocks the event loop
for a moment, once per case, which is negligible next to a case's duration.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.results._json import dump_time
from harness.results.case import CaseResult
from harness.results.devices import DeviceRef
from harness.results.manifest import (
    EVENTS,
    MANIFEST,
    OUTSIDE,
    RESULTS,
    SERIES,
    TRACES,
    Manifest,
    RunStorageError,
    RunStoreError,
    check_name,
    manifest_bytes,
)
from harness.results.reader import RunReader
from harness.security.redaction import redact, redact_frame

__all__ = ["EventLog", "OutsideTrace", "RunStore", "RunWriter", "TraceSink"]


@contextlib.contextmanager
def _storage(path: Path) -> Iterator[None]:
    """Turn an :class:`OSError` (full disk, read-only folder, ...) into a one-line
    :class:`RunStorageError` naming ``path``."""
    try:
        yield
    except OSError as exc:
        raise RunStorageError.of(path, exc) from None


def _write_all(fd: int, data: bytes) -> None:
    # A regular file takes the whole buffer in one write; loop only for the rare short write
    # (e.g. a full disk), which then fails on the next call with a clear OSError.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _replace_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _dumps(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return dump_time(obj)
        if isinstance(obj, Mapping):
            return dict(obj)
        if isinstance(obj, tuple):
            return list(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")

    return json.dumps(value, ensure_ascii=False, allow_nan=False, default=default)


class TraceSink:
    """Appends one case's wire frames to ``traces/<case-key>.jsonl`` as they happen.

    Each frame is any JSON-able mapping (the session layer's trace record: ``t``, ``dir``,
    ``raw``, ``station``, ``type``, ``id``, ``action``); datetimes become ISO 8601 UTC.
    :meth:`append` returns the frame's index, which checks cite as evidence.

    Each frame's ``raw`` text goes through :func:`harness.security.redaction.redact_frame`
    first: passwords (OCPP AuthorizationKey, BasicAuthPassword, credential fields), private
    keys and the given ``secrets`` never reach the disk; a frame without them is stored as is.
    """

    def __init__(self, path: Path, key: str, *, secrets: Iterable[str] = ()) -> None:
        self.key = key
        self.path = path
        self._secrets = tuple(secrets)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL
        with _storage(path):
            self._fd: int | None = os.open(path, flags, 0o644)
        self._count = 0
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        """Frames appended so far (the next frame's index)."""
        return self._count

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._fd is None

    def append(self, frame: Mapping[str, Any]) -> int:
        """Write ``frame`` as one line now; return its index in the trace (from 0)."""
        record = dict(frame)
        raw = record.get("raw")
        if isinstance(raw, str):
            record["raw"] = redact_frame(raw, secrets=self._secrets)
        try:
            line = (_dumps(record) + "\n").encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise RunStoreError(f"{self.path}: frame {self._count} is not JSON: {exc}") from None
        with self._lock:
            if self._fd is None:
                raise RunStoreError(f"{self.path}: the trace of {self.key} is closed")
            with _storage(self.path):
                _write_all(self._fd, line)
            index = self._count
            self._count += 1
        return index

    def close(self) -> None:
        """Flush the trace to disk and close it (idempotent; closed even when the flush
        fails, which raises :class:`RunStorageError`)."""
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                try:
                    with _storage(self.path):
                        os.fsync(fd)
                finally:
                    os.close(fd)


class OutsideTrace:
    """The frames of the DUT's connections outside any case, ``outside.jsonl``.

    Every frame is written in full, like a case's trace, up to ``max_frames``; after that
    (a flood) frames are only counted per direction, message type and action, and the counts
    are written as one last line ``{"summary": {...}, "counted_only": N}`` when the trace
    closes (also ``flush_summary``). Nothing the peer sent is silently lost.
    """

    def __init__(
        self, path: Path, *, secrets: Iterable[str] = (), max_frames: int = 10_000
    ) -> None:
        self._sink = TraceSink(path, "outside", secrets=secrets)
        self.max_frames = max_frames
        self._counts: dict[str, int] = {}
        self._counted_only = 0
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._sink.closed

    @property
    def count(self) -> int:
        """Frames written in full so far."""
        return self._sink.count

    def append(self, frame: Mapping[str, Any]) -> int | None:
        """Record ``frame``; its line index, or ``None`` when it was only counted."""
        with self._lock:
            key = f"{frame.get('dir')} {frame.get('type')} {frame.get('action') or ''}".strip()
            self._counts[key] = self._counts.get(key, 0) + 1
            if self._sink.count >= self.max_frames:
                self._counted_only += 1
                return None
        return self._sink.append(frame)

    def close(self) -> None:
        """Write the counts (``summary``: frames per ``dir type action``) and close."""
        with self._lock:
            if self._sink.closed:
                return
            counts, only = dict(self._counts), self._counted_only
        try:
            self._sink.append({"summary": counts, "counted_only": only})
        finally:
            self._sink.close()


class EventLog:
    """``events.jsonl``: one JSON object per line, ``{"t", "event", ...}``, redacted, each line
    written in one ``os.write`` as it happens (a killed run keeps every line written)."""

    def __init__(self, path: Path, *, secrets: Iterable[str] = ()) -> None:
        self.path = path
        self._secrets = tuple(s for s in secrets if s)
        with _storage(path):
            self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def append(self, event: str, *, at: datetime, **fields: Any) -> None:
        """Write one event line (fields that are secrets become ``«redacted»``)."""
        line = redact({"t": at, "event": event, **fields}, secrets=self._secrets)
        data = (_dumps(line) + "\n").encode("utf-8")
        with self._lock:
            if self._fd is None:
                raise RunStoreError(f"{self.path}: the event log is closed")
            with _storage(self.path):
                _write_all(self._fd, data)

    def close(self) -> None:
        """Flush to disk and close (idempotent; a failed flush raises
        :class:`RunStorageError`, the file is closed anyway)."""
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                try:
                    with _storage(self.path):
                        os.fsync(fd)
                finally:
                    os.close(fd)


class RunWriter:
    """Writes one run folder. Obtain it from :meth:`RunStore.create`; use it as a context
    manager or call :meth:`finish` (or :meth:`close` to stop without marking the run finished).
    """

    def __init__(self, run_dir: Path, manifest: Manifest, *, secrets: Iterable[str] = ()) -> None:
        self.run_dir = run_dir
        self._manifest = manifest
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.Lock()
        self._sinks: dict[str, TraceSink] = {}
        self._written: set[str] = set()
        with _storage(run_dir / RESULTS):
            self._fd: int | None = os.open(
                run_dir / RESULTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644
            )
        self._outside: OutsideTrace | None = None
        self._events: EventLog | None = None

    @property
    def manifest(self) -> Manifest:
        """The manifest as last written to ``run.json``."""
        return self._manifest

    def trace_sink(self, case_key: str, *, secrets: Iterable[str] = ()) -> TraceSink:
        """Open the trace of the case with key ``case_key`` (``CaseInfo.key``); one per key.

        ``secrets`` (e.g. ``SecurityProfile.secrets()``) are hidden wherever they appear in a
        frame, on top of the fields :func:`~harness.security.redaction.redact_frame` always hides.
        """
        check_name(case_key, "case key")
        with self._lock:
            self._require_open()
            if case_key in self._sinks or case_key in self._written:
                raise RunStoreError(f"{self.run_dir}: a trace for case key {case_key} exists")
            sink = TraceSink(
                self.run_dir / TRACES / f"{case_key}.jsonl",
                case_key,
                secrets=(*self._secrets, *secrets),
            )
            self._sinks[case_key] = sink
        return sink

    def outside_trace(self, *, secrets: Iterable[str] = ()) -> OutsideTrace:
        """The run's trace of frames outside any case (``outside.jsonl``, opened once)."""
        with self._lock:
            self._require_open()
            if self._outside is None:
                self._outside = OutsideTrace(
                    self.run_dir / OUTSIDE, secrets=(*self._secrets, *secrets)
                )
            return self._outside

    def record_event(self, event: str, *, at: datetime, **fields: Any) -> None:
        """Append one line to the run's ``events.jsonl`` (refusals, failed authentication,
        replaced connections, a station that did not come back ...)."""
        with self._lock:
            self._require_open()
            if self._events is None:
                self._events = EventLog(self.run_dir / EVENTS, secrets=self._secrets)
            events = self._events
        events.append(event, at=at, **fields)

    def write_result(self, result: CaseResult) -> None:
        """Append ``result`` as one line of ``results.jsonl`` (fsynced before returning).

        Its trace sink, if any, is then closed (the case is over). Refused, with a
        :class:`RunStoreError` and nothing written or closed, when the key was already
        written, or a check cites a frame beyond the recorded trace or a series the result
        does not hold: both are harness defects (evidence must exist), so the caller should
        store a :meth:`CaseResult.harness_error` for the case instead.
        """
        key = result.key
        with self._lock:
            self._require_open()
            if key in self._written:
                raise RunStoreError(f"{self.run_dir}: case key {key} was already written")
            sink = self._sinks.get(key)
            self._check_evidence(result, 0 if sink is None else sink.count)
            if sink is not None:
                del self._sinks[key]
                sink.close()
            line = result.to_dict()
            if result.series:
                name = f"{SERIES}/{key}.json"
                body = {"key": key, "series": line["series"]}
                with _storage(self.run_dir / name):
                    _replace_atomically(self.run_dir / name, (_dumps(body) + "\n").encode("utf-8"))
                line["series"] = []
                line["series_file"] = name
            if sink is not None:
                line["trace_file"] = f"{TRACES}/{key}.jsonl"
            if self._secrets:
                line = redact(line, secrets=self._secrets)
            assert self._fd is not None
            with _storage(self.run_dir / RESULTS):
                _write_all(self._fd, (_dumps(line) + "\n").encode("utf-8"))
                os.fsync(self._fd)
            self._written.add(key)

    def _check_evidence(self, result: CaseResult, frames: int) -> None:
        names = {s.name for s in result.series}
        for check in result.checks:
            rid = check.requirement.id
            beyond = [i for i in check.frames if i >= frames]
            if beyond:
                raise RunStoreError(
                    f"case {result.key}: check {rid} cites frames {beyond} but the trace has "
                    f"{frames} frame(s)"
                )
            unknown = [n for n in check.series if n not in names]
            if unknown:
                raise RunStoreError(
                    f"case {result.key}: check {rid} cites series {unknown}, the result holds "
                    f"{sorted(names)}"
                )

    def finish(
        self, *, finished_at: datetime, devices: Sequence[DeviceRef] | None = None
    ) -> Manifest:
        """Close all traces and the results file and mark the run finished in ``run.json``
        (replaced atomically). ``devices``: the run's devices as known at its end (a real
        station's BootNotification identity), replacing the manifest's list when given.
        Returns the final manifest."""
        with self._lock:
            self._require_open()
            manifest = replace(self._manifest, finished_at=finished_at)
            if devices is not None:
                manifest = replace(manifest, devices=tuple(devices))
            self._close_files(strict=True)
            with _storage(self.run_dir / MANIFEST):
                _replace_atomically(self.run_dir / MANIFEST, manifest_bytes(manifest))
            self._manifest = manifest
        return manifest

    def close(self) -> None:
        """Close files without marking the run finished (e.g. on an aborted run; a failed
        flush is ignored here: the run is unfinished anyway)."""
        with self._lock:
            if self._fd is not None:
                self._close_files(strict=False)

    def _close_files(self, *, strict: bool) -> None:
        errors: list[RunStorageError] = []
        closing: list[TraceSink | OutsideTrace | EventLog] = list(self._sinks.values())
        closing += [f for f in (self._outside, self._events) if f is not None]
        self._sinks.clear()
        for item in closing:
            try:
                item.close()
            except RunStorageError as exc:
                errors.append(exc)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if strict and errors:
            raise errors[0]

    def _require_open(self) -> None:
        if self._fd is None:
            raise RunStoreError(f"{self.run_dir}: the run is closed")

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RunStore:
    """Entry points: :meth:`create` a run folder, :meth:`open` one for reading."""

    @staticmethod
    def create(
        root_dir: Path | str, manifest: Manifest, *, secrets: Iterable[str] = ()
    ) -> RunWriter:
        """Create ``<root_dir>/<run_id>/`` with its manifest and return its writer.

        ``secrets`` (configured passwords) are hidden wherever they appear in a result or a
        trace written by the writer (on top of what each :meth:`RunWriter.trace_sink` is
        given).

        Raises :class:`RunStoreError` if that folder already exists (runs are never reused).
        """
        if manifest.finished_at is not None:
            raise RunStoreError(f"run {manifest.run_id}: a new run cannot be finished already")
        root = Path(root_dir)
        run_dir = root / manifest.run_id
        with _storage(root):
            root.mkdir(parents=True, exist_ok=True)
        try:
            run_dir.mkdir()
        except FileExistsError:
            raise RunStoreError(f"{run_dir}: a run folder of that id exists already") from None
        except OSError as exc:
            raise RunStorageError.of(run_dir, exc) from None
        with _storage(run_dir):
            (run_dir / TRACES).mkdir()
            (run_dir / SERIES).mkdir()
            _replace_atomically(run_dir / MANIFEST, manifest_bytes(manifest))
        writer = RunWriter(run_dir, manifest, secrets=secrets)
        with _storage(run_dir):
            _fsync_dir(run_dir)
            _fsync_dir(root)
        return writer

    @staticmethod
    def attach(run_dir: Path | str, manifest: Manifest) -> RunWriter:
        """A further writer of an existing, unfinished run folder (e.g. in a worker process
        of a parallel fleet run). Each writer appends its own results and traces; only the
        run's creator should :meth:`RunWriter.finish` it (the others :meth:`~RunWriter.close`).

        Raises :class:`RunStoreError` when the folder is not a run in progress.
        """
        folder = Path(run_dir)
        if not (folder / MANIFEST).is_file() or not (folder / TRACES).is_dir():
            raise RunStoreError(f"{folder}: not a run folder (no {MANIFEST} or {TRACES}/)")
        if manifest.finished_at is not None:
            raise RunStoreError(f"run {manifest.run_id}: finished runs take no more results")
        return RunWriter(folder, manifest)

    @staticmethod
    def open(run_dir: Path | str) -> RunReader:
        """Open a run folder for reading; raises :class:`RunStoreError` if its manifest is
        missing, unreadable or of an unknown format version."""
        return RunReader(Path(run_dir))
