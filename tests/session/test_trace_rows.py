"""The in-memory trace: records read back exactly as made, rows cheap for the collector."""

from __future__ import annotations

import gc
import json

from harness.session import MessageType, Role, TraceRecord
from harness.session.trace import Direction
from harness.versions import OcppVersion
from tests.session.conftest import T0, at, make_session


def test_the_kept_trace_equals_the_records_the_sink_saw() -> None:
    seen: list[TraceRecord] = []
    csms = make_session(OcppVersion.V16, Role.CSMS, trace_sink=seen.append)
    csms.receive_text('[2,"1","Heartbeat",{}]', now=T0)
    csms.send_result("1", {"currentTime": "2025-01-01T00:00:00Z"}, now=at(1))
    csms.receive_text("[2,{}]", now=at(2))  # unreadable id: a plain int type, no enum
    csms.receive_text('[9,"x"]', now=at(3))  # a type no version defines
    csms.receive_text("not json", now=at(4))  # no type at all
    csms.receive_binary(b"\x01", now=at(5))
    assert csms.trace == seen
    kinds = [(r.message_type, type(r.message_type)) for r in csms.trace]
    assert kinds[:2] == [(MessageType.CALL, MessageType), (MessageType.CALLRESULT, MessageType)]
    assert kinds[2] == (2, int)
    assert [r.direction for r in csms.trace][:2] == [Direction.IN, Direction.OUT]
    assert [json.dumps(r.to_json()) for r in csms.trace] == [json.dumps(r.to_json()) for r in seen]


def test_kept_rows_are_left_alone_by_the_garbage_collector() -> None:
    """Keeping the trace leaves no object per frame for the collector to track: none that
    counts towards the next collection, none that it has to scan in the full ones."""
    station = make_session(OcppVersion.V16, Role.CHARGING_STATION)

    def exchanges(count: int) -> None:
        for n in range(count):
            call = station.send_call("Heartbeat", {}, now=at(n))
            answer = f'[3,"{call.message_id}",{{"currentTime":"2025-01-01T00:00:00Z"}}]'
            station.receive_text(answer, now=at(n))

    exchanges(5)  # schemas compiled, caches filled
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        exchanges(200)  # 400 frames kept
        grown = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert grown < 40
    assert len(station.trace) == 410
    assert not any(gc.is_tracked(value) for value in station._rows)
