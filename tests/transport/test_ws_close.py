"""Closing, oversized frames, binary frames and handler failures over real sockets."""

from __future__ import annotations

import asyncio

import pytest

from harness.transport import (
    BinaryFrameReceived,
    TransportClosed,
    WebSocketTransport,
    connect_ocpp,
    serve_ocpp,
)
from tests.transport.helpers import WAIT_S, running_server


async def recv_closed(transport: WebSocketTransport) -> TransportClosed:
    """Receive until the transport reports its close, and return that report."""
    async with asyncio.timeout(WAIT_S):
        with pytest.raises(TransportClosed) as closed:
            await transport.recv()
    return closed.value


async def test_client_close_reaches_the_server_with_code_and_reason() -> None:
    async with running_server() as (server, accepted):
        client = await connect_ocpp(server.url("CP1"))
        csms = await accepted.next()
        await client.close(code=4001, reason="station rebooting")
        closed = await recv_closed(csms)
        assert (closed.code, closed.reason) == (4001, "station rebooting")
        # The closing side reports the same pair, on recv and on send.
        again = await recv_closed(client)
        assert (again.code, again.reason) == (4001, "station rebooting")
        with pytest.raises(TransportClosed) as on_send:
            await client.send('[2,"1","Heartbeat",{}]')
        assert on_send.value.code == 4001
        assert client.closed
        assert csms.closed
        assert (client.close_code, client.close_reason) == (4001, "station rebooting")
        await client.close(code=1000, reason="second close is ignored")
        assert client.close_code == 4001


async def test_server_close_reaches_the_client_with_code_and_reason() -> None:
    async with running_server() as (server, accepted), connect_ocpp(server.url("CP1")) as client:
        csms = await accepted.next()
        await csms.close(code=1008, reason="unknown station")
        closed = await recv_closed(client)
        assert (closed.code, closed.reason) == (1008, "unknown station")
        assert (csms.close_code, csms.close_reason) == (1008, "unknown station")
        with pytest.raises(TransportClosed, match="unknown station"):
            await csms.send("late")


async def test_frames_sent_before_the_close_are_delivered_first() -> None:
    async with running_server() as (server, accepted), connect_ocpp(server.url("CP1")) as client:
        csms = await accepted.next()
        await csms.send("one")
        await csms.send("two")
        await csms.close(code=1000, reason="done")
        async with asyncio.timeout(WAIT_S):
            assert await client.recv() == "one"
            assert await client.recv() == "two"
        assert (await recv_closed(client)).reason == "done"


async def test_long_close_reason_is_cut_to_fit_a_close_frame() -> None:
    async with running_server() as (server, accepted), connect_ocpp(server.url("CP1")) as client:
        csms = await accepted.next()
        await client.close(code=4000, reason="é" * 200)
        closed = await recv_closed(csms)
        assert closed.code == 4000
        assert closed.reason.startswith("ééé")
        assert len(closed.reason.encode()) <= 123


@pytest.mark.parametrize("compression", [True, False])
async def test_frame_larger_than_max_frame_bytes_closes_with_1009(compression: bool) -> None:
    async with (
        running_server(max_frame_bytes=1024, compression=compression) as (server, accepted),
        connect_ocpp(server.url("CP1"), compression=compression) as client,
    ):
        csms = await accepted.next()
        await client.send("x" * 1024)  # exactly at the limit: fine
        async with asyncio.timeout(WAIT_S):
            assert len(await csms.recv()) == 1024
        await client.send("y" * 1025)
        assert (await recv_closed(csms)).code == 1009
        assert (await recv_closed(client)).code == 1009


async def test_client_max_frame_bytes_limits_what_the_server_may_send() -> None:
    async with (
        running_server() as (server, accepted),
        connect_ocpp(server.url("CP1"), max_frame_bytes=100) as client,
    ):
        csms = await accepted.next()
        await csms.send("z" * 101)
        assert (await recv_closed(client)).code == 1009
        assert (await recv_closed(csms)).code == 1009


async def test_binary_frame_is_reported_with_its_bytes_and_the_connection_stays_open() -> None:
    async with running_server() as (server, accepted), connect_ocpp(server.url("CP1")) as client:
        csms = await accepted.next()
        await csms.send_binary(b"\x00\x01binary")
        await csms.send('[2,"1","Heartbeat",{}]')
        async with asyncio.timeout(WAIT_S):
            with pytest.raises(BinaryFrameReceived, match="binary frame of 8 bytes") as got:
                await client.recv()
            assert got.value.data == b"\x00\x01binary"
            assert await client.recv() == '[2,"1","Heartbeat",{}]'
        assert not client.closed


async def test_stopping_the_server_closes_connections_with_1001() -> None:
    accepted: asyncio.Queue[WebSocketTransport] = asyncio.Queue()

    async def handler(transport: WebSocketTransport) -> None:
        await accepted.put(transport)
        await transport.wait_closed()

    server = serve_ocpp(handler, ping_interval_s=None)
    await server.start()
    client = await connect_ocpp(server.url("CP1"))
    await accepted.get()
    await server.close()
    assert (await recv_closed(client)).code == 1001


async def test_handler_returning_closes_normally_and_a_failing_handler_closes_with_1011() -> None:
    async def handler(transport: WebSocketTransport) -> None:
        text = await transport.recv()
        if text == "fail":
            raise RuntimeError("handler bug")

    async with serve_ocpp(handler, ping_interval_s=None) as server:
        async with connect_ocpp(server.url("CP1")) as client:
            await client.send("ok")
            assert (await recv_closed(client)).code == 1000
        async with connect_ocpp(server.url("CP2")) as client:
            await client.send("fail")
            closed = await recv_closed(client)
            assert (closed.code, closed.reason) == (1011, "harness connection handler failed")


async def test_handler_ending_on_transport_closed_is_not_a_failure() -> None:
    finished = asyncio.Event()

    async def handler(transport: WebSocketTransport) -> None:
        try:
            await transport.recv()  # raises TransportClosed when the client leaves
        finally:
            finished.set()

    async with serve_ocpp(handler, ping_interval_s=None) as server:
        async with connect_ocpp(server.url("CP1")) as client:
            await client.close(code=1001, reason="bye")
            assert (await recv_closed(client)).code == 1001
        async with asyncio.timeout(WAIT_S):
            await finished.wait()
