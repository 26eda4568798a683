"""Where the DUT comes from: a simulated station in process (``sim``) or a real one (``listen``).

A :class:`DutProvider` hands the run the DUT's connection (a transport on which the harness
plays the CSMS), again after a disconnection, and says which devices the results are about.

* :class:`SimProvider` builds a station with a :data:`StationFactory` (the built-in
  simulator from :mod:`harness.runner.simstation`, or a test double) and connects it over
  :func:`~harness.transport.memory_pair`; after a disconnection it restarts the station.
* :class:`ListenProvider` listens with :func:`~harness.transport.serve_ocpp` and waits for a
  station to connect to ``ws://HOST:PORT/{id}``; after a disconnection it waits (bounded) for
  the station to come back.

A run belongs to **one station**: the id given (``station_id``, ``--station-id``) or else the
id of the first connection the run takes. Any other id is refused at the handshake with HTTP
404 (OCPP-J: an unknown identity gets 404), logged and recorded in the run folder
(``events.jsonl``, ``station_refused``); a connection of another id that was already queued is
closed with 1008.

Duplicate connections (the same id while its connection is open) are handled the same way in
``listen`` and ``serve`` (:class:`ConnectionSlots`): the newest connection **replaces** the old
one, which is closed with 1008 and the reason "replaced by a new connection" (logged as
``connection_replaced`` and recorded); the case running on it ends INCONCLUSIVE naming that,
and the next case runs on the new connection. Replace, not refuse: a real station reconnects
when it believes its connection is dead (a half-open TCP connection the harness has not
noticed yet), and refusing it would lock the station out until the ping timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from harness.clock import Clock
from harness.logs import get_logger
from harness.results import DeviceKind, DeviceRef
from harness.runner.operator import (
    OfflineTaker,
    Renegotiator,
    SimulationControl,
    WakeUpRecord,
    WakeUpRecorder,
)
from harness.scenario import Environment, VehicleFacts
from harness.transport import (
    DEFAULT_MAX_FRAME_BYTES,
    OcppServer,
    OcppSubprotocol,
    Refused,
    Transport,
    memory_pair,
    serve_ocpp,
)
from harness.transport.limits import REPLACED_CLOSE_CODE

__all__ = [
    "ConnectionSlots",
    "DutProvider",
    "EventRecorder",
    "FleetVehicle",
    "ListenLimits",
    "ListenProvider",
    "SimProvider",
    "SimSpec",
    "SimStation",
    "StationFactory",
]


@dataclass(frozen=True, slots=True)
class FleetVehicle:
    """A vehicle model of a fleet: its id, label, archetype and market share.

    ``params`` are the fleet file's overrides of the archetype's parameters; ``facts`` what
    the run knows of the vehicle (phases, maximum current, ...: judged by cases'
    ``vehicle_needs`` and ``from_vehicle`` parameters). :func:`harness.runner.inputs.load_fleet`
    and :func:`~harness.runner.inputs.catalogue_vehicle` fill them from the vehicle catalogue;
    ``None`` means unknown (every case runs, parameters keep their defaults).
    """

    id: str
    archetype: str
    label: str = ""
    market_share: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    facts: VehicleFacts | None = None

    def device(self) -> DeviceRef:
        """The vehicle as a device of the results (with its phases, maximum current and
        bidirectionality when known)."""
        attributes: dict[str, Any] = {"archetype": self.archetype}
        if self.market_share is not None:
            attributes["market_share"] = self.market_share
        if self.facts is not None:  # what selected its cases (vehicle_needs, from_vehicle)
            for name in ("phases", "max_current_a", "bidirectional"):
                value = getattr(self.facts, name)
                if value is not None:
                    attributes[name] = value
        return DeviceRef(DeviceKind.VEHICLE, self.id, self.label or self.archetype, attributes)


class EventRecorder(Protocol):
    """Records one event in the run folder (:meth:`harness.results.RunWriter.record_event`)."""

    def __call__(self, event: str, *, at: datetime, **fields: Any) -> None: ...


class ConnectionSlots:
    """The open connection of each station id; a newer one replaces the older (see the module
    docstring). Shared by ``listen`` (:class:`ListenProvider`) and ``serve``."""

    def __init__(self) -> None:
        self._current: dict[str, Transport] = {}
        self._log = get_logger("runner.connections")

    def current(self, station_id: str) -> Transport | None:
        """The station's newest connection, if it is open."""
        transport = self._current.get(station_id)
        return transport if transport is not None and not transport.closed else None

    async def take(
        self, transport: Transport, *, on_replaced: Callable[[str], None] | None = None
    ) -> str | None:
        """Make ``transport`` its station's connection; close the one it replaces (1008),
        after telling ``on_replaced`` the reason (so it is recorded before the run can react
        to the close). Returns that reason, or ``None`` when nothing was replaced."""
        sid = transport.station_id
        old = self._current.get(sid)
        self._current[sid] = transport
        if old is None or old.closed:
            return None
        reason = f"replaced by a new connection of station {sid}"
        self._log.warning("connection_replaced", station_id=sid, reason=reason)
        if on_replaced is not None:
            on_replaced(reason)
        close_for_policy = getattr(old, "close_for_policy", None)
        if close_for_policy is not None:
            await close_for_policy(reason, code=REPLACED_CLOSE_CODE)
        else:
            await old.close(code=REPLACED_CLOSE_CODE, reason=reason)
        return reason

    def release(self, transport: Transport) -> bool:
        """Forget ``transport`` if it is still its station's connection; ``True`` if it was
        (``False``: a newer connection replaced it)."""
        if self._current.get(transport.station_id) is transport:
            del self._current[transport.station_id]
            return True
        return False


