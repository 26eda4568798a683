"""A run killed in the middle keeps every case already judged (subprocess + SIGKILL)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from harness.results import RunStore, Verdict

CASE = """
- id: QUICK{n}
  title: quick case {n}
  suite: crash
  ocpp_versions: ["1.6"]
  dut_role: station
  steps:
    - {{kind: send, action: ChangeConfiguration, payload: {{key: K, value: "1"}},
       expect: {{status: Accepted}}}}
"""
SLOW = """
- id: SLOW
  title: a case that waits ten hours
  suite: crash
  ocpp_versions: ["1.6"]
  dut_role: station
  steps:
    - {kind: wait, duration_s: 36000}
"""


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASE.format(n=1) + CASE.format(n=2) + SLOW)
    out = tmp_path / "runs"
    root = Path(__file__).parents[2]
    argv = [sys.executable, "-u", "-m", "tests.runner.cli_child", "ok", "--", "run"]
    argv += [str(cases), "--speed", "50", "--jobs", "1", "--out", str(out)]
    child = subprocess.Popen(
        argv,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert child.stdout is not None
    seen = 0
    for line in child.stdout:  # progress lines arrive as each case is judged
        seen += line.startswith("QUICK")
        if seen == 2:
            break
    assert seen == 2
    return child, out


def test_a_terminated_run_says_so_in_one_line_and_keeps_its_folder(tmp_path: Path) -> None:
    """Issue #16: SIGTERM stops a run as Ctrl-C does: exit 130, one line, no traceback, the
    folder readable and visibly unfinished."""
    child, out = _start(tmp_path)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Aborted")
    (run_dir,) = out.iterdir()
    reader = RunStore.open(run_dir)
    assert not reader.finished
    assert [r.info.case_id for r in reader.results()] == ["QUICK1", "QUICK2"]


def test_killed_run_keeps_finished_cases(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASE.format(n=1) + CASE.format(n=2) + SLOW)
    out = tmp_path / "runs"
    root = Path(__file__).parents[2]
    argv = [
        sys.executable,
        "-u",
        "-m",
        "tests.runner.cli_child",
        "ok",
        "--",
        "run",
        str(cases),
        "--speed",
        "50",
        "--jobs",
        "1",
        "--out",
        str(out),
    ]
    child = subprocess.Popen(
        argv,
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert child.stdout is not None
    seen: list[str] = []
    for line in child.stdout:  # progress lines arrive as each case is judged
        if re.match(r"\[\s*\d+/\d+\] QUICK", line):  # a progress line
            seen.append(line)
        if len(seen) == 2:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    assert len(seen) == 2
    (run_dir,) = out.iterdir()
    reader = RunStore.open(run_dir)
    assert not reader.finished
    results = list(reader.results())
    assert [(r.info.case_id, r.verdict) for r in results] == [
        ("QUICK1", Verdict.PASS),
        ("QUICK2", Verdict.PASS),
    ]
    assert reader.trace(results[0].key)  # the frames of a finished case are there too
