"""Lighter run folders: a compacted run reads and reports the same; a long trace is listed
abridged on its case page, with every cited frame and a link to the whole trace."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from harness.results import RunStore, Verdict
from harness.results.compact import compact_run
from reports import ReportFormat, write_reports
from reports.html import FRAME_ROWS_MAX

from .builders import CP1, Planned, ev, frame, measured_series, result, store_run
from .test_html import Elements


def test_a_compacted_run_reads_and_reports_the_same(sample_run: Path, tmp_path: Path) -> None:
    before = RunStore.open(sample_run)
    results = [r.to_dict() for r in before.results()]
    traces = {k: before.trace(k) for k in before.trace_keys()}
    plain = write_reports(sample_run, tmp_path / "plain", [ReportFormat.JSON])
    stats = compact_run(sample_run)
    assert stats.files > 0
    assert stats.bytes_after < stats.bytes_before
    assert not list(sample_run.glob("traces/*.jsonl"))
    assert not list(sample_run.glob("series/*.json"))
    (packed,) = list(sample_run.glob("series/*.json.gz"))[:1]
    assert json.loads(gzip.decompress(packed.read_bytes()))["series"]
    after = RunStore.open(sample_run)
    assert [r.to_dict() for r in after.results()] == results
    assert {k: after.trace(k) for k in after.trace_keys()} == traces
    assert compact_run(sample_run).files == 0  # twice is harmless
    compacted = write_reports(sample_run, tmp_path / "packed", list(ReportFormat))
    assert compacted[ReportFormat.JSON].read_text(encoding="utf-8") == plain[
        ReportFormat.JSON
    ].read_text(encoding="utf-8")
    pages = list((tmp_path / "packed" / "cases").glob("*.html"))
    assert any("<svg" in p.read_text(encoding="utf-8") for p in pages)  # series read back


def test_a_long_trace_is_listed_abridged_with_cited_frames_and_a_link(tmp_path: Path) -> None:
    count = 5000
    frames = [frame(i, f'[2,"m{i}","MeterValues",{{"i":{i}}}]') for i in range(count)]
    huge = json.dumps([2, "x", "SetChargingProfile", {"junk": "z" * 100_000}])
    frames[2500] = frame(2500, huge, action="SetChargingProfile")
    cited = 4000  # a MeterValues frame that a check cites
    planned = Planned(
        result("VP-09", (CP1, ev("ev-a")), Verdict.FAIL, frames=(cited,), series=measured_series()),
        frames,
    )
    run = store_run(tmp_path / "runs", [planned])
    compact_run(run)
    html = write_reports(run, tmp_path / "out", [ReportFormat.HTML])[ReportFormat.HTML]
    (page,) = (html.parent / "cases").glob("*.html")
    parsed = Elements(page.read_text(encoding="utf-8"))
    listed = {a["id"] for _, a in parsed.tags if a.get("id", "").startswith("frame-")}
    assert len(listed) <= FRAME_ROWS_MAX
    assert {"frame-0", "frame-2500", f"frame-{cited}", f"frame-{count - 1}"} <= listed
    links = [a["href"] for t, a in parsed.tags if t == "a" and "traces/" in a.get("href", "")]
    assert links
    assert (page.parent / links[0]).resolve().is_file()
    assert page.stat().st_size < 200_000  # the 100 kB frame is cut short too
    assert "more characters in the trace" in page.read_text(encoding="utf-8")


def test_a_failed_check_has_a_plot_zoomed_to_its_frames(tmp_path: Path) -> None:
    frames = [frame(i, f'[2,"m{i}","MeterValues",{{"i":{i}}}]') for i in range(400)]
    cited = (200, 230)  # T0 + 200 s .. T0 + 230 s, in a case of 20 minutes
    planned = Planned(
        result("VP-09", (CP1, ev("ev-a")), Verdict.FAIL, frames=cited, series=measured_series()),
        frames,
    )
    run = store_run(tmp_path / "runs", [planned])
    html = write_reports(run, tmp_path / "out", [ReportFormat.HTML])[ReportFormat.HTML]
    (page,) = (html.parent / "cases").glob("*.html")
    text = page.read_text(encoding="utf-8")
    zoom = text.split('<div class="zoom" id="zoom-0">', 1)[1].split("</div>", 1)[0]
    assert "<svg" in zoom
    assert "around check 1 (FAIL)" in zoom
    # the zoomed time axis covers the cited frames ± 60 s (140 s to 290 s), rounded to its
    # ticks, in seconds -- not the case's 20 minutes
    assert "time since case start (s)" in zoom
    ticks = [float(t) for t in re.findall(r'text-anchor="middle">([\d.]+)</text>', zoom)]
    assert ticks
    assert min(ticks) <= 140
    assert max(ticks) >= 290
    assert max(ticks) - min(ticks) <= 300
    whole = text.split('<div id="plot">', 1)[1]
    assert "<svg" in whole


def test_a_compacted_trace_replays_by_either_name(sample_run: Path) -> None:
    from harness.proxy import load_recording

    key = RunStore.open(sample_run).trace_keys()[0]
    plain = load_recording(sample_run / "traces" / f"{key}.jsonl")
    compact_run(sample_run)
    for name in (f"{key}.jsonl", f"{key}.jsonl.gz"):
        replayed = load_recording(sample_run / "traces" / name)
        assert (replayed.frames, replayed.station_id) == (plain.frames, plain.station_id)
        assert replayed.frames