async def next_open(
    queue: asyncio.Queue[Transport], clock: Clock, timeout_s: float | None
) -> Transport | None:
    """The next queued connection that is still open, waiting at most ``timeout_s``
    (``0``: only one already queued); ``None`` if none."""
    deadline = None if timeout_s is None else clock.monotonic() + timeout_s
    while True:
        if deadline is not None and deadline - clock.monotonic() <= 0:
            try:
                transport = queue.get_nowait()
            except asyncio.QueueEmpty:
                return None
        else:
            left = None if deadline is None else deadline - clock.monotonic()
            try:
                transport = await clock.wait_for(queue.get(), left)
            except TimeoutError:
                return None
        if not transport.closed:  # a connection that died while queued is skipped
            return transport


class DutProvider(Protocol):
    """Gives the run its DUT connection (see the module docstring)."""

    target: str
    """For the manifest: ``sim`` or ``listen ws://HOST:PORT``."""
    environment: Environment
    control: SimulationControl | None
    devices: tuple[DeviceRef, ...]
    vehicle_facts: VehicleFacts | None
    """What the provider knows of the vehicle (the simulated one); ``None``: the run uses the
    capability declaration's ``vehicle:`` section, if any."""

    async def connect(self, *, timeout_s: float | None) -> Transport | None:
        """The DUT's next connection, or ``None`` if none came within ``timeout_s``."""
        ...

    async def close(self) -> None:
        """Stop whatever the provider started."""
        ...


@dataclass(frozen=True, slots=True)
class SimSpec:
    """What a simulated station is built from."""

    station_id: str
    subprotocol: OcppSubprotocol
    clock: Clock
    vehicle: FleetVehicle
    fault: str | None = None


class SimStation(Protocol):
    """A simulated DUT: serves one transport until it closes; drives its vehicle."""

    @property
    def control(self) -> SimulationControl:
        """The vehicle side (``vehicle`` steps)."""
        ...

    async def serve(self, transport: Transport) -> None:
        """Speak OCPP on ``transport`` (as the station) until it closes."""
        ...

    async def stop(self) -> None:
        """Stop the station and close its connection."""
        ...


StationFactory = Callable[[SimSpec], SimStation]


class _ControlProxy:
    """Forwards vehicle actions to whichever station instance is current (restarts)."""

    def __init__(self, provider: SimProvider) -> None:
        self._provider = provider

    def _control(self) -> SimulationControl:
        station = self._provider.station
        if station is None:
            raise RuntimeError("no simulated station is running")
        return station.control

    async def plug_in(self, *, evse: int) -> None:
        await self._control().plug_in(evse=evse)

    async def unplug(self, *, evse: int) -> None:
        await self._control().unplug(evse=evse)

    async def set_soc(self, *, evse: int, soc_percent: float) -> None:
        await self._control().set_soc(evse=evse, soc_percent=soc_percent)

    async def wake(self, *, evse: int) -> None:
        await self._control().wake(evse=evse)

    async def set_external_limit(self, *, evse: int, limit_a: float | None) -> None:
        await self._control().set_external_limit(evse=evse, limit_a=limit_a)

    async def renegotiate(self, *, evse: int) -> bool:
        control = self._control()
        return isinstance(control, Renegotiator) and await control.renegotiate(evse=evse)

    async def go_offline(self) -> bool:
        control = self._control()
        return isinstance(control, OfflineTaker) and await control.go_offline()

    async def present_token(self, *, evse: int, id_token: str) -> bool:
        control = self._control()
        return isinstance(control, OfflineTaker) and await control.present_token(
            evse=evse, id_token=id_token
        )

    async def wake_up_record(self, *, evse: int, since: datetime) -> WakeUpRecord:
        control = self._control()
        if not isinstance(control, WakeUpRecorder):
            raise RuntimeError("this simulated station does not record its wake-ups")
        return await control.wake_up_record(evse=evse, since=since)


