"""The incoming-rate limit (a token bucket) and its plumbing into the websockets server."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.transport import (
    IncomingRateLimit,
    OcppSubprotocol,
    TransportClosed,
    connect_ocpp,
    policy_close_reason,
    serve_ocpp,
)
from harness.transport.base import Transport


def test_a_burst_of_one_seconds_worth_passes_and_the_next_message_does_not() -> None:
    limit = IncomingRateLimit(10)
    assert all(limit.admit(0.0) for _ in range(10))
    assert not limit.admit(0.0)
    assert limit.admit(0.1)  # 0.1 s refills one token
    assert not limit.admit(0.1)


@given(
    rate=st.floats(min_value=0.5, max_value=1000),
    gaps=st.lists(st.floats(min_value=0, max_value=2), max_size=200),
)
def test_admitted_messages_never_exceed_burst_plus_rate_times_elapsed(
    rate: float, gaps: list[float]
) -> None:
    limit = IncomingRateLimit(rate)
    now, admitted = 0.0, 0
    for gap in gaps:
        now += gap
        admitted += limit.admit(now)
    assert admitted <= limit.capacity + rate * now + 1e-6


@pytest.mark.parametrize("bad", [0, -1.0])
def test_a_rate_that_is_not_positive_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        IncomingRateLimit(bad)
    with pytest.raises(ValueError, match="max_messages_per_s must be > 0"):
        serve_ocpp(lambda t: asyncio.sleep(0), max_messages_per_s=bad)


async def test_the_server_closes_a_flooding_client_with_1008_and_says_why() -> None:
    seen: list[Transport] = []
    failures: list[TransportClosed] = []

    async def handler(transport: Transport) -> None:
        seen.append(transport)
        try:
            while True:
                await transport.recv()
        except TransportClosed as exc:
            failures.append(exc)

    async with serve_ocpp(handler, max_messages_per_s=5) as server:
        client = await connect_ocpp(server.url("F1"), subprotocols=[OcppSubprotocol.V16])
        for n in range(20):
            try:
                await client.send(f'[2,"{n}","Heartbeat",{{}}]')
            except TransportClosed:
                break
        await asyncio.wait_for(client.wait_closed(), 5)
    assert client.close_code == 1008
    assert failures
    assert failures[0].code == 1008
    reason = policy_close_reason(seen[0])
    assert reason is not None
    assert "5 messages/s" in reason
    assert policy_close_reason(client) is None  # the client did not close under a limit


async def test_the_client_limits_a_flooding_server_too() -> None:
    async def flood(transport: Transport) -> None:
        for n in range(50):
            await transport.send(f'[2,"{n}","Reset",{{"type":"Soft"}}]')
        await transport.wait_closed()  # type: ignore[attr-defined]

    async with serve_ocpp(flood) as server:
        client = await connect_ocpp(
            server.url("F2"), subprotocols=[OcppSubprotocol.V16], max_messages_per_s=10
        )
        received = 0
        failure: TransportClosed | None = None
        while failure is None:
            try:
                await client.recv()
            except TransportClosed as exc:
                failure = exc
            else:
                received += 1
    assert received == 10  # the burst, then the limit
    assert failure.code == 1008
    reason = policy_close_reason(client)
    assert reason is not None
    assert "10 messages/s" in reason
