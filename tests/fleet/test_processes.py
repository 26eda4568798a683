"""Fleets on every core: worker processes, paced handshakes, bounded shutdown, file limits."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.clock import ScaledClock
from simulators.fleet import FleetPlan, FleetStats, limits, run_fleet
from simulators.fleet import engine as fleet_engine
from simulators.fleet.cli import port_warning
from simulators.fleet.csms import MiniCsms, serve_csms
from simulators.fleet.processes import ProcessFleet


def _poll(cond: Callable[[], bool], *, timeout_s: float, every_s: float = 0.1) -> None:
    """Wait (blocking) until ``cond`` is true; fail after ``timeout_s``."""
    end = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(every_s)


async def _wait_for(cond: Callable[[], bool], *, timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not cond():
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(0.02)


def test_worker_processes_boot_every_station_and_their_counters_add_up(
    csms_port: tuple[MiniCsms, int],
) -> None:
    csms, port = csms_port
    plan = FleetPlan(
        csms_url=f"ws://127.0.0.1:{port}", stations=41, stagger_wall_s=0.0, max_connecting=4
    )
    fleet = ProcessFleet(
        plan, workers=3, speed=600, start=datetime(2026, 1, 1, 6, tzinfo=UTC), shutdown_wall_s=5
    )
    fleet.start()
    try:
        assert sorted(p.stations for p in fleet.parts) == [13, 14, 14]
        assert len(set(fleet.pids)) == 3
        assert len(fleet.fd_limits) == 3
        snaps: list[dict[str, Any]] = []

        def all_booted() -> bool:
            snaps.append(fleet.snapshot())
            return bool(snaps[-1]["booted"] == 41 and snaps[-1]["connected"] == 41)

        _poll(all_booted, timeout_s=60)
    finally:
        final = fleet.stop(bound_wall_s=30)
    live = snaps[-1]
    assert live["stations"] == 41
    assert live["workers"] == 3
    assert live["peak_rss_kb"] >= live["base_rss_kb"] > 0  # summed over the three workers
    # Every station booted exactly once, each from one worker, under its own id.
    assert set(csms.boots) == {plan.station_id(i) for i in range(41)}
    assert all(n == 1 for n in csms.boots.values())
    assert final["booted"] == 41
    assert final["errors"] == 0
    assert final["reconnects"] == 0
    # What the stations counted is what the CSMS saw: every CALL answered was received.
    assert 2 * 41 <= final["answered"] <= csms.calls
    assert final["calls"] >= final["answered"]
    assert final["connected"] == 0
    assert final["unfinished"] == 0
    assert final["shutdown_wall_s"] <= 30


async def test_shutdown_ends_every_station_wherever_it_waits() -> None:
    """Stations in a 60 s heartbeat wait, in an opening handshake the CSMS never answers, and
    in a long back-off all end within the bound once ``stop`` is set."""
    csms = MiniCsms()
    server = await serve_csms(csms)
    port = server.sockets[0].getsockname()[1]

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the TCP connection, never answers the upgrade

    mute = await asyncio.start_server(silent, "127.0.0.1", 0)
    mute_port = mute.sockets[0].getsockname()[1]
    plan = FleetPlan(
        csms_url=f"ws://127.0.0.1:{port}",
        listeners=(f"ws://127.0.0.1:{mute_port}",),
        stations=60,
        stagger_wall_s=0.0,
        call_timeout_wall_s=600.0,  # the handshake would hang for 10 minutes
    )
    stats = FleetStats()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_fleet(plan, clock=ScaledClock(), stats=stats, stop=stop, shutdown_wall_s=5.0)
    )
    await _wait_for(lambda: len(stats.ever_booted) == 30 and stats.connected == 30, timeout_s=30)
    stop.set()
    unfinished = await asyncio.wait_for(task, 20)
    assert unfinished == 0
    assert stats.connected == 0
    # The CSMS saw its 30 stations go away (a Close frame or the socket closed).
    await _wait_for(lambda: not csms.connections, timeout_s=10)
    mute.close()
    server.close()
    await server.wait_closed()


async def test_handshakes_in_flight_never_exceed_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_flight = 0
    peak = 0
    entered = 0
    release = asyncio.Event()

    async def fake_connect(url: str, **kwargs: Any) -> Any:
        nonlocal in_flight, peak, entered
        in_flight += 1
        entered += 1
        peak = max(peak, in_flight)
        try:
            await release.wait()
            raise ConnectionRefusedError("fake CSMS refuses")
        finally:
            in_flight -= 1

    monkeypatch.setattr(fleet_engine, "connect", fake_connect)
    plan = FleetPlan(
        csms_url="ws://127.0.0.1:1",
        stations=50,
        stagger_wall_s=0.0,
        max_connecting=7,
        backoff_min_wall_s=0.001,
        backoff_max_wall_s=0.002,
    )
    stats = FleetStats()
    stop = asyncio.Event()
    task = asyncio.create_task(run_fleet(plan, clock=ScaledClock(), stats=stats, stop=stop))
    await _wait_for(lambda: in_flight == 7, timeout_s=10)
    for _ in range(20):  # let every other station reach the gate
        await asyncio.sleep(0)
    assert entered == 7  # 43 stations wait at the gate
    release.set()
    await _wait_for(lambda: stats.reconnects >= 100, timeout_s=30)  # each tried, many again
    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
    assert peak == 7
    assert stats.losses_by_kind.get("connection refused", 0) == stats.reconnects


def test_the_open_file_limit_is_raised_to_the_hard_limit_and_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, tuple[int, int]]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda which: (1024, 4096))
    monkeypatch.setattr(resource, "setrlimit", lambda which, v: calls.append((which, v)))
    got = limits.raise_fd_limit()
    assert calls == [(resource.RLIMIT_NOFILE, (4096, 4096))]
    assert (got.before, got.soft, got.hard, got.raised) == (1024, 4096, 4096, True)
    assert got.describe() == "open files per process: 1024 -> 4096 (hard limit 4096)"


def test_a_refused_raise_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(which: int, value: tuple[int, int]) -> None:
        raise ValueError("not allowed to raise maximum limit")

    monkeypatch.setattr(resource, "getrlimit", lambda which: (1024, 4096))
    monkeypatch.setattr(resource, "setrlimit", refuse)
    got = limits.raise_fd_limit()
    assert (got.soft, got.raised) == (1024, False)
    assert got.describe() == (
        "open files per process: 1024 (could not be raised to the hard limit 4096)"
    )


def test_workers_one_per_core_and_more_where_open_files_ask_for_it() -> None:
    assert limits.plan_workers(500, cores=2, fd_soft=20_000) == 1  # small: in process
    assert limits.plan_workers(5_000, cores=2, fd_soft=20_000) == 2  # one per core
    assert limits.plan_workers(50_000, cores=2, fd_soft=20_000) == 3  # 16 667 each
    assert limits.plan_workers(5_000, cores=2, fd_soft=1_024) == 7  # 768 sockets each


def test_stations_are_spread_over_listeners() -> None:
    plan = FleetPlan(
        csms_url="ws://127.0.0.1:9000/ocpp",
        listeners=("ws://127.0.0.1:9001/ocpp",),
        stations=4,
    )
    assert plan.url_for(0) == "ws://127.0.0.1:9000/ocpp/FLEET-000000"
    assert plan.url_for(1) == "ws://127.0.0.1:9001/ocpp/FLEET-000001"
    assert plan.url_for(2).startswith("ws://127.0.0.1:9000/")


async def test_shutdown_reports_a_task_that_would_not_end_instead_of_waiting_for_it() -> None:
    release = asyncio.Event()
    ended: list[str] = []

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await release.wait()  # swallows the cancellation and waits on
        ended.append("stubborn")

    async def polite() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            ended.append("polite")

    tasks = [asyncio.create_task(stubborn()), *(asyncio.create_task(polite()) for _ in range(3))]
    await asyncio.sleep(0)
    unfinished = await fleet_engine.shutdown_stations(tasks, set(), bound_wall_s=0.2)
    assert unfinished == 1
    assert ended == ["polite"] * 3
    release.set()
    await asyncio.wait_for(tasks[0], 5)


def test_a_warning_when_one_csms_address_has_too_few_ports_for_the_stations() -> None:
    one = FleetPlan(csms_url="ws://127.0.0.1:9000", stations=50_000)
    three = FleetPlan(
        csms_url="ws://127.0.0.1:9000",
        listeners=("ws://127.0.0.1:9001", "ws://127.0.0.1:9002"),
        stations=50_000,
    )
    warning = port_warning(one, ports=28_232)
    assert warning is not None
    assert "50000 stations per CSMS address, more than the 28232 ports" in warning
    assert port_warning(three, ports=28_232) is None  # 16 667 each
