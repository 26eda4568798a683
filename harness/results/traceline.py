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
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from harness.security.redaction import _FRAME_GATE, _GATE_WORDS, FrameRedactor

__all__ = ["FrameRecord", "QuickFrameRedactor", "TraceLines"]

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


_LITERALS = ("basic ", "bearer ", "\\u")
"""The literal pieces of redaction's gate, beside its words (letter case ignored)."""


def _gate_understood() -> bool:
    """Whether :data:`harness.security.redaction._FRAME_GATE` ("can this frame hold a secret
    at all?") is still made of :data:`~harness.security.redaction._GATE_WORDS` (lowercase
    ASCII letters; ``_`` or ``-`` allowed between them) and :data:`_LITERALS`, letter case
    ignored, as :class:`QuickFrameRedactor` asks it. If redaction's gate ever changes,
    every frame takes its full test (correct, only slower) until this is brought in line."""
    words = ["[_-]*".join(re.escape(c) for c in word) for word in _GATE_WORDS]
    pattern = "(?i:" + "|".join([*words, *(re.escape(x) for x in _LITERALS)]) + ")"
    return _FRAME_GATE.pattern == pattern and all(
        w.isascii() and w.isalpha() and w.islower() for w in _GATE_WORDS
    )


_QUICK = _gate_understood()


class QuickFrameRedactor:
    """:class:`~harness.security.redaction.FrameRedactor` with a cheaper first test.

    ``QuickFrameRedactor(secrets)(raw) == FrameRedactor(secrets)(raw)`` for every ``raw``.
    FrameRedactor first asks "can this frame hold a secret at all?" with one regular
    expression (its words in any letter case, ``_`` or ``-`` allowed between their letters;
    ``basic ``, ``bearer ``, ``\\u``; ``@``; the configured secrets case-exactly), which
    Python's ``re`` tries at nearly every position of the frame: most of a trace line's
    cost. For ASCII text (nearly every OCPP frame) the same question is asked here with
    substring tests: ignoring case is lowering the text (for ASCII); a word with ``_``/``-``
    between its letters is the word in the text with every ``_`` and ``-`` removed; the
    secrets are looked for in ``raw`` itself. A frame that may hold a secret, or is not
    ASCII, goes to FrameRedactor unchanged.
    """

    __slots__ = ("_full", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        secrets = tuple(secrets)
        self._full = FrameRedactor(secrets)
        self._secrets = tuple(s for s in secrets if s)

    def __call__(self, raw: str) -> str:
        """``raw`` with its secrets hidden; ``raw`` itself when it holds none."""
        if not (_QUICK and raw.isascii()):
            return self._full(raw)
        low = raw.lower()
        if "@" in low or "\\u" in low or "basic " in low or "bearer " in low:
            return self._full(raw)
        if "-" in low or "_" in low:
            low = low.replace("-", "").replace("_", "")
        for word in _GATE_WORDS:
            if word in low:
                return self._full(raw)
        for secret in self._secrets:
            if secret in raw:
                return self._full(raw)
        return raw


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
    second, the station id -- is formatted once.
    """

    __slots__ = ("_dumps", "_redact", "_second", "_station")

    def __init__(self, redact: Callable[[str], str], dumps: Callable[[Any], str]) -> None:
        self._redact = redact
        self._dumps = dumps
        # (key, its text), each swapped as one object: safe if two threads share the trace.
        self._second: tuple[tuple[int, ...], str] = ((), "")
        self._station: tuple[object, str] = (_UNSET, "")

    def line(self, record: FrameRecord) -> str:
        """The trace line of ``record`` (with its newline), its ``raw`` text redacted."""
        raw = record.raw
        t = record.t
        try:
            if t.tzinfo is not UTC or type(raw) is not str:
                raise TypeError(t)
            key = (t.second, t.minute, t.hour, t.day, t.month, t.year)
            second = self._second
            if key != second[0]:
                if t.year < 1000:  # strftime's %Y would not pad it
                    raise ValueError(t)
                second = self._second = (key, f'{{"t": "{t.isoformat(timespec="seconds")[:-6]}.')
            station = self._station
            if record.station is not station[0]:
                station = self._station = (record.station, _encode(record.station))
            kind = record.message_type
            line = (
                f'{second[1]}{t.microsecond:06d}Z", "dir": "{record.direction.value}", '
                f'"raw": {_encode(self._redact(raw))}, "station": {station[1]}, '
                f'"type": {"null" if kind is None else int(kind)}, '
                f'"id": {_opt(record.message_id)}, "action": {_opt(record.action)}'
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
