"""The cheap trace path: lines built from the frame, the same redaction, buffered writes.

What must not change with the faster path: the line written for a frame (byte for byte the
dict route's ``json.dumps(record.to_json())``), what is redacted (exactly
``redact_frame``'s rules), and that a stored verdict's frames are on disk.
"""

from __future__ import annotations

import asyncio
import enum
import json
import os
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.results import (
    CaseResult,
    CheckResult,
    Manifest,
    RunStorageError,
    RunStore,
    RunStoreError,
    TraceSink,
)
from harness.results.store import _dumps
from harness.results.traceline import TraceLines
from harness.security import REDACTED, redact_frame
from harness.security.redaction import FrameRedactor
from harness.session import Direction, Malformation, MessageType, TraceRecord
from harness.session.errors import ErrorCode, Violation
from harness.transport.base import OcppSubprotocol

from .strategies import MUST, T0, info

SECRET = "S3cret-Passw0rd-0123"
PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqG\n-----END PRIVATE KEY-----\n"


def frame(*parts: object) -> str:
    return json.dumps(list(parts))


# Every kind of secret the redaction tests (tests/security/test_redaction.py) cover in a frame.
SECRET_FRAMES = [
    ('[2, "7",  "ChangeConfiguration", {"key": "AuthorizationKey", "value": "00ff11ee"}]',
     "00ff11ee"),
    (frame(3, "1", {"configurationKey": [{"key": "AuthorizationKey", "readonly": False,
                                         "value": "a1b2c3d4"}]}), "a1b2c3d4"),
    (frame(2, "1", "SetVariables", {"setVariableData": [{
        "attributeValue": SECRET, "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"}}]}), SECRET),
    (frame(2, "1", "NotifyReport", {"reportData": [{
        "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
        "variableAttribute": [{"value": "Pw-in-report-77"}]}]}), "Pw-in-report-77"),
    (frame(2, "1", "SetNetworkProfile", {"connectionData": {
        "apn": {"apnPassword": "apn-pw-4242"}, "vpn": {"key": "vpn-key-4242"}}}), "apn-pw-4242"),
    (frame(2, "1", "SetNetworkProfile", {"connectionData": {
        "vpn": {"key": "vpn-key-4242", "password": "x"}}}), "vpn-key-4242"),
    (frame(2, "1", "SetNetworkProfile", {"connectionData": {
        "ocppCsmsUrl": "wss://CP1:Pw-123456789abcdef@csms.lab/ocpp"}}), "Pw-123456789abcdef"),
    (frame(2, "1", "DataTransfer", {"vendorId": "x", "data": f"pw={SECRET};"}), SECRET),
    (frame(2, "1", "DataTransfer", {"vendorId": "x", "data": PEM}), "MIGHAgEAMBMGByqGSM49"),
    (frame(2, "1", "DataTransfer", {"data": "Authorization: Basic Q1AxOnNlY3JldA=="}),
     "Q1AxOnNlY3JldA=="),
    ('[2, "1", "DataTransfer", {"password": "cut-sh', "cut-sh"),  # not JSON: a frame cut short
]  # fmt: skip


def record(raw: str, **changes: object) -> TraceRecord:
    fields: dict[str, object] = {
        "t": datetime(2026, 12, 7, 23, 30, 1, 250, tzinfo=UTC),
        "direction": Direction.IN,
        "raw": raw,
        "station": "CP-1",
        "message_type": 2,
        "message_id": "1",
        "action": "Heartbeat",
    }
    fields.update(changes)
    return TraceRecord(**fields)  # type: ignore[arg-type]


def dict_route(rec: TraceRecord, secrets: tuple[str, ...] = ()) -> str:
    """The line the store wrote before this path: ``record.to_json()`` redacted, dumped."""
    frame_ = rec.to_json()
    frame_["raw"] = redact_frame(frame_["raw"], secrets=secrets)
    return _dumps(frame_) + "\n"


VIOLATION = Violation(
    Malformation.UNKNOWN_ACTION,
    "OCPP-J 4.2.1",
    "no such action",
    "9",
    "Fly",
    ErrorCode.NOT_IMPLEMENTED,
)
_text = st.text(max_size=40)
_times = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
) | st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=2)), UTC]))


@given(
    raw=_text | st.sampled_from([r for r, _ in SECRET_FRAMES]),
    t=_times,
    station=_text,
    kind=st.none() | st.integers(min_value=2, max_value=6),
    message_id=st.none() | _text,
    action=st.none() | _text,
    direction=st.sampled_from(list(Direction)),
    violations=st.sampled_from([(), (VIOLATION,)]),
    secrets=st.sampled_from([(), (SECRET,), ("x", '"q"')]),
)
@example(raw='[2,"1","Heartbeat",{}]', t=datetime(999, 1, 1, tzinfo=UTC), station="CP",
         kind=2, message_id="1", action="Heartbeat", direction=Direction.OUT, violations=(),
         secrets=())  # fmt: skip
