"""Issue #16: ``serve``'s exit status is the most serious over its stations — a station
whose cases are all INCONCLUSIVE is 3 (never 0), a hostile station's FAIL is 1, and a
station whose run folder cannot be written is 5 once the other stations finished, with its
one-line error. ``serve`` runs through :func:`harness.cli.main` in a thread; the stations
are scripted peers (:mod:`tests.runner.peer_script`) over loopback."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path
from typing import Any

import pytest

from harness.results import RunStorageError, RunStore
from tests.fuzz.targets import CAPS, Command, free_port, wait_listening
from tests.runner.peer_script import ScriptedPeer
from tests.runner.test_misbehaving_peer import _case, _ok_after


def _serve(tmp_path: Path, *, stations: int) -> tuple[Command, int]:
    path = tmp_path / "cases.yaml"
    path.write_text(_case("A", "A") + _case("B", "B") + _case("C", "C"))
    port = free_port()
    argv = ["serve", str(path), "--port", str(port), "--stations", str(stations)]
    argv += ["--capabilities", str(CAPS), "--reconnect-timeout", "2"]
    argv += ["--out", str(tmp_path / "runs")]
    command = Command(argv)
    wait_listening(port)
    return command, port


async def _ended(command: Command) -> int:
    return await asyncio.to_thread(command.wait)


async def _peers(*peers: ScriptedPeer) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(p.run()) for p in peers]


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _fine(peer: ScriptedPeer, mid: str) -> bool:
    await peer.answer(mid, {"status": "Accepted"})
    return False


def _precondition_case(case_id: str) -> str:
    """A case whose setup the station must accept (``key: B``, which the scripted station
    refuses below): a refused setup makes the case INCONCLUSIVE, not FAIL."""
    return f"""
- id: {case_id}
  title: setup refused
  suite: misbehaviour
  ocpp_versions: ["1.6"]
  dut_role: station
  requirements: [{{id: R-{case_id}, level: MUST, text: accepts the setup}}]
  steps:
    - {{kind: send, action: ChangeConfiguration, payload: {{key: B, value: "1"}},
       expect: {{status: Accepted}}, precondition: true}}
"""


async def _refuse_setup(peer: ScriptedPeer, mid: str) -> bool:
    await peer.answer(mid, {"status": "Rejected"})
    return False


async def test_unjudged_cases_never_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("".join(_precondition_case(c) for c in "ABC"))
    port = free_port()
    argv = ["serve", str(path), "--port", str(port), "--stations", "1"]
    argv += ["--capabilities", str(CAPS), "--out", str(tmp_path / "runs")]
    command = Command(argv)
    wait_listening(port)
    tasks = await _peers(ScriptedPeer(f"ws://127.0.0.1:{port}/CP-SETUP", _refuse_setup))
    try:
        code = await _ended(command)
    finally:
        await _stop(tasks)
    out = capsys.readouterr().out
    assert "CP-SETUP: 0 passed, 0 failed, 3 inconclusive, 0 skipped, 0 errors" in out, out
    assert code == 3


async def test_a_deeply_nested_frame_is_a_fail_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, port = _serve(tmp_path, stations=1)
    peer = ScriptedPeer(f"ws://127.0.0.1:{port}/CP-DEEP", _ok_after("[" * 1000 + "]" * 1000))
    tasks = await _peers(peer)
    try:
        code = await _ended(command)
    finally:
        await _stop(tasks)
    captured = capsys.readouterr()
    assert "CP-DEEP: 2 passed, 1 failed, 0 inconclusive, 0 skipped, 0 errors" in captured.out
    assert code == 1
    assert "Traceback" not in captured.out + captured.err


async def test_an_unwritable_run_folder_exits_5_after_the_other_station(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create = RunStore.create

    def create(root: Path | str, manifest: Any, **kwargs: Any) -> Any:
        if manifest.options["station"] == "CP-FULL":
            raise RunStorageError.of(Path(root), OSError(errno.ENOSPC, "No space left on device"))
        return real_create(root, manifest, **kwargs)

    monkeypatch.setattr(RunStore, "create", staticmethod(create))
    command, port = _serve(tmp_path, stations=2)
    full = ScriptedPeer(f"ws://127.0.0.1:{port}/CP-FULL", _fine)
    good = ScriptedPeer(f"ws://127.0.0.1:{port}/CP-GOOD", _fine)
    tasks = await _peers(full, good)
    try:
        code = await _ended(command)
    finally:
        await _stop(tasks)
    captured = capsys.readouterr()
    assert "CP-GOOD: 3 passed, 0 failed, 0 inconclusive, 0 skipped, 0 errors" in captured.out
    errors = [line for line in captured.err.splitlines() if "CP-FULL" in line]
    assert errors == [
        f"error: [CP-FULL] cannot write the run folder: {tmp_path / 'runs'}: "
        "No space left on device"
    ], captured.err
    assert code == 5
    assert "Traceback" not in captured.out + captured.err
