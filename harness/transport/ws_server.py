"""OCPP-J over WebSocket: the server (the CSMS's side).

``async with serve_ocpp(handler, port=0) as server:`` listens on 127.0.0.1; each charging
station that connects to ``server.url("CP1")`` gets a
:class:`~harness.transport.ws.WebSocketTransport` passed to ``await handler(transport)``. When
the handler returns, the connection is closed (1000); if it raises, the error is logged and the
connection closed with 1011.

The opening handshake is checked in this order, each refusal logged as a
``handshake_refused`` event and answered with a plain-text body that says what was wrong:

1. Path. The station id is the last path segment, percent-decoded. With a ``path_prefix`` the
   path must be exactly ``{path_prefix}/{stationId}``. A missing id or an unknown prefix gets
   HTTP 404 (OCPP-J §3.2: an unrecognised identity in the path SHOULD get 404), an id that is
   not valid percent-encoded UTF-8 gets HTTP 400.
   With ``admit_station`` (a run that belongs to one station), an id it refuses gets HTTP 404
   too (the harness does not know that station in this run).
2. ``authorize(station_id, request_headers)`` and then ``authorize_handshake(request)``
   (which also sees the verified TLS client certificate), if given: a returned string refuses with
   HTTP 401 (with a ``WWW-Authenticate: Basic`` header) and that string as the body; ``None``
   accepts. Security profiles build on this hook. Failed attempts are slowed down per
   station id and per address (:class:`~harness.transport.limits.AuthThrottle`): after a
   failure, the next attempt is answered only after a growing delay (0.25 s, doubling, at
   most 5 s). The refusal text never repeats what the client presented as credentials.
3. Subprotocol. The server supports ``subprotocols`` (default: all three, newest first) and
   picks the first of them, in *its* order, that the client offers. When the client offers
   none of them, or sends no ``Sec-WebSocket-Protocol`` header at all (OCPP-J §3.1.2: the
   version MUST be given), the answer depends on ``on_mismatch`` (a malformed header always
   gets HTTP 400):

   * :attr:`SubprotocolMismatch.CLOSE_AFTER_HANDSHAKE` (default). OCPP-J 1.6 §3.2 and OCPP
     2.0.1 Part 4 §3.2 both say: "If the [CSMS] does not agree to using one of the
     subprotocols offered by the client, it MUST complete the WebSocket handshake with a
     response without a Sec-WebSocket-Protocol header and then immediately close the WebSocket
     connection." So: 101 without the header, then close code 1002 (protocol error) with a
     reason naming what was offered and what is supported. The handler is not called.
   * :attr:`SubprotocolMismatch.REJECT_HTTP`. Refuse the upgrade with HTTP 400 and the same
     text as body. The OCA test tool's TC_B_58_CSMS expects this ("rejects the connection and
     does NOT upgrade"), and it is what plain websockets servers do; offered so the harness can
     play either kind of CSMS.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl as ssl_lib
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final
from urllib.parse import quote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.frames import CloseCode
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from harness.logs import get_logger
from harness.transport.base import OcppSubprotocol, TransportClosed, fit_close_reason
from harness.transport.limits import AuthThrottle
from harness.transport.ws import (
    DEFAULT_MAX_FRAME_BYTES,
    USER_AGENT,
    OcppServerConnection,
    WebSocketTransport,
    station_id_from_path,
)

__all__ = [
    "DEFAULT_SUBPROTOCOLS",
    "Authorizer",
    "ConnectionHandler",
    "HandshakeAuthorizer",
    "HandshakeRequest",
    "OcppServer",
    "Refused",
    "SubprotocolMismatch",
    "serve_ocpp",
]

DEFAULT_SUBPROTOCOLS: Final = (OcppSubprotocol.V21, OcppSubprotocol.V201, OcppSubprotocol.V16)

ConnectionHandler = Callable[[WebSocketTransport], Awaitable[None]]
"""Called once per accepted connection; the connection closes when it returns."""

Authorizer = Callable[[str, Headers], str | Awaitable[str | None] | None]
"""``(station_id, request_headers) -> refusal reason, or None to accept``; may be async."""


@dataclass(frozen=True, slots=True)
class HandshakeRequest:
    """What :data:`HandshakeAuthorizer` sees of an opening handshake.

    ``peer_certificate`` is the client certificate as :meth:`ssl.SSLSocket.getpeercert`
    returns it (``subject``, ``issuer``, ``notAfter``, ...): present only on a TLS connection
    whose client sent a certificate that the server's SSL context *verified*; ``None``
    otherwise. ``tls`` tells whether the connection is TLS at all.
    """

    station_id: str
    headers: Headers
    tls: bool
    peer_certificate: Mapping[str, object] | None
    remote_address: object


HandshakeAuthorizer = Callable[[HandshakeRequest], str | Awaitable[str | None] | None]
"""Like :data:`Authorizer`, but sees the TLS side too (security profile 3 needs the client
certificate); returns a refusal reason (HTTP 401) or ``None`` to accept; may be async."""


@dataclass(frozen=True, slots=True)
class Refused:
    """A refused opening handshake, as :data:`RefusalHook` sees it: HTTP ``status``, the
    station id when it could be read, the client address, the reason (never a credential),
    and the delay the :class:`~harness.transport.limits.AuthThrottle` held the answer back
    (seconds) with the failures counted against the id/address so far (401 only)."""

    status: int
    station_id: str | None
    remote: str
    reason: str
    delay_s: float = 0.0
    failures: int = 0


RefusalHook = Callable[[Refused], None]
"""Told of every refused handshake (e.g. to record it in the run folder)."""

StationAdmission = Callable[[str], str | None]
"""``station_id -> refusal reason (HTTP 404), or None to go on``."""


class SubprotocolMismatch(StrEnum):
    """What the server does when client and server share no OCPP subprotocol."""

    CLOSE_AFTER_HANDSHAKE = "close-after-handshake"
    """101 without Sec-WebSocket-Protocol, then close 1002 (OCPP-J §3.2, the MUST)."""
    REJECT_HTTP = "reject-http"
    """HTTP 400, no upgrade (what the OCA test tool's TC_B_58_CSMS expects)."""


def offered_subprotocols(headers: Headers) -> list[str]:
    """Subprotocols offered in the request's ``Sec-WebSocket-Protocol`` headers, in order."""
    offered: list[str] = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        offered.extend(parse_subprotocol(value))
    return offered


def _mismatch_text(offered: Sequence[str], supported: Sequence[str]) -> str:
    listed = ", ".join(supported)
    if not offered:
        return f"no Sec-WebSocket-Protocol offered; supported: {listed}"
    return f"no common OCPP subprotocol; offered: {', '.join(offered)}; supported: {listed}"


class OcppServer:
    """A listening OCPP-J server; create it with :func:`serve_ocpp`."""

    def __init__(
        self,
        handler: ConnectionHandler,
        *,
        host: str,
        port: int,
        subprotocols: Sequence[OcppSubprotocol],
        path_prefix: str | None,
        ssl: ssl_lib.SSLContext | None,
        authorize: Authorizer | None,
        on_mismatch: SubprotocolMismatch,
        options: dict[str, Any],
        authorize_handshake: HandshakeAuthorizer | None = None,
        max_messages_per_s: float | None = None,
        admit_station: StationAdmission | None = None,
        on_refused: RefusalHook | None = None,
        auth_throttle: AuthThrottle | None = None,
    ) -> None:
        self._handler = handler
        self.admit_station = admit_station
        self.on_refused = on_refused
        self.auth_throttle = auth_throttle or AuthThrottle()
        self.max_messages_per_s = max_messages_per_s
        self.host = host
        self._requested_port = port
        self.subprotocols = tuple(subprotocols)
        self._wire_subprotocols = [Subprotocol(p.value) for p in self.subprotocols]
        self.path_prefix = path_prefix
        self._ssl = ssl
        self._authorize = authorize
        self._authorize_handshake = authorize_handshake
        self.on_mismatch = on_mismatch
        self._options = options
        self._server: Server | None = None
        # Bound here, not at import, so that it follows configure_logging() done at startup.
        self._log = get_logger("transport.ws_server")

    @property
    def port(self) -> int:
        """The port actually listened on (useful when ``port=0`` was asked)."""
        if self._server is None:
            raise RuntimeError("OcppServer.port: the server is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, station_id: str) -> str:
        """The connection URL a station with ``station_id`` should use (id percent-encoded)."""
        scheme = "wss" if self._ssl is not None else "ws"
        host = f"[{self.host}]" if ":" in self.host else self.host
        prefix = self.path_prefix or ""
        return f"{scheme}://{host}:{self.port}{prefix}/{quote(station_id, safe='')}"

    async def start(self) -> None:
        """Start listening (done by ``async with``)."""
        if self._server is not None:
            raise RuntimeError("OcppServer.start: already started")
        extra: dict[str, Any] = {"ssl": self._ssl} if self._ssl is not None else {}
        self._server = await serve(
            self._handle,
            self.host,
            self._requested_port,
            subprotocols=self._wire_subprotocols,
            select_subprotocol=self._select_subprotocol,
            process_request=self._check_request,
            server_header=USER_AGENT,
            create_connection=OcppServerConnection,
            **self._options,
            **extra,
        )
        self._log.info(
            "listening", host=self.host, port=self.port, subprotocols=self._wire_subprotocols
        )

    async def close(self) -> None:
        """Stop listening, close open connections with 1001 (going away), wait for handlers."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def __aenter__(self) -> OcppServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _station_id(self, path: str) -> str | None:
        """The station id if ``path`` matches the prefix; ``None`` for a missing id."""
        if self.path_prefix is not None:
            head = path.partition("?")[0].rpartition("/")[0]
            if head != self.path_prefix:
                raise LookupError(f"expected {self.path_prefix}/{{stationId}}")
        return station_id_from_path(path)

    async def _check_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        expected = f"{self.path_prefix or ''}/{{stationId}}"
        # Shown (logs, events, the HTTP body) without its query string: the station id is the
        # last segment of the path, and a query may carry a token or password.
        path = shown_path(request.path)
        try:
            station_id = self._station_id(request.path)
        except LookupError:
            return self._refuse(
                connection,
                HTTPStatus.NOT_FOUND,
                f"unknown path {path!r}; expected {expected}",
                path=path,
            )
        except UnicodeDecodeError:
            return self._refuse(
                connection,
                HTTPStatus.BAD_REQUEST,
                f"station id in path {path!r} is not valid percent-encoded UTF-8",
                path=path,
            )
        # OCPP-J §3.2: "If the CSMS does not recognize the Charging Station identifier in the
        # URL path, it SHOULD send an HTTP response with status 404". A missing one neither.
        if station_id is None:
            return self._refuse(
                connection,
                HTTPStatus.NOT_FOUND,
                f"no charging station id in URL path {path!r}; expected {expected}",
                path=path,
            )
        if self.admit_station is not None:
            refusal = self.admit_station(station_id)
            if refusal is not None:
                return self._refuse(
                    connection, HTTPStatus.NOT_FOUND, refusal, path=path, station_id=station_id
                )
        refused = await self._authorized(connection, station_id, request.headers, path)
        if refused is not None:
            return refused
        try:
            offered = offered_subprotocols(request.headers)
        except InvalidHeader as exc:
            text = f"malformed Sec-WebSocket-Protocol header ({exc}); supported: " + ", ".join(
                self._wire_subprotocols
            )
            return self._refuse(
                connection, HTTPStatus.BAD_REQUEST, text, path=path, station_id=station_id
            )
        if self.on_mismatch is SubprotocolMismatch.REJECT_HTTP and not any(
            p in offered for p in self._wire_subprotocols
        ):
            text = _mismatch_text(offered, self._wire_subprotocols)
            return self._refuse(
                connection, HTTPStatus.BAD_REQUEST, text, path=path, station_id=station_id
            )
        return None

    async def _authorized(
        self, connection: ServerConnection, station_id: str, headers: Headers, path: str
    ) -> Response | None:
        """Run the authorizers (slowed after failures); the 401 response, or ``None``."""
        if self._authorize is None and self._authorize_handshake is None:
            return None
        throttle = self.auth_throttle
        address = _host(connection.remote_address)
        loop = asyncio.get_running_loop()
        delay_s = throttle.delay_s(station_id=station_id, address=address, now_s=loop.time())
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        for verdict in self._authorizations(connection, station_id, headers):
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if verdict is not None:
                failures = throttle.failed(
                    station_id=station_id, address=address, now_s=loop.time()
                )
                response = self._refuse(
                    connection,
                    HTTPStatus.UNAUTHORIZED,
                    verdict,
                    path=path,
                    station_id=station_id,
                    delay_s=delay_s,
                    failures=failures,
                )
                response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
                return response
        throttle.succeeded(station_id=station_id)
        return None

    def _authorizations(
        self, connection: ServerConnection, station_id: str, headers: Headers
    ) -> Iterator[str | Awaitable[str | None] | None]:
        """The verdicts of the configured authorizers, lazily (the first refusal wins)."""
        if self._authorize is not None:
            yield self._authorize(station_id, headers)
        if self._authorize_handshake is not None:
            ssl_object = connection.transport.get_extra_info("ssl_object")
            peer = ssl_object.getpeercert() if ssl_object is not None else None
            yield self._authorize_handshake(
                HandshakeRequest(
                    station_id=station_id,
                    headers=headers,
                    tls=ssl_object is not None,
                    peer_certificate=peer or None,
                    remote_address=connection.remote_address,
                )
            )

    def _refuse(
        self, connection: ServerConnection, status: HTTPStatus, text: str, **context: Any
    ) -> Response:
        self._log.warning(
            "handshake_refused",
            status=int(status),
            reason=text,
            remote=connection.remote_address,
            **context,
        )
        if self.on_refused is not None:
            self.on_refused(
                Refused(
                    status=int(status),
                    station_id=context.get("station_id"),
                    remote=_host(connection.remote_address),
                    reason=text,
                    delay_s=float(context.get("delay_s", 0.0)),
                    failures=int(context.get("failures", 0)),
                )
            )
        return connection.respond(status, f"{text}\n")

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        for candidate in self._wire_subprotocols:
            if candidate in offered:
                return candidate
        return None  # answered without Sec-WebSocket-Protocol; _handle closes at once

    async def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None  # the handler runs only after a successful handshake
        station_id = station_id_from_path(request.path) or ""
        # OCPP-J §3.2: "If the CSMS does not agree to using one of the subprotocols offered by
        # the client, it MUST complete the WebSocket handshake with a response without a
        # Sec-WebSocket-Protocol header and then immediately close the WebSocket connection."
        if connection.subprotocol is None:
            offered = offered_subprotocols(request.headers)
            text = _mismatch_text(offered, self._wire_subprotocols)
            self._log.warning(
                "subprotocol_refused",
                station_id=station_id,
                offered=offered,
                supported=self._wire_subprotocols,
                remote=connection.remote_address,
                action="101 without Sec-WebSocket-Protocol, then close 1002",
            )
            await connection.close(CloseCode.PROTOCOL_ERROR, fit_close_reason(text))
            return
        assert isinstance(connection, OcppServerConnection)  # serve()'s create_connection
        transport = WebSocketTransport(
            connection,
            station_id=station_id,
            subprotocol=OcppSubprotocol(connection.subprotocol),
            request_path=request.path,
            request_headers=request.headers,
            max_messages_per_s=self.max_messages_per_s,
        )
        self._log.info(
            "connection_opened",
            station_id=station_id,
            subprotocol=str(transport.subprotocol),
            remote=connection.remote_address,
        )
        try:
            await self._handler(transport)
        except TransportClosed as exc:
            self._log.info("handler_ended_by_close", station_id=station_id, code=exc.code)
        except Exception:
            self._log.error("handler_failed", station_id=station_id, exc_info=True)
            await connection.close(CloseCode.INTERNAL_ERROR, "harness connection handler failed")


def _host(remote: object) -> str:
    """The client's address (host part of ``remote_address``), as text."""
    if isinstance(remote, tuple) and remote:
        return str(remote[0])
    return str(remote)


def serve_ocpp(
    handler: ConnectionHandler,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    subprotocols: Sequence[OcppSubprotocol] = DEFAULT_SUBPROTOCOLS,
    path_prefix: str | None = None,
    ssl: ssl_lib.SSLContext | None = None,
    authorize: Authorizer | None = None,
    authorize_handshake: HandshakeAuthorizer | None = None,
    on_mismatch: SubprotocolMismatch = SubprotocolMismatch.CLOSE_AFTER_HANDSHAKE,
    max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES,
    max_messages_per_s: float | None = None,
    open_timeout_s: float | None = 10.0,
    close_timeout_s: float | None = 10.0,
    ping_interval_s: float | None = 20.0,
    ping_timeout_s: float | None = 20.0,
    compression: bool = True,
    admit_station: StationAdmission | None = None,
    on_refused: RefusalHook | None = None,
    auth_throttle: AuthThrottle | None = None,
) -> OcppServer:
    """An OCPP-J server, started by ``async with`` (or :meth:`OcppServer.start`).

    ``port=0`` picks a free port (read it from :attr:`OcppServer.port`). ``subprotocols`` are
    in the server's order of preference. ``path_prefix`` (``"/ocpp"``) makes the server accept
    only ``/ocpp/{stationId}``; ``None`` accepts any path and takes its last segment. ``ssl``
    turns on TLS (``wss://``). ``authorize`` and ``on_mismatch`` are described in the module
    docstring; ``authorize_handshake`` is checked right after ``authorize``, the same way, and
    also sees the verified client certificate (see :class:`HandshakeRequest`). Durations are
    seconds, ``None`` disables a timeout or the keepalive pings;
    ``max_frame_bytes`` bounds incoming messages (larger ones close with 1009);
    ``max_messages_per_s`` bounds their rate per connection (``None``: no limit; over it the
    connection closes with 1008, see :mod:`harness.transport.limits`). Compression
    (permessage-deflate, RFC 7692) is offered by default: OCPP 2.0.1 requires a CSMS to
    support it. ``admit_station`` refuses station ids with HTTP 404 (a run that belongs to
    one station); ``on_refused`` is told of every refused handshake (:class:`Refused`);
    ``auth_throttle`` slows repeated failed authentication (default: a fresh
    :class:`~harness.transport.limits.AuthThrottle`).
    """
    chosen = tuple(OcppSubprotocol(p) for p in subprotocols)
    if not chosen:
        raise ValueError("serve_ocpp: subprotocols must name at least one OCPP subprotocol")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"serve_ocpp: subprotocols {list(chosen)} contain duplicates")
    if path_prefix is not None and (
        path_prefix.endswith("/") or (path_prefix and not path_prefix.startswith("/"))
    ):
        raise ValueError(
            f"serve_ocpp: path_prefix {path_prefix!r} must be '' or start with '/' "
            "and not end with '/' (for example '/ocpp')"
        )
    if max_messages_per_s is not None and not max_messages_per_s > 0:
        raise ValueError(f"serve_ocpp: max_messages_per_s must be > 0, got {max_messages_per_s}")
    options: dict[str, Any] = {
        "compression": "deflate" if compression else None,
        "max_size": max_frame_bytes,
        "open_timeout": open_timeout_s,
        "close_timeout": close_timeout_s,
        "ping_interval": ping_interval_s,
        "ping_timeout": ping_timeout_s,
    }
    return OcppServer(
        handler,
        host=host,
        port=port,
        subprotocols=chosen,
        path_prefix=path_prefix,
        ssl=ssl,
        authorize=authorize,
        on_mismatch=on_mismatch,
        options=options,
        authorize_handshake=authorize_handshake,
        max_messages_per_s=max_messages_per_s,
        admit_station=admit_station,
        on_refused=on_refused,
        auth_throttle=auth_throttle,
    )


def shown_path(path: str) -> str:
    """``path`` as shown in refusals: ``/ocpp/CP1?token=…`` becomes ``/ocpp/CP1?…``."""
    head, question, _ = path.partition("?")
    return f"{head}?…" if question else head
