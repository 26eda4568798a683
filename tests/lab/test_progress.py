"""Countdown of long waits: a six-hour pause reports the time left, not silence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.clock import LoopClock, ManualClock, run_virtual
from harness.results import CaseResult, Manifest, RunStore, Verdict, new_run_id
from harness.runner import (
    AutoOperator,
    FleetVehicle,
    PlannedCase,
    RunOptions,
    SimProvider,
    SimSpec,
    run_cases,
)
from harness.runner.progress import countdown_sleep, format_duration, progress_interval_s
from harness.scenario import load_case_file, resolve_parameters
from harness.transport import OcppSubprotocol
from tests.runner.fake_station import FakeBehaviour, FakeStation
from tests.runner.helpers import CAPS, drive, write_cases

START = datetime(2026, 1, 1, tzinfo=UTC)


async def test_a_six_hour_wait_reports_every_ten_minutes_and_ends_exactly() -> None:
    clock = ManualClock(start=START)
    calls: list[tuple[float, float, float]] = []
    await drive(
        clock,
        countdown_sleep(
            clock,
            6 * 3600,
            report=lambda left, total: calls.append((clock.monotonic(), left, total)),
        ),
    )
    assert clock.monotonic() == 6 * 3600
    assert calls[0] == (0.0, 21600.0, 21600.0)
    assert calls[-1] == (21600.0, 0.0, 21600.0)
    assert [round(c[1]) for c in calls[:3]] == [21600, 21000, 20400]  # every 10 minutes
    assert len(calls) == 37  # start, 35 intermediate lines, end


async def test_a_short_wait_is_silent() -> None:
    clock = ManualClock(start=START)
    calls: list[float] = []
    await drive(clock, countdown_sleep(clock, 5, report=lambda left, total: calls.append(left)))
    assert clock.monotonic() == 5
    assert calls == []


@given(st.floats(min_value=0, max_value=7 * 86400, allow_nan=False))
def test_interval_is_between_ten_seconds_and_ten_minutes(total_s: float) -> None:
    assert 10.0 <= progress_interval_s(total_s) <= 600.0


def test_durations_read_like_a_countdown() -> None:
    assert format_duration(21600) == "6h 00m 00s"
    assert format_duration(75) == "1m 15s"
    assert format_duration(4.4) == "4s"


CASE = """
id: LONG_WAIT
title: a long pause
suite: lab-test
ocpp_versions: ["1.6"]
dut_role: station
requirements: [{id: R1, level: MUST, text: the profile can be cleared after the pause}]
steps:
  - kind: wait
    duration_s: 21600
  - kind: clear_profile
    requirement: R1
    expect: {status: {one_of: [Accepted, Unknown]}}
"""


def test_the_engine_reports_the_countdown_of_a_wait_step(tmp_path: Path) -> None:
    results, seen = run_virtual(_run_long_wait(tmp_path))
    assert [r.verdict for r in results] == [Verdict.PASS]
    assert (seen[0], seen[-1], len(seen)) == (21600, 0, 37)


async def _run_long_wait(tmp_path: Path) -> tuple[list[CaseResult], list[float]]:
    clock = LoopClock(start=START)
    cases = load_case_file(write_cases(tmp_path, CASE))
    provider = SimProvider(
        lambda spec: FakeStation(spec.clock, FakeBehaviour()),
        SimSpec("CP1", OcppSubprotocol.V16, clock, FleetVehicle("ev-1", "bev_3ph_16a")),
    )
    seen: list[float] = []
    manifest = Manifest(new_run_id(started_at=START), START, "sim", (OcppSubprotocol.V16,))
    with RunStore.create(tmp_path / "runs", manifest) as writer:
        results = await run_cases(
            [PlannedCase(c, resolve_parameters(c)) for c in cases],
            provider=provider,
            writer=writer,
            clock=clock,
            operator=AutoOperator(),
            capabilities=CAPS,
            options=RunOptions(connect_timeout_s=30, boot_wait_s=5),
            wait_progress=lambda left, total: seen.append(left),
        )
    return results, seen


@pytest.mark.parametrize("start_s", [0.1, 1e6 + 0.3, 123456.789, 2**40 + 0.5])
async def test_countdown_count_does_not_depend_on_the_clock_start(start_s: float) -> None:
    """A 600 s wait reports at the start, every 600/36 s and at the end: 37 calls from any start.

    Adding the float step repeatedly lands just before or just after the end depending on the
    clock's starting value; the count must not.
    """
    clock = ManualClock(start=START)
    clock.advance(start_s)
    calls: list[float] = []
    await drive(clock, countdown_sleep(clock, 600.0, report=lambda left, _t: calls.append(left)))
    assert clock.monotonic() == start_s + 600.0
    assert len(calls) == 37
    assert calls[0] == 600.0
    assert calls[-1] == 0.0
