"""Whether the simulated station checks its own frames before sending them.

By default it does (a simulator defect raises at the station); a station with faults never
does (it answers outside the schema on purpose); the harness's own simulated runs turn the
check off because the harness checks and judges every frame it receives anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.clock import LoopClock, run_virtual
from harness.runner.simstation import builtin_factory
from harness.runner.targets import FleetVehicle, SimSpec
from harness.transport import OcppSubprotocol, memory_pair
from simulators.station import StationConfig, StationFault
from simulators.station.runtime import RuntimeOptions, SimulatedStation


def _checks_own_frames(config: StationConfig, options: RuntimeOptions) -> bool:
    """``validate_outgoing`` of the connection the station opens."""

    async def main() -> bool:
        clock = LoopClock(start=datetime(2026, 12, 8, 12, tzinfo=UTC))
        station = SimulatedStation(config, clock=clock, options=options)
        station_end, _csms_end = memory_pair("CP1", OcppSubprotocol.V201)
        task = asyncio.create_task(station.run(station_end))
        async with asyncio.timeout(60):
            # no event tells "connection opened"; virtual time makes the poll free
            while station.connection is None:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        checks = station.connection.session.validate_outgoing
        await station.stop()
        async with asyncio.timeout(60):
            with contextlib.suppress(Exception):  # the boot it sent is never answered
                await task
        return checks

    return run_virtual(main())


@pytest.mark.parametrize(
    ("faults", "check_own_frames", "expected"),
    [
        (frozenset(), True, True),
        (frozenset(), False, False),
        (frozenset({StationFault("redundant_periods")}), True, False),
    ],
)
def test_the_station_checks_its_own_frames_unless_told_or_faulty(
    faults: frozenset[StationFault], check_own_frames: bool, expected: bool
) -> None:
    config = StationConfig(ocpp_version=StationConfig().ocpp_version, faults=faults)
    options = RuntimeOptions(check_own_frames=check_own_frames)
    assert _checks_own_frames(config, options) is expected


def test_the_default_options_check() -> None:
    assert RuntimeOptions().check_own_frames is True


def test_the_harness_simulated_station_leaves_the_check_to_the_harness() -> None:
    """The built-in station of a simulated run does not check its own frames; the harness
    checks and judges them on receipt."""

    async def main() -> object:
        clock = LoopClock(start=datetime(2026, 12, 8, 12, tzinfo=UTC))
        vehicle = FleetVehicle("ev1", "bev_3ph_16a", label="ev1")
        spec = SimSpec("SIM-ev1", OcppSubprotocol.V201, clock, vehicle)
        built: Any = builtin_factory()(spec)
        return built._station

    station = run_virtual(main())
    assert isinstance(station, SimulatedStation)
    assert station.options.check_own_frames is False
    assert station.options.violations_expected is True
