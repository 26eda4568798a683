"""A station's vehicle on the other end of a pilot link (in-process queues or MQTT).

:class:`PilotLinkVehicle` implements :class:`~simulators.station.link.VehicleLink` over a
:class:`~simulators.pilot.StationEnd`, so a :class:`~simulators.station.runtime.SimulatedStation`
can drive a vehicle that runs elsewhere (``ocpp-harness vehicle --mqtt …`` in another
process, or a lab EV emulator behind a bridge). The station's loop is synchronous; the link
is async. How the two meet:

* **Sending** (:meth:`~PilotLinkVehicle.set_pilot`, :meth:`~PilotLinkVehicle.unplug`, the
  plug-in command at creation): the message is queued and a single sender task sends the
  queue in order; the simulation loop never waits. An offer equal to the last one queued is
  not sent again (the station re-asserts its pilot at every step; the retained ``/pilot``
  topic already holds it). A failed send is logged (``pilot_link_send_failed``), counted in
  :attr:`~PilotLinkVehicle.send_failures` and kept in :attr:`~PilotLinkVehicle.last_error`;
  the sender goes on with the next message (after a lost broker every send fails, visibly).
* **Readings** (:meth:`~PilotLinkVehicle.advance_to`): the newest reading received since the
  previous call, or ``None``. Intermediate readings are skipped, which loses nothing: the
  station's meter follows the vehicle's cumulative energy counters. The vehicle runs on its
  own clock, so ``now`` is not used to step anything — run the vehicle at the station's
  clock speed.
* **Parameters** (:attr:`~PilotLinkVehicle.params`): the link does not carry them. The
  station assumes the ``params`` it is given (the ``--vehicle`` archetype of
  ``ocpp-harness simulate``); they decide whether the station asks for discharge and caps the
  requested power. Give the vehicle process the same archetype.
* **Discharge** (:meth:`~PilotLinkVehicle.set_discharge`): the request/answer is async. The
  call returns at once ``DischargeDecision(accepted=True, reason="requested over the pilot
  link, answer pending")`` — optimistic, because the station's loop only logs the decision.
  The request runs as its own task (the vehicle's answer is awaited for at most
  ``answer_timeout_s`` clock seconds without holding up offers); the answer is kept in
  :attr:`~PilotLinkVehicle.last_discharge_answer` and a refusal or missing answer is logged.
  What the vehicle really does shows in its readings (negative currents, exported energy),
  which is what the station meters. A discharge request is not ordered against offers (MQTT
  does not order messages across topics either).

:class:`MqttPilotVehicles` opens one :class:`~simulators.pilot.MqttStationEnd` per station
EVSE on first plug-in and gives each station a
:data:`~simulators.station.runtime.VehicleLinkFactory`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from harness.clock import Clock
from harness.logs import get_logger
from simulators.pilot.address import MqttSettings
from simulators.pilot.link import LinkError, StationEnd
from simulators.pilot.messages import PlugCommand
from simulators.pilot.mqtt import MqttStationEnd
from simulators.station.link import VehicleLink
from simulators.vehicle import DischargeDecision, PilotOffer, VehicleParams, VehicleReading

__all__ = ["PENDING_DISCHARGE", "MqttPilotVehicles", "PilotLinkVehicle"]

PENDING_DISCHARGE = DischargeDecision(
    accepted=True, reason="requested over the pilot link, answer pending"
)
"""What :meth:`PilotLinkVehicle.set_discharge` returns (the real answer comes later)."""

_Send = Callable[[], Coroutine[Any, Any, object]]


class PilotLinkVehicle:
    """The vehicle behind ``end``, as a :class:`~simulators.station.link.VehicleLink`.

    ``params`` is what the station assumes about the remote vehicle (see the module doc).
    Creating it queues ``PlugCommand(plugged=True)`` (the cable goes in; a vehicle that is
    already plugged ignores it). Create it inside a running event loop; call :meth:`aclose`
    when done (it does not close ``end``, which its owner may reuse for the next plug-in).
    """

    def __init__(
        self,
        end: StationEnd,
        *,
        params: VehicleParams,
        clock: Clock,
        answer_timeout_s: float = 30.0,
        name: str = "",
    ) -> None:
        self.end = end
        self._params = params
        self._clock = clock
        self._answer_timeout_s = answer_timeout_s
        self._log = get_logger("station.pilot_link", link=name)
        self._queue: asyncio.Queue[tuple[str, _Send]] = asyncio.Queue()
        self._sender = asyncio.create_task(self._send_all(), name=f"pilot-send-{name}")
        self._requests: set[asyncio.Task[None]] = set()
        self._offer: PilotOffer | None = None
        self._returned: VehicleReading | None = end.latest_reading
        self.send_failures = 0
        """Messages that could not be sent (each is logged as ``pilot_link_send_failed``)."""
        self.last_error: str | None = None
        """Why the newest failed send failed (``None``: none failed)."""
        self.last_discharge_answer: DischargeDecision | None = None
        """The vehicle's newest answer to a discharge request (``None``: none yet)."""
        self._enqueue("plug", lambda: end.send_plug(PlugCommand(plugged=True)))

    # ------------------------------------------------------------------ VehicleLink
    @property
    def params(self) -> VehicleParams:
        """The parameters the station assumes (the link does not carry them)."""
        return self._params

    @property
    def latest(self) -> VehicleReading | None:
        """The newest reading received over the link."""
        return self.end.latest_reading

    def advance_to(self, now: datetime) -> VehicleReading | None:
        """The newest reading received since the previous call (``None``: nothing new)."""
        reading = self.end.latest_reading
        if reading is None or reading is self._returned:
            return None
        self._returned = reading
        return reading

    def set_pilot(self, offer: PilotOffer) -> None:
        """Queue ``offer`` for sending, unless it equals the last one queued."""
        if offer == self._offer:
            return
        self._offer = offer
        self._enqueue("offer", lambda: self.end.send_offer(offer))

    def set_discharge(self, *, power_w: float) -> DischargeDecision:
        """Send the request in the background; answer :data:`PENDING_DISCHARGE` at once."""
        task = asyncio.create_task(self._request_discharge(power_w))
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)
        return PENDING_DISCHARGE

    def unplug(self) -> None:
        """Queue ``PlugCommand(plugged=False)``: the cable leaves the vehicle."""
        self._enqueue("plug", lambda: self.end.send_plug(PlugCommand(plugged=False)))

    @property
    def steady_s(self) -> float:
        """Always 0: the vehicle runs on its own clock and may report at any time."""
        return 0.0

    # ------------------------------------------------------------------ lifecycle
    @property
    def pending(self) -> int:
        """Messages queued and not sent yet."""
        return self._queue.qsize()

    async def drain(self) -> None:
        """Wait until every queued message was sent (or failed)."""
        await self._queue.join()

    async def aclose(self, *, drain_timeout_s: float = 2.0) -> None:
        """Send what is queued (for at most ``drain_timeout_s`` clock seconds), then stop."""
        with contextlib.suppress(TimeoutError):
            await self._clock.wait_for(self.drain(), drain_timeout_s)
        tasks = [self._sender, *self._requests]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ internals
    def _enqueue(self, what: str, send: _Send) -> None:
        self._queue.put_nowait((what, send))

    async def _send_all(self) -> None:
        while True:
            what, send = await self._queue.get()
            try:
                await send()
            except LinkError as error:
                self._failed(what, error)
            finally:
                self._queue.task_done()

    def _failed(self, what: str, error: Exception) -> None:
        self.send_failures += 1
        self.last_error = f"{what}: {error}"
        self._log.warning("pilot_link_send_failed", message=what, error=str(error))

    async def _request_discharge(self, power_w: float) -> None:
        try:
            answer = await self._clock.wait_for(
                self.end.request_discharge(power_w=power_w), self._answer_timeout_s
            )
        except TimeoutError:
            self._log.warning(
                "pilot_link_discharge_unanswered",
                power_w=power_w,
                timeout_s=self._answer_timeout_s,
            )
            return
        except LinkError as error:
            self._failed("discharge", error)
            return
        self.last_discharge_answer = answer
        log = self._log.info if answer.accepted else self._log.warning
        log(
            "pilot_link_discharge_answer",
            power_w=power_w,
            accepted=answer.accepted,
            reason=answer.reason,
        )


