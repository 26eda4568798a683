"""The fleet engine: one asyncio task and one small WebSocket per simulated station.

Each station follows a daily pattern on the given clock: it boots, reports Available, sends a
Heartbeat every ``heartbeat_s`` and, while a vehicle is plugged in, MeterValues every
``meter_s``. A vehicle arrives at a seeded time of day, charges at the lower of its own limit
and the limit of the last SetChargingProfile the CSMS sent, and leaves after a seeded dwell.
When the CSMS drops a station, it reconnects with exponential back-off (full jitter, reset once
it booted again) and boots again. Opening handshakes are paced by a limit on those in flight
(``max_connecting`` per process: the WebSocket handshake and the BootNotification), so a fleet
of any size never has more than that many connections being opened at once, whether at start-up
or after the CSMS dropped everyone; ``stagger_wall_s`` can still spread the first attempts.

Shutdown is bounded (``run_fleet(shutdown_wall_s=...)``): when ``stop`` is set every open
connection gets a Close frame (1001 going away) and its socket is closed without waiting for the
CSMS's answer, and every station task is cancelled, wherever it waits (a 60 s heartbeat
interval, a back-off, an opening handshake).

Each station presents its own idTag (``id_tag_pattern``, see :mod:`harness.identities`; by
default a valid ISO14443 UID per station). Only a StartTransaction the CSMS accepted (idTagInfo
Accepted with a transactionId) makes the station charge and send MeterValues; a refused start
is counted as an error (``start refused (Invalid)``, ``CALLERROR NotImplemented
(StartTransaction)``), a transaction the CSMS opened but refused is stopped at once
(reason DeAuthorized), and the station does not try again until the vehicle has left.

The model speaks OCPP 1.6 JSON with the same actions as the full station simulator, but keeps
no traces and no per-station validators: it is meant for load testing a CSMS, not for
conformance verdicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import itertools
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.frames import CloseCode
from websockets.protocol import State

from harness.clock import Clock
from harness.identities import DEFAULT_TOKEN_PATTERN, expand
from simulators.fleet.stats import FleetStats

__all__ = ["FleetPlan", "FleetStats", "run_fleet", "run_station", "shard_plan"]

_DAY_S = 86_400.0
_NO_PROXY: dict[str, Any] = (
    {"proxy": None} if "proxy" in inspect.signature(connect.__init__).parameters else {}
)
"""No proxy lookup (websockets >= 15): it reads the whole environment twice per connection,
a quarter of a station's boot CPU; a fleet talks to its CSMS directly."""
_SHUTDOWN_SLICE = 512
"""Connections closed (or tasks cancelled) per loop pass at shutdown."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetPlan:
    """What a fleet does. Durations are in clock seconds unless named ``wall``.

    Station ``i`` connects to the ``i % n``-th of ``csms_url`` and ``listeners`` (further
    CSMS URLs: several listeners get past the ports one address offers, see
    :mod:`simulators.fleet.limits`), its host replaced by ``hosts[i % len(hosts)]`` if given.
    ``max_connecting`` bounds the opening handshakes (and boots) in flight per process.
    """

    csms_url: str
    stations: int
    first_index: int = 0
    id_prefix: str = "FLEET-"
    seed: int = 0
    heartbeat_s: float = 60.0
    meter_s: float = 60.0
    stagger_wall_s: float = 0.002
    vehicle_limit_w: float = 11_000.0
    backoff_min_wall_s: float = 0.5
    backoff_max_wall_s: float = 30.0
    call_timeout_wall_s: float = 30.0
    hosts: tuple[str, ...] = ()
    listeners: tuple[str, ...] = ()
    max_connecting: int = 64
    id_tag_pattern: str = DEFAULT_TOKEN_PATTERN

    def id_tag(self, index: int) -> str:
        """The idTag station ``index`` presents (``id_tag_pattern`` with station = index)."""
        return expand(self.id_tag_pattern, station=index, station_id=self.station_id(index), evse=1)

    def station_id(self, index: int) -> str:
        """The id of station ``index`` (appended to the CSMS URL)."""
        return f"{self.id_prefix}{index:06d}"

    def url_for(self, index: int) -> str:
        """The URL station ``index`` connects to (spread over ``hosts`` if given)."""
        base = self.csms_url.rstrip("/")
        if self.listeners:
            urls = (self.csms_url, *self.listeners)
            base = urls[index % len(urls)].rstrip("/")
        if self.hosts:
            host = self.hosts[index % len(self.hosts)]
            scheme, rest = base.split("://", 1)
            _, _, tail = rest.partition(":")
            base = f"{scheme}://{host}:{tail}" if tail else f"{scheme}://{host}"
        return f"{base}/{self.station_id(index)}"


class _Station:
    """Compact state of one station; everything else lives on the task's stack."""

    __slots__ = (
        "arrive_s",
        "charging",
        "dwell_s",
        "energy_wh",
        "id_tag",
        "limit_w",
        "msg_ids",
        "refused",
        "tx",
    )

    def __init__(self, *, arrive_s: float, dwell_s: float, id_tag: str) -> None:
        self.arrive_s = arrive_s
        self.id_tag = id_tag
        self.refused = False
        """The CSMS refused this vehicle's start: no new attempt until it leaves."""
        self.dwell_s = dwell_s
        self.charging = False
        self.energy_wh = 0.0
        self.limit_w: float | None = None
        self.tx: int | None = None
        self.msg_ids = itertools.count(1)


