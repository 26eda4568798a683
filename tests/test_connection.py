"""OcppConnection: request/response over a transport, handlers, errors, timeouts, closing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from harness.clock import ManualClock
from harness.connection import CallErrorReply, ConnectionClosed, OcppConnection, _Continued
from harness.session import (
    CallErrorReceived,
    CallReceived,
    CallTimeout,
    LocalProtocolError,
    Malformation,
    RemoteProtocolError,
    Role,
)
from harness.transport.base import OcppSubprotocol
from tests import fake_transport
from tests.fake_transport import FakeTransport

NOW = "2025-01-01T00:00:00Z"

_LISTENING = [False]


@pytest.fixture(autouse=True, params=["recv", "listen"])
def _receive_path(request: pytest.FixtureRequest) -> Any:
    """Every test runs over both receive paths of :class:`OcppConnection`: a transport read
    with ``recv()`` in the receive loop, and one that hands each message to ``listen()``'s
    callback and sends with ``send_now()`` (as the WebSocket transport does)."""
    _LISTENING[0] = request.param == "listen"
    yield
    _LISTENING[0] = False


def fake_pair(
    subprotocol: OcppSubprotocol = OcppSubprotocol.V16,
) -> tuple[FakeTransport, FakeTransport]:
    """The transport pair for the receive path this test runs over."""
    if _LISTENING[0]:
        return fake_transport.listening_fake_pair(subprotocol)
    return fake_transport.fake_pair(subprotocol)


async def heartbeat(_: CallReceived) -> dict[str, Any]:
    return {"currentTime": NOW}


async def boot(event: CallReceived) -> dict[str, Any]:
    return {"status": "Accepted", "currentTime": NOW, "interval": 300}


def _pair(
    subprotocol: OcppSubprotocol = OcppSubprotocol.V16, **csms_handlers: Any
) -> tuple[OcppConnection, OcppConnection, ManualClock]:
    clock = ManualClock()
    station_end, csms_end = fake_pair(subprotocol)
    csms = OcppConnection.open(csms_end, role=Role.CSMS, clock=clock, handlers=csms_handlers)
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    return station, csms, clock


async def test_call_returns_the_validated_response() -> None:
    station, csms, _ = _pair(Heartbeat=heartbeat, BootNotification=boot)
    async with csms, station:
        result = await station.call(
            "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}
        )
        assert result.payload["interval"] == 300
        assert result.typed().value.interval == 300
        beat = await station.call("Heartbeat", {})
        assert beat.payload == {"currentTime": NOW}
    assert [r.direction.value for r in station.session.trace] == ["out", "in", "out", "in"]
    assert [r.direction.value for r in csms.session.trace] == ["in", "out", "in", "out"]


async def test_missing_handler_answers_not_implemented_and_call_raises() -> None:
    station, csms, _ = _pair()
    async with csms, station:
        with pytest.raises(CallErrorReceived) as info:
            await station.call("Heartbeat", {})
    assert info.value.code == "NotImplemented"
    assert info.value.action == "Heartbeat"


async def test_handler_can_refuse_with_a_specific_callerror() -> None:
    async def refuse(_: CallReceived) -> dict[str, Any]:
        raise CallErrorReply("SecurityError", "not you")

    station, csms, _ = _pair(Heartbeat=refuse)
    async with csms, station:
        with pytest.raises(CallErrorReceived, match="SecurityError"):
            await station.call("Heartbeat", {})


async def test_handler_returning_an_invalid_response_is_our_error() -> None:
    async def broken(_: CallReceived) -> dict[str, Any]:
        return {"currentTime": 12}

    station, csms, _ = _pair(Heartbeat=broken)
    async with csms, station:
        with pytest.raises(CallErrorReceived, match="InternalError"):
            await station.call("Heartbeat", {})
    assert len(csms.local_errors) == 1
    assert "schema" in csms.local_errors[0]


async def test_invalid_response_from_the_peer_raises_remote_protocol_error() -> None:
    clock = ManualClock()
    station_end, csms_end = fake_pair(OcppSubprotocol.V201)
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    async with station:
        task = asyncio.create_task(station.call("Heartbeat", {}))
        sent = await csms_end.recv()
        await csms_end.send(json.dumps([3, json.loads(sent)[1], {"currentTime": "yesterday"}]))
        with pytest.raises(RemoteProtocolError) as info:
            await task
    assert info.value.violation.kind is Malformation.PROPERTY
    assert len(station.violations) == 1


async def test_call_times_out_on_clock_time() -> None:
    clock = ManualClock()
    station_end, _csms_end = fake_pair()
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    async with station:
        task = asyncio.create_task(station.call("Heartbeat", {}, timeout_s=30))
        for _ in range(5):
            await asyncio.sleep(0)
        clock.advance(29)
        await asyncio.sleep(0)
        assert not task.done()
        clock.advance(1)
        with pytest.raises(CallTimeout) as info:
            await task
        assert info.value.timeout_s == 30
        assert station.session.outstanding_calls == []  # the slot is free again


async def test_second_concurrent_call_is_refused_unless_allowed() -> None:
    clock = ManualClock()
    station_end, _csms_end = fake_pair()
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    async with station:
        first = asyncio.create_task(station.call("Heartbeat", {}, timeout_s=None))
        await asyncio.sleep(0)
        with pytest.raises(LocalProtocolError):
            await station.call("Heartbeat", {})
        first.cancel()


async def test_closing_fails_the_waiting_call() -> None:
    clock = ManualClock()
    station_end, csms_end = fake_pair()
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    async with station:
        task = asyncio.create_task(station.call("Heartbeat", {}, timeout_s=None))
        await csms_end.recv()
        await csms_end.close()
        with pytest.raises(ConnectionClosed):
            await task
    with pytest.raises(ConnectionClosed):
        await station.call("Heartbeat", {})


async def test_malformed_frames_reach_the_peer_and_come_back_as_callerror() -> None:
    station, csms, _ = _pair(Heartbeat=heartbeat)
    async with csms, station:
        await station.send_raw("this is not json")
        reply = await asyncio.wait_for(_next_frame(station), 1)
        assert json.loads(reply)[:3] == [4, "-1", "FormationViolation"]
    assert csms.violations[0].violation.kind is Malformation.NOT_JSON
    assert station.session.trace[0].raw == "this is not json"


async def _next_frame(conn: OcppConnection) -> str:
    while True:
        for event in conn.violations:
            return event.raw
        await asyncio.sleep(0)


async def test_handler_that_suspends_is_continued_in_a_task() -> None:
    gate = asyncio.Event()

    async def slow(_: CallReceived) -> dict[str, Any]:
        await gate.wait()
        await asyncio.sleep(0)
        return {"currentTime": NOW}

    station, csms, _ = _pair(Heartbeat=slow)
    async with csms, station:
        task = asyncio.create_task(station.call("Heartbeat", {}, timeout_s=None))
        for _ in range(10):
            await asyncio.sleep(0)
        assert not task.done()
        assert csms.session.unanswered_calls != {}
        gate.set()
        result = await task
        assert result.payload == {"currentTime": NOW}


@pytest.mark.parametrize("expires_after_s", [0, 0.05], ids=["before-the-task-runs", "later"])
async def test_handler_may_open_asyncio_timeout_before_its_first_suspension(
    expires_after_s: float,
) -> None:
    """``asyncio.timeout()`` binds to the current task: for a handler that is its own (or its
    stand-in while it runs eagerly), so an expiring timeout cancels the handler (answered
    InternalError), never the receive loop. Expiring at once, the cancel comes before the
    handler's task has run a step; after 50 ms, while the task waits."""
    gate = asyncio.Event()
    entered: list[asyncio.Task[Any] | None] = []

    async def guarded(_: CallReceived) -> dict[str, Any]:
        entered.append(asyncio.current_task())
        async with asyncio.timeout(30):
            await asyncio.sleep(0)
            return {"currentTime": NOW}

    async def expiring(_: CallReceived) -> dict[str, Any]:
        async with asyncio.timeout(expires_after_s):
            await gate.wait()  # never set
        return {"currentTime": NOW}

    station, csms, _ = _pair(Heartbeat=guarded, Authorize=expiring)
    async with csms, station:
        receiver = csms._receiver
        assert (await station.call("Heartbeat", {}, timeout_s=30)).payload == {"currentTime": NOW}
        assert entered[0] is not None
        assert entered[0] is not receiver
        with pytest.raises(CallErrorReceived) as failed:
            await station.call("Authorize", {"idTag": "X"}, timeout_s=30)
        assert failed.value.code == "InternalError"
        # The receive loop lives on: the next CALL is still answered.
        assert (await station.call("Heartbeat", {}, timeout_s=30)).payload == {"currentTime": NOW}
        assert receiver is not None
        assert not receiver.done()
    assert any("TimeoutError" in e for e in csms.local_errors), csms.local_errors


