"""Issue #16.10: a full disk or an unwritable folder gives one clear line and exit code 5
(STORAGE), never a traceback; what was written before stays readable."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import harness.results.store as store
from harness.cli import main
from harness.exitcodes import ExitCode
from harness.results import RunStore

CASES = """
- id: Q{n}
  title: quick case {n}
  suite: storage
  ocpp_versions: ["1.6"]
  dut_role: station
  steps:
    - {{kind: send, action: ChangeConfiguration, payload: {{key: K, value: "1"}},
       expect: {{status: Accepted}}}}
"""


def _cases(tmp_path: Path) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES.format(n=1) + CASES.format(n=2) + CASES.format(n=3))
    return path


def test_an_unwritable_out_folder_is_one_line_and_exit_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run folder should go")
    code = main(["run", str(_cases(tmp_path)), "--jobs", "1", "--out", str(blocker / "runs")])
    err = capsys.readouterr().err
    assert code == ExitCode.STORAGE
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("error: cannot write the run folder: ")
    assert str(blocker) in lines[-1]


def test_a_disk_that_fills_mid_run_stops_it_with_exit_5_and_a_readable_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store._write_all
    results_written: list[int] = []

    def filling(fd: int, data: bytes) -> None:
        if b'"verdict"' in data:
            results_written.append(fd)
            if len(results_written) > 1:  # the second result line does not fit
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, data)

    monkeypatch.setattr(store, "_write_all", filling)
    out = tmp_path / "runs"
    code = main(["run", str(_cases(tmp_path)), "--jobs", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == ExitCode.STORAGE
    assert "Traceback" not in err
    assert "No space left on device" in err.splitlines()[-1]
    [run_dir] = list(out.iterdir())
    reader = RunStore.open(run_dir)
    assert not reader.finished  # finished_at stays null: the run is visibly incomplete
    assert [r.info.case_id for r in reader.results()] == ["Q1"]
