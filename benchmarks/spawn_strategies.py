"""How ``OcppConnection`` starts the coroutine that answers an incoming CALL: three ways, side
by side, measured with ``session_throughput.py``'s ``session`` rows.

* ``trampoline`` — the connection's eager start as it was before issue #17: the coroutine
  runs inside the receive loop up to its first real suspension, and only then is a task
  made for the rest (most Heartbeat answers never suspend, so no task at all); the receive
  loop's task stays current meanwhile;
* ``current`` — what ``OcppConnection._spawn`` does now: on Python 3.11 the same eager
  start with a stand-in current task (so ``asyncio.timeout()`` works from a handler's first
  line), from 3.12 an eager task;
* ``task`` — a bare ``asyncio.create_task`` per incoming CALL;
* ``eager`` — Python 3.12's eager task (``asyncio.eager_task_factory``'s way:
  ``asyncio.Task(coro, loop=loop, eager_start=True)``); refused before 3.12.

Each repeat runs ``session_throughput.py --modes session --repeats 1 --json`` once per
strategy, interleaved (drift on a shared machine hits all alike); medians over the repeats and
each strategy's ratio to ``trampoline`` are printed (calls/s and CPU µs per call, both ends;
the ratio is taken per repeat against the trampoline row run next to it, then the median: on
a shared machine adjacent rows see the same load, rows minutes apart do not).
``--transport memory`` drives the same Heartbeat calls over the in-memory transport pair
instead (no sockets, no websockets: the connection's own cost, where the way a handler is
started weighs most).

    python benchmarks/spawn_strategies.py                   # 3 s rows, 5 repeats
    python benchmarks/spawn_strategies.py --seconds 1 --repeats 3 --connections 1 100
    python benchmarks/spawn_strategies.py --transport memory --repeats 9

Loopback only (``session_throughput.py`` binds 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import statistics
import sys
import time
from collections.abc import Callable, Coroutine, Generator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import session_throughput

from harness.clock import ScaledClock
from harness.connection import OcppConnection
from harness.logs import configure_logging
from harness.session import CallReceived, Role
from harness.transport.memory import memory_pair

Spawn = Callable[[OcppConnection, Coroutine[Any, Any, None]], None]


def _keep(conn: OcppConnection, task: asyncio.Task[None]) -> None:
    conn._tasks.add(task)
    task.add_done_callback(conn._tasks.discard)


def spawn_task(conn: OcppConnection, coro: Coroutine[Any, Any, None]) -> None:
    """An ordinary task per incoming CALL."""
    _keep(conn, asyncio.get_running_loop().create_task(coro))


def spawn_eager(conn: OcppConnection, coro: Coroutine[Any, Any, None]) -> None:
    """Python 3.12's eager task: runs at once up to its first suspension, inside its own task."""
    loop = asyncio.get_running_loop()
    task = asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg,unused-ignore]
    if not task.done():
        _keep(conn, task)


def spawn_trampoline(conn: OcppConnection, coro: Coroutine[Any, Any, None]) -> None:
    """The eager start before issue #17: ``send(None)`` in the caller, a task only if it
    suspends, the receive loop's task current all along."""
    try:
        first = coro.send(None)
    except StopIteration:
        return
    except Exception as exc:
        conn.local_errors.append(f"answering a CALL raised {exc!r}")
        return
    _keep(conn, asyncio.ensure_future(_resume(coro, first)))