class _Dropped(Exception):
    """The connection ended; the station reconnects."""


def shard_plan(plan: FleetPlan, *, shards: int) -> list[FleetPlan]:
    """Split ``plan`` into ``shards`` contiguous slices of stations (sizes differ by <= 1)."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    shards = min(shards, plan.stations)
    base, extra = divmod(plan.stations, shards)
    out: list[FleetPlan] = []
    first = plan.first_index
    for i in range(shards):
        n = base + (1 if i < extra else 0)
        out.append(dataclasses.replace(plan, first_index=first, stations=n))
        first += n
    return out


async def run_fleet(
    plan: FleetPlan,
    *,
    clock: Clock,
    stats: FleetStats,
    stop: asyncio.Event,
    shutdown_wall_s: float = 5.0,
) -> int:
    """Run ``plan.stations`` stations until ``stop`` is set (or this task is cancelled),
    counting into ``stats``; then end every station within ``shutdown_wall_s`` (see the
    module). Returns how many station tasks were still running at that bound (0 normally).

    A station that fails with an unexpected exception stops the fleet; the exception is
    raised after the shutdown.
    """
    if plan.max_connecting < 1:
        raise ValueError(f"max_connecting must be at least 1, got {plan.max_connecting}")
    stats.stations += plan.stations
    gate = asyncio.Semaphore(plan.max_connecting)
    live: set[ClientConnection] = set()
    jitter = random.Random(plan.seed * 1_000_003 - plan.first_index - 1)
    failures: list[BaseException] = []

    def ended(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            failures.append(task.exception())  # type: ignore[arg-type]
            stop.set()

    tasks: list[asyncio.Task[None]] = []
    for i in range(plan.stations):
        task = asyncio.create_task(
            run_station(
                plan,
                index=plan.first_index + i,
                clock=clock,
                stats=stats,
                stop=stop,
                delay_wall_s=i * plan.stagger_wall_s,
                gate=gate,
                live=live,
                jitter=jitter,
            )
        )
        task.add_done_callback(ended)
        tasks.append(task)
    try:
        await stop.wait()
    finally:
        unfinished = await shutdown_stations(tasks, live, bound_wall_s=shutdown_wall_s)
    if failures:
        raise failures[0]
    return unfinished


async def shutdown_stations(
    tasks: list[asyncio.Task[None]], live: set[ClientConnection], *, bound_wall_s: float
) -> int:
    """Close every connection in ``live``, cancel every task, and wait at most
    ``bound_wall_s`` for them to end; the number still running then (cancelled, they end
    as soon as the loop gets to them).

    The work is done in slices of :data:`_SHUTDOWN_SLICE` with the loop let run in between,
    so the bound holds even when tens of thousands of stations end at once (one loop pass
    runs every callback that was ready when it started, and the clock is only looked at
    between passes).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound_wall_s
    connections = list(live)
    for i in range(0, len(connections), _SHUTDOWN_SLICE):
        for ws in connections[i : i + _SHUTDOWN_SLICE]:
            _close_now(ws)
        await asyncio.sleep(0)
        if loop.time() >= deadline:
            break
    pending = [t for t in tasks if not t.done()]
    for i in range(0, len(pending), _SHUTDOWN_SLICE):
        for t in pending[i : i + _SHUTDOWN_SLICE]:
            t.cancel()
        await asyncio.sleep(0)
        if loop.time() >= deadline:
            for t in pending[i + _SHUTDOWN_SLICE :]:
                t.cancel()
            break
    pending = [t for t in pending if not t.done()]
    if not pending:
        return 0
    _, still = await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
    return len(still)