def test_a_line_built_from_the_frame_is_the_dict_routes_line(
    raw: str,
    t: datetime,
    station: str,
    kind: int | None,
    message_id: str | None,
    action: str | None,
    direction: Direction,
    violations: tuple[Violation, ...],
    secrets: tuple[str, ...],
) -> None:
    lines = TraceLines(FrameRedactor(secrets), _dumps)
    rec = record(raw, t=t, station=station, message_type=kind, message_id=message_id,
                 action=action, direction=direction, violations=violations)  # fmt: skip
    assert lines.line(rec) == dict_route(rec, secrets)
    # a second frame one second on (the cached date/time and station are refreshed)
    later = record(raw, t=t + timedelta(seconds=1, microseconds=7) if t.year < 9999 else t)
    assert lines.line(later) == dict_route(later, secrets)


_EDGES = [
    datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC),
    datetime(1000, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 58, tzinfo=UTC),
]


class _OtherDirection(enum.StrEnum):
    IN = "inbound"
    OUT = "out"


@given(
    start=st.sampled_from(_EDGES) | _times,
    frames=st.lists(
        st.tuples(
            st.integers(-2_000_000, 2_000_000),  # microseconds from start
            st.sampled_from([*Direction, *_OtherDirection]),
            st.none() | st.integers(0, 7) | st.sampled_from([*MessageType, True]),
            st.sampled_from(["CP-1", "CP-2", ""]),
            st.none() | st.sampled_from(["1", "abcd1234-17", 'q"\\\u00e9']),
            st.none() | st.sampled_from(["Heartbeat", "BootNotification", "Ä"]),
        ),
        min_size=1,
        max_size=12,
    ),
)
@example(  # the next second's first instant, then the last instant of year 9999
    start=datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC),
    frames=[
        (500_000, Direction.IN, 2, "CP-1", "1", "Heartbeat"),
        (1_000_000, Direction.OUT, 3, "CP-1", "1", "Heartbeat"),
        (999_999, _OtherDirection.IN, MessageType.CALL, "CP-1", "1", None),
    ],
)
@example(
    start=datetime(9999, 12, 31, 23, 59, 59, 999_998, tzinfo=UTC),
    frames=[(0, Direction.IN, 2, "CP-1", "1", None), (1, Direction.IN, 2, "CP-1", "1", None),
            (1, Direction.OUT, True, "CP-2", None, "Ä")],
)  # fmt: skip
def test_each_line_of_a_trace_is_the_dict_routes_line(
    start: datetime,
    frames: list[tuple[int, enum.Enum, int | None, str, str | None, str | None]],
) -> None:
    """One TraceLines over many frames: what it keeps from frame to frame (the second, the
    station, the directions) never shows in a line (times moving back and forth across
    seconds, the years 1000 and 9999, alternating directions, types as ints or members)."""
    lines = TraceLines(FrameRedactor(), _dumps)
    raw = '[2,"1","Heartbeat",{}]'
    for offset_us, direction, kind, station, message_id, action in frames:
        try:
            t = start + timedelta(microseconds=offset_us)
        except OverflowError:
            continue
        rec = record(raw, t=t, direction=direction, message_type=kind, station=station,
                     message_id=message_id, action=action)  # fmt: skip
        assert lines.line(rec) == dict_route(rec)


def test_a_naive_time_takes_the_dict_route() -> None:
    rec = record('[2,"1","Heartbeat",{}]', t=datetime(2026, 1, 1, 12))
    assert TraceLines(FrameRedactor(), _dumps).line(rec) == dict_route(rec)


@given(raw=st.text(max_size=60) | st.sampled_from([r for r, _ in SECRET_FRAMES]),
       secrets=st.lists(st.text(min_size=1, max_size=6), max_size=2))  # fmt: skip
@example(raw="a@b", secrets=[])
@example(raw="wss://u:p@h", secrets=[])
@example(raw="vpn", secrets=[])
def test_the_frame_redactor_is_redact_frame(raw: str, secrets: list[str]) -> None:
    assert FrameRedactor(secrets)(raw) == redact_frame(raw, secrets=secrets)


# Text around the words FrameRedactor's gate looks for, in any letter case, with separators
# and escapes, the non-ASCII letters that match ASCII ones when case is ignored (Kelvin K,
# long s, dotless i), and plain frames.
def test_the_trace_lines_redactor_hides_every_secret() -> None:
    for raw, secret in SECRET_FRAMES:
        assert secret not in FrameRedactor([SECRET])(raw)


