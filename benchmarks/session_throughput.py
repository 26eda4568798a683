"""Heartbeat request/response throughput over loopback WebSockets: ours against two baselines.

For N = 1, 10 and 100 connections, each connection makes sequential Heartbeat calls (OCPP 1.6)
for ``--seconds``; a row reports total calls/s and the p99 latency. Three stacks, both ends
each time, all on websockets with its default settings (permessage-deflate on):

* ``raw``     — websockets + json: the floor any OCPP layer adds cost to;
* ``session`` — this project: ``OcppConnection`` + ``OcppSession`` with schema validation of
  every request and response, id correlation and the wire trace, over
  ``harness.transport`` (``serve_ocpp`` / ``connect_ocpp``);
* ``session_disk`` — the same, with the CSMS end writing its trace to disk the way a run
  does (``CsmsEndpoint._trace``: each record into ``TraceSink.append_record`` of the
  results store, which redacts, builds the line from the frame's text and writes buffered
  lines at most 0.1 s after they happen), one trace file per connection in a temporary
  folder, fsynced when the connection ends (in a thread: in a run that is once per case);
* ``ocpp``    — the ``ocpp`` package's ``ChargePoint`` with its defaults (validation through
  the thread pool).

Every row is repeated ``--repeats`` times; the medians and the ratios session/raw,
session/ocpp, session_disk/raw and session_disk/ocpp at each N are printed (``--json``: one
JSON object instead). Beside wall time, each row gives the CPU µs per call: this process's
CPU time (both ends of every connection run in it) over the calls made.

    python benchmarks/session_throughput.py                  # 3 s per row, 3 repeats
    python benchmarks/session_throughput.py --seconds 1 --repeats 1 --json

This script measures wall time with ``time.perf_counter`` on purpose: wall time is what it
measures. Loopback only (127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action

from harness.clock import ScaledClock
from harness.connection import OcppConnection
from harness.logs import configure_logging
from harness.results.store import TraceSink
from harness.session import CallReceived, Role
from harness.transport import OcppSubprotocol, connect_ocpp, serve_ocpp

HOST = "127.0.0.1"
NOW = "2025-01-01T00:00:00Z"
Client = Callable[[str, float], Awaitable[tuple[list[float], float]]]
"""Makes calls for ``seconds``; returns the latencies and when its last call ended."""


# ------------------------------------------------------------------ raw websockets + json


async def _raw_server_handler(ws: Any) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for text in ws:
            msg = json.loads(text)
            await ws.send(json.dumps([3, msg[1], {"currentTime": NOW}]))


async def _raw_client(url: str, seconds: float) -> tuple[list[float], float]:
    latencies: list[float] = []
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        n = 0
        end = time.perf_counter() + seconds
        while (t0 := time.perf_counter()) < end:
            n += 1
            await ws.send(json.dumps([2, str(n), "Heartbeat", {}]))
            reply = json.loads(await ws.recv())
            assert reply[1] == str(n)
            latencies.append(time.perf_counter() - t0)
        last = time.perf_counter()
    return latencies, last


# ------------------------------------------------------------------------- this project


async def _session_heartbeat(_: CallReceived) -> dict[str, Any]:
    return {"currentTime": NOW}


async def _session_server_handler(transport: Any) -> None:
    conn = OcppConnection.open(
        transport, role=Role.CSMS, clock=ScaledClock(), handlers={"Heartbeat": _session_heartbeat}
    )
    conn.start()
    await conn.wait_closed()


def _disk_server_handler(folder: Path) -> Callable[[Any], Awaitable[None]]:
    """A CSMS handler that traces to disk as ``CsmsEndpoint`` does in a run."""

    async def handle(transport: Any) -> None:
        sink = TraceSink(folder / f"{transport.station_id}.jsonl", transport.station_id)

        def trace(record: Any) -> None:  # CsmsEndpoint._trace, without the frame index
            if not sink.closed:
                sink.append_record(record)

        conn = OcppConnection.open(
            transport,
            role=Role.CSMS,
            clock=ScaledClock(),
            handlers={"Heartbeat": _session_heartbeat},
            trace_sink=trace,
            keep_trace=False,
        )
        conn.start()
        try:
            await conn.wait_closed()
        finally:
            # The fsync when a trace ends is once per case in a run (write_result); here it
            # runs off the loop, or 100 connections ending would stall the others' calls.
            await asyncio.to_thread(sink.close)

    return handle


async def _session_client(url: str, seconds: float) -> tuple[list[float], float]:
    latencies: list[float] = []
    async with connect_ocpp(url, subprotocols=[OcppSubprotocol.V16]) as transport:
        conn = OcppConnection.open(transport, role=Role.CHARGING_STATION, clock=ScaledClock())
        conn.start()
        end = time.perf_counter() + seconds
        while (t0 := time.perf_counter()) < end:
            result = await conn.call("Heartbeat", {}, timeout_s=30)
            assert result.payload["currentTime"] == NOW
            latencies.append(time.perf_counter() - t0)
        last = time.perf_counter()
        await conn.close()
    return latencies, last


# ------------------------------------------------------------------------ ocpp package


class _OcppCsms(ChargePoint):  # type: ignore[misc]
    @on(Action.heartbeat)  # type: ignore[misc]
    async def on_heartbeat(self) -> Any:
        return result16.Heartbeat(current_time=NOW)


async def _ocpp_server_handler(ws: Any) -> None:
    cp = _OcppCsms("CS", ws)
    with contextlib.suppress(websockets.ConnectionClosed):
        await cp.start()


async def _ocpp_client(url: str, seconds: float) -> tuple[list[float], float]:
    latencies: list[float] = []
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        cp = ChargePoint("CS", ws)
        task = asyncio.create_task(cp.start())
        end = time.perf_counter() + seconds
        while (t0 := time.perf_counter()) < end:
            result = await cp.call(call16.Heartbeat())
            assert result.current_time == NOW
            latencies.append(time.perf_counter() - t0)
        last = time.perf_counter()
        task.cancel()
    return latencies, last


# ---------------------------------------------------------------------------- running


async def _run_row(mode: str, n: int, seconds: float) -> dict[str, float]:
    if mode == "session":
        server_cm: Any = serve_ocpp(_session_server_handler, host=HOST, port=0)
        async with server_cm as server:
            return await _drive(_session_client, [server.url(f"CS{i}") for i in range(n)], seconds)
    if mode == "session_disk":
        with tempfile.TemporaryDirectory() as tmp:
            server_cm = serve_ocpp(_disk_server_handler(Path(tmp)), host=HOST, port=0)
            async with server_cm as server:
                urls = [server.url(f"CS{i}") for i in range(n)]
                return await _drive(_session_client, urls, seconds)
    handler = _raw_server_handler if mode == "raw" else _ocpp_server_handler
    client = _raw_client if mode == "raw" else _ocpp_client
    async with websockets.serve(handler, HOST, 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        return await _drive(client, [f"ws://{HOST}:{port}/CS{i}" for i in range(n)], seconds)


async def _drive(client: Client, urls: list[str], seconds: float) -> dict[str, float]:
    started = time.perf_counter()
    cpu0 = time.process_time()
    per_connection = await asyncio.gather(*(client(url, seconds) for url in urls))
    cpu_s = time.process_time() - cpu0
    # Calls/s over the calling window: until the last call ended, not until every connection
    # closed (the trace's fsync when a connection ends is a per-connection cost, which a
    # 3 s row would otherwise count 100 times in its last moments; its CPU is counted).
    elapsed = max(last for _, last in per_connection) - started
    latencies = sorted(x for lat, _ in per_connection for x in lat)
    calls = len(latencies)
    p99 = latencies[min(calls - 1, int(calls * 0.99))] if calls else float("nan")
    cpu_us = cpu_s / calls * 1e6 if calls else float("nan")
    return {"calls_per_s": calls / elapsed, "p99_ms": p99 * 1000, "calls": calls,
            "cpu_us_per_call": cpu_us}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of one row")
    parser.add_argument("--repeats", type=int, default=3, help="runs per row (medians reported)")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--modes", nargs="+", default=["raw", "session", "session_disk", "ocpp"])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    logging.getLogger("ocpp").setLevel(logging.CRITICAL)
    configure_logging(level="WARNING")

    rows: dict[str, dict[int, list[dict[str, float]]]] = {m: {} for m in args.modes}
    for _ in range(args.repeats):
        for n in args.connections:
            for mode in args.modes:  # interleaved, so drift on a shared machine hits all alike
                rows[mode].setdefault(n, []).append(asyncio.run(_run_row(mode, n, args.seconds)))

    report: dict[str, Any] = {"seconds": args.seconds, "repeats": args.repeats, "rows": []}
    medians: dict[tuple[str, int], float] = {}
    for mode in args.modes:
        for n in args.connections:
            runs = rows[mode][n]
            rate = statistics.median(r["calls_per_s"] for r in runs)
            p99 = statistics.median(r["p99_ms"] for r in runs)
            cpu_us = statistics.median(r["cpu_us_per_call"] for r in runs)
            medians[(mode, n)] = rate
            report["rows"].append({"mode": mode, "connections": n, "calls_per_s": round(rate, 1),
                                   "p99_ms": round(p99, 3),
                                   "cpu_us_per_call": round(cpu_us, 1)})  # fmt: skip
    ratios = []
    for n in args.connections:
        entry: dict[str, Any] = {"connections": n}
        if ("session", n) in medians and ("raw", n) in medians:
            entry["session_over_raw"] = round(medians[("session", n)] / medians[("raw", n)], 3)
        if ("session", n) in medians and ("ocpp", n) in medians:
            entry["session_over_ocpp"] = round(medians[("session", n)] / medians[("ocpp", n)], 3)
        for base in ("raw", "ocpp"):
            if ("session_disk", n) in medians and (base, n) in medians:
                ratio = medians[("session_disk", n)] / medians[(base, n)]
                entry[f"session_disk_over_{base}"] = round(ratio, 3)
        ratios.append(entry)
    report["ratios"] = ratios

    if args.json:
        print(json.dumps(report))
        return 0
    print(f"Heartbeat over loopback, {args.seconds:g} s per row, median of {args.repeats}")
    print(f"{'mode':<13} {'N':>4} {'calls/s':>10} {'p99 ms':>8} {'CPU us/call':>12}")
    for row in report["rows"]:
        print(f"{row['mode']:<13} {row['connections']:>4} {row['calls_per_s']:>10.0f} "
              f"{row['p99_ms']:>8.2f} {row['cpu_us_per_call']:>12.1f}")  # fmt: skip
    for entry in ratios:
        parts = [f"{k}={v:.2f}" for k, v in entry.items() if k != "connections"]
        print(f"N={entry['connections']:>3}: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
