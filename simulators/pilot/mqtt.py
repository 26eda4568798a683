"""The pilot link over MQTT (aiomqtt), so a vehicle can run in another process or a lab
EV emulator can be bridged.

Topics, for one EVSE, under ``{prefix}/{station_id}/{evse_id}`` (prefix default
``ocpp-harness``):

=====================  ==================  =====  ========  ================================
topic suffix           direction           QoS    retained  payload
=====================  ==================  =====  ========  ================================
``/pilot``             station → vehicle   1      yes       PilotOffer
``/plug/set``          station → vehicle   1      no        PlugCommand (test moves cable)
``/v2x``               station → vehicle   1      no        DischargeRequest
``/vehicle``           vehicle → station   0      no        VehicleReading
``/plug``              vehicle → station   1      yes       PlugEvent
``/v2x/answer``        vehicle → station   1      no        DischargeAnswer
``/link``              vehicle → station   1      yes       LinkStatus (also the last will)
=====================  ==================  =====  ========  ================================

Why: the offer is retained so that a vehicle that (re)connects drives the current pilot at
once; readings are frequent and superseded by the next one, so QoS 0; plug state and link
status are retained so that a station that connects later knows them; the vehicle's last
will marks it offline when its process dies. Requests and answers are not retained: they
must not replay. An empty retained payload (how MQTT clears a retained message) is ignored.

Payloads are the version-1 JSON of :mod:`simulators.pilot.messages`, e.g. on ``/pilot``::

    {"v":1,"duty_percent":26.666666666666668,"line":"normal","energized_phases":3,
     "hlc_current_a":null}

A malformed payload (bad JSON, wrong version, unknown or missing key, wrong type or range)
is logged as a ``pilot_link_bad_payload`` warning with the topic and the reason, counted in
``stats.bad_payloads``, remembered in ``last_bad_payload``, and otherwise ignored; it never
stops the link. A lost broker connection (noticed by the reader or by a failed publish)
ends the link: ``receive`` and the send methods raise
:class:`~simulators.pilot.link.LinkError` (there is no automatic reconnect).

Broker URLs: ``mqtt://host[:port]`` (default port 1883) or ``mqtts://host[:port]`` (TLS,
default port 8883, the system's trusted CAs unless ``ca_file`` is given); optional
``user:password@`` in the URL or as separate arguments. See ``simulators/PILOT_LINK.md``.

Latency: the clients set ``TCP_NODELAY``; configure the broker likewise (mosquitto:
``set_tcp_nodelay true``), or each offer → reading round trip costs ~44 ms instead of
~1 ms on loopback (``benchmarks/pilot_link.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Self

import aiomqtt

from harness.logs import get_logger
from simulators.pilot.address import DEFAULT_PREFIX, MqttSettings, PilotTopics
from simulators.pilot.link import (
    DEFAULT_STATION_INBOX,
    LinkError,
    LinkStats,
    StationEnd,
    VehicleEnd,
)
from simulators.pilot.messages import (
    DischargeAnswer,
    DischargeRequest,
    LinkStatus,
    Message,
    PayloadError,
    PlugCommand,
    PlugEvent,
    decode,
    encode,
)
from simulators.vehicle.signals import PilotOffer, VehicleReading

__all__ = [
    "DEFAULT_PREFIX",
    "MqttSettings",
    "MqttStationEnd",
    "MqttVehicleEnd",
    "PilotTopics",
]

_PREVIEW_BYTES = 200
_GOODBYE_TIMEOUT_S = 2.0  # wall seconds aiomqtt may wait for the broker to take the last word


_Route = tuple[type[Message], int, Callable[[Any], None]]


class _MqttPort:
    """One aiomqtt client: subscribes to its routes, decodes strictly, reports problems."""

    def __init__(
        self,
        settings: MqttSettings,
        *,
        role: str,
        stats: LinkStats,
        routes: Mapping[str, _Route],
        on_lost: Callable[[LinkError], None],
        will: aiomqtt.Will | None = None,
    ) -> None:
        self.settings = settings
        self.role = role
        self.last_bad_payload: str | None = None
        self._stats = stats
        self._routes = routes
        self._on_lost = on_lost
        self._will = will
        self._client: aiomqtt.Client | None = None
        self._lost: LinkError | None = None  # why the broker connection failed
        self._lost_event = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.settings.tls:
            return None
        ca = self.settings.ca_file
        try:
            return ssl.create_default_context(cafile=None if ca is None else str(ca))
        except (OSError, ssl.SSLError) as error:
            raise LinkError(f"TLS: cannot load CA file {ca}: {error}") from None

    async def open(self) -> None:
        s = self.settings
        client = aiomqtt.Client(
            s.host,
            s.port,
            username=s.username,
            password=s.password,
            tls_context=self._tls_context(),
            will=self._will,
            # Small messages, one at a time: Nagle's algorithm with delayed ACKs adds ~40 ms to
            # an offer → reading round trip (benchmarks/pilot_link.py). The broker needs the
            # same (mosquitto: set_tcp_nodelay true).
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        try:
            await client.__aenter__()
        except aiomqtt.MqttError as error:
            raise LinkError(f"cannot connect to the MQTT broker at {s.url}: {error}") from None
        self._client = client
        try:
            for topic, (_, qos, _) in self._routes.items():
                await client.subscribe(topic, qos=qos)
        except aiomqtt.MqttError as error:
            await self.close()
            raise LinkError(f"cannot subscribe at {s.url}: {error}") from None
        self._reader = asyncio.create_task(self._read(client), name=f"pilot-mqtt-{self.role}")

    async def _read(self, client: aiomqtt.Client) -> None:
        try:
            async for message in client.messages:
                self._dispatch(str(message.topic), message.payload)
        except aiomqtt.MqttError as error:
            url = self.settings.url
            self._lose(LinkError(f"connection to the MQTT broker at {url} lost: {error}"))
        except Exception as error:  # a defect here must end the link visibly, not silently
            get_logger("pilot.mqtt", role=self.role).error(
                "pilot_link_reader_failed", error=repr(error)
            )
            self._lose(LinkError(f"the MQTT link's reader failed: {error!r}"))

    def _dispatch(self, topic: str, payload: object) -> None:
        route = self._routes.get(topic)
        if route is None:
            return
        if isinstance(payload, bytes | bytearray):
            data = bytes(payload)
        elif payload is None:
            data = b""
        else:
            data = str(payload).encode("utf-8")
        if not data:
            return  # a retained message being cleared
        kind, _, deliver = route
        try:
            message = decode(kind, data)
        except PayloadError as error:
            self._stats.bad_payloads += 1
            self.last_bad_payload = f"{topic}: {error}"
            get_logger("pilot.mqtt", role=self.role).warning(
                "pilot_link_bad_payload",
                topic=topic,
                reason=str(error),
                payload=data[:_PREVIEW_BYTES].decode("utf-8", "replace"),
            )
            return
        try:
            deliver(message)
        except Exception as error:  # a consumer's callback must not stop the link
            get_logger("pilot.mqtt", role=self.role).error(
                "pilot_link_delivery_failed", topic=topic, error=repr(error)
            )

    async def publish(self, topic: str, message: Message, *, qos: int, retain: bool) -> None:
        if self._client is None:
            raise LinkError("the MQTT link end is not connected (use it in `async with`)")
        if self._lost is not None:
            raise LinkError(*self._lost.args)
        payload = encode(message)
        try:
            # Even a QoS 0 message goes through a task of its own: when paho cannot write it
            # at once, aiomqtt waits for it to leave with asyncio.wait_for, which on Python
            # 3.11 swallows a cancel that meets the departure; the caller (a vehicle's run
            # loop being stopped) would then carry on as if never cancelled.
            await self._confirmed(self._client.publish(topic, payload, qos=qos, retain=retain))
        except aiomqtt.MqttError as error:
            lost = LinkError(f"cannot publish to {topic} at {self.settings.url}: {error}")
            self._lose(lost)  # no reconnect: any broker failure ends the link
            raise lost from None

    async def _confirmed(self, publishing: Coroutine[Any, Any, None]) -> None:
        """Await a publish, or fail as soon as the connection is seen lost.

        aiomqtt would otherwise wait for the broker's acknowledgement until its own timeout,
        even after the connection dropped.
        """
        sending = asyncio.ensure_future(publishing)
        lost = asyncio.ensure_future(self._lost_event.wait())
        try:
            await asyncio.wait({sending, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not sending.done():
                sending.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await sending
        if sending.done() and not sending.cancelled():
            sending.result()
            return
        reason = self._lost or LinkError(f"the connection to {self.settings.url} was lost")
        raise LinkError(*reason.args)

    def _lose(self, reason: LinkError) -> None:
        if self._lost is None:
            self._lost = reason
            self._lost_event.set()
        self._on_lost(reason)

    async def close(self, *, last: tuple[str, Message, int, bool] | None = None) -> None:
        client, self._client = self._client, None
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        if client is None:
            return
        with contextlib.suppress(aiomqtt.MqttError):
            if last is not None and self._lost is None:
                topic, message, qos, retain = last
                # aiomqtt's own bound: a half-dead connection must not hold up the close.
                await client.publish(
                    topic, encode(message), qos=qos, retain=retain, timeout=_GOODBYE_TIMEOUT_S
                )
        with contextlib.suppress(aiomqtt.MqttError):
            await client.__aexit__(None, None, None)


class MqttStationEnd(StationEnd):
    """Station end over MQTT for one EVSE. Use as ``async with MqttStationEnd(...) as end``.

    Leaving the block disconnects; the retained offer stays on the broker (a vehicle keeps
    following the last pilot, as with a station that stops talking).
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        station_id: str,
        evse_id: int,
        inbox_size: int | None = DEFAULT_STATION_INBOX,
    ) -> None:
        super().__init__(inbox_size=inbox_size)
        self.topics = PilotTopics.for_evse(
            prefix=settings.prefix, station_id=station_id, evse_id=evse_id
        )
        t = self.topics
        routes: dict[str, _Route] = {
            t.vehicle: (VehicleReading, 0, self._deliver_reading),
            t.plug: (PlugEvent, 1, self._deliver_plug),
            t.v2x_answer: (DischargeAnswer, 1, self._deliver_answer),
            t.link: (LinkStatus, 1, self._deliver_status),
        }
        self._port = _MqttPort(
            settings, role="station", stats=self.stats, routes=routes, on_lost=self._shut
        )

    @property
    def last_bad_payload(self) -> str | None:
        """Topic and reason of the newest malformed payload (``None``: none so far)."""
        return self._port.last_bad_payload

    async def __aenter__(self) -> Self:
        await self._port.open()
        return self

    async def aclose(self) -> None:
        await self._port.close()
        await super().aclose()

    async def _send_offer(self, offer: PilotOffer) -> None:
        await self._port.publish(self.topics.pilot, offer, qos=1, retain=True)

    async def _send_plug(self, command: PlugCommand) -> None:
        await self._port.publish(self.topics.plug_set, command, qos=1, retain=False)

    async def _send_discharge(self, request: DischargeRequest) -> None:
        await self._port.publish(self.topics.v2x, request, qos=1, retain=False)


