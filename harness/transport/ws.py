"""OCPP-J over WebSocket: the connection wrapper and the client (the station's side).

Built on the ``websockets`` library's asyncio API. :class:`WebSocketTransport` is a thin
adapter: ``send``/``recv`` call straight into websockets (no extra task, lock, queue or copy
per message); only the exceptions are translated:

* websockets' ``ConnectionClosed`` (OK or Error) becomes
  :class:`~harness.transport.base.TransportClosed` with the code and reason of the close frame
  that started the closing handshake (the peer's if it closed first, ours otherwise; ``1006``
  when the TCP connection dropped without any close frame), so both ends report the same pair.
* A binary frame becomes :class:`~harness.transport.base.BinaryFrameReceived` carrying the
  bytes; the connection stays open. OCPP-J messages are UTF-8 JSON text frames, so a binary
  frame is the peer's violation: the session layer records it as evidence and decides.

The server lives in :mod:`harness.transport.ws_server`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl as ssl_lib
from collections.abc import Callable, Generator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.messages import MAX_FRAGMENTS
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import Event, State
from websockets.typing import Subprotocol

from harness import __version__
from harness.logs import get_logger
from harness.transport.base import (
    BinaryFrameReceived,
    HandshakeRefused,
    OcppSubprotocol,
    TransportClosed,
    TransportError,
    fit_close_reason,
)
from harness.transport.limits import (
    RATE_LIMIT_CLOSE_CODE,
    SIZE_LIMIT_CLOSE_CODE,
    IncomingRateLimit,
)

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "USER_AGENT",
    "MessageListener",
    "OcppClientConnection",
    "OcppServerConnection",
    "WebSocketTransport",
    "connect_ocpp",
    "station_id_from_path",
]

DEFAULT_MAX_FRAME_BYTES: Final = 4 * 1024 * 1024
"""Largest incoming message accepted (4 MiB), after reassembly and decompression.

