"""Timestamps in the CSMS's time when the station runs faster than the CSMS.

``ocpp-harness simulate --speed 60`` runs the station's clock 60 times faster than real time.
Against a CSMS whose clock runs at another speed (a real CSMS: 1), the station's timestamps
would run ahead of the CSMS's clock (an hour ahead after a wall minute). :class:`CsmsTimeTransport`
sits between the station's OCPP session and the connection and translates every timestamp:

* the station → CSMS: ``csms = csms0 + (station − station0) × csms_speed / station_speed``;
* the CSMS → station: the inverse, so a profile that starts at 14:00 CSMS time starts when the
  station's clock reaches the matching instant (the same wall-clock moment).

``station0`` / ``csms0`` are the two clocks' times when the connection opens. A timestamp is
any JSON string in a frame's payload that is an RFC 3339 date-time (every ``dateTime`` field
of OCPP: ``timestamp``, ``currentTime``, ``startSchedule``, ``generatedAt``...).

Durations are *not* translated (``startPeriod``, ``duration``, intervals): they keep the
station's seconds. So the CSMS sees a session compressed in time: a 60 s meter interval
arrives every second of its clock at speed 60, and the energy register grows 60 times faster
than its timestamps. Timestamps stay consistent with the CSMS's clock; energy per unit of CSMS
time does not — that is the price of running faster than the CSMS.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from harness.clock import Clock, utc
from harness.transport import DelegatingTransport, Transport

__all__ = ["CsmsTimeTransport", "TimeMap"]

_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)


class TimeMap:
    """The linear map between the station's clock and the CSMS's (see the module)."""

    def __init__(
        self, *, station0: datetime, csms0: datetime, station_speed: float, csms_speed: float
    ) -> None:
        if station_speed <= 0 or csms_speed <= 0:
            raise ValueError("clock speeds must be positive")
        self.station0 = station0
        self.csms0 = csms0
        self.ratio = csms_speed / station_speed
        """CSMS seconds per station second."""

    def to_csms(self, at: datetime) -> datetime:
        """A station instant in CSMS time."""
        return self.csms0 + (at - self.station0) * self.ratio

    def to_station(self, at: datetime) -> datetime:
        """A CSMS instant in station time."""
        return self.station0 + (at - self.csms0) / self.ratio

    def translate(self, value: Any, *, outgoing: bool) -> Any:
        """``value`` (parsed JSON) with every date-time string translated."""
        if isinstance(value, dict):
            return {k: self.translate(v, outgoing=outgoing) for k, v in value.items()}
        if isinstance(value, list):
            return [self.translate(v, outgoing=outgoing) for v in value]
        if isinstance(value, str) and _DATE_TIME.match(value):
            try:
                instant = utc(value)
            except ValueError:
                return value
            moved = self.to_csms(instant) if outgoing else self.to_station(instant)
            return _text(moved, fractional="." in value)
        return value

    def frame(self, text: str, *, outgoing: bool) -> str:
        """An OCPP-J frame with its payload's date-times translated (others unchanged)."""
        try:
            frame = json.loads(text)
        except ValueError:
            return text
        if not isinstance(frame, list) or not frame:
            return text
        index = {2: 3, 3: 2, 6: 3}.get(frame[0]) if isinstance(frame[0], int) else None
        if index is None or len(frame) <= index:
            return text  # CALLERROR and anything unreadable pass as they are
        moved = self.translate(frame[index], outgoing=outgoing)
        if moved == frame[index]:
            return text  # nothing to translate: the frame goes as it came
        frame[index] = moved
        return json.dumps(frame, separators=(",", ":"))


def _text(at: datetime, *, fractional: bool) -> str:
    at = at.astimezone(UTC)
    if fractional:
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class CsmsTimeTransport(DelegatingTransport):
    """A :class:`~harness.transport.Transport` that translates timestamps (see the module)."""

    def __init__(self, inner: Transport, *, station_clock: Clock, csms_clock: Clock) -> None:
        super().__init__(inner)
        self.time_map = TimeMap(
            station0=station_clock.now(),
            csms0=csms_clock.now(),
            station_speed=station_clock.speed,
            csms_speed=csms_clock.speed,
        )

    async def send(self, text: str) -> None:
        await self._inner.send(self.time_map.frame(text, outgoing=True))

    async def recv(self) -> str:
        return self.time_map.frame(await self._inner.recv(), outgoing=False)
