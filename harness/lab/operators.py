"""Operators for a lab with several stations at once: on the terminal or over MQTT.

Each station's run gets its own :class:`~harness.runner.operator.Operator` naming the station:

* :class:`TerminalDesk` — one terminal shared by every station: prompts are asked one at a
  time (a lock), each prefixed with ``[STATION]``.
* :class:`MqttDesk` — one broker connection shared by every station. A prompt is published
  (QoS 1, *retained*, so an operator's app that connects later still sees what is pending) on
  ``{prefix}/prompt/{station}`` as JSON::

      {"id": "CP1-3", "station": "CP1", "message": "Plug the vehicle in at EVSE 1",
       "response": "ack", "at": "2026-11-28T05:40:00Z"}

  ``response`` is ``"ack"`` (do it, then acknowledge) or ``"yes_no"`` (answer the question).
  The operator answers on ``{prefix}/ack/{station}`` with::

      {"id": "CP1-3", "answer": true}

  ``answer`` true acknowledges / says yes; false says no (or "I cannot do that": the case
  is INCONCLUSIVE for an ack prompt, FAIL for a yes/no question). An acknowledgement whose
  ``id`` is not the pending prompt's (a stale one) or that is not such JSON is ignored and
  logged. Once answered, the retained prompt is cleared (an empty retained message).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

import aiomqtt

from harness.logs import get_logger
from harness.runner.operator import Operator, TerminalOperator
from simulators.pilot import MqttSettings

__all__ = ["DEFAULT_OPERATOR_PREFIX", "MqttDesk", "OperatorError", "TerminalDesk"]

DEFAULT_OPERATOR_PREFIX = "ocpp-harness/operator"


class OperatorError(Exception):
    """The operator channel cannot be used (e.g. the broker is unreachable)."""


class _StationOperator:
    """An :class:`Operator` for one station on a shared desk."""

    def __init__(self, desk: TerminalDesk | MqttDesk, station_id: str) -> None:
        self._desk = desk
        self._station = station_id

    async def ask(self, message: str, *, yes_no: bool) -> bool | None:
        return await self._desk.ask(self._station, message, yes_no=yes_no)


class TerminalDesk:
    """One terminal for every station: prompts one at a time, each naming its station."""

    def __init__(self, *, stdin: TextIO, stdout: TextIO) -> None:
        self._terminal = TerminalOperator(stdin=stdin, stdout=stdout)
        self._lock = asyncio.Lock()

    def operator(self, station_id: str) -> Operator:
        """The operator for ``station_id``'s run."""
        return _StationOperator(self, station_id)

    async def ask(self, station_id: str, message: str, *, yes_no: bool) -> bool | None:
        """Ask on the terminal once the previous prompt is answered."""
        async with self._lock:
            return await self._terminal.ask(f"[{station_id}] {message}", yes_no=yes_no)


class MqttDesk:
    """Prompts over MQTT (see the module docstring for topics and payloads).

    Use as ``async with MqttDesk(settings, now=clock.now) as desk:`` and give each run
    ``desk.operator(station_id)``. ``settings.prefix`` is the topic prefix.
    """

    def __init__(self, settings: MqttSettings, *, now: Callable[[], datetime]) -> None:
        self.settings = settings
        self._now = now
        self._client: aiomqtt.Client | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, tuple[str, asyncio.Future[bool]]] = {}
        """station id → (prompt id, answer)."""
        self._counter: dict[str, int] = {}
        self._log = get_logger("lab.operator")

    def prompt_topic(self, station_id: str) -> str:
        """Where prompts for ``station_id`` are published."""
        return f"{self.settings.prefix}/prompt/{station_id}"

    def ack_topic(self, station_id: str) -> str:
        """Where the operator answers ``station_id``'s prompts."""
        return f"{self.settings.prefix}/ack/{station_id}"

    def operator(self, station_id: str) -> Operator:
        """The operator for ``station_id``'s run."""
        return _StationOperator(self, station_id)

    async def __aenter__(self) -> MqttDesk:
        s = self.settings
        tls: ssl.SSLContext | None = None
        if s.tls:
            try:
                tls = ssl.create_default_context(
                    cafile=None if s.ca_file is None else str(s.ca_file)
                )
            except (OSError, ssl.SSLError) as exc:
                raise OperatorError(f"MQTT TLS: cannot load CA file {s.ca_file}: {exc}") from None
        client = aiomqtt.Client(
            s.host, s.port, username=s.username, password=s.password, tls_context=tls
        )
        try:
            await client.__aenter__()
            await client.subscribe(f"{s.prefix}/ack/+", qos=1)
        except aiomqtt.MqttError as exc:
            raise OperatorError(f"cannot use the MQTT broker at {s.url}: {exc}") from None
        self._client = client
        self._reader = asyncio.create_task(self._read(client), name="lab-operator-mqtt")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        for _, future in self._pending.values():
            if not future.done():
                future.set_result(False)
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.__aexit__(None, None, None)
        self._client = None

    async def _read(self, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                self._acknowledged(str(message.topic), message.payload)
        except aiomqtt.MqttError as exc:
            self._log.error("operator_broker_lost", url=self.settings.url, error=str(exc))
            for _, future in self._pending.values():
                if not future.done():
                    future.set_result(False)

    def _acknowledged(self, topic: str, payload: Any) -> None:
        station = topic.rsplit("/", 1)[-1]
        try:
            data = json.loads(payload if isinstance(payload, bytes | str) else b"")
            prompt_id, answer = data["id"], data["answer"]
            if not isinstance(prompt_id, str) or not isinstance(answer, bool):
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError):
            self._log.warning(
                "operator_ack_ignored", topic=topic, reason='expected {"id": str, "answer": bool}'
            )
            return
        pending = self._pending.get(station)
        if pending is None or pending[0] != prompt_id or pending[1].done():
            self._log.warning(
                "operator_ack_ignored", topic=topic, id=prompt_id, reason="no such pending prompt"
            )
            return
        pending[1].set_result(answer)

    async def ask(self, station_id: str, message: str, *, yes_no: bool) -> bool:
        """Publish the prompt and wait for its answer (``False`` if the broker is lost)."""
        client = self._client
        if client is None:
            raise OperatorError("MqttDesk is not open (use `async with`)")
        number = self._counter.get(station_id, 0) + 1
        self._counter[station_id] = number
        prompt_id = f"{station_id}-{number}"
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[station_id] = (prompt_id, future)
        body = {
            "id": prompt_id,
            "station": station_id,
            "message": message,
            "response": "yes_no" if yes_no else "ack",
            "at": self._now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        topic = self.prompt_topic(station_id)
        try:
            await client.publish(topic, json.dumps(body), qos=1, retain=True)
            return await future
        except aiomqtt.MqttError as exc:
            self._log.error("operator_prompt_failed", topic=topic, error=str(exc))
            return False
        finally:
            if self._pending.get(station_id, ("", None))[0] == prompt_id:
                del self._pending[station_id]
            with contextlib.suppress(aiomqtt.MqttError):
                await client.publish(topic, b"", qos=1, retain=True)
