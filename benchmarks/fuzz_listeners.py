"""The fuzzer of the harness's own listeners, run longer than in the test suite (issue #16).

Starts ``run --target listen``, ``serve`` (with a well-behaved station joining mid-fuzz) and
the recording proxy (in front of a ``listen``), each as the real command in a thread of this
process, and lets Hypothesis draw ``--examples`` batches per target from the 14 fuzz classes
of :mod:`tests.fuzz.peer` (``--seed`` makes it repeatable). Prints per target: batches per
class, frames sent, findings (answers that break OCPP-J, closes that should not happen),
frames missing from the run folder, RSS growth of the process, the exit status, and the
wall time; ``--json`` for one JSON object. Exit status 1 if any target had a finding.

    python benchmarks/fuzz_listeners.py --examples 500 --seed 16 [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from harness.results import RunReader
from tests.fuzz import targets
from tests.fuzz.peer import Batch, FuzzPeer, classes
from tests.fuzz.test_listeners import _good_station


def _explore(peer: FuzzPeer, examples: int, seed: int) -> None:
    strategies = list(classes(peer).values())

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(*strategies))
    def explore(batch: Batch) -> None:
        peer.run(batch)

    explore()


def _report(
    name: str, peer: FuzzPeer, code: int | None, run_dirs: list[Path], rss0: int, t0: float
) -> dict[str, Any]:
    missing = targets.as_recorded(peer.sent) - targets.recorded(run_dirs)
    return {
        "target": name,
        "batches": sum(peer.counts.values()),
        "classes": dict(sorted(peer.counts.items())),
        "frames_sent": len(peer.sent),
        "findings": [f"{f.cls}: {f.what}" for f in peer.findings],
        "frames_missing_from_run_folder": sum(missing.values()),
        "rss_growth_mb": round((targets.rss_bytes() - rss0) / 2**20, 1),
        "exit_status": code,
        "wall_s": round(time.perf_counter() - t0, 1),
    }


def _listen(folder: Path, examples: int, seed: int) -> dict[str, Any]:
    t0, rss0 = time.perf_counter(), targets.rss_bytes()
    command, port = targets.listen(folder, station_id="FUZZ", cases=examples + 20)
    peer = FuzzPeer(lambda sid: f"ws://127.0.0.1:{port}/{sid}", "FUZZ", "1.6")
    try:
        _explore(peer, examples, seed)
    finally:
        peer.close()
    code = command.wait()
    runs = [p for p in (folder / "runs").iterdir() if p.is_dir()]
    return _report("listen", peer, code, runs, rss0, t0)


def _serve(folder: Path, examples: int, seed: int) -> dict[str, Any]:
    t0, rss0 = time.perf_counter(), targets.rss_bytes()
    command, port = targets.serve(folder, good="GOOD", fuzz="FUZZ", cases=examples + 20)
    url = f"ws://127.0.0.1:{port}"
    peer = FuzzPeer(lambda sid: f"{url}/{sid}", "FUZZ", "2.0.1")
    try:
        _explore(peer, examples // 2, seed)
        good_done = _good_station(url)
        _explore(peer, examples - examples // 2, seed + 1)
        good_done()
    finally:
        peer.close()
    code = command.wait()
    runs = {
        RunReader(p).manifest.options.get("station"): p
        for p in (folder / "runs").iterdir()
        if p.is_dir()
    }
    report = _report("serve", peer, code, [runs["FUZZ"]], rss0, t0)
    good = [r.verdict.value for r in RunReader(runs["GOOD"]).results(with_series=False)]
    report["other_station_verdicts"] = {v: good.count(v) for v in sorted(set(good))}
    report["runs"] = sorted(str(k) for k in runs)
    return report


def _proxy(folder: Path, examples: int, seed: int) -> dict[str, Any]:
    t0, rss0 = time.perf_counter(), targets.rss_bytes()
    command, port = targets.listen(folder, station_id="FUZZ", cases=examples + 20)
    proxy = targets.Proxy(folder, upstream=f"ws://127.0.0.1:{port}")
    peer = FuzzPeer(lambda sid: f"ws://127.0.0.1:{proxy.port}/{sid}", "FUZZ", "1.6")
    try:
        _explore(peer, examples, seed)
    finally:
        peer.close()
    code = command.wait()
    proxy.stop()
    report = _report("proxy", peer, code, [proxy.writer.run_dir], rss0, t0)
    report["proxy_frames_not_recorded"] = proxy.proxy.stats.frames_not_recorded
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="batches per target")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    reports = []
    runs: list[Callable[[Path, int, int], dict[str, Any]]] = [_listen, _serve, _proxy]
    for run in runs:
        with tempfile.TemporaryDirectory() as tmp:
            quiet = io.StringIO()  # the targets' own terminal output
            with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                report = run(Path(tmp), args.examples, args.seed)
            report["traceback_in_output"] = "Traceback" in quiet.getvalue()
            reports.append(report)
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        for r in reports:
            print(
                f"{r['target']:<7} {r['batches']:>5} batches {r['frames_sent']:>6} frames  "
                f"findings {len(r['findings'])}  missing {r['frames_missing_from_run_folder']}  "
                f"RSS +{r['rss_growth_mb']} MB  exit {r['exit_status']}  {r['wall_s']} s"
            )
            for finding in r["findings"][:5]:
                print(f"        finding: {finding}")
        print("classes:", ", ".join(sorted(reports[0]["classes"])))
    bad = any(r["findings"] or r["frames_missing_from_run_folder"] for r in reports)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
