"""The broker fixture really starts a broker that speaks MQTT."""

from __future__ import annotations

import aiomqtt

from tests.conftest import Broker


async def test_broker_round_trips_a_message(mosquitto: Broker) -> None:
    async with aiomqtt.Client(mosquitto.host, port=mosquitto.port) as client:
        await client.subscribe("harness/selftest")
        await client.publish("harness/selftest", payload=b"ping", qos=1)
        async for message in client.messages:
            assert message.payload == b"ping"
            assert str(message.topic) == "harness/selftest"
            break