async def test_a_continued_handler_can_also_be_awaited_directly() -> None:
    """The coroutine :meth:`OcppConnection._spawn` hands to a task after the eager part is a
    complete coroutine: awaited, it yields where the handler waits and returns its end."""
    gate = asyncio.Event()
    done: list[str] = []

    async def handler() -> None:
        await gate.wait()
        done.append("answered")

    async def awaiting(continued: _Continued) -> None:
        await continued

    coro = handler()
    first = coro.send(None)  # the eager part: runs up to the wait
    waiter = asyncio.ensure_future(awaiting(_Continued(coro, first)))
    await asyncio.sleep(0)
    assert not waiter.done()
    gate.set()
    await asyncio.wait_for(waiter, 5)
    assert done == ["answered"]


async def test_handler_can_call_the_peer_before_answering() -> None:
    """A handler that itself waits on the connection must not deadlock the receive loop."""
    clock = ManualClock()
    station_end, csms_end = fake_pair()
    got: list[str] = []

    async def boot_then_ask(event: CallReceived) -> dict[str, Any]:
        return {"status": "Accepted", "currentTime": NOW, "interval": 300}

    async def station_reset(event: CallReceived) -> dict[str, Any]:
        got.append(event.payload["type"])
        return {"status": "Accepted"}

    csms = OcppConnection.open(
        csms_end, role=Role.CSMS, clock=clock, handlers={"BootNotification": boot_then_ask}
    )
    station = OcppConnection.open(
        station_end, role=Role.CHARGING_STATION, clock=clock, handlers={"Reset": station_reset}
    )

    async def heartbeat_then_reset(event: CallReceived) -> dict[str, Any]:
        reply = await csms.call("Reset", {"type": "Soft"}, timeout_s=None)
        assert reply.payload == {"status": "Accepted"}
        return {"currentTime": NOW}

    csms._handlers["Heartbeat"] = heartbeat_then_reset
    async with csms, station:
        beat = await station.call("Heartbeat", {}, timeout_s=None)
    assert beat.payload == {"currentTime": NOW}
    assert got == ["Soft"]