def _close_now(ws: ClientConnection) -> None:
    """Send a Close frame (1001) if the connection is still open and close the socket without
    waiting for the CSMS's Close: bounded whatever the CSMS does."""
    if ws.protocol.state is State.OPEN:
        with contextlib.suppress(Exception):  # the socket failed meanwhile: nothing to say
            ws.protocol.send_close(CloseCode.GOING_AWAY, "fleet stopping")
            ws.transport.write(b"".join(ws.protocol.data_to_send()))
    ws.transport.close()


async def run_station(
    plan: FleetPlan,
    *,
    index: int,
    clock: Clock,
    stats: FleetStats,
    stop: asyncio.Event,
    delay_wall_s: float = 0.0,
    gate: asyncio.Semaphore | None = None,
    live: set[ClientConnection] | None = None,
    jitter: random.Random | None = None,
) -> None:
    """Drive one station until ``stop`` is set, reconnecting with back-off when dropped.

    ``gate`` bounds the opening handshakes (and boots) in flight across the stations that
    share it; ``live`` holds this station's connection while it is open (for a shutdown);
    ``jitter`` draws the back-off waits (shared by a fleet; by default the station's own).
    """
    rng = random.Random(plan.seed * 1_000_003 + index)
    state = _Station(
        arrive_s=rng.uniform(0, _DAY_S),
        dwell_s=rng.uniform(2 * 3600, 9 * 3600),
        id_tag=plan.id_tag(index),
    )
    # A Random holds 2.5 KB of state: kept per station only when no shared one is given.
    rng = jitter or rng
    if delay_wall_s > 0 and await _stopped(stop, delay_wall_s):
        return
    gate = gate or asyncio.Semaphore(1)
    live = live if live is not None else set()
    backoff = plan.backoff_min_wall_s
    url = plan.url_for(index)
    sid = plan.station_id(index)
    while not stop.is_set():
        ws: ClientConnection | None = None
        try:
            async with gate:
                if stop.is_set():
                    return
                ws = await connect(
                    url,
                    subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                    compression=None,
                    max_size=2**16,
                    max_queue=4,
                    write_limit=2**12,
                    ping_interval=None,
                    open_timeout=plan.call_timeout_wall_s,
                    user_agent_header=None,
                    **_NO_PROXY,
                )
                ws.request = None  # the handshake's headers, never read again: ~1.5 KB
                live.add(ws)
                stats.connected += 1
                heartbeat_s = await _boot(ws, plan, state, sid, clock, stats)
            backoff = plan.backoff_min_wall_s  # booted again: the next loss starts afresh
            await _session(ws, plan, state, clock, stats, stop, heartbeat_s)
            return
        except (OSError, WebSocketException, _Dropped, TimeoutError) as exc:
            if stop.is_set():
                return
            stats.reconnects += 1
            stats.lost(_loss_kind(exc))
        finally:
            if ws is not None:
                live.discard(ws)
                stats.connected -= 1
                if state.charging:
                    state.charging = False
                    stats.charging -= 1
                _close_now(ws)
        # Exponential back-off with full jitter, so a dropped fleet does not stampede.
        if await _stopped(stop, rng.uniform(backoff / 2, backoff)):
            return
        backoff = min(backoff * 2, plan.backoff_max_wall_s)


def _loss_kind(exc: BaseException) -> str:
    """A short name for why a connection was lost or could not be made."""
    if isinstance(exc, _Dropped):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "connect timeout"
    if isinstance(exc, ConnectionClosed):
        return f"closed by the CSMS ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
    return type(exc).__name__


async def _stopped(stop: asyncio.Event, wall_s: float) -> bool:
    try:
        await asyncio.wait_for(stop.wait(), wall_s)
    except TimeoutError:
        return False
    return True


