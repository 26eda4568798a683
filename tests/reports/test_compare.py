"""Comparing two hand-made runs: a new failure, a fixed case, changed figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.results import Verdict
from reports import ChangeKind, ReportFormat, compare_reports, load_report, write_reports

from .builders import CP1, ev, result, store_run

P, F = Verdict.PASS, Verdict.FAIL
A, B = ev("ev-a", 3.0), ev("ev-b", 1.0)  # normalised: 0.75 and 0.25


def runs(tmp_path: Path) -> tuple[Path, Path]:
    old = store_run(
        tmp_path / "old",
        [
            result("VP-01", (CP1, A), P),
            result("VP-01", (CP1, B), F),
            result("VP-02", (CP1, A), P),
            result("VP-02", (CP1, B), P),
            result("VP-03", (CP1, A), P),
            result("VP-03", (CP1, B), P),
        ],
        run_id="20261101T080000Z-000001",
        devices=(CP1, A, B),
    )
    new = store_run(
        tmp_path / "new",
        [
            result("VP-01", (CP1, A), F),
            result("VP-01", (CP1, B), P),
            result("VP-02", (CP1, A), P),
            result("VP-02", (CP1, B), P),
            result("VP-03", (CP1, A), P),
            result("VP-03", (CP1, B), Verdict.NON_STRICT),
        ],
        run_id="20261102T080000Z-000002",
        devices=(CP1, A, B),
    )
    return old, new


def test_new_failure_fixed_case_and_changed_figures(tmp_path: Path) -> None:
    old, new = runs(tmp_path)
    diff = compare_reports(load_report(old), load_report(new))
    assert (diff.old_run_id, diff.new_run_id) == (
        "20261101T080000Z-000001",
        "20261102T080000Z-000002",
    )
    assert [(c.case_id, c.devices, c.old, c.new) for c in diff.new_failures] == [
        ("VP-01", "CP-1 + ev-a", P, F)
    ]
    assert [(c.case_id, c.devices) for c in diff.fixed] == [("VP-01", "CP-1 + ev-b")]
    # PASS -> NON_STRICT is a change of verdict, though both count as passes
    assert [(c.case_id, c.new) for c in diff.of_kind(ChangeKind.CHANGED)] == [
        ("VP-03", Verdict.NON_STRICT)
    ]
    figures = {f.name: (f.old, f.new) for f in diff.figures}
    # overall: old ev-a passes (0.75), new ev-b passes (0.25); 1 of 2 both times (unchanged)
    title = "Vehicles at station CP-1 (Acme Wallbox)"
    assert figures[f"{title}, overall by market share"] == pytest.approx((0.75, 0.25))
    assert figures[f"{title}, VP-01 by market share"] == pytest.approx((0.75, 0.25))
    assert f"{title}, overall by count" not in figures
    assert f"{title}, VP-02 by count" not in figures
    assert figures["cases NON_STRICT"] == (0.0, 1.0)
    described = [f.describe() for f in diff.figures]
    assert f"{title}, overall by market share: 75 % → 25 %" in described


def test_comparison_goes_into_markdown_json_and_html(tmp_path: Path) -> None:
    old, new = runs(tmp_path)
    paths = write_reports(new, tmp_path / "out", ["md", "json", "html"], compare_with=old)
    md = paths[ReportFormat.MARKDOWN].read_text(encoding="utf-8")
    assert "### Compared with `20261101T080000Z-000001`" in md
    assert "**New failures: 1**" in md
    assert "- VP-01 CP-1 + ev-a: PASS → FAIL" in md
    assert "**Fixed: 1**" in md
    document = json.loads(paths[ReportFormat.JSON].read_text(encoding="utf-8"))
    kinds = sorted(c["kind"] for c in document["comparison"]["changes"])
    assert kinds == ["changed", "fixed", "new_failure"]
    html = paths[ReportFormat.HTML].read_text(encoding="utf-8")
    assert 'data-kind="new_failure"' in html
    assert "Compared with run 20261101T080000Z-000001" in html


def test_added_and_removed_cases(tmp_path: Path) -> None:
    old = store_run(tmp_path / "o", [result("VP-01", (CP1, A), P)], run_id="r-1")
    new = store_run(
        tmp_path / "n", [result("VP-02", (CP1, A), P), result("VP-03", (CP1, A), F)], run_id="r-2"
    )
    diff = compare_reports(load_report(old), load_report(new))
    kinds = {c.case_id: c.kind for c in diff.changes}
    assert kinds == {
        "VP-01": ChangeKind.REMOVED,
        "VP-02": ChangeKind.ADDED,
        "VP-03": ChangeKind.NEW_FAILURE,
    }
