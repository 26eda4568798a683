"""Fleet benchmark: N simulated stations on every core against minimal CSMS processes on loopback.

The fleet runs in worker processes (:class:`simulators.fleet.processes.ProcessFleet`, one per
core and more where the open-file limit asks for it); the CSMS in processes of its own (their
memory is not the stations'), as several listeners where one would not do: one listener
process holds at most its open-file limit of connections, and one loopback address offers
~28 000 source ports towards one listener. The stations boot (handshakes paced by
``--max-connecting`` per worker), are held for ``--hold`` wall seconds after the last one
booted with Heartbeat and MeterValues every 60 s of clock time (``--speed 1`` is real time),
then stopped. Figures (over the hold unless said otherwise): stations booted and connected,
messages/s, p50/p99 CALL latency, worker memory per station (peak RSS summed over workers, in
total and above the workers' RSS before their stations started), CPU µs per message in the
workers, reconnects (in the whole run, and in the hold), errors, and the shutdown time (stop
sent -> every worker process exited, its station tasks ended: cancelled within the workers'
bound, else with the process). ``--json`` prints one object
on stdout (progress lines go to stderr),
with the acceptance checks of issue #22 (p99 < 1 s, < 30 KB per station, reconnects < 1 % of
stations, shutdown <= 10 s). ``--runs R`` repeats and prints medians.

    nice python benchmarks/fleet.py --stations 50000 --speed 1 --hold 600 --json
    python benchmarks/fleet.py --stations 2000 --speed 60 --hold 20 --runs 3
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulators.fleet import FleetPlan  # noqa: E402
from simulators.fleet.limits import (  # noqa: E402
    FD_RESERVE,
    cores,
    ephemeral_ports,
    plan_workers,
    raise_fd_limit,
)
from simulators.fleet.processes import ProcessFleet  # noqa: E402
from simulators.fleet.stats import percentile_ms  # noqa: E402


def _listeners_needed(stations: int, fd_soft: int) -> int:
    per_listener = min(fd_soft - FD_RESERVE, ephemeral_ports() - 1_000)
    return max(1, math.ceil(stations / per_listener))


def _start_csms(count: int) -> tuple[list[subprocess.Popen[str]], list[int]]:
    procs, ports = [], []
    for _ in range(count):
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulators.fleet.csms", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        procs.append(proc)
        assert proc.stdout is not None
        ports.append(int(proc.stdout.readline().split()[1]))
    return procs, ports


def _delta(after: dict[str, Any], before: dict[str, Any], key: str) -> float:
    return float(after.get(key, 0)) - float(before.get(key, 0))


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    """One fleet run; its figures."""
    limit = raise_fd_limit()  # inherited by the CSMS processes
    listeners = args.listeners or _listeners_needed(args.stations, limit.soft)
    workers = args.workers or max(2, plan_workers(args.stations, cores=cores(), fd_soft=limit.soft))
    csms_procs, ports = _start_csms(listeners)
    try:
        urls = [f"ws://127.0.0.1:{port}" for port in ports]
        plan = FleetPlan(
            csms_url=urls[0],
            listeners=tuple(urls[1:]),
            stations=args.stations,
            stagger_wall_s=args.stagger,
            max_connecting=args.max_connecting,
        )
        fleet = ProcessFleet(
            plan,
            workers=workers,
            speed=args.speed,
            start=datetime(2026, 1, 1, 6, tzinfo=UTC),
        )
        t0 = time.monotonic()
        fleet.start()
        started = time.monotonic()
        booted_at: float | None = None
        at_boot: dict[str, Any] = {}
        snap: dict[str, Any] = {}
        last_progress = 0.0
        while True:
            time.sleep(args.every)
            snap = fleet.snapshot()
            now = time.monotonic()
            if booted_at is None and snap["booted"] >= args.stations:
                booted_at, at_boot = now, snap
            if booted_at is None and now - started > args.boot_timeout:
                break
            if booted_at is not None and now - booted_at >= args.hold:
                break
            if now - last_progress >= args.progress_every:
                last_progress = now
                print(
                    f"  t={now - t0:5.0f}s booted {snap['booted']} connected "
                    f"{snap['connected']} charging {snap['charging']} errors {snap['errors']} "
                    f"reconnects {snap['reconnects']}",
                    file=sys.stderr,
                    flush=True,
                )
        end = time.monotonic()
        final = fleet.stop()
        csms_cpu_s = sum(
            sum(psutil.Process(p.pid).cpu_times()[:2]) for p in csms_procs if p.poll() is None
        )
    finally:
        for proc in csms_procs:
            proc.terminate()
        for proc in csms_procs:
            proc.wait(30)
    hold_s = end - booted_at if booted_at is not None else 0.0
    base = at_boot or {"buckets": [0] * len(snap["buckets"])}
    steady = [a - b for a, b in zip(snap["buckets"], base["buckets"], strict=True)]
    msgs = _delta(snap, base, "sent") + _delta(snap, base, "received")
    cpu_s = _delta(snap, base, "cpu_s")
    p99 = percentile_ms(steady, 0.99)
    peak_kb = float(final.get("peak_rss_kb", 0))
    base_kb = float(final.get("base_rss_kb", 0))
    total_kb_per_station = peak_kb / args.stations
    shutdown_s = float(final["shutdown_wall_s"])
    return {
        "stations": args.stations,
        "workers": workers,
        "csms_listeners": listeners,
        "max_connecting": args.max_connecting,
        "fd_limit": limit.describe(),
        "booted": snap["booted"],
        "connected": snap["connected"],
        "charging": snap["charging"],
        "boot_wall_s": round((booted_at or end) - started, 1),
        "hold_wall_s": round(hold_s, 1),
        "clock_speed": args.speed,
        "msgs_per_s": round(msgs / hold_s) if hold_s else 0,
        "calls_per_s": round(_delta(snap, base, "calls") / hold_s) if hold_s else 0,
        "p50_ms": percentile_ms(steady, 0.5),
        "p99_ms": p99,
        "p99_ms_incl_boot": percentile_ms(snap["buckets"], 0.99),
        "peak_total_kb_per_station": round(total_kb_per_station, 1),
        "peak_kb_per_station": round((peak_kb - base_kb) / args.stations, 1),
        "worker_cpu_us_per_msg": round(cpu_s / msgs * 1e6, 1) if msgs else None,
        "csms_cpu_s": round(csms_cpu_s, 1),
        "reconnects": final["reconnects"],
        "reconnects_in_hold": int(_delta(snap, base, "reconnects")),
        "reconnects_pct_of_stations": round(100 * final["reconnects"] / args.stations, 3),
        "losses_by_kind": final.get("losses_by_kind", {}),
        "errors": final["errors"],
        "errors_by_kind": final.get("errors_by_kind", {}),
        "transactions": final["transactions"],
        "shutdown_wall_s": shutdown_s,
        "final_counters_wall_s": final["final_wall_s"],
        "tasks_ended_by_worker_exit": final.get("unfinished", 0),
        "workers_killed": final.get("killed", 0),
        "ok_all_booted": snap["booted"] >= args.stations,
        "ok_p99_below_1s": p99 is not None and p99 < 1000.0,
        "ok_below_30kb_per_station": total_kb_per_station < 30.0,
        "ok_reconnects_below_1pct": final["reconnects"] < 0.01 * args.stations,
        "ok_shutdown_within_10s": shutdown_s <= 10.0 and not final.get("killed", 0),
    }


def _median(values: list[Any]) -> Any:
    if all(isinstance(v, bool) for v in values):
        return all(values)
    if all(isinstance(v, int | float) for v in values):
        return statistics.median(values)
    return values[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="clock speed: 1 is real time, 60 makes the 60 s heartbeat/meter period 1 wall s",
    )
    parser.add_argument("--hold", type=float, default=30.0, help="wall seconds after boot")
    parser.add_argument("--stagger", type=float, default=0.0, help="wall s between starts")
    parser.add_argument("--max-connecting", type=int, default=64, help="per worker")
    parser.add_argument("--workers", type=int, default=0, help="0: one per core or more")
    parser.add_argument("--listeners", type=int, default=0, help="CSMS processes (0: auto)")
    parser.add_argument("--every", type=float, default=1.0, help="wall s between snapshots")
    parser.add_argument("--boot-timeout", type=float, default=600.0)
    parser.add_argument(
        "--progress-every", type=float, default=10.0, help="wall s between progress lines"
    )
    parser.add_argument("--runs", type=int, default=1, help="repeat; medians are printed")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = [run_once(args) for _ in range(args.runs)]
    result = (
        runs[0]
        if len(runs) == 1
        else {key: _median([r[key] for r in runs]) for key in runs[0]} | {"runs": len(runs)}
    )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