class SimProvider:
    """One simulated station (with one vehicle model) connected in process.

    ``station_device_id`` names the station in results and reports (default: the station id on
    the wire). A fleet run gives every vehicle its own station instance, but they are one
    station model, so they share this id and the report shows one vehicles × cases matrix.
    """

    environment = Environment.SIMULATION
    target = "sim"

    def __init__(
        self,
        factory: StationFactory,
        spec: SimSpec,
        *,
        station_label: str = "",
        station_device_id: str | None = None,
    ) -> None:
        self._factory = factory
        self.spec = spec
        self.station: SimStation | None = None
        self._task: asyncio.Task[None] | None = None
        self.control: SimulationControl | None = _ControlProxy(self)
        attributes: dict[str, Any] = {"simulated": True}
        if spec.fault:
            attributes["fault"] = spec.fault
        station = DeviceRef(
            DeviceKind.STATION,
            station_device_id or spec.station_id,
            station_label or f"built-in station ({spec.subprotocol.value})",
            attributes,
        )
        self.devices: tuple[DeviceRef, ...] = (station, spec.vehicle.device())
        self.vehicle_facts: VehicleFacts | None = spec.vehicle.facts

    async def connect(self, *, timeout_s: float | None) -> Transport | None:
        station_end, csms_end = memory_pair(self.spec.station_id, self.spec.subprotocol)
        station = self.station
        if station is not None and getattr(station, "offline", False):
            # back from an ``offline`` step: the same station resumes (its transactions and
            # queued messages), no restart
            self._task = asyncio.create_task(station.serve(station_end))
            return csms_end
        await self.close()
        station = self._factory(self.spec)
        self.station = station
        self._task = asyncio.create_task(station.serve(station_end))
        return csms_end

    async def close(self) -> None:
        station, task = self.station, self._task
        self.station, self._task = None, None
        if station is not None:
            with contextlib.suppress(Exception):
                await station.stop()
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenLimits:
    """What a station connecting to the harness may do before the harness cuts it off.

    ``max_frame_bytes``: largest incoming message (over it: close 1009); ``None``: no limit.
    ``max_messages_per_s``: incoming message rate per connection, bursts of one second's
    worth (over it: close 1008); ``None``: no limit. ``ping_interval_s`` / ``ping_timeout_s``:
    WebSocket keepalive, which finds a half-open connection (no pong within the timeout:
    close 1011); ``None`` disables pings.
    """

    max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES
    max_messages_per_s: float | None = None
    ping_interval_s: float | None = 20.0
    ping_timeout_s: float | None = 20.0


