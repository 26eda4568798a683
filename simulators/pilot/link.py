"""The pilot link's two ends, and the in-process link (the default, and CI's fast path).

A link joins one EVSE of a station to one vehicle. The **station end**
(:class:`StationEnd`) sends the station's :class:`PilotOffer`, discharge setpoints and the
test's plug commands, and receives :class:`VehicleReading` values and :class:`PlugEvent`
values. The **vehicle end** (:class:`VehicleEnd`) receives those offers and requests and
sends readings, plug events and discharge answers.

Both ends are async and clock-free: they hand values over as they come and never wait on
time. A caller that needs a deadline wraps the call in its clock
(``await clock.wait_for(end.request_discharge(power_w=3000), timeout_s=10)``).

Each end keeps the newest value of each kind (``latest_reading``, ``plugged``,
``latest_offer``) and an inbox that :meth:`StationEnd.receive` / :meth:`VehicleEnd.receive`
read in arrival order. The station's inbox is bounded (``inbox_size``): when nobody reads
it, the oldest entries are dropped and counted in :attr:`LinkStats.dropped`, so an unread
link cannot grow without limit. The vehicle's inbox is unbounded (the runner reads it).

:class:`InProcessLink` hands the frozen values over directly, with no serialization.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, Self, TypeVar

from simulators.pilot.messages import (
    DischargeAnswer,
    DischargeRequest,
    LinkStatus,
    PlugCommand,
    PlugEvent,
)
from simulators.vehicle.signals import DischargeDecision, PilotOffer, VehicleReading

__all__ = [
    "DEFAULT_STATION_INBOX",
    "InProcessLink",
    "LinkClosed",
    "LinkError",
    "LinkStats",
    "StationEnd",
    "StationInbound",
    "VehicleEnd",
    "VehicleInbound",
]

StationInbound = VehicleReading | PlugEvent | LinkStatus
"""What :meth:`StationEnd.receive` returns (sent by the vehicle side)."""

VehicleInbound = PilotOffer | DischargeRequest | PlugCommand
"""What :meth:`VehicleEnd.receive` returns (sent by the station side)."""

DEFAULT_STATION_INBOX = 1024
"""Default bound of a station end's inbox (about 17 minutes of 1 s readings)."""

T = TypeVar("T")


class LinkError(Exception):
    """The link cannot carry messages any more (e.g. the MQTT broker connection was lost)."""


class LinkClosed(LinkError):
    """The end was closed; nothing more will arrive."""


@dataclass(slots=True)
class LinkStats:
    """Counters of one link end (read them; the end updates them)."""

    received: int = 0  # valid messages delivered to this end
    sent: int = 0  # messages this end sent
    bad_payloads: int = 0  # malformed payloads ignored (MQTT only)
    dropped: int = 0  # inbox entries dropped because nobody read them


class _Inbox(Generic[T]):
    """Arrival-ordered queue; bounded ones drop their oldest entry, counted in ``stats``."""

    def __init__(self, stats: LinkStats, *, maxsize: int | None) -> None:
        if maxsize is not None and maxsize < 1:
            raise ValueError(f"inbox size must be ≥ 1 or None, got {maxsize!r}")
        self._queue: asyncio.Queue[T | LinkError] = asyncio.Queue()
        self._maxsize = maxsize
        self._stats = stats
        self._closed: LinkError | None = None

    def put(self, item: T) -> None:
        if self._closed is not None:
            return
        if self._maxsize is not None and self._queue.qsize() >= self._maxsize:
            self._queue.get_nowait()
            self._stats.dropped += 1
        self._queue.put_nowait(item)

    def close(self, reason: LinkError) -> None:
        if self._closed is None:
            self._closed = reason
            self._queue.put_nowait(reason)

    async def get(self) -> T:
        item = await self._queue.get()
        if isinstance(item, LinkError):
            self._queue.put_nowait(item)  # every later reader sees the end too
            raise type(item)(*item.args)
        return item