OCPP does not bound message size. Real messages stay far below this, but a harness must not
cut off a DUT that sends a large but legitimate message (a big NotifyReport, SendLocalList or
certificate chain): 4 MiB leaves two orders of magnitude of headroom while still bounding the
memory one misbehaving peer can take. A larger message closes the connection with 1009.
"""

USER_AGENT: Final = f"ocpp-harness/{__version__}"

POLICY_CLOSE_WAIT_S: Final = 1.0
"""Wall seconds a close for a limit or policy waits for the peer's close frame before the
TCP connection is dropped (see :meth:`WebSocketTransport.close_for_policy`)."""


def station_id_from_path(path: str) -> str | None:
    """The station id in a request path: its last segment, percent-decoded.

    The query string, if any, is ignored. Returns ``None`` when the last segment is empty
    (``/`` or ``/ocpp/``). Raises :class:`UnicodeDecodeError` when the percent-encoded bytes
    are not UTF-8.
    """
    segment = path.partition("?")[0].rpartition("/")[2]
    if not segment:
        return None
    return unquote(segment, errors="strict")


def transport_closed_from(exc: ConnectionClosed) -> TransportClosed:
    """The :class:`TransportClosed` for a websockets ``ConnectionClosed``.

    Reports the close frame that started the closing handshake: the received one if the peer
    closed first (or we never sent one), the sent one if we did; 1006 if neither exists.
    """
    rcvd, sent = exc.rcvd, exc.sent
    if rcvd is not None and (sent is None or exc.rcvd_then_sent):
        return TransportClosed(rcvd.code, rcvd.reason)
    if sent is not None:
        return TransportClosed(sent.code, sent.reason)
    return TransportClosed(CloseCode.ABNORMAL_CLOSURE, "")


MessageListener = Callable[[str | bytes], None]
"""Takes one complete incoming message: ``str`` for a text frame, ``bytes`` for a binary one."""


class _Inbox:
    """The complete data messages of one connection, assembled by us from its frames.

    websockets hands every frame to :meth:`frame` (see :class:`_OcppWire`) instead of to its
    own queue. A message either waits here for :meth:`get` (what
    :meth:`WebSocketTransport.recv` awaits), or, once a listener is set (:meth:`listen`), is
    handed to it at once, inside the event loop's callback that read it from the socket: the
    receiver then needs no task of its own to wake, which is what an OCPP session wants.

    Reassembly, the UTF-8 check and flow control are those of websockets' own queue: a
    fragmented message is joined (at most ``MAX_FRAGMENTS`` frames, else close 1009), a text
    message that is not UTF-8 closes the connection with 1007, and reading from the socket
    pauses while more than ``high`` messages wait unread (resumes at ``low``). The size limit
    is enforced before, by the protocol (close 1009).
    """

    __slots__ = (
        "_conn",
        "_ended",
        "_fragment_text",
        "_fragments",
        "_listen_end",
        "_listener",
        "_lost",
        "_messages",
        "_paused",
        "_stopping",
        "_waiter",
    )

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._messages: collections.deque[str | bytes] = collections.deque()
        self._fragments: list[bytes | bytearray | memoryview] | None = None
        self._fragment_text = False
        self._waiter: asyncio.Future[None] | None = None
        self._listener: MessageListener | None = None
        self._listen_end: asyncio.Future[None] | None = None
        self._ended = False  # no more messages: the connection is lost or we failed it
        self._lost = False  # the TCP connection is gone (close codes are final)
        self._paused = False
        self._stopping: asyncio.Task[None] | None = None

    # ----------------------------------------------------------- from websockets

    def frame(self, frame: Frame) -> None:
        """One incoming data frame (text, binary or continuation)."""
        if self._ended:
            return
        opcode = frame.opcode
        data: bytes | bytearray | memoryview
        if opcode is Opcode.CONT:
            fragments = self._fragments
            if fragments is None:  # the protocol rejects this before; never reached
                return
            if len(fragments) >= MAX_FRAGMENTS:
                self._fail(CloseCode.MESSAGE_TOO_BIG, "too many fragments", None)
                return
            fragments.append(frame.data)
            if not frame.fin:
                return
            self._fragments = None
            data = b"".join(fragments)
            text = self._fragment_text
        elif not frame.fin:
            self._fragments = [frame.data]
            self._fragment_text = opcode is Opcode.TEXT
            return
        else:
            data = frame.data
            text = opcode is Opcode.TEXT
        message: str | bytes
        if text:
            try:
                message = data.decode() if type(data) is bytes else bytes(data).decode()
            except UnicodeDecodeError as exc:
                self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}", exc)
                return
        else:
            message = bytes(data)
        listener = self._listener
        if listener is not None:
            listener(message)
            return
        self._messages.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        high = self._conn.max_queue_high
        if high is not None and len(self._messages) > high and not self._paused:
            self._paused = True
            self._conn.transport.pause_reading()

    def lost(self) -> None:
        """The connection is closed: no message comes any more."""
        self._ended = self._lost = True
        self._wake()

    # --------------------------------------------------------------- to readers

    async def get(self) -> str | bytes | None:
        """The next message; ``None`` once the connection is closed and all were read."""
        while not self._messages:
            if self._lost:
                return None
            if self._waiter is not None:
                raise RuntimeError("two coroutines wait in recv() on one connection")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = self._messages.popleft()
        low = self._conn.max_queue_low
        if self._paused and (low is None or len(self._messages) <= low):
            self._paused = False
            self._conn.transport.resume_reading()
        return message

    def listen(self, listener: MessageListener) -> asyncio.Future[None]:
        """Hand the waiting messages to ``listener``, then every new one as it arrives.

        Returns a future that is done when the connection is closed; :meth:`stop` ends it
        earlier (then with the exception given there).
        """
        if self._listener is not None or self._waiter is not None:
            raise RuntimeError("a connection has one reader: it is already being read")
        end = asyncio.get_running_loop().create_future()
        self._listen_end = end
        while self._messages and not end.done():
            listener(self._messages.popleft())
        if self._paused:
            self._paused = False
            self._conn.transport.resume_reading()
        if self._lost:
            self._wake()
        elif not end.done():
            self._listener = listener
        return end

    def stop(self, exc: BaseException | None = None) -> None:
        """Stop handing messages to the listener (the rest are dropped): its future ends,
        with ``exc`` if given."""
        self._listener = None
        self._ended = True
        end = self._listen_end
        if end is not None and not end.done():
            if exc is None:
                end.set_result(None)
            else:
                end.set_exception(exc)

    def unlisten(self) -> None:
        """The listener is gone (its reader was cancelled): keep messages for :meth:`get`."""
        self._listener = None
        self._listen_end = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        end = self._listen_end
        if end is not None and not end.done() and self._lost:
            end.set_result(None)

    def _fail(self, code: CloseCode, reason: str, exc: BaseException | None) -> None:
        """Close the connection for a message we cannot take, as websockets' own recv would:
        readers see the close once the closing handshake is over."""
        self._ended = True
        self._listener = None
        conn = self._conn
        if exc is not None:
            conn.set_connection_exc(exc)
        loop = asyncio.get_running_loop()
        self._stopping = loop.create_task(_fail_connection(conn, code, reason))


async def _fail_connection(conn: Connection, code: CloseCode, reason: str) -> None:
    with contextlib.suppress(ConnectionClosed):
        async with conn.send_context():
            conn.protocol.fail(code, reason)


class _OcppWire:
    """Mixed into websockets' connection classes: data frames go to our :class:`_Inbox`
    (``ocpp_inbox``), everything else (handshake, ping, pong, close) to websockets."""

    ocpp_inbox: _Inbox

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.ocpp_inbox = _Inbox(self)  # type: ignore[arg-type]

    def process_event(self, event: Event) -> None:
        if type(event) is Frame and event.opcode in _DATA_OPCODES:
            self.ocpp_inbox.frame(event)
        else:
            super().process_event(event)  # type: ignore[misc]

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)  # type: ignore[misc]
        self.ocpp_inbox.lost()


_DATA_OPCODES: Final = frozenset((Opcode.TEXT, Opcode.BINARY, Opcode.CONT))


class OcppClientConnection(_OcppWire, ClientConnection):
    """websockets' client connection with our message inbox (see :class:`_Inbox`)."""


