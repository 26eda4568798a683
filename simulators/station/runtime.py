"""The async simulated charging station: core + vehicles + clock + an OCPP adapter.

:class:`SimulatedStation` owns a :class:`~simulators.station.StationCore`, the vehicles
plugged into its EVSEs (each behind a :class:`~simulators.station.link.VehicleLink`; by
default a :class:`~simulators.station.link.DirectVehicle` stepped with the core, so runs are
deterministic), a :class:`~harness.clock.Clock`, and the adapter of its OCPP version. It
connects to a CSMS (:meth:`SimulatedStation.connect`) or runs over any transport
(:meth:`SimulatedStation.run`, e.g. one end of :func:`harness.transport.memory_pair`)::

    station = SimulatedStation(StationConfig(ocpp_version=OcppVersion.V16), clock=clock)
    task = asyncio.create_task(station.connect("ws://127.0.0.1:9000/ocpp"))
    await station.wait_booted(timeout_s=60)
    await station.plug_in(1)                       # the default vehicle
    await station.present_token(1, "TAG")          # Authorize, then a local start
    ...
    await station.stop()                           # closes with 1001, ``task`` ends

Time: the simulation loop steps the core and the vehicles every ``step_s`` clock seconds
(up to ``idle_step_s`` while every vehicle is steady: no pilot change pending, no ramp) but
never more often than once per ``min_wall_step_s`` of wall time (at speed 36 000 a periodic
step covers 3 clock minutes, so the number of wakeups stays bounded), and also exactly at
the core's deadlines (a limit reaching the pilot, a meter sample), at profile period
boundaries of running transactions, and when a CSMS request changed something. The vehicle
integrates exactly between steps, so metered energy does not depend on
the step. Call timeouts are in clock seconds but never shorter than ``min_wall_timeout_s``
of wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from math import inf
from typing import Any

from harness.clock import AdjustableClock, Clock, utc, wall_floor
from harness.connection import ConnectionClosed, Handler, OcppConnection
from harness.logs import get_logger
from harness.session import (
    CallErrorReceived,
    CallReceived,
    CallTimeout,
    ErrorReceived,
    Event,
    OcppError,
    ProtocolViolation,
    ResultReceived,
    Role,
)
from harness.transport import OcppSubprotocol, Transport, connect_ocpp
from harness.versions import OcppVersion
from simulators.station.adapters import make_adapter
from simulators.station.adapters.common import (
    ALL_MEASURANDS,
    Builder,
    Measurand,
    OcppAdapter,
    ResultHook,
    StationSettings,
    fixed,
)
from simulators.station.config import StationConfig
from simulators.station.core import StationCore
from simulators.station.crash import CrashOnMalformed
from simulators.station.events import (
    StartPending,
    StartRefusal,
    StartRefused,
    StationTransaction,
    StopReason,
)
from simulators.station.faults import StationFault
from simulators.station.link import DirectVehicle, VehicleLink
from simulators.station.memory import StationMemory
from simulators.station.schedule import profile_boundaries
from simulators.station.smartcharging import (
    ClearCriteria,
    Purpose,
    epoch_s,
    instant,
    local_limit_payload,
    parse_profile_payload,
)
from simulators.station.states import ConnectorState
from simulators.vehicle import Vehicle, VehicleParams

__all__ = [
    "RuntimeOptions",
    "SimulatedStation",
    "StationStats",
    "VehicleLinkFactory",
    "subprotocol_for",
]

_SMART_CHARGING_ACTIONS = frozenset(
    {"SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule", "GetChargingProfiles"}
)

VehicleLinkFactory = Callable[[int], Awaitable[VehicleLink]]
"""Makes the vehicle link :meth:`SimulatedStation.plug_in` uses for an EVSE id when no
vehicle is given (e.g. :meth:`simulators.station.pilot_vehicle.MqttPilotVehicles.factory`)."""

REBOOT_DELAY_S = 1.0
"""Clock seconds between accepting a Reset and closing the connection to reboot."""
REBOOT_CLOSE_CODE = 1012
"""WebSocket close code of a reboot (RFC 6455: service restart)."""

MAX_CATCH_UP_STEPS = 1000
"""At most this many late deadlines are replayed at one wakeup (then the loop moves on)."""

_SUBPROTOCOLS = {
    OcppVersion.V16: OcppSubprotocol.V16,
    OcppVersion.V201: OcppSubprotocol.V201,
    OcppVersion.V21: OcppSubprotocol.V21,
}


def subprotocol_for(version: OcppVersion) -> OcppSubprotocol:
    """The WebSocket subprotocol of ``version``."""
    return _SUBPROTOCOLS[version]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeOptions:
    """How the station's loops run (durations in clock seconds unless they say wall)."""

    step_s: float = 1.0
    idle_step_s: float = 30.0
    """The longest periodic step, taken while every plugged vehicle is steady (idle, or
    drawing a constant current: ``VehicleLink.steady_s``); the core's deadlines (samples,
    limits, timeouts) and profile boundaries are still kept exactly."""
    min_wall_step_s: float = 0.005
    call_timeout_s: float = 30.0
    min_wall_timeout_s: float = 5.0
    boot_retry_s: float = 30.0
    keep_trace: bool = False
    """Keep every frame in memory (``station.connection.session.trace``): for tests; a
    station that runs for hours would grow without bound."""
    violations_expected: bool = False
    """The station is a device under test that the harness sends malformed frames on
    purpose (robustness cases): log the CSMS's protocol violations at debug level, not as
    warnings (:class:`~harness.connection.OcppConnection`)."""
    check_own_frames: bool = True
    """Check every frame the station sends (schema, direction, error codes) before it goes
    out, so a simulator defect raises at the station. A station with faults never checks
    (it answers outside the schema on purpose). The harness's own simulated runs turn this
    off: the harness checks and judges every frame it receives anyway, so the check ran
    twice per frame (the larger half of the schema work of a MeterValues-heavy case)."""


