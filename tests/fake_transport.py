"""A tiny in-memory transport pair for connection tests (no sockets)."""

from __future__ import annotations

import asyncio

from harness.transport.base import OcppSubprotocol, TransportClosed


class FakeTransport:
    """One end of a queue pair; ``sent`` keeps every text this end sent."""

    def __init__(self, subprotocol: OcppSubprotocol, station_id: str) -> None:
        self._subprotocol = subprotocol
        self._station_id = station_id
        self.inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.peer: FakeTransport | None = None
        self._closed = False
        self.sent: list[str] = []

    @property
    def subprotocol(self) -> OcppSubprotocol:
        return self._subprotocol

    @property
    def station_id(self) -> str:
        return self._station_id

    @property
    def closed(self) -> bool:
        return self._closed

    async def send(self, text: str) -> None:
        if self._closed or self.peer is None:
            raise TransportClosed(1006)
        self.sent.append(text)
        self.peer.inbox.put_nowait(text)

    async def recv(self) -> str:
        if self._closed and self.inbox.empty():
            raise TransportClosed(1000)
        item = await self.inbox.get()
        if item is None:
            self._closed = True
            raise TransportClosed(1000)
        return item

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        if not self._closed:
            self._closed = True
            self.inbox.put_nowait(None)
            if self.peer is not None:
                self.peer.inbox.put_nowait(None)


def fake_pair(
    subprotocol: OcppSubprotocol = OcppSubprotocol.V16, station_id: str = "CS1"
) -> tuple[FakeTransport, FakeTransport]:
    """``(station_end, csms_end)``."""
    a = FakeTransport(subprotocol, station_id)
    b = FakeTransport(subprotocol, station_id)
    a.peer, b.peer = b, a
    return a, b