class _Resumed:
    """Continues a coroutine already started by :func:`spawn_trampoline` inside a task."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, None]:
        value = self._first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                self._coro.close()
                raise
            except BaseException as exc:
                try:
                    value = self._coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = self._coro.send(sent)
                except StopIteration:
                    return


async def _resume(coro: Coroutine[Any, Any, None], first: Any) -> None:
    await _Resumed(coro, first)


STRATEGIES: dict[str, Spawn] = {
    "trampoline": spawn_trampoline,
    "current": OcppConnection._spawn,
    "task": spawn_task,
    "eager": spawn_eager,
}


def _one_run(strategy: str, seconds: float, connections: list[int]) -> dict[int, dict[str, float]]:
    original = OcppConnection.__dict__["_spawn"]
    OcppConnection._spawn = STRATEGIES[strategy]  # type: ignore[method-assign,assignment]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            session_throughput.main(
                ["--modes", "session", "--repeats", "1", "--json", "--seconds", str(seconds),
                 "--connections", *map(str, connections)]
            )  # fmt: skip
    finally:
        OcppConnection._spawn = original  # type: ignore[method-assign]
    report = json.loads(out.getvalue())
    return {row["connections"]: row for row in report["rows"]}


async def _heartbeat(_: CallReceived) -> dict[str, Any]:
    return {"currentTime": "2025-01-01T00:00:00Z"}


async def _memory_client(n: int, seconds: float) -> tuple[int, int]:
    station_end, csms_end = memory_pair(f"CS{n}")
    clock = ScaledClock()
    csms = OcppConnection.open(
        csms_end,
        role=Role.CSMS,
        clock=clock,
        handlers={"Heartbeat": _heartbeat},
    )
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    csms.start()
    station.start()
    calls = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        await station.call("Heartbeat", {}, timeout_s=30)
        calls += 1
    await station.close()
    await csms.close()
    return calls, len(csms.local_errors)


async def _memory_row(connections: int, seconds: float) -> dict[str, float]:
    started, cpu0 = time.perf_counter(), time.process_time()
    done = await asyncio.gather(*(_memory_client(i, seconds) for i in range(connections)))
    elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu0
    calls = sum(c for c, _ in done)
    if any(errors for _, errors in done):
        raise SystemExit("a handler failed: the measurement is void")
    return {"calls_per_s": calls / elapsed, "cpu_us_per_call": cpu_s / calls * 1e6}


def _memory_run(
    strategy: str, seconds: float, connections: list[int]
) -> dict[int, dict[str, float]]:
    original = OcppConnection.__dict__["_spawn"]
    OcppConnection._spawn = STRATEGIES[strategy]  # type: ignore[method-assign,assignment]
    try:
        return {n: asyncio.run(_memory_row(n, seconds)) for n in connections}
    finally:
        OcppConnection._spawn = original  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of one row")
    parser.add_argument("--repeats", type=int, default=5, help="runs per strategy (medians)")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--transport", choices=["ws", "memory"], default="ws")
    parser.add_argument(
        "--strategies",
        nargs="+",
        choices=[s for s in STRATEGIES if s != "trampoline"],
        default=["current"],
        help="compared with trampoline (default: current)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    run = _one_run if args.transport == "ws" else _memory_run
    strategies = ["trampoline", *args.strategies]
    if "eager" in strategies and sys.version_info < (3, 12):
        parser.error("eager tasks need Python 3.12 or later")

    runs: dict[str, dict[int, list[dict[str, float]]]] = {s: {} for s in strategies}
    for i in range(args.repeats):
        for n in args.connections:
            # Pairs of adjacent rows see the same load; the order flips every repeat.
            for strategy in strategies if i % 2 == 0 else strategies[::-1]:
                row = run(strategy, args.seconds, [n])[n]
                runs[strategy].setdefault(n, []).append(row)

    def median_of(got: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in got)

    def paired(got: list[dict[str, float]], base: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] / b[key] for r, b in zip(got, base, strict=True))

    rows = []
    for strategy in strategies:
        for n in args.connections:
            got, base = runs[strategy][n], runs["trampoline"][n]
            rows.append({"strategy": strategy, "connections": n,
                         "calls_per_s": round(median_of(got, "calls_per_s"), 1),
                         "best_calls_per_s": round(max(r["calls_per_s"] for r in got), 1),
                         "cpu_us_per_call": round(median_of(got, "cpu_us_per_call"), 1),
                         "best_cpu_us_per_call": round(min(r["cpu_us_per_call"] for r in got), 1),
                         "rate_over_trampoline": round(paired(got, base, "calls_per_s"), 3),
                         "cpu_over_trampoline": round(paired(got, base, "cpu_us_per_call"), 3),
                         "all_rates": [round(r["calls_per_s"]) for r in got]})  # fmt: skip
    report = {"python": sys.version.split()[0], "transport": args.transport,
              "seconds": args.seconds, "repeats": args.repeats, "rows": rows}  # fmt: skip
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"session Heartbeat rows over {args.transport}, Python {report['python']}, "
          f"{args.seconds:g} s per row, "
          f"median of {args.repeats} (interleaved)")  # fmt: skip
    print("rate/tramp and cpu/tramp: median over the repeats of each row's ratio to the")
    print("trampoline row run next to it; best: the fastest row (the least disturbed)")
    print(f"{'strategy':<11} {'N':>4} {'calls/s':>9} {'best':>7} {'CPU us/call':>12} "
          f"{'best':>6} {'rate/tramp':>11} {'cpu/tramp':>10}  runs")  # fmt: skip
    for r in rows:
        print(f"{r['strategy']:<11} {r['connections']:>4} {r['calls_per_s']:>9.0f} "
              f"{r['best_calls_per_s']:>7.0f} {r['cpu_us_per_call']:>12.1f} "
              f"{r['best_cpu_us_per_call']:>6.1f} {r['rate_over_trampoline']:>11.3f} "
              f"{r['cpu_over_trampoline']:>10.3f}  {r['all_rates']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