@dataclass(slots=True)
class StationStats:
    """Counters for a live summary."""

    connected: bool = False
    booted: bool = False
    sent: int = 0
    received: int = 0
    errors: int = 0


@dataclass(slots=True)
class _Outgoing:
    action: str
    build: Builder
    on_result: ResultHook | None
    done: asyncio.Future[ResultReceived | None] | None


@dataclass(slots=True)
class _Slot:
    link: VehicleLink
    discharge_w: float = 0.0


class SimulatedStation:
    """One simulated charging station with vehicles, speaking ``config.ocpp_version``.

    ``vehicle_params`` is what :meth:`plug_in` plugs in when no vehicle is given; ``seed``
    seeds the vehicles' randomness (each plug-in gets its own ``random.Random`` derived from
    it), so runs are reproducible. With ``vehicle_link_factory``, :meth:`plug_in` without a
    vehicle plugs in the link the factory makes for the EVSE instead (e.g. a vehicle over
    an MQTT pilot link, :mod:`simulators.station.pilot_vehicle`).
    """

    def __init__(
        self,
        config: StationConfig,
        *,
        clock: Clock,
        vehicle_params: VehicleParams | None = None,
        seed: int = 0,
        options: RuntimeOptions | None = None,
        vehicle_link_factory: VehicleLinkFactory | None = None,
        memory: StationMemory | None = None,
    ) -> None:
        self.config = config
        self._memory = memory if memory is not None else StationMemory()
        self._link_factory = vehicle_link_factory
        self.clock = clock
        self.options = options or RuntimeOptions()
        self._core = StationCore(config, now=clock.now())
        # The sampled data it reports by default: every measurand it can measure (SoC only
        # when the vehicle's state of charge reaches it; OCA TC_070_CS expects a value for
        # every configured measurand).
        measurands = tuple(
            m for m in ALL_MEASURANDS if m is not Measurand.SOC or config.reports_soc
        )
        self._settings = StationSettings(
            smart_charging_enabled=config.smart_charging, measurands=measurands
        )
        self._vehicle_params = vehicle_params or VehicleParams()
        self._seed = seed
        self._plug_count = 0
        self._slots: dict[int, _Slot] = {}
        self._boundary: datetime | None = None
        self._boundary_key: object = None
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._booted = asyncio.Event()
        self._stopped = asyncio.Event()
        self._conn: OcppConnection | None = None
        self._close_code = 1001
        self._result_hook: tuple[str, ResultHook] | None = None
        self._hook_outcome: Awaitable[None] | None = None
        self._reboot_task: asyncio.Future[None] | None = None
        self._offline = False
        self._offline_task: asyncio.Task[None] | None = None
        self._retry: _Outgoing | None = None  # the CALL the connection loss interrupted
        self.stats = StationStats()
        self._log = get_logger("station", station=config.station_id)
        self.adapter: OcppAdapter = make_adapter(config.ocpp_version, self)

    # ------------------------------------------------------------------ host interface
    @property
    def core(self) -> StationCore:
        """The protocol-neutral core (read it; change it through this object's methods)."""
        return self._core

    @property
    def settings(self) -> StationSettings:
        """Run-time settings the CSMS may change."""
        return self._settings

    @property
    def connection(self) -> OcppConnection | None:
        """The live OCPP connection, if any (its session holds the wire trace)."""
        return self._conn

    def now(self) -> datetime:
        return self.clock.now()

    def enqueue(self, action: str, build: Builder, *, on_result: ResultHook | None = None) -> None:
        """Queue a station → CSMS CALL (sent in order, one at a time, once booted)."""
        self._queue.put_nowait(_Outgoing(action, build, on_result, None))

    @property
    def offline(self) -> bool:
        """True from :meth:`go_offline` until the next :meth:`run` (the CSMS unreachable)."""
        return self._offline

    def vehicle(self, evse_id: int) -> VehicleLink | None:
        slot = self._slots.get(evse_id)
        return None if slot is None else slot.link

    def set_meter_interval(self, interval_s: int) -> None:
        # The core reads its configuration's interval when it schedules the next sample.
        self._core.config = replace(self._core.config, meter_interval_s=interval_s)

    def poke(self) -> None:
        self._wake.set()

    @property
    def memory(self) -> StationMemory:
        """What this station keeps over a reboot (its flash; see :mod:`.memory`)."""
        return self._memory

    def reboot(self) -> None:
        """Reboot after a Reset: every transaction ends (reason Reboot), and after
        :data:`REBOOT_DELAY_S` (the answer to the Reset is out) the connection closes with
        1012 (service restart). The next boot reads :attr:`memory` (its reason: RemoteReset);
        whoever runs the station starts the next one (the harness's provider does)."""
        now = self.clock.now()
        self._step()
        for evse_id in self._core.evse_ids:
            if self._core.transaction(evse_id) is not None:
                self._core.stop_transaction(evse_id, now=now, reason=StopReason.REBOOT)
        self._step()
        self._memory.boot_reason = "RemoteReset"

        async def later() -> None:
            await self.clock.sleep(REBOOT_DELAY_S)
            await self.stop(code=REBOOT_CLOSE_CODE)

        self._reboot_task = asyncio.ensure_future(later())

    async def call(self, action: str, payload: dict[str, Any]) -> ResultReceived | None:
        """Send a CALL after the queued ones and wait for its answer (``None``: it failed)."""
        done: asyncio.Future[ResultReceived | None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Outgoing(action, lambda: payload, None, done))
        return await done

    # ------------------------------------------------------------------ driving it
    @property
    def charging(self) -> int:
        """How many EVSEs are in state Charging now."""
        return sum(1 for e in self._core.evse_ids if self._core.state(e) is ConnectorState.CHARGING)

    async def wait_booted(self, *, timeout_s: float | None = None) -> None:
        """Wait until the CSMS accepted the BootNotification (``timeout_s`` clock seconds)."""
        await self.clock.wait_for(self._booted.wait(), timeout_s)

    async def plug_in(
        self, evse_id: int, vehicle: Vehicle | VehicleLink | None = None
    ) -> VehicleLink:
        """Plug a vehicle into ``evse_id``: a :class:`~simulators.vehicle.Vehicle` (stepped
        in-process), any :class:`~simulators.station.link.VehicleLink`, or by default a new
        vehicle with ``vehicle_params`` and a ``random.Random`` seeded from ``seed`` (or the
        link ``vehicle_link_factory`` makes)."""
        if vehicle is None and self._link_factory is not None:
            vehicle = await self._link_factory(evse_id)
        now = self.clock.now()
        if vehicle is None:
            self._plug_count += 1
            rng = random.Random(f"{self._seed}:{self.config.station_id}:{self._plug_count}")
            vehicle = Vehicle(self._vehicle_params, rng=rng)
        link = DirectVehicle(vehicle, now=now) if isinstance(vehicle, Vehicle) else vehicle
        self._core.plug_in(evse_id, now)
        if link.params.iso15118:
            self._core.set_high_level_communication(evse_id, on=True, now=now)
        if link.latest is not None:
            self._core.on_vehicle_reading(evse_id, link.latest)  # the meter's baseline
        self._slots[evse_id] = _Slot(link)
        self._step()
        return link

    async def set_external_limit(self, evse_id: int, *, limit_a: float | None) -> None:
        """An external system (EMS) limits ``evse_id`` to ``limit_a`` per phase from now on, or
        lifts its limit (``None``): a ChargingStationExternalConstraints profile in the core,
        reported as the OCPP version does (2.x NotifyChargingLimit / ClearedChargingLimit)."""
        self._step()
        now = self.clock.now()
        self._core.clear_charging_profiles(
            ClearCriteria(evse_id=evse_id, purpose=Purpose.EXTERNAL_CONSTRAINTS), now=now
        )
        if limit_a is None:
            self.adapter.external_limit_changed(evse_id, None)
        else:
            payload = local_limit_payload(evse_id, limit_a=limit_a, start=now)
            _, profile = parse_profile_payload(payload, OcppVersion.V201)
            self._core.set_local_limit(evse_id, profile, now=now)
            self.adapter.external_limit_changed(
                evse_id, payload["chargingProfile"]["chargingSchedule"][0]
            )
        self._step()
        self.poke()

    async def unplug(self, evse_id: int) -> None:
        """The cable leaves ``evse_id`` (a running transaction ends, EVDisconnected)."""
        self._step()
        slot = self._slots.pop(evse_id, None)
        if slot is not None:
            slot.link.unplug()
        self._core.unplug(evse_id, self.clock.now())
        self._step()

    async def present_token(
        self, evse_id: int, id_token: str
    ) -> StationTransaction | StartPending | StartRefused:
        """A driver presents ``id_token`` at ``evse_id``: Authorize with the CSMS, then start."""
        # Offline (go_offline) the station authorizes locally: it accepts the token, as
        # with OCPP 2.x LocalAuthorizeOffline and OfflineTxForUnknownIdEnabled (C15).
        if not self._offline and not await self.adapter.authorize(id_token):
            return StartRefused(StartRefusal.NOT_AUTHORIZED, "the CSMS did not accept the token")
        result = self._core.start_transaction(evse_id, id_token=id_token, now=self.clock.now())
        self._step()
        return result

    async def renegotiate(self, evse_id: int) -> bool:
        """The ISO 15118 vehicle on ``evse_id`` asks to renegotiate its charging schedule
        (OCPP 2.x K17: the station reports its new needs); False when the OCPP version has
        no such message or no ISO 15118 vehicle charges there."""
        self._step()
        hook = getattr(self.adapter, "ev_renegotiation", None)
        done = bool(hook(evse_id)) if hook is not None else False
        self._step()
        self.poke()
        return done

    async def stop_transaction(
        self, evse_id: int, *, reason: StopReason = StopReason.LOCAL
    ) -> None:
        """Stop the transaction on ``evse_id`` at the station (the cable stays in)."""
        self._step()
        self._core.stop_transaction(evse_id, now=self.clock.now(), reason=reason)
        self._step()

    async def stop(self, *, code: int = 1001) -> None:
        """End :meth:`run`: close the connection with ``code`` (1000 normal, 1001 going away).
        A station that is offline (:meth:`go_offline`) stops simulating."""
        self._close_code = code
        self._stopped.set()
        if self._offline and not self.stats.connected:
            self._fail_queue()  # stopped for good while offline: nothing will be sent
        self._offline = False
        task, self._offline_task = self._offline_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def go_offline(self) -> None:
        """The CSMS becomes unreachable (the network is down): the connection closes (1001)
        and :meth:`run` returns, but the station goes on simulating (vehicles, transactions,
        meter) and keeps what it has to send — the 2.x adapters mark the TransactionEvents
        of this time ``offline`` and agree ISO 15118 schedules from the station's own
        profiles. The next :meth:`run` (the CSMS reachable again) resumes: no
        BootNotification (the station did not reboot), the queued messages go first, in
        order. No effect when not connected or already offline."""
        if self._offline or not self.stats.connected or self._stopped.is_set():
            return
        self._step()
        self._offline = True
        self._close_code = 1001
        self._stopped.set()

    # ------------------------------------------------------------------ running
    async def connect(self, url: str, **options: Any) -> None:
        """Connect to the CSMS at ``url`` (ending with the station id) and :meth:`run`.

        Raises :class:`~harness.transport.TransportError` when the CSMS cannot be reached.
        ``options`` go to :func:`~harness.transport.connect_ocpp`.
        """
        transport = await connect_ocpp(
            url, subprotocols=(subprotocol_for(self.config.ocpp_version),), **options
        )
        await self.run(transport)

    def _handlers(self) -> Mapping[str, Handler]:
        """The adapter's handlers, without the smart-charging ones under
        ``smart_charging_not_implemented`` (the connection answers those NotImplemented)."""
        handlers = self.adapter.handlers
        if StationFault.SMART_CHARGING_NOT_IMPLEMENTED not in self.config.faults:
            return handlers
        return {k: v for k, v in handlers.items() if k not in _SMART_CHARGING_ACTIONS}

    async def run(self, transport: Transport) -> None:
        """Speak OCPP over ``transport`` until :meth:`stop` or until the CSMS closes."""
        resumed = self._offline
        if resumed:  # back from go_offline: the same station, its queue and its boot
            self._offline = False
            self._stopped.clear()
            task, self._offline_task = self._offline_task, None
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if StationFault.CRASHES_ON_MALFORMED in self.config.faults:
            transport = CrashOnMalformed(transport)
        conn = OcppConnection.open(
            transport,
            role=Role.CHARGING_STATION,
            clock=self.clock,
            handlers=self._handlers(),
            on_event=self._count,
            # A station with faults may answer outside the schema on purpose (an empty or
            # over-precise composite schedule): the CSMS must see it, not our refusal.
            validate_outgoing=self.options.check_own_frames and not self.config.faults,
            default_timeout_s=self._timeout_s,
            keep_trace=self.options.keep_trace,
            violations_expected=self.options.violations_expected,
        )
        self._conn = conn
        self.stats.connected = True
        tasks = [
            asyncio.create_task(self._simulate()),
            asyncio.create_task(self._send_loop(conn)),
            asyncio.create_task(self._boot_and_heartbeat(conn, resumed=resumed)),
        ]
        try:
            async with conn:
                closed = asyncio.ensure_future(conn.wait_closed())
                stopped = asyncio.ensure_future(self._stopped.wait())
                await asyncio.wait({closed, stopped}, return_when=asyncio.FIRST_COMPLETED)
                for waiter in (closed, stopped):
                    waiter.cancel()
                await conn.close(code=self._close_code)
        finally:
            self.stats.connected = False
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if self._offline:  # keep simulating (and queueing) until the next run()
                self._offline_task = asyncio.create_task(self._simulate())
            else:
                self._fail_queue()

    def _count(self, event: Event) -> None:
        if isinstance(event, CallReceived):
            self.stats.received += 1
            self.stats.sent += 1  # its answer
        elif isinstance(event, ResultReceived):
            self.stats.received += 1
            self._apply_result_hook(event)
        elif isinstance(event, ErrorReceived):
            self.stats.received += 1
        elif isinstance(event, ProtocolViolation):
            self.stats.errors += 1

    @property
    def _timeout_s(self) -> float:
        opts = self.options
        return max(opts.call_timeout_s, wall_floor(self.clock, opts.min_wall_timeout_s))

    def _min_step_s(self) -> float:
        return wall_floor(self.clock, self.options.min_wall_step_s)

    async def _call(self, conn: OcppConnection, action: str, payload: Any) -> ResultReceived | None:
        self.stats.sent += 1
        try:
            return await conn.call(action, payload, timeout_s=self._timeout_s)
        except (CallErrorReceived, CallTimeout, OcppError) as exc:
            if isinstance(exc, ConnectionClosed):
                raise
            self.stats.errors += 1
            self._log.warning("call_failed", action=action, error=str(exc))
            return None

    async def _boot_and_heartbeat(self, conn: OcppConnection, *, resumed: bool = False) -> None:
        """BootNotification until Accepted (retry after the interval the CSMS gives, also
        while Pending/Rejected), then Heartbeat at the interval the CSMS gave. ``resumed``
        (back after :meth:`go_offline`, already booted): heartbeats only."""
        while not (resumed and self._booted.is_set()):
            sent_at = self.clock.monotonic()
            result = await self._call(conn, "BootNotification", self.adapter.boot_request())
            payload = {} if result is None else result.payload
            interval = int(payload.get("interval", 0))
            if payload.get("status") == "Accepted":
                if interval > 0:
                    self._settings.heartbeat_interval_s = interval
                round_trip_s = self.clock.monotonic() - sent_at
                self._take_csms_time(payload.get("currentTime"), round_trip_s=round_trip_s)
                break
            # 1.6 §4.2 / 2.x B02.FR.01: Pending/Rejected — retry after ``interval``.
            await self.clock.sleep(interval if interval > 0 else self.options.boot_retry_s)
        self._booted.set()
        self.stats.booted = True
        self.adapter.after_boot()
        self.poke()
        while True:
            wait_s = max(self._settings.heartbeat_interval_s, self._min_step_s())
            await self.clock.sleep(wait_s)
            self.enqueue("Heartbeat", dict)

    def _take_csms_time(self, current_time: object, *, round_trip_s: float) -> None:
        """Set the station's clock to the CSMS's ``currentTime`` (BootNotification response;
        1.6 §4.2 / 2.x B01: the CSMS's current time, which a station uses to set its clock)
        when the clock can be set (:class:`~harness.clock.AdjustableClock`, as in
        ``ocpp-harness simulate``), plus half the call's round trip (the answer's age, as
        NTP estimates it: at speed 60 a 40 ms round trip is 2.4 clock seconds). Two processes
        on accelerated clocks then agree on the time of day. The core's time never goes
        back: a CSMS behind the station is followed only down to the core's last step."""
        if not isinstance(self.clock, AdjustableClock) or not isinstance(current_time, str):
            return
        try:
            wanted = utc(current_time) + timedelta(seconds=max(0.0, round_trip_s) / 2)
        except ValueError:
            self._log.warning("csms_time_unreadable", current_time=current_time)
            return
        target = max(wanted, self._core.now)
        step_s = self.clock.set_now(target)
        if target != wanted:
            self._log.warning(
                "clock_behind_csms_time",
                csms_time=current_time,
                kept_s=(target - wanted).total_seconds(),
            )
        self._log.info("clock_set_from_csms", step_s=round(step_s, 3))

    async def _send_loop(self, conn: OcppConnection) -> None:
        await self._booted.wait()
        while True:
            item, self._retry = self._retry, None
            if item is None:
                item = await self._queue.get()
            payload = item.build()
            if payload is None:
                if item.done is not None and not item.done.done():
                    item.done.set_result(None)
                continue
            self._result_hook = None if item.on_result is None else (item.action, item.on_result)
            try:
                result = await self._call(conn, item.action, payload)
            except ConnectionClosed:
                if self._offline:  # sent again (its payload as built now) once back
                    self._retry = _Outgoing(item.action, fixed(payload), item.on_result, item.done)
                    return
                if item.done is not None and not item.done.done():
                    item.done.set_result(None)
                return
            finally:
                self._result_hook = None
            if item.done is not None and not item.done.done():
                item.done.set_result(result)
            outcome, self._hook_outcome = self._hook_outcome, None
            if outcome is not None:
                await outcome

    def _apply_result_hook(self, event: ResultReceived) -> None:
        """Run the pending CALL's ``on_result`` hook as its CALLRESULT is received, before
        any CALL the CSMS sent after it is handled: a CSMS may answer StartTransaction and
        at once send a SetChargingProfile for the transaction id it just assigned (frames
        are handled in wire order, not in the order the tasks happen to wake up). A station
        has one CALL outstanding at a time (OCPP-J §4.1.1), so the action identifies it."""
        pending = self._result_hook
        if pending is None or pending[0] != event.action:
            return
        self._result_hook = None
        self._hook_outcome = pending[1](event)

    def _fail_queue(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item.done is not None and not item.done.done():
                item.done.set_result(None)

    async def _simulate(self) -> None:
        while True:
            caught_up = self._catch_up()
            now = self.clock.now()
            if caught_up is not None and caught_up[0] == now:
                # The last catch-up step was at this very instant and nothing ran since: a
                # step at now would change nothing (no clock time for the vehicles, every
                # deadline up to now done, the same pilot), and the deadlines it found hold.
                deadlines = caught_up[1]
            else:
                self._step()
                now = self.clock.now()
                deadlines = (self._core.next_deadline(), self._next_boundary(now))
            # Periodic steps are floored at min_wall_step_s of wall time; deadlines (a limit
            # reaching the pilot, a sample, a profile boundary) are finite and kept exact.
            period = self.options.step_s
            steady_s = min((slot.link.steady_s for slot in self._slots.values()), default=inf)
            if steady_s > period:
                period = min(steady_s, self.options.idle_step_s)
            wait_s = max(period, self._min_step_s())
            for deadline in deadlines:
                if deadline is not None:
                    wait_s = min(wait_s, max(0.0, (deadline - now).total_seconds()))
            # The wait's machinery (a task for the event, asyncio.wait_for's timer and its
            # cancellation) sets how many loop turns the station takes to react, so at one
            # instant of virtual time it decides which of two simultaneous events comes
            # first: a cheaper wait would reorder them (and change a case's course).
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await self.clock.wait_for(self._wake.wait(), wait_s)

    def _catch_up(self) -> tuple[datetime, tuple[datetime | None, datetime | None]] | None:
        """Step at every deadline the loop woke up late for, in order, before stepping at
        now: what the vehicle and the meter do then does not depend on how late the event
        loop ran (at speed 36 000, 5 ms late is three clock minutes).

        Returns ``None`` when it stepped at no deadline; else the core's time after its last
        step and the deadlines it then found (the core's, the next profile boundary)."""
        core = self._core
        stepped = False
        for _ in range(MAX_CATCH_UP_STEPS):
            now = self.clock.now()
            found = (core.next_deadline(), self._next_boundary(core.now))
            due = [d for d in found if d is not None and core.now < d <= now]
            if not due:
                return (core.now, found) if stepped else None
            self._step(min(due))
            stepped = True
        return None

    def _next_boundary(self, now: datetime) -> datetime | None:
        """The next profile period boundary that may change a running transaction's limit
        (the core's :meth:`~StationCore.next_deadline` leaves these out)."""
        core = self._core
        running = tuple(
            (e, tx.transaction_id) for e in core.evse_ids if (tx := core.transaction(e)) is not None
        )
        if not running:
            return None
        key = (core.installed_profiles, running)
        due = self._boundary
        if key != self._boundary_key or (due is not None and now >= due):
            cuts, _ = profile_boundaries(
                core.installed_profiles,
                evse_ids=[e for e, _ in running],
                at=now,
                station=core.station_view(),
            )
            later = [c for c in cuts if c > epoch_s(now)]
            self._boundary = instant(min(later)) if later else None
            self._boundary_key = key
        return self._boundary

    def _step(self, at: datetime | None = None) -> None:
        """Vehicles up to now (or ``at``; under the pilot they had), the core's tick, then
        the new pilot and discharge request to each vehicle; events become OCPP messages."""
        now = max(self.clock.now() if at is None else at, self._core.now)
        core = self._core
        for evse_id, slot in self._slots.items():
            reading = slot.link.advance_to(now)
            if reading is not None:
                core.on_vehicle_reading(evse_id, reading)
        for event in core.tick(now):
            self.adapter.on_event(event)
        for evse_id, slot in self._slots.items():
            slot.link.set_pilot(core.pilot_offer(evse_id))
            self._discharge(evse_id, slot)
        # A step from outside the loop (a plug-in, a token, a CSMS request) may have ended a
        # quiescent spell: the loop re-plans its next step (its own steps clear this).
        self._wake.set()

    def _discharge(self, evse_id: int, slot: _Slot) -> None:
        wanted = self._core.discharge_request(evse_id) or 0.0
        if not self.adapter.discharge_allowed(evse_id):
            wanted = 0.0
        params = slot.link.params
        if not params.bidirectional or wanted == slot.discharge_w:
            return
        power_w = min(wanted, params.max_discharge_power_w)
        decision = slot.link.set_discharge(power_w=power_w)
        slot.discharge_w = wanted
        self._log.info("discharge", evse=evse_id, power_w=power_w, reason=decision.reason)
