"""Losing the broker ends the MQTT link visibly: the runner stops with a LinkError."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.clock import ScaledClock
from simulators.pilot import LinkError, MqttSettings, MqttVehicleEnd, run_vehicle
from tests.conftest import Broker
from tests.simulators.pilot_helpers import private_broker, vehicle, within


async def test_a_lost_broker_ends_the_runner_with_a_link_error(
    mosquitto: Broker, tmp_path: Path
) -> None:
    with private_broker(tmp_path) as (port, proc):
        url = f"mqtt://127.0.0.1:{port}"
        async with MqttVehicleEnd(MqttSettings.from_url(url), station_id="CP1", evse_id=1) as end:
            runner = asyncio.create_task(
                run_vehicle(vehicle(), end, clock=ScaledClock(speed=100.0), step_s=1.0)
            )
            await asyncio.sleep(0)
            proc.terminate()
            with pytest.raises(LinkError, match=f"at {url}"):  # the reader or a publish saw it
                await within(runner, "the runner to notice the lost broker")
            assert end.closed
