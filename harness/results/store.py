"""The run store: one run per folder, written case by case, append-only.

The on-disk format is described in ``FORMAT.md`` next to this module. In short::

    <root>/<run-id>/
        run.json                 manifest; replaced atomically (temp + os.replace) at finish
        results.jsonl            one CaseResult per line, appended as each case ends
        traces/<case-key>.jsonl  one wire frame per line, appended as frames happen
        series/<case-key>.json   the case's measurement series (written before its result)

Writing: :meth:`RunStore.create` returns a :class:`RunWriter`. Each result line goes out in
one ``os.write`` on an ``O_APPEND`` descriptor under a lock before ``write_result`` returns,
so lines never interleave (async tasks or threads of one process) and a killed process loses
at most the line being written; a background thread fsyncs the file within 0.2 s (one
fsync for the lines written meanwhile); ``finish``/``close``/``sync`` fsync at once and wait.
Trace frames are buffered and written whole lines at a time, at most ``flush_after_s``
(0.1 s) after they happen; a case's trace is written and fsynced before its result line
is written, so the frames a stored verdict cites are never lost.

Reading: :meth:`RunStore.open` returns a :class:`RunReader`. A torn last line (the run died
while writing it) is skipped with a :class:`TornLineWarning`; a bad line anywhere else, or a
missing or unknown manifest, raises :class:`RunStoreError` naming the file and line.

One process writes a run (or several, each its own writer: :meth:`RunStore.attach`). Calls
are synchronous: the ``fsync`` of a case's trace blocks the event loop for a moment, once
per case, which is negligible next to a case's duration.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from asyncio import events as asyncio_events
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
from harness.results.traceline import FrameRecord, QuickFrameRedactor, TraceLines
from harness.security.redaction import redact

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


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return dump_time(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_default).encode
"""One JSON document as text (datetimes as ISO 8601 UTC); one encoder for every line."""


class _Syncer:
    """``fsync`` of one file in a background thread, ``delay_s`` after a :meth:`request`.

    Lines written meanwhile share that ``fsync`` (group commit), and the caller never waits
    for the disk: a line written with ``os.write`` is already safe from the process dying;
    the ``fsync`` makes it safe from the machine going down too, within ``delay_s`` and the
    time the disk takes. (Waiting a moment matters: on ext4 a write to a file being
    fsynced waits for that fsync, so one fsync per line made every next line wait.)
    :meth:`wait` asks for the ``fsync`` now and waits until everything requested is
    durable; :meth:`stop` does so and ends the thread (before the file is closed). A failed
    ``fsync`` is kept and raised by the next :meth:`check`, :meth:`wait` or :meth:`stop`.
    """

    def __init__(self, fd: int, path: Path, *, delay_s: float = 0.2) -> None:
        self._fd = fd
        self._path = path
        self.delay_s = delay_s
        self._cond = threading.Condition()
        self._requested = 0
        self._done = 0
        self._hurry = False
        self._idle = False
        self._stopping = False
        self._error: RunStorageError | None = None
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        """Ask for an ``fsync`` of everything written so far."""
        with self._cond:
            self._requested += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"fsync {self._path.name}", daemon=True
                )
                self._thread.start()
            elif self._idle:  # wake the thread only when it waits for work (no GIL ping-pong)
                self._idle = False
                self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._done >= self._requested and not self._stopping:
                    self._idle = True
                    self._cond.wait()
                self._idle = False
                if self._done >= self._requested:
                    return
                self._cond.wait_for(lambda: self._hurry or self._stopping, self.delay_s)
                target = self._requested
            error = None
            try:
                os.fsync(self._fd)
            except OSError as exc:
                error = RunStorageError.of(self._path, exc)
            with self._cond:
                self._error = self._error or error
                self._done = target
                if self._done >= self._requested:
                    self._hurry = False
                self._cond.notify_all()

    def check(self) -> None:
        """Raise the failure of an earlier background ``fsync``, if any."""
        if self._error is not None:
            raise self._error

    def wait(self) -> None:
        """``fsync`` now; return when everything requested so far is durable."""
        with self._cond:
            target = self._requested
            if self._done < target:
                self._hurry = True
                self._cond.notify_all()
            while self._done < target and self._thread is not None:
                self._cond.wait()
        self.check()

    def stop(self) -> None:
        """:meth:`wait`, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        self.check()


