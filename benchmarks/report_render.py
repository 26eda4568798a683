"""Report rendering time for a vehicle-programme run: 150 vehicles × 14 cases at one station.

    python benchmarks/report_render.py [--vehicles 150] [--repeats 3]

Generates, in a temporary folder, a stored run like a lab's: each case with ~30 OCPP frames
(profiles, responses, MeterValues) and, for measurement cases, series of a few hundred
samples (limit, offered, measured L1-L3, import power; export power for the discharge case).
Then it times ``write_reports`` for all five formats (HTML index + 2100 detail pages with
plots, JUnit, JSON, Markdown, CSV), repeats, and prints the median -- with the default
(detail pages in forked worker processes, one per CPU up to 4) and in one process.
Target: under 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout first

from harness.results import (
    CaseInfo,
    CaseResult,
    CheckResult,
    DeviceKind,
    DeviceRef,
    Interruption,
    Level,
    Manifest,
    MeasurementSource,
    Phase,
    Quantity,
    Requirement,
    RunStore,
    Series,
    StepRecord,
    Unit,
)
from harness.transport.base import OcppSubprotocol
from reports import ReportFormat, write_reports

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
CASES = [
    ("VP-01", "step down"),
    ("VP-02", "step up"),
    ("VP-03", "minimum current"),
    ("VP-04", "short pause"),
    ("VP-05", "long pause"),
    ("VP-06", "short delayed start"),
    ("VP-07", "long delayed start"),
    ("VP-08", "fluctuating"),
    ("VP-09", "intermittent"),
    ("VP-10", "phase switch"),
    ("VP-11", "power-based limit"),
    ("VP-12", "response time"),
    ("VP-13", "offered current"),
    ("VP-14", "discharge"),
]


def _frames(case_id: str, start: datetime, n: int) -> list[dict[str, object]]:
    frames: list[dict[str, object]] = []
    for i in range(n):
        t = start + timedelta(seconds=20 * i)
        if i % 10 == 0:
            body = [
                2,
                f"m{i}",
                "SetChargingProfile",
                {
                    "evseId": 1,
                    "chargingProfile": {
                        "id": i,
                        "stackLevel": 1,
                        "chargingProfilePurpose": "TxProfile",
                        "chargingSchedule": [
                            {
                                "id": 1,
                                "chargingRateUnit": "A",
                                "chargingSchedulePeriod": [
                                    {"startPeriod": 0, "limit": 16 - i % 10}
                                ],
                            }
                        ],
                    },
                },
            ]
            frames.append(
                {
                    "t": t.isoformat(),
                    "dir": "out",
                    "raw": json.dumps(body),
                    "station": "CP-1",
                    "type": "CALL",
                    "id": f"m{i}",
                    "action": "SetChargingProfile",
                }
            )
        elif i % 10 == 1:
            frames.append(
                {
                    "t": t.isoformat(),
                    "dir": "in",
                    "station": "CP-1",
                    "raw": json.dumps([3, f"m{i - 1}", {"status": "Accepted"}]),
                    "type": "CALLRESULT",
                    "id": f"m{i - 1}",
                }
            )
        else:
            values = [
                {
                    "timestamp": t.isoformat(),
                    "sampledValue": [
                        {"value": 10.0 + p, "measurand": "Current.Import", "phase": f"L{p}"}
                        for p in (1, 2, 3)
                    ],
                }
            ]
            frames.append(
                {
                    "t": t.isoformat(),
                    "dir": "in",
                    "station": "CP-1",
                    "raw": json.dumps(
                        [2, f"s{i}", "MeterValues", {"evseId": 1, "meterValue": values}]
                    ),
                    "type": "CALL",
                    "id": f"s{i}",
                    "action": "MeterValues",
                }
            )
    return frames


def _series(case_id: str, start: datetime, samples: int, rng: random.Random) -> tuple[Series, ...]:
    step_s = 5.0
    times = [start + timedelta(seconds=step_s * k) for k in range(samples)]
    limits = [16.0, 10.0, 6.0, 16.0]
    limit = [limits[min(k * len(limits) // samples, len(limits) - 1)] for k in range(samples)]
    series = [
        Series.of(Quantity.LIMIT, unit=Unit.A, points=zip(times, limit, strict=True)),
        Series.of(Quantity.CURRENT_OFFERED, unit=Unit.A, points=zip(times, limit, strict=True)),
    ]
    for phase in Phase:
        measured = [max(0.0, v - 0.4 + rng.random() * 0.3) for v in limit]
        series.append(
            Series.of(
                Quantity.CURRENT_IMPORT,
                unit=Unit.A,
                phase=phase,
                points=zip(times, measured, strict=True),
            )
        )
    power = [230.0 * 3 * v for v in limit]
    series.append(
        Series.of(Quantity.POWER_IMPORT, unit=Unit.W, points=zip(times, power, strict=True))
    )
    if case_id == "VP-14":
        series.append(
            Series.of(
                Quantity.POWER_EXPORT,
                unit=Unit.W,
                points=((t, 3680.0 if k < samples // 3 else 0.0) for k, t in enumerate(times)),
            )
        )
    return tuple(series)


def generate(
    root: Path, *, vehicles: int = 150, frames: int = 30, samples: int = 300, seed: int = 1
) -> Path:
    """Write a vehicle-programme run under ``root``; return its folder."""
    rng = random.Random(seed)
    station = DeviceRef(DeviceKind.STATION, "CP-1", "Acme Wallbox 22 (fw 3.1.4)")
    weights = [1.0 / (i + 1) for i in range(vehicles)]
    fleet = [
        DeviceRef(
            DeviceKind.VEHICLE,
            f"ev-{i:03d}",
            f"Model {i:03d}",
            {"market_share": round(w, 6), "phases": 3 if i % 5 else 1},
        )
        for i, w in enumerate(weights)
    ]
    manifest = Manifest(
        run_id="20261101T080000Z-bench1",
        started_at=T0,
        target="sim",
        ocpp_versions=(OcppSubprotocol.V201,),
        devices=(station, *fleet),
    )
    writer = RunStore.create(root, manifest)
    clock = T0
    for vehicle in fleet:
        for case_id, title in CASES:
            info = CaseInfo(
                case_id,
                title,
                "vehicle-programme",
                "smart-charging",
                OcppSubprotocol.V201,
                (station, vehicle),
                {"tolerance_a": 1.0},
            )
            start = clock
            clock += timedelta(minutes=30)
            if (case_id == "VP-10" and vehicle.attributes["phases"] == 1) or (
                case_id == "VP-14" and rng.random() < 0.7
            ):
                writer.write_result(
                    CaseResult.not_applicable(
                        info, reason="capability declaration: not supported", at=start
                    )
                )
                continue
            sink = writer.trace_sink(info.key)
            for frame in _frames(case_id, start, frames):
                sink.append(frame)
            req = Requirement(case_id, Level.MUST, f"{title}: settled at or below the limit")
            should = Requirement(f"{case_id}.S", Level.SHOULD, "draws at least 80 %")
            roll = rng.random()
            checks = [
                CheckResult.judge(
                    req,
                    ok=roll > 0.04,
                    expected="<= 10 A (+1 A) within 15 s",
                    actual="9.6 A after 7 s" if roll > 0.04 else "14.2 A after 15 s",
                    frames=(0, 1, 5),
                    series=("limit", "current_import.L1"),
                )
            ]
            checks.append(
                CheckResult.judge(
                    should,
                    ok=roll < 0.9 or roll > 0.93,
                    expected=">= 12.8 A",
                    actual="13.1 A",
                    frames=(12,),
                )
            )
            interruption = None
            if 0.5 < roll < 0.505:
                interruption = Interruption.inconclusive("lab meter silent for 45 s")
            steps = tuple(
                StepRecord(start + timedelta(minutes=k), k, f"step {k}") for k in range(6)
            )
            writer.write_result(
                CaseResult(
                    info,
                    start,
                    start + timedelta(minutes=25),
                    0.2,
                    checks=tuple(checks),
                    steps=steps,
                    interruption=interruption,
                    measurement_source=MeasurementSource.METER_VALUES,
                    series=_series(case_id, start, samples, rng),
                )
            )
    writer.finish(finished_at=clock)
    return writer.run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_dir = generate(Path(tmp) / "runs", vehicles=args.vehicles)
        print(
            f"generated {args.vehicles} × {len(CASES)} run in {time.perf_counter() - start:.1f} s"
        )
        pages = 0
        for label, workers in (("default (forked workers)", None), ("one process", 1)):
            times = []
            for i in range(args.repeats):
                out = Path(tmp) / f"out-{workers}-{i}"
                start = time.perf_counter()
                write_reports(run_dir, out, list(ReportFormat), workers=workers)
                times.append(time.perf_counter() - start)
                pages = len(list((out / "cases").iterdir()))
                shutil.rmtree(out)
            print(f"{label}: " + ", ".join(f"{t:.2f} s" for t in times))
            print(
                f"median render time, {label}, all formats, {pages} detail pages: "
                f"{statistics.median(times):.2f} s (target < 10 s; {os.cpu_count()} CPUs)"
            )


if __name__ == "__main__":
    main()
