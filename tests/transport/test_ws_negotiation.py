"""WebSocket client and server: subprotocol negotiation, station id from the path, message flow."""

from __future__ import annotations

import asyncio

import pytest

from harness.transport import (
    OcppSubprotocol,
    Transport,
    WebSocketTransport,
    connect_ocpp,
)
from tests.transport.helpers import WAIT_S, running_server


@pytest.mark.parametrize("subprotocol", list(OcppSubprotocol))
async def test_each_subprotocol_is_negotiated_and_messages_flow_in_order(
    subprotocol: OcppSubprotocol,
) -> None:
    async with (
        running_server() as (server, accepted),
        connect_ocpp(server.url("CP1"), subprotocols=[subprotocol]) as client,
    ):
        csms = await accepted.next()
        assert client.subprotocol is subprotocol
        assert csms.subprotocol is subprotocol
        assert client.station_id == csms.station_id == "CP1"
        ends: list[Transport] = [client, csms]  # mypy checks the structural match too
        assert all(isinstance(end, Transport) for end in ends)
        assert client.close_code is None
        assert csms.request_headers["Sec-WebSocket-Protocol"] == subprotocol.value

        up = [f'[2,"{i}","Heartbeat",{{}}]' for i in range(50)]
        down = [f'[3,"{i}",{{"currentTime":"2025-01-01T00:00:0{i % 10}Z"}}]' for i in range(50)]
        for text in up:
            await client.send(text)
        for text in down:
            await csms.send(text)
        async with asyncio.timeout(WAIT_S):
            assert [await csms.recv() for _ in up] == up
            assert [await client.recv() for _ in down] == down


@pytest.mark.parametrize(
    ("station_id", "encoded"),
    [("RDAM 123", "RDAM%20123"), ("Zürich/1", "Z%C3%BCrich%2F1"), ("CS3211", "CS3211")],
)
async def test_percent_encoded_station_id_under_a_prefix(station_id: str, encoded: str) -> None:
    async with running_server(path_prefix="/webServices/ocpp") as (server, accepted):
        url = server.url(station_id)
        assert url == f"ws://127.0.0.1:{server.port}/webServices/ocpp/{encoded}"
        async with connect_ocpp(url) as client:
            csms = await accepted.next()
            assert client.station_id == station_id
            assert csms.station_id == station_id
            assert csms.request_path == f"/webServices/ocpp/{encoded}"


async def test_without_a_prefix_the_last_segment_of_any_path_is_the_station_id() -> None:
    async with (
        running_server() as (server, accepted),
        connect_ocpp(f"ws://127.0.0.1:{server.port}/some/prefix/CP7?x=1") as client,
    ):
        csms = await accepted.next()
        assert csms.station_id == client.station_id == "CP7"


async def test_client_preference_2_1_then_2_0_1_against_server_2_0_1_and_1_6_gets_2_0_1() -> None:
    server_order = [OcppSubprotocol.V201, OcppSubprotocol.V16]
    async with running_server(subprotocols=server_order) as (server, accepted):
        offered = [OcppSubprotocol.V21, OcppSubprotocol.V201]
        async with connect_ocpp(server.url("CP1"), subprotocols=offered) as client:
            assert client.subprotocol is OcppSubprotocol.V201
            assert (await accepted.next()).subprotocol is OcppSubprotocol.V201


async def test_server_preference_order_wins_over_client_order() -> None:
    server_order = [OcppSubprotocol.V201, OcppSubprotocol.V16]
    async with running_server(subprotocols=server_order) as (server, _):
        offered = [OcppSubprotocol.V16, OcppSubprotocol.V201]
        async with connect_ocpp(server.url("CP1"), subprotocols=offered) as client:
            assert client.subprotocol is OcppSubprotocol.V201


async def test_default_server_prefers_the_newest_version() -> None:
    async with (
        running_server() as (server, _),
        connect_ocpp(server.url("CP1"), subprotocols=list(OcppSubprotocol)) as client,
    ):
        assert client.subprotocol is OcppSubprotocol.V21


async def test_connect_without_async_with_returns_an_open_transport() -> None:
    async with running_server() as (server, accepted):
        client = await connect_ocpp(server.url("CP2"), subprotocols=[OcppSubprotocol.V201])
        try:
            assert isinstance(client, WebSocketTransport)
            assert not client.closed
            assert (await accepted.next()).station_id == "CP2"
        finally:
            await client.close()
        assert client.closed


async def test_uncompressed_connection_also_works() -> None:
    async with (
        running_server(compression=False) as (server, accepted),
        connect_ocpp(server.url("CP1"), compression=False) as client,
    ):
        csms = await accepted.next()
        assert "Sec-WebSocket-Extensions" not in csms.request_headers
        await client.send('[2,"1","Heartbeat",{}]')
        async with asyncio.timeout(WAIT_S):
            assert await csms.recv() == '[2,"1","Heartbeat",{}]'


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:1/CP1", "must start with ws:// or wss://"),
        ("ws://127.0.0.1:1/ocpp/", "has no station id"),
        ("ws://127.0.0.1:1", "has no station id"),
    ],
)
def test_client_rejects_a_url_without_station_id_or_ws_scheme(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        connect_ocpp(url)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"subprotocols": []}, "at least one"),
        ({"subprotocols": [OcppSubprotocol.V16, OcppSubprotocol.V16]}, "duplicates"),
        ({"subprotocols": ["ocpp9"]}, "ocpp9"),
        ({"path_prefix": "ocpp"}, "must be '' or start with '/'"),
        ({"path_prefix": "/ocpp/"}, "not end with '/'"),
    ],
)
def test_server_rejects_bad_configuration(options: dict[str, object], message: str) -> None:
    from harness.transport import serve_ocpp

    async def handler(transport: WebSocketTransport) -> None:
        await transport.close()

    with pytest.raises(ValueError, match=message):
        serve_ocpp(handler, **options)  # type: ignore[arg-type]
