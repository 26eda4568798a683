"""The run store: write and read back, evidence checks, errors, torn lines, concurrency."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from harness.clock import ManualClock
from harness.results import (
    FORMAT_VERSION,
    CaseResult,
    CheckResult,
    Manifest,
    MeasurementSource,
    Phase,
    Quantity,
    RunStore,
    RunStoreError,
    RunWriter,
    Series,
    StepRecord,
    Summary,
    TornLineWarning,
    Unit,
    Verdict,
    new_run_id,
)
from harness.transport.base import OcppSubprotocol

from .strategies import MUST, STATION, T0, VEHICLE, info, result_for


def manifest(run_id: str = "run-1") -> Manifest:
    return Manifest(
        run_id=run_id,
        started_at=T0,
        target="sim",
        ocpp_versions=(OcppSubprotocol.V201,),
        options={"strict": False, "speed": 3600},
        devices=(STATION, VEHICLE),
    )


def measured_result() -> CaseResult:
    points = [(T0 + timedelta(seconds=10 * k), 16.0 - k) for k in range(5)]
    series = (
        Series.of(Quantity.LIMIT, unit=Unit.A, points=[(T0, 16.0), (T0, 6.0)]),
        Series.of(Quantity.CURRENT_IMPORT, unit=Unit.A, points=points, phase=Phase.L1),
    )
    ok = CheckResult.passed(
        MUST,
        expected="≤ 6 A within 15 s",
        actual="5.8 A after 9 s",
        frames=(0, 1),
        series=("current_import.L1", "limit"),
    )
    return CaseResult(
        info(),
        T0,
        T0 + timedelta(seconds=40),
        0.01,
        checks=(ok,),
        steps=(StepRecord(T0, 0, "SetChargingProfile 6 A"),),
        measurement_source=MeasurementSource.METER_VALUES,
        series=series,
    )


def test_write_and_read_back(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    result = measured_result()
    sink = writer.trace_sink(result.key)
    assert sink.append({"t": T0, "dir": "out", "raw": '[2,"1","SetChargingProfile",{}]'}) == 0
    assert sink.append({"t": 1.5, "dir": "in", "raw": '[3,"1",{"status":"Accepted"}]'}) == 1
    writer.write_result(result)
    writer.write_result(result_for(2, Verdict.FAIL))
    final = writer.finish(finished_at=T0 + timedelta(hours=1))

    reader = RunStore.open(tmp_path / "run-1")
    assert reader.manifest == final
    assert reader.finished
    assert reader.manifest.finished_at == T0 + timedelta(hours=1)
    assert list(reader.results()) == [result, result_for(2, Verdict.FAIL)]
    assert reader.trace(result.key) == [
        {"t": "2026-01-01T00:00:00Z", "dir": "out", "raw": '[2,"1","SetChargingProfile",{}]'},
        {"t": 1.5, "dir": "in", "raw": '[3,"1",{"status":"Accepted"}]'},
    ]
    assert reader.trace_keys() == [result.key]
    assert reader.series(result.key) == result.series
    light = list(reader.results(with_series=False))
    assert light[0].series == ()
    assert light[0].checks == result.checks
    counted = Summary.of((r.verdict for r in reader.results()), strict=False)
    assert counted.line() == "1 passed, 1 failed, 0 inconclusive, 0 skipped, 0 errors"


def test_on_disk_layout(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    result = measured_result()
    sink = writer.trace_sink(result.key)
    sink.append({"raw": "x"})
    sink.append({"raw": "y"})
    writer.write_result(result)
    assert sink.closed
    run_dir = writer.run_dir
    on_disk = json.loads((run_dir / "run.json").read_text())
    assert on_disk["format_version"] == FORMAT_VERSION
    assert on_disk["finished_at"] is None  # written at creation, before the run ends
    writer.finish(finished_at=T0)
    assert json.loads((run_dir / "run.json").read_text())["finished_at"] == "2026-01-01T00:00:00Z"
    line = json.loads((run_dir / "results.jsonl").read_text())
    assert line["series"] == []
    assert line["series_file"] == f"series/{result.key}.json"
    assert line["trace_file"] == f"traces/{result.key}.jsonl"
    assert (run_dir / line["series_file"]).is_file()
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "results.jsonl",
        "run.json",
        "series",
        "traces",
    ]


def test_results_are_readable_while_the_run_goes_on(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    writer.write_result(result_for(1))
    reader = RunStore.open(writer.run_dir)
    assert not reader.finished
    assert [r.key for r in reader.results()] == [result_for(1).key]
    writer.write_result(result_for(2))
    assert len(list(reader.results())) == 2
    writer.close()


def test_trace_frames_are_on_disk_as_they_happen(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    sink = writer.trace_sink("k1")
    sink.append({"n": 1})
    assert RunStore.open(writer.run_dir).trace("k1") == [{"n": 1}]
    writer.close()
    assert sink.closed


def test_a_run_id_folder_is_never_reused(tmp_path: Path) -> None:
    RunStore.create(tmp_path, manifest()).close()
    with pytest.raises(RunStoreError, match="exists already"):
        RunStore.create(tmp_path, manifest())


def test_new_run_ids_sort_by_time_and_differ() -> None:
    a, b = new_run_id(started_at=T0), new_run_id(started_at=T0)
    assert a.startswith("20260101T000000Z-")
    assert a != b
    assert new_run_id(started_at=T0 + timedelta(seconds=1)) > a


def test_duplicate_results_and_traces_are_refused(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    writer.trace_sink("k")
    with pytest.raises(RunStoreError, match="a trace for case key k exists"):
        writer.trace_sink("k")
    writer.write_result(result_for(1))
    with pytest.raises(RunStoreError, match="already written"):
        writer.write_result(result_for(1))
    with pytest.raises(RunStoreError, match="not filesystem-safe"):
        writer.trace_sink("../escape")
    writer.close()
    assert len(list(RunStore.open(writer.run_dir).results())) == 1


def test_evidence_must_exist(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    result = measured_result()  # cites frames 0 and 1
    sink = writer.trace_sink(result.key)
    sink.append({"raw": "only one frame"})
    with pytest.raises(RunStoreError, match=r"cites frames \[1\] but the trace has 1 frame"):
        writer.write_result(result)
    assert not sink.closed  # a refused result leaves the trace open
    sink.append({"raw": "second frame"})
    no_series = replace(result, series=result.series[:1])  # drops current_import.L1
    with pytest.raises(RunStoreError, match=r"cites series \['current_import.L1'\]"):
        writer.write_result(no_series)
    writer.write_result(result)
    writer.close()
    assert list(RunStore.open(writer.run_dir).results()) == [result]


def test_nothing_is_written_after_finish(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    writer.finish(finished_at=T0)
    with pytest.raises(RunStoreError, match="closed"):
        writer.write_result(result_for(1))
    with pytest.raises(RunStoreError, match="closed"):
        writer.finish(finished_at=T0)


def test_frames_must_be_json(tmp_path: Path) -> None:
    with RunStore.create(tmp_path, manifest()) as writer:
        sink = writer.trace_sink("k")
        with pytest.raises(RunStoreError, match="frame 0 is not JSON"):
            sink.append({"raw": object()})
        with pytest.raises(RunStoreError, match="frame 0 is not JSON"):
            sink.append({"value": float("nan")})


# -- reading errors ----------------------------------------------------------------------------


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(RunStoreError, match=r"run\.json: missing; .* is not a run folder"):
        RunStore.open(tmp_path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: m.update(format_version=2),
            "format_version: this harness reads format 1, got 2",
        ),
        (lambda m: m.pop("format_version"), "format_version: missing"),
        (lambda m: m.update(ocpp_versions=["ocpp3"]), r"ocpp_versions\[0\]: expected one of"),
        (lambda m: m.update(started_at="yesterday"), "started_at: not an ISO 8601"),
    ],
)
def test_bad_manifest_is_named(tmp_path: Path, edit: object, message: str) -> None:
    RunStore.create(tmp_path, manifest()).close()
    path = tmp_path / "run-1" / "run.json"
    value = json.loads(path.read_text())
    edit(value)  # type: ignore[operator]
    path.write_text(json.dumps(value))
    with pytest.raises(RunStoreError, match=rf"run\.json: {message}"):
        RunStore.open(tmp_path / "run-1")
    path.write_text("{not json")
    with pytest.raises(RunStoreError, match=r"run\.json: not valid JSON"):
        RunStore.open(tmp_path / "run-1")


def test_a_corrupt_line_in_the_middle_names_file_and_line(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    for i in range(3):
        writer.write_result(result_for(i))
    writer.close()
    path = writer.run_dir / "results.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "garbage\n" + lines[2])
    reader = RunStore.open(writer.run_dir)
    with pytest.raises(RunStoreError, match=r"results\.jsonl:2: not a valid JSON line"):
        list(reader.results())
    bad = json.loads(lines[1])
    bad["checks"][0]["verdict"] = "MAYBE"
    path.write_text(lines[0] + json.dumps(bad) + "\n" + lines[2])
    with pytest.raises(RunStoreError, match=r"results\.jsonl:2: checks\[0\]\.verdict"):
        list(reader.results())


def test_a_torn_last_line_is_a_warning(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    writer.write_result(result_for(1))
    writer.close()
    path = writer.run_dir / "results.jsonl"
    with path.open("a") as handle:
        handle.write(result_for(2).to_json()[:50])
    with pytest.warns(TornLineWarning, match=r"results\.jsonl:2: the last line is incomplete"):
        results = list(RunStore.open(writer.run_dir).results())
    assert results == [result_for(1)]


def test_missing_trace_and_series_file(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    result = measured_result()
    sink = writer.trace_sink(result.key)
    sink.append({})
    sink.append({})
    writer.write_result(result)
    writer.close()
    reader = RunStore.open(writer.run_dir)
    with pytest.raises(RunStoreError, match="no trace was recorded for case key nope"):
        reader.trace("nope")
    assert reader.series("nope") == ()
    (writer.run_dir / "series" / f"{result.key}.json").unlink()
    with pytest.raises(RunStoreError, match=r"results\.jsonl:1: its series file .* is missing"):
        list(reader.results())
    assert len(list(reader.results(with_series=False))) == 1


# -- concurrency -------------------------------------------------------------------------------


def assert_all_lines_whole(writer: RunWriter, expected: int) -> None:
    raw = (writer.run_dir / "results.jsonl").read_bytes()
    lines = raw.split(b"\n")
    assert lines[-1] == b""
    assert len(lines) - 1 == expected
    keys = {json.loads(line)["key"] for line in lines[:-1]}
    assert len(keys) == expected


def test_concurrent_threads_never_interleave_lines(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())
    # Big lines (long step logs) make interleaving likely if writes were not atomic.
    steps = tuple(StepRecord(T0, k, "x" * 200) for k in range(40))
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        barrier.wait()
        for j in range(10):
            i = n * 10 + j
            sink = writer.trace_sink(result_for(i).key)
            sink.append({"n": i, "raw": "y" * 500})
            writer.write_result(replace(result_for(i), steps=steps))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.finish(finished_at=T0)
    assert_all_lines_whole(writer, 80)
    reader = RunStore.open(writer.run_dir)
    assert len(list(reader.results())) == 80
    assert all(len(reader.trace(k)) == 1 for k in reader.trace_keys())


async def test_concurrent_async_tasks_never_interleave_lines(tmp_path: Path) -> None:
    writer = RunStore.create(tmp_path, manifest())

    async def station_task(n: int) -> None:
        for j in range(10):
            i = n * 10 + j
            sink = writer.trace_sink(result_for(i).key)
            for k in range(3):
                sink.append({"n": i, "k": k})
                await asyncio.sleep(0)
            writer.write_result(result_for(i))
            await asyncio.sleep(0)

    await asyncio.gather(*(station_task(n) for n in range(6)))
    writer.finish(finished_at=T0)
    assert_all_lines_whole(writer, 60)
    reader = RunStore.open(writer.run_dir)
    for key in reader.trace_keys():
        frames = reader.trace(key)
        assert [f["k"] for f in frames] == [0, 1, 2]
        assert len({f["n"] for f in frames}) == 1


def test_package_usage_example(tmp_path: Path) -> None:
    """The example in ``harness.results``' docstring, run with a manual clock."""
    clock = ManualClock(start=T0)
    case = info()
    writer = RunStore.create(
        tmp_path,
        Manifest(
            run_id=new_run_id(started_at=clock.now()),
            started_at=clock.now(),
            target="sim",
            ocpp_versions=(OcppSubprotocol.V201,),
        ),
    )
    t0 = clock.now()
    sink = writer.trace_sink(case.key)
    i = sink.append({"dir": "in", "raw": '[2,"7","MeterValues",{}]'})
    clock.advance(15)
    current_a = 7.2
    ok = CheckResult.judge(
        MUST, ok=current_a <= 6.5, expected="<= 6 A (+0.5 A)", actual=f"{current_a} A", frames=(i,)
    )
    writer.write_result(CaseResult(case, t0, clock.now(), 0.01, checks=(ok,)))
    writer.finish(finished_at=clock.now())
    results = list(RunStore.open(writer.run_dir).results())
    assert Summary.of((r.verdict for r in results), strict=False).line() == (
        "0 passed, 1 failed, 0 inconclusive, 0 skipped, 0 errors"
    )
    assert results[0].reason == "K01.FR.31 (MUST): expected <= 6 A (+0.5 A); actual 7.2 A"
    assert results[0].clock_duration_s == 15.0