class _End:
    """What both ends share: stats, closing, async context management."""

    def __init__(self) -> None:
        self.stats = LinkStats()
        self._shut_reason: LinkError | None = None

    @property
    def closed(self) -> bool:
        """True after :meth:`aclose` (or after the transport failed)."""
        return self._shut_reason is not None

    async def aclose(self) -> None:
        """Close this end; readers waiting in ``receive`` get :class:`LinkClosed`."""
        self._shut(LinkClosed("the link end was closed"))

    def _shut(self, reason: LinkError) -> None:
        if self._shut_reason is None:  # the first reason is the real one
            self._shut_reason = reason

    def _check_open(self) -> None:
        reason = self._shut_reason
        if reason is not None:
            raise type(reason)(*reason.args)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class StationEnd(_End, ABC):
    """The station's side of the link for one EVSE.

    Send with :meth:`send_offer`, :meth:`send_plug` and :meth:`request_discharge`; read
    :attr:`latest_reading`, :attr:`plugged`, :attr:`vehicle_online`, or every reading, plug
    event and link status in order with :meth:`receive`.
    """

    def __init__(self, *, inbox_size: int | None = DEFAULT_STATION_INBOX) -> None:
        super().__init__()
        self._inbox: _Inbox[StationInbound] = _Inbox(self.stats, maxsize=inbox_size)
        self._latest_reading: VehicleReading | None = None
        self._plugged: bool | None = None
        self._vehicle_online: bool | None = None
        self._pending: dict[str, asyncio.Future[DischargeDecision]] = {}
        self._prefix = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)
        self._reading_waiters: list[
            tuple[Callable[[VehicleReading], bool], asyncio.Future[VehicleReading]]
        ] = []

    # -------------------------------------------------------------- state
    @property
    def latest_reading(self) -> VehicleReading | None:
        """The newest reading received (``None`` before the first)."""
        return self._latest_reading

    @property
    def plugged(self) -> bool | None:
        """Whether the vehicle's cable is connected (``None``: not told yet)."""
        return self._plugged

    @property
    def vehicle_online(self) -> bool | None:
        """Whether the vehicle side is connected (``None``: not told yet)."""
        return self._vehicle_online

    # -------------------------------------------------------------- sending
    async def send_offer(self, offer: PilotOffer) -> None:
        """Drive ``offer`` onto the pilot (the vehicle reacts after its response delay)."""
        self._check_open()
        await self._send_offer(offer)
        self.stats.sent += 1

    async def send_plug(self, command: PlugCommand) -> None:
        """Ask the simulated vehicle to plug its cable in or pull it out."""
        self._check_open()
        await self._send_plug(command)
        self.stats.sent += 1

    async def request_discharge(self, *, power_w: float) -> DischargeDecision:
        """Ask the vehicle to export ``power_w`` (0 ends discharging); await its answer.

        Waits without limit: bound it with the caller's clock
        (``clock.wait_for(..., timeout_s=…)``). Raises :class:`LinkClosed` if the link
        closes first.
        """
        self._check_open()
        request = DischargeRequest(request_id=f"{self._prefix}-{next(self._ids)}", power_w=power_w)
        future: asyncio.Future[DischargeDecision] = asyncio.get_running_loop().create_future()
        self._pending[request.request_id] = future
        try:
            await self._send_discharge(request)
            self.stats.sent += 1
            return await future
        finally:
            self._pending.pop(request.request_id, None)

    # -------------------------------------------------------------- receiving
    async def receive(self) -> StationInbound:
        """The next reading, plug event or link status, in arrival order (waits for one)."""
        return await self._inbox.get()

    async def wait_reading(
        self,
        predicate: Callable[[VehicleReading], bool] | None = None,
        *,
        include_latest: bool = False,
    ) -> VehicleReading:
        """The first reading that satisfies ``predicate`` (any, if ``None``).

        Only readings arriving after the call count, unless ``include_latest`` also lets
        :attr:`latest_reading` match at once (use it to wait for a condition without the race
        of a reading arriving between an action and this call). Independent of
        :meth:`receive`: it neither consumes nor needs the inbox. Bound it with the caller's
        clock or ``asyncio.timeout``.
        """
        self._check_open()
        check = predicate or (lambda _: True)
        latest = self._latest_reading
        if include_latest and latest is not None and check(latest):
            return latest
        future: asyncio.Future[VehicleReading] = asyncio.get_running_loop().create_future()
        entry = (check, future)
        self._reading_waiters.append(entry)
        try:
            return await future
        finally:
            if entry in self._reading_waiters:
                self._reading_waiters.remove(entry)

    def _deliver_reading(self, reading: VehicleReading) -> None:
        self.stats.received += 1
        self._latest_reading = reading
        self._inbox.put(reading)
        for predicate, future in list(self._reading_waiters):
            if not future.done() and predicate(reading):
                future.set_result(reading)

    def _deliver_plug(self, event: PlugEvent) -> None:
        self.stats.received += 1
        self._plugged = event.plugged
        self._inbox.put(event)

    def _deliver_answer(self, answer: DischargeAnswer) -> None:
        self.stats.received += 1
        future = self._pending.get(answer.request_id)
        if future is not None and not future.done():
            future.set_result(answer.decision)

    def _deliver_status(self, status: LinkStatus) -> None:
        self.stats.received += 1
        self._vehicle_online = status.online
        self._inbox.put(status)

    def _shut(self, reason: LinkError) -> None:
        super()._shut(reason)
        self._inbox.close(reason)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(reason)
        for _, waiter in self._reading_waiters:
            if not waiter.done():
                waiter.set_exception(reason)

    # -------------------------------------------------------------- transport hooks
    @abstractmethod
    async def _send_offer(self, offer: PilotOffer) -> None: ...

    @abstractmethod
    async def _send_plug(self, command: PlugCommand) -> None: ...

    @abstractmethod
    async def _send_discharge(self, request: DischargeRequest) -> None: ...


