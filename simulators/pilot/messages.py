"""What travels over the pilot link, and its JSON form (version 1).

Station → vehicle: :class:`~simulators.vehicle.PilotOffer` (the pilot the station drives),
:class:`DischargeRequest` (a V2X setpoint) and :class:`PlugCommand` (the test's hand on the
cable). Vehicle → station: :class:`~simulators.vehicle.VehicleReading`, :class:`PlugEvent`,
:class:`DischargeAnswer` and :class:`LinkStatus`.

:func:`encode` turns any of them into compact UTF-8 JSON; :func:`decode` parses it back
strictly: the payload must be a JSON object with ``"v": 1``, exactly the documented keys,
and values of the documented types and ranges. Anything else raises :class:`PayloadError`,
whose message names the field and what was expected. ``decode(type(x), encode(x)) == x``
for every valid value. Units are in the key names (``duty_percent``, ``current_a``,
``power_w``, ``energy_imported_wh``, ``time_s``). Times (``time_s``) are simulation seconds
from the vehicle's clock; the link itself never reads a clock.

The full format, with examples, is in ``simulators/PILOT_LINK.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar, cast

from simulators.iec61851 import PilotState
from simulators.vehicle.signals import (
    DischargeDecision,
    IdleReason,
    PilotLine,
    PilotOffer,
    VehicleReading,
)

__all__ = [
    "PAYLOAD_VERSION",
    "DischargeAnswer",
    "DischargeRequest",
    "LinkStatus",
    "Message",
    "PayloadError",
    "PlugCommand",
    "PlugEvent",
    "decode",
    "encode",
]

PAYLOAD_VERSION = 1
"""Value of the ``"v"`` key in every payload; a decoder refuses any other."""


class PayloadError(ValueError):
    """A payload that does not follow the pilot-link format; the message says where and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlugEvent:
    """The vehicle's cable was connected (``plugged``) or disconnected, at ``time_s``."""

    plugged: bool
    time_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PlugCommand:
    """Ask the simulated vehicle to plug in (``plugged=True``) or unplug its cable.

    Not a station signal: it is the test (or an operator) moving the cable, sent along the
    station end for convenience because that is where tests hold the link.
    """

    plugged: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DischargeRequest:
    """Station asks the vehicle to export ``power_w`` (≥ 0 W; 0 ends discharging).

    ``request_id`` correlates the :class:`DischargeAnswer`.
    """

    request_id: str
    power_w: float

    def __post_init__(self) -> None:
        if not self.request_id:
            raise ValueError("request_id must not be empty")
        if not (math.isfinite(self.power_w) and self.power_w >= 0):
            raise ValueError(f"power_w must be a finite power ≥ 0 W, got {self.power_w!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DischargeAnswer:
    """The vehicle's answer to the :class:`DischargeRequest` with the same ``request_id``."""

    request_id: str
    accepted: bool
    reason: str

    @property
    def decision(self) -> DischargeDecision:
        """The answer as the vehicle model's own decision type."""
        return DischargeDecision(self.accepted, self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkStatus:
    """Whether the vehicle side of the link is connected (MQTT: retained, and the last will)."""

    online: bool


Message = (
    PilotOffer
    | VehicleReading
    | PlugEvent
    | PlugCommand
    | DischargeRequest
    | DischargeAnswer
    | LinkStatus
)
"""Everything the link carries."""

M = TypeVar("M", bound=Message)
E = TypeVar("E", bound=StrEnum)


# --------------------------------------------------------------------------- encoding
def _offer_fields(offer: PilotOffer) -> dict[str, Any]:
    return {
        "duty_percent": offer.duty_percent,
        "line": offer.line.value,
        "energized_phases": offer.energized_phases,
        "hlc_current_a": offer.hlc_current_a,
    }


def _reading_fields(reading: VehicleReading) -> dict[str, Any]:
    return {
        "time_s": reading.time_s,
        "pilot_state": reading.pilot_state.value,
        "current_a": list(reading.current_a),
        "power_w": reading.power_w,
        "energy_imported_wh": reading.energy_imported_wh,
        "energy_exported_wh": reading.energy_exported_wh,
        "soc_percent": reading.soc_percent,
        "awake": reading.awake,
        "idle_reason": None if reading.idle_reason is None else reading.idle_reason.value,
        "phases_drawn": reading.phases_drawn,
        "allowed_current_a": reading.allowed_current_a,
    }


def encode(message: Message) -> bytes:
    """The JSON payload (UTF-8) for ``message``.

    Raises ``ValueError`` for a non-finite number or text that is not valid Unicode.
    """
    fields: dict[str, Any]
    if isinstance(message, PilotOffer):
        fields = _offer_fields(message)
    elif isinstance(message, VehicleReading):
        fields = _reading_fields(message)
    elif isinstance(message, PlugEvent):
        fields = {"plugged": message.plugged, "time_s": message.time_s}
    elif isinstance(message, PlugCommand):
        fields = {"plugged": message.plugged}
    elif isinstance(message, DischargeRequest):
        fields = {"request_id": message.request_id, "power_w": message.power_w}
    elif isinstance(message, DischargeAnswer):
        fields = {
            "request_id": message.request_id,
            "accepted": message.accepted,
            "reason": message.reason,
        }
    else:
        fields = {"online": message.online}
    text = json.dumps(
        {"v": PAYLOAD_VERSION, **fields},
        allow_nan=False,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return text.encode("utf-8")


# --------------------------------------------------------------------------- decoding
def _no_constant(name: str) -> Any:
    raise PayloadError(f"expected finite numbers, got {name}")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_float(key: str, value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        raise PayloadError(f"field {key!r}: expected a finite number, got a huge integer") from None


class _Fields:
    """Typed access to the keys of one payload object; errors name the field."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw

    def _get(self, key: str) -> Any:
        return self._raw[key]

    def number(self, key: str, *, minimum: float | None = None) -> float:
        value = self._get(key)
        if not _is_number(value):
            raise PayloadError(f"field {key!r}: expected a number, got {value!r}")
        value = _as_float(key, value)
        if minimum is not None and value < minimum:
            raise PayloadError(f"field {key!r}: expected a number ≥ {minimum:g}, got {value!r}")
        return value

    def optional_number(self, key: str, *, minimum: float | None = None) -> float | None:
        return None if self._get(key) is None else self.number(key, minimum=minimum)

    def integer(self, key: str, *, allowed: tuple[int, ...]) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            expected = ", ".join(str(a) for a in allowed)
            raise PayloadError(f"field {key!r}: expected one of {expected}, got {value!r}")
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise PayloadError(f"field {key!r}: expected true or false, got {value!r}")
        return value

    def text(self, key: str, *, non_empty: bool = False) -> str:
        value = self._get(key)
        if not isinstance(value, str) or (non_empty and not value):
            what = "a non-empty string" if non_empty else "a string"
            raise PayloadError(f"field {key!r}: expected {what}, got {value!r}")
        return value

    def choice(self, key: str, kind: type[E]) -> E:
        value = self._get(key)
        allowed = [member.value for member in kind]
        if not isinstance(value, str) or value not in allowed:
            expected = ", ".join(allowed)
            raise PayloadError(f"field {key!r}: expected one of {expected}, got {value!r}")
        return kind(value)

    def optional_choice(self, key: str, kind: type[E]) -> E | None:
        return None if self._get(key) is None else self.choice(key, kind)

    def currents(self, key: str) -> tuple[float, float, float]:
        value = self._get(key)
        if not isinstance(value, list) or len(value) != 3 or not all(_is_number(v) for v in value):
            raise PayloadError(
                f"field {key!r}: expected a list of 3 numbers [l1, l2, l3] in A, got {value!r}"
            )
        l1, l2, l3 = (_as_float(key, v) for v in value)
        return (l1, l2, l3)


def _decode_offer(f: _Fields) -> PilotOffer:
    duty = f.number("duty_percent")
    if not 0 <= duty <= 100:
        raise PayloadError(
            f"field 'duty_percent': expected a duty cycle within 0–100 %, got {duty}"
        )
    return PilotOffer(
        duty_percent=duty,
        line=f.choice("line", PilotLine),
        energized_phases=f.integer("energized_phases", allowed=(0, 1, 3)),
        hlc_current_a=f.optional_number("hlc_current_a", minimum=0),
    )


def _decode_reading(f: _Fields) -> VehicleReading:
    soc = f.number("soc_percent")
    if not 0 <= soc <= 100:
        raise PayloadError(f"field 'soc_percent': expected a value within 0–100 %, got {soc}")
    return VehicleReading(
        time_s=f.number("time_s"),
        pilot_state=f.choice("pilot_state", PilotState),
        current_a=f.currents("current_a"),
        power_w=f.number("power_w"),
        energy_imported_wh=f.number("energy_imported_wh", minimum=0),
        energy_exported_wh=f.number("energy_exported_wh", minimum=0),
        soc_percent=soc,
        awake=f.boolean("awake"),
        idle_reason=f.optional_choice("idle_reason", IdleReason),
        phases_drawn=f.integer("phases_drawn", allowed=(0, 1, 2, 3)),
        allowed_current_a=f.optional_number("allowed_current_a", minimum=0),
    )


def _decode_discharge_request(f: _Fields) -> DischargeRequest:
    return DischargeRequest(
        request_id=f.text("request_id", non_empty=True), power_w=f.number("power_w", minimum=0)
    )


def _decode_discharge_answer(f: _Fields) -> DischargeAnswer:
    return DischargeAnswer(
        request_id=f.text("request_id", non_empty=True),
        accepted=f.boolean("accepted"),
        reason=f.text("reason"),
    )


_FORMATS: Mapping[type, tuple[tuple[str, ...], Callable[[_Fields], Message]]] = {
    PilotOffer: (("duty_percent", "line", "energized_phases", "hlc_current_a"), _decode_offer),
    VehicleReading: (
        (
            "time_s",
            "pilot_state",
            "current_a",
            "power_w",
            "energy_imported_wh",
            "energy_exported_wh",
            "soc_percent",
            "awake",
            "idle_reason",
            "phases_drawn",
            "allowed_current_a",
        ),
        _decode_reading,
    ),
    PlugEvent: (
        ("plugged", "time_s"),
        lambda f: PlugEvent(plugged=f.boolean("plugged"), time_s=f.number("time_s")),
    ),
    PlugCommand: (("plugged",), lambda f: PlugCommand(plugged=f.boolean("plugged"))),
    DischargeRequest: (("request_id", "power_w"), _decode_discharge_request),
    DischargeAnswer: (("request_id", "accepted", "reason"), _decode_discharge_answer),
    LinkStatus: (("online",), lambda f: LinkStatus(online=f.boolean("online"))),
}
"""Per message type: its keys (besides ``v``), and how to build it from a checked object."""


def decode(kind: type[M], payload: bytes | str) -> M:
    """Parse ``payload`` as a ``kind`` message; :class:`PayloadError` says what is wrong."""
    keys, build = _FORMATS[kind]
    name = kind.__name__
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError as error:
        raise PayloadError(f"{name}: expected UTF-8 text ({error.reason})") from None
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise PayloadError(
            f"{name}: expected JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except PayloadError as error:
        raise PayloadError(f"{name}: {error}") from None
    if not isinstance(raw, dict):
        raise PayloadError(f"{name}: expected a JSON object, got {type(raw).__name__}")
    version = raw.get("v")
    if version != PAYLOAD_VERSION or isinstance(version, bool):
        raise PayloadError(f"{name}: field 'v': expected {PAYLOAD_VERSION}, got {version!r}")
    missing = [key for key in keys if key not in raw]
    if missing:
        raise PayloadError(f"{name}: field {missing[0]!r}: expected this field, missing")
    extra = sorted(key for key in raw if key != "v" and key not in keys)
    if extra:
        raise PayloadError(
            f"{name}: field {extra[0]!r}: unknown; expected only v, {', '.join(keys)}"
        )
    try:
        return cast(M, build(_Fields(raw)))
    except PayloadError as error:
        raise PayloadError(f"{name}: {error}") from None
    except ValueError as error:  # a value type's own check (e.g. PilotOffer.__post_init__)
        raise PayloadError(f"{name}: {error}") from None
