"""The WebSocket transport's own message inbox: ``recv()``, ``listen()`` and ``send_now()``.

websockets hands every data frame of our connections to :class:`harness.transport.ws._Inbox`,
which joins fragments, checks UTF-8, applies flow control and either keeps the message for
``recv()`` or hands it to ``listen()``'s callback at once. These tests hold it to what
websockets' own queue did (close codes 1007 and 1009, order, flow control) over real
connections on loopback, with a peer that is plain websockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from harness.transport import (
    BinaryFrameReceived,
    OcppSubprotocol,
    TransportClosed,
    WebSocketTransport,
    policy_close_reason,
    serve_ocpp,
)
from tests.transport.helpers import WAIT_S, running_server

MAX_QUEUE = 16  # websockets' default max_queue: reading pauses above it, resumes at a quarter


@asynccontextmanager
async def _peer(url: str) -> AsyncIterator[ClientConnection]:
    async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        yield ws


async def _listen_all(transport: WebSocketTransport) -> tuple[list[str | bytes], TransportClosed]:
    got: list[str | bytes] = []
    with pytest.raises(TransportClosed) as closed:
        async with asyncio.timeout(WAIT_S):
            await transport.listen(got.append)
    return got, closed.value


async def _recv_all(transport: WebSocketTransport) -> tuple[list[str | bytes], TransportClosed]:
    got: list[str | bytes] = []
    async with asyncio.timeout(WAIT_S):
        while True:
            try:
                got.append(await transport.recv())
            except BinaryFrameReceived as binary:
                got.append(binary.data)
            except TransportClosed as exc:
                return got, exc


READERS: dict[str, Callable[[WebSocketTransport], Any]] = {
    "recv": _recv_all,
    "listen": _listen_all,
}


async def _wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT_S):
        while not condition():  # noqa: ASYNC110 (a socket has no event to wait on)
            await asyncio.sleep(0.005)


async def test_listen_hands_over_the_waiting_messages_first_then_each_new_one() -> None:
    async with running_server() as (server, accepted), _peer(server.url("L1")) as peer:
        for n in range(5):
            await peer.send(f"early {n}")
        transport = await accepted.next()
        await _wait_for(lambda: len(transport._inbox._messages) == 5)
        got: list[str | bytes] = []
        listening = asyncio.create_task(transport.listen(got.append))
        await _wait_for(lambda: len(got) == 5)
        for n in range(5):
            await peer.send(f"late {n}")
        await _wait_for(lambda: len(got) == 10)
        await peer.close(4001, "bye")
        with pytest.raises(TransportClosed) as closed:
            await asyncio.wait_for(listening, WAIT_S)
    assert got == [f"early {n}" for n in range(5)] + [f"late {n}" for n in range(5)]
    assert (closed.value.code, closed.value.reason) == (4001, "bye")


@pytest.mark.parametrize("reader", sorted(READERS))
async def test_a_fragmented_message_is_joined_and_binary_comes_as_bytes(reader: str) -> None:
    async with running_server() as (server, accepted), _peer(server.url("L2")) as peer:
        await peer.send(['[2,"1",', '"Heartbeat",', "{}]"])  # three frames, one message
        await peer.send([b"\x01", b"\x02"])  # a fragmented binary message
        await peer.send("après")
        transport = await accepted.next()
        reading = asyncio.create_task(READERS[reader](transport))
        await peer.close()
        got, closed = await asyncio.wait_for(reading, WAIT_S)
    assert got == ['[2,"1","Heartbeat",{}]', b"\x01\x02", "après"]
    assert closed.code == 1000


@pytest.mark.parametrize("reader", sorted(READERS))
async def test_a_text_frame_that_is_not_utf8_closes_with_1007(reader: str) -> None:
    async with running_server() as (server, accepted), _peer(server.url("L3")) as peer:
        await peer.send("fine")
        await peer.send(b"[2,\xff]", text=True)  # sent as a text frame, not checked
        await peer.send("never delivered")
        transport = await accepted.next()
        got, closed = await asyncio.wait_for(READERS[reader](transport), WAIT_S)
        await asyncio.wait_for(peer.wait_closed(), WAIT_S)
    assert got == ["fine"]
    assert closed.code == 1007
    assert peer.close_code == 1007
    assert "invalid start byte at position 3" in (peer.close_reason or "")


@pytest.mark.parametrize("reader", sorted(READERS))
async def test_too_many_fragments_close_with_1009(
    reader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.transport.ws.MAX_FRAGMENTS", 8)
    async with running_server() as (server, accepted), _peer(server.url("L4")) as peer:
        # websockets sends each item in a frame of its own, then an empty last frame
        await peer.send(["x"] * 7)  # 8 frames: the most a message may have
        await peer.send(["y"] * 8)
        transport = await accepted.next()
        got, closed = await asyncio.wait_for(READERS[reader](transport), WAIT_S)
    assert got == ["x" * 7]
    assert closed.code == 1009
    assert closed.reason == "too many fragments"


async def test_reading_pauses_while_messages_wait_unread_and_resumes() -> None:
    async with running_server() as (server, accepted), _peer(server.url("L5")) as peer:
        transport = await accepted.next()
        socket = transport._ws.transport
        for n in range(100):
            await peer.send(str(n))
        # Above websockets' default queue the server stops reading from its socket ...
        await _wait_for(lambda: len(transport._inbox._messages) > MAX_QUEUE)
        assert not socket.is_reading()
        got = [await transport.recv() for _ in range(MAX_QUEUE)]
        # ... and reads again once few are left: every message arrives, in order.
        assert socket.is_reading()
        async with asyncio.timeout(WAIT_S):
            got += [await transport.recv() for _ in range(100 - MAX_QUEUE)]
    assert got == [str(n) for n in range(100)]


async def test_the_rate_limit_holds_when_listening() -> None:
    async def flood(transport: Any) -> None:
        for n in range(50):
            await transport.send(f'[2,"{n}","Reset",{{"type":"Soft"}}]')
        await transport.wait_closed()

    from harness.transport import connect_ocpp

    async with serve_ocpp(flood, host="127.0.0.1", port=0) as server:
        client = await connect_ocpp(
            server.url("L6"), subprotocols=[OcppSubprotocol.V16], max_messages_per_s=10
        )
        got, closed = await asyncio.wait_for(_listen_all(client), WAIT_S)
    assert len(got) == 10  # the burst, then the limit
    assert closed.code == 1008
    reason = policy_close_reason(client)
    assert reason is not None
    assert "10 messages/s" in reason


async def test_a_listener_that_raises_stops_listening_with_its_exception() -> None:
    def picky(message: str | bytes) -> None:
        if message == "bad":
            raise ValueError("not this one")
        seen.append(message)

    seen: list[str | bytes] = []
    async with running_server() as (server, accepted), _peer(server.url("L7")) as peer:
        transport = await accepted.next()
        for text in ("good", "bad", "after"):
            await peer.send(text)
        with pytest.raises(ValueError, match="not this one"):
            await asyncio.wait_for(transport.listen(picky), WAIT_S)
        assert not transport.closed  # the listener's failure is the caller's to act on
    assert seen == ["good"]


async def test_send_now_sends_at_once_while_open_and_refuses_after_the_close() -> None:
    async with running_server() as (server, accepted), _peer(server.url("L8")) as peer:
        transport = await accepted.next()
        assert transport.send_now('[3,"1",{}]')
        assert await asyncio.wait_for(peer.recv(), WAIT_S) == '[3,"1",{}]'
        await transport.close()
        assert not transport.send_now('[3,"2",{}]')


async def test_two_readers_at_once_are_refused() -> None:
    async with running_server() as (server, accepted), _peer(server.url("L9")):
        transport = await accepted.next()
        first = asyncio.create_task(transport.recv())
        await _wait_for(lambda: transport._inbox._waiter is not None)  # the first waits now
        with pytest.raises(RuntimeError, match="one reader"):
            await transport.listen(lambda _: None)
        with pytest.raises(RuntimeError, match="two coroutines"):
            await transport.recv()
        first.cancel()


async def test_pings_and_the_closing_handshake_stay_with_websockets() -> None:
    """Only data frames come to our inbox: a ping is still answered while someone listens,
    and the peer's close ends the listening with its code."""
    async with running_server() as (server, accepted), _peer(server.url("L10")) as peer:
        transport = await accepted.next()
        got: list[str | bytes] = []
        listening = asyncio.create_task(transport.listen(got.append))
        pong = await peer.ping(b"are you there")
        await asyncio.wait_for(pong, WAIT_S)
        await peer.send("hello")
        await peer.close(1001, "going")
        with pytest.raises(TransportClosed) as closed:
            await asyncio.wait_for(listening, WAIT_S)
    assert got == ["hello"]
    assert (closed.value.code, closed.value.reason) == (1001, "going")