@pytest.mark.parametrize(("raw", "secret"), SECRET_FRAMES)
async def test_no_secret_reaches_the_trace_file(tmp_path: Path, raw: str, secret: str) -> None:
    sink = TraceSink(tmp_path / "t.jsonl", "k", secrets=[SECRET])
    sink.append_record(record(raw))
    sink.append_record(record('[2,"2","Heartbeat",{}]'))
    sink.close()
    text = (tmp_path / "t.jsonl").read_text(encoding="utf-8")
    assert secret not in text
    assert REDACTED in text
    assert len(text.splitlines()) == 2


async def test_frames_are_buffered_then_written_within_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    sink = TraceSink(path, "k", flush_after_s=0.05)
    for i in range(5):
        assert sink.append_record(record(f'[2,"{i}","Heartbeat",{{}}]', message_id=str(i))) == i
    assert path.read_bytes() == b""  # no write yet: the loop has not run since
    deadline = time.monotonic() + 10
    while path.read_bytes().count(b"\n") < 5 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == list("01234")
    sink.close()


async def test_a_full_buffer_is_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    rec = record('[2,"1","DataTransfer",{"data":"' + "x" * 400 + '"}]')
    size = len(dict_route(rec))
    sink = TraceSink(path, "k", flush_after_s=3600, buffer_chars=3 * size)
    sink.append_record(rec)
    sink.append_record(rec)
    assert path.read_bytes() == b""
    sink.append_record(rec)
    assert path.read_bytes().count(b"\n") == 3  # 3 lines' worth waited: one write
    sink.close()


def test_without_an_event_loop_each_frame_is_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    sink = TraceSink(path, "k")
    sink.append_record(record('[2,"1","Heartbeat",{}]'))
    assert path.read_bytes().count(b"\n") == 1
    sink.close()


async def test_the_verdict_makes_the_trace_durable(tmp_path: Path) -> None:
    """``write_result`` closes (fsyncs) the case's trace before the result line is written:
    the frames a stored check cites are all in the file."""
    manifest = Manifest(
        run_id="r", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V16,)
    )
    writer = RunStore.create(tmp_path, manifest)
    case = info()
    sink = writer.trace_sink(case.key)
    sink.flush_after_s = 3600  # only the verdict writes the frames
    for i in range(3):
        sink.append_record(record(f'[2,"{i}","Heartbeat",{{}}]', message_id=str(i)))
    check = CheckResult.passed(MUST, expected="an answer", actual="answered", frames=(0, 2))
    writer.write_result(CaseResult(case, T0, T0, 0.1, checks=(check,)))
    assert len(RunStore.open(writer.run_dir).trace(case.key)) == 3
    writer.close()


async def test_a_failed_timed_write_is_raised_by_the_next_call(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    sink = TraceSink(path, "k", flush_after_s=0.01)
    sink.append_record(record('[2,"1","Heartbeat",{}]'))
    real_fd = sink._fd
    assert real_fd is not None
    bad = os.open(tmp_path / "ro", os.O_RDONLY | os.O_CREAT)  # writes to it fail: EBADF
    sink._fd = bad
    deadline = time.monotonic() + 10
    while sink._error is None and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    with pytest.raises(RunStorageError, match="cannot write the run folder"):
        sink.append_record(record('[2,"2","Heartbeat",{}]'))
    sink._fd = real_fd
    with pytest.raises(RunStorageError):
        sink.close()
    os.close(bad)
    assert sink.closed


def test_appending_to_a_closed_trace_is_refused(tmp_path: Path) -> None:
    sink = TraceSink(tmp_path / "t.jsonl", "k")
    sink.close()
    with pytest.raises(RunStoreError, match="closed"):
        sink.append_record(record("[]"))


async def test_closing_from_another_thread_leaves_the_loops_timer_alone(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    path = tmp_path / "t.jsonl"
    sink = TraceSink(path, "k", flush_after_s=0.01)
    sink.append_record(record('[2,"1","Heartbeat",{}]'))
    await asyncio.to_thread(sink.close)  # as session_throughput.py closes its traces
    assert path.read_bytes().count(b"\n") == 1
    later = asyncio.Event()
    loop.call_later(0.05, later.set)  # runs after the sink's timer (due at 0.01 s)
    await asyncio.wait_for(later.wait(), 30)
    assert errors == []  # the timer fired and found nothing to write
    assert path.read_bytes().count(b"\n") == 1
    loop.set_exception_handler(None)
