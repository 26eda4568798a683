"""Fleet benchmark: N simulated stations against the minimal CSMS on loopback.

The CSMS runs in its own process (its memory is not the stations'). The fleet process boots N
stations (staggered), keeps them for ``--hold`` wall seconds with Heartbeat and MeterValues
every 60 s of clock time (``--speed`` accelerates the clock), and reports: stations booted and
connected, peak RSS of the fleet process per station (over the RSS before the fleet started),
messages per second, p50/p99 CALL latency, errors. ``--json`` prints one JSON object.

    python benchmarks/fleet.py --stations 10000 --speed 60 --hold 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.clock import ScaledClock  # noqa: E402
from simulators.fleet import FleetPlan, FleetStats, run_fleet  # noqa: E402
from simulators.fleet.csms import raise_fd_limit  # noqa: E402
from simulators.fleet.stats import percentile_ms  # noqa: E402


async def bench(args: argparse.Namespace, port: int) -> dict[str, object]:
    """Run the fleet against the CSMS on ``port``; return the figures."""
    proc = psutil.Process(os.getpid())
    base_rss = proc.memory_info().rss
    clock = ScaledClock(speed=args.speed, start=datetime(2026, 1, 1, 6, tzinfo=UTC))
    plan = FleetPlan(
        csms_url=f"ws://127.0.0.1:{port}",
        stations=args.stations,
        stagger_wall_s=args.stagger,
    )
    stats = FleetStats()
    stop = asyncio.Event()
    t0 = time.perf_counter()
    task = asyncio.create_task(run_fleet(plan, clock=clock, stats=stats, stop=stop))
    peak = base_rss
    booted_at = None
    deadline = t0 + args.boot_timeout
    while True:
        await asyncio.sleep(1.0)
        peak = max(peak, proc.memory_info().rss)
        now = time.perf_counter()
        if booted_at is None and len(stats.ever_booted) == args.stations:
            booted_at = now
            msg0, lat0 = stats.sent + stats.received, list(stats.buckets)
        if booted_at is None and now > deadline:
            break
        if booted_at is not None and now - booted_at >= args.hold:
            break
        if not args.json:
            print(
                f"  t={now - t0:5.0f}s booted {len(stats.ever_booted)} connected "
                f"{stats.connected} charging {stats.charging} errors {stats.errors}",
                file=sys.stderr,
                flush=True,
            )
    end = time.perf_counter()
    connected_at_end = stats.connected
    charging_at_end = stats.charging
    if booted_at is not None:
        hold_s = end - booted_at
        rate = (stats.sent + stats.received - msg0) / hold_s
        steady = [a - b for a, b in zip(stats.buckets, lat0, strict=True)]
    else:
        hold_s, rate, steady = 0.0, 0.0, list(stats.buckets)
    stop.set()
    await asyncio.wait_for(task, 60)
    return {
        "stations": args.stations,
        "booted": len(stats.ever_booted),
        "connected": connected_at_end,
        "charging": charging_at_end,
        "boot_wall_s": round((booted_at or end) - t0, 1),
        "hold_wall_s": round(hold_s, 1),
        "clock_speed": args.speed,
        "peak_rss_mb": round(peak / 2**20, 1),
        "base_rss_mb": round(base_rss / 2**20, 1),
        "peak_kb_per_station": round((peak - base_rss) / 1024 / args.stations, 1),
        "peak_total_kb_per_station": round(peak / 1024 / args.stations, 1),
        "msgs_per_s": round(rate, 0),
        "p50_ms": percentile_ms(steady, 0.5),
        "p99_ms": percentile_ms(steady, 0.99),
        "p99_ms_incl_boot": percentile_ms(stats.buckets, 0.99),
        "errors": stats.errors,
        "reconnects": stats.reconnects,
        "transactions": stats.transactions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="clock speed: 60 makes the 60 s heartbeat/meter period 1 wall s",
    )
    parser.add_argument("--hold", type=float, default=30.0, help="wall seconds after boot")
    parser.add_argument("--stagger", type=float, default=0.002, help="wall s between starts")
    parser.add_argument("--boot-timeout", type=float, default=300.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    raise_fd_limit()
    csms = subprocess.Popen(
        [sys.executable, "-m", "simulators.fleet.csms", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert csms.stdout is not None
        port = int(csms.stdout.readline().split()[1])
        result = asyncio.run(bench(args, port))
    finally:
        csms.terminate()
        csms.wait(10)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