class MqttVehicleEnd(VehicleEnd):
    """Vehicle end over MQTT for one EVSE. Use as ``async with MqttVehicleEnd(...) as end``.

    On connect it publishes ``{"v":1,"online":true}`` (retained) on ``/link``; on a clean
    close ``online: false``; the broker publishes the same as its last will if the process
    dies.
    """

    def __init__(self, settings: MqttSettings, *, station_id: str, evse_id: int) -> None:
        super().__init__()
        self.topics = PilotTopics.for_evse(
            prefix=settings.prefix, station_id=station_id, evse_id=evse_id
        )
        t = self.topics
        routes: dict[str, _Route] = {
            t.pilot: (PilotOffer, 1, self._deliver),
            t.plug_set: (PlugCommand, 1, self._deliver),
            t.v2x: (DischargeRequest, 1, self._deliver),
        }
        will = aiomqtt.Will(t.link, encode(LinkStatus(online=False)), qos=1, retain=True)
        self._port = _MqttPort(
            settings,
            role="vehicle",
            stats=self.stats,
            routes=routes,
            on_lost=self._shut,
            will=will,
        )

    @property
    def last_bad_payload(self) -> str | None:
        """Topic and reason of the newest malformed payload (``None``: none so far)."""
        return self._port.last_bad_payload

    async def __aenter__(self) -> Self:
        await self._port.open()
        await self._port.publish(self.topics.link, LinkStatus(online=True), qos=1, retain=True)
        return self

    async def aclose(self) -> None:
        await self._port.close(last=(self.topics.link, LinkStatus(online=False), 1, True))
        await super().aclose()

    async def _send_reading(self, reading: VehicleReading) -> None:
        await self._port.publish(self.topics.vehicle, reading, qos=0, retain=False)

    async def _send_plug(self, event: PlugEvent) -> None:
        await self._port.publish(self.topics.plug, event, qos=1, retain=True)

    async def _send_answer(self, answer: DischargeAnswer) -> None:
        await self._port.publish(self.topics.v2x_answer, answer, qos=1, retain=False)
