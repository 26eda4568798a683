"""A minimal CSMS on loopback in its own thread, for tests that run a blocking fleet."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from websockets.asyncio.server import Server

from simulators.fleet.csms import MiniCsms, serve_csms


@pytest.fixture
def csms_port(request: pytest.FixtureRequest) -> Iterator[tuple[MiniCsms, int]]:
    """A MiniCsms (or the one given by indirect parametrization) and its port."""
    csms = getattr(request, "param", None) or MiniCsms()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []
    servers: list[Server] = []

    async def start() -> None:
        server = await serve_csms(csms)
        servers.append(server)
        port.append(server.sockets[0].getsockname()[1])
        ready.set()

    async def close() -> None:
        for server in servers:
            server.close()
            await server.wait_closed()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    assert ready.wait(5)
    yield csms, port[0]
    asyncio.run_coroutine_threadsafe(close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()