async def _boot(
    ws: ClientConnection,
    plan: FleetPlan,
    st: _Station,
    sid: str,
    clock: Clock,
    stats: FleetStats,
) -> float:
    """BootNotification and the first StatusNotification; the heartbeat interval to keep."""
    boot = await _call(
        ws,
        st,
        stats,
        clock,
        plan,
        "BootNotification",
        {"chargePointVendor": "ocpp-harness", "chargePointModel": "fleet"},
    )
    if boot is None or boot.get("status") != "Accepted":
        raise _Dropped("boot not accepted")
    stats.ever_booted.add(sid)
    interval = float(boot.get("interval") or plan.heartbeat_s)
    heartbeat_s = min(interval, plan.heartbeat_s) if interval > 0 else plan.heartbeat_s
    await _status(ws, st, stats, clock, plan, "Charging" if st.tx is not None else "Available")
    if st.tx is not None:
        st.charging = True
        stats.charging += 1
    return heartbeat_s


async def _session(
    ws: ClientConnection,
    plan: FleetPlan,
    st: _Station,
    clock: Clock,
    stats: FleetStats,
    stop: asyncio.Event,
    heartbeat_s: float,
) -> None:
    now = clock.monotonic()
    next_hb = now + heartbeat_s
    next_meter = now + plan.meter_s
    while not stop.is_set():
        now = clock.monotonic()
        day_s = (clock.now().timestamp()) % _DAY_S
        present = _present(st, day_s)
        if st.tx is None and present and not st.refused:
            await _start(ws, st, stats, clock, plan)
            next_meter = clock.monotonic() + plan.meter_s
        elif st.tx is not None and not present:
            await _stop(ws, st, stats, clock, plan)
        elif st.refused and not present:  # the refused vehicle left
            st.refused = False
            await _status(ws, st, stats, clock, plan, "Available")
        if now >= next_hb:
            await _call(ws, st, stats, clock, plan, "Heartbeat", {})
            next_hb = now + heartbeat_s
        if st.tx is not None and now >= next_meter:
            power_w = (
                plan.vehicle_limit_w
                if st.limit_w is None
                else min(plan.vehicle_limit_w, st.limit_w)
            )
            st.energy_wh += power_w * plan.meter_s / 3600.0
            await _meter(ws, st, stats, clock, plan, power_w)
            next_meter = now + plan.meter_s
        wait_s = min(next_hb, next_meter if st.tx is not None else next_hb) - clock.monotonic()
        # Wake at least every 10 clock minutes to follow arrivals and departures.
        wait_s = max(0.0, min(wait_s, 600.0))
        try:
            raw = await clock.wait_for(ws.recv(), wait_s)
        except TimeoutError:
            continue
        await _answer(ws, st, stats, raw)


def _present(st: _Station, day_s: float) -> bool:
    end = st.arrive_s + st.dwell_s
    return st.arrive_s <= day_s < end or day_s < end - _DAY_S


async def _start(
    ws: ClientConnection, st: _Station, stats: FleetStats, clock: Clock, plan: FleetPlan
) -> None:
    await _status(ws, st, stats, clock, plan, "Preparing")
    stats.starts += 1
    res = await _call(
        ws,
        st,
        stats,
        clock,
        plan,
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": st.id_tag,
            "meterStart": round(st.energy_wh),
            "timestamp": _iso(clock),
        },
    )
    if res is None:  # CALLERROR or no answer: counted by _call
        st.refused = True
        return
    status = (res.get("idTagInfo") or {}).get("status")
    tx = res.get("transactionId")
    if status != "Accepted" or not isinstance(tx, int):
        stats.error(f"start refused ({status or 'no idTagInfo'})")
        st.refused = True
        if isinstance(tx, int):  # OCPP 1.6 §5.x: a refused transaction is still stopped
            st.tx = tx
            await _stop(ws, st, stats, clock, plan, reason="DeAuthorized", status="Finishing")
        return
    st.tx = tx
    stats.transactions += 1
    await _status(ws, st, stats, clock, plan, "Charging")
    st.charging = True
    stats.charging += 1


async def _stop(
    ws: ClientConnection,
    st: _Station,
    stats: FleetStats,
    clock: Clock,
    plan: FleetPlan,
    *,
    reason: str = "EVDisconnected",
    status: str = "Available",
) -> None:
    await _call(
        ws,
        st,
        stats,
        clock,
        plan,
        "StopTransaction",
        {
            "transactionId": st.tx,
            "meterStop": round(st.energy_wh),
            "timestamp": _iso(clock),
            "reason": reason,
        },
    )
    st.tx = None
    st.limit_w = None
    if st.charging:
        st.charging = False
        stats.charging -= 1
    await _status(ws, st, stats, clock, plan, status)


