"""Compacting a finished run folder: its traces and series gzip-compressed in place.

A run's wire traces and measurement series are JSON with much repetition (MeterValues every
few seconds for hours of clock time); gzip shrinks them about tenfold. While a run is being
written they stay plain (appended frame by frame, readable after a crash); once the run has
finished, :func:`compact_run` replaces each ``traces/<key>.jsonl`` by
``traces/<key>.jsonl.gz`` and each ``series/<key>.json`` by ``series/<key>.json.gz``.
:class:`~harness.results.reader.RunReader` reads either form, and ``results.jsonl`` keeps
naming the plain file (a reader adds ``.gz`` when only that exists); see ``FORMAT.md``.

Each file is replaced atomically (written to ``<name>.gz.tmp``, fsynced, renamed, then the
plain file removed), so an interrupted compaction leaves every file readable in one form.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

from harness.results.manifest import SERIES, TRACES

__all__ = ["COMPRESSED_SUFFIX", "CompactionStats", "compact_run"]

COMPRESSED_SUFFIX = ".gz"
_LEVEL = 6  # zlib's default: within a few per cent of 9's size, several times faster


@dataclass(frozen=True, slots=True)
class CompactionStats:
    """What :func:`compact_run` did: files compressed, bytes before and after."""

    files: int
    bytes_before: int
    bytes_after: int


def _compress(path: Path) -> tuple[int, int]:
    target = path.with_name(path.name + COMPRESSED_SUFFIX)
    temporary = target.with_name(target.name + ".tmp")
    data = path.read_bytes()
    packed = gzip.compress(data, compresslevel=_LEVEL, mtime=0)
    with temporary.open("wb") as handle:
        handle.write(packed)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    path.unlink()
    return len(data), len(packed)


def compact_run(run_dir: Path | str) -> CompactionStats:
    """Gzip the traces and series of the finished run in ``run_dir`` (see the module
    docstring). Files already compressed are left alone, so calling it twice is harmless.
    An ``OSError`` (disk full, read-only folder) propagates; the files not yet compressed
    stay plain and readable."""
    root = Path(run_dir)
    files = before = after = 0
    for folder, pattern in ((TRACES, "*.jsonl"), (SERIES, "*.json")):
        for path in sorted((root / folder).glob(pattern)):
            plain, packed = _compress(path)
            files += 1
            before += plain
            after += packed
    return CompactionStats(files, before, after)
