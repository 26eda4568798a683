"""Operator prompts over a real MQTT broker: topics, payloads, stale and malformed answers."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import aiomqtt

from harness.lab import MqttDesk
from simulators.pilot import MqttSettings
from tests.conftest import Broker

NOW = datetime(2026, 11, 28, 5, 40, tzinfo=UTC)


async def _next_prompt(client: aiomqtt.Client) -> tuple[str, dict[str, object]]:
    async for message in client.messages:
        if message.payload:
            assert isinstance(message.payload, bytes)
            return str(message.topic), json.loads(message.payload)
    raise AssertionError("no prompt")


async def test_prompt_is_retained_until_answered_and_stale_answers_are_ignored(
    mosquitto: Broker,
) -> None:
    settings = MqttSettings.from_url(mosquitto.url, prefix="desk-test")
    async with (
        MqttDesk(settings, now=lambda: NOW) as desk,
        aiomqtt.Client(mosquitto.host, port=mosquitto.port) as witness,
    ):
        await witness.subscribe("desk-test/prompt/+", qos=1)
        operator = desk.operator("CP7")
        asked = asyncio.create_task(operator.ask("Is the LED green?", yes_no=True))
        # The broker has the prompt (the witness got it) before the operator's app connects:
        # the app can only see it because it is retained.
        await asyncio.wait_for(_next_prompt(witness), 10)
        async with aiomqtt.Client(mosquitto.host, port=mosquitto.port) as app:
            await app.subscribe("desk-test/prompt/+", qos=1)
            topic, prompt = await asyncio.wait_for(_next_prompt(app), 5)
            assert topic == "desk-test/prompt/CP7"
            assert prompt == {
                "id": "CP7-1",
                "station": "CP7",
                "message": "Is the LED green?",
                "response": "yes_no",
                "at": "2026-11-28T05:40:00Z",
            }
            ack = "desk-test/ack/CP7"
            await app.publish(ack, b"not json", qos=1)
            await app.publish(ack, json.dumps({"id": "CP7-0", "answer": True}), qos=1)
            await app.publish(ack, json.dumps({"id": "CP7-1", "answer": "yes"}), qos=1)
            await asyncio.sleep(0.3)
            assert not asked.done()  # none of those answered the pending prompt
            await app.publish(ack, json.dumps({"id": "CP7-1", "answer": False}), qos=1)
            assert await asyncio.wait_for(asked, 5) is False
        # Answered: the retained prompt is cleared, a new subscriber sees nothing pending.
        # A retained message is sent on subscribing, before anything published later: once the
        # late subscriber's own marker (published after subscribing) is back, it has seen
        # whatever was retained.
        async with aiomqtt.Client(mosquitto.host, port=mosquitto.port) as late:
            await late.subscribe("desk-test/prompt/CP7", qos=1)
            await late.subscribe("desk-test/marker", qos=1)
            await late.publish("desk-test/marker", b"end", qos=1)
            pending: list[bytes] = []

            async def collect() -> None:
                async for message in late.messages:
                    if str(message.topic) == "desk-test/marker":
                        return
                    assert isinstance(message.payload, bytes)
                    pending.append(message.payload)

            await asyncio.wait_for(collect(), 10)
            assert all(p == b"" for p in pending)


async def test_two_stations_prompts_are_independent(mosquitto: Broker) -> None:
    settings = MqttSettings.from_url(mosquitto.url, prefix="desk-two")
    async with (
        aiomqtt.Client(mosquitto.host, port=mosquitto.port) as app,
        MqttDesk(settings, now=lambda: NOW) as desk,
    ):
        await app.subscribe("desk-two/prompt/+", qos=1)
        first = asyncio.create_task(desk.operator("A").ask("Plug in", yes_no=False))
        second = asyncio.create_task(desk.operator("B").ask("Unplug", yes_no=False))
        prompts = dict([await asyncio.wait_for(_next_prompt(app), 5) for _ in range(2)])
        assert prompts["desk-two/prompt/A"]["id"] == "A-1"
        assert prompts["desk-two/prompt/B"]["response"] == "ack"
        await app.publish("desk-two/ack/B", json.dumps({"id": "B-1", "answer": True}), qos=1)
        assert await asyncio.wait_for(second, 5) is True
        assert not first.done()
        await app.publish("desk-two/ack/A", json.dumps({"id": "A-1", "answer": True}), qos=1)
        assert await asyncio.wait_for(first, 5) is True