async def test_shorter_timeout_fires_while_peer_stays_silent() -> None:
    clock = ManualClock()
    station_end, csms_end = fake_pair()
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    async with station:
        first = asyncio.create_task(station.call("Heartbeat", {}, timeout_s=1000))
        sent = json.loads(await csms_end.recv())
        await csms_end.send(json.dumps([3, sent[1], {"currentTime": NOW}]))
        await first
        task = asyncio.create_task(station.call("Heartbeat", {}, timeout_s=5))
        for _ in range(5):
            await asyncio.sleep(0)
        clock.advance(5)
        with pytest.raises(CallTimeout):
            await asyncio.wait_for(task, 2)  # guard: a missed timeout fails, not hangs


async def test_send_frames_reach_the_send_handler() -> None:
    clock = ManualClock()
    station_end, csms_end = fake_pair(OcppSubprotocol.V21)
    seen: list[dict[str, Any]] = []

    async def stream(event: Any) -> None:
        seen.append(event.payload)

    csms = OcppConnection.open(
        csms_end, role=Role.CSMS, clock=clock, send_handlers={"NotifyPeriodicEventStream": stream}
    )
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    payload = {"id": 1, "pending": 0, "basetime": NOW, "data": [{"t": 0, "v": "1"}]}
    async with csms, station:
        await station.send_send("NotifyPeriodicEventStream", payload)
        for _ in range(10):
            await asyncio.sleep(0)
    assert seen == [payload]
    assert csms_end.sent == []  # a SEND is never answered


