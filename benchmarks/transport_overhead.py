"""Round trips per second: harness.transport against raw websockets, 127.0.0.1 only.

Each of ``--connections`` clients sends ``--messages`` OCPP-J-sized text frames and waits for
each echo. Both stacks run in one process, one after the other, with the same options
(compression on, pings off), ``--repeats`` times; the medians and their ratio are printed.

    python benchmarks/transport_overhead.py --connections 100 --messages 200
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from websockets.asyncio.client import connect as raw_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as raw_serve
from websockets.typing import Subprotocol

from harness.clock import ScaledClock
from harness.transport import (
    OcppSubprotocol,
    TransportClosed,
    WebSocketTransport,
    connect_ocpp,
    serve_ocpp,
)

FRAME = '[2,"{i}","MeterValues",{{"evseId":1,"meterValue":[{{"timestamp":"2025-01-01T00:00:00Z","sampledValue":[{{"value":7360.0}}]}}]}}]'  # noqa: E501


async def run_raw(connections: int, messages: int) -> None:
    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with raw_serve(
        echo, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")], ping_interval=None
    ) as server:
        port = server.sockets[0].getsockname()[1]

        async def client(n: int) -> None:
            async with raw_connect(
                f"ws://127.0.0.1:{port}/CP{n}",
                subprotocols=[Subprotocol("ocpp2.0.1")],
                ping_interval=None,
                proxy=None,
            ) as ws:
                for i in range(messages):
                    await ws.send(FRAME.format(i=i))
                    await ws.recv()

        await asyncio.gather(*(client(n) for n in range(connections)))


async def run_harness(connections: int, messages: int) -> None:
    async def echo(transport: WebSocketTransport) -> None:
        try:
            while True:
                await transport.send(await transport.recv())
        except TransportClosed:
            return

    async with serve_ocpp(echo, ping_interval_s=None) as server:

        async def client(n: int) -> None:
            async with connect_ocpp(
                server.url(f"CP{n}"), subprotocols=[OcppSubprotocol.V201], ping_interval_s=None
            ) as transport:
                for i in range(messages):
                    await transport.send(FRAME.format(i=i))
                    await transport.recv()

        await asyncio.gather(*(client(n) for n in range(connections)))


async def measure(
    run: Callable[[int, int], Awaitable[None]], connections: int, messages: int
) -> float:
    clock = ScaledClock()
    start = clock.monotonic()
    await run(connections, messages)
    return connections * messages / clock.elapsed_since(start)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    raw: list[float] = []
    ours: list[float] = []
    for repeat in range(args.repeats):
        # Alternate which stack goes first so that warm-up favours neither.
        if repeat % 2:
            ours.append(await measure(run_harness, args.connections, args.messages))
            raw.append(await measure(run_raw, args.connections, args.messages))
        else:
            raw.append(await measure(run_raw, args.connections, args.messages))
            ours.append(await measure(run_harness, args.connections, args.messages))
    raw_median, ours_median = statistics.median(raw), statistics.median(ours)
    print(
        f"connections={args.connections} messages/connection={args.messages} repeats={args.repeats}"
    )
    print(f"raw websockets     : {raw_median:10.0f} round trips/s (median)")
    print(f"harness.transport  : {ours_median:10.0f} round trips/s (median)")
    print(f"ratio harness/raw  : {ours_median / raw_median:10.3f}")


if __name__ == "__main__":
    from harness.logs import configure_logging

    configure_logging(level="WARNING")  # keep per-connection log lines out of the figures
    asyncio.run(main())
