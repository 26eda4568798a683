"""The recording proxy: stations connect to it as to their CSMS; it relays to the real one.

For each station connection the proxy, *during the station's opening handshake*, opens the
matching connection upstream: same station-id path segment (appended, still
percent-encoded, to the upstream URL), the same ``Sec-WebSocket-Protocol`` offer, and the
station's ``Authorization`` header forwarded unchanged (Basic auth, security profiles 1/2;
never recorded). The station is then accepted with exactly the subprotocol the upstream CSMS
chose, so both hops always speak the same version. If the upstream refuses, the station is
refused the same way: the upstream's HTTP status and body (prefixed ``upstream refused:``),
or — when the upstream completed the handshake without a subprotocol and closed (OCPP-J
§3.2) — a 101 without subprotocol followed by the upstream's close code and reason.

Each message is bounded in size on both hops (``max_frame_bytes``, default 4 MiB, as the
harness's own listeners): a bigger one closes that side with 1009 (message too big), the other
side gets the same close, the event is logged (``frame_too_big``) and counted in
:attr:`RecordingStats.frames_too_big`; one station's huge frame cannot exhaust the proxy.

Forwarding is raw: each message (text or binary) is passed to the other side as it came,
with no parsing or validation, in order per direction. Each one is also handed to the
connection's recorder (a queue; see :mod:`harness.proxy.recorder`). When either side closes,
the other is closed with the same code and reason (codes that cannot be sent, 1005/1006,
become 1000 / 1001 with a reason saying so); the proxy keeps serving other stations.

Built on the websockets library directly rather than on :func:`harness.transport.serve_ocpp`:
the proxy needs the subprotocol chosen per connection from the upstream's answer and raw
(binary-preserving) frames, which the OCPP transport deliberately does not expose.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl as ssl_lib
from collections.abc import Sequence
from http import HTTPStatus
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidHeader, InvalidStatus
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from harness.clock import Clock
from harness.logs import get_logger
from harness.proxy.recorder import ConnectionRecorder, FrameSource, RecordingStats, TraceWriter
from harness.results.store import RunWriter
from harness.transport.base import fit_close_reason
from harness.transport.ws import (
    DEFAULT_MAX_FRAME_BYTES,
    USER_AGENT,
    station_id_from_path,
    transport_closed_from,
)
from harness.transport.ws_server import offered_subprotocols

__all__ = ["RecordingProxy"]

_UNSENDABLE = {
    CloseCode.NO_STATUS_RCVD: (CloseCode.NORMAL_CLOSURE, "peer closed without a status (1005)"),
    CloseCode.ABNORMAL_CLOSURE: (CloseCode.GOING_AWAY, "peer connection lost (1006)"),
    CloseCode.TLS_HANDSHAKE: (CloseCode.GOING_AWAY, "peer TLS failure (1015)"),
}


def _close_pair(conn: Connection) -> tuple[int, str]:
    """The close code and reason ``conn`` ended with, made sendable to the other side."""
    said = transport_closed_from(conn.protocol.close_exc)
    code = said.code if said.code is not None else CloseCode.ABNORMAL_CLOSURE
    if code in _UNSENDABLE:
        return _UNSENDABLE[CloseCode(code)]
    return code, said.reason


class RecordingProxy:
    """Relays OCPP-J connections from stations to ``upstream_url`` and records every frame.

    ``writer`` is the run the traces go to (``None``: forward without recording). ``ssl``
    turns on TLS on the listening side (TLS terminated here); ``upstream_ssl`` is the context
    for a ``wss://`` upstream. ``clock`` stamps the frames. ``compression`` negotiates
    permessage-deflate on both hops (each hop on its own; messages are unchanged either way);
    off by default because (de)compressing every frame twice is most of the proxy's cost.
    ``max_frame_bytes`` bounds each message on both hops (``None``: no limit). Use
    ``async with`` (or :meth:`start`/:meth:`close`); :attr:`stats` counts frames.
    """

    def __init__(
        self,
        *,
        upstream_url: str,
        writer: RunWriter | None,
        clock: Clock,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl: ssl_lib.SSLContext | None = None,
        upstream_ssl: ssl_lib.SSLContext | None = None,
        open_timeout_s: float | None = 10.0,
        close_timeout_s: float | None = 10.0,
        compression: bool = False,
        max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        if not upstream_url.startswith(("ws://", "wss://")):
            raise ValueError(f"upstream URL {upstream_url!r} must start with ws:// or wss://")
        if upstream_ssl is not None and upstream_url.startswith("ws://"):
            raise ValueError(f"an upstream TLS context needs a wss:// upstream, not {upstream_url}")
        self.upstream_url = upstream_url.rstrip("/")
        self.host = host
        self._port = port
        self._ssl = ssl
        self._upstream_ssl = upstream_ssl
        self._writer = writer
        self._clock = clock
        self._open_timeout_s = open_timeout_s
        self._close_timeout_s = close_timeout_s
        self._compression = "deflate" if compression else None
        self.max_frame_bytes = max_frame_bytes
        self.stats = RecordingStats()
        self._upstreams: dict[ServerConnection, ClientConnection] = {}
        self._refusals: dict[ServerConnection, tuple[int, str]] = {}
        self._server: Server | None = None
        self._trace_writer: TraceWriter | None = None
        self._log = get_logger("proxy")

    @property
    def port(self) -> int:
        """The port listened on."""
        if self._server is None:
            raise RuntimeError("RecordingProxy.port: not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, station_id_path: str) -> str:
        """The URL a station should use (``station_id_path`` already percent-encoded)."""
        scheme = "wss" if self._ssl is not None else "ws"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/{station_id_path}"

    async def start(self) -> None:
        """Start listening."""
        extra: dict[str, Any] = {"ssl": self._ssl} if self._ssl is not None else {}
        if self._writer is not None:
            self._trace_writer = TraceWriter(self._writer, self.stats)
        self._server = await serve(
            self._handle,
            self.host,
            self._port,
            process_request=self._open_upstream,
            process_response=self._after_handshake,
            select_subprotocol=self._select_subprotocol,
            server_header=USER_AGENT,
            max_size=self.max_frame_bytes,
            compression=self._compression,
            open_timeout=self._open_timeout_s,
            close_timeout=self._close_timeout_s,
            **extra,
        )
        self._log.info("proxy_listening", port=self.port, upstream=self.upstream_url)

    async def close(self) -> None:
        """Stop listening and close every relayed connection (1001 to the stations)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        for upstream in list(self._upstreams.values()):
            await upstream.close(CloseCode.GOING_AWAY, "proxy stopping")
        self._upstreams.clear()
        trace_writer, self._trace_writer = self._trace_writer, None
        if trace_writer is not None:
            await trace_writer.stop()

    async def __aenter__(self) -> RecordingProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _refuse(self, conn: ServerConnection, status: int, text: str) -> Response:
        self._log.warning(
            "station_refused",
            status=status,
            reason=text,
            path=conn.request.path if conn.request else None,
        )
        return conn.respond(HTTPStatus(status), f"{text}\n")

    async def _open_upstream(self, conn: ServerConnection, request: Request) -> Response | None:
        segment = request.path.partition("?")[0].rpartition("/")[2]
        try:
            station_id = station_id_from_path(request.path)
            offered = offered_subprotocols(request.headers)
        except (UnicodeDecodeError, InvalidHeader) as exc:
            return self._refuse(conn, 400, f"bad opening request: {exc}")
        if station_id is None:
            return self._refuse(conn, 404, f"no charging station id in URL path {request.path!r}")
        headers = {}
        if "Authorization" in request.headers:
            # Security profiles 1/2: HTTP Basic credentials go upstream unchanged, never logged.
            headers["Authorization"] = request.headers["Authorization"]
        url = f"{self.upstream_url}/{segment}"
        options: dict[str, Any] = {"ssl": self._upstream_ssl} if self._upstream_ssl else {}
        try:
            upstream = await ws_connect(
                url,
                subprotocols=[Subprotocol(p) for p in offered] or None,
                additional_headers=headers or None,
                user_agent_header=request.headers.get("User-Agent", USER_AGENT),
                proxy=None,
                compression=self._compression,
                max_size=self.max_frame_bytes,
                open_timeout=self._open_timeout_s,
                close_timeout=self._close_timeout_s,
                **options,
            )
        except InvalidStatus as exc:
            body = exc.response.body.decode("utf-8", errors="replace").strip()
            status = exc.response.status_code
            return self._refuse(conn, status, f"upstream refused: HTTP {status}: {body}")
        except (InvalidHandshake, OSError, TimeoutError) as exc:
            return self._refuse(conn, 502, f"upstream {url} unreachable: {exc}")
        self._upstreams[conn] = upstream
        if upstream.subprotocol is None:
            # OCPP-J §3.2: the upstream agreed no subprotocol and closes; mirror that.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._close_timeout_s):
                    await upstream.wait_closed()
            await upstream.close(CloseCode.PROTOCOL_ERROR, "no OCPP subprotocol agreed")
            code, reason = _close_pair(upstream)
            self._refusals[conn] = (code, f"upstream refused: {reason}")
        return None

    async def _after_handshake(
        self, conn: ServerConnection, request: Request, response: Response
    ) -> None:
        # The station's upgrade failed after the upstream was opened (e.g. a malformed
        # WebSocket key): do not leave the upstream connection behind.
        if response.status_code != 101:
            upstream = self._upstreams.pop(conn, None)
            self._refusals.pop(conn, None)
            if upstream is not None:
                await upstream.close(CloseCode.GOING_AWAY, "station handshake failed")

    def _select_subprotocol(
        self, conn: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        upstream = self._upstreams.get(conn)
        chosen = upstream.subprotocol if upstream is not None else None
        return chosen if chosen in offered else None

    async def _handle(self, conn: ServerConnection) -> None:
        upstream = self._upstreams.pop(conn, None)
        refusal = self._refusals.pop(conn, None)
        if upstream is None:
            await conn.close(CloseCode.INTERNAL_ERROR, "proxy: no upstream connection")
            return
        if refusal is not None:
            await conn.close(refusal[0], fit_close_reason(refusal[1]))
            return
        assert conn.request is not None
        station_id = station_id_from_path(conn.request.path) or ""
        self.stats.connections += 1
        recorder = ConnectionRecorder(
            self._trace_writer, station_id=station_id, serial=self.stats.connections
        )
        self._log.info("relay_opened", station_id=station_id, subprotocol=conn.subprotocol)
        try:
            await self._relay(conn, upstream, recorder)
        finally:
            await recorder.close()
            self._log.info(
                "relay_closed",
                station_id=station_id,
                station_close=conn.close_code,
                csms_close=upstream.close_code,
            )

    async def _relay(
        self, station: ServerConnection, csms: ClientConnection, recorder: ConnectionRecorder
    ) -> None:
        up = asyncio.create_task(self._pump(station, csms, recorder, FrameSource.STATION))
        down = asyncio.create_task(self._pump(csms, station, recorder, FrameSource.CSMS))
        done, pending = await asyncio.wait((up, down), return_when=asyncio.FIRST_COMPLETED)
        closed: Connection = next(iter(done)).result()
        other: Connection = csms if closed is station else station
        await closed.wait_closed()
        code, reason = _close_pair(closed)
        if code == CloseCode.MESSAGE_TOO_BIG:
            self.stats.frames_too_big += 1
            self._log.warning(
                "frame_too_big",
                sender="station" if closed is station else "csms",
                limit_bytes=self.max_frame_bytes,
            )
        await other.close(code, fit_close_reason(reason))
        await asyncio.gather(*pending, return_exceptions=True)

    async def _pump(
        self, src: Connection, dst: Connection, recorder: ConnectionRecorder, who: FrameSource
    ) -> Connection:
        """Forward ``src`` → ``dst`` until one closes; return the one that closed."""
        stats = self.stats
        now = self._clock.now
        record = recorder.record
        try:
            async for message in src:
                record(now(), who, message)
                try:
                    await dst.send(message)
                except ConnectionClosed:
                    return dst
                stats.frames_forwarded += 1
        except ConnectionClosed:
            pass
        return src
