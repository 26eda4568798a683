"""The in-memory transport pair."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.transport import (
    BinaryFrameReceived,
    OcppSubprotocol,
    Transport,
    TransportClosed,
    memory_pair,
)
from harness.transport.base import fit_close_reason


async def test_both_ends_share_station_id_and_subprotocol() -> None:
    station, csms = memory_pair("RDAM 123", OcppSubprotocol.V201)
    ends: list[Transport] = [station, csms]  # mypy checks the structural match too
    for end in ends:
        assert isinstance(end, Transport)
        assert end.station_id == "RDAM 123"
        assert end.subprotocol is OcppSubprotocol.V201
        assert not end.closed
        assert end.close_code is None
        assert end.close_reason is None
    assert (station.role, csms.role) == ("station", "csms")
    defaults = memory_pair()
    assert defaults[0].station_id == "CP1"
    assert defaults[1].subprotocol is OcppSubprotocol.V16


async def test_messages_arrive_in_order_both_ways() -> None:
    station, csms = memory_pair()
    for i in range(5):
        await station.send(f"up{i}")
        await csms.send(f"down{i}")
    assert [await csms.recv() for _ in range(5)] == [f"up{i}" for i in range(5)]
    assert [await station.recv() for _ in range(5)] == [f"down{i}" for i in range(5)]


@given(st.lists(st.text(), max_size=30))
def test_any_sequence_of_texts_arrives_unchanged_and_in_order(texts: list[str]) -> None:
    async def run() -> list[str]:
        station, csms = memory_pair()
        for text in texts:
            await station.send(text)
        await station.close()
        received: list[str] = []
        while True:
            try:
                received.append(await csms.recv())
            except TransportClosed:
                return received

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(run()) == texts
    finally:
        loop.close()


@pytest.mark.parametrize("closer", ["station", "csms"])
async def test_close_from_either_end_propagates_code_and_reason(closer: str) -> None:
    station, csms = memory_pair()
    this, other = (station, csms) if closer == "station" else (csms, station)
    await this.send("sent before the close")
    await this.close(code=4002, reason="going away")
    assert this.closed
    assert other.closed
    # The other end still gets what was sent before the close, then the close itself.
    assert await other.recv() == "sent before the close"
    for end in (other, this, other):
        with pytest.raises(TransportClosed) as closed:
            await end.recv()
        assert (closed.value.code, closed.value.reason) == (4002, "going away")
    for end in (this, other):
        assert (end.close_code, end.close_reason) == (4002, "going away")
        with pytest.raises(TransportClosed, match="going away"):
            await end.send("too late")


async def test_close_wakes_a_waiting_recv_and_is_idempotent() -> None:
    station, csms = memory_pair()
    waiting = asyncio.create_task(csms.recv())
    await asyncio.sleep(0)  # let the task start waiting (no time passes)
    assert not waiting.done()
    await station.close(code=1001, reason="shutdown")
    with pytest.raises(TransportClosed) as closed:
        await waiting
    assert closed.value.code == 1001
    await csms.close(code=4000, reason="ignored: already closed")
    await station.close(code=4000, reason="ignored too")
    assert (station.close_code, csms.close_reason) == (1001, "shutdown")


async def test_default_close_is_1000_and_long_reasons_are_cut() -> None:
    station, csms = memory_pair()
    await csms.close(reason="x" * 500)
    with pytest.raises(TransportClosed) as closed:
        await station.recv()
    assert closed.value.code == 1000
    assert len(closed.value.reason.encode()) == 123


async def test_binary_frame_is_reported_and_the_pair_stays_open() -> None:
    station, csms = memory_pair()
    await station.send_binary(b"\xff\x00")
    await station.send("after")
    with pytest.raises(BinaryFrameReceived) as got:
        await csms.recv()
    assert got.value.data == b"\xff\x00"
    assert await csms.recv() == "after"
    assert not csms.closed


def test_empty_station_id_is_refused() -> None:
    with pytest.raises(ValueError, match="station_id must not be empty"):
        memory_pair("")


@given(st.text())
def test_fit_close_reason_keeps_short_reasons_and_cuts_long_ones(reason: str) -> None:
    fitted = fit_close_reason(reason)
    assert len(fitted.encode()) <= 123
    if len(reason.encode()) <= 123:
        assert fitted == reason
    else:
        assert fitted.endswith("...")
        assert reason.startswith(fitted[:-3])