class TraceSink:
    """Appends one case's wire frames to ``traces/<case-key>.jsonl`` as they happen.

    :meth:`append_record` takes the session layer's record (``harness.session.TraceRecord``)
    and writes its line straight from the frame's text (:mod:`harness.results.traceline`);
    :meth:`append` takes any JSON-able mapping (``t``, ``dir``, ``raw``, ``station``,
    ``type``, ``id``, ``action``, ...; datetimes become ISO 8601 UTC). Both return the
    frame's index, which checks cite as evidence.

    Each frame's ``raw`` text goes through the same rules as
    :func:`harness.security.redaction.redact_frame` first: passwords (OCPP AuthorizationKey,
    BasicAuthPassword, credential fields), private keys and the given ``secrets`` never
    reach the disk; a frame without them is stored as is.

    Lines are buffered and written in one ``os.write`` (so the file only ever holds whole
    lines but the last, which a crash may tear): when ``flush_after_s`` of wall time has
    passed since the oldest unwritten frame (a timer on the event loop of the thread that
    appends), when ``buffer_chars`` are waiting, on :meth:`flush`, :meth:`sync` and
    :meth:`close`. A frame appended from a thread without a running event loop is written
    at once. A killed process therefore loses at most the frames of its last
    ``flush_after_s``; :meth:`sync` (called by :meth:`RunWriter.write_result` through
    :meth:`close`, before the case's result is written) makes every frame durable, so the
    frames a stored verdict cites are never lost. A write that fails in the timer is raised
    (as :class:`RunStorageError`) by the next call.
    """

    def __init__(
        self,
        path: Path,
        key: str,
        *,
        secrets: Iterable[str] = (),
        flush_after_s: float = 0.1,
        buffer_chars: int = 64 * 1024,
    ) -> None:
        self.key = key
        self.path = path
        self.flush_after_s = flush_after_s
        self.buffer_chars = buffer_chars
        self._secrets = tuple(secrets)
        self._redact = QuickFrameRedactor(self._secrets)
        self._lines_of = TraceLines(self._redact, _dumps)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL
        with _storage(path):
            self._fd: int | None = os.open(path, flags, 0o644)
        self._count = 0
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._chars = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._timer_serial = 0
        self._error: RunStorageError | None = None

    @property
    def count(self) -> int:
        """Frames appended so far (the next frame's index)."""
        return self._count

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._fd is None

    def append(self, frame: Mapping[str, Any]) -> int:
        """Append ``frame`` (a JSON-able mapping) as one line; return its index (from 0)."""
        record = dict(frame)
        raw = record.get("raw")
        if isinstance(raw, str):
            record["raw"] = self._redact(raw)
        try:
            line = _dumps(record) + "\n"
        except (TypeError, ValueError) as exc:
            raise RunStoreError(f"{self.path}: frame {self._count} is not JSON: {exc}") from None
        return self._put(line)

    def append_record(self, record: FrameRecord) -> int:
        """Append the session layer's trace record (``harness.session.TraceRecord``) as one
        line, built from its text without a detour through a dict; return its index."""
        try:
            line = self._lines_of.line(record)
        except (TypeError, ValueError) as exc:
            raise RunStoreError(f"{self.path}: frame {self._count} is not JSON: {exc}") from None
        return self._put(line)

    def _put(self, line: str) -> int:
        with self._lock:
            if self._fd is None:
                raise RunStoreError(f"{self.path}: the trace of {self.key} is closed")
            if self._error is not None:
                raise self._error
            index = self._count
            self._count += 1
            self._lines.append(line)
            self._chars += len(line)
            if self._chars >= self.buffer_chars:
                self._write_locked()
            elif self._timer is None:
                loop = asyncio_events._get_running_loop()
                if loop is None:
                    self._write_locked()
                else:
                    self._timer_serial += 1
                    self._timer = loop.call_later(
                        self.flush_after_s, self._timed_flush, self._timer_serial
                    )
                    self._timer_loop = loop
        return index

    def _write_locked(self) -> None:
        self._drop_timer()
        if not self._lines or self._fd is None:
            return
        data = "".join(self._lines).encode("utf-8")
        self._lines.clear()
        self._chars = 0
        try:
            with _storage(self.path):
                _write_all(self._fd, data)
        except RunStorageError as exc:
            self._error = exc
            raise

    def _drop_timer(self) -> None:
        # Cancelled only from its own loop's thread (a handle is not thread-safe); from any
        # other thread it is left to fire and find nothing to write.
        timer, self._timer = self._timer, None
        if timer is not None and asyncio_events._get_running_loop() is self._timer_loop:
            timer.cancel()

    def _timed_flush(self, serial: int) -> None:
        with self._lock:
            if serial == self._timer_serial:  # not a timer dropped from another thread
                self._timer = None
            with contextlib.suppress(RunStorageError):  # kept in _error, raised by the next call
                self._write_locked()

    def flush(self) -> None:
        """Write the buffered frames now (raises :class:`RunStorageError` on failure)."""
        with self._lock:
            if self._error is not None:
                raise self._error
            self._write_locked()

    def sync(self) -> None:
        """Write the buffered frames and ``fsync`` the file: every frame appended so far is
        durable when this returns."""
        with self._lock:
            if self._error is not None:
                raise self._error
            self._write_locked()
            if self._fd is not None:
                with _storage(self.path):
                    os.fsync(self._fd)

    def close(self) -> None:
        """Write what is buffered, flush the trace to disk and close it (idempotent; closed
        even when the write or flush fails, which raises :class:`RunStorageError`)."""
        with self._lock:
            if self._fd is None:
                return
            try:
                if self._error is not None:
                    raise self._error
                self._write_locked()
                with _storage(self.path):
                    os.fsync(self._fd)
            finally:
                self._drop_timer()
                self._lines.clear()
                os.close(self._fd)
                self._fd = None


