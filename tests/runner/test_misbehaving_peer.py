"""The harness against a misbehaving station over real websockets on loopback (issue #8.4).

Each test runs three cases, A, B and C, against a scripted station (``peer_script``) that
misbehaves during B. The harness must not crash or hang, must give B a verdict that names
what happened, and must keep A's and C's results (both PASS, both in the run store).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from harness.clock import ScaledClock
from harness.results import CaseResult, Manifest, RunReader, RunStore, Verdict, new_run_id
from harness.runner import (
    AutoOperator,
    ListenLimits,
    ListenProvider,
    PlannedCase,
    RunOptions,
    run_cases,
)
from harness.scenario import load_case_file, resolve_parameters
from harness.transport import OcppSubprotocol
from tests.runner.helpers import CAPS
from tests.runner.peer_script import Misbehaviour, ScriptedPeer, wait_closed


def _case(case_id: str, key: str, *, timeout_s: float = 5.0, wait_s: float | None = None) -> str:
    wait = f"\n    - {{kind: wait, duration_s: {wait_s}}}" if wait_s is not None else ""
    return f"""
- id: {case_id}
  title: configuration {key}
  suite: misbehaviour
  ocpp_versions: ["1.6"]
  dut_role: station
  requirements: [{{id: R-{key}, level: MUST, text: answers ChangeConfiguration}}]
  steps:
    - {{kind: send, action: ChangeConfiguration, payload: {{key: {key}, value: "1"}},
       expect: {{status: Accepted}}, timeout_s: {timeout_s}}}{wait}
