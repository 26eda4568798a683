"""Helpers for transport tests: a server whose connections the test drives by hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from harness.transport import OcppServer, WebSocketTransport, serve_ocpp

WAIT_S = 5.0  # upper bound for any single wait; a passing test never gets near it


class Accepted:
    """Collects the server side of each accepted connection and keeps it open until closed."""

    def __init__(self) -> None:
        self.transports: asyncio.Queue[WebSocketTransport] = asyncio.Queue()
        self.calls = 0

    async def handler(self, transport: WebSocketTransport) -> None:
        self.calls += 1
        await self.transports.put(transport)
        await transport.wait_closed()

    async def next(self) -> WebSocketTransport:
        async with asyncio.timeout(WAIT_S):
            return await self.transports.get()


@asynccontextmanager
async def running_server(**options: Any) -> AsyncIterator[tuple[OcppServer, Accepted]]:
    """A server on 127.0.0.1 with an ephemeral port; connections land in ``Accepted``."""
    accepted = Accepted()
    options.setdefault("ping_interval_s", None)
    async with serve_ocpp(accepted.handler, **options) as server:
        yield server, accepted
