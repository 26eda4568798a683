"""The wire trace: every frame in both directions, stamped with the clock's time.

A :class:`TraceRecord` keeps the exact text and a parsed summary; ``to_json()`` is the form
later layers store and render::

    {"t": "2025-01-01T00:00:00.000000Z", "dir": "in", "raw": "[2,\\"1\\",\\"Heartbeat\\",{}]",
     "station": "CS1", "type": 2, "id": "1", "action": "Heartbeat"}

plus ``"violations": [...]`` when the frame broke the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from harness.session.errors import Violation
from harness.session.slotinit import direct_init

__all__ = ["Direction", "TraceRecord", "TraceSink"]


class Direction(StrEnum):
    """``out``: sent by this session; ``in``: received from the peer."""

    OUT = "out"
    IN = "in"


@direct_init
@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One frame on the wire, as sent or received."""

    t: datetime
    direction: Direction
    raw: str
    station: str
    message_type: int | None = None
    message_id: str | None = None
    action: str | None = None
    violations: tuple[Violation, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``t``, ``dir``, ``raw``, ``station``, ``type``, ``id``, ``action``."""
        t = self.t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        out: dict[str, Any] = {
            "t": t,
            "dir": self.direction.value,
            "raw": self.raw,
            "station": self.station,
            "type": None if self.message_type is None else int(self.message_type),
            "id": self.message_id,
            "action": self.action,
        }
        if self.violations:
            out["violations"] = [v.to_json() for v in self.violations]
        return out


TraceSink = Callable[[TraceRecord], None]
"""Receives each record as it is made (e.g. to append to a results store)."""
