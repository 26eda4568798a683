"""Recording of proxied frames, off the forwarding path.

The proxy hands each frame to :meth:`ConnectionRecorder.record`, which only puts a tuple on a
queue (no parsing, no I/O). One writer thread per proxy session (:class:`TraceWriter`)
drains the queue, summarises each frame (message type, id, action: parsed there, never on
the forwarding path) and appends it to the connection's trace in the run store. If the
store fails (disk full, permission, folder removed), the failure is logged once per proxy
session and
:attr:`RecordingStats.frames_not_recorded` counts every frame that could not be written;
forwarding is never affected.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import queue
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from harness.logs import get_logger
from harness.results.devices import DeviceKind, DeviceRef, case_key
from harness.results.store import RunWriter, TraceSink
from harness.session.frames import MAX_NESTING, nests_deeper_than

__all__ = ["ConnectionRecorder", "FrameSource", "RecordingStats", "TraceWriter", "trace_line"]


class FrameSource(StrEnum):
    """Who sent a proxied frame."""

    STATION = "station"
    CSMS = "csms"


@dataclass(slots=True)
class RecordingStats:
    """Counters shared by every connection of one proxy session (mutable, one event loop)."""

    frames_forwarded: int = 0
    frames_recorded: int = 0
    frames_not_recorded: int = 0
    first_failure: str | None = None
    connections: int = 0
    frames_too_big: int = 0
    """Messages over the size limit (their connection closed with 1009, not forwarded)."""
    _warned: bool = field(default=False, repr=False)


def _summary(raw: str) -> tuple[int | None, str | None, str | None]:
    """``(message type, message id, action)`` of an OCPP-J frame, as far as it parses (a
    frame nested too deep to parse safely is recorded without them)."""
    if nests_deeper_than(raw, MAX_NESTING):
        return None, None, None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None, None, None
    if not isinstance(value, list) or not value:
        return None, None, None
    kind = value[0] if isinstance(value[0], int) and not isinstance(value[0], bool) else None
    message_id = value[1] if len(value) > 1 and isinstance(value[1], str) else None
    action = value[2] if kind == 2 and len(value) > 2 and isinstance(value[2], str) else None
    return kind, message_id, action


def trace_line(
    *, t: datetime, source: FrameSource, frame: str | bytes, station: str
) -> dict[str, Any]:
    """The trace record of one proxied frame.

    The session layer's fields (``t``, ``dir``, ``raw``, ``station``, ``type``, ``id``,
    ``action``) with ``dir`` seen from the CSMS's side (``in`` = station→CSMS), plus ``from``
    (``station``/``csms``), which states the direction without a perspective. A binary frame
    has ``raw: ""`` and its bytes in ``binary`` (base64).
    """
    stamp = t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out: dict[str, Any] = {
        "t": stamp,
        "dir": "in" if source is FrameSource.STATION else "out",
        "from": source.value,
        "station": station,
    }
    if isinstance(frame, bytes):
        out.update(raw="", binary=base64.b64encode(frame).decode("ascii"))
        out.update(type=None, id=None, action=None)
        return out
    kind, message_id, action = _summary(frame)
    out.update(raw=frame, type=kind, id=message_id, action=action)
    return out


BATCH_PAUSE_S = 0.02
"""How long the writer thread lets frames gather after the first one (a bound on how stale
the trace on disk can be while the proxy runs)."""

_Item = tuple["ConnectionRecorder", datetime, FrameSource, str | bytes]


class TraceWriter:
    """One writer thread per proxy session; every connection's frames go through its queue.

    A thread rather than an asyncio task: handing a frame over is one ``SimpleQueue.put``
    (no event-loop wake-up per frame), and a slow or blocked disk never stalls forwarding.
    """

    def __init__(self, writer: RunWriter, stats: RecordingStats) -> None:
        self.writer = writer
        self.stats = stats
        self._queue: queue.SimpleQueue[_Item | tuple[ConnectionRecorder, threading.Event] | None]
        self._queue = queue.SimpleQueue()
        self._pause = threading.Event()  # never set: only used for its timed wait
        self._thread = threading.Thread(target=self._run, name="proxy-trace-writer", daemon=True)
        self._thread.start()

    def put(self, item: _Item) -> None:
        """Queue one frame (never blocks)."""
        self._queue.put(item)

    async def flush_and_close(self, recorder: ConnectionRecorder) -> None:
        """Wait until ``recorder``'s queued frames are written and its trace is closed."""
        done = threading.Event()
        self._queue.put((recorder, done))
        await asyncio.to_thread(done.wait)

    async def stop(self) -> None:
        """Write what is queued and end the thread."""
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            # Let frames accumulate briefly: one wake-up per batch instead of per frame keeps
            # the thread from contending with the forwarding loop for the interpreter.
            self._pause.wait(BATCH_PAUSE_S)
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(self._queue.get_nowait())
            for item in batch:
                if item is None:
                    return
                if len(item) == 2:
                    recorder, done = item
                    recorder._close_sink()
                    done.set()
                    continue
                recorder, t, source, frame = item
                recorder._write(t, source, frame)


class ConnectionRecorder:
    """Records one station connection's frames into ``traces/<key>.jsonl`` of a run.

    ``record()`` is synchronous and cheap (a queue put); await :meth:`close` when the
    connection ends, which waits until what is queued is written and closes the trace.
    """

    def __init__(self, writer: TraceWriter | None, *, station_id: str, serial: int) -> None:
        self.station_id = station_id
        self.key = case_key(
            f"proxy-{serial:04d}", [DeviceRef(DeviceKind.STATION, station_id or "-")]
        )
        self._writer = writer
        self._sink: TraceSink | None = None

    def record(self, t: datetime, source: FrameSource, frame: str | bytes) -> None:
        """Queue one frame for writing (never blocks, never raises; no-op without a run)."""
        if self._writer is not None:
            self._writer.put((self, t, source, frame))

    async def close(self) -> None:
        """Write every queued frame, then close the trace."""
        if self._writer is not None:
            await self._writer.flush_and_close(self)

    # -- in the writer thread ------------------------------------------------------------
    def _fail(self, count: int, exc: BaseException) -> None:
        assert self._writer is not None
        stats = self._writer.stats
        stats.frames_not_recorded += count
        if stats.first_failure is None:
            stats.first_failure = f"{type(exc).__name__}: {exc}"
        if not stats._warned:
            stats._warned = True
            get_logger("proxy.recorder").warning(
                "recording_failed",
                station_id=self.station_id,
                error=stats.first_failure,
                action="forwarding continues; frames are counted as not recorded",
            )

    def _write(self, t: datetime, source: FrameSource, frame: str | bytes) -> None:
        assert self._writer is not None
        try:
            if self._sink is None:
                self._sink = self._writer.writer.trace_sink(self.key)
            self._sink.append(trace_line(t=t, source=source, frame=frame, station=self.station_id))
        except Exception as exc:  # any store failure: count, warn once, go on
            self._fail(1, exc)
        else:
            self._writer.stats.frames_recorded += 1

    def _close_sink(self) -> None:
        if self._sink is not None:
            try:
                self._sink.close()
            except Exception as exc:
                self._fail(0, exc)
