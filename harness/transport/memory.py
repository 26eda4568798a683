"""Two connected transports in one process, with no sockets: for tests and simulations.

:func:`memory_pair` returns the station end and the CSMS end of one connection. Messages are
delivered in order through unbounded :class:`asyncio.Queue` objects; closing either end
closes both, and both then report the same close code and reason, like a WebSocket closing
handshake. Frames sent before the close are still delivered to the other end before its
:meth:`MemoryTransport.recv` raises :class:`~harness.transport.base.TransportClosed`.
"""

from __future__ import annotations

import asyncio
from typing import Final

from harness.transport.base import (
    BinaryFrameReceived,
    OcppSubprotocol,
    TransportClosed,
    fit_close_reason,
)

__all__ = ["MemoryTransport", "memory_pair"]


class _CloseMarker:
    """Queued after the last frame so that a waiting ``recv`` wakes up on close."""


_CLOSE: Final = _CloseMarker()


class MemoryTransport:
    """One end of an in-memory connection; satisfies :class:`~harness.transport.base.Transport`.

    Create pairs with :func:`memory_pair`, not directly.
    """

    def __init__(self, *, station_id: str, subprotocol: OcppSubprotocol, role: str) -> None:
        self._station_id = station_id
        self._subprotocol = subprotocol
        self.role = role
        """``"station"`` or ``"csms"``: which side of the connection this end plays."""
        self._inbox: asyncio.Queue[str | bytes | _CloseMarker] = asyncio.Queue()
        self._peer: MemoryTransport | None = None
        self._close: TransportClosed | None = None
        self._closed_locally = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<MemoryTransport {self.role} {self._station_id!r} {self._subprotocol} {state}>"

    @property
    def subprotocol(self) -> OcppSubprotocol:
        """The subprotocol given to :func:`memory_pair`."""
        return self._subprotocol

    @property
    def station_id(self) -> str:
        """The station id given to :func:`memory_pair`."""
        return self._station_id

    @property
    def closed(self) -> bool:
        """True once either end has called :meth:`close`."""
        return self._close is not None

    @property
    def close_code(self) -> int | None:
        """The close code once closed, else ``None``."""
        return None if self._close is None else self._close.code

    @property
    def close_reason(self) -> str | None:
        """The close reason once closed, else ``None``."""
        return None if self._close is None else self._close.reason

    async def send(self, text: str) -> None:
        """Queue one text message for the other end."""
        self._peer_for_send().put_nowait(text)

    async def send_binary(self, data: bytes) -> None:
        """Queue one binary frame (not OCPP-J: for negative tests of the layer above)."""
        self._peer_for_send().put_nowait(bytes(data))

    async def recv(self) -> str:
        """The next message from the other end, in the order it was sent.

        Raises :class:`TransportClosed` once closed: at once after a local :meth:`close`, after
        the frames still queued when the other end closed.
        """
        if self._closed_locally:
            raise self._closed_error()
        item = await self._inbox.get()
        if isinstance(item, str):
            return item
        if isinstance(item, bytes):
            raise BinaryFrameReceived(item)
        self._inbox.put_nowait(item)  # the close marker: later calls raise too
        raise self._closed_error()

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        """Close both ends with ``code`` and ``reason``; later calls do nothing."""
        if self._close is not None:
            return
        closed = TransportClosed(code, fit_close_reason(reason))
        self._closed_locally = True
        for end in (self, self._peer):
            if end is not None:
                end._close = closed
                end._inbox.put_nowait(_CLOSE)

    def _peer_for_send(self) -> asyncio.Queue[str | bytes | _CloseMarker]:
        if self._close is not None or self._peer is None:
            raise self._closed_error()
        return self._peer._inbox

    def _closed_error(self) -> TransportClosed:
        close = self._close if self._close is not None else TransportClosed(1006, "")
        return TransportClosed(close.code, close.reason)


def memory_pair(
    station_id: str = "CP1", subprotocol: OcppSubprotocol = OcppSubprotocol.V16
) -> tuple[MemoryTransport, MemoryTransport]:
    """A connected ``(station_end, csms_end)`` pair sharing ``station_id`` and ``subprotocol``.

    What one end sends, the other receives, in order. Must be called with a running event loop
    or before the first ``await`` on the ends (queues bind to the loop that uses them).
    """
    if not station_id:
        raise ValueError("memory_pair: station_id must not be empty")
    station = MemoryTransport(
        station_id=station_id, subprotocol=OcppSubprotocol(subprotocol), role="station"
    )
    csms = MemoryTransport(
        station_id=station_id, subprotocol=OcppSubprotocol(subprotocol), role="csms"
    )
    station._peer = csms
    csms._peer = station
    return station, csms
