"""Run-store throughput: ours next to plain JSON lines, interleaved, medians of repeats.

    python benchmarks/results_store.py [--cases 300] [--frames 3000] [--repeats 5]

* write results: ``RunWriter.write_result`` for every result (one os.write per line before
  it returns, fsync in the background) and ``sync()`` at the end (every line durable) vs
  ``to_json`` + write + flush per line into a buffered file with no fsync at all (fast, but
  the machine going down loses it);
* write results, fsync each: the same with ``RunWriter.sync()`` after every line (what a
  caller pays for waiting until each line is durable; the store did this before #22);
* append frames: session trace records (``harness.session.TraceRecord``) into
  ``TraceSink.append_record`` inside an event loop, as a run's endpoint does (buffered),
  then ``sync()`` as at a verdict, vs ``json.dumps(record.to_json())`` lines into a
  buffered file;
* read results: ``RunReader.results()`` (every field checked, the model built) vs bare
  ``json.loads`` of the lines already in memory;
* read index: ``RunReader.index()`` (each line's key and verdict, the model built only on
  demand) vs the same;
* run folder: the fixed cost of a run, ``RunStore.create`` + ``finish`` (the manifest
  written atomically: four fsyncs of files and folders) vs a folder and a plain
  ``run.json``. The rows above time the writing only, the folder already made.

Ratios are ours / baseline time (1.0 = as fast; the #22 goal is at most 2.0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The checkout this file is in, not whatever `harness` the interpreter would find first (run
# as `python benchmarks/results_store.py`, that is an installed copy, e.g. another worktree's
# editable install: its figures would be that code's).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import __file__ as harness_file
from harness.results import (
    CaseInfo,
    CaseResult,
    CheckResult,
    DeviceKind,
    DeviceRef,
    Level,
    Manifest,
    Requirement,
    RunStore,
)
from harness.session import Direction, TraceRecord
from harness.transport.base import OcppSubprotocol

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REQ = Requirement("VP-01", Level.MUST, "settled at or below the limit")
RAW = (
    '[2,"1","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2026-01-01T00:00:00Z",'
    '"sampledValue":[{"value":7360.0,"measurand":"Power.Active.Import"}]}]}]'
)


def frame(i: int) -> TraceRecord:
    return TraceRecord(
        T0 + timedelta(milliseconds=37 * i), Direction.IN, RAW, "CP-1", 2, str(i), "MeterValues"
    )


def result(i: int) -> CaseResult:
    devices = (DeviceRef(DeviceKind.STATION, "CP-1"), DeviceRef(DeviceKind.VEHICLE, f"ev-{i}"))
    info = CaseInfo("VP-01", "step down", "vp", "smart", OcppSubprotocol.V201, devices)
    checks = tuple(
        CheckResult.passed(REQ, expected="≤ 10 A within 15 s", actual="9.8 A after 7 s")
        for _ in range(5)
    )
    return CaseResult(info, T0, T0 + timedelta(minutes=15), 0.3, checks=checks)


def timed(fn: Callable[[Path], float]) -> float:
    """Run ``fn`` in a fresh folder; it returns the seconds of what it measures."""
    with tempfile.TemporaryDirectory() as tmp:
        return fn(Path(tmp))


def _manifest() -> Manifest:
    return Manifest(run_id="b", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V201,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"harness from {Path(harness_file).parent}")
    results = [result(i) for i in range(args.cases)]
    frames = [frame(i) for i in range(args.frames)]

    def ours_results(tmp: Path, *, each: bool = False) -> float:
        writer = RunStore.create(tmp, _manifest())
        start = time.perf_counter()
        for r in results:
            writer.write_result(r)
            if each:
                writer.sync()
        writer.sync()  # every line durable: the store's guarantee at the end of the batch
        elapsed = time.perf_counter() - start
        writer.finish(finished_at=T0)
        return elapsed

    def ours_results_synced(tmp: Path) -> float:
        return ours_results(tmp, each=True)

    def base_results(tmp: Path) -> float:
        start = time.perf_counter()
        with (tmp / "r.jsonl").open("w") as handle:
            for r in results:
                handle.write(r.to_json() + "\n")
                handle.flush()
        return time.perf_counter() - start

    def ours_frames(tmp: Path) -> float:
        async def run() -> float:
            writer = RunStore.create(tmp, _manifest())
            sink = writer.trace_sink("k")
            start = time.perf_counter()
            for f in frames:
                sink.append_record(f)
            sink.sync()  # every frame written and durable, as at a verdict
            elapsed = time.perf_counter() - start
            writer.finish(finished_at=T0)
            return elapsed

        return asyncio.run(run())

    def base_frames(tmp: Path) -> float:
        async def run() -> float:
            start = time.perf_counter()
            with (tmp / "t.jsonl").open("w") as handle:
                for f in frames:
                    handle.write(json.dumps(f.to_json(), ensure_ascii=False) + "\n")
            return time.perf_counter() - start

        return asyncio.run(run())

    def ours_folder(tmp: Path) -> float:
        start = time.perf_counter()
        RunStore.create(tmp, _manifest()).finish(finished_at=T0)
        return time.perf_counter() - start

    def base_folder(tmp: Path) -> float:
        start = time.perf_counter()
        (tmp / "b").mkdir()
        (tmp / "b" / "run.json").write_text(json.dumps(_manifest().to_dict()))
        return time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        ours_results(Path(tmp))
        run_dir = Path(tmp) / "b"
        lines = (run_dir / "results.jsonl").read_text().splitlines()

        def ours_read(_: Path) -> float:
            start = time.perf_counter()
            list(RunStore.open(run_dir).results())
            return time.perf_counter() - start

        def ours_index(_: Path) -> float:
            start = time.perf_counter()
            [(r.key, r.verdict) for r in RunStore.open(run_dir).index()]
            return time.perf_counter() - start

        def base_read(_: Path) -> float:
            start = time.perf_counter()
            [json.loads(x) for x in lines]
            return time.perf_counter() - start

        rows = [
            ("write results", args.cases, ours_results, base_results),
            ("  fsync each", args.cases, ours_results_synced, base_results),
            ("append frames", args.frames, ours_frames, base_frames),
            ("read results", args.cases, ours_read, base_read),
            ("read index", args.cases, ours_index, base_read),
            ("run folder", 1, ours_folder, base_folder),
        ]
        times: dict[str, tuple[list[float], list[float]]] = {r[0]: ([], []) for r in rows}
        for _ in range(args.repeats):  # interleaved: drift on a shared machine hits both
            for name, _n, ours, base in rows:
                times[name][0].append(timed(ours))
                times[name][1].append(timed(base))
    for name, n, _ours, _base in rows:
        t_ours, t_base = (statistics.median(x) for x in times[name])
        print(
            f"{name:14} ours {n / t_ours:10.0f}/s   baseline {n / t_base:10.0f}/s   "
            f"ratio {t_ours / t_base:5.2f} (ours/baseline time)"
        )


if __name__ == "__main__":
    main()
