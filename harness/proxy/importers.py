"""Reading recorded OCPP-J traffic into one in-memory :class:`Recording`.

Accepted files (UTF-8, JSON lines; blank lines ignored; the kind is told by the first line):

1. **The harness's own traces** (``traces/<case-key>.jsonl`` of a run, written by the session
   layer or by the recording proxy): one object per line with ``t`` (ISO 8601), ``dir``
   (``in``/``out``) and ``raw`` (the frame text); the proxy's lines also carry ``from``
   (``station``/``csms``) and, for binary frames, ``binary`` (base64). Without ``from`` the
   direction needs the recorder's perspective: given, or inferred from the CALLs whose
   action only a station sends (BootNotification, StatusNotification, MeterValues, ...).
2. **Logs from other tools**: one JSON array ``[direction, timestamp, frame]`` per line.

   * ``direction`` (case and spaces ignored): ``station→csms``, ``station->csms``,
     ``cp→csms``, ``cp->csms``, ``chargepoint->centralsystem`` (and the same with ``→``)
     for frames the station sent; the mirrored spellings (``csms→station``, ``csms->cp``,
     ``centralsystem->chargepoint``, ...) for frames the CSMS sent; or ``in``/``out``
     (also ``received``/``sent``), seen from the side that wrote the log, which must then be
     declared (``perspective``).
   * ``timestamp``: ISO 8601 text (``2026-11-28T03:00:00.123Z``; without an offset it is
     taken as UTC) or a number of seconds since the Unix epoch.
   * ``frame``: the OCPP-J message as a JSON array, or its text (kept byte for byte).

Anything else is a :class:`RecordingFormatError` naming ``file:line`` and what was expected.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from harness.results import RunStoreError
from harness.results.reader import read_stored_bytes

__all__ = [
    "RecordedFrame",
    "Recording",
    "RecordingFormatError",
    "Sender",
    "load_recording",
    "parse_direction",
]


class Sender(StrEnum):
    """Which side sent a recorded frame."""

    STATION = "station"
    CSMS = "csms"

    @property
    def other(self) -> Sender:
        """The opposite side."""
        return Sender.CSMS if self is Sender.STATION else Sender.STATION


class RecordingFormatError(ValueError):
    """A recording file could not be read; the message names ``file:line``."""


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One frame: who sent it, when (seconds after the first frame), and its exact text.

    A binary frame has ``raw == ""`` and its bytes in ``binary``. ``line`` is the line of the
    file it came from (from 1).
    """

    sender: Sender
    offset_s: float
    raw: str
    line: int
    binary: bytes | None = None

    def message(self) -> list[Any] | None:
        """The frame parsed as an OCPP-J array, or ``None`` if it is not one."""
        if self.binary is not None:
            return None
        try:
            value = json.loads(self.raw)
        except (ValueError, RecursionError):  # a hostile peer's frame, recorded as it came
            return None
        return value if isinstance(value, list) and value else None


@dataclass(frozen=True, slots=True)
class Recording:
    """Recorded frames in file order; ``started_at`` is the time of the first one."""

    source: str
    started_at: datetime
    frames: tuple[RecordedFrame, ...]
    station_id: str | None = None


_STATION_SENDS: Final = {
    f"{a}{arrow}{b}"
    for a, b in (
        ("station", "csms"),
        ("cp", "csms"),
        ("cs", "csms"),
        ("chargepoint", "centralsystem"),
        ("chargingstation", "csms"),
    )
    for arrow in ("→", "->")
}
_CSMS_SENDS: Final = {
    f"{b}{arrow}{a}"
    for a, b in (
        ("station", "csms"),
        ("cp", "csms"),
        ("cs", "csms"),
        ("chargepoint", "centralsystem"),
        ("chargingstation", "csms"),
    )
    for arrow in ("→", "->")
}
_IN: Final = {"in", "received"}
_OUT: Final = {"out", "sent"}

# Actions only a station initiates (OCPP 1.6 and 2.x); used to infer a trace's perspective.
_STATION_ACTIONS: Final = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyReport",
        "ReportChargingProfiles",
        "SecurityEventNotification",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        "TransactionEvent",
    }
)


def parse_direction(text: str, *, perspective: Sender | None) -> Sender | None:
    """The sender a direction spelling stands for; ``None`` if the spelling is unknown.

    ``in``/``out`` need ``perspective`` (the side that wrote the log); without it they raise
    :class:`ValueError`.
    """
    key = "".join(text.split()).lower().replace("_", "")
    if key in _STATION_SENDS:
        return Sender.STATION
    if key in _CSMS_SENDS:
        return Sender.CSMS
    if key in _IN or key in _OUT:
        if perspective is None:
            raise ValueError(
                f"direction {text!r} is relative: declare the perspective (station or csms) "
                "of the side that wrote the log"
            )
        return perspective.other if key in _IN else perspective
    return None


def _parse_time(value: Any, where: str) -> datetime:
    if isinstance(value, bool):
        raise RecordingFormatError(f"{where}: expected an ISO 8601 time or epoch seconds")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    raise RecordingFormatError(
        f"{where}: expected an ISO 8601 time or epoch seconds, got {value!r}"
    )


def _lines(path: Path) -> list[tuple[int, Any]]:
    try:
        # a finished run's traces are gzip-compressed (harness.results.compact): read
        # <name>.jsonl.gz, or <name>.jsonl when only its compressed form is left
        text = read_stored_bytes(path).decode("utf-8")
    except RunStoreError as exc:
        raise RecordingFormatError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise RecordingFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise RecordingFormatError(f"{path}: cannot read: {exc.strerror}") from None
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except ValueError as exc:
            raise RecordingFormatError(
                f"{path}:{number}: not JSON ({exc}); expected one JSON value per line: "
                "[direction, timestamp, frame] or a harness trace object"
            ) from None
    return out


