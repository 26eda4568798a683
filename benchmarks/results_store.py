"""Run-store throughput: ours next to a naive baseline, medians of several repeats.

    PYTHONPATH=. python benchmarks/results_store.py [--cases 300] [--frames 3000] [--repeats 5]

* results: ``RunWriter.write_result`` (one os.write + fsync per line) vs json.dumps into a
  buffered file with no fsync (fast, but a crash loses the buffer);
* frames: ``TraceSink.append`` (one unbuffered os.write per frame) vs a buffered file;
* reading: ``RunReader.results()`` (full validation) vs bare ``json.loads`` per line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from harness.transport.base import OcppSubprotocol

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REQ = Requirement("VP-01", Level.MUST, "settled at or below the limit")
FRAME = {"t": "2026-01-01T00:00:00Z", "dir": "in", "raw": '[2,"1","MeterValues",{}]' * 8}


def result(i: int) -> CaseResult:
    devices = (DeviceRef(DeviceKind.STATION, "CP-1"), DeviceRef(DeviceKind.VEHICLE, f"ev-{i}"))
    info = CaseInfo("VP-01", "step down", "vp", "smart", OcppSubprotocol.V201, devices)
    checks = tuple(
        CheckResult.passed(REQ, expected="≤ 10 A within 15 s", actual="9.8 A after 7 s")
        for _ in range(5)
    )
    return CaseResult(info, T0, T0 + timedelta(minutes=15), 0.3, checks=checks)


def timed(fn: Callable[[Path], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            fn(Path(tmp))
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results = [result(i) for i in range(args.cases)]

    def ours_results(tmp: Path) -> None:
        writer = RunStore.create(
            tmp,
            Manifest(
                run_id="b", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V201,)
            ),
        )
        for r in results:
            writer.write_result(r)
        writer.finish(finished_at=T0)

    def base_results(tmp: Path) -> None:
        with (tmp / "r.jsonl").open("w") as handle:
            for r in results:
                handle.write(r.to_json() + "\n")
                handle.flush()

    def ours_frames(tmp: Path) -> None:
        writer = RunStore.create(
            tmp,
            Manifest(
                run_id="b", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V201,)
            ),
        )
        sink = writer.trace_sink("k")
        for _ in range(args.frames):
            sink.append(FRAME)
        writer.finish(finished_at=T0)

    def base_frames(tmp: Path) -> None:
        with (tmp / "t.jsonl").open("w") as handle:
            for _ in range(args.frames):
                handle.write(json.dumps(FRAME) + "\n")

    rows = [
        ("write results", args.cases, ours_results, base_results),
        ("append frames", args.frames, ours_frames, base_frames),
    ]
    for name, n, ours, base in rows:
        t_ours, t_base = timed(ours, args.repeats), timed(base, args.repeats)
        print(
            f"{name:14} ours {n / t_ours:10.0f}/s   baseline {n / t_base:10.0f}/s   "
            f"ratio {t_ours / t_base:6.1f}x slower"
        )

    with tempfile.TemporaryDirectory() as tmp:
        ours_results(Path(tmp))
        run_dir = Path(tmp) / "b"
        t_read = statistics.median(
            _time(lambda: list(RunStore.open(run_dir).results())) for _ in range(args.repeats)
        )
        lines = (run_dir / "results.jsonl").read_text().splitlines()
        t_json = statistics.median(
            _time(lambda: [json.loads(x) for x in lines]) for _ in range(args.repeats)
        )
        print(
            f"{'read results':14} ours {args.cases / t_read:10.0f}/s   baseline "
            f"{args.cases / t_json:10.0f}/s   ratio {t_read / t_json:6.1f}x slower"
        )


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
