"""Fleet engine against the minimal CSMS on loopback (real sockets, accelerated clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from harness.clock import ScaledClock
from simulators.fleet import FleetPlan, FleetStats, run_fleet
from simulators.fleet import engine as fleet_engine
from simulators.fleet.csms import MiniCsms, serve_csms
from simulators.fleet.stats import percentile_ms, summary_line


async def _wait_for(cond: Callable[[], bool], *, timeout_s: float) -> None:
    """Poll ``cond`` (the engine has no event to wait on) until true or fail after timeout."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not cond():
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_fleet_boots_every_station_charges_under_profile_and_meters() -> None:
    csms = MiniCsms(profile_limit_w=3_680.0)
    server = await serve_csms(csms)
    port = server.sockets[0].getsockname()[1]
    # Start at midnight at 24x... speed so arrivals happen within the run.
    clock = ScaledClock(speed=20_000, start=datetime(2026, 1, 1, tzinfo=UTC))
    plan = FleetPlan(csms_url=f"ws://127.0.0.1:{port}", stations=30, stagger_wall_s=0.001)
    stats = FleetStats()
    stop = asyncio.Event()
    task = asyncio.create_task(run_fleet(plan, clock=clock, stats=stats, stop=stop))
    await _wait_for(lambda: len(stats.ever_booted) == 30 and stats.transactions >= 5, timeout_s=5)
    assert stats.connected == 30
    assert stats.profiles_set == 30
    stop.set()
    await asyncio.wait_for(task, 5)
    server.close()
    await server.wait_closed()
    assert set(csms.boots) == {plan.station_id(i) for i in range(30)}
    assert stats.errors == 0
    assert stats.connected == 0
    assert percentile_ms(stats.buckets, 0.99) is not None
    assert "booted 30" in summary_line(stats.snapshot(), wall_s=1.0)


async def test_dropped_csms_makes_stations_reconnect_with_backoff_and_reboot() -> None:
    csms = MiniCsms()
    server = await serve_csms(csms)
    port = server.sockets[0].getsockname()[1]
    clock = ScaledClock(speed=600)
    plan = FleetPlan(
        csms_url=f"ws://127.0.0.1:{port}",
        stations=10,
        stagger_wall_s=0.0,
        backoff_min_wall_s=0.05,
        backoff_max_wall_s=0.2,
    )
    stats = FleetStats()
    stop = asyncio.Event()
    task = asyncio.create_task(run_fleet(plan, clock=clock, stats=stats, stop=stop))
    await _wait_for(lambda: stats.connected == 10, timeout_s=5)
    # Drop the CSMS in the middle of the run: listener gone and every connection closed.
    server.close()
    await server.wait_closed()
    await _wait_for(lambda: stats.connected == 0, timeout_s=5)
    # Each tried again, at least once, while the CSMS was down.
    await _wait_for(lambda: stats.reconnects >= 10, timeout_s=10)
    server2 = await serve_csms(csms, port=port)
    await _wait_for(lambda: stats.connected == 10 and min(csms.boots.values()) == 2, timeout_s=5)
    stop.set()
    await asyncio.wait_for(task, 5)
    server2.close()
    await server2.wait_closed()
    assert all(n == 2 for n in csms.boots.values())
    assert len(csms.boots) == 10
    assert sum(stats.losses_by_kind.values()) == stats.reconnects  # each loss has its kind


async def test_backoff_doubles_between_attempts_while_csms_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The waits between refused attempts are drawn from [b/2, b], b doubling up to the cap.

    The waits are recorded instead of slept, so the test does not count attempts in a span of
    wall time (a count that depends on how loaded the machine is).
    """
    # A port with nothing listening: every attempt is refused at once.
    server = await serve_csms(MiniCsms())
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    plan = FleetPlan(
        csms_url=f"ws://127.0.0.1:{port}",
        stations=1,
        backoff_min_wall_s=0.05,
        backoff_max_wall_s=0.4,
    )
    stats = FleetStats()
    stop = asyncio.Event()
    waits: list[float] = []

    async def record(event: asyncio.Event, wall_s: float) -> bool:
        waits.append(wall_s)
        if len(waits) == 7:
            event.set()
        await asyncio.sleep(0)
        return event.is_set()

    monkeypatch.setattr(fleet_engine, "_stopped", record)
    task = asyncio.create_task(run_fleet(plan, clock=ScaledClock(), stats=stats, stop=stop))
    await asyncio.wait_for(task, 30)
    bounds = [0.05, 0.1, 0.2, 0.4, 0.4, 0.4, 0.4]  # doubling, then held at the cap
    assert len(waits) == len(bounds)
    for wait, bound in zip(waits, bounds, strict=True):
        assert bound / 2 <= wait <= bound
    assert stats.reconnects == len(bounds)
    assert stats.connected == 0
    assert not stats.ever_booted
