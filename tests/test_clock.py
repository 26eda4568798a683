"""The clock: scaled real time and manual time."""

from __future__ import annotations

import asyncio
import time
import types
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import harness.clock
from harness.clock import AdjustableClock, ManualClock, ScaledClock, utc


def test_utc_parses_z_and_naive_values() -> None:
    assert utc("2025-01-02T03:04:05Z") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert utc("2025-01-02T03:04:05") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert utc("2025-01-02T05:04:05+02:00") == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


async def test_scaled_clock_runs_faster_than_wall_time() -> None:
    clock = ScaledClock(speed=1000.0, start=datetime(2025, 1, 1, tzinfo=UTC))
    wall0 = time.monotonic()
    await clock.sleep(100.0)  # 0.1 s of wall time
    wall = time.monotonic() - wall0
    assert clock.monotonic() >= 100.0
    assert wall < 1.0
    assert clock.now() >= datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=100)


async def test_scaled_clock_wait_for_times_out_in_clock_seconds() -> None:
    clock = ScaledClock(speed=100.0)
    with pytest.raises(TimeoutError, match="5 s of clock time"):
        await clock.wait_for(asyncio.sleep(10), timeout_s=5.0)


# Wall-clock readings in seconds (time.monotonic() is float seconds since boot), including
# ones whose scaled offset falls on half a microsecond, where rounding decides.
_READINGS = st.floats(min_value=0.0, max_value=1e6, allow_nan=False) | st.sampled_from(
    [0.0, 5e-7, 1.5e-6, 2.5e-6, 1.0000005, 123.4567895, 86400.0000005, 999999.9999995]
)


@given(
    wall0=_READINGS,
    later=_READINGS,
    speed=st.sampled_from([1.0, 2.0, 3.0, 60.0, 3600.0, 0.1]) | st.floats(1e-3, 1e4),
    start_us=st.integers(0, 10**6 - 1),
)
@example(wall0=0.0, later=5e-7, speed=1.0, start_us=0)
@example(wall0=1.0, later=1.0000025, speed=1.0, start_us=999_999)
def test_scaled_clock_now_is_start_plus_monotonic_to_the_microsecond(
    wall0: float, later: float, speed: float, start_us: int
) -> None:
    """now() is start + timedelta(seconds=monotonic()): the same instant, rounded the same
    way, as the clock's monotonic reading (the formula before now() was made cheaper)."""
    readings = iter([wall0, later, later])
    fake_time = types.SimpleNamespace(monotonic=lambda: next(readings))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harness.clock, "time", fake_time)
        start = datetime(2025, 6, 1, 12, 0, 0, start_us, tzinfo=UTC)
        clock = ScaledClock(speed=speed, start=start)
        now = clock.now()
        monotonic = clock.monotonic()
    assert now == start + timedelta(seconds=monotonic)
    assert now == start + timedelta(seconds=(later - wall0) * speed)
    assert now.tzinfo is start.tzinfo


def test_scaled_clock_now_follows_monotonic() -> None:
    clock = ScaledClock(speed=1000.0, start=datetime(2025, 1, 1, tzinfo=UTC))
    before = clock.monotonic()
    now = clock.now()
    after = clock.monotonic()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert start + timedelta(seconds=before) <= now <= start + timedelta(seconds=after)


def test_scaled_clock_rejects_bad_speed() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(speed=0)


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock()
    woken: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woken.append(f"{name}@{clock.monotonic():g}")

    tasks = [asyncio.create_task(sleeper("b", 20)), asyncio.create_task(sleeper("a", 10))]
    await asyncio.sleep(0)
    assert clock.next_deadline() == 10
    clock.advance(15)
    await asyncio.sleep(0)
    assert woken == ["a@15"]
    clock.advance(5)
    await asyncio.gather(*tasks)
    assert woken == ["a@15", "b@20"]
    assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=20)


async def test_manual_clock_wait_for_times_out_when_advanced() -> None:
    clock = ManualClock()
    never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(clock.wait_for(never, timeout_s=30))
    await asyncio.sleep(0)
    clock.advance(29)
    await asyncio.sleep(0)
    assert not waiter.done()
    clock.advance(1)
    with pytest.raises(TimeoutError):
        await waiter


def test_manual_clock_cannot_go_backwards() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


async def test_adjustable_clock_sets_the_time_of_day_but_not_the_waits() -> None:
    inner = ManualClock(start=datetime(2025, 1, 1, tzinfo=UTC))
    clock = AdjustableClock(inner)
    assert clock.now() == inner.now()
    assert clock.speed == inner.speed
    step_s = clock.set_now(datetime(2025, 1, 1, 0, 10, tzinfo=UTC))
    assert step_s == 600.0
    assert clock.offset_s == 600.0
    assert clock.now() == datetime(2025, 1, 1, 0, 10, tzinfo=UTC)
    assert clock.monotonic() == inner.monotonic() == 0.0
    sleeper = asyncio.ensure_future(clock.sleep(5))
    await asyncio.sleep(0)
    inner.advance(4.9)
    await asyncio.sleep(0)
    assert not sleeper.done()  # a wait is the inner clock's: setting the time did not end it
    inner.advance(0.1)
    await asyncio.wait_for(sleeper, 1)
    assert clock.now() == datetime(2025, 1, 1, 0, 10, 5, tzinfo=UTC)
    assert clock.set_now(datetime(2025, 1, 1, 0, 5, tzinfo=UTC)) == -305.0  # back is allowed
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set_now(datetime(2025, 1, 1))