async def _status(
    ws: ClientConnection,
    st: _Station,
    stats: FleetStats,
    clock: Clock,
    plan: FleetPlan,
    status: str,
) -> None:
    await _call(
        ws,
        st,
        stats,
        clock,
        plan,
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": status},
    )


async def _meter(
    ws: ClientConnection,
    st: _Station,
    stats: FleetStats,
    clock: Clock,
    plan: FleetPlan,
    power_w: float,
) -> None:
    await _call(
        ws,
        st,
        stats,
        clock,
        plan,
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": st.tx,
            "meterValue": [
                {
                    "timestamp": _iso(clock),
                    "sampledValue": [
                        {
                            "value": f"{st.energy_wh:.0f}",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {
                            "value": f"{power_w:.0f}",
                            "measurand": "Power.Active.Import",
                            "unit": "W",
                        },
                    ],
                }
            ],
        },
    )


def _iso(clock: Clock) -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


async def _call(
    ws: ClientConnection,
    st: _Station,
    stats: FleetStats,
    clock: Clock,
    plan: FleetPlan,
    action: str,
    payload: dict[str, Any],
) -> dict[str, Any] | None:
    """Send one CALL and wait for its answer, answering CSMS CALLs meanwhile; the answer's
    payload, or ``None`` for a CALLERROR (counted as an error of its code)."""
    msg_id = str(next(st.msg_ids))
    t0 = time.perf_counter()
    await ws.send(json.dumps([2, msg_id, action, payload], separators=(",", ":")))
    stats.sent += 1
    stats.calls += 1
    deadline = t0 + plan.call_timeout_wall_s
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            stats.error(f"timeout ({action})")
            raise _Dropped(f"{action} unanswered")
        try:
            async with asyncio.timeout(remaining):
                raw = await ws.recv()
        except TimeoutError:
            stats.error(f"timeout ({action})")
            raise _Dropped(f"{action} unanswered") from None
        frame = await _answer(ws, st, stats, raw)
        if frame is None or frame[1] != msg_id:
            continue
        stats.record_latency(time.perf_counter() - t0)
        if frame[0] == 3 and isinstance(frame[2], dict):
            stats.answered += 1
            return frame[2]
        code = frame[2] if frame[0] == 4 and isinstance(frame[2], str) else "malformed answer"
        stats.error(f"CALLERROR {code} ({action})" if frame[0] == 4 else f"{code} ({action})")
        return None


async def _answer(
    ws: ClientConnection, st: _Station, stats: FleetStats, raw: str | bytes
) -> list[Any] | None:
    """Count one received frame; answer it if it is a CALL; return results and errors."""
    stats.received += 1
    try:
        frame = json.loads(raw)
    except ValueError:
        stats.error("unreadable frame")
        return None
    if not isinstance(frame, list) or len(frame) < 3:
        stats.error("not an OCPP-J frame")
        return None
    if frame[0] != 2:
        return frame
    msg_id, action = frame[1], frame[2]
    payload = frame[3] if len(frame) > 3 and isinstance(frame[3], dict) else {}
    result: dict[str, Any] = {"status": "Accepted"}
    if action == "SetChargingProfile":
        st.limit_w = _profile_limit_w(payload)
        stats.profiles_set += 1
    elif action == "ClearChargingProfile":
        st.limit_w = None
    elif action not in (
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ChangeConfiguration",
        "Reset",
        "TriggerMessage",
        "UnlockConnector",
    ):
        await ws.send(json.dumps([4, msg_id, "NotImplemented", f"{action} not simulated", {}]))
        stats.sent += 1
        return None
    await ws.send(json.dumps([3, msg_id, result]))
    stats.sent += 1
    return None


def _profile_limit_w(payload: dict[str, Any]) -> float | None:
    """The first period's limit of a 1.6 SetChargingProfile, in W (A taken at 230 V x 3)."""
    try:
        schedule = payload["csChargingProfiles"]["chargingSchedule"]
        limit = float(schedule["chargingSchedulePeriod"][0]["limit"])
        phases = int(schedule["chargingSchedulePeriod"][0].get("numberPhases", 3))
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return limit if schedule.get("chargingRateUnit") == "W" else limit * 230.0 * phases
