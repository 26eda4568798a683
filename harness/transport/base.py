"""What every transport offers the layers above it: whole text messages, in order.

A transport carries OCPP-J text frames between two peers and knows nothing of OCPP beyond the
negotiated subprotocol and the station id. Implementations: websockets client and server,
and an in-memory pair for tests.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = ["OcppSubprotocol", "Transport", "TransportClosed"]


class OcppSubprotocol(StrEnum):
    """The WebSocket subprotocols of OCPP-J, one per protocol version."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"
    V21 = "ocpp2.1"


class TransportClosed(Exception):
    """The connection is closed; ``code`` and ``reason`` are the WebSocket close details."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"connection closed (code={code}, reason={reason!r})")


@runtime_checkable
class Transport(Protocol):
    """One open connection between the harness and a peer."""

    @property
    def subprotocol(self) -> OcppSubprotocol:
        """The negotiated OCPP subprotocol."""
        ...

    @property
    def station_id(self) -> str:
        """The charging station's identity (the last URL path segment)."""
        ...

    @property
    def closed(self) -> bool:
        """True once either side has closed the connection."""
        ...

    async def send(self, text: str) -> None:
        """Send one text frame; raises :class:`TransportClosed` if the connection is closed."""
        ...

    async def recv(self) -> str:
        """Wait for the next text frame; raises :class:`TransportClosed` when closed."""
        ...

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        """Close the connection (idempotent)."""
        ...
