"""When the results file is fsynced: in the background, shortly after a result, and at once
on ``sync``/``finish``; a failed background fsync is not lost."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from harness.results import Manifest, RunStorageError, RunStore
from harness.results import store as store_module
from harness.transport.base import OcppSubprotocol

from .strategies import T0, result_for


def manifest() -> Manifest:
    return Manifest(run_id="r", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V16,))


class FsyncLog:
    """Records which files are fsynced (by inode), optionally failing for one of them."""

    def __init__(self, fail_inode: int | None = None) -> None:
        self.inodes: list[int] = []
        self.fail_inode = fail_inode
        self.lock = threading.Lock()
        self.real = os.fsync

    def __call__(self, fd: int) -> None:
        inode = os.fstat(fd).st_ino
        with self.lock:
            self.inodes.append(inode)
        if inode == self.fail_inode:
            raise OSError(errno.EIO, "Input/output error")
        self.real(fd)

    def count(self, path: Path) -> int:
        with self.lock:
            return self.inodes.count(path.stat().st_ino)


def test_results_are_written_at_once_and_fsynced_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = FsyncLog()
    monkeypatch.setattr(store_module.os, "fsync", log)
    writer = RunStore.create(tmp_path, manifest())
    results = tmp_path / "r" / "results.jsonl"
    writer._syncer.delay_s = 3600  # only sync() can make the background fsync happen
    for i in range(20):
        writer.write_result(result_for(i))
        assert results.read_bytes().count(b"\n") == i + 1  # in the file when it returns
    assert log.count(results) == 0
    writer.sync()
    assert log.count(results) == 1  # one fsync for the twenty lines
    writer.write_result(result_for(20))
    writer.finish(finished_at=T0)
    assert log.count(results) == 2
    assert len(list(RunStore.open(tmp_path / "r").results())) == 21


def test_the_background_fsync_comes_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = FsyncLog()
    monkeypatch.setattr(store_module.os, "fsync", log)
    writer = RunStore.create(tmp_path, manifest())
    writer._syncer.delay_s = 0.01
    writer.write_result(result_for(1))
    syncer = writer._syncer
    with syncer._cond:  # the thread says when it has synced what was asked
        assert syncer._cond.wait_for(lambda: syncer._done >= 1, timeout=30)
    assert log.count(tmp_path / "r" / "results.jsonl") == 1
    writer.close()


def test_a_failed_background_fsync_is_raised_by_the_next_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = RunStore.create(tmp_path, manifest())
    results = tmp_path / "r" / "results.jsonl"
    log = FsyncLog(fail_inode=results.stat().st_ino)
    monkeypatch.setattr(store_module.os, "fsync", log)
    writer.write_result(result_for(1))
    with pytest.raises(RunStorageError, match=r"results\.jsonl: Input/output error"):
        writer.sync()
    with pytest.raises(RunStorageError, match="Input/output error"):
        writer.write_result(result_for(2))
    with pytest.raises(RunStorageError):
        writer.finish(finished_at=T0)
    # the line written before the failure is still there, and the run is not marked finished
    reader = RunStore.open(tmp_path / "r")
    assert [r.key for r in reader.results()] == [result_for(1).key]
    assert not reader.finished
