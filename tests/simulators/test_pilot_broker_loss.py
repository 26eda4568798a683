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


class _SwallowingClient:
    """An aiomqtt client whose publish swallows a cancel, as aiomqtt's wait for a QoS 0
    message to leave does on Python 3.11 when the cancel meets the departure
    (``asyncio.wait_for`` returns the result instead of raising)."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def publish(self, *args: object, **kwargs: object) -> None:
        self.entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return


@pytest.mark.parametrize("qos", [0, 1])
async def test_a_publish_that_swallows_a_cancel_does_not_keep_its_caller_running(
    qos: int,
) -> None:
    """Stopping a vehicle cancels its run loop while it may be publishing a reading (QoS 0):
    the cancel must end the loop even when the library's publish swallows it (it did, and
    ``ocpp-harness vehicle`` then ignored SIGTERM now and then)."""
    from simulators.pilot.link import LinkStats, LinkStatus
    from simulators.pilot.mqtt import _MqttPort

    port = _MqttPort(
        MqttSettings.from_url("mqtt://127.0.0.1:1"),
        role="vehicle",
        stats=LinkStats(),
        routes={},
        on_lost=lambda _: None,
    )
    client = _SwallowingClient()
    port._client = client  # type: ignore[assignment]
    publishing = asyncio.create_task(
        port.publish("t/x", LinkStatus(online=True), qos=qos, retain=False)
    )
    await asyncio.wait_for(client.entered.wait(), 5)
    publishing.cancel()
    await asyncio.wait({publishing}, timeout=5)
    assert publishing.cancelled()
