"""Issue #16: the harness as CSMS (``listen``) survives a hostile station.

Built on the three-case harness of :mod:`tests.runner.test_misbehaving_peer`: the scripted
station misbehaves during case B; A and C must stay PASS and B must get the DUT's verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.results import Verdict
from tests.runner.peer_script import ScriptedPeer
from tests.runner.test_misbehaving_peer import _ok_after, _others_intact, _run


async def test_deeply_nested_frame_is_the_stations_fault_not_a_crash(tmp_path: Path) -> None:
    out = await _run(tmp_path, _ok_after("[" * 1000 + "]" * 1000))
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL
    assert "nest" in out.b.reason
    replies = [m for m in out.peer.received if m[0] == 4]
    assert replies
    assert replies[0][1] == "-1"
    assert any(str(f["raw"]).startswith("[[[[") for f in out.trace_b)


async def test_a_nan_meter_value_is_the_stations_fail(tmp_path: Path) -> None:
    async def misbehave(peer: ScriptedPeer, mid: str) -> bool:
        meter = {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": "2025-01-01T00:00:00Z",
                    "sampledValue": [{"value": "NaN", "measurand": "Power.Active.Import"}],
                }
            ],
        }
        await peer.send_text(json.dumps([2, "mv-1", "MeterValues", meter]))
        await peer.answer(mid, {"status": "Accepted"})
        return False

    out = await _run(tmp_path, misbehave)
    _others_intact(out)
    assert out.b.verdict is Verdict.FAIL, out.b.reason
    assert "NaN" in out.b.reason
