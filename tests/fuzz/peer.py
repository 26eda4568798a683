"""A hostile station for fuzzing the harness's own listeners (issue #16).

:class:`FuzzPeer` is a synchronous WebSocket client (``websockets.sync``) that keeps one
*active* connection to a target (``run --target listen``, ``serve``, the recording proxy),
answers the harness's own CALLs (the reset's ClearChargingProfile...) so that the target's
cases can run, and sends what the fuzz classes below make. After each batch it sends a
sentinel Heartbeat and reads until its answer: frames are processed in order, so by then
every answer to the batch has arrived and can be checked against OCPP-J.

The classes (:data:`CLASSES`), each a Hypothesis strategy of :class:`Batch`:

================  =================================================  ======================
class             what is sent                                       OCPP-J / expected
================  =================================================  ======================
invalid_json      text that is not JSON                              CALLERROR, id "-1"
deep_nesting      arrays/objects nested 65-20 000 deep               CALLERROR, id "-1"
huge_frame        one message over the 4 MiB limit                   close 1009
binary            a binary frame                                     no answer
invalid_utf8      a text frame whose bytes are not UTF-8             close 1007
wrong_type_id     ``[t, id, ...]`` with t not a MessageTypeId        CALLERROR, its id
unknown_action    a CALL of an action the version does not have      CALLERROR, its id
unknown_id        CALLRESULT/CALLERROR to an id never sent           no answer
reused_id         a CALL reusing an id already answered              CALLRESULT (recorded)
flood             50-300 Heartbeats back to back                     each answered
slowloris         an opening handshake that never completes          others still served
same_id_storm     3-8 connections of the station at once             the newest served
nan_infinity      NaN/Infinity literals; "NaN"/1e999 meter values    "-1" / answered
id_traversal      station ids like ``../../x``, NUL, 300 characters  refused or contained
================  =================================================  ======================

Everything sent on a connection the target had taken is remembered (:attr:`FuzzPeer.sent`),
so that a test can check that every frame is in the run folder.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

Expect = Literal["result", "error", "error-1", "none", "close"]

BOOT = {
    "1.6": {"chargePointVendor": "Fuzz", "chargePointModel": "Peer"},
    "2.0.1": {"chargingStation": {"vendorName": "Fuzz", "model": "Peer"}, "reason": "PowerUp"},
}
SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
_ANSWER: dict[str, dict[str, Any]] = {
    "GetConfiguration": {"configurationKey": []},
    "GetCompositeSchedule": {"status": "Rejected"},
}
WAIT_S = 20.0
"""Bound on every wait of the peer (an answer, a handshake, a close)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One message to send and what OCPP-J says should come back."""

    data: str | bytes
    expect: Expect
    message_id: str | None = None
    close_code: int | None = None
    raw_text: bool = False
    """Send ``data`` (bytes) as a *text* frame without UTF-8 validation."""
    sync_first: bool = False
    """Wait until everything before is answered, then send (e.g. to reuse an answered id)."""


@dataclass(frozen=True, slots=True)
class Batch:
    """What one fuzz class makes: frames on the active connection, or a connection trick."""

    cls: str
    frames: tuple[Frame, ...] = ()
    storm: int = 0
    slowloris: bool = False
    station_ids: tuple[str, ...] = ()


@dataclass
class Finding:
    """Something the target did that OCPP-J (or the issue) does not allow."""

    cls: str
    what: str


@dataclass
class FuzzPeer:
    """The fuzzing station (see the module docstring)."""

    url_of: Callable[[str], str]
    """The target URL for a station id (already percent-encoded by the caller's rule)."""
    station_id: str
    version: str = "1.6"
    sent: list[str | bytes] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    ws: ClientConnection | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _slow: list[socket.socket] = field(default_factory=list)

    # ------------------------------------------------------------ connection

    def new_id(self, prefix: str = "f") -> str:
        """A message id never used before on this peer."""
        return f"{prefix}{next(self._ids)}"

    def open(self, station_id: str | None = None) -> ClientConnection:
        """A new connection (not yet booted)."""
        ws = connect(
            self.url_of(station_id or self.station_id),
            subprotocols=[SUBPROTOCOL[self.version]],  # type: ignore[list-item]
            max_size=None,
            compression=None,
            open_timeout=WAIT_S,
            close_timeout=2,
        )
        # Entered by hand: the peer closes each connection itself (storms keep several).
        return ws.__enter__()

    def activate(self, ws: ClientConnection) -> None:
        """Make ``ws`` the active connection once the target answers its BootNotification
        (a target takes a connection when its run is ready for it)."""
        self.ws = ws
        boot = self.new_id("boot")
        self._send_raw(json.dumps([2, boot, "BootNotification", BOOT[self.version]]))
        self._read_until(boot)

    def ensure(self) -> None:
        """An open, booted active connection (reconnect after a close)."""
        if self.ws is None or self.ws.close_code is not None:
            self.activate(self.open())

    def close(self) -> None:
        """Close the active connection and any half-open handshakes."""
        if self.ws is not None:
            with contextlib.suppress(Exception):
                self.ws.close()
        for sock in self._slow:
            sock.close()
        self._slow.clear()

    # ---------------------------------------------------------------- frames

    def _send_raw(self, data: str | bytes, *, raw_text: bool = False) -> None:
        assert self.ws is not None
        if raw_text:
            self.ws.send(data, text=True)
        else:
            self.ws.send(data)

    def _answer(self, message: list[Any]) -> None:
        """Answer a CALL of the target (its cases' reset and steps) as a willing station."""
        action = message[2] if len(message) > 2 else ""
        payload = _ANSWER.get(action, {"status": "Accepted"})
        self._send_raw(json.dumps([3, message[1], payload]))

    def _read_until(self, message_id: str) -> list[list[Any]]:
        """Frames received (answering the target's CALLs) until the answer to
        ``message_id``; the answers to our own frames among them."""
        assert self.ws is not None
        deadline = time.monotonic() + WAIT_S
        got: list[list[Any]] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {message_id} within {WAIT_S:g} s")
            text = self.ws.recv(timeout=left)
            message = json.loads(text)
            if message[0] == 2:
                self._answer(message)
                continue
            if message[1] == message_id:
                return got
            got.append(message)

    def run(self, batch: Batch) -> None:
        """Send ``batch`` and check the target's answers; findings go to :attr:`findings`."""
        self.counts[batch.cls] = self.counts.get(batch.cls, 0) + 1
        if batch.slowloris:
            self._slowloris()
        if batch.storm:
            self._storm(batch.storm)
        for sid in batch.station_ids:
            self._foreign_id(batch.cls, sid)
        self.ensure()
        expected: list[Frame] = []
        for frame in batch.frames:
            if frame.sync_first and not self._sync(batch.cls, expected):
                return
            if frame.sync_first:
                expected = []
            try:
                self._send_raw(frame.data, raw_text=frame.raw_text)
            except ConnectionClosed:
                if frame.expect != "close":
                    self.findings.append(Finding(batch.cls, "closed before a frame was sent"))
                    return
            if frame.expect == "close":
                self._expect_close(batch.cls, frame)
                self.ensure()  # at once: a target waits only so long for a reconnection
                return
            self.sent.append(frame.data)
            expected.append(frame)
        self._sync(batch.cls, expected)

    def _sync(self, cls: str, expected: list[Frame]) -> bool:
        """Send a sentinel, read until its answer, check the answers to ``expected``."""
        sentinel = self.new_id("sync")
        try:
            self._send_raw(json.dumps([2, sentinel, "Heartbeat", {}]))
            got = self._read_until(sentinel)
        except (ConnectionClosed, TimeoutError) as exc:
            self.findings.append(Finding(cls, f"no answer to the sentinel: {exc!r}"))
            return False
        self._check(cls, expected, got)
        return True

    def _check(self, cls: str, expected: list[Frame], got: list[list[Any]]) -> None:
        by_id: dict[str, list[int]] = {}
        for message in got:
            by_id.setdefault(str(message[1]), []).append(int(message[0]))
        unreadable = sum(1 for f in expected if f.expect == "error-1")
        if len(by_id.get("-1", [])) != unreadable:
            self.findings.append(
                Finding(cls, f"{len(by_id.get('-1', []))} answers with id -1, {unreadable} due")
            )
        for frame in expected:
            if frame.message_id is None:
                continue
            answers = by_id.get(frame.message_id, [])
            want = {"result": [3], "error": [4], "none": []}.get(frame.expect)
            if want is not None and answers != want:
                self.findings.append(
                    Finding(cls, f"{frame.message_id}: answered {answers}, OCPP-J wants {want}")
                )

    def _expect_close(self, cls: str, frame: Frame) -> None:
        assert self.ws is not None
        deadline = time.monotonic() + WAIT_S
        try:
            while time.monotonic() < deadline:
                text = self.ws.recv(timeout=deadline - time.monotonic())
                message = json.loads(text)
                if message[0] == 2:
                    self._answer(message)
        except ConnectionClosed:
            pass
        except TimeoutError:
            self.findings.append(Finding(cls, "the connection was not closed"))
            return
        code = self.ws.close_code
        if code != frame.close_code:
            self.findings.append(Finding(cls, f"closed with {code}, expected {frame.close_code}"))

    # ----------------------------------------------------- connection tricks

    def _storm(self, count: int) -> None:
        """``count`` connections of the station at once; the newest becomes active."""
        extra = [self.open() for _ in range(count)]
        old, newest = self.ws, extra[-1]
        for ws in extra[:-1]:
            ws.close()
        self.activate(newest)
        if old is not None:
            with contextlib.suppress(Exception):
                old.recv(timeout=WAIT_S)  # the target closes the replaced one (1008)
            if old.close_code is None:
                self.findings.append(Finding("same_id_storm", "the replaced connection is open"))
            old.close()

    def _slowloris(self) -> None:
        """Start an opening handshake and never finish it (kept open until :meth:`close`)."""
        url = self.url_of(self.station_id)
        host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
        sock = socket.create_connection((host.strip("[]"), int(port)), timeout=WAIT_S)
        sock.sendall(f"GET /{self.station_id} HTTP/1.1\r\nHost: {host}\r\nUpgr".encode())
        self._slow.append(sock)

    def _foreign_id(self, cls: str, station_id: str) -> None:
        """Connect under another (hostile) id: refused at the door, or closed at once."""
        try:
            ws = self.open(station_id)
        except InvalidStatus as exc:
            if exc.response.status_code >= 500:
                self.findings.append(Finding(cls, f"HTTP {exc.response.status_code}"))
            return
        except (OSError, TimeoutError) as exc:
            self.findings.append(Finding(cls, f"handshake failed: {exc!r}"))
            return
        with contextlib.suppress(Exception):
            ws.close()


# ---------------------------------------------------------------- strategies

_IDS = st.text(st.characters(codec="ascii", exclude_characters='"\\'), min_size=1, max_size=30)


def _call(peer_ids: Callable[[], str], action: str, payload: Any, expect: Expect) -> Frame:
    mid = peer_ids()
    return Frame(json.dumps([2, mid, action, payload]), expect, mid)


def classes(peer: FuzzPeer, *, max_frame_bytes: int = 4 * 1024 * 1024) -> dict[str, Any]:
    """The fuzz classes as Hypothesis strategies of :class:`Batch` for ``peer``."""
    v16 = peer.version == "1.6"
    new_id = peer.new_id

    def invalid_json(text: str) -> Batch:
        return Batch("invalid_json", (Frame(text, "error-1"),))

    def deep(depth: int, bracket: str) -> Batch:
        opener, closer = bracket[0], bracket[1]
        return Batch("deep_nesting", (Frame(opener * depth + closer * depth, "error-1"),))

    def huge(extra: int) -> Batch:
        body = "x" * (max_frame_bytes + extra)
        text = json.dumps([2, new_id(), "DataTransfer", {"vendorId": body}])
        return Batch("huge_frame", (Frame(text, "close", close_code=1009),))

    def binary(data: bytes) -> Batch:
        return Batch("binary", (Frame(data, "none"),))

    def bad_utf8(data: bytes) -> Batch:
        return Batch("invalid_utf8", (Frame(b"[2,\xff" + data, "close", close_code=1007,
                                            raw_text=True),))  # fmt: skip

    def wrong_type(type_id: int) -> Batch:
        mid = new_id()
        return Batch("wrong_type_id", (Frame(json.dumps([type_id, mid, "Heartbeat", {}]),
                                             "error", mid),))  # fmt: skip

    def unknown_action(name: str) -> Batch:
        return Batch("unknown_action", (_call(new_id, f"Zz{name}", {}, "error"),))

    def unknown_id(mid: str, error: bool) -> Batch:
        frame = [4, f"nobody-{mid}", "GenericError", "", {}] if error else [3, f"nobody-{mid}", {}]
        return Batch("unknown_id", (Frame(json.dumps(frame), "none", f"nobody-{mid}"),))

    def reused_id() -> Batch:
        first = _call(new_id, "Heartbeat", {}, "result")
        # the same id once the first was answered: still answered (the reuse is recorded)
        again = Frame(first.data, "result", first.message_id, sync_first=True)
        return Batch("reused_id", (first, again))

    def flood(count: int) -> Batch:
        return Batch("flood", tuple(_call(new_id, "Heartbeat", {}, "result")
                                    for _ in range(count)))  # fmt: skip

    def nan(kind: int) -> Batch:
        if kind == 0:
            return Batch("nan_infinity", (Frame('[2,"n1","Heartbeat",{"x":NaN}]', "error-1"),))
        if kind == 1:
            return Batch("nan_infinity", (Frame('[2,"n2","Heartbeat",{"x":-Infinity}]',
                                                "error-1"),))  # fmt: skip
        if v16:
            sampled: dict[str, Any] = {"value": "NaN", "measurand": "Power.Active.Import"}
            payload: dict[str, Any] = {
                "connectorId": 1,
                "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [sampled]}],
            }
            return Batch("nan_infinity", (_call(new_id, "MeterValues", payload, "result"),))
        mid = new_id()
        text = (
            '[2,"' + mid + '","MeterValues",{"evseId":1,"meterValue":[{"timestamp":'
            '"2026-01-01T00:00:00Z","sampledValue":[{"value":1e999}]}]}]'
        )
        return Batch("nan_infinity", (Frame(text, "none", None),))  # answer not judged here

    def traversal(raw: str) -> Batch:
        return Batch("id_traversal", station_ids=(quote(raw, safe=""),))

    wrong_types = st.integers(-3, 12).filter(lambda t: t not in (2, 3, 4, 5, 6))
    return {
        "invalid_json": st.sampled_from(["{", "[2,", "nope", '[2,"x"', '"str"', "[]]", "\t"]).map(
            invalid_json
        ),
        "deep_nesting": st.builds(deep, st.integers(65, 20_000), st.sampled_from(["[]", "{}"])),
        "huge_frame": st.builds(huge, st.integers(1, 4096)),
        "binary": st.binary(min_size=0, max_size=64).map(binary),
        "invalid_utf8": st.binary(max_size=16).map(bad_utf8),
        "wrong_type_id": wrong_types.map(wrong_type),
        "unknown_action": st.text("abcXYZ", min_size=1, max_size=12).map(unknown_action),
        "unknown_id": st.builds(unknown_id, _IDS, st.booleans()),
        "reused_id": st.just(None).map(lambda _: reused_id()),
        "flood": st.integers(50, 300).map(flood),
        "slowloris": st.just(Batch("slowloris", slowloris=True)),
        "same_id_storm": st.integers(3, 8).map(lambda n: Batch("same_id_storm", storm=n)),
        "nan_infinity": st.integers(0, 2).map(nan),
        "id_traversal": st.sampled_from(
            ["../../escape", "..", ".", "a/../../b", "x\x00y", "C" * 300, "%2e%2e", "../"]
        ).map(traversal),
    }
