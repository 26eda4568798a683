"""A lab meter read over MQTT: per-phase current and power, as ``expect_settled`` samples.

In a lab the station's own MeterValues are what the DUT *claims*; a calibrated meter in the
supply line (or an EV emulator's measurement) is what *happened*. ``ocpp-harness run
--target listen ... --lab-meter mqtt://HOST:PORT/TOPIC`` subscribes to one topic; every
message is one reading, as JSON (UTF-8)::

    {"t": "2026-11-28T10:15:02.250Z",   # when it was measured (optional: arrival time)
     "evse": 1,                          # the EVSE it measures (optional: the URL's, 1)
     "current_a": [15.9, 16.0, 15.8],    # current per phase L1, L2, L3 in A (1 to 3 values)
     "power_w": 11020.0}                 # total active power drawn, W (optional)

At least one of ``current_a`` and ``power_w`` must be there. ``t`` is used when it lies
within 120 s of the arrival time (like a station's MeterValues timestamp), else the arrival
time. A message that is not such a reading is counted (:attr:`LabMeter.rejected`, with the
reason in :attr:`LabMeter.last_problem`) and skipped.

The readings become :class:`~harness.runner.observations.MeterSample` values
(``Current.Import`` per phase, ``Power.Active.Import``) with ``source`` ``lab_meter`` in the
connection's :class:`~harness.runner.observations.ObservationLog`: ``expect_settled`` steps
on those two measurands judge from the lab meter instead of MeterValues (the other measurands
still come from MeterValues), the check says so, and the case's ``measurement_source`` is
``lab_meter``. A meter that sends nothing for the EVSE for ``silent_s`` clock seconds
(URL query ``?silent_s=N``, default 10, never less than 2 s of wall time) makes the step
INCONCLUSIVE naming the meter: a silent meter is a lab problem, not the station's fault.

URL: ``mqtt://HOST:PORT/TOPIC`` or ``mqtts://…`` (TLS with the system's CAs), optionally
``user:password@``; query ``silent_s`` and ``evse``. The topic may contain ``/``; MQTT
wildcards are refused (one topic is one meter).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiomqtt

from harness.clock import Clock, wall_floor
from harness.logs import get_logger
from harness.results import MeasurementSource
from harness.runner.observations import LAB_MEASURANDS, MeterSample, ObservationLog, dut_time

__all__ = [
    "DEFAULT_SILENT_S",
    "LAB_METER_MEASURANDS",
    "LabMeter",
    "LabMeterError",
    "LabMeterReading",
    "LabMeterSettings",
    "parse_reading",
]

DEFAULT_SILENT_S = 10.0
"""Clock seconds without a reading after which the meter counts as silent."""
MIN_WALL_SILENT_S = 2.0
"""On an accelerated clock the silence is never shorter than this much wall time."""
LAB_METER_MEASURANDS = LAB_MEASURANDS
"""What a lab meter reading provides (``expect_settled`` on these judges from the meter)."""
_RETRY_WALL_S = 1.0
_PHASES = ("L1", "L2", "L3")


class LabMeterError(Exception):
    """A bad lab meter URL, a payload that is not a reading, or a broker out of reach."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabMeterSettings:
    """Where the meter publishes (see the module docstring for the URL)."""

    url: str
    host: str
    port: int
    topic: str
    tls: bool = False
    username: str | None = None
    password: str | None = None
    silent_s: float = DEFAULT_SILENT_S
    evse: int = 1

    @property
    def label(self) -> str:
        """How reasons and checks name the meter (no password)."""
        scheme = "mqtts" if self.tls else "mqtt"
        return f"lab meter {scheme}://{self.host}:{self.port}/{self.topic}"

    @classmethod
    def from_url(cls, url: str) -> LabMeterSettings:
        """Parse ``mqtt[s]://[user:password@]HOST[:PORT]/TOPIC[?silent_s=N&evse=N]``."""
        where = f"--lab-meter {url!r}"
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts"}:
            raise LabMeterError(f"{where}: expected mqtt://HOST:PORT/TOPIC or mqtts://…")
        topic = unquote(parts.path.lstrip("/"))
        if not parts.hostname or not topic:
            raise LabMeterError(f"{where}: expected a host and a topic (mqtt://HOST:PORT/TOPIC)")
        if "#" in url or "+" in topic:  # urlsplit takes "#..." for a fragment
            raise LabMeterError(f"{where}: the topic must name one meter, without + or #")
        try:
            port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        except ValueError:
            raise LabMeterError(f"{where}: the port must be a number 1-65535") from None
        query = parse_qs(parts.query)
        unknown = sorted(set(query) - {"silent_s", "evse"})
        if unknown:
            raise LabMeterError(f"{where}: unknown option {', '.join(unknown)} (silent_s, evse)")
        silent_s = _query_number(query, "silent_s", DEFAULT_SILENT_S, where)
        evse = _query_number(query, "evse", 1, where)
        if not silent_s > 0 or evse < 1 or evse != int(evse):
            raise LabMeterError(f"{where}: silent_s must be > 0 and evse an integer ≥ 1")
        return cls(
            url=url,
            host=parts.hostname,
            port=port,
            topic=topic,
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            silent_s=silent_s,
            evse=int(evse),
        )


