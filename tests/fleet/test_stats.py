"""Fleet figures: per-interval lines, error rate, errors by kind, merging."""

from __future__ import annotations

from simulators.fleet.cli import fleet_verdict
from simulators.fleet.stats import FleetStats, IntervalReporter, errors_line, merge


def _busy(stats: FleetStats, calls: int) -> None:
    stats.sent += calls
    stats.received += calls
    stats.calls += calls
    stats.answered += calls
    for _ in range(calls):
        stats.record_latency(0.002)


def test_a_collapse_shows_in_the_next_interval_not_averaged_away() -> None:
    stats = FleetStats(stations=10)
    reporter = IntervalReporter()
    _busy(stats, 1000)
    first = reporter.line(stats.snapshot(), wall_s=10.0, offered_per_s=100.0)
    assert "msgs/s 200 answered/s 100 (offered 100/s)" in first
    stats.calls += 50  # the CSMS stops answering
    stats.sent += 50
    for _ in range(50):
        stats.error("timeout (Heartbeat)")
    second = reporter.line(stats.snapshot(), wall_s=20.0, offered_per_s=100.0)
    assert "msgs/s 5 answered/s 0" in second
    assert "errors 50 (100.0%)" in second
    assert "p50 -" in second  # no answer in this interval: no latency


def test_errors_by_kind_merge_and_decide_the_exit() -> None:
    a, b = FleetStats(stations=1), FleetStats(stations=1)
    for stats in (a, b):
        stats.ever_booted.add(f"S{id(stats)}")
        _busy(stats, 99)
        stats.starts += 1
        stats.calls += 1
        stats.error("CALLERROR NotImplemented (StartTransaction)")
    b.lost("connection refused")
    total = merge([a.snapshot(), b.snapshot()])
    assert total["errors_by_kind"] == {"CALLERROR NotImplemented (StartTransaction)": 2}
    assert errors_line(total) == (
        "errors by kind: CALLERROR NotImplemented (StartTransaction) 2; "
        "connections lost by kind: connection refused 1"
    )
    code, reasons = fleet_verdict(total, stations=2, max_error_rate=0.05)
    assert int(code) == 1
    assert reasons == ["the CSMS accepted none of 2 StartTransaction"]
    total["transactions"] = 2
    assert int(fleet_verdict(total, stations=2, max_error_rate=0.05)[0]) == 0
    code, reasons = fleet_verdict(total, stations=2, max_error_rate=0.001)
    assert int(code) == 1
    assert reasons[0].startswith("error rate 1.0% (2 of 200 calls) is above")
