"""A writer killed with SIGKILL loses only the line being written: never a stored verdict,
never a frame a stored verdict cites."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import pytest

from harness.results import RunStore, TornLineWarning

from .strategies import result_for

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from harness.results import Manifest, RunStore
    from harness.transport.base import OcppSubprotocol
    from tests.results.strategies import T0, result_for

    root, torn_file = sys.argv[1], sys.argv[2]
    writer = RunStore.create(root, Manifest(run_id="crash", started_at=T0, target="sim",
                                            ocpp_versions=(OcppSubprotocol.V16,)))
    for i in range(5):
        sink = writer.trace_sink(result_for(i).key)
        for k in range(3):
            sink.append({"case": i, "k": k})
        writer.write_result(result_for(i))
    sink = writer.trace_sink(result_for(5).key)
    sink.append({"case": 5, "k": 0})

    real_write = os.write
    def write_half_then_die(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        os.kill(os.getpid(), signal.SIGKILL)
    os.write = write_half_then_die

    if torn_file == "results":
        writer.write_result(result_for(5))
    else:
        sink.append({"case": 5, "k": 1, "raw": "x" * 100})
    print("not reached")
    """
)


@pytest.mark.parametrize("torn_file", ["results", "trace"])
def test_sigkill_mid_write_loses_only_the_torn_line(tmp_path: Path, torn_file: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), torn_file],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "not reached" not in child.stdout

    reader = RunStore.open(tmp_path / "crash")
    assert not reader.finished  # the manifest still says the run never ended
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = list(reader.results())
        traces = [reader.trace(result_for(i).key) for i in range(6)]
    torn = [str(w.message) for w in caught if issubclass(w.category, TornLineWarning)]

    # every finished case is there, whole, with its whole trace
    assert results == [result_for(i) for i in range(5)]
    for i in range(5):
        assert traces[i] == [{"case": i, "k": k} for k in range(3)]
    # the frame of case 5 written before the crash survived
    assert traces[5] == [{"case": 5, "k": 0}]
    # and exactly the torn line is reported, with its file and line number
    expected = "results.jsonl:6:" if torn_file == "results" else f"{result_for(5).key}.jsonl:2:"
    assert len(torn) == 1
    assert expected in torn[0]
    assert "incomplete" in torn[0]


# A run as the runner writes it: frames appended from the event loop (buffered), results
# fsynced in the background. The parent kills the writer at a moment of its choosing.
RUN_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import timedelta
    from harness.results import CaseResult, CheckResult, Manifest, RunStore
    from harness.session import Direction, TraceRecord
    from harness.transport.base import OcppSubprotocol
    from tests.results.strategies import MUST, T0, result_for

    async def main() -> None:
        writer = RunStore.create(sys.argv[1], Manifest(run_id="crash", started_at=T0,
                                 target="sim", ocpp_versions=(OcppSubprotocol.V16,)))
        i = 0
        while True:
            info = result_for(i).info
            sink = writer.trace_sink(info.key)
            for k in range(4):
                raw = '[2,"%d-%d","Heartbeat",{}]' % (i, k)
                sink.append_record(TraceRecord(T0 + timedelta(seconds=k), Direction.IN, raw,
                                               "CP-1", 2, f"{i}-{k}", "Heartbeat"))
                await asyncio.sleep(0)
            check = CheckResult.passed(MUST, expected="4 frames", actual="4 frames",
                                       frames=(0, 1, 2, 3))
            writer.write_result(CaseResult(info, T0, T0, 0.1, checks=(check,)))
            print("judged", info.key, flush=True)  # the verdict is stored
            # the next case's first frames wait in the buffer when the kill comes
            i += 1

    asyncio.run(main())
    """
)


def test_sigkill_mid_run_keeps_every_judged_verdict_and_its_frames(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", RUN_CHILD, str(tmp_path)],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    judged: list[str] = []
    watchdog = threading.Timer(120, child.kill)  # a child that stops printing ends too
    watchdog.start()
    try:
        assert child.stdout is not None
        for line in child.stdout:  # ends when the child dies; bounded by the kill below
            judged.append(line.split()[1])
            if len(judged) == 25:
                child.send_signal(signal.SIGKILL)
                break
    finally:
        watchdog.cancel()
        child.kill()
        rest, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err
    judged += [line.split()[1] for line in rest.splitlines() if line.startswith("judged")]
    assert len(judged) >= 25, err

    reader = RunStore.open(tmp_path / "crash")
    assert not reader.finished
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stored = {r.key: r for r in reader.results()}
    # every verdict reported as stored is there, with every frame its check cites
    for key in judged:
        assert key in stored
        frames = reader.trace(key)
        assert [f["id"] for f in frames] == [f"{judged.index(key)}-{k}" for k in range(4)]
        assert stored[key].checks[0].frames == (0, 1, 2, 3)
    # a torn last line, if the kill came mid-write, is only warned about
    assert all(issubclass(w.category, TornLineWarning) for w in caught)
    assert len(stored) - len(judged) in (0, 1)  # a line written, its "judged" not yet printed
