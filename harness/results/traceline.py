"""One trace line built straight from a wire frame (internal; used by :class:`TraceSink`).

The session layer hands every frame over as a record holding the exact text on the wire
(:class:`harness.session.TraceRecord`). Turning it into a dict and that dict into JSON
again (``record.to_json()`` then ``json.dumps``) costs more than the rest of the trace path
together; :class:`TraceLines` writes the same line directly: the frame's text goes in as one
escaped JSON string, the other fields are short strings or numbers.

The line is exactly the one the dict route writes (same keys, key order and separators:
``json.dumps(record.to_json(), ensure_ascii=False)``), so readers see no difference; a
record this module cannot format directly (a naive time, an odd field type) takes the dict
route.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final, Protocol

__all__ = ["FrameRecord", "TraceLines"]

_encode: Callable[[str], str] = json.encoder.encode_basestring
"""JSON string literal of a ``str`` (the C escaper ``json.dumps(..., ensure_ascii=False)``
uses)."""


class FrameRecord(Protocol):
    """What :func:`trace_line` reads of a frame record (:class:`harness.session.TraceRecord`)."""

    @property
    def t(self) -> datetime: ...
    @property
    def direction(self) -> Any: ...  # a StrEnum: "in" / "out"
    @property
    def raw(self) -> str: ...
    @property
    def station(self) -> str: ...
    @property
    def message_type(self) -> int | None: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def action(self) -> str | None: ...
    @property
    def violations(self) -> Sequence[Any]: ...

    def to_json(self) -> dict[str, Any]: ...


_UNSET = object()


def _opt(value: object) -> str:
    if value is None:
        return "null"
    if type(value) is not str:
        raise TypeError(value)
    return _encode(value)


class TraceLines:
    """Builds the trace lines of one trace (one connection, mostly one station).

    ``redact`` hides secrets in a frame's text (a
    :class:`~harness.security.redaction.FrameRedactor`); ``dumps`` is the store's JSON
    encoder, used for the rare parts written through a dict (violations) and for records
    not formatted directly. What repeats from frame to frame -- the date and time to the
    second, the station id, the two directions' texts -- is formatted once.
    """

    __slots__ = ("_directions", "_dumps", "_redact", "_second", "_station")

    def __init__(self, redact: Callable[[str], str], dumps: Callable[[Any], str]) -> None:
        self._redact = redact
        self._dumps = dumps
        # Each cache is one tuple, swapped as one object: safe if two threads share the trace.
        # The second: (its first instant, the next second's first instant, its line start).
        self._second: tuple[datetime, datetime, str] = (_NEVER, _NEVER, "")
        self._station: tuple[object, str] = (_UNSET, "")
        # The last two directions seen, each with its text (a trace alternates in and out).
        self._directions: tuple[object, str, object, str] = (_UNSET, "", _UNSET, "")

    def line(self, record: FrameRecord) -> str:
        """The trace line of ``record`` (with its newline), its ``raw`` text redacted."""
        raw = record.raw
        t = record.t
        try:
            if type(t) is not datetime or t.tzinfo is not UTC or type(raw) is not str:
                raise TypeError(t)
            second = self._second
            # Both ends carry the tzinfo UTC (the same object), so they compare field by
            # field: t lies in the cached second exactly when its fields down to the second
            # are the cached ones.
            if not second[0] <= t < second[1]:
                second = self._second = _second_of(t)
            station = self._station
            if record.station is not station[0]:
                station = self._station = (record.station, _encode(record.station))
            direction = record.direction
            directions = self._directions
            if direction is directions[0]:
                direction_text = directions[1]
            elif direction is directions[2]:
                direction_text = directions[3]
            else:
                value = direction.value
                direction_text = value if type(value) is str else format(value)
                if isinstance(direction, Enum):  # a member's value never changes
                    self._directions = (direction, direction_text, directions[0], directions[1])
            kind = record.message_type
            kind_text = "null" if kind is None else _KIND_TEXT.get(kind) or str(int(kind))
            message_id = record.message_id
            action = record.action
            microsecond = "%06d" % t.microsecond  # noqa: UP031 (half the cost of :06d)
            line = (
                f'{second[2]}{microsecond}Z", "dir": "{direction_text}", '
                f'"raw": {_encode(self._redact(raw))}, "station": {station[1]}, '
                f'"type": {kind_text}, '
                f'"id": {_encode(message_id) if type(message_id) is str else _opt(message_id)}, '
                f'"action": {_encode(action) if type(action) is str else _opt(action)}'
            )
        except (TypeError, ValueError, AttributeError):
            return self._by_dict(record)
        violations = record.violations
        if violations:
            return f'{line}, "violations": {self._dumps([v.to_json() for v in violations])}}}\n'
        return line + "}\n"

    def _by_dict(self, record: FrameRecord) -> str:
        frame = record.to_json()
        raw = frame.get("raw")
        if isinstance(raw, str):
            frame["raw"] = self._redact(raw)
        return self._dumps(frame) + "\n"


_NEVER: Final = datetime.min.replace(tzinfo=UTC)
"""An empty second (first instant = end): no time lies in it."""

_KIND_TEXT: Final[dict[int, str]] = {n: str(n) for n in range(2, 7)}
"""The message types' texts (a MessageType member hashes and compares as its int)."""


def _second_of(t: datetime) -> tuple[datetime, datetime, str]:
    """The cache entry of ``t``'s second (``t``: aware, tzinfo UTC)."""
    if t.year < 1000:  # strftime's %Y would not pad it
        raise ValueError(t)
    start = t.replace(microsecond=0)
    try:
        end = start + _ONE_SECOND
    except OverflowError:  # the last second of year 9999: its last instant is never cached
        end = datetime.max.replace(tzinfo=UTC)
    return start, end, f'{{"t": "{t.isoformat(timespec="seconds")[:-6]}.'


_ONE_SECOND: Final = timedelta(seconds=1)