"""


@dataclass
class Outcome:
    a: CaseResult
    b: CaseResult
    c: CaseResult
    stored: dict[str, Verdict]
    trace_b: list[dict[str, object]]
    peer: ScriptedPeer


async def _run(
    tmp_path: Path,
    misbehave: Misbehaviour,
    *,
    limits: ListenLimits | None = None,
    b_timeout_s: float = 5.0,
    b_wait_s: float | None = None,
) -> Outcome:
    path = tmp_path / "cases.yaml"
    path.write_text(
        _case("A", "A") + _case("B", "B", timeout_s=b_timeout_s, wait_s=b_wait_s) + _case("C", "C")
    )
    cases = load_case_file(path)
    clock = ScaledClock(speed=1.0)
    provider = ListenProvider(host="127.0.0.1", port=0, clock=clock, limits=limits)
    server = await provider.start()
    peer = ScriptedPeer(server.url("CP-BAD"), misbehave)
    task = asyncio.create_task(peer.run())
    manifest = Manifest(
        new_run_id(started_at=clock.now()), clock.now(), provider.target, (OcppSubprotocol.V16,)
    )
    try:
        with RunStore.create(tmp_path / "runs", manifest) as writer:
            async with asyncio.timeout(40):  # never hangs past its timeouts
                results = await run_cases(
                    [PlannedCase(c, resolve_parameters(c)) for c in cases],
                    provider=provider,
                    writer=writer,
                    clock=clock,
                    operator=AutoOperator(),
                    capabilities=CAPS,
                    options=RunOptions(
                        connect_timeout_s=10,
                        reconnect_timeout_s=10,
                        boot_wait_s=2,
                        reset_timeout_s=5,
                    ),
                )
            writer.finish(finished_at=clock.now())
            run_dir = writer.run_dir
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    reader = RunReader(run_dir)
    stored = {r.info.case_id: r.verdict for r in reader.results()}
    a, b, c = results
    trace_b = reader.trace(b.key)
    return Outcome(a, b, c, stored, trace_b, peer)


def _others_intact(out: Outcome) -> None:
    assert out.a.verdict is Verdict.PASS, out.a.reason
    assert out.c.verdict is Verdict.PASS, out.c.reason
    assert out.stored == {"A": Verdict.PASS, "B": out.b.verdict, "C": Verdict.PASS}


def _ok_after(text: str) -> Misbehaviour:
    """Send ``text``, then answer the CALL normally."""

    async def misbehave(peer: ScriptedPeer, mid: str) -> bool:
        await peer.send_text(text)
        await peer.answer(mid, {"status": "Accepted"})
        return False

    return misbehave


async def test_invalid_json_fails_the_case_naming_it_and_is_answered(tmp_path: Path) -> None:
    out = await _run(tmp_path, _ok_after('{"not json'))
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "not_json" in out.b.reason
    # OCPP-J: a frame whose id cannot be read is answered with the id "-1"
    replies = [m for m in out.peer.received if m[0] == 4]
    assert replies
    assert replies[0][1] == "-1"
    assert replies[0][2] == "FormationViolation"
    flagged = [i for i, f in enumerate(out.trace_b) if f.get("violations")]
    assert [out.trace_b[i]["raw"] for i in flagged] == ['{"not json']
    (check,) = [c for c in out.b.checks if c.requirement.id == "OCPP-J"]
    assert check.frames == tuple(flagged)  # the evidence is the offending frame


async def test_a_frame_of_the_wrong_shape_fails_the_case_naming_it(tmp_path: Path) -> None:
    out = await _run(tmp_path, _ok_after('{"an": "object"}'))
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "not_array" in out.b.reason


async def test_an_unknown_action_is_answered_not_implemented_and_fails_the_case(
    tmp_path: Path,
) -> None:
    out = await _run(tmp_path, _ok_after(json.dumps([2, "u-1", "FlyToTheMoon", {}])))
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "unknown_action" in out.b.reason
    assert "FlyToTheMoon" in out.b.reason
    assert next(m[:3] for m in out.peer.received if m[0] == 4) == [4, "u-1", "NotImplemented"]


async def test_a_response_to_an_id_never_sent_fails_the_case(tmp_path: Path) -> None:
    out = await _run(tmp_path, _ok_after(json.dumps([3, "never-sent", {"status": "Accepted"}])))
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "unknown_response_id" in out.b.reason
    assert "never-sent" in out.b.reason


async def test_a_binary_frame_fails_the_case_naming_it(tmp_path: Path) -> None:
    async def binary(peer: ScriptedPeer, mid: str) -> bool:
        assert peer.ws is not None
        await peer.ws.send(b"\x00\x01ocpp")
        await peer.answer(mid, {"status": "Accepted"})
        return False

    out = await _run(tmp_path, binary)
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "binary_frame" in out.b.reason


async def test_a_flood_over_the_rate_limit_closes_and_is_inconclusive(tmp_path: Path) -> None:
    async def flood(peer: ScriptedPeer, mid: str) -> bool:
        for n in range(500):
            await peer.send_text(json.dumps([2, f"hb-{n}", "Heartbeat", {}]))
        return False  # read on: the harness's close ends this connection

    limits = ListenLimits(max_messages_per_s=50)
    out = await _run(tmp_path, flood, limits=limits)
    _others_intact(out)
    assert out.b.verdict is Verdict.INCONCLUSIVE
    assert "rate limit" in out.b.reason
    assert "50 messages/s" in out.b.reason
    assert out.peer.connections == 2


async def test_a_message_of_several_megabytes_closes_and_is_inconclusive(tmp_path: Path) -> None:
    big = json.dumps([3, "x", {"blob": "x" * (5 * 1024 * 1024)}])

    async def oversize(peer: ScriptedPeer, mid: str) -> bool:
        await peer.send_text(big)
        await wait_closed(peer)
        return True

    out = await _run(tmp_path, oversize)  # the default limit: 4 MiB
    _others_intact(out)
    assert out.b.verdict is Verdict.INCONCLUSIVE
    assert "size limit of 4194304 bytes" in out.b.reason


async def test_a_reply_slower_than_the_timeout_fails_only_its_case(tmp_path: Path) -> None:
    async def slow(peer: ScriptedPeer, mid: str) -> bool:
        await asyncio.sleep(1.5)
        await peer.answer(mid, {"status": "Accepted"})
        return False

    out = await _run(tmp_path, slow, b_timeout_s=0.5)
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "no answer to ChangeConfiguration within 0.5 s" in out.b.reason
    # the late answer arrived during C; it is noted there, not counted against C
    notes = " ".join(s.text for s in out.c.steps)
    assert "late answer" in notes


async def test_a_half_open_connection_is_found_by_keepalive(tmp_path: Path) -> None:
    async def half_open(peer: ScriptedPeer, mid: str) -> bool:
        assert peer.ws is not None
        peer.ws.transport.pause_reading()  # alive at TCP level, deaf at WebSocket level
        await asyncio.sleep(2.0)
        peer.ws.transport.abort()
        return True

    limits = ListenLimits(ping_interval_s=0.3, ping_timeout_s=0.3)
    out = await _run(tmp_path, half_open, limits=limits, b_timeout_s=10)
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "keepalive ping timeout" in out.b.reason


async def test_a_disconnect_in_the_middle_of_a_case_is_inconclusive(tmp_path: Path) -> None:
    async def hang_up(peer: ScriptedPeer, mid: str) -> bool:
        await peer.answer(mid, {"status": "Accepted"})
        assert peer.ws is not None
        await peer.ws.close(1001, "rebooting")
        return True

    out = await _run(tmp_path, hang_up, b_wait_s=2)
    _others_intact(out)
    assert out.b.verdict is Verdict.INCONCLUSIVE
    assert "close code 1001, rebooting" in out.b.reason
    assert out.b.checks[0].verdict is Verdict.PASS  # what was judged before stays judged


async def test_a_reconnect_under_the_same_id_replaces_the_old_connection(tmp_path: Path) -> None:
    async def second_connection(peer: ScriptedPeer, mid: str) -> bool:
        old = peer.ws
        assert old is not None
        peer.extra.append(await peer.open())  # the old one stays open on our side
        await old.wait_closed()
        assert old.close_code == 1008
        assert old.close_reason is not None
        assert "replaced" in old.close_reason
        peer.ws = peer.extra[-1]
        return False  # go on serving; the loop ends on the old connection's close

    out = await _run(tmp_path, _replace_then_serve(second_connection))
    _others_intact(out)
    assert out.b.verdict is Verdict.INCONCLUSIVE
    assert "replaced by a new connection of station CP-BAD" in out.b.reason


def _replace_then_serve(inner: Misbehaviour) -> Misbehaviour:
    """After ``inner``, serve the new connection in place of the old one."""

    async def misbehave(peer: ScriptedPeer, mid: str) -> bool:
        await inner(peer, mid)
        new = peer.ws
        assert new is not None
        peer.reconnect = False
        await peer._serve(new)
        return True

    return misbehave