class MqttPilotVehicles:
    """Vehicles over MQTT for many stations: one station end per (station id, EVSE id).

    :meth:`factory` gives a station its ``vehicle_link_factory``; the first plug-in of an
    EVSE connects its :class:`~simulators.pilot.MqttStationEnd` (topics
    ``{prefix}/{station_id}/{evse_id}/…``), later plug-ins reuse it. :meth:`aclose` stops
    every link and disconnects every end.
    """

    def __init__(self, settings: MqttSettings, *, params: VehicleParams, clock: Clock) -> None:
        self.settings = settings
        self.params = params
        self.clock = clock
        self._ends: dict[tuple[str, int], MqttStationEnd] = {}
        self.links: list[PilotLinkVehicle] = []
        """Every link made so far (read their ``send_failures``)."""

    @property
    def send_failures(self) -> int:
        """Failed sends over all links."""
        return sum(link.send_failures for link in self.links)

    def factory(self, station_id: str) -> Callable[[int], Coroutine[Any, Any, VehicleLink]]:
        """A ``vehicle_link_factory`` for the station ``station_id``."""

        async def make(evse_id: int) -> VehicleLink:
            return await self.link(station_id, evse_id)

        return make

    async def link(self, station_id: str, evse_id: int) -> PilotLinkVehicle:
        """A new link to the vehicle of ``station_id``/``evse_id`` (raises ``LinkError``)."""
        key = (station_id, evse_id)
        end = self._ends.get(key)
        if end is None:
            # Readings are taken from ``latest_reading``; nobody reads the inbox (size 1).
            made = MqttStationEnd(
                self.settings, station_id=station_id, evse_id=evse_id, inbox_size=1
            )
            end = await made.__aenter__()
            self._ends[key] = end
        link = PilotLinkVehicle(
            end, params=self.params, clock=self.clock, name=f"{station_id}/{evse_id}"
        )
        self.links.append(link)
        return link

    async def aclose(self) -> None:
        """Send what the links queued (briefly), then disconnect every end."""
        for link in self.links:
            await link.aclose()
        ends, self._ends = list(self._ends.values()), {}
        for end in ends:
            await end.aclose()
