"""Handshakes the server refuses, and what each side is told."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import socket
from collections.abc import Mapping, Sequence

import pytest
import structlog
from websockets.asyncio.client import connect as raw_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as raw_serve
from websockets.exceptions import InvalidStatus
from websockets.headers import parse_authorization_basic
from websockets.typing import Subprotocol

from harness.logs import configure_logging
from harness.transport import (
    HandshakeRefused,
    HandshakeRequest,
    OcppSubprotocol,
    SubprotocolMismatch,
    TransportError,
    connect_ocpp,
)
from tests.transport.helpers import WAIT_S, running_server

ALL = "ocpp2.1, ocpp2.0.1, ocpp1.6"
V16 = [Subprotocol("ocpp1.6")]


async def test_unsupported_subprotocol_is_refused_with_what_was_offered_and_supported() -> None:
    async with running_server() as (server, accepted):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url("CP1"), subprotocols=["ocpp0.1"])
    assert refused.value.status_code == 101
    assert "close code 1002" in refused.value.reason
    assert f"no common OCPP subprotocol; offered: ocpp0.1; supported: {ALL}" in str(refused.value)
    assert accepted.calls == 0


async def test_client_offering_no_subprotocol_is_refused() -> None:
    async with running_server() as (server, accepted):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url("CP1"), subprotocols=[])
    assert f"no Sec-WebSocket-Protocol offered; supported: {ALL}" in refused.value.reason
    assert accepted.calls == 0


@pytest.mark.parametrize("offered", [["ocpp0.1"], []])
async def test_on_the_wire_mismatch_is_101_without_protocol_header_then_close_1002(
    offered: list[str],
) -> None:
    """OCPP-J §3.2: complete the handshake without Sec-WebSocket-Protocol, then close."""
    async with (
        running_server() as (server, _),
        raw_connect(
            server.url("CP1"), subprotocols=[Subprotocol(p) for p in offered] or None
        ) as ws,
    ):
        assert ws.response is not None
        assert ws.response.status_code == 101
        assert "Sec-WebSocket-Protocol" not in ws.response.headers
        async with asyncio.timeout(WAIT_S):
            await ws.wait_closed()
        assert ws.close_code == 1002
        assert ws.close_reason is not None
        assert "supported: ocpp2.1" in ws.close_reason


async def test_malformed_subprotocol_header_is_refused_with_400() -> None:
    async with running_server() as (server, accepted):
        with pytest.raises(InvalidStatus) as refused:
            await raw_connect(server.url("CP1"), subprotocols=[])  # sends an empty header
    assert refused.value.response.status_code == 400
    body = refused.value.response.body.decode()
    assert body.startswith("malformed Sec-WebSocket-Protocol header (")
    assert body.endswith(f"supported: {ALL}\n")
    assert accepted.calls == 0


async def test_server_with_only_2_0_1_refuses_a_1_6_only_client() -> None:
    async with running_server(subprotocols=[OcppSubprotocol.V201]) as (server, accepted):
        expected = re.escape("offered: ocpp1.6; supported: ocpp2.0.1")
        with pytest.raises(HandshakeRefused, match=expected):
            await connect_ocpp(server.url("CP1"), subprotocols=[OcppSubprotocol.V16])
    assert accepted.calls == 0


async def test_reject_http_mode_answers_400_with_the_reason_in_the_body() -> None:
    options = {
        "subprotocols": [OcppSubprotocol.V201],
        "on_mismatch": SubprotocolMismatch.REJECT_HTTP,
    }
    async with running_server(**options) as (server, accepted):
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(server.url("CP1"), subprotocols=["ocpp0.1", "ocpp1.6"])
        assert refused.value.status_code == 400
        assert refused.value.reason == (
            "no common OCPP subprotocol; offered: ocpp0.1, ocpp1.6; supported: ocpp2.0.1"
        )
        with pytest.raises(HandshakeRefused, match="HTTP 400: no Sec-WebSocket-Protocol offered"):
            await connect_ocpp(server.url("CP1"), subprotocols=[])
        # A client offering the supported one among others still gets in.
        async with connect_ocpp(
            server.url("CP1"), subprotocols=["ocpp0.1", OcppSubprotocol.V201]
        ) as client:
            assert client.subprotocol is OcppSubprotocol.V201
    assert accepted.calls == 1


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/", 404, "unknown path '/'; expected /ocpp/{stationId}"),
        ("/ocpp/", 404, "no charging station id in URL path '/ocpp/'; expected /ocpp/{stationId}"),
        ("/other/CP1", 404, "unknown path '/other/CP1'; expected /ocpp/{stationId}"),
        ("/ocpp/x/CP1", 404, "unknown path '/ocpp/x/CP1'"),
        ("/ocpp/%FF", 400, "is not valid percent-encoded UTF-8"),
    ],
)
async def test_bad_paths_are_refused_with_a_reason(path: str, status: int, message: str) -> None:
    async with running_server(path_prefix="/ocpp") as (server, accepted):
        with pytest.raises(InvalidStatus) as refused:
            await raw_connect(f"ws://127.0.0.1:{server.port}{path}", subprotocols=V16)
    assert refused.value.response.status_code == status
    assert message in refused.value.response.body.decode()
    assert accepted.calls == 0


async def test_root_path_without_prefix_is_refused_for_lack_of_a_station_id() -> None:
    async with running_server() as (server, accepted):
        with pytest.raises(InvalidStatus) as refused:
            await raw_connect(f"ws://127.0.0.1:{server.port}/", subprotocols=V16)
    assert refused.value.response.status_code == 404
    body = refused.value.response.body.decode()
    assert body == "no charging station id in URL path '/'; expected /{stationId}\n"
    assert accepted.calls == 0


def basic_auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def check_basic_auth(station_id: str, headers: Mapping[str, str]) -> str | None:
    """Security profile 1 style: username is the station id, one shared password."""
    header = headers.get("Authorization")
    if header is None:
        return "Basic authentication required"
    user, password = parse_authorization_basic(header)
    if user != station_id or password != "s3cret-pass":
        return f"wrong credentials for {station_id}"
    return None


async def test_authorize_hook_refuses_with_401_and_accepts_good_credentials() -> None:
    async with running_server(authorize=check_basic_auth) as (server, accepted):
        url = server.url("CP1")
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(url, extra_headers=basic_auth("CP1", "guess"))
        assert refused.value.status_code == 401
        assert refused.value.reason == "wrong credentials for CP1"
        with pytest.raises(HandshakeRefused, match="HTTP 401: Basic authentication required"):
            await connect_ocpp(url)
        with pytest.raises(InvalidStatus) as raw:
            await raw_connect(url, subprotocols=V16)
        assert raw.value.response.headers["WWW-Authenticate"].startswith("Basic")
        assert accepted.calls == 0
        async with connect_ocpp(url, extra_headers=basic_auth("CP1", "s3cret-pass")) as client:
            csms = await accepted.next()
            assert csms.station_id == client.station_id == "CP1"
            assert csms.request_headers["Authorization"].startswith("Basic ")


async def test_async_authorize_hook_is_awaited() -> None:
    seen: list[str] = []

    async def authorize(station_id: str, headers: Mapping[str, str]) -> str | None:
        seen.append(station_id)
        return None if station_id == "good" else "unknown station"

    async with running_server(authorize=authorize) as (server, _):
        with pytest.raises(HandshakeRefused, match="HTTP 401: unknown station"):
            await connect_ocpp(server.url("bad"))
        async with connect_ocpp(server.url("good")) as client:
            assert client.station_id == "good"
    assert seen == ["bad", "good"]


async def test_handshake_authorizer_runs_after_authorize_and_sees_the_request() -> None:
    seen: list[HandshakeRequest] = []
    order: list[str] = []

    def first(station_id: str, headers: Mapping[str, str]) -> str | None:
        order.append("authorize")
        return "refused first" if station_id == "early" else None

    async def second(request: HandshakeRequest) -> str | None:
        order.append("authorize_handshake")
        seen.append(request)
        return None if request.headers.get("X-Ok") == "yes" else "no X-Ok header"

    async with running_server(authorize=first, authorize_handshake=second) as (server, _):
        with pytest.raises(HandshakeRefused, match="HTTP 401: refused first"):
            await connect_ocpp(server.url("early"))
        with pytest.raises(HandshakeRefused, match="HTTP 401: no X-Ok header"):
            await connect_ocpp(server.url("CP1"))
        async with connect_ocpp(server.url("CP 2"), extra_headers={"X-Ok": "yes"}):
            pass
    both = ["authorize", "authorize_handshake"]
    assert order == ["authorize", *both, *both]
    assert [r.station_id for r in seen] == ["CP1", "CP 2"]
    assert all(r.tls is False and r.peer_certificate is None for r in seen)
    assert seen[0].remote_address[0] == "127.0.0.1"


async def test_unreachable_server_is_a_transport_error_not_a_refusal() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = sock.getsockname()[1]
        with pytest.raises(TransportError, match="could not connect") as failed:
            await connect_ocpp(f"ws://127.0.0.1:{port}/CP1", open_timeout_s=WAIT_S)
    assert not isinstance(failed.value, HandshakeRefused)


async def test_server_choosing_a_non_ocpp_subprotocol_is_refused_by_the_client() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with raw_serve(handler, "127.0.0.1", 0, subprotocols=[Subprotocol("chat")]) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(HandshakeRefused, match="server selected 'chat', not an OCPP-J"):
            await connect_ocpp(f"ws://127.0.0.1:{port}/CP1", subprotocols=["chat", "ocpp1.6"])


async def test_refusals_are_logged_as_structured_events() -> None:
    stream = io.StringIO()
    configure_logging(json_lines=True, level="INFO", stream=stream)
    try:
        async with running_server(subprotocols=[OcppSubprotocol.V201]) as (server, _):
            with pytest.raises(HandshakeRefused):
                await connect_ocpp(server.url("CP9"), subprotocols=[OcppSubprotocol.V16])
            with pytest.raises(InvalidStatus):
                await raw_connect(f"ws://127.0.0.1:{server.port}/", subprotocols=V16)
    finally:
        structlog.reset_defaults()
    events = {e["event"]: e for e in map(json.loads, stream.getvalue().splitlines())}
    mismatch = events["subprotocol_refused"]
    assert mismatch["level"] == "warning"
    assert (mismatch["station_id"], mismatch["offered"]) == ("CP9", ["ocpp1.6"])
    assert mismatch["supported"] == ["ocpp2.0.1"]
    refused = events["handshake_refused"]
    assert (refused["status"], refused["path"]) == (404, "/")
    assert refused["reason"].startswith("no charging station id in URL path '/'")


async def test_client_closes_itself_when_a_server_agrees_no_subprotocol_but_stays_open() -> None:
    """A non-conforming CSMS: 101 without Sec-WebSocket-Protocol, and no close."""

    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    def select_none(ws: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        return None

    async with raw_serve(
        handler, "127.0.0.1", 0, subprotocols=V16, select_subprotocol=select_none
    ) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(HandshakeRefused) as refused:
            await connect_ocpp(f"ws://127.0.0.1:{port}/CP1", close_timeout_s=0.05)
    assert refused.value.status_code == 101
    assert refused.value.reason == (
        "server agreed to none of the offered subprotocols (ocpp1.6); "
        "close code 1002, reason 'no OCPP subprotocol agreed'"
    )
