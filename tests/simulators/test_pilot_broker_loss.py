"""Losing the broker ends the MQTT link visibly: the runner stops with a LinkError."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.clock import ScaledClock
from simulators.pilot import LinkError, MqttSettings, MqttVehicleEnd, run_vehicle
from tests.conftest import Broker, _find_mosquitto, _free_port
from tests.simulators.pilot_helpers import vehicle, within


@pytest.fixture
def own_broker(
    mosquitto: Broker, tmp_path: Path
) -> Iterator[tuple[Broker, subprocess.Popen[bytes]]]:
    """A broker of this test's own (the shared one must stay up); the test may stop it.

    Depends on ``mosquitto`` so that a machine without mosquitto is handled the same way.
    """
    exe = _find_mosquitto()
    assert exe is not None
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n", encoding="utf-8")
    proc = subprocess.Popen(
        [exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("mosquitto did not start") from None
                time.sleep(0.025)  # broker start-up, as in conftest
        yield Broker(host="127.0.0.1", port=port), proc
    finally:
        proc.kill()
        proc.wait()


async def test_a_lost_broker_ends_the_runner_with_a_link_error(
    own_broker: tuple[Broker, subprocess.Popen[bytes]],
) -> None:
    broker, proc = own_broker
    settings = MqttSettings.from_url(broker.url)
    async with MqttVehicleEnd(settings, station_id="CP1", evse_id=1) as end:
        runner = asyncio.create_task(
            run_vehicle(vehicle(), end, clock=ScaledClock(speed=100.0), step_s=1.0)
        )
        await asyncio.sleep(0)
        proc.terminate()
        with pytest.raises(LinkError, match=f"at {broker.url}"):  # reader or publisher saw it
            await within(runner, "the runner to notice the lost broker")
        assert end.closed
