"""Latency the recording proxy adds per frame, on 127.0.0.1.

A station client sends OCPP-J-sized text frames one at a time to a CSMS that echoes them,
``--round-trips`` times, first directly and then through the proxy, recording into a
temporary run store (unless ``--no-record``). By default the proxy is the real command,
``python -m harness proxy``, in its own process (as deployed); ``--in-process`` runs a
:class:`RecordingProxy` on the benchmark's own event loop instead, where its work queues
behind the client's and the echo server's.
Each repeat gives the p50/p99 of the round-trip times; the medians over ``--repeats`` are
printed. A round trip through the proxy crosses it twice (one frame each way), so the
latency added per frame is half the difference of the round-trip percentiles.

    python benchmarks/proxy_latency.py --round-trips 2000 --repeats 5 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.clock import Clock, ScaledClock
from harness.proxy import RecordingProxy
from harness.results import Manifest, RunStore
from harness.results.manifest import new_run_id
from harness.transport import (
    OcppSubprotocol,
    TransportClosed,
    TransportError,
    WebSocketTransport,
    connect_ocpp,
    serve_ocpp,
)

ROOT = Path(__file__).resolve().parent.parent
FRAME = '[2,"{i}","MeterValues",{{"connectorId":1,"transactionId":7,"meterValue":[{{"timestamp":"2025-01-01T00:00:00Z","sampledValue":[{{"value":"7360.0"}}]}}]}}]'  # noqa: E501


async def echo(transport: WebSocketTransport) -> None:
    try:
        while True:
            await transport.send(await transport.recv())
    except TransportClosed:
        return


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def round_trips(url: str, count: int, clock: Clock) -> list[float]:
    times: list[float] = []
    async with connect_ocpp(url, subprotocols=[OcppSubprotocol.V16], ping_interval_s=None) as st:
        for i in range(50):  # warm-up
            await st.send(FRAME.format(i=i))
            await st.recv()
        for i in range(count):
            start = clock.monotonic()
            await st.send(FRAME.format(i=i))
            await st.recv()
            times.append(clock.elapsed_since(start))
    return times


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def proxy_process(upstream: str, folder: Path, compression: bool) -> tuple[Any, str]:
    """Start ``python -m harness proxy``; return the process and its base URL once it listens."""
    port = free_port()
    args = ["--listen", f"127.0.0.1:{port}", "--upstream", upstream, "--runs", str(folder)]
    if compression:
        args.append("--compression")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "harness", "proxy", *args,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    base = f"ws://127.0.0.1:{port}"
    async with asyncio.timeout(30):
        while True:
            try:
                async with connect_ocpp(f"{base}/probe", ping_interval_s=None):
                    return process, base
            except TransportError:
                await asyncio.sleep(0.05)


async def one_repeat(
    count: int, *, record: bool, folder: Path, in_process: bool, compression: bool
) -> dict[str, float]:
    clock = ScaledClock()
    async with serve_ocpp(echo, ping_interval_s=None) as server:
        upstream = server.url("x").rpartition("/")[0]
        direct = await round_trips(server.url("CP1"), count, clock)
        if not in_process:
            process, base = await proxy_process(upstream, folder, compression)
            try:
                proxied = await round_trips(f"{base}/CP2", count, clock)
            finally:
                process.send_signal(signal.SIGINT)
                await process.wait()
        else:
            writer = None
            if record:
                manifest = Manifest(
                    run_id=new_run_id(started_at=clock.now()),
                    started_at=clock.now(),
                    target=f"proxy {upstream}",
                    ocpp_versions=(OcppSubprotocol.V16,),
                )
                writer = RunStore.create(folder, manifest)
            proxy = RecordingProxy(
                upstream_url=upstream, writer=writer, clock=clock, compression=compression
            )
            async with proxy:
                proxied = await round_trips(proxy.url("CP2"), count, clock)
            if writer is not None:
                writer.finish(finished_at=clock.now())
    return {
        "direct_p50_s": percentile(direct, 0.50),
        "direct_p99_s": percentile(direct, 0.99),
        "proxy_p50_s": percentile(proxied, 0.50),
        "proxy_p99_s": percentile(proxied, 0.99),
    }


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--no-record", action="store_true", help="Proxy without recording (--in-process only)."
    )
    parser.add_argument(
        "--compression", action="store_true", help="permessage-deflate on the proxy's hops."
    )
    parser.add_argument("--in-process", action="store_true", help="Proxy on this event loop.")
    parser.add_argument("--json", action="store_true", help="One JSON object on stdout.")
    args = parser.parse_args(argv)
    if args.no_record and not args.in_process:
        parser.error("--no-record needs --in-process (the proxy command always records)")
    with tempfile.TemporaryDirectory() as folder:
        runs = [
            await one_repeat(
                args.round_trips,
                record=not args.no_record,
                folder=Path(folder),
                in_process=args.in_process,
                compression=args.compression,
            )
            for _ in range(args.repeats)
        ]
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    us = {key.removesuffix("_s") + "_us": round(value * 1e6, 1) for key, value in median.items()}
    result: dict[str, object] = {
        "round_trips": args.round_trips,
        "repeats": args.repeats,
        "recording": not args.no_record,
        "proxy": "in-process" if args.in_process else "process",
        "compression": args.compression,
        **us,
        "added_per_frame_p50_us": round((us["proxy_p50_us"] - us["direct_p50_us"]) / 2, 1),
        "added_per_frame_p99_us": round((us["proxy_p99_us"] - us["direct_p99_us"]) / 2, 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"round trips={args.round_trips} repeats={args.repeats} "
        f"recording={not args.no_record} proxy={result['proxy']} "
        f"compression={args.compression}"
    )
    rows = [
        ("direct round trip", us["direct_p50_us"], us["direct_p99_us"]),
        ("via proxy", us["proxy_p50_us"], us["proxy_p99_us"]),
        ("added per frame", result["added_per_frame_p50_us"], result["added_per_frame_p99_us"]),
    ]
    for label, p50, p99 in rows:
        print(f"{label:<20} p50 {p50:8.1f} µs   p99 {p99:8.1f} µs")


if __name__ == "__main__":
    from harness.logs import configure_logging

    configure_logging(level="WARNING")
    asyncio.run(main())
