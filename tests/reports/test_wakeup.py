"""The wake-up section: what woke each vehicle, read back from the expect_wake_up checks."""

from __future__ import annotations

from dataclasses import replace

from harness.results import CaseResult, CheckResult, Level, Manifest, Requirement, Verdict
from harness.transport.base import OcppSubprotocol
from reports import Report, build_report, markdown_summary
from reports.wakeup import wake_up_markdown, wake_up_rows

from .builders import CP1, T0, ev, result

UNAIDED = Requirement("VP-21.unaided", Level.SHOULD, "resumes without a wake-up")


def _woken(vehicle: str, actual: str, *, ok: bool) -> CaseResult:
    base = result("VP-21", [CP1, ev(vehicle, label=f"Model {vehicle}")], Verdict.PASS)
    expected = "the vehicle resumes by itself (woken by: none)"
    made = (
        CheckResult.passed(UNAIDED, expected=expected, actual=actual)
        if ok
        else CheckResult.failed(UNAIDED, expected=expected, actual=actual)
    )
    return replace(base, checks=(*base.checks, made))


def _report(*results: CaseResult) -> Report:
    manifest = Manifest(
        run_id="run-1", started_at=T0, target="sim", ocpp_versions=(OcppSubprotocol.V201,)
    )
    return build_report(manifest, list(results), strict=False)


def test_each_vehicle_shows_the_wake_up_it_needed() -> None:
    report = _report(
        _woken("b", "woken by: pilot_toggle — the station tried pilot_toggle", ok=False),
        _woken("a", "woken by: none — resumed without a wake-up", ok=True),
        _woken("c", "woken by: nothing — the station tried pilot_toggle, state_f", ok=False),
        result("VP-01", [CP1, ev("a")], Verdict.PASS),  # no wake-up record: not listed
    )
    rows = wake_up_rows(report)
    assert [(r.vehicle_id, r.case_id, r.method) for r in rows] == [
        ("a", "VP-21", "none"),
        ("b", "VP-21", "pilot_toggle"),
        ("c", "VP-21", "nothing"),
    ]
    lines = wake_up_markdown(report)
    assert lines[0] == "### Wake-up needed per vehicle"
    assert "| Model b | CP-1 | VP-21 | pilot toggle (B↔C) |" in lines
    assert "| Model c | CP-1 | VP-21 | not woken: unplug needed |" in lines
    assert "### Wake-up needed per vehicle" in markdown_summary(report)


def test_a_run_without_wake_up_records_has_no_section() -> None:
    report = _report(result("VP-01", [CP1, ev("a")], Verdict.FAIL))
    assert wake_up_rows(report) == ()
    assert wake_up_markdown(report) == []
    assert "Wake-up" not in markdown_summary(report)