async def test_a_failing_event_callback_is_our_error_and_does_not_stop_the_connection() -> None:
    clock = ManualClock()
    station_end, csms_end = fake_pair()

    def explode(_: Any) -> None:
        raise RuntimeError("observer bug")

    csms = OcppConnection.open(
        csms_end, role=Role.CSMS, clock=clock, handlers={"Heartbeat": heartbeat}, on_event=explode
    )
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    async with csms, station:
        result = await station.call("Heartbeat", {}, timeout_s=None)
    assert result.payload == {"currentTime": NOW}
    assert csms.local_errors
    assert "observer bug" in csms.local_errors[0]


async def test_call_before_start_is_our_error() -> None:
    station_end, _ = fake_pair()
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=ManualClock())
    with pytest.raises(LocalProtocolError, match="start"):
        await station.call("Heartbeat", {})


async def test_sending_keeps_order_when_send_now_cannot_take_a_text() -> None:
    """A text ``send_now`` refuses goes out with ``send``; while it waits there, later texts
    wait behind it instead of overtaking it with ``send_now``."""
    station_end, csms_end = fake_transport.listening_fake_pair()
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=ManualClock())
    gate = asyncio.Event()
    waiting_in_send = asyncio.Event()
    plain_send = station_end.send

    async def slow_send(text: str) -> None:
        waiting_in_send.set()
        await gate.wait()  # a full write buffer
        await plain_send(text)

    station_end.send = slow_send  # type: ignore[method-assign]
    async with station:
        station_end.send_now_accepts = 1
        await station.send_raw('"first"')  # taken at once
        second = asyncio.create_task(station.send_raw('"second"'))  # refused: waits in send
        await asyncio.wait_for(waiting_in_send.wait(), 5)
        station_end.send_now_accepts = None  # send_now would take anything now ...
        third = asyncio.create_task(station.send_raw('"third"'))
        async with asyncio.timeout(5):
            while station._sending < 2:  # noqa: ASYNC110 (the third queues for the lock)
                await asyncio.sleep(0)
        assert station_end.sent == ['"first"']  # ... but the third waits behind the second
        gate.set()
        await asyncio.wait_for(asyncio.gather(second, third), 5)
    assert station_end.sent == ['"first"', '"second"', '"third"']
    assert station_end.sent_now == ['"first"']
    assert [r.raw for r in station.session.trace] == ['"first"', '"second"', '"third"']
    del csms_end


async def test_over_a_listening_transport_frames_come_by_callback_and_go_out_at_once() -> None:
    """With ``listen()``, the CSMS answers inside the transport's callback and the station's
    caller is woken straight from it; every frame goes out with ``send_now``."""
    station_end, csms_end = fake_transport.listening_fake_pair()
    station, csms, _ = _pair_over(station_end, csms_end, Heartbeat=heartbeat)
    async with csms, station:
        assert (await station.call("Heartbeat", {})).payload == {"currentTime": NOW}
        assert (await station.call("Heartbeat", {})).payload == {"currentTime": NOW}
    assert station_end.listened
    assert csms_end.listened
    assert csms_end.sent_now == csms_end.sent  # every answer went out at once
    assert len(csms_end.sent) == 2
    assert station_end.sent_now == station_end.sent


def _pair_over(
    station_end: FakeTransport, csms_end: FakeTransport, **csms_handlers: Any
) -> tuple[OcppConnection, OcppConnection, ManualClock]:
    clock = ManualClock()
    csms = OcppConnection.open(csms_end, role=Role.CSMS, clock=clock, handlers=csms_handlers)
    station = OcppConnection.open(station_end, role=Role.CHARGING_STATION, clock=clock)
    return station, csms, clock
