"""A tiny in-memory transport pair for connection tests (no sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

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


_T = TypeVar("_T", bound="FakeTransport")


def fake_pair(
    subprotocol: OcppSubprotocol = OcppSubprotocol.V16, station_id: str = "CS1"
) -> tuple[FakeTransport, FakeTransport]:
    """``(station_end, csms_end)``."""
    return _pair(FakeTransport, subprotocol, station_id)


def _pair(kind: type[_T], subprotocol: OcppSubprotocol, station_id: str) -> tuple[_T, _T]:
    a = kind(subprotocol, station_id)
    b = kind(subprotocol, station_id)
    a.peer, b.peer = b, a
    return a, b


class ListeningFakeTransport(FakeTransport):
    """As :class:`FakeTransport`, but offering ``listen()`` and ``send_now()`` as
    :class:`~harness.transport.ws.WebSocketTransport` does: each message reaches the
    listener in an event-loop callback of its own (as a socket read would), not in a task.

    Set ``send_now_accepts`` to how many more texts ``send_now`` takes (``None``: all); after
    that it refuses, and the connection must fall back to ``send``.
    """

    def __init__(self, subprotocol: OcppSubprotocol, station_id: str) -> None:
        super().__init__(subprotocol, station_id)
        self._listener: Callable[[str | bytes], None] | None = None
        self._listen_end: asyncio.Future[None] | None = None
        self.send_now_accepts: int | None = None
        self.sent_now: list[str] = []
        self.listened = False

    async def send(self, text: str) -> None:
        if self._closed or self.peer is None:
            raise TransportClosed(1006)
        self._to_peer(text)

    def send_now(self, text: str) -> bool:
        if self._closed or self.peer is None or self.send_now_accepts == 0:
            return False
        if self.send_now_accepts is not None:
            self.send_now_accepts -= 1
        self.sent_now.append(text)
        self._to_peer(text)
        return True

    def _to_peer(self, text: str) -> None:
        self.sent.append(text)
        assert isinstance(self.peer, ListeningFakeTransport)
        self.peer.arrive(text)

    def arrive(self, item: str | None) -> None:
        """``item`` (``None``: the close) reaches this end, in a callback of its own."""
        asyncio.get_running_loop().call_soon(self._deliver, item)

    def _deliver(self, item: str | None) -> None:
        listener, end = self._listener, self._listen_end
        if listener is None or end is None:
            self.inbox.put_nowait(item)
            return
        if item is None:
            self._closed = True
            if not end.done():
                end.set_result(None)
            return
        try:
            listener(item)
        except BaseException as exc:
            self._listener = None
            if not end.done():
                end.set_exception(exc)

    async def listen(self, on_message: Callable[[str | bytes], None]) -> None:
        self.listened = True
        while not self.inbox.empty():
            item = self.inbox.get_nowait()
            if item is None:
                self._closed = True
                raise TransportClosed(1000)
            on_message(item)
        self._listener = on_message
        self._listen_end = asyncio.get_running_loop().create_future()
        try:
            await self._listen_end
        finally:
            self._listener = None
        raise TransportClosed(1000)

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        if not self._closed:
            self._closed = True
            self.arrive(None)
            if isinstance(self.peer, ListeningFakeTransport):
                self.peer.arrive(None)


def listening_fake_pair(
    subprotocol: OcppSubprotocol = OcppSubprotocol.V16, station_id: str = "CS1"
) -> tuple[ListeningFakeTransport, ListeningFakeTransport]:
    """``(station_end, csms_end)`` of :class:`ListeningFakeTransport`."""
    return _pair(ListeningFakeTransport, subprotocol, station_id)