class OutsideTrace:
    """The frames of the DUT's connections outside any case, ``outside.jsonl``.

    Every frame is written in full, like a case's trace (buffered the same way, fsynced at
    close), up to ``max_frames``; after that
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
        if self._counted(frame.get("dir"), frame.get("type"), frame.get("action")):
            return None
        return self._sink.append(frame)

    def append_record(self, record: FrameRecord) -> int | None:
        """Record the session layer's trace record (see :meth:`TraceSink.append_record`);
        its line index, or ``None`` when it was only counted."""
        direction = getattr(record.direction, "value", record.direction)
        if self._counted(direction, record.message_type, record.action):
            return None
        return self._sink.append_record(record)

    def _counted(self, direction: object, kind: object, action: object) -> bool:
        """Count one frame; True when it is past ``max_frames`` (counted only)."""
        with self._lock:
            key = f"{direction} {kind} {action or ''}".strip()
            self._counts[key] = self._counts.get(key, 0) + 1
            if self._sink.count >= self.max_frames:
                self._counted_only += 1
                return True
        return False

    def flush(self) -> None:
        """Write the buffered frames now (see :class:`TraceSink`)."""
        self._sink.flush()

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
        self._syncer = _Syncer(self._fd, run_dir / RESULTS)
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
        """Append ``result`` as one line of ``results.jsonl``.

        Its trace sink, if any, is first closed (the case is over): its frames are written
        and fsynced, so the frames a check cites are durable before the verdict is stored.
        The result line goes out in one ``os.write`` before this returns (a process that
        dies afterwards, even by SIGKILL, has it in the file); a background thread fsyncs
        it within 0.2 s, together with any lines written meanwhile (:meth:`sync` fsyncs
        now and waits; :meth:`finish` and :meth:`close` do). A failed background fsync is
        raised by the next call. Refused, with a :class:`RunStoreError` and nothing written
        or closed, when the key was already written, or a check cites a frame beyond the
        recorded trace or a series the result does not hold: both are harness defects
        (evidence must exist), so the caller should store a
        :meth:`CaseResult.harness_error` for the case instead.
        """
        key = result.key
        with self._lock:
            self._require_open()
            self._syncer.check()
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
            self._written.add(key)
            self._syncer.request()

    def sync(self) -> None:
        """Return when every result written so far is fsynced (raises
        :class:`RunStorageError` when a background fsync failed)."""
        self._syncer.wait()

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
        self,
        *,
        finished_at: datetime,
        devices: Sequence[DeviceRef] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Manifest:
        """Close all traces and the results file and mark the run finished in ``run.json``
        (replaced atomically). ``devices``: the run's devices as known at its end (a real
        station's BootNotification identity), replacing the manifest's list when given;
        ``options``: the run's options as known at its end (plain JSON, e.g. with what the
        station advertised checked against its declaration), replacing the manifest's when
        given. Returns the final manifest."""
        with self._lock:
            self._require_open()
            manifest = replace(self._manifest, finished_at=finished_at)
            if devices is not None:
                manifest = replace(manifest, devices=tuple(devices))
            if options is not None:
                manifest = replace(manifest, options=options)
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
            try:
                self._syncer.stop()  # every result fsynced, the thread ended
            except RunStorageError as exc:
                errors.append(exc)
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
