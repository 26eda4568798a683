"""What every transport offers the layers above it: whole text messages, in order.

A transport carries OCPP-J text frames between two peers and knows nothing of OCPP beyond the
negotiated subprotocol and the station id. Implementations: websockets client and server
(:mod:`harness.transport.ws`), and an in-memory pair for tests
(:mod:`harness.transport.memory`).

Errors, from the caller's point of view:

* :class:`TransportClosed` — the connection is closed (by either side); carries the WebSocket
  close code and reason of the close frame that *started* the closing handshake, so both ends
  see the same pair.
* :class:`BinaryFrameReceived` — the peer sent a binary frame. OCPP-J messages are UTF-8 JSON
  text; a binary frame is the peer's protocol violation, not ours, so it is surfaced (with the
  bytes, as evidence) and the connection stays open: the next :meth:`Transport.recv` goes on.
* :class:`HandshakeRefused` — a client could not open an OCPP-J connection (HTTP refusal, or no
  agreed subprotocol).

All three derive from :class:`TransportError`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

from harness.versions import OcppVersion

__all__ = [
    "MAX_CLOSE_REASON_BYTES",
    "BinaryFrameReceived",
    "DelegatingTransport",
    "HandshakeRefused",
    "OcppSubprotocol",
    "Transport",
    "TransportClosed",
    "TransportError",
    "fit_close_reason",
]

# RFC 6455 section 5.5: control frames carry at most 125 bytes of payload; a close frame spends
# two of them on the status code, which leaves 123 bytes of UTF-8 for the reason.
MAX_CLOSE_REASON_BYTES = 123


class OcppSubprotocol(StrEnum):
    """The WebSocket subprotocols of OCPP-J, one per protocol version."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"
    V21 = "ocpp2.1"

    @classmethod
    def of(cls, version: OcppVersion | str) -> OcppSubprotocol:
        """The subprotocol that carries ``version`` (OCPP-J: ``ocpp`` + the version), given
        as an :class:`OcppVersion` or its text (``"2.0.1"``); ``ValueError`` for another text."""
        return cls(f"ocpp{OcppVersion(version).value}")

    @property
    def version(self) -> OcppVersion:
        """The protocol version this subprotocol stands for."""
        return OcppVersion(self.value.removeprefix("ocpp"))


class TransportError(Exception):
    """Base class of every error a transport raises."""


class TransportClosed(TransportError):
    """The connection is closed; ``code`` and ``reason`` are the WebSocket close details.

    ``code`` is ``1006`` (abnormal closure) when the connection dropped without a close frame,
    and ``None`` only when nothing is known.
    """

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"connection closed (code={code}, reason={reason!r})")


class BinaryFrameReceived(TransportError):
    """The peer sent a binary frame, which OCPP-J does not allow; the connection stays open."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        preview = data[:16].hex()
        more = "…" if len(data) > 16 else ""
        super().__init__(
            f"peer sent a binary frame of {len(data)} bytes ({preview}{more}); "
            "OCPP-J messages must be UTF-8 text frames"
        )


class HandshakeRefused(TransportError):
    """A client could not open an OCPP-J connection.

    ``status_code`` is the HTTP status of the server's answer (``101`` when the server upgraded
    the connection but agreed no OCPP subprotocol, ``None`` when no HTTP answer was read);
    ``reason`` says why, in words, including the server's response body or close reason.
    """

    def __init__(self, url: str, reason: str, *, status_code: int | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status_code = status_code
        status = f"HTTP {status_code}: " if status_code is not None else ""
        super().__init__(f"OCPP-J handshake with {url} refused: {status}{reason}")


def fit_close_reason(reason: str) -> str:
    """``reason`` cut (on a character boundary) to fit in a WebSocket close frame."""
    encoded = reason.encode("utf-8")
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[: MAX_CLOSE_REASON_BYTES - 3].decode("utf-8", errors="ignore") + "..."


@runtime_checkable
class Transport(Protocol):
    """One open connection between the harness and a peer.

    One task may wait in :meth:`recv` while others :meth:`send`; two concurrent ``recv``
    calls on one transport are a caller error.

    A transport may offer two more methods, which :class:`~harness.connection.OcppConnection`
    uses when present (the WebSocket transport does; wrappers and the in-memory pair do not):
    ``async listen(on_message)`` hands each incoming message (``str``, or ``bytes`` for a
    binary frame) to a callback as it arrives, and raises :class:`TransportClosed` at the
    end as :meth:`recv` would; ``send_now(text) -> bool`` sends without awaiting when that
    needs no waiting, and returns False (nothing sent) otherwise.
    """

    @property
    def subprotocol(self) -> OcppSubprotocol:
        """The negotiated OCPP subprotocol."""
        ...

    @property
    def station_id(self) -> str:
        """The charging station's identity (the last URL path segment, percent-decoded)."""
        ...

    @property
    def closed(self) -> bool:
        """True once either side has started closing the connection."""
        ...

    @property
    def close_code(self) -> int | None:
        """Once closed, the code of the close frame that started the close; else ``None``."""
        ...

    @property
    def close_reason(self) -> str | None:
        """Once closed, the reason matching :attr:`close_code`; else ``None``."""
        ...

    async def send(self, text: str) -> None:
        """Send one text frame; raises :class:`TransportClosed` if the connection is closed."""
        ...

    async def recv(self) -> str:
        """Wait for the next text frame.

        Raises :class:`TransportClosed` when closed (after the frames that arrived before the
        close were delivered) and :class:`BinaryFrameReceived` for a binary frame.
        """
        ...

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        """Close the connection (idempotent); a long ``reason`` is cut to 123 bytes."""
        ...


class DelegatingTransport:
    """A :class:`Transport` that passes everything to ``inner``: the base of wrappers that
    change only some of it (a simulated station's faults, a clock translation, a test's
    rewriting). Override :meth:`send` / :meth:`recv` where the wrapper acts."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner

    @property
    def subprotocol(self) -> OcppSubprotocol:
        return self._inner.subprotocol

    @property
    def station_id(self) -> str:
        return self._inner.station_id

    @property
    def closed(self) -> bool:
        return self._inner.closed

    @property
    def close_code(self) -> int | None:
        return self._inner.close_code

    @property
    def close_reason(self) -> str | None:
        return self._inner.close_reason

    async def send(self, text: str) -> None:
        await self._inner.send(text)

    async def recv(self) -> str:
        return await self._inner.recv()

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        await self._inner.close(code=code, reason=reason)
