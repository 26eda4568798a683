"""The per-frame protocol and trace work of Heartbeat calls, no I/O: ours against a baseline.

A synchronous loop of Heartbeat calls between a charging-station ``OcppSession`` and a CSMS
``OcppSession`` (OCPP 1.6), each frame stamped with ``ScaledClock.now()`` as
``OcppConnection`` does (four readings per call): the CSMS sends the result, the station
parses it, both check the schemas and keep their trace rows. Two rows:

* ``memory`` — both sessions keep their trace in memory (``keep_trace=True``);
* ``disk`` — the CSMS end writes its trace the way a run does (``TraceSink.append_record``
  of the results store inside a running event loop: lines buffered, written in one
  ``os.write``), ``keep_trace=False``, as ``benchmarks/session_throughput.py``'s
  ``session_disk`` row does.

Reported: process CPU µs per call (both ends), medians over ``--repeats``. With
``--baseline DIR`` (another checkout, e.g. a detached worktree of main) the same loop runs in
that tree too, in a separate process, alternating with ours, and the ratios ours/baseline
are printed.

    python benchmarks/session_frames.py --baseline /work/wt/main-base --repeats 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

_CHILD = r"""
import asyncio, gc, json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from harness.clock import ScaledClock
from harness.results.store import TraceSink
from harness.session import OcppSession, Role
from harness.versions import OcppVersion

NOW = "2025-01-01T00:00:00Z"
CALLS = int(sys.argv[2])


def loop(disk: bool, folder: str) -> float:
    clock = ScaledClock()
    cs = OcppSession(version=OcppVersion.V16, role=Role.CHARGING_STATION, station_id="CS1")
    sink = None
    if disk:
        sink = TraceSink(Path(folder) / f"t{time.monotonic_ns()}.jsonl", "CS1")

        def trace(record):
            if not sink.closed:
                sink.append_record(record)

        sv = OcppSession(
            version=OcppVersion.V16, role=Role.CSMS, station_id="CS1", trace_sink=trace,
            keep_trace=False,
        )
    else:
        sv = OcppSession(version=OcppVersion.V16, role=Role.CSMS, station_id="CS1")
    gc.collect()
    t0 = time.process_time()
    for _ in range(CALLS):
        cs.send_call("Heartbeat", {}, now=clock.now())
        (text,) = cs.data_to_send()
        (event,) = sv.receive_text(text, now=clock.now())
        sv.send_result(event.message_id, {"currentTime": NOW}, now=clock.now())
        (text,) = sv.data_to_send()
        (event,) = cs.receive_text(text, now=clock.now())
        assert event.payload["currentTime"] == NOW
    cpu = time.process_time() - t0
    if sink is not None:
        sink.close()
    return cpu / CALLS * 1e6


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        loop(True, folder)  # warm up: schemas compiled, caches filled
        print(json.dumps({"memory": loop(False, folder), "disk": loop(True, folder)}))


asyncio.run(main())
"""


def _one(tree: Path, calls: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tree), str(calls)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ours_tree = Path(__file__).resolve().parent.parent
    trees = {"ours": ours_tree}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.repeats):
        for name, tree in trees.items():
            runs[name].append(_one(tree, args.calls))
    medians = {
        name: {row: statistics.median(r[row] for r in rs) for row in ("memory", "disk")}
        for name, rs in runs.items()
    }
    if args.json:
        print(json.dumps({"medians": medians, "runs": runs}))
        return
    for row in ("memory", "disk"):
        line = f"{row:7s} ours {medians['ours'][row]:6.2f} µs/call"
        if "baseline" in medians:
            base = medians["baseline"][row]
            line += (
                f"   baseline {base:6.2f} µs/call   ours/baseline "
                f"{medians['ours'][row] / base:.3f}   saved {base - medians['ours'][row]:5.2f} µs"
            )
        print(line)


if __name__ == "__main__":
    main()
