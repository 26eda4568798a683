"""Issue #19: replay keeps recorded instants relative to the replay's clock, at any speed.

The recording proxy stamps frames with its own (wall) clock while the two sides may run an
accelerated one: here the station and the CSMS run at ``SPEED``, and the CSMS sends an
Absolute TxDefaultProfile starting *now* (its now), 6 A. Taken against the proxy's stamps
that start drifts ahead (``${now+56s}`` after a few wall seconds), so the replayed profile
started in the future and the station drew its 32 A. ``from-trace`` reads each side's clock
from the instants it sends (``currentTime``, ``timestamp``) and keeps the start at
``${now}``; the replay, in virtual time and at ``--speed``, then PASSes.

The recording itself runs on a virtual-time loop (proxy, CSMS and station share it, on
loopback) with fixed starting instants: the proxy's clock is the loop's time, the two
sides' clock runs ``SPEED`` times faster. On a scaled wall clock a loaded machine shifted
the sides' instants against the proxy's stamps by a second now and then, and the replayed
profile then started a second late (32 A for its first second: a FAIL).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from ocpp.v16 import call as c16

from harness.cli import main
from harness.clock import LoopClock, run_virtual
from harness.proxy import RecordingProxy
from harness.scenario import load_cases
from harness.scenario.steps import SendStep, WaitStep
from harness.versions import OcppVersion
from simulators.station import StationConfig
from simulators.station.runtime import SimulatedStation
from simulators.vehicle import load_catalogue
from tests.proxy.helpers import new_writer
from tests.simulators.station import csms as test_csms
from tests.simulators.station.csms import run_csms

SPEED = 20.0
"""The two sides' clock; the proxy's runs at 1 (as ``ocpp-harness proxy`` does)."""
START = datetime(2026, 3, 1, 10, 0, 0, 250_000, tzinfo=UTC)
"""Both clocks' first instant (a quarter second past: the sides' whole-second stamps are
not on the proxy's)."""


class FastLoopClock(LoopClock):
    """The event loop's (virtual) time, ``speed`` times faster."""

    def __init__(self, *, speed: float, start: datetime) -> None:
        super().__init__(start=start)
        self._speed = speed

    @property
    def speed(self) -> float:
        return self._speed

    def monotonic(self) -> float:
        return super().monotonic() * self._speed

    def now(self) -> datetime:
        return START + timedelta(seconds=self.monotonic())

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - self.monotonic()) / self._speed)

    async def wait_for(self, awaitable: Any, timeout_s: float | None) -> Any:
        return await super().wait_for(
            awaitable, None if timeout_s is None else timeout_s / self._speed
        )


async def record_fast(root: Path) -> Path:
    """A session whose sides run at ``SPEED`` through a wall-clock proxy; the trace file."""
    fast = FastLoopClock(speed=SPEED, start=START)
    wall = LoopClock(start=START)
    station = SimulatedStation(
        StationConfig(ocpp_version=OcppVersion.V16, station_id="CP1", meter_interval_s=5),
        clock=fast,
        vehicle_params=load_catalogue().get("bev_3ph_16a").vehicle_params(),
    )
    fast_now = lambda: fast.now().strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    # The CSMS tells its own (fast) time in currentTime, as a harness at --speed does.
    with mock.patch.object(test_csms, "_now", fast_now):
        return await _session(root, fast, wall, station)


async def _session(
    root: Path, fast: FastLoopClock, wall: LoopClock, station: SimulatedStation
) -> Path:
    async with run_csms("ocpp1.6") as csms:
        writer = new_writer(root, f"proxy {csms.url}", wall)
        async with RecordingProxy(upstream_url=csms.url, writer=writer, clock=wall) as proxy:
            task = asyncio.create_task(station.connect(proxy.url("CP1")))
            cp = await csms.station("CP1")
            await station.wait_booted(timeout_s=60)
            await station.plug_in(1)
            await cp.wait_for(
                lambda: any(s["status"] == "Preparing" for s in cp.calls("StatusNotification"))
            )
            await fast.sleep(40)  # 2 wall seconds: the fast clock is ~40 s ahead of the proxy
            profile = {
                "chargingProfileId": 3,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "startSchedule": fast.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
                },
            }
            answer = await cp.ask(
                c16.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)
            )
            assert answer["status"] == "Accepted"
            await fast.sleep(20)
            answer = await cp.ask(
                c16.GetCompositeSchedule(connector_id=1, duration=300, charging_rate_unit="A")
            )
            assert answer["status"] == "Accepted"
            await station.stop()
            await task
        writer.finish(finished_at=wall.now())
    (trace,) = (writer.run_dir / "traces").iterdir()
    return trace


@pytest.mark.parametrize("speed", ["virtual", "5"])
def test_a_recorded_start_stays_now_in_the_replay_at_any_speed(tmp_path: Path, speed: str) -> None:
    trace = run_virtual(record_fast(tmp_path / "recorded"))
    out = tmp_path / "replay.yaml"
    args = ["scenario", "from-trace", str(trace), "--role", "station", "--out", str(out)]
    assert main(args) == 0
    (case,) = load_cases([out])
    (set_profile,) = [
        s for s in case.steps if isinstance(s, SendStep) and s.action == "SetChargingProfile"
    ]
    payload: Any = set_profile.payload
    start = str(payload["csChargingProfiles"]["chargingSchedule"]["startSchedule"])
    assert start in {"${now}", "${now-1s}", "${now+1s}"}, start  # the CSMS's own now
    # The wait before it is the CSMS's 40 s (2 s of the proxy's clock): gaps in its clock too.
    before = case.steps[case.steps.index(set_profile) - 1]
    assert isinstance(before, WaitStep)
    assert isinstance(before.duration_s, float)
    assert 30 <= before.duration_s <= 50, before.duration_s

    run = ["run", str(out), "--target", "sim", "--jobs", "1", "--out", str(tmp_path / speed)]
    code = main([*run, *([] if speed == "virtual" else ["--speed", speed])])
    (results,) = (tmp_path / speed).glob("*/results.jsonl")
    (line,) = results.read_text(encoding="utf-8").splitlines()
    result = json.loads(line)
    assert (code, result["verdict"]) == (0, "PASS"), result["reason"]
    composite = next(c for c in result["checks"] if "GetCompositeSchedule" in c["expected"])
    assert composite["verdict"] == "PASS"
