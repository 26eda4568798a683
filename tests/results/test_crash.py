"""A writer killed with SIGKILL in the middle of a line loses only that line."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
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
