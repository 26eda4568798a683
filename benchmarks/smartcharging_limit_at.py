"""Print the cost of the oracle's calls a station simulator makes often.

Run: ``python benchmarks/smartcharging_limit_at.py``. Not part of the test run.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout first

from harness.smartcharging import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    ProfileStore,
    Purpose,
    RateUnit,
    Recurrency,
    SchedulePeriod,
    StationContext,
    Transaction,
)
from harness.versions import OcppVersion

T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def _profile(pid: int, purpose: Purpose, n_periods: int, **kw: object) -> ChargingProfile:
    periods = tuple(
        SchedulePeriod(start_period_s=i * 900, limit=Decimal(6 + (i * 7) % 26))
        for i in range(n_periods)
    )
    schedule = ChargingSchedule(unit=RateUnit.A, periods=periods, start_schedule=T0)
    return ChargingProfile(pid, 0, purpose, Kind.ABSOLUTE, (schedule,), **kw)  # type: ignore[arg-type]


def main() -> None:
    ctx = StationContext(evse_ids=(1, 2), transactions=((1, Transaction("t", T0)),))
    store = ProfileStore(OcppVersion.V201)
    store.install(0, _profile(1, Purpose.STATION_MAX, 48), ctx)
    daily = _profile(2, Purpose.TX_DEFAULT, 96)
    daily = ChargingProfile(2, 0, Purpose.TX_DEFAULT, Kind.RECURRING, daily.schedules,
                            recurrency=Recurrency.DAILY)  # fmt: skip
    store.install(1, daily, ctx)
    store.install(1, _profile(3, Purpose.TX, 24, transaction_id="t"), ctx)

    def composite_once() -> None:
        store.composite(evse_id=1, start=T0, duration_s=86_400, unit=RateUnit.A, context=ctx)

    def limit_at_cached(i: int) -> None:
        store.limit_at(evse_id=1, at=T0 + timedelta(seconds=i), context=ctx)

    def limit_at_fresh(i: int) -> None:  # baseline: a composite of one second per call
        store.composite(evse_id=1, start=T0 + timedelta(seconds=i), duration_s=1,
                        unit=RateUnit.A, context=ctx)  # fmt: skip

    per_composite = _median(lambda: _time(composite_once, 1))
    print(f"composite, 24 h, 3 profiles: {per_composite * 1e3:.2f} ms (median of 5)")
    calls = 5_000
    cached = _median(lambda: _time_loop(limit_at_cached, calls))
    fresh = _median(lambda: _time_loop(limit_at_fresh, calls))
    print(f"limit_at (cached composite): {cached * 1e6:.1f} µs/call (median of 5)")
    print(f"baseline, composite per call: {fresh * 1e6:.1f} µs/call; ratio {fresh / cached:.1f}x")


def _time(fn: Callable[[], None], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def _time_loop(fn: Callable[[int], None], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n


def _median(measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(5))


if __name__ == "__main__":
    main()
