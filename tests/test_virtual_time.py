"""Virtual time: the loop's clock jumps over idle waits, and stands still while code runs."""

from __future__ import annotations

import asyncio
import time

import pytest

from harness.clock import LoopClock, ManualClock, ScaledClock, run_virtual, wall_floor
from harness.transport import OcppSubprotocol, memory_pair


def test_six_hours_of_sleep_take_no_wall_time() -> None:
    async def main() -> tuple[float, float]:
        clock = LoopClock()
        wall0 = time.perf_counter()
        await clock.sleep(6 * 3600)
        return clock.monotonic(), time.perf_counter() - wall0

    clock_s, wall_s = run_virtual(main())
    assert clock_s == pytest.approx(6 * 3600)
    assert wall_s < 1.0


def test_computing_takes_no_clock_time() -> None:
    async def main() -> float:
        clock = LoopClock()
        before = clock.monotonic()
        deadline = time.perf_counter() + 0.05
        while time.perf_counter() < deadline:  # 50 ms of real work, no await
            pass
        return clock.monotonic() - before

    assert run_virtual(main()) == 0.0


def test_sleepers_wake_in_deadline_order_at_their_exact_times() -> None:
    async def main() -> list[tuple[str, float]]:
        clock = LoopClock()
        woke: list[tuple[str, float]] = []

        async def sleeper(name: str, seconds: float) -> None:
            await clock.sleep(seconds)
            woke.append((name, clock.monotonic()))

        await asyncio.gather(sleeper("c", 300), sleeper("a", 1.5), sleeper("b", 60))
        return woke

    assert run_virtual(main()) == [("a", 1.5), ("b", 60.0), ("c", 300.0)]


def test_timeout_fires_at_clock_deadline_and_names_it() -> None:
    async def main() -> tuple[str, float]:
        clock = LoopClock()
        try:
            await clock.wait_for(asyncio.Event().wait(), 3600)
        except TimeoutError as exc:
            return str(exc), clock.monotonic()
        raise AssertionError("no timeout")

    message, at = run_virtual(main())
    assert "3600 s of clock time" in message
    assert at == pytest.approx(3600)


def test_in_memory_peers_exchange_without_clock_time_passing() -> None:
    async def main() -> tuple[str, float]:
        clock = LoopClock()
        a, b = memory_pair("CP1", OcppSubprotocol.V16)
        await a.send("ping")
        got = await clock.wait_for(b.recv(), 10)
        return got, clock.monotonic()

    got, at = run_virtual(main())
    assert got == "ping"
    assert at == 0.0


def test_thread_work_is_waited_for_not_skipped() -> None:
    async def main() -> tuple[str, float]:
        clock = LoopClock()
        timer = asyncio.ensure_future(clock.sleep(0.01))
        result = await asyncio.to_thread(lambda: (time.sleep(0.2), "done")[1])
        # the 10 ms timer could fire meanwhile, but clock time followed wall time while the
        # thread ran instead of jumping ahead of it
        await timer
        return result, clock.monotonic()

    result, at = run_virtual(main())
    assert result == "done"
    assert 0.01 <= at < 5.0


def test_loop_clock_speed_says_whether_time_is_virtual() -> None:
    async def speed() -> float:
        return LoopClock().speed

    assert run_virtual(speed()) == float("inf")
    assert asyncio.run(speed()) == 1.0


def test_wall_floor() -> None:
    assert wall_floor(ScaledClock(speed=600), 0.005) == pytest.approx(3.0)
    assert wall_floor(ManualClock(), 5.0) == 0.0


def test_loop_clock_rejects_naive_start() -> None:
    from datetime import datetime

    async def main() -> None:
        LoopClock(start=datetime(2026, 1, 1))

    with pytest.raises(ValueError, match="timezone-aware"):
        run_virtual(main())