class OcppServerConnection(_OcppWire, ServerConnection):
    """websockets' server connection with our message inbox (see :class:`_Inbox`)."""


class WebSocketTransport:
    """One OCPP-J WebSocket connection; satisfies :class:`~harness.transport.base.Transport`.

    Made by :func:`connect_ocpp` (client) or handed to the handler of
    :func:`~harness.transport.ws_server.serve_ocpp` (server). ``async with transport:``
    closes it on exit.
    """

    def __init__(
        self,
        connection: OcppClientConnection | OcppServerConnection,
        *,
        station_id: str,
        subprotocol: OcppSubprotocol,
        request_path: str,
        request_headers: Mapping[str, str],
        max_messages_per_s: float | None = None,
    ) -> None:
        self._ws = connection
        self._inbox = connection.ocpp_inbox
        self._rate = (
            IncomingRateLimit(max_messages_per_s) if max_messages_per_s is not None else None
        )
        self.policy_close: str | None = None
        """Why the harness closed this connection under one of its limits or policies (the
        size or rate limit, or a newer connection of the same station); ``None`` otherwise.
        Read it with :func:`~harness.transport.limits.policy_close_reason`."""
        self._station_id = station_id
        self._subprotocol = subprotocol
        self.request_path = request_path
        """Path (and query) of the opening HTTP request."""
        self.request_headers = request_headers
        """Headers of the opening HTTP request (sent by the station; case-insensitive)."""

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<WebSocketTransport {self._station_id!r} {self._subprotocol} {state}>"

    @property
    def subprotocol(self) -> OcppSubprotocol:
        """The negotiated OCPP subprotocol."""
        return self._subprotocol

    @property
    def station_id(self) -> str:
        """The station id: last segment of the URL path, percent-decoded."""
        return self._station_id

    @property
    def closed(self) -> bool:
        """True once either side has started the closing handshake (or the link dropped)."""
        return self._ws.state is not State.OPEN

    @property
    def remote_address(self) -> Any:
        """The peer's socket address (``(host, port)`` for IPv4), as asyncio reports it."""
        return self._ws.remote_address

    @property
    def close_code(self) -> int | None:
        """Close code of the frame that started the close, once fully closed; else ``None``."""
        closed = self._close_details()
        return None if closed is None else closed.code

    @property
    def close_reason(self) -> str | None:
        """Close reason matching :attr:`close_code`; ``None`` until fully closed."""
        closed = self._close_details()
        return None if closed is None else closed.reason

    async def send(self, text: str) -> None:
        """Send ``text`` as one text frame."""
        try:
            await self._ws.send(text)
        except ConnectionClosed as exc:
            raise transport_closed_from(exc) from None

    async def send_binary(self, data: bytes) -> None:
        """Send one binary frame (not OCPP-J: for negative tests against a DUT)."""
        try:
            await self._ws.send(bytes(data))
        except ConnectionClosed as exc:
            raise transport_closed_from(exc) from None

    def send_now(self, text: str) -> bool:
        """Send ``text`` as one text frame at once, without awaiting, when that can be done
        the way :meth:`send` would do it without suspending: the connection is open and the
        socket's write buffer is below its limit. Returns False (nothing sent) otherwise;
        then :meth:`send` it."""
        ws = self._ws
        if ws.protocol.state is not State.OPEN or ws.paused or ws.transport.is_closing():
            return False
        ws.protocol.send_text(text.encode())
        try:
            ws.send_data()
        except Exception as exc:  # as send(): the connection is dropped, readers see it
            ws.set_connection_exc(exc)
            ws.transport.abort()
        return True

    async def recv(self) -> str:
        """The next text frame; see :class:`~harness.transport.base.Transport`.

        A message over the size limit closes the connection with 1009, one over the rate
        limit with 1008; both raise :class:`TransportClosed` and set :attr:`policy_close`.
        """
        message = await self._inbox.get()
        if message is None:
            raise self._closed_now()
        if self._rate is not None and not self._rate.admit(asyncio.get_running_loop().time()):
            raise await self._close_for_rate()
        if isinstance(message, str):
            return message
        raise BinaryFrameReceived(message)

    async def listen(self, on_message: MessageListener) -> None:
        """Hand every incoming message to ``on_message`` until the connection closes, then
        raise :class:`TransportClosed` as :meth:`recv` would.

        A text frame comes as ``str``, a binary one as ``bytes``. ``on_message`` runs inside
        the event loop's callback that read the message from the socket, before anything
        else happens on the loop: no task is woken per message (what :meth:`recv` costs), so
        it must not block. Messages that arrived before are handed over first, from here.
        If ``on_message`` raises, listening stops and the exception is raised here. The
        rate limit applies as in :meth:`recv`; listening is exclusive with :meth:`recv`.
        """
        inbox = self._inbox
        rate = self._rate
        time = asyncio.get_running_loop().time
        over_rate = False

        def deliver(message: str | bytes) -> None:
            nonlocal over_rate
            if rate is not None and not rate.admit(time()):
                over_rate = True
                inbox.stop()
                return
            try:
                on_message(message)
            except BaseException as exc:
                inbox.stop(exc)

        try:
            await inbox.listen(deliver)
        finally:
            inbox.unlisten()
        if over_rate:
            raise await self._close_for_rate()
        raise self._closed_now()

    def _closed_now(self) -> TransportClosed:
        exc = self._ws.protocol.close_exc
        self._note_size_limit(exc)
        return transport_closed_from(exc)

    async def _close_for_rate(self) -> TransportClosed:
        assert self._rate is not None
        reason = f"incoming rate limit exceeded: more than {self._rate.describe()}"
        await self.close_for_policy(reason, code=RATE_LIMIT_CLOSE_CODE)
        return TransportClosed(RATE_LIMIT_CLOSE_CODE, fit_close_reason(reason))

    def _note_size_limit(self, exc: ConnectionClosed) -> None:
        sent = exc.sent
        if (
            self.policy_close is None
            and sent is not None
            and sent.code == SIZE_LIMIT_CLOSE_CODE
            and (exc.rcvd is None or not exc.rcvd_then_sent)
        ):
            limit = self._ws.protocol.max_message_size
            self.policy_close = (
                f"the peer sent a message over the size limit of {limit} bytes ({sent.reason})"
            )

    async def close(self, *, code: int = 1000, reason: str = "") -> None:
        """Start (or join) the closing handshake and wait for it to end (idempotent)."""
        await self._ws.close(code, fit_close_reason(reason))

    async def close_for_policy(self, reason: str, *, code: int) -> None:
        """Close because of a limit or policy of the harness; remembered in
        :attr:`policy_close` (the first reason wins).

        The close frame is sent, but the closing handshake is awaited at most
        :data:`POLICY_CLOSE_WAIT_S`: a flooding peer's close frame may sit behind thousands of
        unread messages, so then the TCP connection is dropped.
        """
        if self.policy_close is None and not self.closed:
            self.policy_close = reason
        try:
            async with asyncio.timeout(POLICY_CLOSE_WAIT_S):
                await self.close(code=code, reason=reason)
        except TimeoutError:
            self._ws.transport.abort()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed, by either side."""
        await self._ws.wait_closed()

    async def __aenter__(self) -> WebSocketTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _close_details(self) -> TransportClosed | None:
        if self._ws.state is not State.CLOSED:
            return None
        return transport_closed_from(self._ws.protocol.close_exc)


class connect_ocpp:
    """Open an OCPP-J connection to ``url`` as a charging station would.

    Either ``async with connect_ocpp(url) as transport: ...`` (closed on exit) or
    ``transport = await connect_ocpp(url)`` (the caller closes it).

    ``url`` is ``ws://`` or ``wss://`` and ends with the percent-encoded station id
    (``ws://127.0.0.1:9000/ocpp/CP%201``). ``subprotocols`` are offered in order of
    preference; plain strings may be offered for negative tests, and an empty sequence sends no
    ``Sec-WebSocket-Protocol`` header. ``ssl`` is the TLS context for ``wss://`` (``None`` uses
    the system default there). Durations are seconds; ``None`` disables a timeout or the
    keepalive pings; ``close_timeout_s`` also bounds the wait for the server's close frame
    after a 101 without subprotocol. ``max_frame_bytes`` bounds incoming messages (``None``: no
    limit); ``max_messages_per_s`` bounds their rate (a token bucket with bursts of one
    second's worth; ``None``, the default: no limit) — over it, the connection closes with 1008.

    Raises :class:`~harness.transport.base.HandshakeRefused` when the server refuses (any
    non-101 answer; its body is in the reason) or does not agree to one of the offered OCPP
    subprotocols, :class:`~harness.transport.base.TransportError` when the server cannot be
    reached or the handshake times out, and :class:`ValueError` for a bad URL.
    """

    def __init__(
        self,
        url: str,
        *,
        subprotocols: Sequence[OcppSubprotocol | str] = (OcppSubprotocol.V16,),
        ssl: ssl_lib.SSLContext | None = None,
        extra_headers: Mapping[str, str] | None = None,
        open_timeout_s: float | None = 10.0,
        close_timeout_s: float | None = 10.0,
        ping_interval_s: float | None = 20.0,
        ping_timeout_s: float | None = 20.0,
        max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES,
        max_messages_per_s: float | None = None,
        compression: bool = True,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise ValueError(f"connect_ocpp: url {url!r} must start with ws:// or wss://")
        if ssl is not None and parts.scheme == "ws":
            raise ValueError(
                f"connect_ocpp: an ssl context is incompatible with a ws:// URL ({url})"
            )
        station_id = station_id_from_path(parts.path)
        if station_id is None:
            raise ValueError(
                f"connect_ocpp: url {url!r} has no station id: expected ws://host:port/…/{{id}}"
            )
        self.url = url
        self.station_id = station_id
        self.subprotocols = tuple(str(p) for p in subprotocols)
        self._options: dict[str, Any] = {
            "subprotocols": [Subprotocol(p) for p in self.subprotocols] or None,
            "additional_headers": dict(extra_headers) if extra_headers else None,
            "user_agent_header": USER_AGENT,
            "proxy": None,  # never route through a proxy from the environment
            "compression": "deflate" if compression else None,
            "open_timeout": open_timeout_s,
            "close_timeout": close_timeout_s,
            "ping_interval": ping_interval_s,
            "ping_timeout": ping_timeout_s,
            "max_size": max_frame_bytes,
            "create_connection": OcppClientConnection,
        }
        if ssl is not None:
            self._options["ssl"] = ssl
        self._close_wait_s = close_timeout_s
        self._max_messages_per_s = max_messages_per_s
        self._transport: WebSocketTransport | None = None

    def __await__(self) -> Generator[Any, None, WebSocketTransport]:
        return self._open().__await__()

    async def __aenter__(self) -> WebSocketTransport:
        if self._transport is not None:
            raise RuntimeError("connect_ocpp(...) is not reentrant; call it again instead")
        self._transport = await self._open()
        return self._transport

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close()

    async def _open(self) -> WebSocketTransport:
        try:
            ws = await ws_connect(self.url, **self._options)
        except InvalidStatus as exc:
            response = exc.response
            body = response.body.decode("utf-8", errors="replace").strip()
            raise HandshakeRefused(
                self.url, body or response.reason_phrase, status_code=response.status_code
            ) from None
        except InvalidURI as exc:
            raise ValueError(f"connect_ocpp: {exc}") from None
        except InvalidHandshake as exc:
            raise HandshakeRefused(self.url, str(exc)) from exc
        except (OSError, TimeoutError) as exc:
            raise TransportError(f"could not connect to {self.url}: {exc}") from exc
        try:
            subprotocol = await self._check_subprotocol(ws)
        except BaseException:
            ws.transport.abort()  # already closed after a refusal; dropped if cancelled
            raise
        get_logger("transport.ws").debug(
            "connected", url=self.url, station_id=self.station_id, subprotocol=subprotocol
        )
        assert isinstance(ws, OcppClientConnection)  # the create_connection option
        return WebSocketTransport(
            ws,
            station_id=self.station_id,
            subprotocol=subprotocol,
            request_path=ws.request.path if ws.request is not None else "",
            request_headers=ws.request.headers if ws.request is not None else {},
            max_messages_per_s=self._max_messages_per_s,
        )

    async def _check_subprotocol(self, ws: ClientConnection) -> OcppSubprotocol:
        offered = ", ".join(self.subprotocols) or "none"
        chosen = ws.subprotocol
        if chosen is None:
            # OCPP-J 1.6 §3.2 and OCPP 2.0.1 Part 4 §3.2: a server that does not agree to any
            # offered subprotocol completes the handshake without Sec-WebSocket-Protocol and
            # closes at once. Wait briefly for its close frame: its reason is the evidence.
            try:
                async with asyncio.timeout(self._close_wait_s):
                    await ws.wait_closed()
            except TimeoutError:
                pass
            await ws.close(CloseCode.PROTOCOL_ERROR, "no OCPP subprotocol agreed")
            said = transport_closed_from(ws.protocol.close_exc)
            raise HandshakeRefused(
                self.url,
                f"server agreed to none of the offered subprotocols ({offered}); "
                f"close code {said.code}, reason {said.reason!r}",
                status_code=101,
            )
        try:
            return OcppSubprotocol(chosen)
        except ValueError:
            await ws.close(CloseCode.PROTOCOL_ERROR, f"{chosen} is not an OCPP-J subprotocol")
            raise HandshakeRefused(
                self.url,
                f"server selected {chosen!r}, not an OCPP-J subprotocol (offered: {offered})",
                status_code=101,
            ) from None
