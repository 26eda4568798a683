"""Latency the recording proxy adds per frame, on 127.0.0.1.

A station client sends OCPP-J-sized text frames one at a time to a CSMS that echoes them,
``--round-trips`` times, first directly and then through a :class:`RecordingProxy` (in the
same process and event loop, recording into a temporary run store unless ``--no-record``).
Each repeat gives the p50/p99 of the round-trip times; the medians over ``--repeats`` are
printed. A round trip through the proxy crosses it twice (one frame each way), so the
latency added per frame is half the difference of the round-trip percentiles.

    python benchmarks/proxy_latency.py --round-trips 2000 --repeats 5 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.clock import Clock, ScaledClock
from harness.proxy import RecordingProxy
from harness.results import Manifest, RunStore
from harness.results.manifest import new_run_id
from harness.transport import (
    OcppSubprotocol,
    TransportClosed,
    WebSocketTransport,
    connect_ocpp,
    serve_ocpp,
)

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


async def one_repeat(count: int, record: bool, folder: Path) -> dict[str, float]:
    clock = ScaledClock()
    async with serve_ocpp(echo, ping_interval_s=None) as server:
        upstream = server.url("x").rpartition("/")[0]
        writer = None
        if record:
            manifest = Manifest(
                run_id=new_run_id(started_at=clock.now()),
                started_at=clock.now(),
                target=f"proxy {upstream}",
                ocpp_versions=(OcppSubprotocol.V16,),
            )
            writer = RunStore.create(folder, manifest)
        direct = await round_trips(server.url("CP1"), count, clock)
        async with RecordingProxy(upstream_url=upstream, writer=writer, clock=clock) as proxy:
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
    parser.add_argument("--no-record", action="store_true", help="Proxy without recording.")
    parser.add_argument("--json", action="store_true", help="One JSON object on stdout.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        runs = [
            await one_repeat(args.round_trips, not args.no_record, Path(folder))
            for _ in range(args.repeats)
        ]
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    us = {key.removesuffix("_s") + "_us": round(value * 1e6, 1) for key, value in median.items()}
    result: dict[str, object] = {
        "round_trips": args.round_trips,
        "repeats": args.repeats,
        "recording": not args.no_record,
        **us,
        "added_per_frame_p50_us": round((us["proxy_p50_us"] - us["direct_p50_us"]) / 2, 1),
        "added_per_frame_p99_us": round((us["proxy_p99_us"] - us["direct_p99_us"]) / 2, 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"round trips={args.round_trips} repeats={args.repeats} recording={not args.no_record}")
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