def _query_number(query: Mapping[str, list[str]], name: str, default: float, where: str) -> float:
    if name not in query:
        return default
    try:
        value = float(query[name][-1])
    except ValueError:
        raise LabMeterError(f"{where}: {name} must be a number, got {query[name][-1]!r}") from None
    if not math.isfinite(value):
        raise LabMeterError(f"{where}: {name} must be finite")
    return value


@dataclass(frozen=True, slots=True)
class LabMeterReading:
    """One reading: when, which EVSE, current per phase (A), total power (W)."""

    t: datetime
    evse: int
    current_a: tuple[float, ...]
    power_w: float | None

    def samples(self) -> list[MeterSample]:
        """The reading as samples (source ``lab_meter``, no trace frame)."""
        lab = MeasurementSource.LAB_METER
        out = [
            MeterSample(self.t, self.evse, "Current.Import", phase, value, None, lab)
            for phase, value in zip(_PHASES, self.current_a, strict=False)
        ]
        if self.power_w is not None:
            out.append(
                MeterSample(self.t, self.evse, "Power.Active.Import", None, self.power_w, None, lab)
            )
        return out


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise LabMeterError(f"{field}: expected a number, got {json.dumps(value)}")
    return float(value)


def parse_reading(data: bytes, *, arrival: datetime, default_evse: int = 1) -> LabMeterReading:
    """Decode one message (see the module docstring); :class:`LabMeterError` names the field."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabMeterError(f"not JSON: {exc}") from None
    except RecursionError:  # a hostile publisher's deeply nested message
        raise LabMeterError("not a reading: nested too deep") from None
    if not isinstance(obj, dict):
        raise LabMeterError("expected a JSON object with current_a and/or power_w")
    unknown = sorted(set(obj) - {"t", "evse", "current_a", "power_w"})
    if unknown:
        raise LabMeterError(f"unknown field(s) {', '.join(unknown)} (t, evse, current_a, power_w)")
    stamp = obj.get("t")
    if stamp is not None and not isinstance(stamp, str):
        raise LabMeterError(f"t: expected an ISO 8601 time, got {json.dumps(stamp)}")
    evse = obj.get("evse", default_evse)
    if isinstance(evse, bool) or not isinstance(evse, int) or evse < 1:
        raise LabMeterError(f"evse: expected an integer ≥ 1, got {json.dumps(evse)}")
    currents: tuple[float, ...] = ()
    if "current_a" in obj:
        raw = obj["current_a"]
        if not isinstance(raw, list) or not 1 <= len(raw) <= 3:
            raise LabMeterError(f"current_a: expected 1 to 3 numbers [L1, L2, L3], got {raw!r}")
        currents = tuple(_number(v, f"current_a[{i}]") for i, v in enumerate(raw))
    power = None if obj.get("power_w") is None else _number(obj["power_w"], "power_w")
    if not currents and power is None:
        raise LabMeterError("expected current_a and/or power_w")
    return LabMeterReading(dut_time(stamp, arrival=arrival), evse, currents, power)


class LabMeter:
    """Subscribes to the meter's topic and feeds its readings to the attached log.

    ``await start()`` connects (raises :class:`LabMeterError` if the broker cannot be
    reached: a run should not start without its meter); afterwards a lost connection is
    retried every second of wall time while the steps see the silence. ``await aclose()``
    stops it.
    """

    def __init__(self, settings: LabMeterSettings, *, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.readings = 0
        self.rejected = 0
        self.last_problem: str | None = None
        self._log: ObservationLog | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._first_error: LabMeterError | None = None
        self._logger = get_logger("labmeter", meter=settings.label)

    @property
    def label(self) -> str:
        """The meter's name for checks and reasons."""
        return self.settings.label

    @property
    def silent_after_s(self) -> float:
        """Clock seconds without a reading after which the meter counts as silent."""
        return max(self.settings.silent_s, wall_floor(self.clock, MIN_WALL_SILENT_S))

    def provides(self, measurand: str) -> bool:
        """Whether ``expect_settled`` on ``measurand`` is judged from this meter."""
        return measurand in LAB_METER_MEASURANDS

    def attach(self, log: ObservationLog | None) -> None:
        """Send readings to ``log`` from now on (the current connection's), or nowhere."""
        self._log = log

    def feed(self, data: bytes) -> LabMeterReading | None:
        """Take one message (what the subscriber calls; tests may call it too)."""
        try:
            reading = parse_reading(data, arrival=self.clock.now(), default_evse=self.settings.evse)
        except LabMeterError as exc:
            self.rejected += 1
            self.last_problem = f"{self.settings.topic}: {exc}"
            self._logger.warning("lab_meter_bad_payload", reason=str(exc))
            return None
        self.readings += 1
        if self._log is not None:
            self._log.add_samples(reading.samples())
        return reading

    async def start(self) -> None:
        """Connect and subscribe (see the class docstring)."""
        self._task = asyncio.create_task(self._run(), name="lab-meter")
        waiting = asyncio.ensure_future(self._connected.wait())
        await asyncio.wait({waiting, self._task}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if not self._connected.is_set():
            await self.aclose()
            raise self._first_error or LabMeterError(f"{self.label}: could not connect")

    async def aclose(self) -> None:
        """Stop listening."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _client(self) -> aiomqtt.Client:
        s = self.settings
        return aiomqtt.Client(
            s.host,
            s.port,
            username=s.username,
            password=s.password,
            tls_context=ssl.create_default_context() if s.tls else None,
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )

    async def _run(self) -> None:
        while True:
            try:
                async with self._client() as client:
                    await client.subscribe(self.settings.topic, qos=0)
                    self._connected.set()
                    self._logger.info("lab_meter_subscribed")
                    async for message in client.messages:
                        payload = message.payload
                        if isinstance(payload, bytes | bytearray):
                            self.feed(bytes(payload))
                        elif isinstance(payload, str):
                            self.feed(payload.encode("utf-8"))
            except aiomqtt.MqttError as exc:
                problem = f"{self.label}: broker connection failed or lost: {exc}"
                self.last_problem = problem
                if not self._connected.is_set():
                    self._first_error = LabMeterError(problem)
                    return
                self._logger.warning("lab_meter_connection_lost", error=str(exc))
            await self.clock.sleep(max(_RETRY_WALL_S, wall_floor(self.clock, _RETRY_WALL_S)))