def _tool_frame(
    path: Path, number: int, value: Any, perspective: Sender | None
) -> tuple[Sender, datetime, str]:
    where = f"{path}:{number}"
    if not isinstance(value, list) or len(value) != 3:
        raise RecordingFormatError(
            f"{where}: expected [direction, timestamp, frame], got {value!r:.80}"
        )
    direction, stamp, frame = value
    if not isinstance(direction, str):
        raise RecordingFormatError(f"{where}: direction: expected text such as 'station→csms'")
    try:
        sender = parse_direction(direction, perspective=perspective)
    except ValueError as exc:
        raise RecordingFormatError(f"{where}: {exc}") from None
    if sender is None:
        raise RecordingFormatError(
            f"{where}: unknown direction {direction!r}; expected station→csms, csms→station "
            "(or ->, cp/chargepoint/centralsystem spellings) or in/out with a perspective"
        )
    if isinstance(frame, list):
        raw = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
    elif isinstance(frame, str):
        raw = frame
    else:
        raise RecordingFormatError(
            f"{where}: frame: expected the OCPP-J array or its text, got {type(frame).__name__}"
        )
    return sender, _parse_time(stamp, f"{where}: timestamp"), raw


def _infer_perspective(path: Path, items: list[tuple[int, Any]]) -> Sender:
    votes = {Sender.STATION: 0, Sender.CSMS: 0}
    for _, obj in items:
        try:
            message = json.loads(obj.get("raw") or "")
        except (ValueError, TypeError, RecursionError):
            continue
        is_call = isinstance(message, list) and len(message) > 2 and message[0] == 2
        if is_call and message[2] in _STATION_ACTIONS:
            # The station sent it: if the recorder saw it "in", the recorder was the CSMS.
            votes[Sender.CSMS if obj.get("dir") == "in" else Sender.STATION] += 1
    if votes[Sender.STATION] == votes[Sender.CSMS]:
        raise RecordingFormatError(
            f"{path}: cannot tell whether this trace was recorded by the station or the CSMS "
            "(no 'from' fields and no station-only actions); declare the perspective"
        )
    return max(votes, key=lambda s: votes[s])


def _harness_frames(
    path: Path, items: list[tuple[int, Any]], perspective: Sender | None
) -> list[tuple[int, Sender, datetime, str, bytes | None]]:
    needs_perspective = any(isinstance(o, dict) and "from" not in o for _, o in items)
    if needs_perspective and perspective is None:
        perspective = _infer_perspective(path, items)
    out = []
    for number, obj in items:
        where = f"{path}:{number}"
        if not isinstance(obj, dict):
            raise RecordingFormatError(f"{where}: expected a trace object like the lines before")
        for name in ("t", "dir", "raw"):
            if name not in obj:
                raise RecordingFormatError(f"{where}: trace object has no {name!r} field")
        raw = obj["raw"]
        if not isinstance(raw, str):
            raise RecordingFormatError(f"{where}: raw: expected the frame text")
        if "from" in obj:
            try:
                sender = Sender(obj["from"])
            except ValueError:
                raise RecordingFormatError(
                    f"{where}: from: expected 'station' or 'csms', got {obj['from']!r}"
                ) from None
        else:
            assert perspective is not None
            if obj["dir"] not in ("in", "out"):
                raise RecordingFormatError(f"{where}: dir: expected 'in' or 'out'")
            sender = perspective.other if obj["dir"] == "in" else perspective
        binary = None
        if obj.get("binary") is not None:
            try:
                binary = base64.b64decode(obj["binary"], validate=True)
            except (binascii.Error, TypeError):
                raise RecordingFormatError(f"{where}: binary: expected base64 text") from None
        out.append((number, sender, _parse_time(obj["t"], f"{where}: t"), raw, binary))
    return out


def load_recording(path: Path | str, *, perspective: Sender | None = None) -> Recording:
    """Read a recording file (see the module docstring for the accepted formats).

    ``perspective`` is the side that wrote the log, needed for ``in``/``out`` directions
    (inferred for the harness's own traces when possible). Raises
    :class:`RecordingFormatError` with ``file:line`` for anything else.
    """
    file = Path(path)
    items = _lines(file)
    if not items:
        raise RecordingFormatError(f"{file}: no frames (the file is empty)")
    first_line, first = items[0]
    rows: list[tuple[int, Sender, datetime, str, bytes | None]]
    station_id = None
    if isinstance(first, dict):
        rows = _harness_frames(file, items, perspective)
        station = first.get("station")
        station_id = station if isinstance(station, str) else None
    elif isinstance(first, list):
        rows = []
        for number, value in items:
            sender, stamp, raw = _tool_frame(file, number, value, perspective)
            rows.append((number, sender, stamp, raw, None))
    else:
        raise RecordingFormatError(
            f"{file}:{first_line}: expected [direction, timestamp, frame] or a harness trace "
            f"object, got {first!r:.80}"
        )
    start = rows[0][2]
    frames = tuple(
        RecordedFrame(
            sender=sender,
            offset_s=(stamp - start).total_seconds(),
            raw=raw,
            line=number,
            binary=binary,
        )
        for number, sender, stamp, raw, binary in rows
    )
    return Recording(
        source=str(file), started_at=start.astimezone(UTC), frames=frames, station_id=station_id
    )