class VehicleEnd(_End, ABC):
    """The vehicle's side of the link: receives offers and requests, sends what it does."""

    def __init__(self) -> None:
        super().__init__()
        self._inbox: _Inbox[VehicleInbound] = _Inbox(self.stats, maxsize=None)
        self._latest_offer: PilotOffer | None = None

    @property
    def latest_offer(self) -> PilotOffer | None:
        """The newest pilot offer received (``None`` before the first)."""
        return self._latest_offer

    async def receive(self) -> VehicleInbound:
        """The next offer, discharge request or plug command, in arrival order."""
        return await self._inbox.get()

    async def send_reading(self, reading: VehicleReading) -> None:
        """Publish the vehicle's reading."""
        self._check_open()
        await self._send_reading(reading)
        self.stats.sent += 1

    async def send_plug(self, event: PlugEvent) -> None:
        """Tell the station the cable was connected or disconnected."""
        self._check_open()
        await self._send_plug(event)
        self.stats.sent += 1

    async def answer_discharge(self, answer: DischargeAnswer) -> None:
        """Answer a :class:`DischargeRequest` (same ``request_id``)."""
        self._check_open()
        await self._send_answer(answer)
        self.stats.sent += 1

    def _deliver(self, message: VehicleInbound) -> None:
        self.stats.received += 1
        if isinstance(message, PilotOffer):
            self._latest_offer = message
        self._inbox.put(message)

    def _shut(self, reason: LinkError) -> None:
        super()._shut(reason)
        self._inbox.close(reason)

    @abstractmethod
    async def _send_reading(self, reading: VehicleReading) -> None: ...

    @abstractmethod
    async def _send_plug(self, event: PlugEvent) -> None: ...

    @abstractmethod
    async def _send_answer(self, answer: DischargeAnswer) -> None: ...


# ------------------------------------------------------------------------ in-process link
class _InProcessStation(StationEnd):
    def __init__(self, link: InProcessLink, *, inbox_size: int | None) -> None:
        super().__init__(inbox_size=inbox_size)
        self._link = link
        self._vehicle_online = True

    async def _send_offer(self, offer: PilotOffer) -> None:
        self._link.vehicle._deliver(offer)

    async def _send_plug(self, command: PlugCommand) -> None:
        self._link.vehicle._deliver(command)

    async def _send_discharge(self, request: DischargeRequest) -> None:
        self._link.vehicle._deliver(request)

    async def aclose(self) -> None:
        await super().aclose()
        if not self._link.vehicle.closed:
            await self._link.vehicle.aclose()


class _InProcessVehicle(VehicleEnd):
    def __init__(self, link: InProcessLink) -> None:
        super().__init__()
        self._link = link

    async def _send_reading(self, reading: VehicleReading) -> None:
        self._link.station._deliver_reading(reading)

    async def _send_plug(self, event: PlugEvent) -> None:
        self._link.station._deliver_plug(event)

    async def _send_answer(self, answer: DischargeAnswer) -> None:
        self._link.station._deliver_answer(answer)

    async def aclose(self) -> None:
        await super().aclose()
        if not self._link.station.closed:
            self._link.station._deliver_status(LinkStatus(online=False))


class InProcessLink:
    """Both ends in one process: values are handed over as they are, no serialization.

    ``link.station`` and ``link.vehicle`` are the two ends. Closing the station end closes
    the vehicle end too (the runner then stops); closing the vehicle end marks the vehicle
    offline on the station end.
    """

    def __init__(self, *, station_inbox_size: int | None = DEFAULT_STATION_INBOX) -> None:
        self.vehicle: VehicleEnd = _InProcessVehicle(self)
        self.station: StationEnd = _InProcessStation(self, inbox_size=station_inbox_size)
