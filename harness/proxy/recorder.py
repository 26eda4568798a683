"""Recording of proxied frames, off the forwarding path.

The proxy hands each frame to :meth:`ConnectionRecorder.record`, which only puts a tuple on a
queue (no parsing, no I/O). A writer task drains the queue, summarises each frame (message
type, id, action: parsed here, never on the forwarding path) and appends it to the
connection's trace in the run store, in a worker thread. If the store fails (disk full,
permission, folder removed), the failure is logged once per proxy session and
:attr:`RecordingStats.frames_not_recorded` counts every frame that could not be written;
forwarding is never affected.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from harness.logs import get_logger
from harness.results.devices import DeviceKind, DeviceRef, case_key
from harness.results.store import RunWriter, TraceSink

__all__ = ["ConnectionRecorder", "FrameSource", "RecordingStats", "trace_line"]


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
    _warned: bool = field(default=False, repr=False)


def _summary(raw: str) -> tuple[int | None, str | None, str | None]:
    """``(message type, message id, action)`` of an OCPP-J frame, as far as it parses."""
    try:
        value = json.loads(raw)
    except ValueError:
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


class ConnectionRecorder:
    """Records one station connection's frames into ``traces/<key>.jsonl`` of a run.

    ``record()`` is synchronous and cheap; call :meth:`close` (awaited) when the connection
    ends, which writes what is queued and closes the trace.
    """

    def __init__(
        self, writer: RunWriter | None, *, station_id: str, serial: int, stats: RecordingStats
    ) -> None:
        self.station_id = station_id
        self.key = case_key(
            f"proxy-{serial:04d}", [DeviceRef(DeviceKind.STATION, station_id or "-")]
        )
        self._writer = writer
        self._stats = stats
        self._queue: asyncio.Queue[tuple[datetime, FrameSource, str | bytes] | None] = (
            asyncio.Queue()
        )
        self._sink: TraceSink | None = None
        self._task: asyncio.Task[None] | None = None
        if writer is not None:
            self._task = asyncio.create_task(self._run(), name=f"proxy-recorder-{self.key}")

    def record(self, t: datetime, source: FrameSource, frame: str | bytes) -> None:
        """Queue one frame for writing (never blocks, never raises; no-op without a run)."""
        if self._task is not None:
            self._queue.put_nowait((t, source, frame))

    async def close(self) -> None:
        """Write every queued frame, then close the trace."""
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task

    def _fail(self, count: int, exc: BaseException) -> None:
        stats = self._stats
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

    def _open(self) -> TraceSink | None:
        if self._writer is None:
            return None
        if self._sink is None:
            self._sink = self._writer.trace_sink(self.key)
        return self._sink

    def _write(self, lines: list[dict[str, Any]]) -> None:
        sink = self._open()
        assert sink is not None  # the writer task only runs with a run writer
        for line in lines:
            sink.append(line)

    async def _run(self) -> None:
        done = False
        while not done:
            first = await self._queue.get()
            batch = [first]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            items = [item for item in batch if item is not None]
            done = len(items) != len(batch)
            if not items:
                continue
            lines = [
                trace_line(t=t, source=src, frame=frame, station=self.station_id)
                for t, src, frame in items
            ]
            try:
                await asyncio.to_thread(self._write, lines)
            except Exception as exc:  # any store failure: count, warn once, go on
                self._fail(len(lines), exc)
            else:
                self._stats.frames_recorded += len(lines)
        if self._sink is not None:
            try:
                await asyncio.to_thread(self._sink.close)
            except Exception as exc:
                self._fail(0, exc)