class ListenProvider:
    """A real station connecting to ``ws://HOST:PORT/{id}`` (``wss://`` with TLS); the
    operator is on the terminal.

    ``control`` is ``None`` when an operator does the vehicle steps (they become prompts), or
    e.g. :class:`~harness.runner.operator.VehiclesStayPluggedIn` for an unattended run.
    """

    environment = Environment.LAB
    vehicle_facts: VehicleFacts | None = None

    def __init__(
        self,
        *,
        host: str,
        port: int,
        clock: Clock,
        station_label: str = "",
        control: SimulationControl | None = None,
        limits: ListenLimits | None = None,
        server_options: Mapping[str, Any] | None = None,
        station_id: str | None = None,
        on_waiting: Callable[[float, float], None] | None = None,
    ) -> None:
        """``server_options`` go to :func:`~harness.transport.serve_ocpp` (e.g.
        :func:`harness.security.serve_options` for a security profile: ``ssl`` and
        ``authorize_handshake``). ``station_id``: the only station this run serves (default:
        the first that connects). ``on_waiting(remaining_s, total_s)`` is told the time left
        while :meth:`connect` waits (a countdown; every 10 s of clock time or so)."""
        self.host, self.port, self.clock = host, port, clock
        self.station_id = station_id
        self.on_waiting = on_waiting
        self._slots = ConnectionSlots()
        self._record: EventRecorder | None = None
        self.control: SimulationControl | None = control
        self.limits = limits or ListenLimits()
        self._options = dict(server_options or {})
        self._scheme = "wss" if self._options.get("ssl") is not None else "ws"
        self._queue: asyncio.Queue[Transport] = asyncio.Queue()
        self._server: OcppServer | None = None
        self._label = station_label
        self._log = get_logger("runner.listen")
        self.devices: tuple[DeviceRef, ...] = ()
        self.target = f"listen {self._scheme}://{host}:{port}"

    async def start(self) -> OcppServer:
        """Start listening; returns the server (its ``port`` is the real one for port 0)."""
        limits = self.limits
        server = serve_ocpp(
            self._handle,
            host=self.host,
            port=self.port,
            max_frame_bytes=limits.max_frame_bytes,
            max_messages_per_s=limits.max_messages_per_s,
            ping_interval_s=limits.ping_interval_s,
            ping_timeout_s=limits.ping_timeout_s,
            admit_station=self._admit,
            on_refused=self._refused,
            **self._options,
        )
        await server.start()
        self._server = server
        self.port = server.port
        self.target = f"listen {self._scheme}://{self.host}:{server.port}"
        return server

    def record_events(self, record: EventRecorder) -> None:
        """Record refusals and replaced connections with ``record`` (the run folder)."""
        self._record = record

    def _event(self, event: str, **fields: Any) -> None:
        if self._record is not None:
            with contextlib.suppress(Exception):  # a full disk is reported by the run itself
                self._record(event, at=self.clock.now(), **fields)

    def _admit(self, station_id: str) -> str | None:
        if self.station_id is None or station_id == self.station_id:
            return None
        return f"this run belongs to station {self.station_id!r}; connect as that id"

    def _refused(self, refused: Refused) -> None:
        kind = "auth_failed" if refused.status == 401 else "station_refused"
        self._event(
            kind,
            station_id=refused.station_id,
            remote=refused.remote,
            status=refused.status,
            reason=refused.reason,
            delay_s=refused.delay_s,
            failures=refused.failures,
        )

    async def _handle(self, transport: Transport) -> None:
        sid = transport.station_id
        await self._slots.take(
            transport,
            on_replaced=lambda reason: self._event(
                "connection_replaced", station_id=sid, reason=reason
            ),
        )
        await self._queue.put(transport)
        try:
            while not transport.closed:  # keep the connection open while the run uses it
                await self.clock.sleep(0.5)
        finally:
            self._slots.release(transport)

    async def connect(self, *, timeout_s: float | None) -> Transport | None:
        if self._server is None:
            await self.start()
        deadline = None if timeout_s is None else self.clock.monotonic() + timeout_s
        while True:
            transport = await self._wait(deadline, timeout_s)
            if transport is None:
                return None
            if self.station_id is None:
                self.station_id = transport.station_id  # the run belongs to it from now on
            if transport.station_id == self.station_id:
                break
            reason = f"this run belongs to station {self.station_id!r}"
            self._log.warning("station_refused", station_id=transport.station_id, reason=reason)
            self._event("station_refused", station_id=transport.station_id, reason=reason)
            await transport.close(code=REPLACED_CLOSE_CODE, reason=reason)
        if not self.devices:
            self.devices = (
                DeviceRef(
                    DeviceKind.STATION, transport.station_id, self._label or transport.station_id
                ),
            )
        return transport

    async def _wait(self, deadline: float | None, total_s: float | None) -> Transport | None:
        """The next open connection before ``deadline``, with countdown calls."""
        report = self.on_waiting
        if deadline is None or report is None:
            left = None if deadline is None else max(0.0, deadline - self.clock.monotonic())
            return await next_open(self._queue, self.clock, left)
        while True:
            left = max(0.0, deadline - self.clock.monotonic())
            if left <= 0:
                return await next_open(self._queue, self.clock, 0.0)
            report(left, total_s if total_s is not None else left)
            transport = await next_open(self._queue, self.clock, min(left, 10.0))
            if transport is not None:
                return transport

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None
